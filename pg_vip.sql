-- pg_vip: the SQL face of the worker that moves the virtual IP.
\echo Use "CREATE EXTENSION pg_vip" to load this file. \quit

CREATE FUNCTION vip_status(
    OUT node_name text,
    OUT role text,
    OUT state text,
    OUT vip text,
    OUT network_interface text,
    OUT timeline bigint,
    OUT promoted_at timestamptz,
    OUT primary_by text,
    OUT route_tables text[],
    OUT routes_held integer,
    OUT last_claim_ms double precision,
    OUT last_error text,
    OUT worker_pid integer,
    OUT holder text,
    OUT holder_timeline bigint,
    OUT source_dest_check boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'vip_status'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION vip_status() IS
  'This node''s pg_vip state: role, claim state, timeline, routes held and the last error';

-- One route table as pg_vip last saw it: the row of vip_routes() and vip_claim().
CREATE TYPE vip_route AS (
    route_table_id text,
    destination text,
    target text,
    state text,
    holder text,
    holder_timeline bigint,
    checked_at timestamptz,
    last_error text);

CREATE FUNCTION vip_routes()
RETURNS SETOF vip_route
AS 'MODULE_PATHNAME', 'vip_routes'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION vip_routes() IS
  'One row per configured route table: where the virtual IP''s route points and who holds it';

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

CREATE FUNCTION vip_events(
    OUT at timestamptz,
    OUT event text,
    OUT success boolean,
    OUT details text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'vip_events'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION vip_events() IS
  'The recent pg_vip events (vip_claim, vip_claim_failed, vip_held, vip_fenced, vip_repaired), oldest first';

CREATE FUNCTION vip_claim(force boolean DEFAULT false)
RETURNS SETOF vip_route
AS 'MODULE_PATHNAME', 'vip_claim'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION vip_claim(boolean) IS
  'Points the virtual IP at this primary now (switchover, repair); force overrides the timeline fence';

CREATE FUNCTION vip_check_setting(name text, value text)
RETURNS text
AS 'MODULE_PATHNAME', 'vip_check_setting'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION vip_check_setting(text, text) IS
  'Validates a pg_vip setting value as postgresql.conf would and returns its canonical form';

-- Every check a failover depends on: one row per check, from the last run
-- (at most pg_vip.preflight_min_interval old; one run at a time per server),
-- or from a run now with fresh => true (superusers only).
CREATE FUNCTION vip_preflight(
    fresh boolean DEFAULT false,
    OUT "check" text,
    OUT ok boolean,
    OUT detail text,
    OUT hint text,
    OUT checked_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'vip_preflight'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION vip_preflight(boolean) IS
  'What a failover will need: credentials, region, metadata, the interface, permissions (DryRun), route tables, the VIP bound locally, the clock; from the last run unless fresh';

-- The least-privilege IAM policy for this node's settings, as JSON.
CREATE FUNCTION vip_iam_policy()
RETURNS text
AS 'MODULE_PATHNAME', 'vip_iam_policy'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION vip_iam_policy() IS
  'The least-privilege IAM policy for this node''s pg_vip settings: its route tables by ARN, this VIP''s fence tag keys';

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

CREATE FUNCTION vip_version()
RETURNS text
AS 'MODULE_PATHNAME', 'vip_version'
LANGUAGE C STRICT STABLE;

-- Monitoring reads are for pg_monitor; nothing is left to PUBLIC but the version.
REVOKE ALL ON FUNCTION vip_status() FROM PUBLIC;
REVOKE ALL ON FUNCTION vip_routes() FROM PUBLIC;
REVOKE ALL ON FUNCTION vip_targets() FROM PUBLIC;
REVOKE ALL ON FUNCTION vip_events() FROM PUBLIC;
REVOKE ALL ON FUNCTION vip_claim(boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION vip_check_setting(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION vip_preflight(boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION vip_iam_policy() FROM PUBLIC;
REVOKE ALL ON FUNCTION vip_metrics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vip_status() TO pg_monitor;
GRANT EXECUTE ON FUNCTION vip_routes() TO pg_monitor;
GRANT EXECUTE ON FUNCTION vip_targets() TO pg_monitor;
GRANT EXECUTE ON FUNCTION vip_events() TO pg_monitor;
GRANT EXECUTE ON FUNCTION vip_preflight(boolean) TO pg_monitor;
GRANT EXECUTE ON FUNCTION vip_metrics() TO pg_monitor;
