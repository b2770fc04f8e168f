-- pg_vip 0.1.0 -> 0.2.0: vip_preflight() and vip_metrics(), as pg_vip.sql
-- declares them, with the same privileges. (pg_vip.fence_action, also new in
-- 0.2.0, is a setting of the library: it needs no SQL.)
\echo Use "ALTER EXTENSION pg_vip UPDATE TO '0.2.0'" to load this file. \quit

-- Every check a failover depends on, run now: one row per check.
CREATE FUNCTION vip_preflight(
    OUT "check" text,
    OUT ok boolean,
    OUT detail text,
    OUT hint text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'vip_preflight'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION vip_preflight() IS
  'Checks now what a failover will need: credentials, region, metadata, the interface, permissions (DryRun), route tables, the VIP bound locally, the clock';

-- Counters since the server started, one row per value, in Prometheus'' shape:
-- labels action, outcome and le are NULL where they do not apply.
CREATE FUNCTION vip_metrics(
    OUT metric text,
    OUT action text,
    OUT outcome text,
    OUT le double precision,
    OUT value double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'vip_metrics'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION vip_metrics() IS
  'pg_vip''s counters since the server started: claims, failures, repairs, fences, AWS calls by action and outcome, claim durations';

REVOKE ALL ON FUNCTION vip_preflight() FROM PUBLIC;
REVOKE ALL ON FUNCTION vip_metrics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vip_preflight() TO pg_monitor;
GRANT EXECUTE ON FUNCTION vip_metrics() TO pg_monitor;
