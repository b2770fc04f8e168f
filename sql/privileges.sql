-- Only the version is executable by PUBLIC; monitoring is for pg_monitor.
SELECT p.proname
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_vip'
 WHERE p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0)
 ORDER BY 1;

-- Every pg_vip setting, as the superuser sees them: pg_monitor sees as many.
SELECT count(*) AS vip_settings FROM pg_settings WHERE name LIKE 'pg_vip.%' \gset

CREATE ROLE vip_ordinary;
CREATE ROLE vip_monitor IN ROLE pg_monitor;

SET ROLE vip_ordinary;
SELECT state FROM vip_status();
SELECT count(*) FROM vip_routes();
SELECT count(*) FROM vip_targets();
SELECT vip_check_setting('vip', '10.0.0.1/32');
SELECT count(*) FROM vip_events();
SELECT * FROM vip_claim();
SELECT * FROM vip_claim(force => true);
SELECT count(*) FROM vip_preflight();
SELECT count(*) FROM vip_metrics();
SHOW pg_vip.vip;
SHOW pg_vip.event_notification_command;
SELECT count(*) AS settings_seen FROM pg_settings WHERE name LIKE 'pg_vip.%';
SELECT vip_version() IS NOT NULL AS version_readable;
RESET ROLE;

SET ROLE vip_monitor;
SELECT role, state FROM vip_status();
SELECT count(*) FROM vip_routes();
SELECT count(*) FROM vip_targets();
SELECT count(*) >= 0 AS events_readable FROM vip_events();
SELECT count(*) >= 0 AS preflight_runs FROM vip_preflight();
SELECT count(*) >= 0 AS metrics_readable FROM vip_metrics();
SELECT vip_check_setting('vip', '10.0.0.1/32');
SELECT * FROM vip_claim();
-- pg_monitor includes pg_read_all_settings, which reads every pg_vip
-- setting, the notification command included: the README says it must not
-- carry secrets (its hook gets every value in PG_VIP_* variables instead).
SHOW pg_vip.event_notification_command;
SELECT count(*) = :vip_settings AND count(*) > 0 AS sees_every_setting FROM pg_settings WHERE name LIKE 'pg_vip.%';
RESET ROLE;

DROP ROLE vip_ordinary;
DROP ROLE vip_monitor;
