# The failover: a promoted standby takes the VIP on every route table, the
# old primary restarted is fenced, a moved route is repaired, vip_claim()
# works where it should and refuses where it should.
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
my $notify_log = PostgreSQL::Test::Utils::tempdir() . '/notifications.txt';
my $notify = "$FindBin::RealBin/../notify_to_file.sh";
my ($a, $b) = start_pair($fake,
	extra => "pg_vip.event_notification_command = '$notify $notify_log %n %e %s %v %r %t %d'\n");

# node-a started as primary on a fresh VPC (no fence tag): it claims.
ok(wait_for_status($a, 'state', 'held'), 'node-a, started as primary with no fence tag, holds the VIP')
  or diag(status_of($a, 'last_error'));
is(status_of($a, 'network_interface'), 'eni-0a00000a', 'its interface came from instance metadata');
is(route_target($fake, $_), 'eni-0a00000a', "$_ points at node-a") for qw(rtb-0a000001 rtb-0a000002 rtb-0a000003);
is(status_of($a, 'routes_held'), '3', 'three routes held');
is($a->safe_psql('postgres', "SELECT string_agg(state, ',' ORDER BY route_table_id) FROM vip_routes()"),
	'ours,ours,ours', 'vip_routes() shows them ours');
is($a->safe_psql('postgres', "SELECT holder || '/' || holder_timeline FROM vip_routes() LIMIT 1"), 'node-a/1',
	'the fence tag names node-a on timeline 1');

# The source/destination check: on for node-a's instance, off for node-b's.
ok($a->poll_query_until('postgres', 'SELECT source_dest_check IS NOT NULL FROM vip_status()'), 'node-a read its source/destination check');
is(status_of($a, 'source_dest_check'), 't', 'vip_status() shows it enabled on node-a');
ok($a->log_contains(qr/WARNING:  pg_vip: the source\/destination check is enabled on interface eni-0a00000a/),
	'with a WARNING in the log');

# The standby reads, never writes.
ok(wait_for_status($b, 'state', 'standby'), 'node-b is a standby');
$b->poll_query_until('postgres', "SELECT count(*) = 3 FROM vip_routes() WHERE state = 'other'")
  or diag($b->safe_psql('postgres', 'SELECT * FROM vip_routes()'));
pass('node-b sees the routes pointing elsewhere');
my ($ret, $out, $err) = $b->psql('postgres', 'SELECT * FROM vip_claim()');
isnt($ret, 0, 'vip_claim() on a standby fails');
like($err, qr/vip_claim\(\) can only run on a primary/, 'and says why');
like($err, qr/HINT:  Run vip_claim\(\) on the primary/, 'and what to do');

# Failover: stop node-a, promote node-b.
my $before = scalar @{ fake_log($fake) };
$a->stop('immediate');
$b->promote;
ok(wait_for_status($b, 'state', 'held', 20), 'node-b, promoted, holds the VIP') or diag(status_of($b, 'last_error'));
is(route_target($fake, $_), 'eni-0b00000b', "$_ points at node-b") for qw(rtb-0a000001 rtb-0a000002 rtb-0a000003);
is(status_of($b, 'timeline'), '2', 'on timeline 2');
is(status_of($b, 'source_dest_check'), 'f', 'node-b\'s source/destination check is off');
ok(status_of($b, 'last_claim_ms') > 0, 'the claim time is reported');
is($b->safe_psql('postgres', "SELECT string_agg(DISTINCT holder || '/' || holder_timeline, ',') FROM vip_routes()"),
	'node-b/2', 'every table carries node-b\'s fence tag');
like($b->safe_psql('postgres', "SELECT string_agg(event, ',') FROM vip_events()"), qr/vip_claim,vip_held/,
	'vip_claim and vip_held recorded');
ok($b->log_contains(qr/pg_vip: VIP 10\.0\.99\.10\/32 held on 3 route tables, \d+ ms after this node became primary/),
	'the hold is logged with its time');
my @replaces = grep { $_->{action} eq 'ReplaceRoute' } @{ changing_requests_since($fake, $before) };
is(scalar(@replaces), 3, 'one ReplaceRoute per table');

# One fence tag key per timeline: node-a's (timeline 1) stays beside
# node-b's until node-b, holding, deletes it at its next check, in one
# DeleteTags for the three tables; its own stays.
my $keys_now = sub {
	my $s = fake_state($fake);
	return join(' ', map { join(',', sort keys %{ $s->{tables}{$_}{tags} }) } qw(rtb-0a000001 rtb-0a000002 rtb-0a000003));
};
my $deadline_keys = time + 10;
usleep(100_000) while time < $deadline_keys && $keys_now->() ne join(' ', ('pg_vip:10.0.99.10/32:tl2') x 3);
is($keys_now->(), join(' ', ('pg_vip:10.0.99.10/32:tl2') x 3), "timeline 1's fence tags deleted, node-b's kept");
my @deletes = grep { $_->{action} eq 'DeleteTags' } @{ changing_requests_since($fake, $before) };
is(scalar(@deletes), 1, 'in one DeleteTags for every table');

# The notification command ran with the right values.
my $deadline = time + 10;
usleep(100_000) while time < $deadline && !(-f $notify_log && slurp_file($notify_log) =~ /vip_held/);
my ($held_line) = grep { /\|vip_held\|/ && /^node-b\|/ } split /\n/, (-f $notify_log ? slurp_file($notify_log) : '');
ok($held_line, 'the notification command ran for vip_held') or diag(-f $notify_log ? slurp_file($notify_log) : 'no file');
like($held_line // '', qr/^node-b\|vip_held\|1\|10\.0\.99\.10\/32\|rtb-0a000001,rtb-0a000002,rtb-0a000003\|\d{4}-\d\d-\d\dT[\d:]+Z\|3 route tables point at eni-0b00000b/,
	'with node, event, success, VIP, route tables, time and details');

# The old primary comes back as primary: fenced, and it changes nothing.
$before = scalar @{ fake_log($fake) };
$a->start;
ok(wait_for_status($a, 'state', 'fenced'), 'the restarted old primary is fenced');
is(status_of($a, "holder || '/' || holder_timeline"), 'node-b/2', 'it shows who holds the VIP');
like(status_of($a, 'last_error'), qr/a newer timeline holds the VIP/, 'and why it is fenced');
ok($a->log_contains(qr/WARNING:  pg_vip: this node is fenced/), 'a WARNING in its log');
like($a->safe_psql('postgres', "SELECT string_agg(event, ',') FROM vip_events()"), qr/vip_fenced/, 'vip_fenced recorded');
sleep 2;    # two check intervals: still hands off
is(scalar(@{ changing_requests_since($fake, $before) }), 0, 'the fenced node sent no changing request');
is(route_target($fake, 'rtb-0a000001'), 'eni-0b00000b', 'the routes stay with node-b');

# A route moved away behind node-b's back is repaired within check_interval.
fake_control($fake, 'route', '{"route_table_id": "rtb-0a000002", "destination": "10.0.99.10/32", "eni": "eni-0a00000a"}');
$deadline = time + 10;
usleep(100_000) while time < $deadline && route_target($fake, 'rtb-0a000002') ne 'eni-0b00000b';
is(route_target($fake, 'rtb-0a000002'), 'eni-0b00000b', 'a moved route is claimed back');
ok($b->poll_query_until('postgres', "SELECT count(*) > 0 FROM vip_events() WHERE event = 'vip_repaired'"),
	'vip_repaired recorded');
ok(wait_for_status($b, 'state', 'held'), 'node-b holds again');

# A blackholed route too.
fake_control($fake, 'route', '{"route_table_id": "rtb-0a000003", "destination": "10.0.99.10/32", "eni": "eni-0a00000a", "blackhole": true}');
$deadline = time + 10;
usleep(100_000) while time < $deadline && route_target($fake, 'rtb-0a000003') ne 'eni-0b00000b';
is(route_target($fake, 'rtb-0a000003'), 'eni-0b00000b', 'a blackholed route is claimed back');

# vip_claim(): not for ordinary roles; refused when fenced; force works.
$b->safe_psql('postgres', 'CREATE ROLE app LOGIN');
($ret, $out, $err) = $b->psql('postgres', 'SET ROLE app; SELECT * FROM vip_claim()');
like($err, qr/permission denied for function vip_claim/, 'an ordinary role cannot call vip_claim()');
is($b->safe_psql('postgres', "SELECT count(*) FROM vip_claim() WHERE state = 'ours'"), '3',
	'vip_claim() on the holder returns its routes, all ours');

($ret, $out, $err) = $a->psql('postgres', 'SELECT * FROM vip_claim()');
isnt($ret, 0, 'vip_claim() on the fenced node fails');
like($err, qr/this node is fenced/, 'because it is fenced');
like($err, qr/vip_claim\(force => true\)/, 'and the hint names force');

# node-b is gone; the operator forces node-a to take the VIP.
$b->stop('immediate');
($ret, $out, $err) = $a->psql('postgres', "SELECT string_agg(state, ',') FROM vip_claim(force => true)");
is($ret, 0, 'vip_claim(force => true) works') or diag($err);
is($out, 'ours,ours,ours', 'and returns the routes, now ours');
like($err, qr/WARNING:  pg_vip: claim of the VIP forced by/, 'the caller is warned');
ok($a->log_contains(qr/pg_vip: claim of the VIP forced by \w+/), 'the server log says who forced it');
like($a->safe_psql('postgres', "SELECT details FROM vip_events() WHERE event = 'vip_claim' ORDER BY at DESC LIMIT 1"),
	qr/forced by/, 'the event says who forced it');
is(route_target($fake, $_), 'eni-0a00000a', "$_ points at node-a again") for qw(rtb-0a000001 rtb-0a000002);

$a->stop;
done_testing();
