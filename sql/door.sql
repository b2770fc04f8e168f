-- An exception thrown by the C++ core comes out as a clean SQL error: the
-- session goes on (a crash would have ended it), and the worker is the same
-- process (a crash restart would have replaced it).
SELECT worker_pid AS pid_before FROM vip_status() \gset

SELECT vip_check_setting('pg_vip.route_tables', 'rtb-0123abcd, rtb-1');
SELECT vip_check_setting('pg_vip.no_such_setting', 'x');
SELECT vip_check_setting('pg_vip.vip', repeat('9', 100000));

-- The SQL functions' own ERRORs longjmp out of their bodies through the door
-- (door.hpp says why that is safe, test/t/047_door_frames.pl holds it): each
-- one here, and the session goes on.
SELECT vip_check_setting('pg_vip.check_interval', '0');
SELECT vip_check_setting('pg_vip.enabled', 'maybe');
SELECT vip_check_setting('pg_vip.fence_allow_roles', 'exporter, public');
SELECT * FROM vip_claim();
CREATE ROLE door_monitor IN ROLE pg_monitor;
SET ROLE door_monitor;
SELECT count(*) FROM vip_preflight(fresh => true);
RESET ROLE;
DROP ROLE door_monitor;

SELECT 1 AS session_still_works;
SELECT worker_pid = :pid_before AS same_worker FROM vip_status();
