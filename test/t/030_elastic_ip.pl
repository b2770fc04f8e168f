# The Elastic IP kind: a promoted standby takes the Elastic IPs with the
# routes, in the same round trip, fenced by the same tag on each allocation;
# the association's lag does not make it back off; the old primary
# restarted is fenced for every kind; an association moved behind the
# holder's back is repaired; an allocation that does not exist is that
# target's error alone; the preflight and the IAM policy cover the kind.
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

my @eips = qw(eipalloc-0a000002);
my $fake = start_fake_aws(standard_world());
my ($a, $b) = held_pair($fake, extra => "pg_vip.elastic_ips = '" . join(', ', @eips) . "'\n");

sub association {
	my ($id) = @_;
	my $assoc = fake_state($fake)->{addresses}{$id}{association};
	return $assoc ? $assoc->{eni} : '';
}
sub tags_of {
	my ($id) = @_;
	return fake_state($fake)->{addresses}{$id}{tags};
}
sub targets {
	my ($node, $what) = @_;
	return $node->safe_psql('postgres', "SELECT string_agg($what, ',' ORDER BY kind DESC, id) FROM vip_targets()");
}

# node-a, the first primary, took the Elastic IP (unassociated until then)
# and tagged its allocation as it tagged the routes.
is(association($_), 'eni-0a00000a', "$_ is associated with node-a's interface") for @eips;
is(targets($a, "kind || ':' || state"), 'route:ours,route:ours,route:ours,elastic_ip:ours',
	'vip_targets() on node-a: three routes and an Elastic IP, all ours');
is(status_of($a, 'routes_held'), '4', "vip_status() counts every kind's targets as held");
like(join(',', sort keys %{ tags_of('eipalloc-0a000002') }), qr{^pg_vip:10\.0\.99\.10/32:tl1$},
	'the allocation carries the fence tag of timeline 1');
ok($b->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM vip_targets() WHERE kind = 'elastic_ip' AND state = 'other' AND holder = 'node-a'"),
	'node-b, a standby, sees the Elastic IP elsewhere and node-a as its holder')
  or diag(targets($b, "kind || ':' || id || ':' || state || ':' || coalesce(last_error, '')"));
is($b->safe_psql('postgres', "SELECT count(*) FROM vip_routes()"), '3', 'vip_routes() still shows the routes only');

# Failover, with DescribeAddresses showing the old association for 1.5 s
# after each change, as EC2's eventual consistency may.
fake_control($fake, 'faults', '{"eip_visible_after_ms": 1500}');
my $before = scalar @{ fake_log($fake) };
$a->stop('immediate');
$b->promote;
ok(wait_for_status($b, 'state', 'held', 20), 'node-b, promoted, holds the VIP') or diag(status_of($b, 'last_error'));
is(association($_), 'eni-0b00000b', "$_ is associated with node-b's interface") for @eips;
is(route_target($fake, 'rtb-0a000001'), 'eni-0b00000b', 'and the routes point at node-b');
my @changes = @{ changing_requests_since($fake, $before) };
is(scalar(grep { $_->{action} eq 'AssociateAddress' } @changes), 1, 'one AssociateAddress');
my @tagging = grep { $_->{action} eq 'CreateTags' } @changes;
ok(@tagging >= 1, 'the fence tag written') or diag(explain(\@changes));
ok(exists tags_of('eipalloc-0a000002')->{'pg_vip:10.0.99.10/32:tl2'}, "the allocation carries node-b's tag (timeline 2)");
is($b->safe_psql('postgres', "SELECT string_agg(DISTINCT holder || '/' || holder_timeline, ',') FROM vip_targets()"),
	'node-b/2', "every target carries node-b's tag");
sleep 3;
is(status_of($b, 'state'), 'held', 'the association lag did not push node-b into conflict');
is($b->safe_psql('postgres',
		"SELECT count(*) FROM vip_events() WHERE event IN ('vip_conflict', 'vip_repaired', 'vip_claim_failed')"), '0',
	'no failed claim, conflict or repair counted for the lagging reads: the claim read back until they caught up');
fake_control($fake, 'faults', '{"eip_visible_after_ms": 0}');

# The old primary comes back as primary: fenced; it moves no Elastic IP.
$before = scalar @{ fake_log($fake) };
$a->start;
ok(wait_for_status($a, 'state', 'fenced'), 'the restarted old primary is fenced');
is($a->safe_psql('postgres', "SELECT string_agg(DISTINCT holder, ',') FROM vip_targets()"), 'node-b',
	'it sees node-b holding every target, the Elastic IP too');
sleep 2;
is(scalar(grep { ($_->{caller} // '') eq 'i-0a000001' } @{ changing_requests_since($fake, $before) }), 0,
	'the fenced node sent no changing request');
is(association($_), 'eni-0b00000b', "$_ stays with node-b") for @eips;

# An association moved behind node-b's back is repaired.
fake_control($fake, 'address', '{"allocation_id": "eipalloc-0a000002", "eni": "eni-0a00000a"}');
my $deadline = time + 10;
usleep(100_000) while time < $deadline && association('eipalloc-0a000002') ne 'eni-0b00000b';
is(association('eipalloc-0a000002'), 'eni-0b00000b', 'a moved Elastic IP is associated back');
ok($b->poll_query_until('postgres', "SELECT count(*) > 0 FROM vip_events() WHERE event = 'vip_repaired'"),
	'vip_repaired recorded');
# And one left unassociated.
sleep 2;    # past the repair's confirmation, so that the next move is a new one
fake_control($fake, 'address', '{"allocation_id": "eipalloc-0a000002", "disassociate": true}');
$deadline = time + 10;
usleep(100_000) while time < $deadline && association('eipalloc-0a000002') ne 'eni-0b00000b';
is(association('eipalloc-0a000002'), 'eni-0b00000b', 'a disassociated Elastic IP is associated back');

# The settings: checked with what was expected.
my ($ret, $out, $err) = $b->psql('postgres', "SELECT vip_check_setting('pg_vip.elastic_ips', '198.51.100.10')");
isnt($ret, 0, 'an address where an allocation id belongs is refused');
like($err, qr/allocation id/, 'the message says an allocation id is expected');
($ret, $out, $err) = $b->psql('postgres', "SELECT vip_check_setting('pg_vip.elastic_ips', 'eipalloc-0a000001,eipalloc-0a000002')");
isnt($ret, 0, 'two Elastic IPs are refused');
like($err, qr/EC2 maps one Elastic IP to a private address/, 'saying why: one would take the other away');

# An allocation that does not exist: that target's error, the others held.
$b->append_conf('postgresql.conf', "pg_vip.elastic_ips = 'eipalloc-0a0000ff'\n");
$b->reload;
ok($b->poll_query_until('postgres',
		"SELECT last_error LIKE '%InvalidAllocationID.NotFound%' FROM vip_targets() WHERE id = 'eipalloc-0a0000ff'"),
	'an allocation id that does not exist: InvalidAllocationID.NotFound in its row of vip_targets()')
  or diag(targets($b, "id || ':' || state || ':' || coalesce(last_error, '')"));
is($b->safe_psql('postgres',
		"SELECT string_agg(state, ',' ORDER BY id) FROM vip_targets() WHERE id <> 'eipalloc-0a0000ff'"),
	'ours,ours,ours', 'the routes are still ours');
isnt(status_of($b, 'state'), 'held', 'the VIP is not reported held while a target is not');
$b->append_conf('postgresql.conf', "pg_vip.elastic_ips = '" . join(', ', @eips) . "'\n");
$b->reload;
ok(wait_for_status($b, 'state', 'held', 20), 'with the setting corrected, node-b holds again');

# The preflight proves the kind's permissions and reads each allocation.
my $rows = $b->safe_psql('postgres',
	"SELECT string_agg(\"check\" || '=' || ok, ',' ORDER BY \"check\") FROM vip_preflight(fresh => true) "
	  . "WHERE \"check\" LIKE '%eipalloc%' OR \"check\" LIKE '%Addresses%'");
like($rows, qr/elastic_ip:eipalloc-0a000002=t/, 'vip_preflight(): the allocation exists') or diag($rows);
like($rows, qr/AssociateAddress eipalloc-0a000002=t/, 'AssociateAddress proved with DryRun');
like($rows, qr/DescribeAddresses=t/, 'DescribeAddresses proved');

# The IAM policy names the allocations and node-b's own interface.
my $policy = decode_json($b->safe_psql('postgres', 'SELECT vip_iam_policy()'));
my @associate = grep {
	my @act = ref $_->{Action} ? @{ $_->{Action} } : ($_->{Action});
	grep { $_ eq 'ec2:AssociateAddress' } @act
} @{ $policy->{Statement} };
ok(@associate, 'vip_iam_policy() allows ec2:AssociateAddress');
my $resources = join(' ', map { ref $_->{Resource} ? @{ $_->{Resource} } : $_->{Resource} } @associate);
like($resources, qr{elastic-ip/eipalloc-0a000002}, 'on the configured allocation');
like($resources, qr{network-interface/eni-0b00000b}, "and on node-b's own interface");
unlike($resources, qr{eni-0a00000a}, "not on another node's");

$a->stop;
$b->stop;
done_testing();
