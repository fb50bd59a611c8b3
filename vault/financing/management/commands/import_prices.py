"""Import market prices from a CSV file: `manage.py import_prices prices.csv [--source NAME]`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from vault.core.errors import DomainError
from vault.financing.services import price_points_import


class Command(BaseCommand):
    help = "Import market prices (CSV: material,date,usd_per_kg,source). All rows or none."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--source", default="", help="Source for rows without one.")

    def handle(self, *args, file: Path, source: str, **options):
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}")
        try:
            result = price_points_import(text=text, by=None, default_source=source)
        except DomainError as exc:
            raise CommandError(exc.message)
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.created} new and {result.updated} corrected prices ({result.unchanged} unchanged); "
                f"{len(result.pending)} pending a second finance user."
            )
        )
