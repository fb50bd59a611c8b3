"""Password reset requests are rate limited per client address (a 429 naming `email`, no mail)
and per e-mail address (the same "sent" page, no mail: no enumeration, no mail flood), counted
per process while the shared cache is down."""

from unittest import mock

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.factories import UserFactory
from vault.core import throttles
from vault.core.throttles import KeyRateThrottle

AREAS = {
    "portal": ("/portal/password-reset/", "/portal/password-reset/sent/"),
    "admin": ("/admin/password_reset/", "/admin/password_reset/done/"),
}


@pytest.fixture
def rates():
    original = KeyRateThrottle.THROTTLE_RATES
    KeyRateThrottle.THROTTLE_RATES = {**original, "password_reset": "4/hour", "password_reset_email": "2/hour"}
    cache.clear()
    throttles.local_cache.clear()
    yield
    KeyRateThrottle.THROTTLE_RATES = original
    cache.clear()
    throttles.local_cache.clear()


@pytest.fixture
def users(org_a):
    return {
        "portal": UserFactory(username="maker_a", role="manufacturer", organization=org_a, email="buyer@orga.example"),
        "admin": UserFactory(username="manager1", role="manager", email="manager@vault.example"),
    }


@pytest.mark.parametrize("area", AREAS)
def test_one_address_gets_two_mails_an_hour_and_the_same_page_after(rates, users, area, client):
    ask, sent = AREAS[area]
    email = users[area].email
    for case in (email, email.upper(), f" {email} "):  # one address whatever its case or spaces
        response = client.post(ask, {"email": case}, REMOTE_ADDR=f"10.0.0.{len(mail.outbox)}")
        assert (response.status_code, response["Location"]) == (302, sent)
    assert [m.to for m in mail.outbox] == [[email], [email]]


@pytest.mark.parametrize("area", AREAS)
def test_one_client_address_gets_a_429_naming_email_after_four_requests(rates, users, area):
    ask, sent = AREAS[area]
    client = Client(REMOTE_ADDR="203.0.113.7")
    codes = [client.post(ask, {"email": f"nobody{i}@example.org"}).status_code for i in range(4)]
    assert codes == [302] * 4
    refused = client.post(ask, {"email": users[area].email})
    assert refused.status_code == 429
    assert "Too many password reset requests" in refused.content.decode()
    assert refused.context["form"].errors["email"]
    assert mail.outbox == []  # the known address got nothing
    other = Client(REMOTE_ADDR="203.0.113.8").post(ask, {"email": users[area].email})
    assert other.status_code == 302 and len(mail.outbox) == 1  # another client is not held back


def test_spoofed_forwarded_for_does_not_reset_the_count(rates, users, settings):
    settings.VAULT_TRUSTED_PROXY_COUNT = 0
    client = Client(REMOTE_ADDR="203.0.113.9")
    ask = AREAS["portal"][0]
    codes = [
        client.post(ask, {"email": f"n{i}@example.org"}, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code
        for i in range(5)
    ]
    assert codes == [302, 302, 302, 302, 429]


def test_the_limit_holds_per_process_while_the_cache_is_down(rates, users):
    """The shared cache raising (Redis down): the reset page still answers, counting in memory."""
    client = Client(REMOTE_ADDR="203.0.113.10")
    ask = AREAS["portal"][0]
    throttles.outage.since = None
    with mock.patch.object(cache, "get", side_effect=RedisConnectionError("down")):
        codes = [client.post(ask, {"email": f"n{i}@example.org"}).status_code for i in range(5)]
    throttles.outage.since = None
    throttles.outage.failed_at = 0.0
    assert codes == [302, 302, 302, 302, 429]
