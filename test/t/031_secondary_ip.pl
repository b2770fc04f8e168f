# The secondary IP kind: a promoted standby takes the secondary private IP
# with one AssignPrivateIpAddresses, in the promotion's round trip, and
# waits for EC2's asynchronous move before it counts it held; its fence is
# the holder's tag on its own interface, so a restarted old primary reads
# it there and is fenced; the preflight and the IAM policy cover the kind.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use JSON::PP qw(decode_json);
use PgVipTest;

my $ip = '10.0.1.50';    # free in the nodes' subnet, 10.0.1.0/24
my $fake = start_fake_aws(standard_world());
my ($a, $b) = held_pair($fake, extra => "pg_vip.secondary_ips = '$ip'\n");

sub holder_of {
	my $nics = fake_state($fake)->{network_interfaces};
	my @on = grep { grep { $_ eq $ip } @{ $nics->{$_}{ips} } } sort keys %$nics;
	return join(',', @on);
}
sub interface_tags {
	my ($eni) = @_;
	return fake_state($fake)->{network_interfaces}{$eni}{tags} // {};
}

is(holder_of(), 'eni-0a00000a', "node-a, the first primary, assigned $ip to its interface");
is($a->safe_psql('postgres', "SELECT state || '/' || holder FROM vip_targets() WHERE kind = 'secondary_ip'"),
	'ours/node-a', 'vip_targets(): the secondary IP is ours, held by node-a');
ok(exists interface_tags('eni-0a00000a')->{'pg_vip:10.0.99.10/32:tl1'}, "its fence tag is on node-a's own interface");
ok($b->poll_query_until('postgres',
		"SELECT state = 'other' AND holder = 'node-a' FROM vip_targets() WHERE kind = 'secondary_ip'"),
	'node-b, a standby, sees it on node-a, under node-a\'s tag');

# Failover, with EC2 moving the address 2 s after AssignPrivateIpAddresses
# answered, as its asynchronous assignment may.
fake_control($fake, 'faults', '{"secondary_ip_delay_ms": 2000}');
my $before = scalar @{ fake_log($fake) };
$a->stop('immediate');
$b->promote;
ok(wait_for_status($b, 'state', 'held', 20), 'node-b, promoted, holds the VIP') or diag(status_of($b, 'last_error'));
is(holder_of(), 'eni-0b00000b', "$ip is on node-b's interface");
is(route_target($fake, 'rtb-0a000001'), 'eni-0b00000b', 'the routes point at node-b');
my @changes = @{ changing_requests_since($fake, $before) };
is(scalar(grep { $_->{action} eq 'AssignPrivateIpAddresses' } @changes), 1, 'one AssignPrivateIpAddresses');
cmp_ok(status_of($b, 'last_claim_ms'), '>=', 1900, 'the time reported includes the wait for the move')
  or diag(status_of($b, 'last_claim_ms'));
is($b->safe_psql('postgres',
		"SELECT count(*) FROM vip_events() WHERE event IN ('vip_conflict', 'vip_repaired', 'vip_claim_failed')"), '0',
	'no failed claim, conflict or repair for the move under way');
ok(exists interface_tags('eni-0b00000b')->{'pg_vip:10.0.99.10/32:tl2'}, "node-b's tag is on node-b's interface");
fake_control($fake, 'faults', '{"secondary_ip_delay_ms": 0}');

# The old primary restarted: fenced by the tag it reads where the address is.
$before = scalar @{ fake_log($fake) };
$a->start;
ok(wait_for_status($a, 'state', 'fenced'), 'the restarted old primary is fenced');
is($a->safe_psql('postgres', "SELECT holder || '/' || state FROM vip_targets() WHERE kind = 'secondary_ip'"),
	'node-b/other', 'it sees the address on node-b, under node-b\'s tag');
sleep 2;
# (node-b, holding, may delete timeline 1's tag from its own interface meanwhile.)
is(scalar(grep { ($_->{caller} // '') eq 'i-0a000001' } @{ changing_requests_since($fake, $before) }), 0,
	'the fenced node sent no changing request');
is(holder_of(), 'eni-0b00000b', "$ip stays with node-b");

# Settings are checked.
my ($ret, $out, $err) = $b->psql('postgres', "SELECT vip_check_setting('pg_vip.secondary_ips', '10.0.1.050')");
isnt($ret, 0, 'an address not in its usual form is refused');

# The preflight: the permission proved, where the address is, and that the
# OS must bind it (nobody does here).
my %rows = map { my ($c, $ok, $d) = split /\|/, $_, 3; ($c => "$ok $d") } split /\n/,
  $b->safe_psql('postgres', q{SELECT "check" || '|' || ok || '|' || detail FROM vip_preflight(fresh => true)});
like($rows{'permission:AssignPrivateIpAddresses eni-0b00000b'} // $rows{'AssignPrivateIpAddresses eni-0b00000b'}
	  // join("\n", grep { /AssignPrivate/ } map { "$_ => $rows{$_}" } keys %rows),
	qr/^true /, 'vip_preflight(): AssignPrivateIpAddresses proved with DryRun')
  or diag(join("\n", map { "$_ => $rows{$_}" } sort keys %rows));
like($rows{"secondary_ip:$ip"} // '', qr/^false .*assigned to eni-0b00000b \(this node\), but bound on no interface of this host/,
	'its row says where the address is, and that this host does not have it bound');

# The IAM policy: the assignment to node-b's interface, the fence on it.
my $policy = decode_json($b->safe_psql('postgres', 'SELECT vip_iam_policy()'));
my @assign = grep {
	my @act = ref $_->{Action} ? @{ $_->{Action} } : ($_->{Action});
	grep { $_ eq 'ec2:AssignPrivateIpAddresses' } @act
} @{ $policy->{Statement} };
ok(@assign, 'vip_iam_policy() allows ec2:AssignPrivateIpAddresses');
like(join(' ', map { ref $_->{Resource} ? @{ $_->{Resource} } : $_->{Resource} } @assign),
	qr{network-interface/eni-0b00000b}, "on node-b's own interface");

$a->stop;
$b->stop;
done_testing();
