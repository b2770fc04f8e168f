# vip_preflight(): on a node set up right every check passes; each fault
# (a denied permission, a missing route table, a table of another VPC, a
# VIP inside the VPC or bound nowhere, the interface's source/destination
# check on, AWS's clock 10 minutes off, instance metadata unreachable, no
# configuration) fails its own row with what to do; no check changes
# anything in AWS; a query cancel stops it; pg_monitor may call it, PUBLIC
# may not.
#
# The VIP: getifaddrs lists 127.0.0.1 on lo, and no other address of
# 127/8 (the kernel accepts them all, by its local route, but they are no
# interface's address), so the node that must pass vip_bound uses
# 127.0.0.1/32; 10.0.99.10 is bound nowhere on a test machine.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use PgVipTest;

my $key = 'AKIDPGVIPPREFLIGHT1';
my $fake = start_fake_aws(
	credentials => [ { access_key => $key, secret => 'preflight/secret+1' } ],
	'route_tables.rtb-0f000009' => { vpc_id => 'vpc-0f0f0f0f', vpc_cidr => '172.31.0.0/16' });

use_static_keys($key, 'preflight/secret+1');

my $node = PostgreSQL::Test::Cluster->new('preflight');
$node->init;
# enabled = off: the worker moves nothing, so only vip_preflight() talks to the endpoint.
$node->append_conf('postgresql.conf',
	vip_conf(node_name => 'node-a', vip => '127.0.0.1/32', route_tables => 'rtb-0a000001, rtb-0a000002', eni => 'auto',
		ec2_endpoint => $fake->{ec2}, imds_endpoint => $fake->{imds}{'i-0a000001'})
	  . "pg_vip.region = ''\npg_vip.enabled = off\npg_vip.request_timeout = '2s'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_vip');

# name => { ok, detail, hint }, and the names in order.
sub checks {
	my $out = $node->safe_psql('postgres',
		q{SELECT "check" || E'\x1f' || ok || E'\x1f' || detail || E'\x1f' || coalesce(hint, '') FROM vip_preflight(fresh => true)});
	my (%rows, @order);
	for my $line (split /\n/, $out) {
		my ($name, $ok, $detail, $hint) = split /\x1f/, $line, 4;
		$rows{$name} = { ok => $ok eq 'true', detail => $detail, hint => $hint // '' };
		push @order, $name;
	}
	return (\%rows, \@order);
}

sub failed {
	my ($rows) = @_;
	return join(', ', sort grep { !$rows->{$_}{ok} } keys %$rows);
}

# New sessions see the settings once the postmaster has read the file again.
sub reload_and_wait {
	my $before = $node->safe_psql('postgres', 'SELECT pg_conf_load_time()');
	$node->reload;
	$node->poll_query_until('postgres', "SELECT pg_conf_load_time() > '$before'")
	  or diag('the configuration was not reloaded');
}

sub set_and_reload {
	my (%set) = @_;
	while (my ($name, $value) = each %set) {
		$node->safe_psql('postgres', "ALTER SYSTEM SET $name = '$value'");
	}
	reload_and_wait();
}

sub reset_all {
	$node->safe_psql('postgres', 'ALTER SYSTEM RESET ALL');
	reload_and_wait();
}

sub changing_requests {
	return scalar grep { $_->{changing} } @{ fake_log($fake) };
}

# A node set up right.
my ($rows, $order) = checks();
is(failed($rows), '', 'every check passes on a node set up right')
  or diag(join("\n", map { "$_: $rows->{$_}{detail}" } @$order));
is_deeply(
	$order,
	[
		'configuration', 'credentials', 'region', 'instance_metadata', 'interface_owner', 'source_dest_check',
		'vip_bound', 'permission:DescribeRouteTables',
		'permission:ReplaceRoute rtb-0a000001', 'permission:CreateRoute rtb-0a000001', 'permission:CreateTags rtb-0a000001', 'permission:DeleteTags rtb-0a000001',
		'permission:ReplaceRoute rtb-0a000002', 'permission:CreateRoute rtb-0a000002', 'permission:CreateTags rtb-0a000002', 'permission:DeleteTags rtb-0a000002',
		'route_table:rtb-0a000001', 'route_table:rtb-0a000002', 'vip_outside_vpc', 'clock_skew'
	],
	'one row per check, per route table and per permission, in a fixed order');
like($rows->{credentials}{detail}, qr/environment/, 'the credentials say where they came from');
like($rows->{region}{detail}, qr/us-east-1, from instance metadata/, 'so does the region');
like($rows->{interface_owner}{detail}, qr/eni-0a00000a is attached to this instance i-0a000001/,
	'the interface is this instance\'s');
like($rows->{vip_bound}{detail}, qr/127\.0\.0\.1 is bound on lo/, 'the VIP is bound on lo');
like($rows->{'permission:ReplaceRoute rtb-0a000001'}{detail}, qr/ec2:ReplaceRoute is allowed on rtb-0a000001/,
	'a permission is proved by DryRun');
my @dry = grep { ($_->{action} // '') eq 'ReplaceRoute' } @{ fake_log($fake) };
ok(@dry == 2 && !grep({ !$_->{dry_run} || $_->{status} != 412 } @dry),
	'each ReplaceRoute was a DryRun answered 412 DryRunOperation');
is(changing_requests(), 0, 'nothing in AWS changed');

# Permissions denied: DryRun answers UnauthorizedOperation, named with the action.
fake_deny($fake, { actions => [ 'ReplaceRoute', 'CreateTags' ] });
($rows) = checks();
is(failed($rows),
	'permission:CreateTags rtb-0a000001, permission:CreateTags rtb-0a000002, '
	  . 'permission:ReplaceRoute rtb-0a000001, permission:ReplaceRoute rtb-0a000002',
	'a denied ReplaceRoute and CreateTags fail their rows only');
like($rows->{'permission:ReplaceRoute rtb-0a000002'}{detail},
	qr/^Denied: UnauthorizedOperation \(the IAM policy must allow ec2:ReplaceRoute\)/, 'the detail names the action');
like($rows->{'permission:CreateTags rtb-0a000001'}{hint}, qr/Allow ec2:CreateTags on rtb-0a000001/,
	'the hint says what to allow, and where');
unlike($rows->{'permission:CreateTags rtb-0a000001'}{detail}, qr/Encoded authorization failure message:/,
	'without the encoded message');
fake_deny($fake);

# A route table that does not exist, and one of another VPC.
set_and_reload('pg_vip.route_tables' => 'rtb-0a000001, rtb-0dead000, rtb-0f000009');
($rows) = checks();
is(failed($rows), 'route_table:rtb-0dead000, route_table:rtb-0f000009',
	'a missing table and a table of another VPC fail their rows');
like($rows->{'route_table:rtb-0dead000'}{detail}, qr/rtb-0dead000 does not exist in us-east-1/, 'missing, said so');
like($rows->{'route_table:rtb-0dead000'}{hint}, qr/pg_vip\.route_tables/, 'the hint names the setting');
like($rows->{'route_table:rtb-0f000009'}{detail},
	qr/rtb-0f000009 belongs to vpc-0f0f0f0f, but the interface eni-0a00000a to vpc-0a0b0c0d/, 'the other VPC, named');
ok($rows->{'route_table:rtb-0a000001'}{ok}, 'the good table still passes');
reset_all();

# A VIP inside the VPC's range, and a VIP bound nowhere.
set_and_reload('pg_vip.vip' => '10.0.1.10/32');
($rows) = checks();
is(failed($rows), 'vip_bound, vip_outside_vpc', 'a VIP inside the VPC fails vip_outside_vpc (and is not bound here)');
like($rows->{vip_outside_vpc}{detail}, qr/10\.0\.1\.10 lies inside 10\.0\.0\.0\/18, a range of vpc-0a0b0c0d/,
	'with the range and the VPC');
set_and_reload('pg_vip.vip' => '10.0.99.10/32');
($rows) = checks();
is(failed($rows), 'vip_bound', 'a VIP bound on no interface fails vip_bound only');
like($rows->{vip_bound}{detail}, qr/10\.0\.99\.10 is bound on no interface of this host/, 'said so');
like($rows->{vip_bound}{hint}, qr/ip address add 10\.0\.99\.10\/32 dev lo/, 'the hint says how to bind it');
reset_all();

# The interface's source/destination check on.
fake_control($fake, 'source_dest_check', '{"eni": "eni-0a00000a", "value": true}');
($rows) = checks();
is(failed($rows), 'source_dest_check', 'the interface\'s source/destination check on fails its row');
like($rows->{source_dest_check}{hint}, qr/--network-interface-id eni-0a00000a --no-source-dest-check/,
	'the hint turns it off');
fake_control($fake, 'source_dest_check', '{"eni": "eni-0a00000a", "value": false}');

# AWS's clock 10 minutes ahead of this host's.
fake_control($fake, 'faults', '{"date_skew_s": 600}');
($rows) = checks();
is(failed($rows), 'clock_skew', 'a clock 10 minutes off fails clock_skew');
like($rows->{clock_skew}{detail}, qr/This host's clock is (9 min 59|10 min 0) s behind EC2's/, 'with the skew');
fake_control($fake, 'faults', '{"clear": true}');

# Instance metadata unreachable (the interface and region then configured).
set_and_reload(
	'pg_vip.imds_endpoint' => 'http://127.0.0.1:9',
	'pg_vip.network_interface' => 'eni-0a00000a',
	'pg_vip.region' => 'us-east-1');
($rows) = checks();
is(failed($rows), 'instance_metadata, interface_owner', 'unreachable metadata fails instance_metadata');
like($rows->{instance_metadata}{detail}, qr/http:\/\/127\.0\.0\.1:9 did not answer/, 'naming the endpoint');
like($rows->{instance_metadata}{hint}, qr/pg_vip\.imds_endpoint/, 'the hint names the setting');
reset_all();

# Not configured: rows that say so, not an error.
set_and_reload('pg_vip.vip' => '', 'pg_vip.route_tables' => '');
($rows, $order) = checks();
ok(!$rows->{configuration}{ok}, 'an unconfigured node fails the configuration check');
like($rows->{configuration}{detail}, qr/pg_vip\.vip and pg_vip\.route_tables are not set/, 'naming the settings');
like($rows->{configuration}{hint}, qr/Set pg_vip\.vip/, 'and how to set them');
ok(!grep({ /^(permission|route_table):/ } @$order), 'no table, no per-table row');
reset_all();

is(changing_requests(), 0, 'no check changed anything in AWS');

# A query cancel (here statement_timeout) stops the requests under way.
fake_control($fake, 'faults', '{"delay_ms": 4000}');
set_and_reload('pg_vip.request_timeout' => '10s');
my $start = time;
my ($ret, $stdout, $stderr) =
  $node->psql('postgres', "SET statement_timeout = '500ms'; SELECT count(*) FROM vip_preflight(fresh => true)");
my $took = time - $start;
like($stderr, qr/canceling statement due to statement timeout/, 'a statement timeout cancels vip_preflight()');
cmp_ok($took, '<', 3.5, 'at once, not after the requests\' 4 s');
fake_control($fake, 'faults', '{"clear": true}');
reset_all();

# Privileges: pg_monitor may read, PUBLIC may not. (A member gets the last
# run's rows: first a run with every setting as it should be.)
$node->safe_psql('postgres', 'SELECT count(*) FROM vip_preflight(fresh => true)');
$node->safe_psql('postgres', 'CREATE ROLE plain LOGIN; CREATE ROLE watcher LOGIN IN ROLE pg_monitor');
($ret, $stdout, $stderr) = $node->psql('postgres', 'SELECT count(*) FROM vip_preflight()', extra_params => [ '-U', 'plain' ]);
like($stderr, qr/permission denied for function vip_preflight/, 'an ordinary role is refused');
($ret, $stdout, $stderr) = $node->psql('postgres', 'SELECT count(*) FROM vip_preflight()', extra_params => [ '-U', 'watcher' ]);
is($ret, 0, 'a pg_monitor member may call it');
cmp_ok($stdout, '>', 10, 'and gets every row');

# The event name is known to the settings.
is($node->safe_psql('postgres', q{SELECT vip_check_setting('pg_vip.event_notifications', 'vip_preflight_failed')}),
	'vip_preflight_failed', 'vip_preflight_failed is an event name pg_vip.event_notifications accepts');

# The worker runs the same checks after each reload (and at start), once
# its claim has had its turn: failed checks are WARNINGs, a
# vip_preflight_failed event and vip_metrics()' preflight_failed_checks.
# Enabled, with a VIP bound nowhere: the node claims, then vip_bound fails.
sub metric {
	my ($name) = @_;
	return $node->safe_psql('postgres', "SELECT value FROM vip_metrics() WHERE metric = '$name'");
}
is(metric('preflight_checks'), '', 'before the worker ran a preflight, vip_metrics() has no preflight row');
my $log_at = -s $node->logfile;
# The calls above ran the checks just now: a short least interval lets the
# worker's run come at once, not a minute later (046 tests the interval).
# The worker runs its preflight at a random moment within 3 x
# check_interval of a reload (preflight_pacing.hpp): 1 s, not the default
# 10 s, keeps that within 3 s, not 30, for this reload and the next.
set_and_reload('pg_vip.enabled' => 'on', 'pg_vip.vip' => '10.0.99.10/32', 'pg_vip.preflight_min_interval' => '1s',
	'pg_vip.check_interval' => '1s');
ok($node->poll_query_until('postgres', q{SELECT count(*) > 0 FROM vip_events() WHERE event = 'vip_preflight_failed'}),
	'after the reload the worker ran the checks: a vip_preflight_failed event');
like($node->safe_psql('postgres', q{SELECT details FROM vip_events() WHERE event = 'vip_preflight_failed'}),
	qr/^1 of \d+ preflight checks failed: vip_bound$/, 'its details name the failed check');
is(metric('preflight_failed_checks'), '1', 'vip_metrics() counts one failed check');
cmp_ok(metric('preflight_checks'), '>', 10, 'of all the checks');
ok($node->wait_for_log(qr/WARNING:  pg_vip: preflight check vip_bound failed/, $log_at),
	'the failed check is a WARNING in the log');
ok($node->poll_query_until('postgres', q{SELECT state = 'held' FROM vip_status()}),
	'the claim was not held up: the node holds the VIP');

# Fixed and reloaded: the checks pass, the gauge says so, no new event.
set_and_reload('pg_vip.vip' => '127.0.0.1/32');
ok($node->poll_query_until('postgres', q{SELECT value = 0 FROM vip_metrics() WHERE metric = 'preflight_failed_checks'}),
	'with the VIP bound, the next preflight has no failed check');
is($node->safe_psql('postgres', q{SELECT count(*) FROM vip_events() WHERE event = 'vip_preflight_failed'}), '1',
	'and makes no event');

$node->stop;
done_testing();
