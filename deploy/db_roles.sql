-- Vault's PostgreSQL roles and database: an owner that migrations run as, and an application role
-- that owns nothing (docs/security.md, "Least privilege in the database").
--
-- Run as a superuser, once per installation and again whenever in doubt (it is idempotent):
--
--   psql -v owner=vault_owner -v app=vault_app -v db=vault -f deploy/db_roles.sql
--
-- then give each login role its password without it reaching a shell history or a log:
-- `\password vault_owner` and `\password vault_app` in psql. MIGRATE_DATABASE_URL connects as the
-- owner (the migrate step only); DATABASE_URL as the application role (web, workers, beat).
-- `manage.py migrate` then grants the application role what it needs, table by table.
--
-- An existing database (owned by postgres, or by the role the application used to connect as) is
-- taken over: the database, and every table, sequence, view and function in its public schema,
-- are given to the owner.

\set ON_ERROR_STOP on

-- The roles. Neither is a superuser nor may create roles or databases, replicate or bypass row
-- security. The application role inherits nothing and is a member of no role (checked by migrate).
SELECT format('CREATE ROLE %I LOGIN', :'owner')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I LOGIN', :'app')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec
ALTER ROLE :"owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT;

-- The database belongs to the owner. Nobody else may connect, create schemas or temporary tables
-- there, except as granted: CONNECT to the application role (and to a backup role,
-- docs/backup-restore.md).
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
ALTER DATABASE :"db" OWNER TO :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"app";

\connect :"db"
-- Only the owner creates objects in the schema (PostgreSQL 15's default; not so before 15).
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SELECT format('ALTER SCHEMA public OWNER TO %I', :'owner')
 WHERE (SELECT nspowner FROM pg_namespace WHERE nspname = 'public')
       NOT IN (SELECT oid FROM pg_roles WHERE rolname IN (:'owner', 'pg_database_owner')) \gexec

-- Taking over what earlier migrations made as another role (the sequences of identity and serial
-- columns follow their table).
SELECT format('ALTER %s %s OWNER TO %I',
              CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                             WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
              c.oid::regclass, :'owner')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
   AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = :'owner')
   AND NOT (c.relkind = 'S' AND EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                         AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
 ORDER BY c.relkind DESC, c.relname \gexec
SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, :'owner')
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'public' AND p.proowner <> (SELECT oid FROM pg_roles WHERE rolname = :'owner') \gexec
