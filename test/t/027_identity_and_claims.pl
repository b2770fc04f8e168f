# Who a node is, and what a vip_claim() call asks.
#   1. The fence tag names the holder's interface (id=<eni>); the node name
#      is informative only: two nodes with the same pg_vip.node_name are
#      still told apart, and renaming the holder changes nothing.
#   2. A vip_claim(force => true) answered before a worker restart is not
#      replayed by the restarted worker.
#   3. Two vip_claim() calls waiting at once each get their own answer: on a
#      fenced node the plain one is refused, the forced one takes the VIP.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use PgVipTest;

my @tables = qw(rtb-0a000001 rtb-0a000002 rtb-0a000003);
my $key = 'pg_vip:10.0.99.10/32:tl2';

sub targets {
	my ($fake) = @_;
	return join(',', map { route_target($fake, $_) } @tables);
}

sub changing_from {
	my ($fake, $since, $caller) = @_;
	return ec2_requests_since($fake, $since, action => [qw(ReplaceRoute CreateRoute CreateTags)],
		defined $caller ? (caller => $caller) : ());
}

my $fake = start_fake_aws(standard_world());
# Both nodes are called 15/main, as Debian's clusters are by default.
my ($a, $b) = start_pair($fake,
	primary_extra => "pg_vip.node_name = '15/main'\n",
	standby_extra => "pg_vip.node_name = '15/main'\n");
ok(wait_for_status($a, 'state', 'held'), 'node-a holds the VIP');
ok(wait_for_status($b, 'state', 'standby'), 'node-b is a standby');
is(status_of($a, 'node_name') . ' ' . status_of($b, 'node_name'), '15/main 15/main', 'both nodes are named 15/main');
wait_for_query($b, 'SELECT bool_and(checked_at IS NOT NULL) FROM vip_routes()', 't', 30);

# --- Identity ---------------------------------------------------------------
$a->stop('immediate');
$b->promote;
ok(wait_for_status($b, 'state', 'held', 30), 'node-b, promoted, holds the VIP') or diag(status_of($b, 'last_error'));
is(targets($fake), join(',', ('eni-0b00000b') x 3), 'every table points at node-b');
my $state = fake_state($fake);
for my $t (@tables) {
	like($state->{tables}{$t}{tags}{$key} // '', qr/^tl=2;sysid=\d+;id=eni-0b00000b;lease=\d+;since=\d+;at=[^;]+;node=15\/main$/,
		"$t: the fence tag carries id=eni-0b00000b");
}

# Renaming the holder keeps it held, and sends nothing.
my $since = log_size($fake);
$b->safe_psql('postgres', "ALTER SYSTEM SET pg_vip.node_name = 'other'; SELECT pg_reload_conf();");
ok(wait_for_status($b, 'node_name', 'other'), 'node-b renamed to other');
my $seen = states_over($b, 4);
is_deeply([ sort keys %$seen ], ['held'], 'node-b stays held over 4 check intervals after the rename') or diag(explain($seen));
my $changing = changing_from($fake, $since);
is(scalar(@$changing), 0, 'and sends no changing request')
  or diag(join("\n", map { "$_->{action} $_->{params}{RouteTableId}" } @$changing));
is(event_count($b, 'vip_fenced') + event_count($b, 'vip_claim_failed') + event_count($b, 'vip_conflict'), 0,
	'no vip_fenced, vip_claim_failed or vip_conflict on node-b');

# The old primary, also called 15/main, restarts as a primary: fenced by the
# newer timeline, not mistaken for the holder.
$since = log_size($fake);
$a->start;
ok(wait_for_status($a, 'state', 'fenced', 30), 'node-a, restarted with the same node name, is fenced')
  or diag(status_of($a, 'last_error'));
like(status_of($a, 'last_error'), qr/newer timeline/, 'by the newer timeline');
is(status_of($a, 'holder_timeline'), '2', 'the holder is on timeline 2');
sleep 3;
is(status_of($a, 'state') . '/' . status_of($b, 'state'), 'fenced/held', 'three check intervals later: node-a fenced, node-b held');
$changing = changing_from($fake, $since);
is(scalar(@$changing), 0, 'nothing was sent that changes a route or a tag')
  or diag(join("\n", map { "$_->{caller} $_->{action} $_->{params}{RouteTableId}" } @$changing));
is(targets($fake), join(',', ('eni-0b00000b') x 3), 'nothing flipped: every table points at node-b');

# --- A forced claim is answered once ------------------------------------------
$b->stop('immediate');
my ($ret, $out, $err) = $a->psql('postgres', "SELECT string_agg(state, ',') FROM vip_claim(force => true)");
is($ret, 0, 'vip_claim(force => true) on node-a works') or diag($err);
is($out, 'ours,ours,ours', 'and returns the routes, ours');
ok(wait_for_status($a, 'state', 'held'), 'node-a holds');
is(event_count($a, 'vip_claim', '%forced by%'), '1', 'one vip_claim event says "forced by"');
$since = log_size($fake);
my $pid = worker_pid($a);
ok($pid, "node-a's worker runs (pid $pid)");
kill 'TERM', $pid;
ok(wait_for_query($a, "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_vip' AND pid <> $pid", 't', 30),
	'the postmaster restarted the worker');
ok(wait_for_status($a, 'worker_pid', worker_pid($a)), 'vip_status() shows the new worker');
sleep 3;    # three check intervals of the new worker
is(status_of($a, 'state'), 'held', 'the restarted worker keeps the hold');
$changing = changing_from($fake, $since);
is(scalar(@$changing), 0, 'the restarted worker sends no changing request: the forced claim is not replayed')
  or diag(join("\n", map { "$_->{action} $_->{params}{RouteTableId}" } @$changing));
is(event_count($a, 'vip_claim', '%forced by%'), '1', 'and no new vip_claim event "forced by"');
is(count_log_lines($a, qr/WARNING:  pg_vip: claim of the VIP forced by/), 2,
	'the log says "forced by" only for the call itself (the caller\'s WARNING and the worker\'s), not again');

# --- Two calls at once ----------------------------------------------------------
# node-b comes back as a primary (timeline 2): it takes the VIP, node-a is fenced.
$b->start;
ok(wait_for_status($b, 'state', 'held', 30), 'node-b, restarted as primary on timeline 2, takes the VIP back')
  or diag(status_of($b, 'last_error'));
ok(wait_for_status($a, 'state', 'fenced', 30), 'node-a is fenced again') or diag(status_of($a, 'last_error'));

# Hold node-a's worker still while both calls queue up: a plain one, then a
# forced one. Each gets the answer of its own claim, whichever backend looks
# first (the forced claim may well end before the plain call's backend reads
# its answer: the answer keeps the state its claim ended in).
$pid = worker_pid($a);
kill 'STOP', $pid;
my $waiting = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT%vip_claim(%' AND state = 'active' "
  . "AND pid <> pg_backend_pid()";
my $plain = start_psql_bg($a, "SELECT string_agg(state, ',') FROM vip_claim()");
my $plain_waits = wait_for_query($a, $waiting, '1');
my $forced = start_psql_bg($a, "SELECT string_agg(state, ',') FROM vip_claim(force => true)");
my $both_wait = wait_for_query($a, $waiting, '2');
kill 'CONT', $pid;
ok($plain_waits && $both_wait, 'both calls waited for the worker at once');
my $plain_ok = eval { $plain->{h}->finish };
my $forced_ok = eval { $forced->{h}->finish };
ok(!$plain_ok, 'the plain vip_claim() fails') or diag(${ $plain->{out} } . ${ $plain->{err} });
like(${ $plain->{err} }, qr/this node is fenced/, 'because this node is fenced');
ok($forced_ok, 'the forced one succeeds') or diag(${ $forced->{err} });
is(${ $forced->{out} } =~ s/\s+\z//r, 'ours,ours,ours', 'and returns the routes, ours');
like(${ $forced->{err} }, qr/WARNING:  pg_vip: claim of the VIP forced by/, 'with its WARNING');

$a->stop;
$b->stop;
done_testing();
