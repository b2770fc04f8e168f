# Every kind at once: route tables, an Elastic IP, a secondary private IP
# and a Route 53 record follow the promoted standby in its claim; EC2's
# changes and the record's batch go out in one round trip; each target carries the new primary's
# fence (the tables' and the allocation's tag, the subnet's tag for the
# address, the record's TXT); the old primary restarted is fenced for every
# kind and changes nothing; a secondary IP moved by hand is taken back.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use List::Util qw(min max);
use JSON::PP qw(decode_json);
use PgVipTest;

my $eip = 'eipalloc-0a000002';
my $address = '10.0.1.100';    # the secondary IP, in the nodes' subnet
my $subnet = 'subnet-0a0b0c0d';
my $zone = 'Z0A00000000000000000A';
my $name = 'primary.db.example.internal.';
# A static key for the AWS CLI, which plays the operator; the nodes use their instance role.
my $fake = start_fake_aws(standard_world(),
	credentials => [ { access_key => 'AKIDPGVIPKINDSCLI1', secret => 'kinds/cli/secret/1' } ]);
my $extra = "pg_vip.elastic_ips = '$eip'\n"
  . "pg_vip.secondary_ips = '$address'\n"
  . "pg_vip.dns_records = '$zone:$name'\n"
  . "pg_vip.route53_endpoint = '$fake->{ec2}'\n"
  . "pg_vip.dns_ttl = 5\n";
my ($a, $b) = held_pair($fake, extra => $extra);

# Where each kind's target is, as the endpoint holds it.
sub holding_eni {    # the interface the secondary IP is assigned to ('' none)
	my $nics = fake_state($fake)->{network_interfaces};
	my @on = grep { grep { $_ eq $address } @{ $nics->{$_}{ips} } } sort keys %$nics;
	return join(',', @on);
}
sub subnet_keys {
	return join(',', sort grep { /^pg_vip:/ } keys %{ fake_state($fake)->{subnets}{$subnet}{tags} });
}
sub association {
	my $assoc = fake_state($fake)->{addresses}{$eip}{association};
	return $assoc ? $assoc->{eni} : '';
}
sub record {
	my ($type) = @_;
	my $prefix = $type eq 'TXT' ? '_pg_vip.' : '';
	for my $r (@{ fake_state($fake)->{hosted_zones}{$zone}{records} }) {
		return join(',', @{ $r->{values} }) if $r->{name} eq "$prefix$name" && $r->{type} eq $type;
	}
	return '';
}
sub targets {
	my ($node, $what) = @_;
	return $node->safe_psql('postgres', "SELECT string_agg($what, ',' ORDER BY kind, id) FROM vip_targets()");
}
sub wait_until {
	my ($cond, $seconds) = @_;
	my $deadline = time + $seconds;
	until ($cond->()) {
		return 0 if time > $deadline;
		usleep(100_000);
	}
	return 1;
}

# node-a, the first primary, holds every kind.
is(targets($a, "kind || ':' || state"),
	'dns:ours,elastic_ip:ours,route:ours,route:ours,route:ours,secondary_ip:ours',
	'vip_targets() on node-a: a record, an Elastic IP, three routes and a secondary IP, all ours')
  or diag(targets($a, "kind || ':' || id || ':' || state || ':' || coalesce(last_error, '')"));
is(status_of($a, 'routes_held'), '6', "vip_status() counts every kind's targets as held");
ok(wait_until(sub { holding_eni() eq 'eni-0a00000a' }, 10), "the secondary IP is on node-a's interface")
  or diag(holding_eni());
is(subnet_keys(), "pg_vip:$address/32:tl1", "the subnet carries the address's fence tag of timeline 1");
ok($b->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM vip_targets() WHERE kind = 'secondary_ip' AND state = 'other' AND holder = 'node-a'"),
	'node-b, a standby, sees the secondary IP elsewhere and node-a as its holder')
  or diag(targets($b, "kind || ':' || id || ':' || state || ':' || coalesce(last_error, '')"));

# Failover. EC2 applies the address's move 2 s after answering, and shows
# the association 1.5 s late, as its eventual consistency may; every answer
# takes 300 ms, so requests sent in one round trip arrive well within it.
fake_control($fake, 'faults', '{"secondary_ip_delay_ms": 2000, "eip_visible_after_ms": 1500, "delay_ms": 300}');
my $before = log_size($fake);
$a->stop('immediate');
$b->promote;
ok(wait_for_status($b, 'state', 'held', 30), 'node-b, promoted, holds the VIP')
  or diag(status_of($b, 'last_error'), "\n", targets($b, "kind || ':' || id || ':' || state || ':' || coalesce(last_error, '')"));
is(route_target($fake, $_), 'eni-0b00000b', "$_ points at node-b") for qw(rtb-0a000001 rtb-0a000002 rtb-0a000003);
is(association(), 'eni-0b00000b', "the Elastic IP is associated with node-b's interface");
is(holding_eni(), 'eni-0b00000b', "the secondary IP is on node-b's interface");
is(record('A'), '10.0.1.11', "the record holds node-b's private address");
like(record('TXT'), qr{^"pg_vip:10\.0\.99\.10/32:tl2 10\.0\.1\.11 tl=2;}, "the record's fence is node-b's, timeline 2");
like(subnet_keys(), qr{pg_vip:10\.0\.1\.100/32:tl2}, "the subnet carries node-b's tag for the address (timeline 2)");
is($b->safe_psql('postgres', "SELECT string_agg(DISTINCT holder || '/' || holder_timeline, ',') FROM vip_targets()"),
	'node-b/2', 'every target of every kind carries node-b as its holder, timeline 2');

# The promotion's changes, EC2's and Route 53's: one round trip, each
# kind's request sent before the first answer came back. Every answer
# takes 300 ms: a batch sent after EC2's answers would arrive that much
# later.
my @moves = grep {
	$_->{changing}
	  && ($_->{action} =~ /^(ReplaceRoute|CreateRoute|AssociateAddress|AssignPrivateIpAddresses|ChangeResourceRecordSets)$/)
} @{ fake_log($fake) }[ $before .. log_size($fake) - 1 ];
my %by_action;
$by_action{ $_->{action} }++ for @moves;
is($by_action{AssociateAddress}, 1, 'one AssociateAddress') or diag(explain(\@moves));
is($by_action{AssignPrivateIpAddresses}, 1, 'one AssignPrivateIpAddresses (AllowReassignment)');
is($by_action{ChangeResourceRecordSets}, 1, "one change batch for the record");
my @t = map { $_->{t} } @moves;
cmp_ok(max(@t) - min(@t), '<', 0.25,
	"the routes', the Elastic IP's, the address's and the record's changes arrived within one answer's time")
  or diag(join("\n", map { sprintf('%.3f %s', $_->{t} - min(@t), $_->{action}) } @moves));
fake_control($fake, 'faults', '{"secondary_ip_delay_ms": null, "eip_visible_after_ms": 0, "delay_ms": 0}');
is($b->safe_psql('postgres', "SELECT count(*) FROM vip_events() WHERE event IN ('vip_conflict', 'vip_claim_failed')"),
	'0', "the address's asynchronous move failed no claim: the claim read it back until it arrived");

# The old primary comes back as primary: fenced for every kind, it sends no
# changing request, and every target stays with node-b.
$before = log_size($fake);
$a->start;
ok(wait_for_status($a, 'state', 'fenced'), 'the restarted old primary is fenced');
is($a->safe_psql('postgres', "SELECT string_agg(DISTINCT holder, ',') FROM vip_targets()"), 'node-b',
	'it sees node-b holding every target, the secondary IP too');
sleep 2;
is(scalar(grep { ($_->{caller} // '') eq 'i-0a000001' && $_->{changing} } @{ fake_log($fake) }[ $before .. log_size($fake) - 1 ]),
	0, 'the fenced node sent no changing request');
is(holding_eni(), 'eni-0b00000b', 'the secondary IP stays with node-b');
is(record('A'), '10.0.1.11', 'the record stays with node-b');

# The address moved to node-a's interface by hand (as
# `aws ec2 assign-private-ip-addresses --allow-reassignment` would): node-b
# takes it back; node-a, fenced, leaves it.
my ($ok, undef, $err) = aws_as_operator($fake, 'AKIDPGVIPKINDSCLI1', 'kinds/cli/secret/1',
	'ec2', 'assign-private-ip-addresses', '--network-interface-id', 'eni-0a00000a',
	'--private-ip-addresses', $address, '--allow-reassignment');
ok($ok, 'aws ec2 assign-private-ip-addresses --allow-reassignment, by hand') or diag($err);
ok(wait_until(sub { holding_eni() eq 'eni-0a00000a' }, 5), 'the address was moved to node-a by hand');
ok(wait_until(sub { holding_eni() eq 'eni-0b00000b' }, 20), 'node-b took it back')
  or diag(targets($b, "kind || ':' || id || ':' || state || ':' || coalesce(last_error, '')"));
ok($b->poll_query_until('postgres', "SELECT count(*) > 0 FROM vip_events() WHERE event = 'vip_repaired'"),
	'vip_repaired recorded');
is(status_of($a, 'state'), 'fenced', 'node-a stays fenced');

$a->stop;
$b->stop;
done_testing();
