from django.core.management.base import BaseCommand, CommandError

from vault.integrity.invariants import CHECKS, run_checks


class Command(BaseCommand):
    help = "Verify every Vault invariant against the database; exit 1 naming each violation."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="append", dest="names", help="Run only this check (repeatable).")
        parser.add_argument("--list", action="store_true", help="List the checks and exit.")

    def handle(self, *args, names=None, list=False, **options):
        if list:
            run_checks(names=["-"])  # loads the checks of every installed app
            for check in CHECKS:
                self.stdout.write(f"{check.name:<40} {check.description}")
            return
        results = run_checks(names=names)
        failed = 0
        for name, violations in results.items():
            if violations:
                failed += 1
                self.stdout.write(self.style.ERROR(f"FAIL {name}"))
                for line in violations:
                    self.stdout.write(f"     {line}")
            else:
                self.stdout.write(self.style.SUCCESS(f"ok   {name}"))
        if failed:
            raise CommandError(f"{failed} of {len(results)} invariant checks failed.")
        self.stdout.write(self.style.SUCCESS(f"All {len(results)} invariant checks passed."))
