"""Data for the authorization matrix: two participant organizations (ORG-A and ORG-B), one user
per role, and a real object behind every path parameter of the project's URLs. Objects that
belong to an organization belong to ORG-A unless their name says `_b`."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import LotFactory, MaterialFactory, UserFactory
from tests.financing.factories import disbursed_tranche, make_facility
from vault.accounts.models import ApiToken
from vault.accounts.services import backup_codes_regenerate, roles_sync, second_factor_code_refused, token_create
from vault.coverage import services as coverage
from vault.coverage.models import Alert, CoverageSnapshot
from vault.drawdowns import services as drawdowns
from vault.financing import services as financing
from vault.financing.models import FeeReceipt
from vault.inventory.models import Position
from vault.ledger import services as ledger
from vault.ledger.models import Account, JournalEntry
from vault.ledger.services import download_record

D = Decimal
ROLES = ("anonymous", "maker_a", "maker_b", "manager", "finance", "auditor")


@dataclass
class AuthzWorld:
    """`users[role]` is the user of each role column (None for anonymous); `objects[name]` the
    object behind the URL placeholder `{name}` (its primary key), `params` every placeholder's
    value: also `{name_code}` for objects the API addresses by code and `{name_history}` for
    the latest historical record of a versioned object."""

    users: dict
    objects: dict
    params: dict[str, str] = field(default_factory=dict)


def _history_id(obj) -> int:
    return obj.history.order_by("-history_id").first().history_id


@pytest.fixture
def authz_world(org_a, org_b, maker_a, maker_b, manager, finance, auditor, material, site, lot):
    """NDPR-OX: both organizations hold an entitlement; DY-OX: only ORG-A does, and it is in
    breach (a coverage alert). ORG-A has a submitted request and a fulfilled one (with its
    open obligation); ORG-B has the same. Forecast rows exist for ORG-A, ORG-B and the total."""
    roles_sync()  # the role groups' admin permissions, as after migrate
    today = timezone.localdate()
    dy = MaterialFactory(code="DY-OX", name="Dysprosium oxide", coverage_target_days=90)
    LotFactory(material=dy, site=site, initial_quantity="100", by=manager, mining_country="CN")

    def entitle(organization, mat, quantity, fee="0"):
        return drawdowns.agreement_create(
            by=manager,
            organization=organization,
            material=mat,
            quantity=D(quantity),
            locked_price=D("80"),
            replenishment_days=90,
            premium_pct=D("5"),
            upfront_fee=D(fee),
        )

    agreement_a = entitle(org_a, material, "500", fee="1000")
    entitle(org_a, dy, "50")
    agreement_b = entitle(org_b, material, "300")

    def request(user, quantity):
        return drawdowns.drawdown_create(
            by=user,
            material=material,
            quantity=D(quantity),
            needed_by=today + timedelta(days=10),
            replenish_by=today + timedelta(days=60),
            submit=True,
        )

    def fulfilled(user, quantity):
        drawn = drawdowns.drawdown_approve(request=request(user, quantity), by=manager)
        return drawdowns.drawdown_fulfil(request=drawn, by=manager)

    request_a, request_b = request(maker_a, "100"), request(maker_b, "30")
    draft_a = drawdowns.drawdown_create(
        by=maker_a,
        material=material,
        quantity=D("10"),
        needed_by=today + timedelta(days=10),
        replenish_by=today + timedelta(days=60),
        submit=False,
    )
    obligation_a, obligation_b = fulfilled(maker_a, "50"), fulfilled(maker_b, "20")
    drawdowns.agreement_fee_receive(agreement=agreement_a, by=finance)
    disruption = drawdowns.disruption_declare(
        by=manager, materials=[material], starts_on=today, ends_on=today + timedelta(days=30), reason="Export ban"
    )

    facility = make_facility(by=finance, code="LOAN-T")
    disbursed_tranche(facility=facility, amount="1000000.00", on=date(2026, 3, 2), by=finance)
    tranche = financing.tranche_plan(
        facility=facility, amount=D("5000.00"), expected_date=today + timedelta(days=30), by=finance
    )
    accruals = financing.interest_accrue(facility=facility, through=date(2026, 3, 9))
    repayment = financing.repayment_create(facility=facility, amount=D("1000.00"), date=date(2026, 3, 10), by=finance)
    interest_payment = financing.interest_pay(facility=facility, amount=D("10.00"), date=date(2026, 3, 10), by=finance)
    price_point = financing.price_point_create(
        material=material, date=today, usd_per_kg=D("60"), source="Fastmarkets", by=finance
    )

    month = today.replace(day=1)
    version = coverage.forecast_upload(
        rows=[
            coverage.ForecastRow(material_id=material.pk, organization_id=org_a.pk, month=month, quantity=D("300")),
            coverage.ForecastRow(material_id=material.pk, organization_id=org_b.pk, month=month, quantity=D("200")),
            coverage.ForecastRow(material_id=material.pk, organization_id=None, month=month, quantity=D("100")),
            coverage.ForecastRow(material_id=dy.pk, organization_id=org_a.pk, month=month, quantity=D("900")),
        ],
        by=manager,
        source="test",
    )
    inbound = coverage.inbound_create(
        by=manager, material=material, quantity=D("100"), expected_date=today + timedelta(days=20)
    )
    run = coverage.coverage_check()

    # A staff user of no role column with an authenticator app and backup codes.
    enrolled = UserFactory(username="enrolled", role="finance")
    totp_device = TOTPDevice.objects.create(user=enrolled, name="default", confirmed=True)
    backup_codes_regenerate(user=enrolled)

    # The ledger's controls: a closed period, a reopening and a manual entry waiting for a second user.
    period_close = ledger.period_close(through=date(2026, 2, 27), by=finance)
    reopen_request = ledger.period_reopen_request(through=date(2026, 1, 30), reason="restatement", by=enrolled)
    manual_entry = ledger.manual_entry_propose(
        date=today,
        memo="bank charge",
        lines=[ledger.Line("5000", debit=D("1.00")), ledger.Line("1000", credit=D("1.00"))],
        by=enrolled,
    )

    interval = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.DAYS)
    access = {"user_agent": "pytest", "ip_address": "127.0.0.1", "username": "maker_a", "http_accept": "*/*"}
    objects = {
        "org_a": org_a,
        "maker_a": maker_a,
        "material": material,
        "material_a_only": dy,
        "site": site,
        "lot": lot,
        "movement": lot.movements.order_by("id").first(),
        "position": Position.objects.get(material=material, site=site),
        "journal_entry": JournalEntry.objects.order_by("id").first(),
        "account": Account.objects.get(code="1300"),
        "facility": facility,
        "tranche": tranche,
        "repayment": repayment,
        "interest_payment": interest_payment,
        "accrual": accruals[0],
        "fee": FeeReceipt.objects.get(organization=org_a),
        "price_point": price_point,
        "request_a": request_a,
        "request_b": request_b,
        "draft_a": draft_a,
        "agreement_a": agreement_a,
        "agreement_b": agreement_b,
        "obligation_a": obligation_a,
        "obligation_b": obligation_b,
        "disruption": disruption,
        "forecast_version": version,
        "forecast_a": version.rows.get(material=material, organization=org_a),
        "inbound": inbound,
        "run": run,
        "snapshot": CoverageSnapshot.objects.get(run=run, material=dy),
        "alert": Alert.objects.get(material=dy),
        "group": Group.objects.get(name="manager"),
        "token": ApiToken.objects.get(pk=token_create(user=maker_a).token.pk),
        "interval": interval,
        "crontab": CrontabSchedule.objects.create(),
        "solar": SolarSchedule.objects.create(event="sunrise", latitude=D("38.9"), longitude=D("-77.0")),
        "clocked": ClockedSchedule.objects.create(clocked_time=timezone.now()),
        "periodic_task": PeriodicTask.objects.create(
            name="coverage", task="vault.coverage.tasks.coverage_check_all", interval=interval
        ),
        "access_attempt": AccessAttempt.objects.create(**access, failures_since_start=1),
        "access_log": AccessLog.objects.create(**access),
        "access_failure": AccessFailureLog.objects.create(**access),
        "period_close": period_close,
        "reopen_request": reopen_request,
        "manual_entry": manual_entry,
        "download_record": download_record(by=auditor, what="journal", query={}, format="csv", via="api"),
        "totp_device": totp_device,
        "static_device": StaticDevice.objects.get(user=enrolled),
        "second_factor_event": second_factor_code_refused(user=enrolled, ip="127.0.0.1"),
    }
    params = {name: str(obj.pk) for name, obj in objects.items()}
    params.update(
        material_code=material.code,
        material_a_only_code=dy.code,
        site_code=site.code,
        facility_code=facility.code,
        account_code="1300",
        maker_a_uidb64=urlsafe_base64_encode(force_bytes(maker_a.pk)),  # a password reset link's user
        org_a_type=str(ContentType.objects.get_for_model(org_a).pk),
    )
    for name in ("org_a", "maker_a", "material", "site", "lot", "facility", "tranche", "inbound"):
        params[f"{name}_history"] = str(_history_id(objects[name]))
    users = dict(zip(ROLES, (None, maker_a, maker_b, manager, finance, auditor), strict=True))
    return AuthzWorld(users=users, objects=objects, params=params)
