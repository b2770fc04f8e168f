# Fail closed: an old primary restarted as primary while it cannot read the
# route tables (DescribeRouteTables refused to its instance only) changes
# nothing at all (no ReplaceRoute, CreateRoute or CreateTags) and says why;
# the routes stay with the promoted node. Once it can read, it finds the newer
# timeline's tag and is fenced, still without a changing request.
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

$a->stop('immediate');
$b->promote;
ok(wait_for_status($b, 'state', 'held', 30), 'node-b, promoted, holds the VIP') or diag(status_of($b, 'last_error'));
is(join(',', map { route_target($fake, $_) } @tables), join(',', ('eni-0b00000b') x 3), 'every table points at node-b');

# node-a comes back as a primary, blind: it may not read the route tables.
fake_deny($fake, { actions => ['DescribeRouteTables'], instance => 'i-0a000001' });
my $since = log_size($fake);
$a->start;
ok(wait_for_status($a, 'role', 'primary'), 'node-a restarted as a primary');
ok(wait_for_query($a, "SELECT last_error LIKE '%DescribeRouteTables%' FROM vip_status()", 't', 30),
	'node-a reports that it cannot read the route tables')
  or diag(status_of($a, 'last_error'));
my $seen = states_over($a, 5);    # five check intervals
ok(!$seen->{held}, 'node-a never reports held') or diag(explain($seen));
my $err = status_of($a, 'last_error');
like($err, qr/UnauthorizedOperation/, 'last_error names the EC2 error code');
like($err, qr/ec2:DescribeRouteTables/, 'and the missing permission ec2:DescribeRouteTables');
like($a->safe_psql('postgres', "SELECT string_agg(last_error, '|' ORDER BY route_table_id) FROM vip_routes()"),
	qr/^(?:[^|]*UnauthorizedOperation[^|]*\|){2}[^|]*UnauthorizedOperation[^|]*$/,
	'vip_routes() shows the read error on every table');
ok(scalar(@{ ec2_requests_since($fake, $since, action => 'DescribeRouteTables', caller => 'i-0a000001', status => 403) }) > 0,
	'node-a did try to read, and was refused');
my $changing = ec2_requests_since($fake, $since, action => [qw(ReplaceRoute CreateRoute CreateTags)], caller => 'i-0a000001');
is(scalar(@$changing), 0, 'node-a sent no ReplaceRoute, CreateRoute or CreateTags: it fails closed')
  or diag(join("\n", map { "$_->{action} $_->{params}{RouteTableId} -> " . ($_->{params}{NetworkInterfaceId} // '') } @$changing));
is(join(',', map { route_target($fake, $_) } @tables), join(',', ('eni-0b00000b') x 3), 'every table still points at node-b');
is(status_of($b, 'state'), 'held', 'node-b still holds');

# The read permission comes back: node-a finds the newer timeline and is fenced.
fake_deny($fake);
ok(wait_for_status($a, 'state', 'fenced', 30), 'once it can read, node-a is fenced') or diag(status_of($a, 'last_error'));
is(status_of($a, "holder || '/' || holder_timeline"), 'node-b/2', 'by node-b on timeline 2');
sleep 2;
$changing = ec2_requests_since($fake, $since, action => [qw(ReplaceRoute CreateRoute CreateTags)], caller => 'i-0a000001');
is(scalar(@$changing), 0, 'still no changing request from node-a');
is(join(',', map { route_target($fake, $_) } @tables), join(',', ('eni-0b00000b') x 3), 'and the routes stay at node-b');

$a->stop;
$b->stop;
done_testing();
