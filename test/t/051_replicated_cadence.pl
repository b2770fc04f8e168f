# A holder's reads follow its WAL senders (pg_vip.replicated_check_interval):
# once a standby has streamed from it for a lease of check_interval (60 s),
# it reads every replicated_check_interval; when the standby stops
# streaming it reads within a second or two, then every check_interval.
# Counted at the endpoint, by caller, with real walsenders.
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
my ($a, $b) = held_pair($fake, primary_name => 'replicated_a', standby_name => 'replicated_b',
	primary_extra => "pg_vip.replicated_check_interval = '5s'\n");
my $streaming_since = time;
ok($a->poll_query_until('postgres', "SELECT count(*) = 1 FROM pg_stat_replication WHERE state = 'streaming'"),
	'node-b streams from node-a');


my $early = ec2_requests_over($fake, 5, action => 'DescribeRouteTables', caller => 'i-0a000001');
note('node-a read ' . scalar(@$early) . ' times in its first 5 s with a standby');
cmp_ok(scalar(@$early), '>=', 3, 'before a lease has passed: every check_interval (1 s)');

# A lease (60 s) after the worker first saw its standby, and a check or two.
my $quiet_at = $streaming_since + 66;
usleep(($quiet_at - time) * 1_000_000) if time < $quiet_at;
my $quiet = ec2_requests_over($fake, 15, action => 'DescribeRouteTables', caller => 'i-0a000001');
note('node-a read ' . scalar(@$quiet) . ' times in 15 s once its standby had streamed for a lease');
cmp_ok(scalar(@$quiet), '>=', 2, 'a holder with a streaming standby still reads');
cmp_ok(scalar(@$quiet), '<=', 5, 'every 3.75 to 5 s (replicated_check_interval), not every 1 s');
is(status_of($a, 'state'), 'held', 'and it holds');
ok($a->log_contains(qr/pg_vip: every standby streams from this primary; it checks the VIP's targets every 5 s/),
	'the log says when it slowed down, and to what');

# node-b goes away: its WAL sender on node-a ends.
my $mark = log_size($fake);
my $stopped = time;
$b->stop('immediate');
my $first = seconds_to_first_request($fake, $mark, $stopped, action => 'DescribeRouteTables', caller => 'i-0a000001');
ok(defined $first, 'node-a read after its standby stopped streaming');
note(sprintf('first read %.1f s after node-b stopped', $first // -1));
cmp_ok($first // 99, '<', 3, 'within a second or two, not at its next replicated_check_interval');
my $alone = ec2_requests_over($fake, 6, action => 'DescribeRouteTables', caller => 'i-0a000001');
note('node-a read ' . scalar(@$alone) . ' times in 6 s without a standby');
cmp_ok(scalar(@$alone), '>=', 4, 'then every check_interval (1 s)');
is(status_of($a, 'state'), 'held', 'still holding');
ok($a->log_contains(qr/pg_vip: a standby stopped streaming from this primary; it checks the VIP's targets every 1 s/),
	'and when it went back');

$a->stop('immediate');
done_testing();
