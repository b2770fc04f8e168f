# Errors are named, and permanent ones are not hammered:
#   1. pg_vip.network_interface set to another instance's interface is
#      refused (instance metadata lists this instance's interfaces) and the
#      node never "holds" the VIP on it;
#   2. a misspelled interface with instance metadata disabled: EC2's
#      InvalidNetworkInterfaceID.NotFound reaches vip_status() and
#      vip_routes(), and the claim is retried at the slow pace;
#   3. EC2 errors in the <ErrorResponse> form are read (code, message, the
#      missing permission), and a refused ReplaceRoute is not retried
#      within a round.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use List::Util qw(min);
use PgVipTest;

my @tables = qw(rtb-0a000001 rtb-0a000002 rtb-0a000003);

sub per_table {
	my ($requests) = @_;
	my %n = map { $_ => [] } @tables;
	push @{ $n{ $_->{params}{RouteTableId} } }, $_ for @$requests;
	return \%n;
}

# 1. node-b is configured with node-a's interface.
{
	my $fake = start_fake_aws(standard_world());
	my ($a, $b) = start_pair($fake, primary_name => 'eni_a', standby_name => 'eni_b',
		standby_extra => "pg_vip.network_interface = 'eni-0a00000a'\n");
	ok(wait_for_status($a, 'state', 'held'), 'foreign interface: node-a holds');
	ok(wait_for_query($b, "SELECT last_error LIKE '%not attached to this instance%' FROM vip_status()", 't', 30),
		'node-b says its configured interface is not attached to this instance')
	  or diag(status_of($b, 'last_error'));
	like(status_of($b, 'last_error'), qr/eni-0a00000a is not attached to this instance.*eni-0b00000b/,
		'naming the interface and the ones the instance has');
	my $since = log_size($fake);
	$a->stop('immediate');
	$b->promote;
	ok(wait_for_status($b, 'role', 'primary'), 'node-b promoted');
	my $seen = states_over($b, 5);
	ok(!$seen->{held}, 'node-b never reports held on an interface that is not its own') or diag(explain($seen));
	like(status_of($b, 'last_error'), qr/not attached to this instance/, 'and still says why');
	my $sent = ec2_requests_since($fake, $since, action => [qw(ReplaceRoute CreateRoute CreateTags)], caller => 'i-0b000001');
	is(scalar(grep { ($_->{params}{NetworkInterfaceId} // '') eq 'eni-0a00000a' } @$sent), 0,
		'node-b sent no request pointing a route at eni-0a00000a');
	is(scalar(@$sent), 0, 'nor any other changing request');
	is(route_target($fake, 'rtb-0a000003'), 'eni-0a00000a', 'the routes are as node-a left them');
	$b->stop;
}

# 2. A misspelled interface, instance metadata disabled, static credentials.
{
	my %world = standard_world();
	$world{credentials} = [ { access_key => 'AKIDPGVIPTAP028A', secret => 'tap028/secret+A', instance => 'i-0a000001' } ];
	my $fake = start_fake_aws(%world);
	my ($a) = start_pair($fake, primary_name => 'typo_a', no_standby => 1,
		primary_extra => "pg_vip.network_interface = 'eni-0a0000aa'\npg_vip.region = 'us-east-1'\n");
	# start_pair cleared the environment; restart with the keys and no metadata.
	$a->stop;
	local $ENV{AWS_EC2_METADATA_DISABLED} = 'true';
	local $ENV{AWS_ACCESS_KEY_ID} = 'AKIDPGVIPTAP028A';
	local $ENV{AWS_SECRET_ACCESS_KEY} = 'tap028/secret+A';
	# The tables as at a first start (no fence tag): a node that started as
	# primary does not take a route from another interface under its own
	# older tag (it waits for vip_claim()), and this test is about the error.
	fake_control($fake, 'reset_tables', '{}');
	my $since = log_size($fake);
	$a->start;
	ok(wait_for_query($a, "SELECT last_error LIKE '%InvalidNetworkInterfaceID.NotFound%' FROM vip_status()", 't', 30),
		'vip_status().last_error names InvalidNetworkInterfaceID.NotFound')
	  or diag(status_of($a, 'last_error'));
	like(status_of($a, 'last_error'), qr/eni-0a0000aa/, 'and the misspelled interface');
	my @route_errors = split /\n/, $a->safe_psql('postgres', 'SELECT last_error FROM vip_routes() ORDER BY route_table_id'), -1;
	is(scalar(@route_errors), 3, 'vip_routes() has three rows');
	like($route_errors[$_] // '', qr/InvalidNetworkInterfaceID\.NotFound/, "vip_routes().last_error of $tables[$_] names it too")
	  for 0 .. 2;
	ok(scalar(@{ ec2_requests_since($fake, $since, caller => 'i-0a000001') }) > 0, 'the requests were signed with the static key');
	is(scalar(grep { $_->{service} eq 'imds' } @{ fake_log($fake) }[ $since .. $#{ fake_log($fake) } ]), 0,
		'instance metadata was not asked');

	# The pace: five check intervals of 1 s.
	my $mark = log_size($fake);
	my $t0 = time;
	my $seen = states_over($a, 5);
	my $elapsed = time - $t0;
	my $replaces = ec2_requests_since($fake, $mark, action => 'ReplaceRoute');
	my $by_table = per_table($replaces);
	my $limit = int($elapsed) + 2;    # one per check interval, and a little slack
	for my $t (qw(rtb-0a000001 rtb-0a000002)) {
		my $n = scalar @{ $by_table->{$t} };
		ok($n >= 1 && $n <= $limit, sprintf('%s: %d ReplaceRoute in %.1f s: retried at the slow pace (at most %d)', $t, $n, $elapsed, $limit));
	}
	ok(scalar(@$replaces) <= 2 * $limit, sprintf('%d ReplaceRoute in all: a handful, not dozens', scalar @$replaces));
	ok(!$seen->{held}, 'never held') or diag(explain($seen));
	is(join(',', map { route_target($fake, $_) } @tables), 'eni-0a00000a,eni-0a00000a,', 'no route moved');

	# With check_interval 1 s the quick retries (backoff capped at the check
	# interval) and the slow pace look alike; with 3 s they do not. Restarted
	# (no retry history), the node must retry once per check interval from
	# its very first failure: at most 3 rounds in 6 s.
	$a->append_conf('postgresql.conf', "pg_vip.check_interval = '3s'\n");
	$a->stop;
	fake_control($fake, 'reset_tables', '{}');    # a first start again (see above)
	$mark = log_size($fake);
	$a->start;
	my $deadline = time + 30;
	usleep(50_000) while time < $deadline && !@{ ec2_requests_since($fake, $mark, action => 'ReplaceRoute') };
	my $first = ec2_requests_since($fake, $mark, action => 'ReplaceRoute')->[0];
	ok($first, 'check_interval 3 s: the restarted node tries again');
	$t0 = $first ? $first->{t} : time;
	usleep(100_000) while time < $t0 + 6;
	$by_table = per_table([ grep { $_->{t} < $t0 + 6 } @{ ec2_requests_since($fake, $mark, action => 'ReplaceRoute') } ]);
	for my $t (qw(rtb-0a000001 rtb-0a000002)) {
		my @r = @{ $by_table->{$t} };
		ok(@r >= 1 && @r <= 3, sprintf('check_interval 3 s: %s: %d ReplaceRoute in the 6 s after the first failure (at most 3: the slow pace from the start)', $t, scalar @r))
		  or diag(join(' ', map { sprintf('%.2f', $_->{t} - $t0) } @r));
	}
	like(status_of($a, 'last_error'), qr/InvalidNetworkInterfaceID\.NotFound/, 'still naming InvalidNetworkInterfaceID.NotFound');
	$a->stop;
}

# 3. Errors in the <ErrorResponse> form; ReplaceRoute refused.
{
	my %world = standard_world();
	# The VIP routed at node-c's interface: node-a must replace it.
	$world{route_tables} = [
		{ id => 'rtb-0a000001', routes => [ { destination => '10.0.99.10/32', eni => 'eni-0c00000c' } ] },
		{ id => 'rtb-0a000002', routes => [ { destination => '10.0.99.10/32', eni => 'eni-0c00000c' } ] },
		{ id => 'rtb-0a000003' } ];
	my $fake = start_fake_aws(%world);
	fake_control($fake, 'faults', '{"error_form": "ErrorResponse"}');
	fake_deny($fake, { actions => ['ReplaceRoute'], instance => 'i-0a000001' });
	my $since = log_size($fake);
	my ($a) = start_pair($fake, primary_name => 'form_a', no_standby => 1);
	ok(wait_for_query($a, "SELECT last_error LIKE '%UnauthorizedOperation%' FROM vip_status()", 't', 30),
		'ErrorResponse form: vip_status().last_error names UnauthorizedOperation')
	  or diag(status_of($a, 'last_error'));
	my $err = status_of($a, 'last_error');
	like($err, qr/ec2:ReplaceRoute/, 'and the missing permission ec2:ReplaceRoute');
	unlike($err, qr/unreadable|malformed/i, 'not an unreadable answer');
	my %route_error = map { split /\|/, $_, 2 } split /\n/,
	  $a->safe_psql('postgres', "SELECT route_table_id || '|' || coalesce(last_error, '') FROM vip_routes()");
	like($route_error{$_} // '', qr/UnauthorizedOperation.*ec2:ReplaceRoute/, "vip_routes().last_error of $_ names it")
	  for qw(rtb-0a000001 rtb-0a000002);
	is(route_target($fake, 'rtb-0a000003'), 'eni-0a00000a', 'the missing route was created (CreateRoute is allowed)');

	my $mark = log_size($fake);
	my $t0 = time;
	sleep 5;
	my $elapsed = time - $t0;
	my $by_table = per_table(ec2_requests_since($fake, $mark, action => 'ReplaceRoute'));
	my $limit = int($elapsed) + 2;
	for my $t (qw(rtb-0a000001 rtb-0a000002)) {
		my @r = @{ $by_table->{$t} };
		ok(@r >= 1 && @r <= $limit, sprintf('%s: %d ReplaceRoute in %.1f s (at most %d)', $t, scalar @r, $elapsed, $limit));
		my @gaps = map { $r[$_]{t} - $r[ $_ - 1 ]{t} } 1 .. $#r;
		my $min = @gaps ? min(@gaps) : 99;
		ok($min >= 0.5, sprintf('%s: one ReplaceRoute per round, no retry within a round (closest two %.3f s apart)', $t, $min))
		  or diag(join(' ', map { sprintf('%.3f', $_->{t}) } @r));
		is(scalar(grep { ($_->{code} // '') ne 'UnauthorizedOperation' } @r), 0, "$t: each was refused with UnauthorizedOperation");
	}
	$a->stop;
}

done_testing();
