"""python manage.py import_forecast FILE [--user USERNAME] [--note TEXT]

Imports a consumption forecast CSV (header material,month,quantity[,organization]; month as
YYYY-MM) as a new forecast version, all or nothing, with a progress bar."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from vault.accounts.models import User
from vault.accounts.roles import Role
from vault.core.errors import DomainError
from vault.coverage import services
from vault.coverage.errors import ForecastRowsInvalid


class Command(BaseCommand):
    help = "Import a consumption forecast CSV as a new forecast version (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV: material,month,quantity[,organization]")
        parser.add_argument("--user", help="Username recorded as the uploader (default: the first manager).")
        parser.add_argument("--note", default="", help="A note kept with the version.")
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def _user(self, username: str | None) -> User:
        if username:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user {username!r}.")
            return user
        user = (
            User.objects.filter(role=Role.MANAGER, is_active=True).order_by("id").first()
            or User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
        )
        if user is None:
            raise CommandError("No manager or superuser to record as the uploader; pass --user.")
        return user

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        user = self._user(options["user"])
        with path.open("rb") as raw:
            total = max(sum(1 for _ in raw) - 1, 0)

        def progress(rows):
            return tqdm(
                rows,
                total=total,
                unit=" rows",
                desc=f"Reading {path.name}",
                disable=options["no_progress"],
                file=self.stderr._out,
            )

        try:
            with path.open(encoding="utf-8-sig", newline="") as text:
                version = services.forecast_import_csv(
                    file=text, by=user, source=f"command:{path.name}", note=options["note"], progress=progress
                )
        except ForecastRowsInvalid as exc:
            for row, fields in exc.rows.items():
                for field, messages in fields.items():
                    self.stderr.write(f"{row}, {field}: {'; '.join(messages)}")
            raise CommandError(exc.message) from exc
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        except UnicodeDecodeError as exc:
            raise CommandError("The file is not UTF-8 text.") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {version.row_count} rows as forecast version {version.pk} "
                f"({version.superseded_count} earlier rows superseded)."
            )
        )
