"""Demo drawdowns: entitlements for the two demo manufacturers, a gallium disruption, and
requests in every state (draft, submitted, awaiting a second approval, approved in part,
fulfilled, replenished, rejected, cancelled), all made through the services; the approvals above
the second-approval limits (5,000 kg or USD 350,000 by default) take two managers: the demo's
`manager` gave the first approval of DEMO-DR-9, `manager2` (made here) can give the second.
Figures are invented for the demo. Idempotent: the requests carry a DEMO- reference and are only
made when none exists."""

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from vault.accounts.demo import DEMO_PASSWORD, demo_manager
from vault.accounts.models import Organization, User
from vault.accounts.roles import Role
from vault.accounts.services import user_upsert
from vault.drawdowns import services
from vault.drawdowns.models import DisruptionEvent, DrawdownRequest, ParticipationAgreement
from vault.inventory.models import Material, Site

LABEL = "drawdowns demo data"

# organization, material, kg, USD/kg locked, replenishment days, premium %, upfront fee USD
AGREEMENTS = [
    ("ACME-MOTORS", "NDPR-OX", "20000", "85.00", 180, "3.5", "250000.00"),
    ("ACME-MOTORS", "DY-OX", "1500", "450.00", 120, "2.5", "90000.00"),
    ("ACME-MOTORS", "GA", "800", "600.00", 90, "2.3", "40000.00"),
    ("AEROFORGE", "TB-OX", "400", "1500.00", 120, "4.0", "120000.00"),
    ("AEROFORGE", "GA", "1500", "620.00", 90, "2.3", "60000.00"),
    ("AEROFORGE", "DY-OX", "600", "460.00", 120, "3.0", "45000.00"),
]
MARKER = "DEMO-"
SECOND_MANAGER = "manager2"


def second_manager() -> User:
    """The demo's second stockpile manager, who gives the second approvals (made once)."""
    found = User.objects.filter(username=SECOND_MANAGER).first()
    if found is not None:
        return found
    return user_upsert(
        username=SECOND_MANAGER,
        role=Role.MANAGER,
        org_code="VAULT",
        password=DEMO_PASSWORD,
        email=f"{SECOND_MANAGER}@vault.example",
    )


def _agreements(by: User) -> None:
    for org, material, kg, price, days, premium, fee in AGREEMENTS:
        organization = Organization.objects.get(code=org)
        material_obj = Material.objects.get(code=material)
        if ParticipationAgreement.objects.filter(
            organization=organization, material=material_obj, active=True
        ).exists():
            continue
        services.agreement_create(
            by=by,
            organization=organization,
            material=material_obj,
            quantity=Decimal(kg),
            locked_price=Decimal(price),
            replenishment_days=days,
            premium_pct=Decimal(premium),
            upfront_fee=Decimal(fee),
            reference=f"{MARKER}{org}-{material}",
        )


def _disruption(by: User, today: date) -> None:
    if DisruptionEvent.objects.filter(reference=f"{MARKER}GA").exists():
        return
    services.disruption_declare(
        by=by,
        materials=[Material.objects.get(code="GA")],
        starts_on=today - timedelta(days=14),
        ends_on=today + timedelta(days=76),
        reason="Demo: export licences for gallium suspended by the main supplier country.",
        reference=f"{MARKER}GA",
    )


def _requests(by: User, today: date) -> None:
    if DrawdownRequest.objects.filter(reference__startswith=MARKER).exists():
        return
    acme = User.objects.get(username="acme")
    aero = User.objects.get(username="aeroforge")
    material = {m.code: m for m in Material.objects.filter(code__in=["NDPR-OX", "DY-OX", "TB-OX", "GA"])}

    def make(n, user, code, kg, *, priority="routine", needed=30, replenish=60, why="", submit=True):
        return services.drawdown_create(
            by=user,
            material=material[code],
            quantity=Decimal(kg),
            needed_by=today + timedelta(days=needed),
            priority=priority,
            justification=why,
            replenish_by=today + timedelta(days=replenish) if replenish else None,
            submit=submit,
            reference=f"{MARKER}DR-{n}",
        )

    make(1, acme, "NDPR-OX", "2500", why="Q3 motor line ramp-up; supplier allocation cut.", submit=False)
    make(2, acme, "DY-OX", "200", needed=21, replenish=100, why="High-temperature magnet grade for traction motors.")
    make(
        3,
        aero,
        "TB-OX",
        "30",
        priority="defense-rated",
        needed=10,
        replenish=90,
        why="DPAS DO-A3 rated actuator order.",
    )
    partial = make(4, aero, "GA", "600", priority="disruption", replenish=None, why="Radar GaN wafers; export halt.")
    services.drawdown_approve(
        request=partial, by=by, quantity=Decimal("450"), comment="Approved in part: shared GA stock."
    )
    fulfilled = make(5, aero, "TB-OX", "50", priority="defense-rated", needed=7, replenish=100, why="Rated order.")
    services.drawdown_approve(request=fulfilled, by=by)
    services.drawdown_fulfil(request=fulfilled, by=by, comment="Shipped from DLA Hammond.")
    replenished = make(6, acme, "NDPR-OX", "1200", needed=14, replenish=150, why="Bridge until new contract starts.")
    services.drawdown_approve(request=replenished, by=by)
    obligation = services.drawdown_fulfil(request=replenished, by=by)
    services.obligation_replenish(
        obligation=obligation,
        by=by,
        quantity=obligation.quantity_due,
        site=Site.objects.get(code="DLA-HAMMOND"),
        mining_country="US",
        processing_country="US",
        supplier="Acme Motors (replenishment in kind)",
        comment="Replenished in full with premium.",
    )
    rejected = make(7, acme, "GA", "300", priority="disruption", replenish=None, why="Sensor line.")
    services.drawdown_reject(request=rejected, by=by, comment="Defense-rated GA needs come first this month.")
    cancelled = make(8, aero, "DY-OX", "100", needed=40, replenish=110, why="Prototype run.")
    services.drawdown_cancel(request=cancelled, by=aero, comment="Prototype postponed.")
    large = make(9, acme, "NDPR-OX", "4500", needed=45, replenish=170, why="New motor plant; first quarter's needs.")
    # 382,500 USD at the locked 85 USD/kg: above the value limit, a first approval only.
    services.drawdown_approve(request=large, by=by, comment="Looks right; a second manager to confirm.")


def seed(*, by: User | None = None) -> None:
    by = by or demo_manager()
    today = timezone.localdate()
    _agreements(by)
    _disruption(by, today)
    second_manager()
    _requests(by, today)
    fee = ParticipationAgreement.objects.filter(reference=f"{MARKER}ACME-MOTORS-NDPR-OX", fee_received_at__isnull=True)
    for agreement in fee:
        services.agreement_fee_receive(agreement=agreement, by=by)


def summary() -> list[str]:
    """The second manager's login, who gives the second approvals."""
    return [
        f"Second approvals of large drawdowns (DEMO-DR-9 awaits one): log in as {SECOND_MANAGER} "
        f"(manager, password {DEMO_PASSWORD})."
    ]
