#!/bin/sh
# First start of the database volume only (docker-entrypoint-initdb.d): the roles Một Cửa uses.
# - motcua_owner owns the schema; only the migrate job connects as it.
# - motcua_app is what the services and workers use: no superuser, no CREATEDB/CREATEROLE, and only
#   SELECT/INSERT/UPDATE/DELETE on the tables (and sequences) the owner creates.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner_pw="$MOTCUA_OWNER_PASSWORD" -v app_pw="$MOTCUA_APP_PASSWORD" <<'SQL'
CREATE ROLE motcua_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_pw';
CREATE ROLE motcua_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_pw';
CREATE SCHEMA motcua AUTHORIZATION motcua_owner;
-- the catalogue's search needs pg_trgm; motcua_owner may not create extensions in this database (it does not
-- own it), so it is created here, in the app's schema (public is closed below), and the migration's
-- CREATE EXTENSION IF NOT EXISTS finds it
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA motcua;
ALTER ROLE motcua_owner SET search_path = motcua;
ALTER ROLE motcua_app SET search_path = motcua;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA motcua TO motcua_app;
ALTER DEFAULT PRIVILEGES FOR ROLE motcua_owner IN SCHEMA motcua
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO motcua_app;
ALTER DEFAULT PRIVILEGES FOR ROLE motcua_owner IN SCHEMA motcua
  GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO motcua_app;
SQL
