# The DNS kind: a Route 53 record follows the primary with the route tables
# and the Elastic IP, in the promotion's claim, each record in one
# compare-and-swap batch with its fence TXT record; the old primary
# restarted is fenced for the record too and sends nothing; a record moved
# behind the holder's back is put back; throttled Route 53 is retried; a
# hosted zone that does not exist is that record's error alone; with
# pg_vip.dns_value = elastic the record takes the Elastic IP's address.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP qw(decode_json);
use PgVipTest;

my $zone = 'Z0A00000000000000000A';
my $name = 'primary.db.example.internal.';
my $record = "$zone:$name";
# A static key for the AWS CLI, which plays the operator; the nodes use their instance role.
my $fake = start_fake_aws(standard_world(),
	credentials => [ { access_key => 'AKIDPGVIPDNSCLI01', secret => 'dns/cli/secret/1' } ]);
my $extra = "pg_vip.dns_records = '$record'\n"
  . "pg_vip.route53_endpoint = '$fake->{ec2}'\n"
  . "pg_vip.dns_value = 'private'\n"
  . "pg_vip.dns_ttl = 5\n"
  . "pg_vip.elastic_ips = 'eipalloc-0a000002'\n";
my ($a, $b) = held_pair($fake, extra => $extra);

# The zone as the Route 53 API lists it: name/type -> [ttl, values].
sub zone {
	my ($out, $err);
	IPC::Run::run([ 'curl', '-s', '-f', "$fake->{ec2}/_fake/route53/zone/$zone" ], '>', \$out, '2>', \$err)
	  or die $err;
	my %z;
	$z{"$_->{name}/$_->{type}"} = [ $_->{ttl}, join(',', @{ $_->{values} }) ] for @{ decode_json($out)->{records} };
	return \%z;
}
sub address { return (zone()->{"$name/A"} // [ 0, '' ])->[1] }
sub fence   { return (zone()->{"_pg_vip.$name/TXT"} // [ 0, '' ])->[1] }
sub route53_changes_since {
	my ($since) = @_;
	my $log = fake_log($fake);
	return [ grep { ($_->{service} // '') eq 'route53' && ($_->{action} // '') eq 'ChangeResourceRecordSets' }
		  @{$log}[ $since .. $#$log ] ];
}
sub wait_until {
	my ($cond, $seconds) = @_;
	for (1 .. $seconds * 10) {
		return 1 if $cond->();
		select(undef, undef, undef, 0.1);
	}
	return 0;
}
sub targets {
	my ($node, $what) = @_;
	return $node->safe_psql('postgres', "SELECT string_agg($what, ',' ORDER BY kind DESC, id) FROM vip_targets()");
}

is(address(), '10.0.1.10', "node-a, the first primary, pointed the record at its private address");
like(fence(), qr{^"pg_vip:10\.0\.99\.10/32:tl1 10\.0\.1\.10 tl=1;}, 'beside it, the fence TXT names timeline 1 and that address');
is(targets($a, "kind || ':' || state"), 'route:ours,route:ours,route:ours,elastic_ip:ours,dns:ours',
	'vip_targets() on node-a: routes, the Elastic IP and the record, all ours');
is(status_of($a, 'routes_held'), '5', 'vip_status() counts the record among the held targets');
ok($b->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM vip_targets() WHERE kind = 'dns' AND state = 'other' AND holder = 'node-a'"),
	'node-b, a standby, sees the record elsewhere and node-a as its holder')
  or diag(targets($b, "kind || ':' || id || ':' || state || ':' || coalesce(last_error, '')"));

# Failover: the record moves in the promotion's claim, in one batch.
my $before = scalar @{ fake_log($fake) };
$a->stop('immediate');
$b->promote;
ok(wait_for_status($b, 'state', 'held', 20), 'node-b, promoted, holds the VIP') or diag(status_of($b, 'last_error'));
is(address(), '10.0.1.11', "the record holds node-b's private address");
is(zone()->{"$name/A"}[0], 5, 'with pg_vip.dns_ttl as its TTL');
like(fence(), qr{^"pg_vip:10\.0\.99\.10/32:tl2 10\.0\.1\.11 tl=2;}, "its fence is node-b's, timeline 2");
is(route_target($fake, 'rtb-0a000001'), 'eni-0b00000b', 'the routes moved with it');
my $changes = route53_changes_since($before);
is(scalar(grep { $_->{status} == 200 } @$changes), 1, 'one ChangeResourceRecordSets')
  or diag(explain($changes));
is($b->safe_psql('postgres', "SELECT holder || '/' || holder_timeline FROM vip_targets() WHERE kind = 'dns'"),
	'node-b/2', 'vip_targets() shows node-b holding the record on timeline 2');
like($b->safe_psql('postgres', "SELECT details FROM vip_events() WHERE event = 'vip_claim' AND success ORDER BY at DESC LIMIT 1"),
	qr/timeline 2/, 'the claim is an event');

# The old primary comes back as primary: fenced; it sends nothing to Route 53.
$before = scalar @{ fake_log($fake) };
$a->start;
ok(wait_for_status($a, 'state', 'fenced'), 'the restarted old primary is fenced');
sleep 2;
is(scalar(@{ route53_changes_since($before) }), 0, 'and changes no record');
is(address(), '10.0.1.11', 'the record stays with node-b');
$a->stop;

# Someone points the record elsewhere by hand, and Route 53 then throttles
# twice: node-b puts the record back under its fence (its TXT still names
# it), as it repairs a route, through the throttling.
my ($ok, $json, $err) = aws_as_operator($fake, 'AKIDPGVIPDNSCLI01', 'dns/cli/secret/1',
	'route53', 'change-resource-record-sets', '--hosted-zone-id', $zone,
	'--change-batch', '{"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {"Name": "' . $name
	  . '", "Type": "A", "TTL": 5, "ResourceRecords": [{"Value": "10.0.1.99"}]}}]}');
ok($ok, 'the record moved by hand with the AWS CLI') or diag($err);
fake_control($fake, 'faults', '{"fail_next": {"count": 2, "status": 400, "code": "Throttling", '
	  . '"message": "Rate exceeded", "service": "route53", "actions": ["ChangeResourceRecordSets"]}}');
$before = scalar @{ fake_log($fake) };
ok(wait_until(sub { address() eq '10.0.1.11' }, 30), 'node-b put the record back') or diag(address());
is(scalar(grep { $_->{status} == 400 } @{ route53_changes_since($before) }), 2, 'through two Throttling answers');
ok(wait_for_status($b, 'state', 'held'), 'and holds') or diag(status_of($b, 'last_error'));

# The preflight reads the record (Route 53 has no DryRun, and says so).
my $rows = $b->safe_psql('postgres',
	"SELECT string_agg(\"check\" || '=' || ok || '=' || detail, E'\\n' ORDER BY \"check\") FROM vip_preflight(fresh => true) "
	  . "WHERE \"check\" LIKE 'dns:%' OR \"check\" = 'configuration'");
like($rows, qr/^dns:\Q$record\E=true=The A record holds 10\.0\.1\.11\. Its fence names node "node-b" \(eni-0b00000b\) on timeline 2/m,
	'vip_preflight(): the record, where it points and whose fence') or diag($rows);
like($rows, qr/no DryRun/, 'and that its change cannot be proven before a claim');
like($rows, qr/^configuration=true=.*1 DNS record/m, 'the configuration row counts the record') or diag($rows);

# The IAM policy: the compare-and-swap on the record and its fence only.
my $policy = decode_json($b->safe_psql('postgres', 'SELECT vip_iam_policy()'));
my ($change) = grep { $_->{Sid} eq 'PgVipChangeRecord' } @{ $policy->{Statement} };
ok($change, 'vip_iam_policy() has a statement for the record');
is(join(',', sort @{ $change->{Condition}{'ForAllValues:StringEquals'}{'route53:ChangeResourceRecordSetsActions'} }),
	'CREATE,DELETE,UPSERT', 'the compare-and-swap\'s actions');
is(join(',', sort @{ $change->{Condition}{'ForAllValues:StringEquals'}{'route53:ChangeResourceRecordSetsNormalizedRecordNames'} }),
	'_pg_vip.primary.db.example.internal,primary.db.example.internal', 'on the record and its fence only');

# A hosted zone that does not exist: that record's error, the rest held.
$b->append_conf('postgresql.conf', "pg_vip.dns_records = '$record,Z0B00000000000000000B:db.example.com.'\n");
$b->reload;
ok($b->poll_query_until('postgres',
		"SELECT last_error LIKE '%NoSuchHostedZone%' FROM vip_targets() WHERE id LIKE 'Z0B%'"),
	'the unknown zone is named in its own last_error')
  or diag(targets($b, "id || ':' || state || ':' || coalesce(last_error, '')"));
is($b->safe_psql('postgres', "SELECT count(*) FROM vip_targets() WHERE state = 'ours'"), '5',
	'every other target is still ours');

# pg_vip.dns_value = elastic: the record takes the first Elastic IP's public
# address (eipalloc-0a000002's, read once with DescribeAddresses).
$b->append_conf('postgresql.conf', "pg_vip.dns_records = '$record'\npg_vip.dns_value = 'elastic'\n");
$b->reload;
ok(wait_until(sub { address() eq '198.51.100.11' }, 30), "dns_value = elastic: the record holds the Elastic IP's public address")
  or diag(address() . ' ' . targets($b, "id || ':' || state || ':' || coalesce(last_error, '')"));

done_testing();
