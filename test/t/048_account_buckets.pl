# A busy account: the endpoint throttles as EC2 does, with a token bucket
# per action shared by every caller (test/fake_aws/server.py, POST
# /_fake/buckets), small enough that a promotion over six route tables
# certainly meets it. The promoted standby still ends holding every table,
# the old primary (still running) goes fenced, and vip_metrics()' throttled
# attempts, summed over both nodes, are exactly what the endpoint refused,
# action by action.
#
# The buckets go on only once both workers ran their preflight: the
# preflight's requests (its DryRun probes and its reads) are not counted by
# vip_metrics() (its RetryPolicy has no on_attempt), so a preflight throttled
# inside the window would make the endpoint's count larger than the nodes'.
# The test checks that none ran in it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use JSON::PP qw(encode_json);
use PgVipTest;

my @tables = map { "rtb-0a00000$_" } 1 .. 6;
my $vip = '10.0.99.10/32';
# Four tables route the VIP at node-a, two not yet: node-a's claim at start
# creates those (CreateRoute, before the buckets), so the promotion replaces
# six routes in one round trip, and tags the six tables in one CreateTags.
my $fake = start_fake_aws(standard_world(),
	route_tables => [
		(map { { id => $_, routes => [ { destination => $vip, eni => 'eni-0a00000a' } ] } } @tables[ 0 .. 3 ]),
		(map { { id => $_ } } @tables[ 4 .. 5 ]) ]);
my ($a, $b) = held_pair($fake, primary_name => 'buckets_a', standby_name => 'buckets_b',
	extra => "pg_vip.route_tables = '" . join(', ', @tables) . "'\n");
is(join(',', map { route_target($fake, $_) } @tables), join(',', ('eni-0a00000a') x 6),
	'node-a holds all six tables before');

# vip_metrics()' api_calls_total with outcome throttled, by action, on $node.
sub throttled_on {
	my ($node) = @_;
	my %n = map { split /\|/ } split /\n/, $node->safe_psql('postgres',
		"SELECT action || '|' || value::bigint FROM vip_metrics() WHERE metric = 'api_calls_total' "
		  . "AND outcome = 'throttled' AND value > 0");
	return \%n;
}
# Both nodes' throttled attempts, summed by action.
sub throttled_sum {
	my %sum;
	for my $node ($a, $b) {
		my $t = throttled_on($node);
		$sum{$_} += $t->{$_} for keys %$t;
	}
	return \%sum;
}
# What the endpoint refused, by action (refused > 0 only).
sub refused {
	my $counts = fake_buckets($fake)->{counts};
	return { map { $_ => $counts->{$_}{refused} } grep { $counts->{$_}{refused} > 0 } keys %$counts };
}
sub show { my ($h) = @_; return join(', ', map { "$_=$h->{$_}" } sort keys %$h) || 'none'; }
sub total { my ($h) = @_; my $n = 0; $n += $_ for values %$h; return $n; }

# Both workers' preflights are done (a row in vip_metrics() once it ran).
for my $node ($a, $b) {
	ok($node->poll_query_until('postgres',
			"SELECT count(*) = 1 FROM vip_metrics() WHERE metric = 'preflight_checks' AND value > 0"),
		$node->name . ': its worker ran its preflight before the buckets go on');
}
is(show(throttled_sum()), 'none', 'nothing throttled yet on either node');

# The account's limits, much smaller than EC2's (100 tokens and 20 a second
# for a Describe action): the promotion's six changes of each kind cannot
# all pass at once. Every other EC2 action gets a bucket too.
fake_control($fake, 'buckets/counts/clear', '{}');
fake_control($fake, 'buckets', encode_json({
	actions => {
		ReplaceRoute        => { size => 2, refill_per_s => 1 },
		CreateRoute         => { size => 2, refill_per_s => 1 },
		CreateTags          => { size => 2, refill_per_s => 1 },
		DescribeRouteTables => { size => 4, refill_per_s => 2 } },
	ec2_default => { size => 10, refill_per_s => 2 } }));
my $t0 = time;
$b->promote;    # node-a is NOT stopped: both nodes draw on the account's buckets
ok(wait_for_status($b, 'state', 'held', 90), 'node-b, promoted into a throttled account, ends held')
  or diag(status_of($b, 'last_error'));
my $took = time - $t0;
ok(wait_for_status($a, 'state', 'fenced', 30), 'node-a, still running, goes fenced')
  or diag(status_of($a, 'last_error'));
is(join(',', map { route_target($fake, $_) } @tables), join(',', ('eni-0b00000b') x 6),
	'every table points at node-b');
is($b->safe_psql('postgres', "SELECT string_agg(DISTINCT state, ',') FROM vip_routes()"), 'ours',
	'vip_routes() on node-b: every table ours');

# Freeze the endpoint's count: with the buckets off nothing more is refused.
fake_control($fake, 'buckets', '{}');
my $counts = fake_buckets($fake)->{counts};
my $refused = refused();
note("promotion to held took " . sprintf('%.1f', $took) . " s; the endpoint refused: " . show($refused)
	  . "; accepted: " . show({ map { $_ => $counts->{$_}{accepted} } keys %$counts }));
cmp_ok(total($refused), '>', 0, 'the endpoint refused requests: the buckets did throttle');
ok(($refused->{ReplaceRoute} // 0) + ($refused->{CreateTags} // 0) > 0,
	'the promotion\'s own changes among them');
is(total({ map { $_ => $counts->{$_}{dry_run_accepted} + $counts->{$_}{dry_run_refused} } keys %$counts }), 0,
	'no DryRun request (no preflight) in the window: every request in it is one vip_metrics() counts');

# Each throttled answer is one throttled attempt in vip_metrics(), on
# whichever node sent it. A worker publishes its counters with its status,
# so the last ones may take a round to show: wait for them, then compare.
my $deadline = time + 15;
usleep(100_000) until show(throttled_sum()) eq show($refused) || time > $deadline;
is(show(throttled_sum()), show($refused),
	'vip_metrics() throttled attempts, summed over both nodes, equal the endpoint\'s refusals, action by action');
note('node-a: ' . show(throttled_on($a)) . '; node-b: ' . show(throttled_on($b)));

$a->stop('immediate');
$b->stop('immediate');
done_testing();
