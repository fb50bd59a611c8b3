import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from config.settings import base

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    environment.update(env)
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy_without_warnings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="k7Qp2vXz9LmN4bRt8WcY1sDf6GhJ3kUe5AoPi0ZxCvBnM2qWeRtYuIoPaSdFgHjK",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr


def test_production_refuses_to_start_without_a_secret():
    result = _manage("check", DJANGO_SETTINGS_MODULE="config.settings.production")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_database_url_selects_postgresql(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://vault:pw@db.internal:5433/vault")
    config = base.database_config()
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", 5433, "vault")


def test_default_database_is_sqlite_in_wal_mode_with_a_busy_timeout(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SQLITE_PATH", str(tmp_path / "vault.sqlite3"))
    config = base.database_config()
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(tmp_path / "vault.sqlite3")
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert config["OPTIONS"]["timeout"] >= 5
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_sqlite_file_database_uses_wal(tmp_path):
    script = (
        "import django; django.setup(); from django.db import connection;"
        "c = connection.cursor(); c.execute('PRAGMA journal_mode'); print(c.fetchone()[0]);"
        "c.execute('PRAGMA busy_timeout'); print(c.fetchone()[0])"
    )
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings.local", SQLITE_PATH=str(tmp_path / "v.sqlite3"))
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    mode, timeout = result.stdout.split()
    assert mode == "wal"
    assert int(timeout) >= 5000


def test_celery_defaults_to_the_filesystem_broker(tmp_path):
    script = (
        "import django; django.setup(); from django.conf import settings; from pathlib import Path;"
        "print(settings.CELERY_BROKER_URL);"
        "print(Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS['data_folder_in']).is_dir())"
    )
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings.local", SQLITE_PATH=str(tmp_path / "v.sqlite3"))
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["filesystem://localhost/", "True"]


def test_api_defaults():
    rest = settings.REST_FRAMEWORK
    assert rest["DEFAULT_PAGINATION_CLASS"] == "vault.core.pagination.PagePagination"
    assert rest["COERCE_DECIMAL_TO_STRING"] is True
    assert rest["DEFAULT_PERMISSION_CLASSES"] == ["vault.accounts.permissions.RolePermission"]
    assert settings.SPECTACULAR_SETTINGS["SWAGGER_UI_DIST"] == "SIDECAR"


def test_production_sends_the_security_headers(tmp_path):
    script = (
        "import json; from django.test import Client; c = Client(); "
        "r = c.get('/admin/login/', secure=True, HTTP_HOST='vault.example'); "
        "plain = c.get('/admin/login/', HTTP_HOST='vault.example'); "
        "print(json.dumps({'status': r.status_code, 'headers': dict(r.headers), "
        "'csrf_secure': bool(r.cookies['csrftoken']['secure']), "
        "'plain': [plain.status_code, plain.headers.get('Location')]}))"
    )
    production = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "k7Qp2vXz9LmN4bRt8WcY1sDf6GhJ3kUe5AoPi0ZxCvBnM2qWeRtYuIoPaSdFgHjK",
        "DJANGO_ALLOWED_HOSTS": "vault.example",
        "VAULT_VAR_DIR": str(tmp_path),
    }
    # Production pages name static files by the manifest that collectstatic writes, as in a deploy.
    collected = _manage("collectstatic", "--noinput", "-v0", **production)
    assert collected.returncode == 0, collected.stderr
    result = _manage("shell", "-c", script, **production)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    headers = seen["headers"]
    assert seen["status"] == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert seen["csrf_secure"] is True
    assert seen["plain"] == [301, "https://vault.example/admin/login/"]


def test_gunicorn_config_loads_with_the_app_and_reads_the_environment():
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings.test", WEB_CONCURRENCY="3", GUNICORN_THREADS="2")
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "--print-config", "config.wsgi"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    printed = {
        name.strip(): value.strip()
        for name, _, value in (line.partition("=") for line in result.stdout.splitlines())
        if value
    }
    assert (printed["workers"], printed["threads"], printed["worker_class"]) == ("3", "2", "gthread")
    assert printed["keepalive"] == "15" and printed["max_requests"] == "5000"
