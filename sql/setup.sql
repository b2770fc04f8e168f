-- The extension installs and its worker is running.
CREATE EXTENSION pg_vip;
SELECT extversion = vip_version() AS library_matches_sql FROM pg_extension WHERE extname = 'pg_vip';

-- Wait (bounded) until the worker has looked at the instance once.
DO $$
BEGIN
  FOR i IN 1..200 LOOP
    EXIT WHEN (SELECT role FROM vip_status()) = 'primary';
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;

SELECT backend_type, wait_event_type FROM pg_stat_activity WHERE backend_type = 'pg_vip';
