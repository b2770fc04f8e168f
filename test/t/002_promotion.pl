# A primary and a streaming standby, both preloading pg_vip: the standby
# reports standby, then notices its promotion; a restarted primary is not
# reported as promoted; SIGHUP changes the route tables live; a worker
# killed by SIGTERM comes back.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use PgVipTest;

my ($primary, $standby) = streaming_pair(
	primary_conf => vip_conf(node_name => 'node-a'),
	standby_conf => "pg_vip.node_name = 'node-b'\npg_vip.network_interface = 'eni-0b1b2c3d'\n");
$primary->wait_for_catchup($standby);

ok(wait_for_status($primary, 'role', 'primary'), 'primary reports primary');
is(status_of($primary, 'primary_by'), 'start', 'a freshly started primary was not promoted');
is(status_of($primary, 'promoted_at IS NULL'), 't', 'no promoted_at on a started primary');

ok(wait_for_status($standby, 'role', 'standby'), 'standby reports standby');
is(status_of($standby, 'state'), 'standby', 'standby state');
is(status_of($standby, 'timeline'), '1', 'standby reports the replayed timeline');
is(status_of($standby, 'promoted_at IS NULL AND primary_by IS NULL'), 't', 'standby not promoted');
like(worker_pid($standby), qr/^\d+$/, 'the worker shows in pg_stat_activity on the standby');

# Promote; the worker notices the end of recovery and the new timeline.
my $before = $standby->safe_psql('postgres', 'SELECT now()');
$standby->promote;
ok(wait_for_status($standby, 'role', 'primary', 10), 'promoted standby reports primary');
is(status_of($standby, 'primary_by'), 'promotion', 'it knows it was promoted');
is(status_of($standby, 'timeline'), '2', 'it reports the new timeline');
# Its endpoints point at a closed loopback port: it claims, and cannot finish.
ok(wait_for_status($standby, 'state', 'claiming'), 'state is claiming');
# (libcurl 8.14 says "127.0.0.1 port 9", 8.22 "127.0.0.1:9": Debian 13 and testing.)
like(status_of($standby, 'last_error'), qr/127\.0\.0\.1(?: port |:)9\b/, 'last_error says which endpoint it cannot reach');
is(status_of($standby, "promoted_at >= '$before'::timestamptz AND promoted_at <= now()"), 't',
	'promoted_at is the time of the promotion');
ok($standby->log_contains('pg_vip: this node was promoted, now primary on timeline 2'),
	'the promotion is logged');

# A worker killed by SIGTERM is started again and keeps what it knew.
my $pid = status_of($standby, 'worker_pid');
kill 'TERM', $pid;
my $deadline = time + 15;
my $new_pid = '';
while (time < $deadline) {
	$new_pid = $standby->safe_psql('postgres', 'SELECT coalesce(worker_pid, 0) FROM vip_status()');
	last if $new_pid ne '0' && $new_pid ne $pid;
	usleep(50_000);
}
isnt($new_pid, $pid, 'the worker exited on SIGTERM');
ok($new_pid > 0, 'the postmaster started a new worker');
is(status_of($standby, 'primary_by'), 'promotion', 'the new worker still knows about the promotion');
is(worker_pid($standby), $new_pid, 'the new worker shows in pg_stat_activity');

# SIGHUP applies a new route table list without a restart.
$standby->append_conf('postgresql.conf',
	"pg_vip.route_tables = 'rtb-0123abcd, rtb-0123456789abcdef0, rtb-deadbeef'\n");
$standby->reload;
ok(wait_for_status($standby, 'array_to_string(route_tables, \',\')',
		'rtb-0123abcd,rtb-0123456789abcdef0,rtb-deadbeef', 10), 'reload changed route_tables live');
is($standby->safe_psql('postgres', 'SELECT string_agg(route_table_id, \',\' ORDER BY route_table_id) FROM vip_routes()'),
	'rtb-0123456789abcdef0,rtb-0123abcd,rtb-deadbeef', 'vip_routes() follows');
is(status_of($standby, 'worker_pid'), $new_pid, 'without restarting the worker');

# A bad value at reload is refused and the old one kept.
$standby->append_conf('postgresql.conf', "pg_vip.route_tables = 'rtb-bad'\n");
$standby->reload;
usleep(300_000);
is(status_of($standby, 'cardinality(route_tables)'), '3', 'a bad value at reload leaves the list as it was');

# Disabled and unconfigured states follow the settings.
$standby->append_conf('postgresql.conf', "pg_vip.route_tables = 'rtb-0123abcd'\npg_vip.enabled = off\n");
$standby->reload;
ok(wait_for_status($standby, 'state', 'disabled', 10), 'enabled = off shows disabled');
$standby->append_conf('postgresql.conf', "pg_vip.enabled = on\npg_vip.vip = ''\n");
$standby->reload;
ok(wait_for_status($standby, 'state', 'unconfigured', 10), 'no vip shows unconfigured');

# The promoted node restarted: now a start, not a promotion.
$standby->restart;
ok(wait_for_status($standby, 'role', 'primary'), 'restarted node is primary');
is(status_of($standby, 'primary_by'), 'start', 'a restarted primary is not reported as promoted');
is(status_of($standby, 'promoted_at IS NULL'), 't', 'and has no promoted_at');
is(status_of($standby, 'timeline'), '2', 'on timeline 2');

$standby->stop;
$primary->stop;
done_testing();
