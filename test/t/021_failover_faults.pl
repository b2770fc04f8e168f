# Failover under faults: throttling, an endpoint that is down at the moment
# of promotion, and a worker stopped in the middle of a slow request.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use PgVipTest;

sub all_on_b {
	my ($fake) = @_;
	return !grep { route_target($fake, $_) ne 'eni-0b00000b' } qw(rtb-0a000001 rtb-0a000002 rtb-0a000003);
}

# 1. The endpoint throttles the first ReplaceRoute calls of the promotion.
{
	my $fake = start_fake_aws(standard_world());
	my ($a, $b) = start_pair($fake, primary_name => 'throttle_a', standby_name => 'throttle_b');
	ok(wait_for_status($a, 'state', 'held'), 'throttling: node-a holds');
	ok(wait_for_status($b, 'state', 'standby'), 'throttling: node-b is a standby');
	$b->poll_query_until('postgres', "SELECT count(*) = 3 FROM vip_routes() WHERE checked_at IS NOT NULL");
	fake_control($fake, 'faults',
		'{"fail_next": {"count": 4, "status": 503, "code": "RequestLimitExceeded", "message": "Request limit exceeded.", "actions": ["ReplaceRoute"]}}');
	$a->stop('immediate');
	$b->promote;
	ok(wait_for_status($b, 'state', 'held', 30), 'throttled at promotion, node-b still ends held')
	  or diag(status_of($b, 'last_error'));
	ok(all_on_b($fake), 'every table points at node-b');
	my @throttled = grep { $_->{service} eq 'ec2' && ($_->{code} // '') eq 'RequestLimitExceeded' } @{ fake_log($fake) };
	is(scalar(@throttled), 4, 'the endpoint throttled four calls');
	ok($b->log_contains(qr/pg_vip: retrying ReplaceRoute rtb-0a00000\d in \d+ ms after RequestLimitExceeded/),
		'the retries are visible in the log');
	$b->stop;
}

# 2. The endpoint is down when the standby is promoted, and back 3 s later.
{
	my $fake = start_fake_aws(standard_world());
	my ($a, $b) = start_pair($fake, primary_name => 'down_a', standby_name => 'down_b');
	ok(wait_for_status($a, 'state', 'held'), 'endpoint down: node-a holds');
	ok(wait_for_status($b, 'state', 'standby'), 'endpoint down: node-b is a standby');
	$b->poll_query_until('postgres', "SELECT count(*) = 3 FROM vip_routes() WHERE checked_at IS NOT NULL");
	$a->stop('immediate');
	fake_control($fake, 'faults', '{"down_for_s": 3}');
	my $down_since = time;
	$b->promote;
	ok(wait_for_status($b, 'state', 'claiming', 10), 'while the endpoint is down: claiming');
	$b->poll_query_until('postgres', "SELECT last_error <> '' FROM vip_status()");
	like(status_of($b, 'last_error'), qr/route tables|TransportError|ConnectionFailed|RequestTimeout/,
		'vip_status() says what is pending and why');
	ok(wait_for_status($b, 'state', 'held', 30), 'held once the endpoint is back') or diag(status_of($b, 'last_error'));
	ok(time - $down_since >= 3, 'not before it was back');
	ok(all_on_b($fake), 'every table points at node-b');
	like($b->safe_psql('postgres', "SELECT string_agg(event, ',') FROM vip_events()"), qr/vip_claim_failed.*vip_held/,
		'the failed round and the hold are both recorded');
	$b->stop;
}

# 3. SIGTERM while the claim's requests hang: the worker exits promptly and,
#    restarted by the postmaster, finishes the claim.
{
	my $fake = start_fake_aws(standard_world());
	my ($a, $b) = start_pair($fake, primary_name => 'term_a', standby_name => 'term_b',
		extra => "pg_vip.request_timeout = '30s'\n");
	ok(wait_for_status($a, 'state', 'held'), 'slow request: node-a holds');
	ok(wait_for_status($b, 'state', 'standby'), 'slow request: node-b is a standby');
	$b->poll_query_until('postgres', "SELECT count(*) = 3 FROM vip_routes() WHERE checked_at IS NOT NULL");
	fake_control($fake, 'faults', '{"stall_next": {"count": 3, "seconds": 25, "actions": ["ReplaceRoute"]}}');
	$a->stop('immediate');
	$b->promote;
	ok(wait_for_status($b, 'role', 'primary', 10), 'node-b promoted');
	my $deadline = time + 10;
	usleep(50_000) while time < $deadline
	  && 3 > grep { $_->{service} eq 'ec2' && $_->{action} eq 'ReplaceRoute' } @{ fake_log($fake) };
	my $pid = status_of($b, 'worker_pid');
	my $sent = time;
	kill 'TERM', $pid;
	$deadline = time + 10;
	usleep(20_000) while time < $deadline && kill(0, $pid);
	my $took = time - $sent;
	ok(!kill(0, $pid), 'the worker exited on SIGTERM during a 25 s request');
	ok($took < 5, sprintf('promptly (%.2f s)', $took));
	ok(wait_for_status($b, 'state', 'held', 30), 'the restarted worker finishes the claim')
	  or diag(status_of($b, 'last_error'));
	isnt(status_of($b, 'worker_pid'), $pid, 'as a new process');
	ok(all_on_b($fake), 'every table points at node-b');
	$b->stop;
}

done_testing();
