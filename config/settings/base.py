"""Settings shared by every environment. Values come from the environment, with defaults
that run on one machine: SQLite in the project folder and kombu's filesystem broker."""

import ipaddress
import logging
import os
from datetime import timedelta
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import dj_database_url
from celery.schedules import crontab

from vault.core.logging import logging_config, parse_level, structlog_configure
from vault.core.observability import sentry_init

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("VAULT_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int, *, minimum: int, maximum: int) -> int:
    """An integer from the environment within [minimum, maximum]; anything else stops the process
    at start-up (ImproperlyConfigured naming the variable) rather than misbehaving later."""
    from django.core.exceptions import ImproperlyConfigured

    raw = os.environ.get(name, "").strip() or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name} must be between {minimum} and {maximum}, not {value}.")
    return value


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")

INSTALLED_APPS = [
    # Django's admin with Vault's site (vault.accounts.admin_site): the login asks staff for a
    # second factor.
    "vault.accounts.admin_site.VaultAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_celery_beat",
    "axes",
    # The staff's second factor (docs/security.md): TOTP devices, backup codes, two_factor's
    # login and enrolment wizards. No phone, e-mail, YubiKey or WebAuthn plugin.
    "django_otp",
    "vault.accounts.admin_site.TOTPConfig",  # django_otp.plugins.otp_totp, named for the admin
    "vault.accounts.admin_site.StaticConfig",  # django_otp.plugins.otp_static
    "two_factor",
    "django_prometheus",
    "django_structlog",
    "csp",
    "vault.core",
    "vault.accounts",
    "vault.ledger",
    "vault.inventory",
    "vault.financing",
    "vault.drawdowns",
    "vault.coverage",
    "vault.integrity",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # Answers /healthz, /readyz and /metrics whatever the Host header (probes address pods by IP),
    # before the host validation, HTTPS redirect, sessions, axes and request logging below.
    "vault.core.health.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # A body over the size limit is answered 413 before anything below reads it.
    "vault.core.middleware.BodySizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    # Logs out a session a working day (SESSION_COOKIE_AGE) after its login, however busy.
    "vault.core.sessions.SessionLimitMiddleware",
    # After authentication: binds request_id, user and organization to every log line of the
    # request, and logs one line per request.
    "django_structlog.middlewares.RequestMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# Failed logins (admin, portal, token endpoint) are counted per username and IP address; after
# AXES_FAILURE_LIMIT failures that pair is locked out for the cool-off time.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("VAULT_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("VAULT_LOGIN_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Forwarded headers are believed from this many proxies in front of Vault, no more: 0 (the
# default) uses the socket's peer address only, N the N-th X-Forwarded-For entry from the right.
# One rule (vault.core.throttles.client_ip) for the login throttle, lockouts and the request log.
VAULT_TRUSTED_PROXY_COUNT = int(os.environ.get("VAULT_TRUSTED_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "vault.core.throttles.client_ip"

# The staff's second factor (docs/security.md, "Second factor for staff"). On: every staff user
# passes a TOTP code (or a backup code) at the admin login, and one without a device enrols
# before any admin page. Off (local, test): a staff user who enrolled is asked for a code all
# the same; one who did not signs in with the password.
VAULT_STAFF_OTP_REQUIRED = env_bool("VAULT_STAFF_OTP_REQUIRED", False)
# The name authenticator apps show beside the username (tell staging from production).
VAULT_OTP_ISSUER = os.environ.get("VAULT_OTP_ISSUER", "Project Vault")
TWO_FACTOR_PATCH_ADMIN = False  # Vault's admin site has its own login (vault.accounts.admin_site)
TWO_FACTOR_LOGIN_TIMEOUT = 600  # seconds between the password and the code; then the password again
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # django-otp's own admin screens: no keys, no QR codes
# A failed code locks the device for 1, 2, 4, 8... seconds (django-otp's throttle, per device).
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "admin:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_config() -> dict[str, Any]:
    """The default database: DATABASE_URL, else SQLite in the project folder.

    On PostgreSQL each thread keeps its connection for 60 s (health-checked before reuse), unless
    DATABASE_POOL_MAX_SIZE is above 0: then each process shares a psycopg pool of at most that many
    connections among its threads (DATABASE_POOL_MIN_SIZE kept open, default 1; a thread waits at
    most DATABASE_POOL_TIMEOUT seconds for one, default 10, then the query fails), and Django hands
    a connection back to the pool at the end of each request (CONN_MAX_AGE 0, as Django's pool
    requires). gunicorn.conf.py sizes the pool of each web process to its threads. Behind PgBouncer
    in transaction mode, DATABASE_DISABLE_SERVER_SIDE_CURSORS=1 (a cursor would outlive the server
    session it was opened on). See docs/operations.md, "Database connections"."""
    from django.core.exceptions import ImproperlyConfigured

    def number(name: str, default: str, kind: type[int] | type[float] = int) -> int | float:
        raw = os.environ.get(name, "").strip() or default
        try:
            return kind(raw)
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}.")

    url = os.environ.get("DATABASE_URL")
    if url:
        config: dict[str, Any] = dict(
            dj_database_url.parse(
                url,
                conn_max_age=60,
                conn_health_checks=True,
                disable_server_side_cursors=env_bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS"),
            )
        )
        config.setdefault("TEST", {})
        max_size = number("DATABASE_POOL_MAX_SIZE", "0")
        if max_size > 0 and config["ENGINE"].endswith((".postgresql", ".postgis")):
            min_size = number("DATABASE_POOL_MIN_SIZE", "1")
            timeout = number("DATABASE_POOL_TIMEOUT", "10", float)
            if not 0 <= min_size <= max_size or timeout <= 0:
                raise ImproperlyConfigured(
                    "The database pool needs 0 <= DATABASE_POOL_MIN_SIZE <= DATABASE_POOL_MAX_SIZE and "
                    f"DATABASE_POOL_TIMEOUT > 0 (got {min_size}, {max_size}, {timeout})."
                )
            config["CONN_MAX_AGE"] = 0
            config["OPTIONS"] = {
                **config.get("OPTIONS", {}),
                "pool": {"min_size": min_size, "max_size": max_size, "timeout": timeout},
            }
        return config
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
        "OPTIONS": {
            # WAL lets the web server and the Celery worker read while the other writes;
            # IMMEDIATE transactions take the write lock up front so that concurrent writers
            # wait (busy timeout) instead of failing on lock upgrade.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }


DATABASES = {"default": database_config()}

# Throttle counters and lockouts must be shared by every web process: Redis when CACHE_URL says so.
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": (
        # A Redis that does not answer fails in 2 s rather than holding a web thread for minutes.
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
        if CACHE_URL.startswith("redis")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # 12 characters: NIST SP 800-63B's floor is 8; a federal financial system asks for more.
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# A password reset link is good for one use and this many seconds (docs/security.md, Passwords).
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PASSWORD_RESET_TIMEOUT", "3600"))

# Browser protections and sessions (docs/security.md). A session ends SESSION_COOKIE_AGE seconds
# after its login whatever the activity (vault.core.sessions); a staff session also ends when the
# browser closes. The schema and Swagger UI ask for a login unless VAULT_API_DOCS_PUBLIC.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(10 * 3600)))  # a working day
VAULT_API_DOCS_PUBLIC = env_bool("VAULT_API_DOCS_PUBLIC", True)
# No inline script, style or event handler anywhere: scripts and styles are static files, data
# reaches them by json_script. Swagger UI's page is our template too (templates/drf_spectacular).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "America/New_York")  # the program's business day
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "vault" / "core" / "assets"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "vault.accounts.authentication.TokenAuthentication",
        "vault.accounts.authentication.SessionAuthentication",  # the second factor, as the admin
    ],
    "DEFAULT_PERMISSION_CLASSES": ["vault.accounts.permissions.RolePermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "vault.core.pagination.PagePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "vault.core.exceptions.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    # Password reset requests (the admin's and the portal's pages): per client address, and per
    # e-mail address asked for (over it the page answers the same, but no mail is sent).
    "DEFAULT_THROTTLE_RATES": {
        "auth": os.environ.get("VAULT_AUTH_THROTTLE", "20/min"),
        "password_reset": os.environ.get("VAULT_PASSWORD_RESET_THROTTLE", "10/hour"),
        "password_reset_email": os.environ.get("VAULT_PASSWORD_RESET_EMAIL_THROTTLE", "3/hour"),
    },
    "NUM_PROXIES": VAULT_TRUSTED_PROXY_COUNT,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # DRF's three, the JSON one behind a nesting depth check (vault.core.parsers), which the
    # negotiation also puts in the place of DRF's JSONParser in a view's own parser_classes.
    "DEFAULT_PARSER_CLASSES": [
        "vault.core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "vault.core.parsers.ContentNegotiation",
}
# API tokens (docs/security.md, "API tokens"): django-rest-knox stores a SHA-512 digest of each key,
# never the key. A token expires VAULT_API_TOKEN_TTL_HOURS after it was issued however much it is
# used (no refresh: an absolute expiry), 7 days by default and 90 at most; a user holds at most
# VAULT_API_TOKEN_LIMIT_PER_USER live tokens (one per integration or device).
VAULT_API_TOKEN_TTL_HOURS = env_int("VAULT_API_TOKEN_TTL_HOURS", 7 * 24, minimum=1, maximum=90 * 24)
VAULT_API_TOKEN_LIMIT_PER_USER = env_int("VAULT_API_TOKEN_LIMIT_PER_USER", 10, minimum=1, maximum=1000)
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=VAULT_API_TOKEN_TTL_HOURS),
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": VAULT_API_TOKEN_LIMIT_PER_USER,
    "AUTH_HEADER_PREFIX": "Token",  # clients send `Authorization: Token KEY`, as with DRF's tokens
    "SECURE_HASH_ALGORITHM": "hashlib.sha512",
    "AUTH_TOKEN_CHARACTER_LENGTH": 64,  # 32 random bytes, hex
    "TOKEN_PREFIX": "",
}

# Hostile bodies (docs/security.md, "Hostile input"): a body over this many bytes is answered 413
# unread (multipart uploads: the larger limit; Django spools their files to disk), and a JSON body
# nesting arrays and objects deeper than this is a 400 before it is parsed.
VAULT_MAX_REQUEST_BODY_BYTES = int(os.environ.get("VAULT_MAX_REQUEST_BODY_BYTES", str(5 * 2**20)))
VAULT_MAX_UPLOAD_BODY_BYTES = int(os.environ.get("VAULT_MAX_UPLOAD_BODY_BYTES", str(32 * 2**20)))
DATA_UPLOAD_MAX_MEMORY_SIZE = VAULT_MAX_REQUEST_BODY_BYTES  # Django's own bound on what it reads into memory
VAULT_JSON_MAX_DEPTH = int(os.environ.get("VAULT_JSON_MAX_DEPTH", "32"))

SPECTACULAR_SETTINGS = {
    "TITLE": "Vault API",
    "DESCRIPTION": (
        "Inventory, financing and drawdowns of the US Strategic Critical Minerals Reserve. Errors are "
        "{code, detail, errors}; each code names one rule and always comes with the same HTTP status "
        "(docs/error-codes.md lists every code)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `status`: name each choice set so the schema has no collision warning
    # (`check --deploy` runs the schema generator and must stay silent).
    "ENUM_NAME_OVERRIDES": {
        "LotStatusEnum": "vault.inventory.models.Lot.Status",
        "DrawdownStatusEnum": "vault.drawdowns.models.DrawdownRequest.Status",
        "ObligationStatusEnum": "vault.drawdowns.models.ReplenishmentObligation.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "vault.core.schema.add_error_responses",
    ],
}

# Celery: kombu's filesystem transport needs no server; CELERY_BROKER_URL=redis://... for Redis.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # Fail fast when Redis is down: the outbox keeps the message and outbox_drain resends it.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE
# Every task has a soft limit (SoftTimeLimitExceeded raised in the task: its transaction rolls
# back) and a hard one (the pool child is killed; acks_late tasks are acked, not requeued).
# The checks that walk every row get more (CELERY_TASK_ANNOTATIONS); prefork pool only.
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "300"))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "360"))
_LONG_TASK_LIMITS = {
    "soft_time_limit": int(os.environ.get("VAULT_LONG_TASK_SOFT_TIME_LIMIT", "1800")),
    "time_limit": int(os.environ.get("VAULT_LONG_TASK_TIME_LIMIT", "1920")),
}
for _soft, _hard in (
    (CELERY_TASK_SOFT_TIME_LIMIT, CELERY_TASK_TIME_LIMIT),
    (_LONG_TASK_LIMITS["soft_time_limit"], _LONG_TASK_LIMITS["time_limit"]),
):
    if not 0 < _soft < _hard:
        raise ValueError(f"Celery time limits: the soft limit ({_soft} s) must be below the hard one ({_hard} s).")
CELERY_TASK_ANNOTATIONS = dict.fromkeys(
    (
        "vault.coverage.tasks.coverage_check_all",
        "vault.integrity.tasks.vault_check",
        "vault.financing.tasks.accrue_interest",
    ),
    _LONG_TASK_LIMITS,
)
# One beat sends the schedule: a second one started by mistake stands by until the first dies
# (vault.core.beat: a PostgreSQL advisory lock, or a file lock on SQLite), retrying every
# VAULT_BEAT_STANDBY_SECONDS. Run times are saved after every send, for the one taking over.
CELERY_BEAT_SCHEDULER = "vault.core.beat:LockedDatabaseScheduler"
CELERY_BEAT_SYNC_EVERY = 1
VAULT_BEAT_STANDBY_SECONDS = float(os.environ.get("VAULT_BEAT_STANDBY_SECONDS", "5"))
# Copied into django-celery-beat's tables when beat starts; edit times there, in the admin.
CELERY_BEAT_SCHEDULE = {
    "outbox-drain": {"task": "vault.core.outbox.outbox_drain", "schedule": 30.0},
    "outbox-prune-daily": {"task": "vault.core.tasks.outbox_prune", "schedule": crontab(hour=3, minute=10)},
    "idempotency-keys-prune-hourly": {
        "task": "vault.drawdowns.tasks.idempotency_keys_prune",
        "schedule": crontab(minute=40),
    },
    "interest-accrual-daily": {
        "task": "vault.financing.tasks.accrue_interest",
        "schedule": crontab(hour=0, minute=15),
    },
    "integrity-check-hourly": {"task": "vault.integrity.tasks.vault_check", "schedule": crontab(minute=30)},
    "integrity-seal": {"task": "vault.integrity.tasks.seal", "schedule": 600.0},
    "coverage-check-daily": {
        "task": "vault.coverage.tasks.coverage_check_all",
        "schedule": crontab(hour=1, minute=0),
    },
}
# The outbox (vault/core/outbox.py): a message not done after this many sends is dead (no longer
# resent; "Resend" in the admin). Done messages, and dead ones never resent, are deleted this
# many days later; Idempotency-Keys this many hours after their first request.
VAULT_OUTBOX_MAX_ATTEMPTS = int(os.environ.get("VAULT_OUTBOX_MAX_ATTEMPTS", "10"))
VAULT_OUTBOX_RETENTION_DAYS = int(os.environ.get("VAULT_OUTBOX_RETENTION_DAYS", "30"))
VAULT_IDEMPOTENCY_RETENTION_HOURS = int(os.environ.get("VAULT_IDEMPOTENCY_RETENTION_HOURS", "48"))

# E-mail: SMTP when EMAIL_HOST is set, else the console (local settings: files under var/mail).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "vault@localhost")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# Who receives the errors of requests: `DJANGO_ADMINS="Ops <ops@example.org>, oncall@example.org"`.
ADMINS = [(name or addr, addr) for name, addr in getaddresses(env_list("DJANGO_ADMINS")) if addr]

# Logs: LOG_FORMAT=json (production's default) writes one JSON object a line; LOG_LEVEL in any case.
LOG_LEVEL = parse_level(os.environ.get("LOG_LEVEL"))
LOG_FORMAT = os.environ.get("LOG_FORMAT", "console").strip().lower()
LOGGING = logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)
structlog_configure()
DJANGO_STRUCTLOG_CELERY_ENABLED = True  # a task's log lines carry the request_id that enqueued it
DJANGO_STRUCTLOG_USER_ID_FIELD = "username"
DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL = logging.DEBUG  # one line per request: when it finished
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False  # Vault binds `ip` itself, by client_ip's rule

# Errors to Sentry when SENTRY_DSN is set (Django and Celery integrations); nothing otherwise.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
sentry_init(
    dsn=SENTRY_DSN,
    environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
    release=os.environ.get("SENTRY_RELEASE") or None,
    traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")),
)

# Domain parameters (see docs/domain.md: parameters are configurable, never hard-coded).
VAULT_DEFAULT_COVERAGE_TARGET_DAYS = int(os.environ.get("VAULT_DEFAULT_COVERAGE_TARGET_DAYS", "60"))
# A declared supply disruption starts at most this many days before the business day (and at
# most this many days after it), and lasts at most VAULT_DISRUPTION_MAX_DAYS days.
VAULT_DISRUPTION_MAX_BACKDATE_DAYS = int(os.environ.get("VAULT_DISRUPTION_MAX_BACKDATE_DAYS", "30"))
VAULT_DISRUPTION_MAX_LEAD_DAYS = int(os.environ.get("VAULT_DISRUPTION_MAX_LEAD_DAYS", "365"))
VAULT_DISRUPTION_MAX_DAYS = int(os.environ.get("VAULT_DISRUPTION_MAX_DAYS", "365"))

# Probes and metrics (docs/operations.md). /readyz fails when an outbox message has waited longer
# than this for the broker or a worker (0: reported, never failed); its broker check gives up
# after the timeout.
VAULT_READY_OUTBOX_MAX_AGE_SECONDS = int(os.environ.get("VAULT_READY_OUTBOX_MAX_AGE_SECONDS", "900"))
VAULT_READY_BROKER_TIMEOUT_SECONDS = float(os.environ.get("VAULT_READY_BROKER_TIMEOUT_SECONDS", "2"))
# /metrics answers connections from these networks (CIDRs), or any caller with the bearer token.
# Parsed here so that a typo stops the process at start-up rather than failing every scrape.
VAULT_METRICS_ALLOWED_NETWORKS = [
    str(ipaddress.ip_network(item, strict=False))
    for item in env_list("VAULT_METRICS_ALLOWED_NETWORKS", "127.0.0.1/32,::1/128")
]
VAULT_METRICS_TOKEN = os.environ.get("VAULT_METRICS_TOKEN", "")

# Four eyes on financing (issue 13): a tranche is approved by a finance user other than its
# planner; a disbursement above this amount (USD) is requested by one finance user and posted
# when another confirms it (at or below it, one step).
VAULT_DISBURSEMENT_SECOND_APPROVAL_USD = os.environ.get("VAULT_DISBURSEMENT_SECOND_APPROVAL_USD", "100000000.00")

# Four eyes on drawdown approvals (issue 13): approving more than this many kg, or more than this
# value in USD at the agreement's locked price (either one exceeded), takes a second manager.
# USD 350,000 is the federal simplified acquisition threshold (FAR 2.101, since October 2025), the
# size above which federal buying leaves the procedures one officer may follow alone. The kg limit
# is the backstop for cheap or zero-priced material the value limit would miss: 5,000 kg is where
# the two meet at 70 USD/kg, so the value binds first for the rare earth oxides and the kg for
# bulk materials (graphite, lithium carbonate, antimony, cobalt). Parameters, no public source.
# Read by vault.drawdowns.domain.second_approval_limits only.
VAULT_DRAWDOWN_SECOND_APPROVAL_KG = os.environ.get("VAULT_DRAWDOWN_SECOND_APPROVAL_KG", "5000")
VAULT_DRAWDOWN_SECOND_APPROVAL_USD = os.environ.get("VAULT_DRAWDOWN_SECOND_APPROVAL_USD", "350000")

# Four eyes on market prices (issue 13): a new price moving more than this percentage from the
# material's price in force is pending until a second finance user confirms it (corrections and
# withdrawals always are). Read by vault.financing.services.prices.price_move_confirm_pct.
VAULT_PRICE_MOVE_CONFIRM_PCT = os.environ.get("VAULT_PRICE_MOVE_CONFIRM_PCT", "20")
