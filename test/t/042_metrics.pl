# vip_metrics(): what a promotion, a throttled EC2, a fence, a repair and a
# worker restart do to the counters; a server restart starts them anew; who
# may read them.
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

# One value of vip_metrics() on $node: the sum over the rows of $name whose
# labels match (0 when there is none).
sub metric {
	my ($node, $name, %labels) = @_;
	my $where = "metric = '$name'";
	$where .= " AND action = '$labels{action}'"   if defined $labels{action};
	$where .= " AND outcome = '$labels{outcome}'" if defined $labels{outcome};
	$where .= " AND le = '$labels{le}'::float8"   if defined $labels{le};
	return $node->safe_psql('postgres', "SELECT coalesce(sum(value), 0) FROM vip_metrics() WHERE $where");
}

sub rows_of {
	my ($node, $name) = @_;
	return $node->safe_psql('postgres', "SELECT count(*) FROM vip_metrics() WHERE metric = '$name'");
}

my $fake = start_fake_aws(standard_world());
my ($a, $b) = held_pair($fake, primary_name => 'metrics_a', standby_name => 'metrics_b');

# node-a started as primary and claimed; node-b, a standby, only read.
is(metric($a, 'claims_total'), '1', 'node-a: its claim at start is counted');
is(metric($a, 'claim_duration_seconds_count'), '1', 'node-a: and its duration');
is(metric($b, 'claims_total'), '0', 'node-b, a standby: no claim');
ok(metric($b, 'api_calls_total', action => 'DescribeRouteTables', outcome => 'ok') > 0,
	'node-b: its reads are counted');
is(rows_of($b, 'last_claim_seconds'), '0', 'node-b: no last_claim_seconds row before a claim');
is(rows_of($b, 'claim_duration_seconds_bucket'), '11', 'node-b: every bucket shows, at zero');
is(metric($b, 'claim_duration_seconds_bucket', le => 'Infinity'), '0', 'node-b: +Inf counts no claim');
is( $b->safe_psql('postgres',
		"SELECT string_agg(DISTINCT outcome, ',' ORDER BY outcome) FROM vip_metrics() WHERE metric = 'api_calls_total'"),
	'client_error,ok,server_error,throttled,timeout',
	'every outcome shows for an action seen');
is($b->safe_psql('postgres', "SELECT count(*) FROM vip_metrics() WHERE metric = 'claims_total' AND action IS NULL "
	  . "AND outcome IS NULL AND le IS NULL"), '1', 'labels that do not apply are NULL');

# Promotion under throttling: the endpoint throttles four ReplaceRoute calls.
fake_control($fake, 'faults',
	'{"fail_next": {"count": 4, "status": 503, "code": "RequestLimitExceeded", "message": "Request limit exceeded.", "actions": ["ReplaceRoute"]}}');
$a->stop('immediate');
$b->promote;
ok(wait_for_status($b, 'state', 'held', 30), 'node-b, promoted while throttled, holds')
  or diag(status_of($b, 'last_error'));
is(metric($b, 'claims_total'), '1', 'the promotion is one claim');
is(metric($b, 'claim_failures_total'), '0', 'that did not fail: the client retried within it');
ok(metric($b, 'api_calls_total', action => 'ReplaceRoute', outcome => 'ok') >= scalar(@tables),
	'a successful ReplaceRoute per table at least');
is(metric($b, 'api_calls_total', action => 'ReplaceRoute', outcome => 'throttled'), '4',
	'the four throttled attempts, each counted');
ok(metric($b, 'retries_total', action => 'ReplaceRoute') >= 1, 'and retried');
ok(metric($b, 'api_calls_total', action => 'CreateTags', outcome => 'ok') >= 1, 'the fence tag written');

# The histogram: one claim, in the bucket its duration says.
my $last = metric($b, 'last_claim_seconds');
ok($last > 0, "last_claim_seconds is the claim's time ($last s)");
my $ms = status_of($b, 'last_claim_ms');
ok(abs($last * 1000 - $ms) < 0.01, 'vip_status() says the same time in ms');
is(metric($b, 'claim_duration_seconds_count'), '1', 'the histogram counts one claim');
ok(abs(metric($b, 'claim_duration_seconds_sum') - $last) < 1e-9, 'its sum is that claim');
my $wrong = $b->safe_psql('postgres',
	"SELECT count(*) FROM vip_metrics() WHERE metric = 'claim_duration_seconds_bucket' "
	  . "AND value <> CASE WHEN $last <= le THEN 1 ELSE 0 END");
is($wrong, '0', 'each bucket counts it exactly when its bound is at or above the duration');
is( $b->safe_psql('postgres',
		"SELECT bool_and(value = 1) FROM vip_metrics() WHERE metric = 'claim_duration_seconds_bucket' "
		  . "AND le = 'Infinity'"),
	't', 'the +Inf bucket is there and counts it');

# The old primary comes back: a server start makes the counters anew, and it is fenced once.
$a->start;
ok(wait_for_status($a, 'state', 'fenced', 30), 'node-a, restarted as primary, is fenced');
is(metric($a, 'fences_total'), '1', 'fences_total is 1');
is(metric($a, 'claims_total'), '0', 'its claim before the server restart is forgotten');
sleep 2;    # two more checks: still one fence
is(metric($a, 'fences_total'), '1', 'staying fenced is not another fence');
$a->stop;

# A worker restart keeps the counters.
my $calls_before = metric($b, 'api_calls_total');
my $pid = status_of($b, 'worker_pid');
# SIGTERM: the worker exits and the postmaster starts it again (a SIGKILL
# would restart the whole server, and make shared memory anew).
ok(kill('TERM', $pid), 'the worker is asked to stop');
my $deadline = time + 30;
usleep(100_000) while time < $deadline && (status_of($b, 'worker_pid') // '') =~ /^($pid|)$/;
isnt(status_of($b, 'worker_pid'), $pid, 'a new worker runs');
ok(wait_for_status($b, 'state', 'held', 30), 'and holds');
is(metric($b, 'claims_total'), '1', 'claims_total kept across the worker restart');
is(metric($b, 'api_calls_total', action => 'ReplaceRoute', outcome => 'throttled'), '4',
	'the throttled calls too');
ok(metric($b, 'api_calls_total') >= $calls_before, 'the calls count on');
ok(abs(metric($b, 'last_claim_seconds') - $last) < 1e-9, 'the last claim time kept');

# A repair after the restart counts on from there.
fake_control($fake, 'route', '{"route_table_id": "rtb-0a000002", "destination": "10.0.99.10/32", "eni": "eni-0a00000a"}');
$deadline = time + 15;
usleep(100_000) while time < $deadline && metric($b, 'repairs_total') < 1;
is(metric($b, 'repairs_total'), '1', 'the repair is counted');
ok(wait_for_status($b, 'state', 'held', 15), 'node-b holds again');
is(metric($b, 'claims_total'), '2', 'a repair is a claim too');
is(metric($b, 'claim_duration_seconds_count'), '2', 'and its duration is in the histogram');

# Who may read them: not an ordinary role; pg_monitor may.
$b->safe_psql('postgres', 'CREATE ROLE plain LOGIN; CREATE ROLE watcher LOGIN IN ROLE pg_monitor');
my ($ret, $out, $err) = $b->psql('postgres', 'SELECT * FROM vip_metrics()', extra_params => ['-U', 'plain']);
isnt($ret, 0, 'an ordinary role may not read vip_metrics()');
like($err, qr/permission denied for function vip_metrics/, 'permission denied');
($ret, $out, $err) =
  $b->psql('postgres', "SELECT value FROM vip_metrics() WHERE metric = 'claims_total'", extra_params => ['-U', 'watcher']);
is($ret, 0, 'a member of pg_monitor may') or diag($err);
is($out, '2', 'and reads the same counters');
$b->stop;

# Not preloaded: the same error as every other function.
my $plain = PostgreSQL::Test::Cluster->new('metrics_plain');
$plain->init;
$plain->start;
$plain->safe_psql('postgres', 'CREATE EXTENSION pg_vip');
($ret, $out, $err) = $plain->psql('postgres', 'SELECT * FROM vip_metrics()');
isnt($ret, 0, 'not preloaded: vip_metrics() fails');
like($err, qr/ERROR:  pg_vip is not loaded through shared_preload_libraries/, 'and says why');
like($err, qr/HINT:  Add pg_vip to shared_preload_libraries/, 'and what to do');
$plain->stop;

done_testing();
