"""Least privilege in the database (PostgreSQL; docs/security.md, "Least privilege in the database").

Two roles: the **owner**, which owns the database, its schema `public` and every object in it, and
which `manage.py migrate` connects as (`MIGRATE_DATABASE_URL`); and the **application role**
(`DATABASE_URL`: web, workers, beat), which owns nothing. Ownership is what lets a role ALTER,
DROP or TRUNCATE a table, disable or drop its triggers, or replace their functions; the application
role has none of it. It may not set `session_replication_role` (superusers only), which would skip
every trigger.

After migrating, `app_role_grant` gives the application role exactly this, and nothing more:
CONNECT on the database, USAGE on `public`, SELECT, INSERT, UPDATE and DELETE on every table,
USAGE and SELECT on every sequence (no `setval`), the same through default privileges on what the
owner makes later, and on the **append-only tables** SELECT and INSERT only: a movement, a journal
line or a state transition is refused by the privilege system before its trigger is reached.

A table is append-only when a BEFORE UPDATE OR DELETE row trigger, without condition or column
list, calls a function named `*forbid*change` (`vault_forbid_change`, `ledger_forbid_download_change`,
`drawdowns_forbid_history_change`): the trigger is the one statement of the rule, read from the
catalog, so a new append-only table is covered by its migration alone."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
APPEND_ONLY_PRIVILEGES = ("SELECT", "INSERT")
SEQUENCE_PRIVILEGES = ("USAGE", "SELECT")
# Every table privilege PostgreSQL knows, to check that the application has no other.
ALL_TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
ATTRIBUTES = {
    "rolsuper": "is a superuser",
    "rolcreaterole": "may create roles (CREATEROLE)",
    "rolcreatedb": "may create databases (CREATEDB)",
    "rolreplication": "may replicate (REPLICATION)",
    "rolbypassrls": "bypasses row security (BYPASSRLS)",
}
FIX = "Run deploy/db_roles.sql as a superuser (docs/security.md, 'Least privilege in the database')."

APPEND_ONLY_SQL = r"""
SELECT DISTINCT c.relname
  FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_proc p ON p.oid = t.tgfoid
 WHERE n.nspname = 'public' AND NOT t.tgisinternal AND t.tgenabled <> 'D'
   AND t.tgtype & 1 = 1 AND t.tgtype & 2 = 2    -- FOR EACH ROW, BEFORE
   AND t.tgtype & 8 = 8 AND t.tgtype & 16 = 16  -- DELETE and UPDATE
   AND t.tgqual IS NULL AND cardinality(t.tgattr::int2[]) = 0
   AND p.proname LIKE '%forbid%change'
 ORDER BY 1
"""


@dataclass(frozen=True)
class Grants:
    tables: list[str]
    append_only: list[str]
    sequences: int


def _names(cursor, query: str, params: list | None = None) -> list[str]:
    cursor.execute(query, params)
    return [row[0] for row in cursor.fetchall()]


def append_only_tables(cursor) -> list[str]:
    """The tables of `public` whose rows a trigger forbids to update or delete (see the module)."""
    return _names(cursor, APPEND_ONLY_SQL)


def role_problems(cursor, *, app: str, owner: str) -> list[str]:
    """What is wrong with the application role `app` for the database the cursor is connected to,
    owned by `owner`; empty when it is least-privileged. Checked before migrating: each of these
    would give the application a way around the grants or the triggers."""
    cursor.execute(
        "SELECT oid, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls FROM pg_roles "
        "WHERE rolname = %s",
        [app],
    )
    row = cursor.fetchone()
    if row is None:
        return [f"the application role {app} does not exist"]
    oid, superuser, *flags = row
    if superuser:  # may do anything: the rest is moot
        return [f"{app} is a superuser"]
    problems = [f"{app} {what}" for what, flag in zip(list(ATTRIBUTES.values())[1:], flags, strict=True) if flag]
    if app == owner:
        problems.append(f"{app} is the owner: the application would own every table")
    # A member of a role may SET ROLE to it (or inherit from it): it would hold that role's powers.
    for role in _names(
        cursor,
        "SELECT r.rolname FROM pg_roles r WHERE r.oid <> %s AND pg_has_role(%s, r.oid, 'MEMBER') ORDER BY 1",
        [oid, oid],
    ):
        problems.append(f"{app} is a member of {role} (it may act as {role})")
    owned = _names(
        cursor,
        """
        SELECT DISTINCT pg_describe_object(classid, objid, objsubid) FROM pg_shdepend
         WHERE refobjid = %s AND deptype = 'o'
           AND (dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                OR (classid = 'pg_database'::regclass
                    AND objid = (SELECT oid FROM pg_database WHERE datname = current_database())))
         ORDER BY 1
        """,
        [oid],
    )
    if owned:
        problems.append(f"{app} owns {len(owned)} objects here: {', '.join(owned[:5])}" + (", ..." * (len(owned) > 5)))
    cursor.execute(
        "SELECT has_database_privilege(%s, current_database(), 'CREATE'), "
        "has_database_privilege(%s, current_database(), 'TEMPORARY'), "
        "has_schema_privilege(%s, 'public', 'CREATE')",
        [app, app, app],
    )
    create_schema, temporary, create_in_public = cursor.fetchone()
    if create_schema:
        problems.append(f"{app} may create schemas in the database (CREATE)")
    if temporary:
        problems.append(f"{app} may create temporary tables (TEMPORARY, granted to PUBLIC by default)")
    if create_in_public:
        problems.append(f"{app} may create objects in schema public (CREATE)")
    return problems


def ownership_problems(cursor, *, owner: str) -> list[str]:
    """Objects of `public` (tables, views, sequences, functions) not owned by `owner`: migrations could
    not alter them, and the owner's grants on them would be silently void."""
    others = _names(
        cursor,
        """
        SELECT format('%%s %%s (owner %%s)', CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view'
                      ELSE 'table' END, c.relname, pg_get_userbyid(c.relowner))
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND pg_get_userbyid(c.relowner) <> %s
        UNION ALL
        SELECT format('function %%s (owner %%s)', p.oid::regprocedure, pg_get_userbyid(p.proowner))
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> %s
         ORDER BY 1
        """,
        [owner, owner],
    )
    if not others:
        return []
    shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
    return [f"{len(others)} objects of schema public are not owned by {owner}: {shown}"]


def app_role_grant(cursor, *, app: str, owner: str) -> Grants:
    """Give `app` exactly the privileges of the module docstring on the database the cursor is
    connected to as `owner`, whatever it held before (everything is revoked first, in the same
    transaction: concurrent sessions see either the old or the new privileges). Idempotent."""
    app_id, owner_id = sql.Identifier(app), sql.Identifier(owner)

    def privileges(names: tuple[str, ...]) -> sql.Composable:
        return sql.SQL(", ").join(sql.SQL(name) for name in names)

    tables = _names(
        cursor,
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY 1",
    )
    sequences = _names(
        cursor,
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'S' ORDER BY 1",
    )
    append_only = append_only_tables(cursor)
    cursor.execute("SELECT current_database()")
    database = sql.Identifier(cursor.fetchone()[0])
    statements = [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database, app_id),
        sql.SQL("REVOKE CREATE, TEMPORARY ON DATABASE {} FROM {}").format(database, app_id),
        sql.SQL("REVOKE ALL ON SCHEMA public FROM {}").format(app_id),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(app_id),
        # Nothing through PUBLIC either (none by default): a backup role reads as pg_read_all_data.
        sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, {}").format(app_id),
        sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC, {}").format(app_id),
        sql.SQL("GRANT {} ON ALL TABLES IN SCHEMA public TO {}").format(privileges(TABLE_PRIVILEGES), app_id),
        sql.SQL("GRANT {} ON ALL SEQUENCES IN SCHEMA public TO {}").format(privileges(SEQUENCE_PRIVILEGES), app_id),
        *(
            sql.SQL("REVOKE UPDATE, DELETE ON TABLE {} FROM {}").format(sql.Identifier("public", table), app_id)
            for table in append_only
        ),
        # Tables and sequences the owner makes later (the next migration) are granted as they are made.
        sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public REVOKE ALL ON TABLES FROM {}").format(
            owner_id, app_id
        ),
        sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {}").format(
            owner_id, app_id
        ),
        sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public GRANT {} ON TABLES TO {}").format(
            owner_id, privileges(TABLE_PRIVILEGES), app_id
        ),
        sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public GRANT {} ON SEQUENCES TO {}").format(
            owner_id, privileges(SEQUENCE_PRIVILEGES), app_id
        ),
    ]
    for statement in statements:
        cursor.execute(statement)
    return Grants(tables=tables, append_only=append_only, sequences=len(sequences))


def privilege_problems(cursor, *, app: str) -> list[str]:
    """Tables and sequences of `public` on which `app` holds other privileges than those
    `app_role_grant` gives (held directly, through PUBLIC, or on columns of an append-only table);
    empty when they are exact."""
    append_only = set(append_only_tables(cursor))
    cursor.execute(
        "SELECT c.relname, c.relkind = 'S' FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') ORDER BY 1"
    )
    problems = []
    known: tuple[str, ...]
    expected: tuple[str, ...]
    for name, is_sequence in cursor.fetchall():
        relation = sql.Identifier("public", name).as_string(None)
        if is_sequence:
            function, known, expected = "has_sequence_privilege", ("USAGE", "SELECT", "UPDATE"), SEQUENCE_PRIVILEGES
        else:
            function, known = "has_table_privilege", ALL_TABLE_PRIVILEGES
            expected = APPEND_ONLY_PRIVILEGES if name in append_only else TABLE_PRIVILEGES
        cursor.execute(
            "SELECT " + ", ".join(f"{function}(%s, %s, '{privilege}')" for privilege in known),
            [value for _ in known for value in (app, relation)],
        )
        held = {privilege for privilege, has in zip(known, cursor.fetchone(), strict=True) if has}
        if name in append_only:
            cursor.execute("SELECT has_any_column_privilege(%s, %s, 'UPDATE')", [app, relation])
            if cursor.fetchone()[0]:
                held.add("UPDATE of columns")
        extra, missing = sorted(held - set(expected)), sorted(set(expected) - held)
        if extra:
            problems.append(f"{app} may also {', '.join(extra)} on {name}")
        if missing:
            problems.append(f"{app} lacks {', '.join(missing)} on {name}")
    return problems
