"""Price points are versioned and append-only; corrections, withdrawals and large moves wait for
a second finance user; the valuation reproduces the prices as they were known at a moment."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.financing.test_admin import client_for  # noqa: F401 - a fixture
from tests.financing.test_valuation import holdings  # noqa: F401 - a fixture
from vault.core.errors import Conflict
from vault.financing import selectors, services
from vault.financing.models import PricePoint

pytestmark = pytest.mark.django_db
MARCH = date(2026, 3, 1)


def _create(material, usd: str, by, day=MARCH, source="A") -> PricePoint:
    return services.price_point_create(material=material, date=day, usd_per_kg=Decimal(usd), source=source, by=by)


def _market(**kw):
    rows = selectors.holdings_valuation(as_of=date(2026, 3, 31), **kw).materials
    return next(r.market_price for r in rows if r.material == "NDPR-OX")


def test_a_correction_is_a_pending_version_until_a_second_user_confirms_it(holdings, material, finance, checker):  # noqa: F811
    first = _create(material, "648", finance)
    assert (first.version, first.status, first.supersedes) == (1, "confirmed", None)
    correction = _create(material, "1.00", finance)
    assert (correction.version, correction.status, correction.supersedes) == (2, "pending", first)
    assert _market() == Decimal("648")  # pending: not used
    with pytest.raises(Conflict) as again:
        _create(material, "2", checker)
    assert again.value.code == "price_pending"
    with pytest.raises(Conflict) as same:
        services.price_point_confirm(price_point=correction, by=finance)
    assert same.value.code == "second_user_required"
    before = timezone.now()
    confirmed = services.price_point_confirm(price_point=correction, by=checker)
    assert (confirmed.status, confirmed.confirmed_by) == ("confirmed", checker)
    assert _market() == Decimal("1.00")
    # As known before the confirmation, the valuation is the one reported then.
    assert _market(known_at=before) == Decimal("648")
    assert PricePoint.objects.filter(pk=first.pk, usd_per_kg=Decimal("648")).exists()  # never edited
    with pytest.raises(Conflict) as decided:
        services.price_point_reject(price_point=confirmed, by=checker)
    assert decided.value.code == "price_not_pending"


def test_a_large_move_is_pending_a_small_one_is_not(material, finance, checker, settings):
    settings.VAULT_PRICE_MOVE_CONFIRM_PCT = "20"
    _create(material, "100", finance)
    small = _create(material, "119", finance, day=date(2026, 3, 2))
    large = _create(material, "150", finance, day=date(2026, 3, 3))
    assert (small.status, large.status) == ("confirmed", "pending")
    rejected = services.price_point_reject(price_point=large, by=checker)
    assert (rejected.status, rejected.confirmed_by) == ("rejected", checker)
    again = _create(material, "121", finance, day=date(2026, 3, 3))  # against 119, in force on the 2nd
    assert (again.version, again.status) == (2, "confirmed")


def test_a_role_outside_finance_cannot_confirm(material, finance, manager):
    _create(material, "100", finance)
    pending = _create(material, "1", finance, day=date(2026, 3, 2))
    with pytest.raises(Conflict) as refused:
        services.price_point_confirm(price_point=pending, by=manager)
    assert refused.value.code == "role_required"


def test_a_withdrawal_is_a_version_too(holdings, material, finance, checker):  # noqa: F811
    price = _create(material, "60", finance)
    withdrawal = services.price_point_withdraw(price_point=price, by=finance)
    assert (withdrawal.withdrawn, withdrawal.status, withdrawal.supersedes) == (True, "pending", price)
    assert _market() == Decimal("60")
    services.price_point_confirm(price_point=withdrawal, by=checker)
    assert _market() is None
    with pytest.raises(Conflict) as gone:
        services.price_point_withdraw(price_point=price, by=finance)
    assert gone.value.code == "price_not_in_force"


def test_an_import_records_the_others_and_lists_the_pending(material, finance, checker):
    _create(material, "648", finance)
    text = f"material,date,usd_per_kg,source\n{material.code},2026-03-01,1.00,A\n{material.code},2026-03-02,650,A\n"
    result = services.price_points_import(text=text, by=finance)
    assert (result.created, result.updated, len(result.pending)) == (1, 1, 1)
    assert result.pending[0].usd_per_kg == Decimal("1.00") and result.pending[0].status == "pending"
    assert PricePoint.objects.get(date=date(2026, 3, 2)).status == "confirmed"


def test_api_confirm_reject_and_known_at(api, holdings, material, finance, checker):  # noqa: F811
    _create(material, "648", finance)
    response = api(finance).post(
        "/api/v1/price-points/import/", {"text": f"material,date,usd_per_kg,source\n{material.code},2026-03-01,1,A\n"}
    )
    assert response.status_code == 201, response.json()
    [pending] = response.json()["pending"]
    assert pending["status"] == "pending" and pending["version"] == 2 and pending["created_by"] == finance.username
    url = f"/api/v1/price-points/{pending['id']}/"
    refused = api(finance).post(url + "confirm/")
    assert refused.status_code == 409 and refused.json()["code"] == "second_user_required"
    known_before = timezone.now().isoformat()
    confirmed = api(checker).post(url + "confirm/")
    assert confirmed.status_code == 200 and confirmed.json()["confirmed_by"] == checker.username
    assert api(checker).post(url + "reject/").json()["code"] == "price_not_pending"
    now = api(finance).get("/api/v1/valuation/", {"as_of": "2026-03-31"}).json()
    then = api(finance).get("/api/v1/valuation/", {"as_of": "2026-03-31", "known_at": known_before}).json()
    assert [r["market_price"] for r in now["materials"] if r["material"] == "NDPR-OX"] == ["1.0000"]
    assert [r["market_price"] for r in then["materials"] if r["material"] == "NDPR-OX"] == ["648.0000"]
    assert api(finance).delete(url).status_code == 405


def test_admin_confirm_action(
    client_for,  # noqa: F811
    material,
    finance,
    checker,
):
    _create(material, "100", finance)
    pending = _create(material, "90", finance)
    changelist = "/admin/financing/pricepoint/"
    own = client_for(finance).post(changelist, {"action": "confirm", "_selected_action": [pending.pk]})
    assert own.status_code == 302
    pending.refresh_from_db()
    assert pending.status == "pending"
    other = client_for(checker).post(changelist, {"action": "confirm", "_selected_action": [pending.pk]})
    assert other.status_code == 302
    pending.refresh_from_db()
    assert (pending.status, pending.confirmed_by) == ("confirmed", checker)
