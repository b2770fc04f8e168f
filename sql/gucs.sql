-- Bad values are refused with a message that says what was expected; good
-- ones are stored in canonical form.
SHOW pg_vip.route_tables;
SHOW pg_vip.vip;
SHOW pg_vip.network_interface;
SHOW pg_vip.imds_endpoint;
SHOW pg_vip.enabled;
SHOW pg_vip.check_interval;
SHOW pg_vip.request_timeout;
SHOW pg_vip.fence_action;
SHOW pg_vip.fence_allow_roles;

-- Reloadable only: not settable in a session.
SET pg_vip.vip = '10.0.0.1/32';

-- ALTER SYSTEM runs the same check hooks as postgresql.conf does.
ALTER SYSTEM SET pg_vip.vip = '10.0.0.1';
ALTER SYSTEM SET pg_vip.vip = '10.0.0.0/24';
ALTER SYSTEM SET pg_vip.vip = 'not-an-ip/32';
ALTER SYSTEM SET pg_vip.route_tables = 'rtb-0123abcd, rtb-xyz';
ALTER SYSTEM SET pg_vip.route_tables = 'rtb-0123abcd, rtb-0123abcd';
ALTER SYSTEM SET pg_vip.route_tables = 'rtb-0123abcd,,rtb-4567abcd';
ALTER SYSTEM SET pg_vip.network_interface = 'eth0';
ALTER SYSTEM SET pg_vip.region = 'US-East-1';
ALTER SYSTEM SET pg_vip.ec2_endpoint = 'ec2.amazonaws.com';
ALTER SYSTEM SET pg_vip.ec2_endpoint = 'http://127.0.0.1:99999';
ALTER SYSTEM SET pg_vip.imds_endpoint = '';
ALTER SYSTEM SET pg_vip.aws_profile = 'two words';
ALTER SYSTEM SET pg_vip.node_name = 'this-node-name-is-far-too-long-for-a-tag-value-in-pg-vip-really-far';
ALTER SYSTEM SET pg_vip.event_notifications = 'vip_held, vip_moved';
ALTER SYSTEM SET pg_vip.ca_file = 'relative.pem';
ALTER SYSTEM SET pg_vip.ca_file = '/nonexistent/pg_vip/ca.pem';
ALTER SYSTEM SET pg_vip.fence_key_file = 'relative.key';
ALTER SYSTEM SET pg_vip.fence_key_file = '/nonexistent/pg_vip/fence.key';
ALTER SYSTEM SET pg_vip.check_interval = 0;
ALTER SYSTEM SET pg_vip.request_timeout = '2 days';
ALTER SYSTEM SET pg_vip.enabled = 'maybe';
ALTER SYSTEM SET pg_vip.fence_action = 'kill';
-- Role names as identifiers, checked for their syntax only: a role that does
-- not exist is accepted (the catalogs cannot be read at reload) and named in
-- a WARNING when a fence begins; public is not a role.
ALTER SYSTEM SET pg_vip.fence_allow_roles = 'exporter,,monitoring';
ALTER SYSTEM SET pg_vip.fence_allow_roles = 'exporter, "monitoring';
ALTER SYSTEM SET pg_vip.fence_allow_roles = 'exporter, public';
ALTER SYSTEM SET pg_vip.fence_allow_roles = 'exporter, "Monitoring Team"';
ALTER SYSTEM RESET pg_vip.fence_allow_roles;
ALTER SYSTEM SET pg_vip.no_such_setting = 'x';
-- The notification command: a placeholder in quotes, joined to other text or
-- handed to eval would let text from AWS (a fence tag's node name) run as
-- shell code.
ALTER SYSTEM SET pg_vip.event_notification_command = '/etc/repmgr/repmgr-hook.sh %n %e %s "%t" "%d"';
ALTER SYSTEM SET pg_vip.event_notification_command = '/usr/local/bin/vip-hook --details=%d';
ALTER SYSTEM SET pg_vip.event_notification_command = 'eval /usr/local/bin/vip-hook %e %d';

-- vip_check_setting() gives the canonical form.
SELECT vip_check_setting('pg_vip.route_tables', ' rtb-0123abcd ,rtb-4567abcd ');
SELECT vip_check_setting('vip', '2001:DB8::0:1/128');
SELECT vip_check_setting('ec2_endpoint', 'https://ec2.eu-west-1.amazonaws.com/');
SELECT vip_check_setting('event_notifications', 'vip_fenced,vip_held,vip_fenced');
SELECT vip_check_setting('event_notification_command', '/etc/repmgr/repmgr-hook.sh %n %e %s %t %d');
SELECT vip_check_setting('event_notification_command', '/usr/local/bin/vip-hook "$PG_VIP_DETAILS"');

-- vip_check_setting() knows every setting, with the words a reload gives.
SELECT vip_check_setting('pg_vip.check_interval', '10000');
SELECT vip_check_setting('check_interval', '90s');
SELECT vip_check_setting('pg_vip.preflight_min_interval', '60000');
SELECT vip_check_setting('pg_vip.check_interval', '0');
SELECT vip_check_setting('pg_vip.request_timeout', '2 days');
SELECT vip_check_setting('pg_vip.request_timeout', 'soon');
SELECT vip_check_setting('pg_vip.enabled', 'yes');
SELECT vip_check_setting('pg_vip.dry_run', 'OFF');
SELECT vip_check_setting('pg_vip.enabled', 'maybe');
SELECT vip_check_setting('pg_vip.fence_action', 'REJECT');
SELECT vip_check_setting('pg_vip.fence_action', 'kill');
SELECT vip_check_setting('pg_vip.fence_allow_roles', 'exporter, "Monitoring Team"');
SELECT vip_check_setting('pg_vip.fence_allow_roles', 'exporter, public');
SELECT vip_check_setting('pg_vip.fence_allow_roles', 'exporter,,monitoring');
-- Checking changes nothing.
SHOW pg_vip.check_interval;
SHOW pg_vip.fence_action;
