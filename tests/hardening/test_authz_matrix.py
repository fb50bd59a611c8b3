"""The authorization matrix: every URL pattern of the project (API, portal, admin, downloads,
schema) has a row stating, per role, the status a GET must get and the status every unsafe
method the URL accepts must get. The rows state the business rules:

- manager: stockpile managers; write inventory, drawdowns and coverage; read everything.
- finance: write financing and the ledger; read what staff read.
- auditor: reads what staff read, never writes (its own password aside).
- manufacturer (maker_a of ORG-A, maker_b of ORG-B): its own organization's rows only (another
  organization's row is a 404), the catalogue, coverage of its entitled materials, the portal;
  no admin (a redirect to the login page).
- anonymous: 401 on the API, the login page for the portal and the admin. The token endpoint,
  the OpenAPI schema and its docs page are public: they describe the API and hold no data.

A URL pattern without a row, or a row without a pattern, fails
`test_every_url_pattern_has_exactly_one_row`. The admin's generated pages have rows made by
rule from `ADMIN_MODELS` (who may view, add, change, delete each model); its custom views
have explicit rows. Path parameters are real objects, mostly ORG-A's (conftest.py). Each
request runs in a savepoint that is rolled back, so cells never depend on each other; a
refused request, and every GET, must write no row at all (PostgreSQL's per-transaction table
statistics say so, or SQLite's count of changes): the matrix runs on both databases, so a
permission regression fails `make test` on a laptop too."""

import json
import logging
import re
from dataclasses import dataclass, field, replace

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient
from rest_framework.views import APIView

from tests.factories import api_token
from tests.hardening.conftest import ROLES
from vault.core.models import OutboxMessage
from vault.drawdowns.models import (
    DrawdownRequest,
    DrawdownTransition,
    ParticipationAgreement,
    ReplenishmentObligation,
    Reservation,
)

# --- cell values ------------------------------------------------------------------------------------

W = "write"  # authorized: the view ran (2xx, a redirect after success, or a 400/409 about the body)
QUERY = "query"  # a POST that only computes: answered (200, or 400 about the body), writes nothing
LOGIN = "login"  # a redirect to the login page of the area (admin or portal), nothing written
NOOP = "noop"  # the admin changelist ignores an action the role may not run (200 or back to the list)
DOWNLOAD = "download"  # a file served (200) that writes exactly one row: its DownloadRecord
WIZARD = "wizard"  # a page (200) of two_factor's wizards: it keeps its step in the session, its only write

AUTHORIZED = {200, 201, 204, 302, 400, 409}
REFUSED = {401, 403, 404, 405}
LOGIN_PAGES = ("/admin/login/", "/portal/login/")
UNSAFE = ("post", "put", "patch", "delete")
POST = ("post",)

# --- profiles: one expected value per role, in the order of ROLES -----------------------------------
#       anonymous  maker_a  maker_b  manager  finance  auditor

PUBLIC = (200, 200, 200, 200, 200, 200)
STAFF_READ = (401, 403, 403, 200, 200, 200)
ALL_READ = (401, 200, 200, 200, 200, 200)  # manufacturers see their own rows, or the catalogue
OWN_A = (401, 200, 404, 200, 200, 200)  # an ORG-A object
POST_ONLY_STAFF = (401, 403, 403, 405, 405, 405)  # GET on a POST-only action of a staff view
POST_ONLY_ALL = (401, 405, 405, 405, 405, 405)  # GET on a POST-only action manufacturers reach
MANAGER_WRITES = (401, 403, 403, W, 403, 403)
FINANCE_WRITES = (401, 403, 403, 403, W, 403)
STAFF_DOWNLOAD = (401, 403, 403, DOWNLOAD, DOWNLOAD, DOWNLOAD)

STAFF_PAGE = (LOGIN, LOGIN, LOGIN, 200, 200, 200)
MANAGER_PAGE = (LOGIN, LOGIN, LOGIN, 200, 403, 403)
MANAGER_POST = (LOGIN, LOGIN, LOGIN, W, 403, 403)
FINANCE_PAGE = (LOGIN, LOGIN, LOGIN, 403, 200, 403)
FINANCE_POST = (LOGIN, LOGIN, LOGIN, 403, W, 403)
NOBODY_PAGE = (LOGIN, LOGIN, LOGIN, 403, 403, 403)
STAFF_POST = (LOGIN, LOGIN, LOGIN, W, W, W)
STAFF_DOWNLOAD_PAGE = (LOGIN, LOGIN, LOGIN, DOWNLOAD, DOWNLOAD, DOWNLOAD)

PORTAL_PAGE = (LOGIN, 200, 200, 403, 403, 403)
PORTAL_OWN_A = (LOGIN, 200, 404, 403, 403, 403)
PORTAL_OWN_A_POST = (LOGIN, W, 404, 403, 403, 403)


@dataclass(frozen=True)
class Row:
    """`route` is the pattern's full route as Django joins it (`resolve(url).route`); `url` is
    requested with the world's placeholders filled in. `write` applies to every unsafe method
    the URL accepts: taken from a DRF view, declared in `methods` for the other views, sent with
    `body` (JSON to the API, a form elsewhere). `writes` gives a method cells of its own
    instead of `write`'s."""

    route: str
    url: str
    get: tuple
    write: tuple | None = None
    methods: tuple = ()
    body: dict = field(default_factory=dict)
    writes: dict = field(default_factory=dict)


def api(route: str, url: str, get: tuple, write: tuple | None = None) -> list[Row]:
    """An API row; a router's route also has a format-suffix twin (`.json`) answering the same."""
    row = Row("api/v1/" + route, "/api/v1/" + url, get, write)
    if not route.endswith("/$"):
        return [row]
    twin = replace(row, route=row.route.removesuffix("/$") + r"\.(?P<format>[a-z0-9]+)/?$", url=row.url[:-1] + ".json")
    return [row, twin]


PK = "(?P<pk>[^/.]+)"
CODE = "(?P<code>[^/.]+)"
ANY_CODE = "(?P<code>[^/\\x00]+)"
MATERIAL = "(?P<code>[A-Z0-9][A-Z0-9._-]*)"

API_ROWS = [
    # The API's login is public (POST, no body here: 400); its logout (DELETE) revokes the token the
    # request carries, so a session gets 400 `token_required` (tests/accounts/test_token.py).
    Row("api/v1/auth/token/", "/api/v1/auth/token/", (405,) * 6, (400,) * 6, writes={"delete": (401,) + (400,) * 5}),
    # inventory: manufacturers see the catalogue (materials, sites), not the stock
    *api("materials/$", "materials/", ALL_READ, MANAGER_WRITES),
    *api(f"materials/{CODE}/$", "materials/{material_code}/", ALL_READ, MANAGER_WRITES),
    *api("sites/$", "sites/", ALL_READ, MANAGER_WRITES),
    *api(f"sites/{CODE}/$", "sites/{site_code}/", ALL_READ, MANAGER_WRITES),
    *api("lots/$", "lots/", STAFF_READ, MANAGER_WRITES),
    *api(f"lots/{PK}/$", "lots/{lot}/", STAFF_READ),
    *api(f"lots/{PK}/status/$", "lots/{lot}/status/", POST_ONLY_STAFF, MANAGER_WRITES),
    *api("movements/$", "movements/", STAFF_READ, MANAGER_WRITES),
    *api(f"movements/{PK}/$", "movements/{movement}/", STAFF_READ, MANAGER_WRITES),  # even then: 400, immutable
    *api(f"movements/{PK}/reverse/$", "movements/{movement}/reverse/", POST_ONLY_STAFF, MANAGER_WRITES),
    *api("positions/$", "positions/", STAFF_READ),
    *api(f"positions/{PK}/$", "positions/{position}/", STAFF_READ),
    # financing and the ledger: finance writes, staff read, manufacturers see none of it
    *api("facilities/<str:code>/statement/", "facilities/{facility_code}/statement/", STAFF_READ),
    *api("facilities/<str:code>/statement.csv", "facilities/{facility_code}/statement.csv", STAFF_DOWNLOAD),
    *api("facilities/<str:code>/statement.xlsx", "facilities/{facility_code}/statement.xlsx", STAFF_DOWNLOAD),
    *api("valuation/", "valuation/", STAFF_READ),
    *api("ledger/trial-balance/", "ledger/trial-balance/", STAFF_READ),
    *api("ledger/export.csv", "ledger/export.csv", STAFF_DOWNLOAD),
    *api("ledger/export.xlsx", "ledger/export.xlsx", STAFF_DOWNLOAD),
    *api("facilities/$", "facilities/", STAFF_READ, FINANCE_WRITES),
    *api(f"facilities/{ANY_CODE}/$", "facilities/{facility_code}/", STAFF_READ, FINANCE_WRITES),
    *api(f"facilities/{ANY_CODE}/rates/$", "facilities/{facility_code}/rates/", POST_ONLY_STAFF, FINANCE_WRITES),
    *api("tranches/$", "tranches/", STAFF_READ, FINANCE_WRITES),
    *api(f"tranches/{PK}/$", "tranches/{tranche}/", STAFF_READ),
    *api(f"tranches/{PK}/approve/$", "tranches/{tranche}/approve/", POST_ONLY_STAFF, FINANCE_WRITES),
    *api(f"tranches/{PK}/cancel/$", "tranches/{tranche}/cancel/", POST_ONLY_STAFF, FINANCE_WRITES),
    *api(f"tranches/{PK}/disburse/$", "tranches/{tranche}/disburse/", POST_ONLY_STAFF, FINANCE_WRITES),
    *api(
        f"tranches/{PK}/disburse/confirm/$",
        "tranches/{tranche}/disburse/confirm/",
        POST_ONLY_STAFF,
        FINANCE_WRITES,
    ),
    *api("repayments/$", "repayments/", STAFF_READ, FINANCE_WRITES),
    *api(f"repayments/{PK}/$", "repayments/{repayment}/", STAFF_READ),
    *api("interest-accruals/$", "interest-accruals/", STAFF_READ),  # written by the daily task only
    *api(f"interest-accruals/{PK}/$", "interest-accruals/{accrual}/", STAFF_READ),
    *api("interest-payments/$", "interest-payments/", STAFF_READ, FINANCE_WRITES),
    *api(f"interest-payments/{PK}/$", "interest-payments/{interest_payment}/", STAFF_READ),
    *api("fees/$", "fees/", STAFF_READ, FINANCE_WRITES),
    *api(f"fees/{PK}/$", "fees/{fee}/", STAFF_READ),
    *api("price-points/$", "price-points/", STAFF_READ, FINANCE_WRITES),
    *api("price-points/import/$", "price-points/import/", POST_ONLY_STAFF, FINANCE_WRITES),
    *api(f"price-points/{PK}/$", "price-points/{price_point}/", STAFF_READ),  # DELETE 405: a withdrawal is a version
    *api(f"price-points/{PK}/confirm/$", "price-points/{price_point}/confirm/", POST_ONLY_STAFF, FINANCE_WRITES),
    *api(f"price-points/{PK}/reject/$", "price-points/{price_point}/reject/", POST_ONLY_STAFF, FINANCE_WRITES),
    *api("ledger/entries/$", "ledger/entries/", STAFF_READ),  # read-only: manual entries are proposed
    *api(f"ledger/entries/{PK}/$", "ledger/entries/{journal_entry}/", STAFF_READ),
    *api(f"ledger/entries/{PK}/reverse/$", "ledger/entries/{journal_entry}/reverse/", POST_ONLY_STAFF, FINANCE_WRITES),
    *api("ledger/manual-entries/$", "ledger/manual-entries/", STAFF_READ, FINANCE_WRITES),
    *api(f"ledger/manual-entries/{PK}/$", "ledger/manual-entries/{manual_entry}/", STAFF_READ),
    *api(
        f"ledger/manual-entries/{PK}/post/$",
        "ledger/manual-entries/{manual_entry}/post/",
        POST_ONLY_STAFF,
        FINANCE_WRITES,
    ),
    *api(
        f"ledger/manual-entries/{PK}/reject/$",
        "ledger/manual-entries/{manual_entry}/reject/",
        POST_ONLY_STAFF,
        FINANCE_WRITES,
    ),
    *api("ledger/periods/$", "ledger/periods/", STAFF_READ),
    *api("ledger/periods/close/$", "ledger/periods/close/", POST_ONLY_STAFF, FINANCE_WRITES),
    *api(f"ledger/periods/{PK}/$", "ledger/periods/{period_close}/", STAFF_READ),
    *api("ledger/reopen-requests/$", "ledger/reopen-requests/", STAFF_READ, FINANCE_WRITES),
    *api(f"ledger/reopen-requests/{PK}/$", "ledger/reopen-requests/{reopen_request}/", STAFF_READ),
    *api(
        f"ledger/reopen-requests/{PK}/approve/$",
        "ledger/reopen-requests/{reopen_request}/approve/",
        POST_ONLY_STAFF,
        FINANCE_WRITES,
    ),
    *api(
        f"ledger/reopen-requests/{PK}/reject/$",
        "ledger/reopen-requests/{reopen_request}/reject/",
        POST_ONLY_STAFF,
        FINANCE_WRITES,
    ),
    *api("ledger/accounts/$", "ledger/accounts/", STAFF_READ),
    *api(f"ledger/accounts/{ANY_CODE}/$", "ledger/accounts/{account_code}/", STAFF_READ),
    # drawdowns: manufacturers create, submit and cancel their own requests; managers decide
    *api("drawdown-requests/$", "drawdown-requests/", ALL_READ, (401, W, W, 403, 403, 403)),
    *api(f"drawdown-requests/{PK}/$", "drawdown-requests/{request_a}/", OWN_A),
    *api(f"drawdown-requests/{PK}/approve/$", "drawdown-requests/{request_a}/approve/", POST_ONLY_ALL, MANAGER_WRITES),
    *api(f"drawdown-requests/{PK}/reject/$", "drawdown-requests/{request_a}/reject/", POST_ONLY_ALL, MANAGER_WRITES),
    *api(f"drawdown-requests/{PK}/fulfil/$", "drawdown-requests/{request_a}/fulfil/", POST_ONLY_ALL, MANAGER_WRITES),
    *api(
        f"drawdown-requests/{PK}/submit/$",
        "drawdown-requests/{draft_a}/submit/",
        POST_ONLY_ALL,
        (401, W, 404, 403, 403, 403),
    ),
    *api(
        f"drawdown-requests/{PK}/cancel/$",
        "drawdown-requests/{request_a}/cancel/",
        POST_ONLY_ALL,
        (401, W, 404, W, 403, 403),
    ),
    *api("entitlements/$", "entitlements/", ALL_READ, MANAGER_WRITES),
    *api(f"entitlements/{PK}/$", "entitlements/{agreement_a}/", OWN_A),
    *api(f"entitlements/{PK}/fee/$", "entitlements/{agreement_a}/fee/", POST_ONLY_ALL, (401, 403, 403, W, W, 403)),
    *api("obligations/$", "obligations/", ALL_READ),
    *api(f"obligations/{PK}/$", "obligations/{obligation_a}/", OWN_A),
    *api(f"obligations/{PK}/replenish/$", "obligations/{obligation_a}/replenish/", POST_ONLY_ALL, MANAGER_WRITES),
    *api("disruptions/$", "disruptions/", ALL_READ, MANAGER_WRITES),  # declared disruptions are public
    *api(f"disruptions/{PK}/$", "disruptions/{disruption}/", ALL_READ),
    # coverage: manufacturers read what concerns the materials they are entitled to
    *api("forecasts/$", "forecasts/", ALL_READ, MANAGER_WRITES),
    *api("forecast-versions/$", "forecast-versions/", STAFF_READ),
    *api(f"forecast-versions/{PK}/$", "forecast-versions/{forecast_version}/", STAFF_READ),
    *api("inbound/$", "inbound/", STAFF_READ, MANAGER_WRITES),
    *api(f"inbound/{PK}/$", "inbound/{inbound}/", STAFF_READ, MANAGER_WRITES),
    *api("coverage/$", "coverage/", ALL_READ),
    *api("coverage/check/$", "coverage/check/", POST_ONLY_ALL, MANAGER_WRITES),
    # A what-if computation: every staff role may ask, nothing is saved.
    *api("coverage/scenario/$", "coverage/scenario/", POST_ONLY_ALL, (401, 403, 403, QUERY, QUERY, QUERY)),
    *api(f"coverage/{MATERIAL}/$", "coverage/{material_a_only_code}/", OWN_A),
    *api(f"coverage/{MATERIAL}/history/$", "coverage/{material_a_only_code}/history/", OWN_A),
    *api("alerts/$", "alerts/", ALL_READ),
    *api(f"alerts/{PK}/$", "alerts/{alert}/", OWN_A),  # an alert on a material only ORG-A holds
]


def page(route: str, url: str, get: tuple, post: tuple | None = None) -> Row:
    """A page outside the API; `post`, when given, is what a POST must get."""
    return Row(route, url, get, post, POST if post else ())


OTHER_ROWS = [
    # Public under the test settings; behind a login in production (tests/core/test_api_docs_access.py).
    page("api/schema/", "/api/schema/", PUBLIC),
    page("api/docs/", "/api/docs/", PUBLIC),
    page("healthz", "/healthz", PUBLIC),
    page("readyz", "/readyz", PUBLIC),  # probes: no session, no data, names only what is down
    page("metrics", "/metrics", PUBLIC),  # the test client is 127.0.0.1, an allowed network (test_metrics.py)
    page("", "/", (302,) * 6),  # to the admin
    # the manufacturers' portal
    page("portal/login/", "/portal/login/", (200, 302, 302, 302, 302, 302), (200, 302, 302, 302, 302, 302)),
    page("portal/logout/", "/portal/logout/", (405,) * 6, (302,) * 6),
    *(  # password reset by e-mail, open to all: the same answer whatever the address (no mail here)
        Row(f"{area}/", f"/{area}/", PUBLIC, (302,) * 6, POST, {"email": "nobody@nowhere.example"})
        for area in ("portal/password-reset", "admin/password_reset")
    ),
    page("portal/password-reset/sent/", "/portal/password-reset/sent/", PUBLIC),
    page("portal/password-reset/done/", "/portal/password-reset/done/", PUBLIC),
    page("admin/password_reset/done/", "/admin/password_reset/done/", PUBLIC),
    page("admin/reset/done/", "/admin/reset/done/", PUBLIC),
    # A link that is not (or no longer) valid: the same page for everyone, nothing written. A valid
    # link stores its token in the session: tests/accounts/test_password_reset.py follows one.
    page(
        "portal/password-reset/<uidb64>/<token>/",
        "/portal/password-reset/{maker_a_uidb64}/expired-token/",
        PUBLIC,
        (200,) * 6,
    ),
    page("admin/reset/<uidb64>/<token>/", "/admin/reset/{maker_a_uidb64}/expired-token/", PUBLIC, (200,) * 6),
    page("portal/", "/portal/", PORTAL_PAGE),
    page("portal/requests/", "/portal/requests/", PORTAL_PAGE),
    page("portal/requests/new/", "/portal/requests/new/", PORTAL_PAGE, (LOGIN, W, W, 403, 403, 403)),
    page("portal/requests/<int:pk>/", "/portal/requests/{request_a}/", PORTAL_OWN_A),
    page("portal/requests/<int:pk>/cancel/", "/portal/requests/{request_a}/cancel/", (405,) * 6, PORTAL_OWN_A_POST),
    page("portal/requests/<int:pk>/submit/", "/portal/requests/{draft_a}/submit/", (405,) * 6, PORTAL_OWN_A_POST),
    # the admin site
    page("admin/", "/admin/", STAFF_PAGE),
    page("admin/controls/", "/admin/controls/", STAFF_PAGE),
    # two_factor's login wizard: showing its first step writes nothing; posting it (a wrong password
    # here) keeps the wizard's state in the session. Staff with a session go on to the dashboard.
    Row(
        "admin/login/",
        "/admin/login/",
        (200, 200, 200, 302, 302, 302),
        (200,) * 6,
        POST,
        {"admin_login_view-current_step": "auth", "auth-username": "nobody", "auth-password": "wrong-password"},
    ),
    page("admin/logout/", "/admin/logout/", (302, 302, 302, 405, 405, 405), (302, 302, 302, 200, 200, 200)),
    page("admin/password_change/", "/admin/password_change/", STAFF_PAGE, (LOGIN, LOGIN, LOGIN, W, W, W)),
    page("admin/password_change/done/", "/admin/password_change/done/", STAFF_PAGE),
    page("admin/autocomplete/", "/admin/autocomplete/", NOBODY_PAGE),  # no admin declares autocomplete fields
    page("admin/jsi18n/", "/admin/jsi18n/", STAFF_PAGE),
    # The staff's second factor (tests/accounts/test_second_factor.py with it required). Here, off:
    # the staff roles have no authenticator app. Enrolment opens to them (its POST without the
    # wizard's form: 400); its QR code exists only while the enrolment page holds a secret; new
    # backup codes need a session verified by an app (the others go to the second-factor page).
    page("admin/two-factor/", "/admin/two-factor/", STAFF_PAGE),
    page(
        "admin/two-factor/setup/", "/admin/two-factor/setup/", (LOGIN, LOGIN, LOGIN, WIZARD, WIZARD, WIZARD), STAFF_POST
    ),
    page("admin/two-factor/qrcode/", "/admin/two-factor/qrcode/", (LOGIN, LOGIN, LOGIN, 404, 404, 404)),
    page(
        "admin/two-factor/backup-codes/",
        "/admin/two-factor/backup-codes/",
        (LOGIN, LOGIN, LOGIN, 302, 302, 302),
        (LOGIN, LOGIN, LOGIN, 302, 302, 302),
    ),
    page(  # no model has a public page to view on site
        "admin/r/<path:content_type_id>/<path:object_id>/",
        "/admin/r/{org_a_type}/{org_a}/",
        (LOGIN, LOGIN, LOGIN, 404, 404, 404),
    ),
    page("admin/(?P<url>.*)$", "/admin/nowhere/", (LOGIN, LOGIN, LOGIN, 404, 404, 404)),
    # custom admin views: downloads, reports, the review queue, service forms
    page("admin/accounts/user/<id>/password/", "/admin/accounts/user/{maker_a}/password/", NOBODY_PAGE, NOBODY_PAGE),
    page("admin/ledger/journalentry/export.csv", "/admin/ledger/journalentry/export.csv", STAFF_DOWNLOAD_PAGE),
    page("admin/ledger/journalentry/export.xlsx", "/admin/ledger/journalentry/export.xlsx", STAFF_DOWNLOAD_PAGE),
    page("admin/ledger/journalentry/trial-balance/", "/admin/ledger/journalentry/trial-balance/", STAFF_PAGE),
    page(
        "admin/inventory/movement/<int:pk>/reverse/",
        "/admin/inventory/movement/{movement}/reverse/",
        MANAGER_PAGE,
        MANAGER_POST,
    ),
    page(
        "admin/financing/facility/<str:code>/statement/",
        "/admin/financing/facility/{facility_code}/statement/",
        STAFF_PAGE,
    ),
    page(
        "admin/financing/facility/<str:code>/terms/",
        "/admin/financing/facility/{facility_code}/terms/",
        FINANCE_PAGE,
        FINANCE_POST,
    ),
    page(
        "admin/financing/facility/<str:code>/rate/",
        "/admin/financing/facility/{facility_code}/rate/",
        FINANCE_PAGE,
        FINANCE_POST,
    ),
    page(
        "admin/financing/tranche/<int:pk>/disburse/",
        "/admin/financing/tranche/{tranche}/disburse/",
        FINANCE_PAGE,
        FINANCE_POST,
    ),
    page("admin/financing/pricepoint/import/", "/admin/financing/pricepoint/import/", FINANCE_PAGE, FINANCE_POST),
    page("admin/financing/pricepoint/valuation/", "/admin/financing/pricepoint/valuation/", STAFF_PAGE),
    page(
        "admin/coverage/coveragerun/check/",
        "/admin/coverage/coveragerun/check/",
        (LOGIN, LOGIN, LOGIN, 405, 405, 405),
        MANAGER_POST,
    ),
    page(
        "admin/drawdowns/drawdownrequest/<int:pk>/decide/<slug:verb>/",
        "/admin/drawdowns/drawdownrequest/{request_a}/decide/approve/",
        MANAGER_PAGE,
        MANAGER_POST,
    ),
    page(
        "admin/drawdowns/replenishmentobligation/<int:pk>/replenish/",
        "/admin/drawdowns/replenishmentobligation/{obligation_a}/replenish/",
        MANAGER_PAGE,
        MANAGER_POST,
    ),
]

# --- the admin's generated pages, by rule -------------------------------------------------------------

STAFF = frozenset({"manager", "finance", "auditor"})
MANAGER = frozenset({"manager"})
FINANCE = frozenset({"finance"})
NOBODY = frozenset()


@dataclass(frozen=True)
class AdminModel:
    """Who may do what with one model in the admin. `obj` names the object its pages are
    requested with; `act` who may run its actions and decision pages (besides the writers);
    `versioned` when it has django-simple-history's revert page."""

    obj: str
    view: frozenset = STAFF
    add: frozenset = NOBODY
    change: frozenset = NOBODY
    delete: frozenset = NOBODY
    act: frozenset = NOBODY
    versioned: bool = False

    @property
    def writers(self) -> frozenset:
        return self.add | self.change | self.delete | self.act


def owned(obj: str, roles: frozenset, **kwargs) -> AdminModel:
    """A model `roles` add, change and delete freely."""
    return AdminModel(obj, add=roles, change=roles, delete=roles, **kwargs)


ADMIN_MODELS = {
    "auth.group": AdminModel("group"),  # the role groups: roles_sync and superusers only
    # API tokens: staff view (no key is stored, no digest shown); superusers alone delete (revoke).
    "accounts.apitoken": AdminModel("token"),
    "axes.accessattempt": AdminModel("access_attempt"),
    "axes.accesslog": AdminModel("access_log"),
    "axes.accessfailurelog": AdminModel("access_failure"),
    "django_celery_beat.periodictask": owned("periodic_task", MANAGER),
    "django_celery_beat.clockedschedule": owned("clocked", MANAGER),
    "django_celery_beat.crontabschedule": owned("crontab", MANAGER),
    "django_celery_beat.solarschedule": owned("solar", MANAGER),
    "django_celery_beat.intervalschedule": owned("interval", MANAGER),
    "accounts.organization": AdminModel("org_a", versioned=True),  # superusers only
    "accounts.user": AdminModel("maker_a", versioned=True),
    # The second factor: who enrolled, never a secret; nothing added or edited here, and the reset
    # (a delete) is a superuser's. Events are append-only.
    "accounts.secondfactorevent": AdminModel("second_factor_event"),
    "otp_totp.totpdevice": AdminModel("totp_device"),
    "otp_static.staticdevice": AdminModel("static_device"),
    "ledger.journalentry": AdminModel("journal_entry"),  # posted by the services, never edited
    "ledger.account": AdminModel("account"),
    "ledger.downloadrecord": AdminModel("download_record"),  # append-only: written by the downloads
    "ledger.periodclose": AdminModel("period_close", add=FINANCE),  # append-only: a close is an "Add"
    "ledger.reopenrequest": AdminModel("reopen_request", add=FINANCE, act=FINANCE),  # a second user approves
    "ledger.manualentry": AdminModel("manual_entry", add=FINANCE, act=FINANCE),  # a second user posts
    "inventory.material": owned("material", MANAGER, versioned=True),
    "inventory.site": owned("site", MANAGER, versioned=True),
    "inventory.lot": AdminModel("lot", add=MANAGER, change=MANAGER, versioned=True),
    "inventory.movement": AdminModel("movement", add=MANAGER),  # append-only: reversed, never edited
    "inventory.position": AdminModel("position"),
    "financing.facility": AdminModel("facility", add=FINANCE, versioned=True),  # terms: their own page
    "financing.tranche": AdminModel("tranche", add=FINANCE, act=FINANCE, versioned=True),  # a workflow
    "financing.repayment": AdminModel("repayment", add=FINANCE),
    "financing.interestpayment": AdminModel("interest_payment", add=FINANCE),
    "financing.interestaccrual": AdminModel("accrual"),
    "financing.feereceipt": AdminModel("fee", add=FINANCE),
    "financing.pricepoint": AdminModel("price_point", add=FINANCE, delete=FINANCE),
    "drawdowns.drawdownrequest": AdminModel("request_a", act=MANAGER),  # the review queue decides
    "drawdowns.participationagreement": AdminModel("agreement_a", add=MANAGER, act=MANAGER | FINANCE),
    "drawdowns.disruptionevent": AdminModel("disruption", add=MANAGER),
    "drawdowns.replenishmentobligation": AdminModel("obligation_a", act=MANAGER),
    "coverage.forecastversion": AdminModel("forecast_version", add=MANAGER),  # an upload
    "coverage.consumptionforecast": AdminModel("forecast_a"),
    "coverage.inbound": owned("inbound", MANAGER, versioned=True),
    "coverage.coveragerun": AdminModel("run"),
    "coverage.coveragesnapshot": AdminModel("snapshot"),
    "coverage.alert": AdminModel("alert"),
    # Read-only; managers run "Resend" on dead messages (the change page saves nothing).
    "core.outboxmessage": AdminModel("outbox", act=MANAGER),
}


@pytest.fixture
def authz_world(authz_world):
    """The world of tests/hardening/conftest.py, with a dead outbox message for core's admin."""
    now = timezone.now()
    message = OutboxMessage.objects.create(task="vault.drawdowns.tasks.notify_status_changed", sent_at=now, dead_at=now)
    authz_world.objects["outbox"] = message
    authz_world.params["outbox"] = str(message.pk)
    return authz_world


def _page(roles: frozenset) -> tuple:
    return (LOGIN, LOGIN, LOGIN, *(200 if role in roles else 403 for role in ROLES[3:]))


def _post(roles: frozenset) -> tuple:
    return (LOGIN, LOGIN, LOGIN, *(W if role in roles else 403 for role in ROLES[3:]))


def _changelist_post(spec: AdminModel) -> tuple:
    cells = (403 if role not in spec.view else W if role in spec.delete else NOOP for role in ROLES[3:])
    return (LOGIN, LOGIN, LOGIN, *cells)


def admin_rows(label: str, spec: AdminModel) -> list[Row]:
    """The pages Django's admin generates for one model: the changelist (whose POST runs an
    action: delete_selected, confirmed, here), add, change, delete, history, the old change URL
    and, for a versioned model, the revert page."""
    app, model = label.split(".")
    route, url = f"admin/{app}/{model}/", f"/admin/{app}/{model}/"
    obj = url + "{" + spec.obj + "}/"
    readers = spec.view | spec.change
    delete_selected = {"action": "delete_selected", "_selected_action": "{" + spec.obj + "}", "post": "yes"}
    rows = [
        Row(route, url, _page(spec.view), _changelist_post(spec), POST, delete_selected),
        Row(route + "add/", url + "add/", _page(spec.add), _post(spec.add), POST),
        Row(route + "<path:object_id>/change/", obj + "change/", _page(readers), _post(spec.change), POST),
        Row(
            route + "<path:object_id>/delete/",
            obj + "delete/",
            _page(spec.delete),
            _post(spec.delete),
            POST,
            {"post": "yes"},
        ),
        Row(route + "<path:object_id>/history/", obj + "history/", _page(readers)),
        Row(route + "<path:object_id>/", obj, (LOGIN, LOGIN, LOGIN, 302, 302, 302)),  # to the change page
    ]
    if spec.versioned:
        revert = obj + "history/{" + spec.obj + "_history}/"
        rows.append(Row(route + "([^/]+)/history/([^/]+)/$", revert, _page(readers), _post(spec.change), POST))
    return rows


# The app index pages: one pattern naming every app in the admin, in the order of registration.
ADMIN_APPS = "|".join(dict.fromkeys(model._meta.app_label for model in admin.site._registry))

ADMIN_ROWS = [
    Row(f"admin/(?P<app_label>{ADMIN_APPS})/$", "/admin/drawdowns/", STAFF_PAGE),
    *(row for label, spec in ADMIN_MODELS.items() for row in admin_rows(label, spec)),
]

ALL_ROWS = [*API_ROWS, *OTHER_ROWS, *ADMIN_ROWS]
ROWS = {row.route: row for row in ALL_ROWS}


# --- the URL patterns -----------------------------------------------------------------------------


def url_routes(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    """Every URL pattern's full route, joined as Django joins them (`ResolverMatch.route`)."""
    routes = []
    for pattern in (resolver or get_resolver()).url_patterns:
        route = URLResolver._join_route(prefix, str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            routes.extend(url_routes(pattern, route))
        else:
            assert isinstance(pattern, URLPattern)
            routes.append(route)
    return routes


def test_every_url_pattern_has_exactly_one_row():
    """A new URL pattern fails here until the table says who may use it."""
    routes = url_routes()
    assert len(routes) == len(set(routes)), "two URL patterns share a route: the table cannot tell them apart"
    assert len(ROWS) == len(ALL_ROWS), "two rows share a route"
    missing, extra = sorted(set(routes) - set(ROWS)), sorted(set(ROWS) - set(routes))
    assert not missing and not extra, f"patterns without a row: {missing}\nrows without a pattern: {extra}"


def test_every_model_in_the_admin_has_a_rule():
    registered = {model._meta.label_lower for model in admin.site._registry}
    missing, extra = sorted(registered - set(ADMIN_MODELS)), sorted(set(ADMIN_MODELS) - registered)
    assert not missing and not extra, f"models without a rule: {missing}; rules without a model: {extra}"


# --- running the cells ----------------------------------------------------------------------------


def rows_written(table: str | None = None) -> int:
    """Rows inserted, updated or deleted so far (rolled back ones included), in every table or in
    `table`: PostgreSQL's per-transaction table statistics. On SQLite, in every table only:
    SQLite's count of changes on this connection (trigger programs' changes included)."""
    if connection.vendor == "sqlite":
        assert table is None, "SQLite counts the changes of all tables together (see session_mark)"
        connection.ensure_connection()
        return connection.connection.total_changes
    sql = "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables"
    with connection.cursor() as cursor:
        cursor.execute(sql + " WHERE relname = %s" if table else sql, [table] if table else [])
        return cursor.fetchone()[0]


def session_mark():
    """What session_writes_since compares with: the session table's write count (PostgreSQL), or
    its rows (SQLite, which counts changes for all tables together)."""
    if connection.vendor != "sqlite":
        return rows_written("django_session")
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_key, session_data, expire_date FROM django_session")
        return frozenset(cursor.fetchall())


def session_writes_since(mark) -> int:
    """Rows of the session table written since `mark` (on SQLite: the sessions added, removed or
    changed, one write each)."""
    if connection.vendor != "sqlite":
        return rows_written("django_session") - mark
    return len({row[0] for row in session_mark() ^ mark})


@dataclass
class Browser:
    """A role's client (Django's test client logged in with a session, as the admin, the portal
    and the API's SessionAuthentication see it). Every request starts from the session it
    logged in with: a logout, or a message cookie, in an earlier cell never carries over."""

    client: Client
    session: str | None

    def request(self, method: str, url: str, body: dict):
        self.client.cookies.clear()
        if self.session:
            self.client.cookies[settings.SESSION_COOKIE_NAME] = self.session
        if url.startswith("/api/"):
            return self.client.generic(method.upper(), url, json.dumps(body), content_type="application/json")
        if method == "get":
            return self.client.get(url)
        return self.client.post(url, body)


@pytest.fixture
def browsers(authz_world) -> dict[str, Browser]:
    result = {}
    for role, user in authz_world.users.items():
        client = Client(raise_request_exception=False)  # a crash is a 500 cell, not an abort
        if user is not None:
            client.force_login(user)
        cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
        result[role] = Browser(client, cookie.value if cookie else None)
    return result


def run(browser: Browser, method: str, url: str, body: dict) -> tuple[int, str, int | None, int | None]:
    """One request in a savepoint that is rolled back: (status, Location, rows written, of them
    in the session table; None when the request left the transaction unusable)."""
    with transaction.atomic():
        before, session_before = rows_written(), session_mark()
        response = browser.request(method, url, body)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)  # a download is built while it is sent
        unusable = connection.needs_rollback
        written = None if unusable else rows_written() - before
        session_written = None if unusable else session_writes_since(session_before)
        transaction.set_rollback(True)
    return response.status_code, response.get("Location", ""), written, session_written


def check(
    expected, method: str, status: int, location: str, written: int | None, session_written: int | None = 0
) -> bool:
    """Whether a response fits its cell. Never a 5xx; a refusal, a GET, a QUERY, a NOOP and a
    LOGIN write nothing; a WIZARD page writes its session row only."""
    to_login = status == 302 and location.startswith(LOGIN_PAGES)
    nothing_written = written == 0
    if status >= 500:
        return False
    if expected == WIZARD:
        return status == 200 and written is not None and written == session_written
    if expected == W:
        return status in AUTHORIZED and not to_login
    if expected == QUERY:
        return status in (200, 400) and nothing_written
    if expected == LOGIN:
        return to_login and nothing_written
    if expected == NOOP:
        return status in (200, 302) and not to_login and nothing_written
    if expected == DOWNLOAD:
        return status == 200 and written == 1
    if method == "get" or status in REFUSED:
        return status == expected and nothing_written
    return status == expected


def unsafe_methods(row: Row, func) -> tuple:
    """The unsafe methods the URL accepts: from the DRF view, else as the row declares."""
    view = getattr(func, "cls", None)
    if view is None or not issubclass(view, APIView):
        return row.methods
    accepted = getattr(func, "actions", None) or [m for m in view.http_method_names if hasattr(view, m)]
    return tuple(m for m in UNSAFE if m in accepted and m in view.http_method_names)


def test_authorization_matrix(authz_world, browsers, caplog):
    """Every cell of every row; one failure lists every wrong cell."""
    caplog.set_level(logging.ERROR, logger="django.request")  # thousands of expected 4xx
    params = authz_world.params
    wrong, cells = [], 0
    for route, row in ROWS.items():
        url = row.url.format(**params)
        match = resolve(url)
        if match.route != route:
            wrong.append(f"{url} resolves to {match.route!r}, not to its row {route!r}")
            continue
        methods = unsafe_methods(row, match.func)
        if bool(methods) != (row.write is not None):
            wrong.append(f"{route}: the URL accepts {methods or 'no unsafe method'}; the row says {row.write}")
            continue
        body = {key: value.format(**params) for key, value in row.body.items()}
        for method, expected_cells in [("get", row.get), *((m, row.writes.get(m, row.write)) for m in methods)]:
            for role, expected in zip(ROLES, expected_cells, strict=True):
                cells += 1
                status, location, written, session_written = run(browsers[role], method, url, body)
                if not check(expected, method, status, location, written, session_written):
                    got = f"{status} {location}".strip() + (f", {written} rows written" if written else "")
                    wrong.append(f"{method.upper()} {url} as {role}: expected {expected}, got {got}")
    assert cells > 3000
    assert not wrong, f"{len(wrong)} wrong cells of {cells}:\n" + "\n".join(wrong)


# --- the second factor required: nothing before it, everything as the table says after it ---------

# Admin URLs open to a staff session that has passed the password only: the login itself, the
# logout, the password reset, and enrolment with its QR code.
BEFORE_SECOND_FACTOR = {
    "admin/login/",
    "admin/logout/",
    "admin/password_reset/",
    "admin/password_reset/done/",
    "admin/reset/<uidb64>/<token>/",
    "admin/reset/done/",
    "admin/two-factor/setup/",
    "admin/two-factor/qrcode/",
}
# With an app and a verified session: enrolment sends to the second-factor page, which now opens
# new backup codes.
VERIFIED_CELLS = {"admin/two-factor/setup/": 302, "admin/two-factor/backup-codes/": 200}


def test_with_the_second_factor_required(authz_world, browsers, settings, caplog):
    """VAULT_STAFF_OTP_REQUIRED on. The staff roles' sessions as the table logs them in (a
    password, no code) open no admin page: every admin URL but the few open before the second
    factor sends them to the login page, and the API answers them as it answers anonymous
    callers. The same sessions, once verified by an authenticator app, get every GET cell of the
    table (enrolment's two aside)."""
    caplog.set_level(logging.ERROR, logger="django.request")
    settings.VAULT_STAFF_OTP_REQUIRED = True
    params, wrong, cells = authz_world.params, [], 0

    def sweep(expected_for):
        nonlocal cells
        for route, row in ROWS.items():
            url = row.url.format(**params)
            for role in sorted(STAFF):
                expected = expected_for(route, row, ROLES.index(role))
                if expected is None:
                    continue
                cells += 1
                status, location, written, session_written = run(browsers[role], "get", url, {})
                if not check(expected, "get", status, location, written, session_written):
                    got = f"{status} {location}".strip()
                    wrong.append(
                        f"GET {url} as {role} ({settings.VAULT_STAFF_OTP_REQUIRED=}): expected {expected}, got {got}"
                    )

    def password_only(route, row, column):
        if route.startswith("admin/") and route not in BEFORE_SECOND_FACTOR:
            return LOGIN
        if route.startswith("api/v1/"):
            return row.get[0]  # the anonymous column
        return None  # the portal and the probes: as the table says, checked below

    sweep(password_only)
    for role in STAFF:
        device = TOTPDevice.objects.create(user=authz_world.users[role], name="default", confirmed=True)
        session = SessionStore(session_key=browsers[role].session)
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    sweep(lambda route, row, column: VERIFIED_CELLS.get(route, row.get[column]))
    assert cells > 1500
    assert not wrong, f"{len(wrong)} wrong cells of {cells}:\n" + "\n".join(wrong)


# --- object level: ORG-B never sees nor changes ORG-A's rows ----------------------------------------

ORG_LISTS = [
    "/api/v1/drawdown-requests/",
    "/api/v1/drawdown-requests/?organization=ORG-A",
    "/api/v1/drawdown-requests/?status=draft&status=submitted&status=fulfilled",
    "/api/v1/drawdown-requests/?material=NDPR-OX&ordering=-quantity&page_size=1000",
    "/api/v1/entitlements/",
    "/api/v1/entitlements/?organization=ORG-A",
    "/api/v1/entitlements/?material=NDPR-OX&active=true",
    "/api/v1/obligations/",
    "/api/v1/obligations/?organization=ORG-A&status=open",
    "/api/v1/forecasts/",
    "/api/v1/forecasts/?organization=ORG-A",
    "/api/v1/forecasts/?material=NDPR-OX&include_superseded=true",
    "/api/v1/coverage/",
    "/api/v1/coverage/?material=DY-OX",
    "/api/v1/alerts/",
    "/api/v1/alerts/?material=DY-OX&open=true",
]


def mentions_org_a(content: bytes) -> bool:
    """ORG-A's rows name their organization; DY-OX is a material only ORG-A is entitled to."""
    return b"ORG-A" in content or b"DY-OX" in content


def test_lists_and_filters_never_show_org_b_a_row_of_org_a(authz_world, api):
    """Each list, whatever its filters, shows maker_b none of ORG-A's rows, while the manager
    and maker_a see them in the same list (so there is something to hide)."""
    users = authz_world.users
    for url in ORG_LISTS:
        for role, shown in (("manager", True), ("maker_a", True), ("maker_b", False)):
            response = api(users[role]).get(url)
            assert response.status_code == 200, (url, role)
            assert mentions_org_a(response.content) == shown, (url, role, response.json())


def snapshot() -> dict:
    """Every row a manufacturer's action could change."""
    return {
        "requests": list(DrawdownRequest.objects.order_by("pk").values()),
        "transitions": DrawdownTransition.objects.count(),
        "reservations": list(Reservation.objects.order_by("pk").values()),
        "agreements": list(ParticipationAgreement.objects.order_by("pk").values()),
        "obligations": list(ReplenishmentObligation.objects.order_by("pk").values()),
    }


def test_org_b_cannot_read_or_change_org_a_objects(authz_world, browsers, caplog):
    """Reads and actions on ORG-A's request, draft, entitlement and obligation are 404 for
    maker_b (as if they did not exist) and write nothing, in the API and in the portal."""
    caplog.set_level(logging.ERROR, logger="django.request")
    p = authz_world.params
    maker_b = browsers["maker_b"]
    before, written_before = snapshot(), rows_written()
    not_found = [
        ("get", "/api/v1/drawdown-requests/{request_a}/"),
        ("get", "/api/v1/drawdown-requests/{draft_a}/"),
        ("get", "/api/v1/entitlements/{agreement_a}/"),
        ("get", "/api/v1/obligations/{obligation_a}/"),
        ("post", "/api/v1/drawdown-requests/{draft_a}/submit/"),
        ("post", "/api/v1/drawdown-requests/{draft_a}/cancel/"),
        ("post", "/api/v1/drawdown-requests/{request_a}/cancel/"),
        ("get", "/portal/requests/{request_a}/"),
        ("get", "/portal/requests/{draft_a}/"),
        ("post", "/portal/requests/{draft_a}/submit/"),
        ("post", "/portal/requests/{request_a}/cancel/"),
    ]
    for method, url in not_found:
        response = maker_b.request(method, url.format(**p), {"comment": "mine now"})
        assert response.status_code == 404, (method, url, response.status_code)
    for verb in ("approve", "reject", "fulfil"):  # a manager's decisions: refused before any lookup
        response = maker_b.request("post", f"/api/v1/drawdown-requests/{p['request_a']}/{verb}/", {})
        assert response.status_code == 403
    assert rows_written() == written_before
    assert snapshot() == before


def test_a_token_gets_what_the_session_gets(authz_world):
    """The API also takes `Authorization: Token KEY` (the matrix logs in with sessions): the
    same narrowing applies, and a wrong key is a 401, as no credentials are."""
    p = authz_world.params
    maker_b = APIClient()
    maker_b.credentials(HTTP_AUTHORIZATION=f"Token {api_token(authz_world.users['maker_b'])}")
    assert maker_b.get(f"/api/v1/drawdown-requests/{p['request_a']}/").status_code == 404
    listed = maker_b.get("/api/v1/drawdown-requests/?organization=ORG-A")
    assert listed.status_code == 200 and listed.json()["results"] == []
    assert maker_b.get("/api/v1/lots/").status_code == 403
    for key in ("0" * 40, "0" * 64):  # an old DRF key's shape, a knox key's
        forged = APIClient()
        forged.credentials(HTTP_AUTHORIZATION="Token " + key)
        assert forged.get("/api/v1/drawdown-requests/").status_code == 401


def test_org_b_cannot_create_a_request_for_org_a(authz_world, api):
    """The organization of a new request is the user's: a body naming ORG-A is ignored."""
    body = {"material": "NDPR-OX", "quantity": "5", "needed_by": "2030-01-01", "organization": "ORG-A"}
    response = api(authz_world.users["maker_b"]).post("/api/v1/drawdown-requests/", body, format="json")
    assert response.status_code == 201, response.json()
    assert DrawdownRequest.objects.get(pk=response.json()["id"]).organization.code == "ORG-B"
    refused = {**body, "material": "DY-OX"}  # ORG-A's entitlement is not ORG-B's
    response = api(authz_world.users["maker_b"]).post("/api/v1/drawdown-requests/", refused, format="json")
    assert response.status_code == 400


def test_portal_pages_and_downloads_show_org_b_nothing_of_org_a(authz_world, browsers, caplog):
    """maker_b's portal pages, whatever the status filter, name none of ORG-A's requests; no
    download (journal, facility statement; API or admin) is served to a manufacturer."""
    caplog.set_level(logging.ERROR, logger="django.request")
    p, objects = authz_world.params, authz_world.objects
    org_a_requests = [objects[name].pk for name in ("request_a", "draft_a")] + [objects["obligation_a"].request_id]
    org_b_requests = [objects["request_b"].pk, objects["obligation_b"].request_id]
    for url in ("/portal/", "/portal/requests/", "/portal/requests/new/"):
        for status in ("", "draft", "submitted", "fulfilled"):
            response = browsers["maker_b"].request("get", f"{url}?status={status}", {})
            assert response.status_code == 200
            page = response.content.decode()
            for pk in org_a_requests:
                assert f"/portal/requests/{pk}/" not in page and f"DR-{pk}<" not in page, (url, status, pk)
            assert "ORG-A" not in page and "Org A Motors" not in page
    own = browsers["maker_b"].request("get", "/portal/requests/", {}).content.decode()
    assert all(f"/portal/requests/{pk}/" in own for pk in org_b_requests)  # the page does list rows
    downloads = [
        "/api/v1/ledger/export.csv",
        "/api/v1/ledger/export.xlsx",
        "/api/v1/facilities/{facility_code}/statement.csv",
        "/api/v1/facilities/{facility_code}/statement.xlsx",
        "/admin/ledger/journalentry/export.csv",
        "/admin/ledger/journalentry/export.xlsx",
        "/admin/financing/facility/{facility_code}/statement/?download=csv",
    ]
    for url in downloads:
        for role in ("maker_a", "maker_b"):
            response = browsers[role].request("get", url.format(**p), {})
            assert response.status_code in (302, 403), (url, role)
            assert not getattr(response, "streaming", False) and b"ORG-A" not in response.content


# --- the admin: actions, the revert page, credentials ---------------------------------------------


def test_admin_actions_are_ignored_for_roles_that_may_not_run_them(authz_world, browsers, caplog):
    """Every declared action of every model in the admin (the bulk decisions, the workflow,
    django-celery-beat's run/enable/disable), posted by a staff role that may not write the
    model, runs nothing and writes nothing."""
    caplog.set_level(logging.ERROR, logger="django.request")
    wrong, tried = [], 0
    for model, model_admin in admin.site._registry.items():
        spec = ADMIN_MODELS[model._meta.label_lower]
        names = [getattr(a, "__name__", a) for a in model_admin.actions or ()]
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        pk = str(authz_world.objects[spec.obj].pk)
        for name in names:
            for role in sorted(STAFF - spec.writers):
                tried += 1
                body = {"action": name, "_selected_action": pk, "post": "yes"}
                status, location, written, _ = run(browsers[role], "post", url, body)
                expected = NOOP if role in spec.view else 403
                if not check(expected, "post", status, location, written):
                    wrong.append(f"{name} on {url} as {role}: {status} {location}, {written} rows written")
    assert tried > 10
    assert not wrong, "\n".join(wrong)


def test_an_auditor_cannot_grant_itself_more_through_the_admin(authz_world, browsers, caplog):
    """Neither the change page nor django-simple-history's revert page saves an auditor's own
    user (it would make itself a superuser), and no staff role sees an API token's key or digest
    (the list names tokens by their key's first characters), nor deletes one."""
    caplog.set_level(logging.ERROR, logger="django.request")
    auditor = authz_world.users["auditor"]
    version = auditor.history.order_by("-history_id").first().history_id
    body = {
        "username": auditor.username,
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "role": "manager",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    for url in (f"/admin/accounts/user/{auditor.pk}/history/{version}/", f"/admin/accounts/user/{auditor.pk}/change/"):
        assert browsers["auditor"].request("post", url, body).status_code == 403
    auditor.refresh_from_db()
    assert (auditor.is_superuser, auditor.role) == (False, "auditor")
    key = api_token(authz_world.users["maker_b"])
    token = authz_world.objects["token"]
    for role in STAFF:
        response = browsers[role].request("get", "/admin/accounts/apitoken/", {})
        assert response.status_code == 200 and token.token_key.encode() in response.content
        assert key.encode() not in response.content and key[:15].encode() in response.content
        shown = re.sub(rb"<[^>]*>", b" ", response.content)  # the digest is the rows' address, not their text
        assert token.digest.encode() not in shown
