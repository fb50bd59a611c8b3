"""Load the demo data. Idempotent: a second run changes nothing."""

from django.core.management.base import BaseCommand
from django.db import transaction
from tqdm import tqdm

from vault.accounts import demo as accounts_demo
from vault.accounts.models import User
from vault.inventory import demo as inventory_demo


class Command(BaseCommand):
    help = "Load demo organizations, users, materials, depots and lots (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args, no_progress=False, **options):
        steps = [
            ("organizations and users", lambda: accounts_demo.seed()),
            ("materials, depots and lots", lambda: inventory_demo.seed(by=User.objects.get(username="manager"))),
        ]
        for extra in self._extra_steps():
            steps.append(extra)
        # A progress bar on stderr naming the step running; with --no-progress, a line per step.
        bar = tqdm(steps, desc="Demo data", unit=" steps", file=self.stderr._out, disable=no_progress)
        for n, (label, step) in enumerate(bar, start=1):
            bar.set_postfix_str(label)
            with transaction.atomic():
                step()
            if no_progress:
                self.stdout.write(f"[{n}/{len(steps)}] {label}")
        self.stdout.write(self.style.SUCCESS("Demo data ready. Logins (password vault-demo-2026):"))
        for username, role in [
            (u.username, u.role)
            for u in User.objects.filter(username__in=[name for name, _, _ in accounts_demo.USERS]).order_by("role")
        ]:
            self.stdout.write(f"  {username:<10} {role}")

    def _extra_steps(self):
        """Demo steps contributed by the later apps (financing, drawdowns, coverage)."""
        from importlib import import_module
        from importlib.util import find_spec

        manager = lambda: User.objects.get(username="manager")  # noqa: E731
        for app in ("financing", "drawdowns", "coverage"):
            if find_spec(f"vault.{app}.demo") is None:
                continue
            module = import_module(f"vault.{app}.demo")
            yield (f"{app} demo data", lambda module=module: module.seed(by=manager()))
