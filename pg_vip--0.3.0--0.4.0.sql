-- pg_vip 0.3.0 -> 0.4.0, as pg_vip.sql declares them, with the same
-- privileges: vip_targets() is new.
\echo Use "ALTER EXTENSION pg_vip UPDATE TO '0.4.0'" to load this file. \quit

-- One row per target of any kind (route tables today): what it should
-- point at, what it points at, and who holds it. vip_routes() is the route
-- kind's view, as it was before there were other kinds.
CREATE FUNCTION vip_targets(
    OUT kind text,
    OUT id text,
    OUT desired text,
    OUT actual text,
    OUT state text,
    OUT holder text,
    OUT holder_timeline bigint,
    OUT checked_at timestamptz,
    OUT last_error text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'vip_targets'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION vip_targets() IS
  'One row per target of any kind: what it should point at, what it points at, its state and holder';

REVOKE ALL ON FUNCTION vip_targets() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vip_targets() TO pg_monitor;
