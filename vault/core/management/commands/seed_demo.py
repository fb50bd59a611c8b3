"""Load the demo data. Idempotent: a second run changes nothing.

The demo data is contributed by the apps; core names none of them.

An app with demo data has a `demo` module holding `LABEL` (what the step makes, shown while it
runs), `seed()` (idempotent: a second run changes nothing; it finds the users it acts as
itself) and optionally `summary()` (lines printed at the end, e.g. the logins). `seed_demo` runs
them in INSTALLED_APPS order, each in its own transaction, so an app's demo may rely on the
demo of every app listed before it (the order of the apps' dependencies)."""

from importlib import import_module
from types import ModuleType

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import module_has_submodule
from tqdm import tqdm


def demo_modules() -> list[ModuleType]:
    """The `demo` modules of the installed apps, in INSTALLED_APPS order."""
    return [
        import_module(f"{config.name}.demo")
        for config in apps.get_app_configs()
        if module_has_submodule(config.module, "demo")
    ]


class Command(BaseCommand):
    help = "Load the demo data of every app: organizations, users, holdings, financing... (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args, no_progress=False, **options):
        modules = demo_modules()
        # A progress bar on stderr naming the step running; with --no-progress, a line per step.
        bar = tqdm(modules, desc="Demo data", unit=" steps", file=self.stderr._out, disable=no_progress)
        for n, module in enumerate(bar, start=1):
            bar.set_postfix_str(module.LABEL)
            with transaction.atomic():
                module.seed()
            if no_progress:
                self.stdout.write(f"[{n}/{len(modules)}] {module.LABEL}")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        for module in modules:
            for line in getattr(module, "summary", list)():
                self.stdout.write(line)
