# Targets in another account through an assumed role (pg_vip.role_arn):
# two route tables and an Elastic IP of the account 210987654321, whose
# role pg-vip-dns trusts both nodes' instances with an external id. The
# targets' reads and changes go with the role's credentials, the node's own
# reads (its interface, instance metadata) with its own; a promoted standby
# takes every target; the old primary restarted is fenced; a role that does
# not trust the node, or a wrong external id, is every target's last_error
# and a failing preflight row, saying what to fix and never the id; the
# node's own credentials do not see the targets at all.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgVipTest;
use JSON::PP ();

my $other = '210987654321';
my $role = "arn:aws:iam::$other:role/pg-vip-dns";
my @tables = qw(rtb-0c000001 rtb-0c000002);
my $eip = 'eipalloc-0c000002';
# The nodes' subnet is shared by the other account (a shared VPC's owner);
# their interfaces stay their own account's.
my $fake = start_fake_aws(
	standard_world(),
	'subnets.subnet-0a0b0c0d.account' => $other,
	(map { ("instances.$_.account" => '123456789012') } qw(i-0a000001 i-0b000001)),
	'route_tables.rtb-0c000001' =>
	  { account => $other, routes => [ { destination => '10.0.99.10/32', eni => 'eni-0a00000a' } ] },
	'route_tables.rtb-0c000002' => { account => $other },
	"addresses.$eip" => { public_ip => '203.0.113.20', account => $other });
my $role_conf = "pg_vip.route_tables = '" . join(', ', @tables) . "'\n"
  . "pg_vip.elastic_ips = '$eip'\n"
  . "pg_vip.role_arn = '$role'\n"
  . "pg_vip.role_external_id = 'pg-vip-external-id'\n"
  . "pg_vip.sts_endpoint = '$fake->{ec2}'\n";
my ($a, $b) = held_pair($fake, extra => $role_conf);

sub targets {
	my ($node, $what) = @_;
	return $node->safe_psql('postgres', "SELECT string_agg($what, ',' ORDER BY kind DESC, id) FROM vip_targets()");
}
sub association { return (fake_state($fake)->{addresses}{$eip}{association} // {})->{eni} // '' }

# Which credentials each action went with: the endpoint's log names the
# caller (an instance, or "role:<ARN>" for the role's sessions).
sub callers_of {
	my ($since, $action) = @_;
	my $log = fake_log($fake);
	my %seen = map { ($_->{caller} // '(none)') => 1 } grep { ($_->{action} // '') eq $action } @{$log}[ $since .. $#$log ];
	return join(',', sort keys %seen);
}

is(targets($a, "kind || ':' || state"), 'route:ours,route:ours,elastic_ip:ours',
	"node-a holds the other account's two tables and its Elastic IP") or diag(targets($a, 'last_error'));
is(route_target($fake, $_), 'eni-0a00000a', "$_ routes the VIP to node-a") for @tables;
is(association(), 'eni-0a00000a', "$eip is associated with node-a's interface");
for my $action (qw(DescribeRouteTables DescribeAddresses ReplaceRoute CreateRoute AssociateAddress CreateTags)) {
	is(callers_of(0, $action), "role:$role", "$action went with the role's credentials");
}
is(callers_of(0, 'AssumeRole'), 'i-0a000001,i-0b000001', "each node assumed the role with its own credentials");
like(callers_of(0, 'DescribeNetworkInterfaceAttribute'), qr/^i-0a000001(,i-0b000001)?$/,
	"the node's own read (its interface's source/destination check) kept the node's credentials");
my ($session) = map { $_->{params}{RoleSessionName} } grep { ($_->{action} // '') eq 'AssumeRole' } @{ fake_log($fake) };
like($session, qr/^pg_vip-node-[ab]$/, "the session is named after the node, for CloudTrail");
ok($a->safe_psql('postgres',
		"SELECT sum(value) FROM vip_metrics() WHERE metric = 'api_calls_total' AND action = 'AssumeRole' AND outcome = 'ok'") >= 1,
	'api_calls_total counts AssumeRole');

# The preflight assumes the role, then proves the targets' permissions with it.
my $mark = scalar @{ fake_log($fake) };
my $rows = $b->safe_psql('postgres',
	"SELECT string_agg(\"check\" || '=' || ok, ',' ORDER BY \"check\") FROM vip_preflight(fresh => true)");
like($rows, qr/(^|,)assume_role=t/, 'vip_preflight(): the role can be assumed') or diag($rows);
like($rows, qr/permission:ReplaceRoute rtb-0c000001=t/, 'ReplaceRoute proved with the role (DryRun)');
like($rows, qr/permission:AssociateAddress $eip=t/, 'AssociateAddress proved with the role');
like($rows, qr/route_table:rtb-0c000001=t/, "the other account's table read with the role");
like($rows, qr/interface_owner=t/, "the node's own interface read with its own credentials");
my @dry = grep { $_->{dry_run} } @{ fake_log($fake) }[ $mark .. $#{ fake_log($fake) } ];
ok(@dry && !grep({ ($_->{caller} // '') ne "role:$role" } @dry), "every DryRun probe went with the role's credentials")
  or diag(explain([ map { "$_->{action} $_->{caller}" } @dry ]));

# vip_iam_policy(): the node's document and the role's.
my $policy = JSON::PP::decode_json($b->safe_psql('postgres', 'SELECT vip_iam_policy()'));
sub actions_of {
	my ($doc) = @_;
	return join(',', sort map { ref $_->{Action} ? @{ $_->{Action} } : $_->{Action} } @{ $doc->{Statement} });
}
like(actions_of($policy->{node}), qr/sts:AssumeRole/, "the node's document allows sts:AssumeRole");
unlike(actions_of($policy->{node}), qr/ec2:ReplaceRoute|ec2:AssociateAddress/, 'and no change of a target');
like(JSON::PP::encode_json($policy->{node}), qr{\Q$role\E}, 'on the role');
like(actions_of($policy->{role}), qr/ec2:AssociateAddress.*ec2:ReplaceRoute/, "the role's document changes the targets");
like(JSON::PP::encode_json($policy->{role}), qr{:$other:route-table/rtb-0c000001}, "in the role's account");

# Failover: node-b takes every target through the role.
$mark = scalar @{ fake_log($fake) };
$a->stop('immediate');
$b->promote;
ok(wait_for_status($b, 'state', 'held', 20), 'node-b, promoted, holds the VIP') or diag(status_of($b, 'last_error'));
is(route_target($fake, $_), 'eni-0b00000b', "$_ routes the VIP to node-b") for @tables;
is(association(), 'eni-0b00000b', "$eip is associated with node-b's interface");
my %changers = map { ($_->{caller} // '(none)') => 1 } @{ changing_requests_since($fake, $mark) };
is(join(',', sort keys %changers), "role:$role", "every change of the failover went with the role's credentials");
is($b->safe_psql('postgres', "SELECT string_agg(DISTINCT holder || '/' || holder_timeline, ',') FROM vip_targets()"),
	'node-b/2', "every target carries node-b's fence tag");

# The old primary comes back: it reads the tags through the role and is fenced.
$a->start;
ok(wait_for_status($a, 'state', 'fenced'), 'the restarted old primary is fenced');
$mark = scalar @{ fake_log($fake) };
sleep 2;
is(scalar(grep { $_->{action} =~ /^(ReplaceRoute|CreateRoute|AssociateAddress)$/ } @{ changing_requests_since($fake, $mark) }),
	0, 'nothing moved the routes or the Elastic IP back');
is(route_target($fake, 'rtb-0c000001') . ',' . association(), 'eni-0b00000b,eni-0b00000b', 'they stay with node-b');

# A role that does not trust the node: every target's last_error says what
# to fix, and the preflight's row fails.
sub reload_with {
	my ($node, $lines) = @_;
	$node->append_conf('postgresql.conf', $lines);
	$node->reload;
}
reload_with($a, "pg_vip.role_arn = 'arn:aws:iam::$other:role/pg-vip-nobody'\n");
ok($a->poll_query_until('postgres',
		"SELECT bool_and(last_error LIKE '%AccessDenied (the IAM policy must allow sts:AssumeRole)%must exist and trust%') "
		  . "FROM vip_targets()"),
	'a role that does not trust the node: every target says sts:AssumeRole and the trust policy')
  or diag(targets($a, 'last_error'));
ok(worker_pid($a) > 0, 'the worker is still running');
$rows = $a->safe_psql('postgres',
	"SELECT ok || '|' || hint FROM vip_preflight(fresh => true) WHERE \"check\" = 'assume_role'");
like($rows, qr/^false\|.*sts:AssumeRole.*trust policy.*pg_vip\.role_external_id/, 'the preflight row fails, saying what to fix')
  or diag($rows);
like($a->safe_psql('postgres', "SELECT detail FROM vip_preflight() WHERE \"check\" LIKE 'permission:%' LIMIT 1"),
	qr/could not be assumed/, "the targets' probes say why they were not sent");

# A wrong external id: the same, and the id itself shown nowhere.
reload_with($a, "pg_vip.role_arn = '$role'\npg_vip.role_external_id = 'wrong-external-id'\n");
ok($a->poll_query_until('postgres',
		"SELECT bool_and(last_error LIKE '%pg_vip.role_external_id%') FROM vip_targets()"),
	"a wrong external id: every target's last_error names pg_vip.role_external_id")
  or diag(targets($a, 'last_error'));
$rows = $a->safe_psql('postgres', "SELECT ok || '|' || detail || '|' || hint FROM vip_preflight(fresh => true) WHERE \"check\" = 'assume_role'");
like($rows, qr/^false\|/, 'and the preflight row fails') or diag($rows);
# (PostgreSQL's own reload logs every changed setting's new value,
# "parameter ... changed to": the README says so. pg_vip's lines never.)
my $shown = $a->safe_psql('postgres', 'SELECT string_agg(last_error, \' \') FROM vip_targets()')
  . $rows . status_of($a, 'last_error')
  . join('', grep { !/parameter "pg_vip\.role_external_id" changed to/ } split /^/, slurp_file($a->logfile));
unlike($shown, qr/wrong-external-id/, "the external id is in no message, row or pg_vip's log line");
my ($ret, $out, $err) = $a->psql('postgres', "SELECT vip_check_setting('pg_vip.role_external_id', 'bad id!')");
isnt($ret, 0, 'vip_check_setting() refuses a bad external id');
unlike($err, qr/bad id!/, 'without showing it');
($ret, $out, $err) = $a->psql('postgres', "SELECT vip_check_setting('pg_vip.role_arn', 'arn:aws:iam::1234:role/x')");
like($err, qr/Expected an IAM role ARN/, 'a malformed role ARN is refused with what was expected');

# Without the role the node's own credentials do not see the targets at all.
reload_with($a, "pg_vip.role_arn = ''\npg_vip.role_external_id = ''\n");
ok($a->poll_query_until('postgres',
		"SELECT bool_and(last_error LIKE '%NotFound%') FROM vip_targets()"),
	"without the role: the other account's targets do not exist for the node's own credentials")
  or diag(targets($a, 'last_error'));

is(status_of($b, 'state'), 'held', 'node-b held throughout');
$a->stop;
$b->stop;
done_testing();
