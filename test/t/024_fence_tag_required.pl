# A route is held only with this node's fence tag on it: a promoted standby
# whose CreateTags is refused stays `claiming`, says why (the EC2 error and
# the missing permission) once, not once per round, and ends `held`, its tag
# on every table, as soon as the permission is back.
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
my $fake = start_fake_aws(standard_world());
my ($a, $b) = held_pair($fake);

# node-b's instance may not write tags; the old primary is gone.
fake_deny($fake, { actions => ['CreateTags'], instance => 'i-0b000001' });
my $since = log_size($fake);
$a->stop('immediate');
$b->promote;
ok(wait_for_status($b, 'role', 'primary'), 'node-b promoted');
ok(wait_for_query($b, "SELECT last_error LIKE '%UnauthorizedOperation%' FROM vip_status()", 't', 30),
	'the refused CreateTags reaches vip_status()')
  or diag(status_of($b, 'last_error'));
ok(scalar(@{ ec2_requests_since($fake, $since, action => 'CreateTags', caller => 'i-0b000001', status => 403) }) >= 1,
	'node-b did try to write its tag, and was refused');

# Several check intervals (1 s each): never held without its tag.
my $seen = states_over($b, 6);
is_deeply([ sort keys %$seen ], ['claiming'], 'node-b stays claiming over 6 check intervals, never held')
  or diag(explain($seen));
my $err = status_of($b, 'last_error');
like($err, qr/UnauthorizedOperation/, 'last_error names the EC2 error code');
like($err, qr/ec2:CreateTags/, 'and the missing permission ec2:CreateTags');
my @route_errors = split /\n/, $b->safe_psql('postgres', 'SELECT last_error FROM vip_routes() ORDER BY route_table_id'), -1;
is(scalar(@route_errors), 3, 'vip_routes() has three rows');
for my $i (0 .. 2) {
	like($route_errors[$i] // '', qr/UnauthorizedOperation.*ec2:CreateTags/, "vip_routes().last_error of $tables[$i] names it too");
}
is(event_count($b, 'vip_claim_failed'), '1', 'one vip_claim_failed over all those rounds, not one per round')
  or diag($b->safe_psql('postgres', "SELECT at, details FROM vip_events() WHERE event = 'vip_claim_failed'"));
is(event_count($b, 'vip_held'), '0', 'no vip_held');
is(count_log_lines($b, qr/WARNING:  pg_vip: could not point every route table/), 1,
	'the WARNING "could not point every route table" is logged once, not every round');
my $retries = ec2_requests_since($fake, $since, action => 'CreateTags', caller => 'i-0b000001');
ok(scalar(@$retries) >= 3, sprintf('node-b kept trying to write its tag (%d CreateTags)', scalar @$retries));

# The permission comes back: held, with node-b's tag on every table.
fake_deny($fake);
ok(wait_for_status($b, 'state', 'held', 30), 'with CreateTags allowed again, node-b ends held')
  or diag(status_of($b, 'last_error'));
my $state = fake_state($fake);
for my $t (@tables) {
	like($state->{tables}{$t}{tags}{'pg_vip:10.0.99.10/32:tl2'} // '',
		qr/^tl=2;sysid=\d+;id=eni-0b00000b;lease=\d+;since=\d+;at=[^;]+;node=node-b$/, "$t carries node-b's fence tag (timeline 2, its interface)");
	is(route_target($fake, $t), 'eni-0b00000b', "$t points at node-b");
}
is(status_of($b, 'last_error'), '', 'last_error is cleared');
is(event_count($b, 'vip_held'), '1', 'vip_held recorded once');

$b->stop;
done_testing();
