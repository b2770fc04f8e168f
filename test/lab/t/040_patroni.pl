# One failover: the VIP follows the primary the manager chose, with no
# pg_vip setting specific to the manager. Patroni (Debian's 3.0.2) with etcd
# (3.4, in the router's namespace on 10.0.0.1) on two nodes, the VIP bound
# on both, a /32 route per route table, a client writing through the VIP.
# pg_vip is set up as for every other manager (test/lab/node.sh's settings,
# which Patroni includes as its custom_conf). The leader's PostgreSQL is
# killed: Patroni promotes node-b, pg_vip on node-b takes the VIP in every
# route table, the client's writes resume on node-b with nothing node-b
# acknowledged lost. Patroni brings node-a back as a standby on its own
# (pg_rewind), and a planned `patronictl switchover` hands the primary, and
# with it the VIP, back to node-a.
use strict;
use warnings;
use lib 'test/perl';
use PgVipLab;
use Test::More;
use Time::HiRes qw(time);
use Cwd qw(abs_path);
use File::Basename qw(dirname);

lab_or_skip();
lab_up('--manager', 'patroni', '--tables', '3');
lab_confined();

my $env = lab_env();

vip_at_start('node-a', 'node-b');
like((lab('service-status'))[1], qr/node-a\s*\|[^\n]*\|\s*Leader\s*\|\s*running/, 'patronictl list: node-a is the leader');

# pg_vip's settings are the lab's, as node_common_conf writes them for every
# manager: the same names and values, and no other pg_vip setting.
my %want;
{
	my $top = abs_path(dirname(__FILE__) . '/../../..');
	my $conf = `bash -c 'source "$top/scripts/common.sh"; LAB_DIR="$env->{LAB_DIR}"; for f in net aws node dns; do source "$top/test/lab/\$f.sh"; done; source "\$LAB_DIR/lab.env"; node_common_conf'`;
	%want = $conf =~ /^(pg_vip\.\w+)\s*=\s*'([^']*)'/mg;
	($want{shared_preload_libraries}) = $conf =~ /^shared_preload_libraries\s*=\s*'([^']*)'/m;
}
ok(keys %want >= 5, 'node_common_conf gives the pg_vip settings (' . join(', ', sort keys %want) . ')');
for my $node ('node-a', 'node-b') {
	my $got = lab_sql($node, "SELECT string_agg(name || '=' || current_setting(name), E'\\n' ORDER BY name) FROM pg_settings
		WHERE (name LIKE 'pg_vip.%' AND source <> 'default' AND name NOT IN ('pg_vip.node_name', 'pg_vip.imds_endpoint'))
		   OR name = 'shared_preload_libraries'") // '';
	my %got = $got =~ /^([\w.]+)=(.*)$/mg;
	is_deeply(\%got, \%want, "$node under Patroni: pg_vip's settings are node_common_conf's, nothing else");
	is(lab_sql($node, "SELECT current_setting('pg_vip.node_name')"), $node, "$node: pg_vip.node_name is the node's own");
}

# 1. The leader's PostgreSQL killed (SIGKILL to the postmaster and its
# children). Patroni on node-a would restart it in place, but the lab's DCS
# settings have primary_start_timeout 0 (Patroni's documented "fail over
# rather than restart a crashed primary"): Patroni on node-a releases the
# leader key and Patroni on node-b promotes it. A real Patroni failover, the
# choice of the manager, not of the lab.
my $t0 = time;
my $out = lab_ok('node-a killed: Patroni promotes node-b, which takes the VIP', 'failover', '--how', 'kill');
note($out);
my $failover_s;
if ($out =~ /at (\d+):(\d+):(\d+\.\d+)\n.*at (\d+):(\d+):(\d+\.\d+)/s) {
	$failover_s = ($4 * 3600 + $5 * 60 + $6) - ($1 * 3600 + $2 * 60 + $3);
	note(sprintf('from the kill to node-b primary with the VIP held and routed: %.2f s', $failover_s));
}
is(lab_sql('node-b', 'SELECT pg_is_in_recovery()'), 'f', 'node-b is the primary');
is(lab_sql('node-b', 'SELECT state FROM vip_status()'), 'held', 'node-b holds the VIP');
like((lab('service-status', 'node-b'))[1], qr/node-b\s*\|[^\n]*\|\s*Leader\s*\|/, 'patronictl list: node-b is the leader');
vip_moved('node-a', 'node-b', $t0, 3);

# Patroni brings node-a back by itself: a standby of node-b (rewound).
my ($rc, $rejoin) = lab('rejoin', 'node-a');
is($rc, 0, 'Patroni makes node-a a standby streaming from node-b') or diag($rejoin);
ok(wait_until(sub { (lab_sql('node-a', 'SELECT state FROM vip_status()') // '') eq 'standby' }, 30),
	'pg_vip on node-a reports standby');
like((lab('vip-host'))[1], qr/^node-b$/m, "the router still sends the VIP's packets to node-b");

my $d = client_report(check => 'node-b');
is($d->{lost_by_node}{'node-b'} // 0, 0, 'no commit acknowledged by node-b is missing on node-b');
note('commits acknowledged by node-a and lost with it (asynchronous replication): ' . ($d->{lost_by_node}{'node-a'} // 0));

# 2. A planned switchover back to node-a (patronictl switchover): the VIP follows.
$t0 = time;
$out = lab_ok('patronictl switchover: node-a is primary again and holds the VIP', 'switchover');
note($out);
like((lab('vip-host'))[1], qr/^node-a$/m, "the router sends the VIP's packets to node-a again");
is(lab_sql('node-a', "SELECT count(*) FROM vip_routes() WHERE state = 'ours'"), '3', 'all 3 route tables held by node-a');
is(lab_sql('node-a', 'SELECT timeline FROM vip_status()'), '3', 'node-a holds the VIP on timeline 3');
ok(wait_until(sub { (client_report(since => $t0)->{by_node}{'node-a'} // 0) >= 50 }, 20),
	"the client's writes resume through the VIP on node-a");
my $r = client_report(since => $t0);
note(sprintf('write gap through the switchover: %.0f ms', $r->{outage}{seconds} * 1000)) if $r->{outage};
ok(wait_until(sub { (lab_sql('node-b', 'SELECT state FROM vip_status()') // '') eq 'standby' }, 30),
	'node-b, a standby again for Patroni, is a standby for pg_vip');

lab('client', 'stop');
$d = client_report(check => 'node-a', since => $t0);
is($d->{lost_by_node}{'node-a'} // 0, 0, 'no commit acknowledged by node-a is missing on node-a');
is($d->{lost_by_node}{'node-b'} // 0, 0, 'nor any acknowledged by node-b (a switchover loses nothing)');

done_testing();
