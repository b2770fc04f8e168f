# One failover: the VIP follows the primary the manager chose, with no pg_vip
# setting specific to the manager. pg_auto_failover (Debian's
# postgresql-15-auto-failover, pg_autoctl 2.0): a monitor on its own host,
# node-a and node-b as keepers, pg_auto_failover's synchronous replication
# (one standby in the quorum), the VIP bound on both nodes, a /32 route per
# route table, a client writing through the VIP. pg_vip's settings are the
# lab's common ones, the same as with repmgr and Patroni.
#
# The primary fails by its link cut, not by a kill: pg_autoctl's keeper runs
# its PostgreSQL and starts it again at once when it dies, so a killed
# PostgreSQL is back as the primary before the monitor would act (no
# failover at all). A cut link takes node-a away from the monitor, from
# node-b and from AWS: the monitor's health checks fail, node-b is promoted
# (stop_replication), and after primary_demote_timeout it leaves synchronous
# replication (wait_primary) and takes writes. pg_vip on node-b claims the
# route tables as soon as it is a primary on a new timeline.
use strict;
use warnings;
use lib 'test/perl';
use PgVipLab;
use Test::More;
use Time::HiRes qw(time sleep);

lab_or_skip();
lab_up('--manager', 'pg_auto_failover', '--tables', '3');
lab_confined();

my (undef, $state) = lab('service-status');
like($state, qr/node-a\s*\|.*\|\s*primary\s*\|\s*primary\s*$/m, 'pg_autoctl show state: node-a primary')
  or diag($state);
like($state, qr/node-b\s*\|.*\|\s*secondary\s*\|\s*secondary\s*$/m, 'pg_autoctl show state: node-b secondary');
note($state);

vip_at_start('node-a', 'node-b');

# pg_vip's settings: the lab's common ones (node.sh's node_common_conf), on
# both nodes, from postgresql.conf; nothing of pg_auto_failover's.
my $dir = lab_dir();
my $common = `bash -c 'set -e; source scripts/common.sh; LAB_DIR="$dir"; source test/lab/net.sh; source test/lab/aws.sh; source test/lab/node.sh; source test/lab/dns.sh; source "$dir/lab.env"; node_common_conf'`;
my %want = $common =~ /^(pg_vip\.\w+) = '([^']*)'$/mg;
ok(scalar(keys %want) >= 5, 'node_common_conf sets pg_vip (' . join(', ', sort keys %want) . ')');
for my $node ('node-a', 'node-b') {
	my $rows = lab_sql($node,
		"SELECT string_agg(name || '=' || current_setting(name) || '=' || sourcefile, E'\\n' ORDER BY name) FROM pg_settings "
		  . "WHERE name LIKE 'pg_vip.%' AND source <> 'default' AND name NOT IN ('pg_vip.node_name', 'pg_vip.imds_endpoint')");
	my (%got, %files);
	for (split /\n/, $rows // '') {
		my ($name, $value, $file) = split /=/, $_, 3;
		$got{$name} = $value;
		$files{$file} = 1;
	}
	is_deeply(\%got, \%want, "$node: the pg_vip settings are node_common_conf's, none other")
	  or diag($rows);
	is_deeply([keys %files], ["$dir/$node/data/postgresql.conf"], "$node: all set in postgresql.conf");
	is(lab_sql($node, 'SHOW shared_preload_libraries'), 'pg_vip', "$node: pg_vip is the only preloaded library");
	is(lab_sql($node, 'SHOW pg_vip.node_name'), $node, "$node: pg_vip.node_name is $node (lab_node.conf)");
	my $autoctl = `runuser -u postgres -- sh -c "cat '$dir/$node/data'/postgresql-auto-failover*.conf" 2>/dev/null`;
	unlike($autoctl, qr/pg_vip/, "$node: pg_autoctl's settings files say nothing of pg_vip");
}

my $sync = lab_sql('node-a', 'SHOW synchronous_standby_names') // '';
note("node-a's synchronous_standby_names: '$sync'");

# The failover: node-a's link cut.
my $t0 = time;
my $out = lab_ok("node-a's link cut: the monitor promotes node-b, which takes the VIP", 'failover', '--how', 'cut');
note($out);
my ($failed_at) = $out =~ /failed \(cut\) at (\d+):(\d+):([\d.]+)/ ? ($1 * 3600 + $2 * 60 + $3) : ();
my ($held_at) = $out =~ /holds the VIP at (\d+):(\d+):([\d.]+)/ ? ($1 * 3600 + $2 * 60 + $3) : ();
note(sprintf('failover (link cut to node-b primary holding the VIP, routed to it): %.1f s', $held_at - $failed_at))
  if defined $failed_at && defined $held_at;
is(lab_sql('node-b', 'SELECT pg_is_in_recovery()'), 'f', 'node-b is the primary');
is(lab_sql('node-b', 'SELECT state FROM vip_status()'), 'held', 'node-b holds the VIP');
my $r = vip_moved('node-a', 'node-b', $t0, 3);
(undef, $state) = lab('service-status');
note($state);
like($state, qr/node-b\s*\|.*\|\s*(wait_primary|primary)\s*\|/m, 'pg_autoctl show state: node-b is the primary');

# The data: every commit node-b acknowledged is on node-b; with synchronous
# replication, every commit node-a acknowledged is there too.
lab('client', 'stop');
my $d = client_report(check => 'node-b');
is($d->{lost_by_node}{'node-b'} // 0, 0, 'no commit acknowledged by node-b is missing on node-b');
my $lost_a = $d->{lost_by_node}{'node-a'} // 0;
note("commits acknowledged by node-a and missing on node-b: $lost_a");
if ($sync ne '') {
	is($lost_a, 0, "synchronous replication ($sync): no commit acknowledged by node-a is lost");
}
else {
	note('asynchronous replication: commits acknowledged by node-a may be lost');
}

done_testing();
