"""Hostile request bodies (docs/security.md, "Hostile input"): JSON nested too deeply is a 400
before it is parsed; a body over the size limit is a 413 before it is read, in process and on a
real gunicorn whose worker must not grow by the size of the body."""

import io
import json
import os
import socket
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from tests.hardening.processes import Process, children, free_port, wait_for
from tests.second_factor import admin_login_post
from vault.core.middleware import LimitedInput, RequestBodyTooLarge
from vault.core.parsers import json_depth

TOKEN_URL = "/api/v1/auth/token/"  # open to anonymous callers, parses a JSON body
MiB = 2**20


# --- JSON depth ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ('"[[[["', 0),
        ("[]", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('[[], [[]], [{"x": "]]]]"}]]', 3),
        (r'["\"[[[", "\\", [[]]]', 3),  # an escaped quote and a final backslash do not end the string early
        ("[" * 10 + "]" * 10, 10),
    ],
)
def test_json_depth_counts_brackets_outside_strings(text, depth):
    assert json_depth(text.encode()) == depth


def _nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


@pytest.mark.parametrize("body", ["[" * 100_000, "[" * 100_000 + "]" * 100_000, _nested(33)])
def test_json_nested_too_deeply_is_a_400_even_anonymously(db, body):
    response = Client().post(TOKEN_URL, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "json_too_deep"
    assert "32 levels" in response.json()["detail"]


def test_json_at_the_depth_limit_is_parsed(db, settings):
    settings.VAULT_JSON_MAX_DEPTH = 3
    ok = Client().post(TOKEN_URL, '{"username": {"a": {"b": 1}}}', content_type="application/json")
    assert ok.status_code == 400 and ok.json()["code"] == "invalid"  # parsed, then refused by the serializer
    deep = Client().post(TOKEN_URL, '{"username": {"a": {"b": [1]}}}', content_type="application/json")
    assert deep.json()["code"] == "json_too_deep"


def test_brackets_inside_strings_do_not_count(db):
    body = json.dumps({"username": "[{" * 5000, "password": "x"})
    response = Client().post(TOKEN_URL, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_malformed_json_is_still_a_parse_error(db):
    response = Client().post(TOKEN_URL, '{"username": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_the_api_keeps_its_form_and_multipart_parsers(api, manager):
    response = api(manager).options("/api/v1/movements/")
    assert response.json()["parses"] == ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]


@pytest.mark.parametrize("url", ["/api/v1/forecasts/", "/api/v1/price-points/import/"])
def test_views_listing_drfs_own_json_parser_refuse_deep_json_too(api, manager, finance, url):
    """They set parser_classes with DRF's JSONParser: the API's negotiation parses with the
    checked one all the same."""
    user = finance if "price" in url else manager
    response = api(user).post(url, "[" * 100_000, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "json_too_deep"


# --- body size, in process ----------------------------------------------------------------------


@pytest.fixture
def small_limits(settings):
    settings.VAULT_MAX_REQUEST_BODY_BYTES = 1000
    settings.VAULT_MAX_UPLOAD_BODY_BYTES = 5000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000


def test_a_body_over_the_limit_is_a_413_in_the_api_error_shape(db, small_limits):
    response = Client().post(TOKEN_URL, b"x" * 1001, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "code": "request_too_large",
        "detail": "The request body is larger than the limit of 1000 bytes.",
        "limit_bytes": 1000,
    }


def test_a_body_at_the_limit_is_read(db, small_limits):
    body = json.dumps({"username": "u" * 900, "password": "p"}).encode()
    body += b" " * (1000 - len(body))
    response = Client().post(TOKEN_URL, body, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_the_declared_length_is_refused_unread(db, small_limits):
    """A client announcing 50 MB is answered from the header: the (tiny) body is never read."""
    response = Client().generic("POST", TOKEN_URL, b"{}", content_type="application/json", CONTENT_LENGTH=str(50 * MiB))
    assert response.status_code == 413


@pytest.mark.parametrize("url", ["/admin/login/", "/portal/login/"])
def test_outside_the_api_the_413_is_a_plain_page(db, small_limits, url):
    form = urlencode({"username": "u" * 2000, "password": "p"})
    response = Client().post(url, form, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")
    assert b"larger than the limit of 1000 bytes" in response.content


@pytest.mark.parametrize("url", ["/admin/login/", TOKEN_URL])
def test_multipart_form_fields_over_djangos_limit_are_a_413_too(db, small_limits, url):
    """Under the upload limit, but its fields (no file) over DATA_UPLOAD_MAX_MEMORY_SIZE: Django
    refuses them while parsing, a 400 of its own; the middleware makes it the same 413."""
    response = Client().post(url, {"username": "u" * 2000, "password": "p"})  # multipart
    assert response.status_code == 413


def test_multipart_uploads_have_their_own_larger_limit(api, manager, small_limits):
    def upload(size: int):
        csv = b"material,month,quantity\n" + b"#" * (size - 300)
        return api(manager).post("/api/v1/forecasts/", {"file": io.BytesIO(csv)}, format="multipart")

    assert upload(3000).status_code == 400  # read and parsed: 3,000 bytes is over the plain limit only
    refused = upload(6000)
    assert refused.status_code == 413
    assert refused.json()["limit_bytes"] == 5000


def test_admin_and_portal_forms_post_as_before(db, client, manager):
    """The limits and the parser leave Django's forms alone: a login form still logs in."""
    manager.set_password("a long enough password")
    manager.is_staff = True
    manager.save()
    response = admin_login_post(client, "manager1", "a long enough password")
    assert response.status_code == 302


# A body without Content-Length (chunked): reading past the limit raises, the view answers 413.


def _read_raw_input(request):
    return HttpResponse(str(len(request.META["wsgi.input"].read())))


urlpatterns = [path("api/read/", _read_raw_input), path("read/", _read_raw_input)]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(("url", "content_type"), [("/api/read/", "application/json"), ("/read/", "text/plain")])
def test_an_unannounced_body_read_past_the_limit_is_a_413(small_limits, url, content_type):
    def send(size: int):
        return Client().generic("POST", url, b"", **{"wsgi.input": io.BytesIO(b"x" * size)})

    assert send(1000).content == b"1000"
    refused = send(1001)
    assert refused.status_code == 413
    assert refused["Content-Type"].startswith(content_type)


def test_limited_input_stops_one_byte_past_the_limit():
    raw = io.BytesIO(b"line\n" * 10)
    limited = LimitedInput(raw, 12)
    assert limited.readline() == b"line\n"
    assert limited.read(5) == b"line\n"
    with pytest.raises(RequestBodyTooLarge):
        limited.read()
    assert raw.tell() == 13  # never asked the server for more than one byte past the limit
    assert list(LimitedInput(io.BytesIO(b"a\nb\n"), 4)) == [b"a\n", b"b\n"]


# --- body size, on a real gunicorn --------------------------------------------------------------


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def _http_ok(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@pytest.fixture
def gunicorn(tmp_path):
    """gunicorn with config/gunicorn.conf.py, one gthread worker, on SQLite in tmp_path (the 413
    answers before any query)."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "WEB_CONCURRENCY"}},
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "VAULT_VAR_DIR": str(tmp_path / "var"),
        "WEB_CONCURRENCY": "1",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "PYTHONUNBUFFERED": "1",
    }
    argv = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"]
    process = Process("gunicorn", argv, log=tmp_path / "gunicorn.log", env=env)
    try:
        wait_for(lambda: _http_ok(port), timeout=60, what=f"gunicorn on port {port}")
        (worker,) = wait_for(lambda: children(process.pid), timeout=10, what="the gunicorn worker")
        yield port, worker
    finally:
        process.stop()


@pytest.mark.real_clock
def test_gunicorn_answers_a_50_mb_body_413_quickly_without_holding_it(gunicorn):
    port, worker = gunicorn
    size = 50 * MiB
    for _ in range(3):  # warm the worker: imports, first-request set-up
        assert _http_ok(port)
    before = _rss_kib(worker)
    chunk = b"[" * MiB
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(
            f"POST {TOKEN_URL} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\n\r\n".encode()
            + chunk[: 64 * 1024]
        )
        answer = b""
        while b"request_too_large" not in answer:
            piece = sock.recv(4096)
            assert piece, answer
            answer += piece
        elapsed = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 413"), answer
        try:  # the rest of the body: the server discards it (or hangs up), it never holds it
            sock.sendall(chunk[64 * 1024 :])
            for _ in range(size // MiB - 1):
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
    assert elapsed < 5, f"the 413 took {elapsed:.1f} s"
    assert _http_ok(port)  # the worker is alive and well after the body
    grown_mib = (_rss_kib(worker) - before) / 1024
    assert grown_mib < 10, f"the worker grew by {grown_mib:.1f} MiB for a {size // MiB} MiB body"
