# A planned switchover with `repmgr standby switchover` (repmgr reaches the
# old primary over ssh: test/lab/ssh.sh), there and back, with synchronous
# replication: the VIP follows each time, the client's writes resume through
# it, the write gap is reported, and no acknowledged commit is lost.
use strict;
use warnings;
use lib 'test/perl';
use PgVipLab;
use Test::More;
use Time::HiRes qw(time sleep);

lab_or_skip();
lab_up('--manager', 'repmgr', '--tables', '3', '--sync');
is(lab_sql('node-a', 'SHOW synchronous_standby_names'), '*', 'node-a commits synchronously');
ok(wait_until(sub { (client_report()->{by_node}{'node-a'} // 0) >= 50 }, 20),
	'the client commits through the VIP on node-a');

for my $step (['node-b', 'node-a'], ['node-a', 'node-b']) {
	my ($new, $old) = @$step;
	my $t0 = time;
	my $out = lab_ok("switchover to $new", 'switchover');
	note($out);
	like((lab('vip-host'))[1], qr/^$new$/m, "the router sends the VIP's packets to $new");
	is(lab_sql($new, "SELECT count(*) FROM vip_routes() WHERE state = 'ours'"), '3', "$new holds all 3 route tables");
	ok(wait_until(sub { (lab_sql($old, 'SELECT state FROM vip_status()') // '') eq 'standby' }, 30),
		"$old is a standby for pg_vip");
	ok(wait_until(sub { (client_report(since => $t0)->{by_node}{$new} // 0) >= 50 }, 20),
		"the client's writes resume through the VIP on $new");
	my $r = client_report(since => $t0);
	is($r->{outage}{first_node}, $new, "the write gap ends on $new");
	is($r->{outage}{after_by_node}{$old} // 0, 0, "after the gap, no write reached $old");
	note(sprintf("switchover to $new: write gap %.0f ms (%d failed attempts)",
		$r->{outage}{seconds} * 1000, $r->{outage}{failed_attempts}));
	ok(wait_until(sub { (lab_sql($new, "SELECT state FROM pg_stat_replication WHERE application_name = '$old'") // '') eq 'streaming' }, 30),
		"$old streams from $new");
}
# EC2's source/destination check: with it on for node-a's instance, packets
# for the VIP routed there are dropped (the lab's router blackholes them);
# off again, they flow.
lab_ok('the source/destination check turned on for i-0a000001', 'aws-control', 'source_dest_check',
	'{"instance": "i-0a000001", "value": true}');
like((lab('vip-route'))[1], qr/^blackhole 10\.0\.99\.10/m, "the VIP's route becomes a blackhole");
sleep 1.5;
my $t1 = time;
sleep 1.5;
is(client_report(since => $t1)->{acked}, 0, 'the client reaches nothing through the VIP');
lab_ok('the check turned off again', 'aws-control', 'source_dest_check', '{"instance": "i-0a000001", "value": false}');
ok(wait_until(sub { (client_report(since => $t1)->{by_node}{'node-a'} // 0) >= 20 }, 20),
	'the client commits through the VIP on node-a again');
lab('client', 'stop');
my $d = client_report(check => 'node-a');
ok($d->{acked} > 100, "the client's commits were acknowledged ($d->{acked})");
is($d->{lost}, 0, 'synchronous replication: no acknowledged commit is missing on the final primary')
  or diag(explain($d->{lost_by_node}));

done_testing();
