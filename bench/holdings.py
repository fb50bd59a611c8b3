"""Holdings benchmark: 1,000,000 movements over 10,000 lots, then the pages a manager reads most.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vault .venv/bin/python bench/holdings.py
    .venv/bin/python bench/holdings.py --database-url postgres://postgres@127.0.0.1:5432/vault_bench

PostgreSQL only. By default the data goes to the database `vault_bench` on the server of
DATABASE_URL (created if missing, migrated), never to the development database itself;
BENCH_DATABASE_URL or --database-url name another one. The dataset is built once and reused by
later runs; --rebuild wipes this benchmark's rows (codes starting with HB-) and loads them again.

The load is set-based SQL (INSERT ... SELECT over generate_series, about a minute on 2 cores)
with every constraint, foreign key and the append-only trigger in place. It is consistent: each
lot's movements add up to its on-hand (`balance_after` is their running sum and `value` the change
of the lot's value at cost), each position is the sum of its lots, and one opening journal entry
puts the stock at cost on the inventory account. After ANALYZE it times, with Django's test client
logged in as a manager, the median and p95 of 30 requests to each page below, and prints the
number of SQL queries per request. Target: every median under 100 ms, with query counts that do
not grow with the data. It prints figures and never asserts them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import bench_database_url, ensure_database, measure  # noqa: E402

PREFIX = "HB-"
MATERIALS = 20
SITES = 10
TARGET_MS = 100.0
HISTORY_START = datetime(2024, 1, 1, tzinfo=UTC)
COUNTRIES = ["AU", "US", "CN", "MY", "VN", "CA", "CL", "CD", "BR", "ZA"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL database to use (default: vault_bench, see above)")
    parser.add_argument("--lots", type=int, default=10_000)
    parser.add_argument("--movements-per-lot", type=int, default=100)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--rebuild", action="store_true", help="wipe this benchmark's rows and load them again")
    return parser.parse_args()


def setup_django(url: str) -> None:
    created = ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "false")  # time what production runs, not the debug toolbar of DEBUG
    import django

    django.setup()
    from django.core.management import call_command

    print(f"database {url.rsplit('/', 1)[-1]}{' (created)' if created else ''}: migrating", flush=True)
    call_command("migrate", verbosity=0, interactive=False)


# --- dataset -----------------------------------------------------------------------------------


def loaded_movements() -> tuple[int, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM inventory_lot WHERE lot_number LIKE %s", [f"{PREFIX}%"])
        lots = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM inventory_movement WHERE material_id IN "
            "(SELECT id FROM inventory_material WHERE code LIKE %s)",
            [f"{PREFIX}%"],
        )
        return lots, cursor.fetchone()[0]


def wipe() -> None:
    """Delete this benchmark's rows. Movements and journal lines are append-only: the guard
    triggers are switched off for this session only (session_replication_role, superuser)."""
    from django.db import connection, transaction

    like = f"{PREFIX}%"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        materials = "SELECT id FROM inventory_material WHERE code LIKE %s"
        cursor.execute(f"DELETE FROM inventory_movement WHERE material_id IN ({materials})", [like])
        cursor.execute(f"DELETE FROM inventory_position WHERE material_id IN ({materials})", [like])
        cursor.execute(f"DELETE FROM inventory_lot WHERE material_id IN ({materials})", [like])
        cursor.execute(
            "DELETE FROM ledger_journalline WHERE entry_id IN "
            "(SELECT id FROM ledger_journalentry WHERE source_type = 'bench-holdings')"
        )
        cursor.execute("DELETE FROM ledger_journalentry WHERE source_type = 'bench-holdings'")
        cursor.execute("DELETE FROM inventory_material WHERE code LIKE %s", [like])
        cursor.execute("DELETE FROM inventory_site WHERE code LIKE %s", [like])


def build(lots: int, per_lot: int, user_id: int) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from vault.inventory.models import Material, Site
    from vault.ledger import chart
    from vault.ledger.services import Line, entry_post

    started = time.perf_counter()
    with transaction.atomic():
        Material.objects.bulk_create(
            Material(code=f"{PREFIX}M{n:02d}", name=f"Bench material {n}", form=Material.Form.OXIDE, grade="99.5%")
            for n in range(MATERIALS)
        )
        Site.objects.bulk_create(
            Site(code=f"{PREFIX}S{n}", name=f"Bench depot {n}", country="US", custodian="Bench") for n in range(SITES)
        )
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")
            # Lot n: material n % 20 and site (n / 20) % 10, so each of the 200 positions has
            # lots / 200 lots; one lot in 20 is in quarantine.
            cursor.execute(
                """
                INSERT INTO inventory_lot (lot_number, material_id, site_id, status, mining_country,
                    processing_country, supplier, received_date, unit_cost, assay_certificate,
                    on_hand, reserved, created_at)
                SELECT %(prefix)s || lpad(n::text, 6, '0'),
                       m.ids[1 + n %% %(materials)s],
                       s.ids[1 + (n / %(materials)s) %% %(sites)s],
                       CASE WHEN n %% 20 = 7 THEN 'quarantine' ELSE 'available' END,
                       (%(countries)s::text[])[1 + n %% 10],
                       (%(countries)s::text[])[1 + (n / 10) %% 10],
                       'Bench supplier', DATE '2024-01-01' + (n %% 700),
                       round(10 + (n * 7919 %% 99000) / 100.0, 4), '', 0, 0, now()
                FROM generate_series(0, %(lots)s - 1) AS n,
                     (SELECT array_agg(id ORDER BY code) AS ids FROM inventory_material
                       WHERE code LIKE %(like)s) AS m,
                     (SELECT array_agg(id ORDER BY code) AS ids FROM inventory_site WHERE code LIKE %(like)s) AS s
                """,
                {
                    "prefix": PREFIX,
                    "like": f"{PREFIX}%",
                    "materials": MATERIALS,
                    "sites": SITES,
                    "lots": lots,
                    "countries": COUNTRIES,
                },
            )
            print(f"  {lots:,} lots", flush=True)
            # Movement k of lot n: a 10 t receipt first, then releases, receipts, adjustments and
            # write-offs whose running sum never goes below zero (at most 99 x 41 kg out). Ids and
            # timestamps grow together, interleaving the lots over two years.
            cursor.execute(
                """
                INSERT INTO inventory_movement (kind, lot_id, material_id, site_id, quantity,
                    balance_after, value, reason, reference, created_at, created_by_id)
                SELECT kind, lot_id, material_id, site_id, quantity, balance_after,
                       round(balance_after * unit_cost, 2) - round((balance_after - quantity) * unit_cost, 2),
                       '', '', created_at, %(user)s
                FROM (
                    SELECT k, l.id AS lot_id, l.material_id, l.site_id, l.unit_cost, q.kind, q.quantity,
                           sum(q.quantity) OVER (PARTITION BY l.id ORDER BY k) AS balance_after,
                           %(start)s::timestamptz + (k * %(lots)s + l.n) * %(step)s::interval AS created_at
                    FROM (SELECT id, material_id, site_id, unit_cost, row_number() OVER (ORDER BY id) - 1 AS n
                            FROM inventory_lot WHERE lot_number LIKE %(like)s) AS l
                    CROSS JOIN generate_series(0, %(per_lot)s - 1) AS k
                    CROSS JOIN LATERAL (
                        SELECT CASE WHEN k = 0 THEN 'receipt' WHEN r < 40 THEN 'release'
                                    WHEN r < 70 THEN 'receipt' WHEN r < 85 THEN 'adjustment'
                                    ELSE 'write_off' END AS kind,
                               (CASE WHEN k = 0 THEN 10000
                                     WHEN r < 40 THEN -(1 + r + g / 1000.0)
                                     WHEN r < 70 THEN 1 + r + g / 1000.0
                                     WHEN r < 85 THEN CASE WHEN g %% 2 = 0 THEN 0.5 ELSE -0.5 END
                                     ELSE -(0.25 + g / 1000.0) END)::numeric(18, 3) AS quantity
                        FROM (SELECT (l.n * 7919 + k * 104729) %% 100 AS r, (l.n * 31 + k * 17) %% 1000 AS g) AS rr
                    ) AS q
                ) AS rows
                ORDER BY k, lot_id
                """,
                {
                    "user": user_id,
                    "start": HISTORY_START,
                    "lots": lots,
                    "per_lot": per_lot,
                    "step": f"{max(1, 730 * 86400 // (lots * per_lot))} seconds",
                    "like": f"{PREFIX}%",
                },
            )
            print(f"  {lots * per_lot:,} movements ({time.perf_counter() - started:.0f} s)", flush=True)
            cursor.execute(
                """
                UPDATE inventory_lot AS lot SET on_hand = totals.on_hand
                FROM (SELECT lot_id, sum(quantity) AS on_hand FROM inventory_movement
                       WHERE material_id IN (SELECT id FROM inventory_material WHERE code LIKE %(like)s)
                       GROUP BY lot_id) AS totals
                WHERE lot.id = totals.lot_id
                """,
                {"like": f"{PREFIX}%"},
            )
            cursor.execute(
                """
                INSERT INTO inventory_position (material_id, site_id, on_hand, reserved, unavailable)
                SELECT material_id, site_id, sum(on_hand), 0,
                       coalesce(sum(on_hand) FILTER (WHERE status <> 'available'), 0)
                FROM inventory_lot WHERE lot_number LIKE %(like)s
                GROUP BY material_id, site_id
                """,
                {"like": f"{PREFIX}%"},
            )
            cursor.execute(
                "SELECT coalesce(sum(round(on_hand * unit_cost, 2)), 0) FROM inventory_lot WHERE lot_number LIKE %s",
                [f"{PREFIX}%"],
            )
            at_cost = cursor.fetchone()[0]
        entry_post(
            date=timezone.localdate(),
            memo="Holdings benchmark: opening stock at cost",
            lines=[Line(chart.INVENTORY, debit=at_cost), Line(chart.CASH, credit=at_cost)],
            source_type="bench-holdings",
            by=None,
        )
    print(f"  lots, positions and ledger set ({time.perf_counter() - started:.0f} s)", flush=True)


def check_consistency() -> None:
    """The invariants the services keep, checked in SQL on the loaded data."""
    from django.db import connection

    checks = {
        "lots whose on-hand is not their last balance": """
            SELECT count(*) FROM inventory_lot l
            JOIN LATERAL (SELECT balance_after FROM inventory_movement m WHERE m.lot_id = l.id
                          ORDER BY m.id DESC LIMIT 1) last ON true
            WHERE l.lot_number LIKE %(like)s AND last.balance_after <> l.on_hand""",
        "positions that are not the sum of their lots": """
            SELECT count(*) FROM inventory_position p
            JOIN (SELECT material_id, site_id, sum(on_hand) AS on_hand FROM inventory_lot
                   GROUP BY material_id, site_id) l USING (material_id, site_id)
            WHERE p.material_id IN (SELECT id FROM inventory_material WHERE code LIKE %(like)s)
              AND p.on_hand <> l.on_hand""",
        "lots whose movement values are not their value at cost": """
            SELECT count(*) FROM inventory_lot l
            JOIN (SELECT lot_id, sum(value) AS value FROM inventory_movement GROUP BY lot_id) v ON v.lot_id = l.id
            WHERE l.lot_number LIKE %(like)s AND v.value <> round(l.on_hand * l.unit_cost, 2)""",
    }
    with connection.cursor() as cursor:
        for label, sql in checks.items():
            cursor.execute(sql, {"like": f"{PREFIX}%"})
            bad = cursor.fetchone()[0]
            print(f"  {label}: {bad}")
            if bad:
                raise SystemExit("the bench dataset is inconsistent")


def analyze() -> None:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in ("inventory_movement", "inventory_lot", "inventory_position", "inventory_material"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    print(f"VACUUM ANALYZE done ({time.perf_counter() - started:.1f} s)")


# --- measurements -------------------------------------------------------------------------------


def run_measurements(repeat: int) -> list:
    from django.test import Client

    from vault.accounts.services import user_upsert
    from vault.inventory.models import Lot, Material, Site

    manager = user_upsert(username="hb-manager", role="manager", org_code="VAULT")
    client = Client()
    client.force_login(manager)
    material = Material.objects.get(code=f"{PREFIX}M07")
    site = Site.objects.get(code=f"{PREFIX}S3")
    lot = Lot.objects.filter(material=material, site=site).order_by("id")[5]
    api_headers = {"HTTP_ACCEPT": "application/json"}
    pages = [
        ("GET /api/v1/positions/", "/api/v1/positions/", api_headers),
        (
            f"GET /api/v1/movements/?material={material.code}&site={site.code}",
            f"/api/v1/movements/?material={material.code}&site={site.code}",
            api_headers,
        ),
        ("GET /api/v1/movements/ (unfiltered)", "/api/v1/movements/", api_headers),
        (f"GET /api/v1/movements/?lot={lot.pk}", f"/api/v1/movements/?lot={lot.pk}", api_headers),
        (
            "GET /api/v1/movements/?kind=write_off&date_from=2025-06-01",
            "/api/v1/movements/?kind=write_off&date_from=2025-06-01",
            api_headers,
        ),
        (f"GET /api/v1/lots/?material={material.code}", f"/api/v1/lots/?material={material.code}", api_headers),
        ("GET /admin/inventory/movement/ (changelist)", "/admin/inventory/movement/", {}),
        (
            "GET /admin/inventory/movement/?material&site (filtered)",
            f"/admin/inventory/movement/?material__id__exact={material.pk}&site__id__exact={site.pk}",
            {},
        ),
        (
            "GET /admin/inventory/movement/?kind__exact=adjustment",
            "/admin/inventory/movement/?kind__exact=adjustment",
            {},
        ),
        (
            f"GET /admin/inventory/movement/?q={lot.lot_number} (search)",
            f"/admin/inventory/movement/?q={lot.lot_number}",
            {},
        ),
        ("GET /admin/inventory/movement/?o=-1 (newest by date)", "/admin/inventory/movement/?o=-1", {}),
        ("GET /admin/inventory/lot/ (changelist)", "/admin/inventory/lot/", {}),
        ("GET /admin/inventory/position/ (changelist)", "/admin/inventory/position/", {}),
    ]
    results = []
    for label, url, headers in pages:
        timing = measure(label, lambda url=url, headers=headers: client.get(url, **headers), repeat=repeat)
        print(timing.line(TARGET_MS), flush=True)
        results.append(timing)
    return results


def main() -> None:
    args = parse_args()
    url = bench_database_url(args.database_url)
    setup_django(url)
    from vault.accounts.services import user_upsert

    expected = args.lots * args.movements_per_lot
    lots, movements = loaded_movements()
    if args.rebuild or (lots, movements) != (args.lots, expected):
        if lots or movements:
            print(f"wiping the previous bench rows ({lots:,} lots, {movements:,} movements)", flush=True)
            wipe()
        print(f"building {expected:,} movements over {args.lots:,} lots", flush=True)
        user = user_upsert(username="hb-loader", role="manager", org_code="VAULT")
        build(args.lots, args.movements_per_lot, user.pk)
        analyze()
    else:
        print(f"reusing the bench dataset: {lots:,} lots, {movements:,} movements (--rebuild to load again)")
    check_consistency()
    print(f"\n{args.requests} requests per page, target median < {TARGET_MS:.0f} ms:")
    results = run_measurements(args.requests)
    slow = [r.label for r in results if r.median_ms >= TARGET_MS]
    print(
        f"\n{len(results) - len(slow)} of {len(results)} pages under {TARGET_MS:.0f} ms median"
        + (f"; slow: {', '.join(slow)}" if slow else "")
    )


if __name__ == "__main__":
    main()
