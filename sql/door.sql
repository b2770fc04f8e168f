-- An exception thrown by the C++ core comes out as a clean SQL error: the
-- session goes on (a crash would have ended it), and the worker is the same
-- process (a crash restart would have replaced it).
SELECT worker_pid AS pid_before FROM vip_status() \gset

SELECT vip_check_setting('pg_vip.route_tables', 'rtb-0123abcd, rtb-1');
SELECT vip_check_setting('pg_vip.no_such_setting', 'x');
SELECT vip_check_setting('pg_vip.vip', repeat('9', 100000));

SELECT 1 AS session_still_works;
SELECT worker_pid = :pid_before AS same_worker FROM vip_status();
