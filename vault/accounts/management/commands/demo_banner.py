"""`make run`'s last words: once the web server answers, print where Vault is and the demo
logins, then stay up quietly (a Procfile runner stops every process when one exits)."""

import signal
import sys
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from vault.accounts import demo
from vault.accounts.models import User


class Command(BaseCommand):
    help = "Wait for the web server, then print the URL and the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/")
        parser.add_argument("--timeout", type=float, default=120, help="Seconds to wait for the web server.")
        parser.add_argument("--no-hold", action="store_true", help="Exit after printing (for tests).")

    def handle(self, *args, url, timeout, no_hold, **options):
        base = url.rstrip("/")
        self._wait_for(f"{base}/healthz", timeout)
        workers = self._wait_for_worker(timeout)
        roles = dict(
            User.objects.filter(username__in=[name for name, _, _ in demo.USERS]).values_list("username", "role")
        )
        lines = [
            "",
            "Vault is running.",
            f"  Admin (managers, finance, auditors): {base}/admin/",
            f"  Portal (manufacturers):              {base}/portal/",
            f"  API docs:                            {base}/api/docs/",
            "  Demo e-mails:                        var/mail/  (one file per message)",
            f"  Celery workers answering:            {', '.join(workers) or 'none yet'}",
            f"Demo logins (password {demo.DEMO_PASSWORD}):",
            *(f"  {name:<10} {roles[name]}" for name, _, _ in demo.USERS if name in roles),
            self._second_factor_line(base),
            "Press Ctrl-C to stop everything.",
            "",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
        if no_hold:
            return
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            time.sleep(3600)

    @staticmethod
    def _second_factor_line(base: str) -> str:
        """How staff log in: with VAULT_STAFF_OTP_REQUIRED off, the password alone unless they set
        up an authenticator app (docs/security.md, "Second factor for staff")."""
        if settings.VAULT_STAFF_OTP_REQUIRED:
            return "Staff also give a code from an authenticator app (set up at the first login)."
        return f"Staff second factor: optional (VAULT_STAFF_OTP_REQUIRED off); set one up at {base}/admin/two-factor/"

    @staticmethod
    def _wait_for_worker(timeout: float) -> list[str]:
        """The names of the workers that answer a ping (their start-up messages come first)."""
        from config.celery_app import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            replies = app.control.ping(timeout=1.0)
            if replies:
                return sorted(name for reply in replies for name in reply)
        return []

    @staticmethod
    def _wait_for(url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own local URL
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise CommandError(f"The web server did not answer {url} within {timeout:.0f} s.")
