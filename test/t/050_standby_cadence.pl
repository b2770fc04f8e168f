# A standby's reads follow its WAL receiver (pg_vip.standby_check_interval):
# while it streams from a live primary it reads every
# standby_check_interval; once streaming stops (the primary is gone) it
# reads at once and then every check_interval, so that a promotion finds a
# read young enough to claim on in one round trip. Counted at the endpoint,
# by caller.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use PgVipTest;

my $fake = start_fake_aws(standard_world());
my ($a, $b) = held_pair($fake, primary_name => 'cadence_a', standby_name => 'cadence_b',
	standby_extra => "pg_vip.standby_check_interval = '4s'\n");
ok($b->poll_query_until('postgres', "SELECT status = 'streaming' FROM pg_stat_wal_receiver"),
	'node-b streams from node-a');


my $streaming = ec2_requests_over($fake, 12, action => 'DescribeRouteTables', caller => 'i-0b000001');
note('node-b read ' . scalar(@$streaming) . ' times in 12 s while streaming');
cmp_ok(scalar(@$streaming), '>=', 2, 'a streaming standby still reads');
cmp_ok(scalar(@$streaming), '<=', 5,
	'every 3 to 4 s (standby_check_interval, spread over its last quarter), not every 1 s (check_interval)');

# node-a goes away: node-b's WAL receiver stops streaming.
my $mark = log_size($fake);
my $stopped = time;
$a->stop('immediate');
ok($b->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_wal_receiver WHERE status = 'streaming'"),
	'node-b no longer streams');
my $first = seconds_to_first_request($fake, $mark, $stopped, action => 'DescribeRouteTables', caller => 'i-0b000001');
ok(defined $first, 'node-b read after streaming stopped');
note(sprintf('first read %.1f s after node-a stopped', $first // -1));
cmp_ok($first // 99, '<', 3, 'at once, not at its next standby_check_interval');
my $alone = ec2_requests_over($fake, 6, action => 'DescribeRouteTables', caller => 'i-0b000001');
note('node-b read ' . scalar(@$alone) . ' times in 6 s without a primary');
cmp_ok(scalar(@$alone), '>=', 4, 'then every check_interval (1 s)');

# The promotion claims on that read, and holds.
$mark = log_size($fake);
$b->promote;
ok(wait_for_status($b, 'state', 'held'), 'node-b, promoted, holds the VIP');
my $sent = ec2_requests_since($fake, $mark, caller => 'i-0b000001');
my @order = map { $_->{action} } @$sent;
note('node-b after its promotion: ' . join(' ', @order[ 0 .. ($#order < 5 ? $#order : 5) ]));
isnt($order[0] // '', 'DescribeRouteTables', 'its claim\'s first request is a change: one round trip');

$b->stop('immediate');
done_testing();
