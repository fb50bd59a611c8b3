"""Coverage check benchmark: 1,000 materials, 24 months of forecasts each, 1,000,000 movements.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vault_bench .venv/bin/python bench/coverage.py

Loads the data once (COPY with psycopg 3; lots, positions and movements consistent with each
other: every lot's on-hand is the last balance of its movements and every position the sum of its
lots), then times the full coverage check. `--reload` wipes the bench rows and loads again.
Prints figures; never asserts a timing. Target: under 5 s on the 2-core machine, with a number of
SQL queries that does not grow with the number of materials.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "false")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from vault.accounts.models import User  # noqa: E402
from vault.coverage import services  # noqa: E402
from vault.coverage.domain import month_start, next_month  # noqa: E402
from vault.coverage.models import ConsumptionForecast, CoverageRun, Inbound  # noqa: E402
from vault.inventory.models import Lot, Material, Movement, Position, Site  # noqa: E402

MATERIALS = 1_000
MONTHS = 24
MOVEMENTS = 1_000_000
SITES = 10
LOTS_PER_MATERIAL = 5
HISTORY_DAYS = 730
TARGET_SECONDS = 5.0
PREFIX = "BENCH-"
COUNTRIES = ["CN", "AU", "US", "MY", "VN", "CA", "CL", "CD", "BR", "ZA"]


def _loaded() -> bool:
    return (
        Material.objects.filter(code__startswith=PREFIX).count() == MATERIALS
        and Movement.objects.filter(material__code__startswith=f"{PREFIX}M").count() >= MOVEMENTS
    )


def _wipe() -> None:
    """Remove the bench rows (movements are append-only: the guard trigger is bypassed here)."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # skip triggers for the wipe
        try:
            materials = "SELECT id FROM inventory_material WHERE code LIKE 'BENCH-%%'"
            for table in (
                "coverage_alert",
                "coverage_coveragesnapshot",
                "coverage_consumptionforecast",
                "coverage_inbound",
                "inventory_movement",
                "inventory_position",
                "inventory_lot",
            ):
                cursor.execute(f"DELETE FROM {table} WHERE material_id IN ({materials})")  # noqa: S608
            cursor.execute("DELETE FROM coverage_coveragerun")
            cursor.execute("DELETE FROM coverage_forecastversion WHERE source = 'bench'")
            cursor.execute("DELETE FROM inventory_site WHERE code LIKE 'BENCH-%%'")
            cursor.execute("DELETE FROM inventory_material WHERE code LIKE 'BENCH-%%'")
        finally:
            cursor.execute("SET session_replication_role = origin")


def _copy(raw, table: str, columns: list[str], rows) -> int:
    count = 0
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def load(seed: int = 2026) -> None:
    rng = random.Random(seed)
    started = time.perf_counter()
    user, _ = User.objects.get_or_create(username="bench", defaults={"role": "manager", "is_staff": True})
    Material.objects.bulk_create(
        [
            Material(
                code=f"{PREFIX}M{n:04d}",
                name=f"Bench material {n}",
                form=Material.Form.OXIDE,
                coverage_target_days=rng.choice([60, 60, 90, 100]),
            )
            for n in range(MATERIALS)
        ]
    )
    Site.objects.bulk_create(
        [Site(code=f"{PREFIX}S{n:02d}", name=f"Bench depot {n}", country="US") for n in range(SITES)]
    )
    materials = list(Material.objects.filter(code__startswith=PREFIX).order_by("id").values_list("id", flat=True))
    sites = list(Site.objects.filter(code__startswith=PREFIX).order_by("id").values_list("id", flat=True))
    now = timezone.now()
    origin = now - timedelta(days=HISTORY_DAYS)
    connection.ensure_connection()
    raw = connection.connection  # the psycopg 3 connection under Django's

    # Lots: ids assigned here so movements can point at them.
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM inventory_lot")
        next_lot = cursor.fetchone()[0] + 1
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM inventory_movement")
        next_movement = cursor.fetchone()[0] + 1
    per_lot = MOVEMENTS // (MATERIALS * LOTS_PER_MATERIAL)
    lots, movements, positions = [], [], {}
    usable_by_material: dict[int, Decimal] = {}
    for material_id in materials:
        for k in range(LOTS_PER_MATERIAL):
            lot_id = next_lot
            next_lot += 1
            site_id = sites[(material_id + k) % SITES]
            status = "quarantine" if rng.random() < 0.04 else "available"
            balance = Decimal(rng.randrange(20_000, 200_000))
            moments = sorted(origin + timedelta(seconds=rng.randrange(HISTORY_DAYS * 86400)) for _ in range(per_lot))
            releases = []
            for i, moment in enumerate(moments):
                if i == 0:
                    kind, quantity = "receipt", balance
                else:
                    roll = rng.random()
                    if roll < 0.75:
                        kind = "release"
                        quantity = -min(balance, Decimal(rng.randrange(1, 400)))
                    elif roll < 0.90:
                        kind, quantity = "receipt", Decimal(rng.randrange(100, 3_000))
                    else:
                        kind = "adjustment"
                        quantity = Decimal(rng.randrange(-50, 50)) or Decimal("1")
                        quantity = max(quantity, -balance)
                    if quantity == 0:
                        kind, quantity = "receipt", Decimal("100")
                reverses = None
                if kind == "release" and releases and rng.random() < 0.01:
                    # Reverse an earlier release (the reversal puts the quantity back).
                    reverses, back = releases.pop(rng.randrange(len(releases)))
                    kind, quantity = "reversal", back
                balance += quantity
                movements.append(
                    (
                        next_movement,
                        kind,
                        lot_id,
                        material_id,
                        site_id,
                        quantity,
                        balance,
                        Decimal("0"),
                        "",
                        "",
                        reverses,
                        moment,
                        user.pk,
                    )
                )
                if kind == "release":
                    releases.append((next_movement, -quantity))
                next_movement += 1
            lots.append(
                (
                    lot_id,
                    f"{PREFIX}L{lot_id}",
                    material_id,
                    site_id,
                    status,
                    rng.choice(COUNTRIES),
                    rng.choice(COUNTRIES),
                    "Bench supplier",
                    origin.date(),
                    Decimal("50.0000"),
                    "",
                    balance,
                    Decimal("0"),
                    now,
                )
            )
            position = positions.setdefault((material_id, site_id), [Decimal("0"), Decimal("0")])
            position[0] += balance
            if status != "available":
                position[1] += balance
            else:
                usable_by_material[material_id] = usable_by_material.get(material_id, Decimal("0")) + balance
    lot_columns = [
        "id",
        "lot_number",
        "material_id",
        "site_id",
        "status",
        "mining_country",
        "processing_country",
        "supplier",
        "received_date",
        "unit_cost",
        "assay_certificate",
        "on_hand",
        "reserved",
        "created_at",
    ]
    movement_columns = [
        "id",
        "kind",
        "lot_id",
        "material_id",
        "site_id",
        "quantity",
        "balance_after",
        "value",
        "reason",
        "reference",
        "reverses_id",
        "created_at",
        "created_by_id",
    ]
    print(f"generated {len(lots):,} lots and {len(movements):,} movements in {time.perf_counter() - started:.1f} s")
    t = time.perf_counter()
    _copy(raw, "inventory_lot", lot_columns, lots)
    _copy(
        raw,
        "inventory_position",
        ["material_id", "site_id", "on_hand", "reserved", "unavailable"],
        ((m, s, on_hand, Decimal("0"), unavailable) for (m, s), (on_hand, unavailable) in positions.items()),
    )
    _copy(raw, "inventory_movement", movement_columns, movements)
    with connection.cursor() as cursor:
        for table in ("inventory_lot", "inventory_movement"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
    print(f"COPY of lots, positions and movements: {time.perf_counter() - t:.1f} s")

    # Forecasts: 24 months from this month, sized so that coverage spreads over breach, warning, ok.
    today = timezone.localdate()
    rows = []
    for material_id in materials:
        days = rng.choice([30, 45, 65, 80, 120, 200, 400, 900])
        daily = usable_by_material.get(material_id, Decimal("1000")) / days
        month = month_start(today)
        for _ in range(MONTHS):
            rows.append(
                services.ForecastRow(
                    material_id=material_id,
                    organization_id=None,
                    month=month,
                    quantity=(daily * Decimal(rng.randrange(26, 35))).quantize(Decimal("0.001")),
                )
            )
            month = next_month(month)
    t = time.perf_counter()
    services.forecast_upload(rows=rows, by=user, source="bench")
    Inbound.objects.bulk_create(
        [
            Inbound(
                material_id=material_id,
                quantity=Decimal(rng.randrange(1_000, 20_000)),
                expected_date=today + timedelta(days=rng.randrange(1, 300)),
                created_by=user,
            )
            for material_id in materials
            for _ in range(2)
        ]
    )
    print(f"forecasts ({len(rows):,} rows) and inbound: {time.perf_counter() - t:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"loaded in {time.perf_counter() - started:.1f} s")


def check_consistency() -> None:
    """Positions equal the sum of their lots; lots equal their last movement balance."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT COUNT(*) FROM inventory_position p
            JOIN (SELECT material_id, site_id, SUM(on_hand) AS on_hand,
                         SUM(CASE WHEN status <> 'available' THEN on_hand ELSE 0 END) AS unavailable
                  FROM inventory_lot GROUP BY material_id, site_id) l
              ON l.material_id = p.material_id AND l.site_id = p.site_id
            WHERE l.on_hand <> p.on_hand OR l.unavailable <> p.unavailable
            """
        )
        bad_positions = cursor.fetchone()[0]
        cursor.execute(
            """
            SELECT COUNT(*) FROM inventory_lot l
            JOIN LATERAL (SELECT balance_after FROM inventory_movement m
                          WHERE m.lot_id = l.id ORDER BY m.id DESC LIMIT 1) last ON true
            WHERE last.balance_after <> l.on_hand AND l.lot_number LIKE 'BENCH-%%'
            """
        )
        bad_lots = cursor.fetchone()[0]
    print(f"consistency: {bad_positions} positions and {bad_lots} lots out of step (0 and 0 expected)")


def bench(runs: int) -> None:
    materials = Material.objects.count()
    movements = Movement.objects.count()
    forecasts = ConsumptionForecast.objects.filter(superseded_by__isnull=True).count()
    print(f"data: {materials:,} materials, {Lot.objects.count():,} lots, {Position.objects.count():,} positions,")
    print(f"      {movements:,} movements, {forecasts:,} current forecast rows, {Inbound.objects.count():,} inbound")
    timings = []
    for n in range(runs):
        t = time.perf_counter()
        run = services.coverage_check(trigger="bench")
        timings.append(time.perf_counter() - t)
        print(f"run {n + 1}: {timings[-1]:.2f} s ({run.material_count:,} snapshots, {run.alerts_opened} alerts opened)")
    with CaptureQueriesContext(connection) as ctx:
        services.coverage_check(trigger="bench")
    queries = len(ctx.captured_queries)
    t = time.perf_counter()
    services.coverage_scenario(demand_change_pct=Decimal("20"), inbound_cut_pct=Decimal("50"))
    scenario = time.perf_counter() - t
    best, median = min(timings), statistics.median(timings)
    print()
    print(f"full coverage check: best {best:.2f} s, median {median:.2f} s over {runs} runs, {queries} SQL queries")
    print(f"ratio to the {TARGET_SECONDS:.0f} s target: {median / TARGET_SECONDS:.2f} (median)")
    print(f"scenario (all materials, nothing saved): {scenario:.2f} s")
    last = CoverageRun.objects.order_by("-id").first()
    statuses = dict(last.snapshots.order_by().values_list("status").annotate(n=Count("id")))
    print(f"statuses in the last run: {statuses}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reload", action="store_true", help="Wipe the bench rows and load them again.")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/coverage.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    call_command("migrate", verbosity=0)
    if args.reload:
        _wipe()
    if not _loaded():
        _wipe()
        load()
        check_consistency()
    bench(args.runs)


if __name__ == "__main__":
    main()
