-- pg_vip 0.2.0 -> 0.3.0, as pg_vip.sql declares them, with the same
-- privileges: vip_preflight() takes fresh and returns when each row was
-- checked (its result changes, so it is dropped and made again: a view or
-- function of yours that uses it must be made again too), and
-- vip_iam_policy() is new.
\echo Use "ALTER EXTENSION pg_vip UPDATE TO '0.3.0'" to load this file. \quit

DROP FUNCTION vip_preflight();

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

REVOKE ALL ON FUNCTION vip_preflight(boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION vip_iam_policy() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vip_preflight(boolean) TO pg_monitor;
