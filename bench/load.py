"""Load benchmark: Vault under gunicorn on PostgreSQL and Redis, a bounded load from a second
process on loopback, then `vault_check`.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vault_load \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/3 \
    .venv/bin/python bench/load.py [--clients 32] [--seconds 30] [--think-ms 500] [--web-workers 4]

Each client is a user who acts, then thinks for a random time (exponential, mean --think-ms;
0 makes every client fire its next request the moment the last one answers, which measures
saturation: the most the machine serves, with latency set by the queue). Mix per client loop:
read positions (40%), read coverage (25%), create and submit a drawdown
request as a manufacturer (20%), approve the oldest submitted request as a manager (15%), all
on the same materials. Prints throughput, p50/p99 latency per action and overall, the count of
each status, then runs `manage.py vault_check`. Targets: zero 5xx, zero invariant violations,
p99 under 250 ms. Contention answers (409: another client approved first, stock or entitlement
used up) are expected and counted apart; they are not errors.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MATERIALS = ["NDPR-OX", "DY-OX"]
ORGS = ["LOAD-A", "LOAD-B", "LOAD-C", "LOAD-D"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare() -> dict:
    """Migrate, load the demo data, and add load participants with large entitlements and a
    large lot per material, so that the run measures contention, not exhaustion. Returns tokens."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from vault.accounts.models import User
    from vault.accounts.services import token_create, token_revoke, user_upsert
    from vault.drawdowns.models import ParticipationAgreement
    from vault.inventory.models import Lot, Material, Site
    from vault.inventory.services import lot_create

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    manager = User.objects.get(username="manager")
    site = Site.objects.get(code="DLA-HAMMOND")
    for code in MATERIALS:
        material = Material.objects.get(code=code)
        lot_number = f"LOAD-{code}"
        if not Lot.objects.filter(lot_number=lot_number).exists():
            site.capacity_kg = None
            site.save(update_fields=["capacity_kg"])
            lot_create(
                by=manager,
                lot_number=lot_number,
                material=material,
                site=site,
                mining_country="US",
                processing_country="US",
                received_date=timezone.localdate() - timedelta(days=400),
                unit_cost=Decimal("50"),
                initial_quantity=Decimal("2000000"),
            )
    # A fresh knox token per user and run; the previous runs' are revoked first, so that repeated
    # runs stay under VAULT_API_TOKEN_LIMIT_PER_USER.
    token_revoke(by=manager)
    tokens = {"manager": token_create(user=manager).key, "makers": []}
    for org in ORGS:
        user = user_upsert(username=f"load-{org.lower()}", role="manufacturer", org_code=org)
        for code in MATERIALS:
            ParticipationAgreement.objects.get_or_create(
                organization=user.organization,
                material=Material.objects.get(code=code),
                active=True,
                defaults={
                    "quantity": Decimal("1000000"),
                    "locked_price": Decimal("80"),
                    "upfront_fee": 0,
                    "replenishment_days": 180,
                    "premium_pct": Decimal("3"),
                },
            )
        token_revoke(by=user)
        tokens["makers"].append(token_create(user=user).key)
    return tokens


def start_servers(port: int, web_workers: int, threads: int) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_ACCESS_LOG": "",
    }
    web = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "config/gunicorn.conf.py",
            "config.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(web_workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency", "1", "--loglevel", "WARNING"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return [web, worker]
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


class Client:
    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(
        self, method: str, path: str, token: str, body: dict | None = None, key: str | None = None
    ) -> tuple[int, dict, float]:
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        if key:  # an Idempotency-Key makes sending the same request again safe
            headers["Idempotency-Key"] = key
        payload = json.dumps(body) if body is not None else None
        start = time.perf_counter()
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
                status = response.status
                break
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                # The server closes a keep-alive connection idle for a few seconds; like any HTTP
                # client, send once more on a fresh connection (POSTs carry an Idempotency-Key).
                if attempt == 2:
                    return 0, {}, time.perf_counter() - start
        elapsed = time.perf_counter() - start
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {}
        return status, data, elapsed


def client_loop(port: int, tokens: dict, deadline: float, seed: int, out: list, think_s: float) -> None:
    rng = random.Random(seed)
    client = Client(port)
    maker = tokens["makers"][seed % len(tokens["makers"])]
    manager = tokens["manager"]
    later = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 30 * 86400))
    while time.time() < deadline:
        if think_s:
            time.sleep(rng.expovariate(1 / think_s))
        material = rng.choice(MATERIALS)
        pick = rng.random()
        if pick < 0.40:
            status, _, t = client.call("GET", f"/api/v1/positions/?material={material}", manager)
            out.append(("read positions", status, t))
        elif pick < 0.65:
            status, _, t = client.call("GET", "/api/v1/coverage/", manager)
            out.append(("read coverage", status, t))
        elif pick < 0.85:
            body = {
                "material": material,
                "quantity": str(rng.randint(1, 20)),
                "needed_by": later,
                "priority": "routine",
                "justification": "load test",
                "replenish_by": later,
                "submit": True,
            }
            key = secrets.token_hex(16)  # new for every request of every run
            status, _, t = client.call("POST", "/api/v1/drawdown-requests/", maker, body, key=key)
            out.append(("submit request", status, t))
        else:
            status, data, t = client.call(
                "GET", "/api/v1/drawdown-requests/?status=submitted&ordering=id&page_size=5", manager
            )
            out.append(("list submitted", status, t))
            results = data.get("results") or []
            if results:
                target = rng.choice(results)["id"]
                status, _, t = client.call("POST", f"/api/v1/drawdown-requests/{target}/approve/", manager, {})
                out.append(("approve", status, t))


def load_process(port: int, tokens: dict, clients: int, seconds: float, think_s: float, queue) -> None:
    deadline = time.time() + seconds
    results: list = []
    threads = [
        threading.Thread(target=client_loop, args=(port, tokens, deadline, n, results, think_s), daemon=True)
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    queue.put(results)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def report(results: list, seconds: float) -> int:
    by_action = defaultdict(list)
    statuses = Counter()
    for action, status, elapsed in results:
        by_action[action].append(elapsed * 1000)
        statuses[(action, status)] += 1
    all_ms = [elapsed * 1000 for _, _, elapsed in results]
    server_errors = sum(n for (_, status), n in statuses.items() if status >= 500 or status == 0)
    print(f"\nrequests: {len(results)} in {seconds:.0f} s = {len(results) / seconds:.1f} req/s")
    print(
        f"latency overall: p50 {statistics.median(all_ms):.1f} ms, p99 {percentile(all_ms, 99):.1f} ms "
        f"(target p99 < 250 ms)"
    )
    print(f"{'action':<16} {'count':>7} {'p50 ms':>8} {'p99 ms':>8}   statuses")
    for action, values in sorted(by_action.items()):
        codes = ", ".join(f"{status}: {n}" for (a, status), n in sorted(statuses.items()) if a == action)
        print(
            f"{action:<16} {len(values):>7} {statistics.median(values):>8.1f} {percentile(values, 99):>8.1f}   {codes}"
        )
    print(f"5xx or connection errors: {server_errors} (target 0)")
    return server_errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--think-ms", type=float, default=500, help="mean think time per client; 0: saturation")
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL=postgres://... (the load benchmark runs on PostgreSQL).")
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis"):
        raise SystemExit("Set CELERY_BROKER_URL=redis://... (the load benchmark runs with Redis).")
    print("preparing data (migrate, seed_demo, load participants)...", flush=True)
    tokens = prepare()
    port = _free_port()
    servers = start_servers(port, args.web_workers, args.threads)
    try:
        print(
            f"load: {args.clients} clients for {args.seconds:.0f} s, think time {args.think_ms:.0f} ms, against "
            f"127.0.0.1:{port} ({args.web_workers} gunicorn workers x {args.threads} threads)",
            flush=True,
        )
        queue = multiprocessing.get_context("spawn").Queue()
        loader = multiprocessing.get_context("spawn").Process(
            target=load_process, args=(port, tokens, args.clients, args.seconds, args.think_ms / 1000, queue)
        )
        loader.start()
        results = queue.get(timeout=args.seconds + 120)
        loader.join(timeout=30)
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    errors = report(results, args.seconds)
    print("\nvault_check:", flush=True)
    check = subprocess.run([sys.executable, "manage.py", "vault_check"], cwd=ROOT, check=False)  # noqa: S603
    return 1 if errors or check.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
