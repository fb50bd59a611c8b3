"""What an operations team relies on: structured logs with the request's context, errors to
Sentry only when configured, e-mail and admins from the environment."""

import gzip
import io
import json
import logging.config
import os
import socketserver
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from django.conf import settings

from vault.core.logging import logging_config, parse_level

ROOT = Path(__file__).resolve().parents[2]


def _python(script: str, **env) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST", "SENTRY_", "EMAIL_", "LOG_"))
    }
    environment.update({"DJANGO_SETTINGS_MODULE": "config.settings.local", **env})
    return subprocess.run(  # noqa: S603 - our own code
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


# --- logs -------------------------------------------------------------------------------------


@pytest.fixture
def json_lines():
    """Logging reconfigured as production does (JSON, one object a line); returns the lines so far."""
    logging.config.dictConfig(logging_config(level="INFO", fmt="json"))
    stream = io.StringIO()
    (handler,) = logging.getLogger().handlers
    handler.setStream(stream)

    def read() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield read
    logging.config.dictConfig(settings.LOGGING)


@pytest.mark.parametrize("value", ["warning", "Warning", "WARNING", " warning "])
def test_log_level_is_case_insensitive(value):
    assert parse_level(value) == "WARNING"


def test_an_unknown_log_level_is_refused_with_the_valid_names():
    with pytest.raises(ValueError, match="DEBUG, INFO, WARNING"):
        parse_level("loud")


def test_a_lower_case_log_level_boots_django():
    result = _python(
        "import django; django.setup(); from django.conf import settings; print(settings.LOG_LEVEL)",
        LOG_LEVEL="warning",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "WARNING"


def test_production_logs_json_by_default():
    result = _python(
        "import django; django.setup(); import logging; logging.getLogger('vault.test').warning('hello %s', 'ops')",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="k7Qp2vXz9LmN4bRt8WcY1sDf6GhJ3kUe5AoPi0ZxCvBnM2qWeRtYuIoPaSdFgHjK",
    )
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["message"] == "hello ops"
    assert (line["level"], line["logger"]) == ("warning", "vault.test")
    assert line["time"].endswith("Z")


def test_every_request_logs_one_line_with_its_request_id_user_and_organization(api, maker_a, json_lines):
    response = api(maker_a).get("/api/v1/entitlements/")
    assert response.status_code == 200
    lines = [line for line in json_lines() if line["logger"].startswith("django_structlog.middlewares")]
    assert [line["message"] for line in lines] == ["request_finished"]
    line = lines[0]
    assert line["user"] == "maker_a"
    assert line["organization"] == maker_a.organization_id
    assert line["code"] == 200 and line["request"] == "GET /api/v1/entitlements/"
    assert len(line["request_id"]) == 36
    assert line["level"] == "info" and "time" in line


def test_log_lines_inside_a_request_carry_its_request_id(rf, manager, json_lines):
    from django.http import HttpResponse
    from django_structlog.middlewares import RequestMiddleware

    def view(request):
        logging.getLogger("vault.probe").info("inside the view")
        return HttpResponse("ok")

    request = rf.get("/anything")
    request.user = manager
    RequestMiddleware(view)(request)
    lines = {line["message"]: line for line in json_lines()}
    assert lines["inside the view"]["request_id"] == lines["request_finished"]["request_id"]
    assert lines["inside the view"]["user"] == "manager1"


def test_a_4xx_is_logged_once_as_a_warning(api, manager, json_lines):
    assert api(manager).get("/api/v1/movements/", {"lot": "x"}).status_code == 400
    lines = json_lines()
    assert [(line["logger"], line["level"]) for line in lines if line.get("code") == 400] == [
        ("django_structlog.middlewares.request", "warning")
    ]
    assert not [line for line in lines if line["logger"] == "django.request"]


# --- Sentry -----------------------------------------------------------------------------------


class _Collector(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.received.append(gzip.decompress(body) if self.headers.get("Content-Encoding") == "gzip" else body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_without_a_dsn_sentry_is_not_started():
    result = _python("import django; django.setup(); import sentry_sdk; print(sentry_sdk.get_client().is_active())")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_with_a_dsn_an_error_in_a_request_reaches_sentry():
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    _Collector.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    script = """
import django; django.setup()
import sentry_sdk
from vault.core import views
def broken(request):
    raise RuntimeError("disk on fire")
views.healthz = broken  # before the URLconf is imported
from django.test import Client
assert Client(raise_request_exception=False).get("/healthz").status_code == 500
client = sentry_sdk.get_client()
print(sorted(client.integrations))
sentry_sdk.flush(timeout=10)
"""
    try:
        result = _python(script, SENTRY_DSN=f"http://public@127.0.0.1:{server.server_port}/1")
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    assert "'django'" in result.stdout and "'celery'" in result.stdout
    envelopes = b"".join(_Collector.received)
    assert b"disk on fire" in envelopes and b"RuntimeError" in envelopes


# --- e-mail and admins ------------------------------------------------------------------------


class _SmtpSink(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept one message."""

    messages: list[str] = []

    def handle(self):
        def say(text):
            self.wfile.write(text.encode() + b"\r\n")

        say("220 sink")
        data = None
        while line := self.rfile.readline().decode():
            if data is not None:
                if line.rstrip("\r\n") == ".":
                    self.messages.append("".join(data))
                    data = None
                    say("250 queued")
                else:
                    data.append(line)
                continue
            verb = line[:4].upper()
            if verb == "EHLO":
                say("250 sink")
            elif verb == "DATA":
                data = []
                say("354 go on")
            elif verb == "QUIT":
                say("221 bye")
                return
            else:
                say("250 ok")


def test_email_goes_to_the_smtp_host_of_the_environment():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpSink)
    _SmtpSink.messages = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    script = (
        "import django; django.setup(); from django.conf import settings; from django.core.mail import send_mail;"
        "print(settings.EMAIL_BACKEND, settings.EMAIL_TIMEOUT);"
        "send_mail('Drawdown approved', 'body', None, ['ops@example.org'])"
    )
    try:
        result = _python(script, EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(server.server_address[1]), EMAIL_TIMEOUT="5")
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.core.mail.backends.smtp.EmailBackend", "5"]
    assert len(_SmtpSink.messages) == 1 and "Subject: Drawdown approved" in _SmtpSink.messages[0]


def test_local_demo_mail_goes_to_files_under_var(tmp_path):
    result = _python(
        "import django; django.setup(); from django.conf import settings; from django.core.mail import send_mail;"
        "send_mail('Coverage breach', 'body', None, ['manager@vault.example'])",
        VAULT_VAR_DIR=str(tmp_path),
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
    )
    assert result.returncode == 0, result.stderr
    files = list((tmp_path / "mail").iterdir())
    assert len(files) == 1 and "Subject: Coverage breach" in files[0].read_text()
    assert "Coverage breach" not in result.stdout + result.stderr


def test_admins_come_from_the_environment():
    result = _python(
        "import django; django.setup(); from django.conf import settings; print(settings.ADMINS)",
        DJANGO_ADMINS="Ops Desk <ops@example.org>, oncall@example.org",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[('Ops Desk', 'ops@example.org'), ('oncall@example.org', 'oncall@example.org')]"
