# Split brain: a standby is promoted while the old primary still runs.
#   1. The promoted node may not write its fence tag: the two primaries must
#      not fight over the routes (the old pg_vip flipped them every second).
#   2. It may: the old primary reads the newer timeline's tag, goes fenced
#      and never sends another ReplaceRoute.
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

sub describe_changes {
	my ($changes) = @_;
	return join("\n",
		map {
			my $t = $_;
			"$t: " . join(' ', map { sprintf('%.2f:%s', $_->{t}, $_->{eni}) } @{ $changes->{$t} })
		} sort keys %$changes);
}

# 1. node-b cannot tag; node-a keeps running as primary.
{
	my $fake = start_fake_aws(standard_world());
	my ($a, $b) = start_pair($fake, primary_name => 'war_a', standby_name => 'war_b');
	ok(wait_for_status($a, 'state', 'held'), 'no tag: node-a holds');
	ok(wait_for_status($b, 'state', 'standby'), 'no tag: node-b is a standby');
	wait_for_query($b, 'SELECT bool_and(checked_at IS NOT NULL) FROM vip_routes()', 't', 30);
	fake_deny($fake, { actions => ['CreateTags'], instance => 'i-0b000001' });

	my $start = initial_targets($fake, @tables);
	is_deeply($start, { map { $_ => 'eni-0a00000a' } @tables }, 'every table points at node-a before');
	my $since = log_size($fake);
	my $t0 = time;
	$b->promote;    # node-a is NOT stopped
	ok(wait_for_status($b, 'role', 'primary'), 'node-b promoted while node-a still runs');
	is(status_of($a, 'role'), 'primary', 'node-a is still a primary');

	# Eight check intervals (check_interval 1 s), then a quiet look.
	my $window = 8;
	usleep(100_000) while time < $t0 + $window;
	my $changes = route_changes_since($fake, $since, $start);
	for my $t (@tables) {
		my $n = scalar @{ $changes->{$t} };
		ok($n <= 3, "$t: the route changed $n times in ${window} s (at most 3)") or diag(describe_changes($changes));
	}
	my $mid = log_size($fake);
	my $mid_targets = initial_targets($fake, @tables);
	sleep 4;
	my $late = route_changes_since($fake, $mid, $mid_targets);
	is(scalar(map { @{ $late->{$_} } } @tables), 0, 'then 4 more check intervals without a single route change: no node keeps alternating')
	  or diag(describe_changes($late));
	my %final = map { route_target($fake, $_) => 1 } @tables;
	is(scalar(keys %final), 1, 'every table points at one interface: ' . join(',', sort keys %final));
	is(scalar(@{ ec2_requests_since($fake, $mid, action => [qw(ReplaceRoute CreateRoute)], caller => 'i-0b000001') }), 0,
		'node-b, unable to write its tag, sends no ReplaceRoute or CreateRoute');
	isnt(status_of($b, 'state'), 'held', 'node-b does not report held');
	# It says so (in conflict, its last_error names the conflict instead).
	like($b->safe_psql('postgres', "SELECT string_agg(details, ' ') FROM vip_events() WHERE event = 'vip_claim_failed'"),
		qr/ec2:CreateTags/, 'node-b says its tag cannot be written');
	$a->stop('immediate');
	$b->stop('immediate');
}

# 2. node-b can tag; node-a keeps running: node-a is fenced and hands off.
{
	my $fake = start_fake_aws(standard_world());
	my ($a, $b) = start_pair($fake, primary_name => 'split_a', standby_name => 'split_b');
	ok(wait_for_status($a, 'state', 'held'), 'tag allowed: node-a holds');
	ok(wait_for_status($b, 'state', 'standby'), 'tag allowed: node-b is a standby');
	wait_for_query($b, 'SELECT bool_and(checked_at IS NOT NULL) FROM vip_routes()', 't', 30);
	my $since = log_size($fake);
	$b->promote;    # node-a is NOT stopped
	ok(wait_for_status($b, 'state', 'held', 30), 'node-b, promoted, holds the VIP') or diag(status_of($b, 'last_error'));
	ok(wait_for_status($a, 'state', 'fenced', 30), 'the still running node-a goes fenced')
	  or diag(status_of($a, 'last_error'));
	like(status_of($a, 'last_error'), qr/newer timeline/, 'because a newer timeline holds the VIP');
	sleep 4;    # four check intervals more
	is(status_of($a, 'state'), 'fenced', 'node-a stays fenced');
	is(status_of($b, 'state'), 'held', 'node-b still holds');
	my $from_a = ec2_requests_since($fake, $since, action => [qw(ReplaceRoute CreateRoute CreateTags)], caller => 'i-0a000001');
	is(scalar(@$from_a), 0, 'node-a sent no changing request after the promotion')
	  or diag(join("\n", map { "$_->{action} $_->{params}{RouteTableId}" } @$from_a));
	is(join(',', map { route_target($fake, $_) } @tables), join(',', ('eni-0b00000b') x 3), 'every table points at node-b');
	$a->stop('immediate');
	$b->stop('immediate');
}

done_testing();
