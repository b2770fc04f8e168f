# A Route 53 record in another account, changed through an assumed role
# (pg_vip.role_arn + pg_vip.dns_records): the hosted zone belongs to the
# account 210987654321, whose role pg-vip-dns trusts both nodes' instances.
# The endpoint logs the access key each request was signed with and whose
# it is: every read and change of the record went with the temporary
# credentials AssumeRole gave, never with the node's own (its instance
# role's), which do not see the zone at all.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP qw(decode_json);
use PgVipTest;

my $other = '210987654321';
my $role = "arn:aws:iam::$other:role/pg-vip-dns";
my $zone = 'Z0C00000000000000000C';  # example.org., the other account's (test/fake_aws/world.json)
my $name = 'db.example.org.';
my $fake = start_fake_aws(standard_world());
my $extra = "pg_vip.dns_records = '$zone:$name'\n"
  . "pg_vip.route53_endpoint = '$fake->{ec2}'\n"
  . "pg_vip.dns_ttl = 5\n"
  . "pg_vip.role_arn = '$role'\n"
  . "pg_vip.role_external_id = 'pg-vip-external-id'\n"
  . "pg_vip.sts_endpoint = '$fake->{ec2}'\n";
# The record alone: every target is the other account's.
my ($a, $b) = start_pair($fake, extra => $extra, primary_extra => "pg_vip.route_tables = ''\n");

sub address {
	my ($out, $err);
	IPC::Run::run([ 'curl', '-s', '-f', "$fake->{ec2}/_fake/route53/zone/$zone" ], '>', \$out, '2>', \$err)
	  or die $err;
	my ($a) = grep { $_->{name} eq $name && $_->{type} eq 'A' } @{ decode_json($out)->{records} };
	return $a ? join(',', @{ $a->{values} }) : '';
}
# The Route 53 requests logged after the first $since, with the key each
# was signed with and whose that key is (the endpoint's key_callers).
sub route53_since {
	my ($since, $action) = @_;
	my $log = fake_log($fake);
	my $callers = fake_state($fake)->{key_callers};
	return [ map { { %$_, key_caller => $callers->{ $_->{access_key} // '' } // '(unknown key)' } }
		  grep { ($_->{service} // '') eq 'route53' && ($_->{action} // '') eq $action } @{$log}[ $since .. $#$log ] ];
}
# The keys AssumeRole was called with, by caller.
sub assume_role_callers {
	my %c = map { (($_->{caller} // '(none)') => 1) }
	  grep { ($_->{action} // '') eq 'AssumeRole' && $_->{status} eq '200' } @{ fake_log($fake) };
	return join(',', sort keys %c);
}

ok(wait_for_status($a, 'state', 'held'), "node-a holds the other account's record") or diag(status_of($a, 'last_error'));
is(address(), '10.0.1.10', "the record holds node-a's private address");
my $changes = route53_since(0, 'ChangeResourceRecordSets');
ok(@$changes >= 1, 'node-a changed the record');
is(join(',', sort keys %{ { map { ($_->{caller} => 1) } @$changes } }), "role:$role",
	"the endpoint logged the role's session as the change's caller");
ok(!grep({ $_->{key_caller} ne "role:$role" || ($_->{access_key} // '') !~ /^ASIA/ } @$changes),
	"each change was signed with a temporary key the role's AssumeRole issued")
  or diag(explain([ map { "$_->{access_key} $_->{key_caller}" } @$changes ]));
my %node_keys = map { ($_ => 1) } grep { my $k = $_; (fake_state($fake)->{key_callers}{$k} // '') =~ /^i-/ }
  keys %{ fake_state($fake)->{key_callers} };
ok(%node_keys, "the nodes' own (instance role) keys are known to the endpoint");
ok(!grep({ $node_keys{ $_->{access_key} // '' } } @$changes), "no change was signed with a node's own key");
my $reads = route53_since(0, 'ListResourceRecordSets');
ok(@$reads && !grep({ $_->{key_caller} ne "role:$role" } @$reads), "the record's reads went with the role's key too");
like(assume_role_callers(), qr/^i-0a000001/, "node-a assumed the role with its own credentials");

# Failover: node-b takes the record, through its own session of the role.
ok(wait_for_status($b, 'state', 'standby'), 'node-b is a standby');
ok($b->poll_query_until('postgres', "SELECT state = 'other' FROM vip_targets() WHERE kind = 'dns'"),
	'node-b has read the record');
my $mark = scalar @{ fake_log($fake) };
$a->stop('immediate');
$b->promote;
ok(wait_for_status($b, 'state', 'held', 20), 'node-b, promoted, holds the record') or diag(status_of($b, 'last_error'));
is(address(), '10.0.1.11', "the record holds node-b's address");
$changes = route53_since($mark, 'ChangeResourceRecordSets');
ok(@$changes && !grep({ $_->{key_caller} ne "role:$role" } @$changes), "node-b's change went with the role's key")
  or diag(explain([ map { "$_->{caller} $_->{key_caller}" } @$changes ]));
is(assume_role_callers(), 'i-0a000001,i-0b000001', 'each node assumed the role itself');
is($b->safe_psql('postgres', "SELECT state || '/' || holder || '/' || holder_timeline FROM vip_targets() WHERE kind = 'dns'"),
	'ours/node-b/2', "vip_targets(): node-b's fence on the record");

# Without the role, the node's own credentials are refused the zone.
$b->append_conf('postgresql.conf', "pg_vip.role_arn = ''\n");
$b->reload;
ok($b->poll_query_until('postgres', "SELECT last_error LIKE '%AccessDenied%' FROM vip_targets() WHERE kind = 'dns'"),
	"without pg_vip.role_arn the node's own credentials may not read the other account's zone")
  or diag($b->safe_psql('postgres', 'SELECT last_error FROM vip_targets()'));
$b->stop;
done_testing();
