"""The database revokes API tokens: a trigger on accounts_user deletes a user's knox tokens when
its password changes (any way: the services, the admin's password forms, a raw UPDATE) or the
user goes from active to inactive, on PostgreSQL and on SQLite alike (docs/security.md,
"API tokens"). Other changes of a user (a login's last_login, a full save writing the same
values) leave its tokens alone.

SQLite: a later migration that rebuilds accounts_user (Django copies a table to alter it) drops
the trigger, and one that rebuilds knox_authtoken fails while the trigger names it ("error in
trigger ... no such table"): such a migration drops the trigger first (SQLITE_REVERSE) and creates
it again after (SQLITE). PostgreSQL needs neither."""

from django.db import migrations

from vault.core.db import run_sql_for

POSTGRES = """
CREATE OR REPLACE FUNCTION vault_revoke_api_tokens() RETURNS trigger AS $$
BEGIN
    DELETE FROM knox_authtoken WHERE user_id = NEW.id;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER accounts_user_revoke_api_tokens
    AFTER UPDATE OF password, is_active ON accounts_user
    FOR EACH ROW
    WHEN (NEW.password IS DISTINCT FROM OLD.password OR (OLD.is_active AND NOT NEW.is_active))
    EXECUTE FUNCTION vault_revoke_api_tokens();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS accounts_user_revoke_api_tokens ON accounts_user;
DROP FUNCTION IF EXISTS vault_revoke_api_tokens();
"""

SQLITE = """
CREATE TRIGGER accounts_user_revoke_api_tokens
    AFTER UPDATE OF password, is_active ON accounts_user
    FOR EACH ROW WHEN NEW.password IS NOT OLD.password OR (OLD.is_active AND NOT NEW.is_active)
BEGIN
    DELETE FROM knox_authtoken WHERE user_id = NEW.id;
END
"""
SQLITE_REVERSE = "DROP TRIGGER IF EXISTS accounts_user_revoke_api_tokens"


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_api_tokens")]

    operations = [
        run_sql_for("postgresql", POSTGRES, POSTGRES_REVERSE),
        run_sql_for("sqlite", SQLITE, SQLITE_REVERSE),
    ]
