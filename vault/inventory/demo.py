"""Demo holdings: the materials of the domain brief, four depots and lots with realistic
origins and costs. Quantities and costs are invented for the demo and labelled as such."""

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from vault.accounts.demo import demo_manager
from vault.accounts.models import User
from vault.inventory.models import Lot, Material, Site
from vault.inventory.services import lot_create

LABEL = "materials, depots and lots"

MATERIALS = [
    # code, name, form, grade, target days, price floor
    ("NDPR-OX", "NdPr oxide (Nd:Pr 75:25)", "oxide", "99%", 60, Decimal("110")),
    ("ND-OX", "Neodymium oxide", "oxide", "99.5%", 60, None),
    ("PR-OX", "Praseodymium oxide", "oxide", "99.5%", 60, None),
    ("DY-OX", "Dysprosium oxide", "oxide", "99.5%", 90, None),
    ("TB-OX", "Terbium oxide", "oxide", "99.99%", 90, None),
    ("DY-MET", "Dysprosium metal", "metal", "99%", 90, None),
    ("NDFEB", "NdFeB magnet block", "magnet", "N52", 60, None),
    ("GA", "Gallium", "metal", "99.99%", 100, None),
    ("GE", "Germanium", "metal", "99.999%", 100, None),
    ("SB", "Antimony", "metal", "99.65%", 60, None),
    ("CO", "Cobalt", "metal", "99.8%", 60, None),
    ("LI2CO3", "Lithium carbonate", "carbonate", "battery grade 99.5%", 60, None),
    ("GRAPH", "Graphite (spherical, coated)", "concentrate", "99.95% C", 60, None),
]

SITES = [
    ("DLA-HAMMOND", "DLA Strategic Materials depot, Hammond IN", "US", "Defense Logistics Agency", Decimal("5000000")),
    ("HOU-BONDED", "Houston bonded warehouse", "US", "Traxys North America", Decimal("3000000")),
    ("BALT-PORT", "Port of Baltimore secure storage", "US", "Hartree Partners", Decimal("2000000")),
    ("ROTT-FTZ", "Rotterdam free-trade-zone vault", "NL", "Mercuria", Decimal("1500000")),
]

# material, site, kg, USD/kg, mining country, processing country, supplier
LOTS = [
    ("NDPR-OX", "DLA-HAMMOND", "180000", "72.50", "US", "US", "MP Materials"),
    ("NDPR-OX", "HOU-BONDED", "120000", "68.00", "AU", "MY", "Lynas Rare Earths"),
    ("NDPR-OX", "BALT-PORT", "60000", "74.20", "CN", "CN", "Trading house spot purchase"),
    ("ND-OX", "DLA-HAMMOND", "90000", "57.00", "AU", "MY", "Lynas Rare Earths"),
    ("PR-OX", "HOU-BONDED", "45000", "70.00", "US", "EE", "Neo Performance Materials"),
    ("DY-OX", "DLA-HAMMOND", "8000", "320.00", "AU", "MY", "Lynas Rare Earths"),
    ("DY-OX", "ROTT-FTZ", "3000", "410.00", "MM", "CN", "Trading house spot purchase"),
    ("TB-OX", "DLA-HAMMOND", "2500", "1150.00", "AU", "MY", "Lynas Rare Earths"),
    ("DY-MET", "BALT-PORT", "1500", "520.00", "VN", "VN", "Vietnam Rare Earth JSC"),
    ("NDFEB", "HOU-BONDED", "150000", "95.00", "US", "US", "USA Rare Earth"),
    ("GA", "BALT-PORT", "12000", "540.00", "CN", "CN", "Trading house spot purchase"),
    ("GA", "ROTT-FTZ", "6000", "610.00", "JP", "JP", "Dowa Metals"),
    ("GE", "BALT-PORT", "9000", "1900.00", "CA", "BE", "Umicore"),
    ("SB", "HOU-BONDED", "250000", "40.00", "TJ", "CN", "Trading house spot purchase"),
    ("CO", "ROTT-FTZ", "200000", "33.00", "CD", "FI", "Umicore"),
    ("LI2CO3", "DLA-HAMMOND", "400000", "11.50", "CL", "CL", "SQM"),
    ("GRAPH", "HOU-BONDED", "500000", "6.20", "MZ", "US", "Syrah Technologies"),
]


def seed(*, by: User | None = None) -> None:
    by = by or demo_manager()
    for code, name, form, grade, target, floor in MATERIALS:
        Material.objects.update_or_create(
            code=code,
            defaults={"name": name, "form": form, "grade": grade, "coverage_target_days": target, "price_floor": floor},
        )
    for code, name, country, custodian, capacity in SITES:
        Site.objects.update_or_create(
            code=code, defaults={"name": name, "country": country, "custodian": custodian, "capacity_kg": capacity}
        )
    materials = {m.code: m for m in Material.objects.all()}
    sites = {s.code: s for s in Site.objects.all()}
    # Received a week apart from March to June 2026, each on its own business date (never after
    # today), so that the holdings and the ledger as of 30 June show them.
    start, today = date(2026, 3, 2), timezone.localdate()
    for n, (material, site, kg, cost, mined, processed, supplier) in enumerate(LOTS, start=1):
        lot_number = f"DEMO-{material}-{n:03d}"
        if Lot.objects.filter(lot_number=lot_number).exists():
            continue
        lot_create(
            by=by,
            lot_number=lot_number,
            material=materials[material],
            site=sites[site],
            mining_country=mined,
            processing_country=processed,
            supplier=supplier,
            received_date=min(start + timedelta(days=7 * n), today),
            unit_cost=Decimal(cost),
            assay_certificate=f"ASSAY-2026-{n:04d}",
            initial_quantity=Decimal(kg),
        )
