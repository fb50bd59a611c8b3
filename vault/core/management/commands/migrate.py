"""`manage.py migrate`, run as the database owner when `MIGRATE_DATABASE_URL` is set.

The application connects with `DATABASE_URL` as a role that owns nothing (vault.core.dbroles).
With `MIGRATE_DATABASE_URL` (the owner, same database) in the environment of the migrate step,
this command:

1. refuses, with nothing changed, when the URLs name different databases, when the application
   role could get around the grants (a superuser, the owner itself, a member of another role, the
   owner of anything, CREATE on the database or schema, temporary tables), or when objects of
   `public` belong to someone other than the owner;
2. migrates as the owner (Django's own `migrate`, every option as usual);
3. grants the application role exactly what vault.core.dbroles describes, and checks the result.

Without `MIGRATE_DATABASE_URL` it is Django's `migrate`, unchanged: SQLite, `make run`, the test
runner (which creates its own test database as DATABASE_URL's role) and installations that have
not split their roles yet. The owner's credentials are read from the environment here only, never
into the settings, so that web, worker and beat processes (which need not have the variable) never
hold them."""

from __future__ import annotations

import os
from contextlib import contextmanager

import dj_database_url
from django.core.management.base import CommandError
from django.core.management.commands import migrate
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from vault.core import dbroles

OWNER_URL_ENV = "MIGRATE_DATABASE_URL"
# The connection settings taken from the owner's URL; the rest (NAME, TIME_ZONE...) stay.
CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT", "OPTIONS", "CONN_MAX_AGE", "CONN_HEALTH_CHECKS")


class Command(migrate.Command):
    help = migrate.Command.help + f" As the owner in {OWNER_URL_ENV} when set, then grants the application role."

    def handle(self, *args, **options):
        owner_url = os.environ.get(OWNER_URL_ENV, "").strip()
        connection = connections[options["database"]]
        if not owner_url or options["database"] != DEFAULT_DB_ALIAS:
            return super().handle(*args, **options)
        owner = self._owner_settings(owner_url, connection.settings_dict)
        if owner is None:  # a test database of the test runner: its role made it, its role migrates it
            return super().handle(*args, **options)
        app = connection.settings_dict["USER"]
        with self._connected_as(connection, owner):
            with connection.cursor() as cursor:
                problems = dbroles.role_problems(cursor, app=app, owner=owner["USER"])
                problems += dbroles.ownership_problems(cursor, owner=owner["USER"])
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                if cursor.fetchone()[0]:
                    self.stderr.write(
                        f"Warning: {OWNER_URL_ENV} connects as {owner['USER']}, a superuser: migrations should "
                        "run as the database's owner, who may do nothing outside it. " + dbroles.FIX
                    )
            if problems:
                raise CommandError(self._refusal("Not migrating, nothing changed", problems))
            super().handle(*args, **options)
            if options["plan"] or options["check_unapplied"]:
                return None
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                grants = dbroles.app_role_grant(cursor, app=app, owner=owner["USER"])
                problems = dbroles.privilege_problems(cursor, app=app)
                problems += dbroles.ownership_problems(cursor, owner=owner["USER"])
                if problems:  # rolled back: the application keeps the privileges it had
                    raise CommandError(self._refusal("Migrated, but the grants came out wrong", problems))
        if self.verbosity >= 1:
            ordinary = len(grants.tables) - len(grants.append_only)
            self.stdout.write(
                f"Granted {app}: {', '.join(dbroles.TABLE_PRIVILEGES)} on {ordinary} tables; "
                f"{', '.join(dbroles.APPEND_ONLY_PRIVILEGES)} only on the {len(grants.append_only)} append-only "
                f"({', '.join(grants.append_only)}); {', '.join(dbroles.SEQUENCE_PRIVILEGES)} on "
                f"{grants.sequences} sequences; the same on what {owner['USER']} makes later."
            )
        return None

    @staticmethod
    def _owner_settings(owner_url: str, current: dict) -> dict | None:
        """The owner's connection settings; None when the connection is not DATABASE_URL's database."""
        app_url = os.environ.get("DATABASE_URL", "").strip()
        if not app_url:
            raise CommandError(f"{OWNER_URL_ENV} is set but DATABASE_URL is not: both name the same database.")
        app, owner = dj_database_url.parse(app_url), dj_database_url.parse(owner_url)
        for name, config in (("DATABASE_URL", app), (OWNER_URL_ENV, owner)):
            if not config["ENGINE"].endswith((".postgresql", ".postgis")):
                raise CommandError(f"{OWNER_URL_ENV} needs PostgreSQL, and {name} is not a postgres:// URL.")
            if not config.get("USER"):
                raise CommandError(f"{name} must name its role (postgres://ROLE@host/db) when {OWNER_URL_ENV} is set.")
        if owner["NAME"] != app["NAME"]:
            raise CommandError(
                f"{OWNER_URL_ENV} names database {owner['NAME']!r} and DATABASE_URL {app['NAME']!r}: "
                "migrations must run on the database the application uses."
            )
        if current["NAME"] != app["NAME"]:
            return None
        if owner["USER"] == current["USER"]:
            raise CommandError(
                f"DATABASE_URL connects as {owner['USER']}, the owner in {OWNER_URL_ENV}: the application "
                "must connect as a role of its own that owns nothing. " + dbroles.FIX
            )
        options = {k: v for k, v in owner.get("OPTIONS", {}).items() if k != "pool"}
        return {**owner, "OPTIONS": options, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False}

    @contextmanager
    def _connected_as(self, connection, owner: dict):
        """Django's connection speaks as the owner inside the block, as the application after it."""
        saved = {key: connection.settings_dict.get(key) for key in CREDENTIALS}
        connection.close()
        connection.settings_dict.update({key: owner.get(key, "") for key in CREDENTIALS})
        try:
            yield
        finally:
            connection.close()
            connection.settings_dict.update(saved)

    @staticmethod
    def _refusal(what: str, problems: list[str]) -> str:
        return f"{what}:\n" + "".join(f"  - {problem}\n" for problem in problems) + dbroles.FIX
