# The local AWS endpoint's further kinds of target, driven with Debian's
# AWS CLI (botocore, independent of pg_vip) so that their answers have the
# real shapes: EC2's Elastic IPs and secondary private addresses, STS's
# AssumeRole into another account, and Route 53's record sets. Each keeps
# real state, refuses what AWS refuses with AWS's codes, and is as
# asynchronous as AWS when the world says so. The world is the shared
# world.json's (its addresses, roles and hosted zones), not a copy.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use Time::HiRes qw(time sleep);
use PgVipTest;

plan skip_all => 'Debian awscli not installed' unless -x '/usr/bin/aws';

my $role_arn = 'arn:aws:iam::210987654321:role/pg-vip-dns';
my $fake = start_fake_aws(
	credentials => [
		# Calls as the instance i-0a000001, which the role trusts.
		{ access_key => 'AKIDPGVIPKINDS01', secret => 'kinds/secret/1', instance => 'i-0a000001' },
		# A key of no instance: the role does not trust it.
		{ access_key => 'AKIDPGVIPKINDS02', secret => 'kinds/secret/2' } ]);

# Keep the CLI away from any real metadata service or credentials file.
local $ENV{AWS_EC2_METADATA_DISABLED} = 'true';
local $ENV{AWS_CONFIG_FILE} = '/dev/null';
local $ENV{AWS_SHARED_CREDENTIALS_FILE} = '/dev/null';
local $ENV{AWS_ACCESS_KEY_ID} = 'AKIDPGVIPKINDS01';
local $ENV{AWS_SECRET_ACCESS_KEY} = 'kinds/secret/1';
# One attempt: an injected error reaches the test instead of the CLI's retries.
local $ENV{AWS_RETRY_MODE} = 'standard';
local $ENV{AWS_MAX_ATTEMPTS} = '1';

# Runs the CLI; returns (ok, decoded JSON answer or undef, stderr).
sub aws {
	my (@args) = @_;
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run([ '/usr/bin/aws', '--endpoint-url', $fake->{ec2}, '--region', 'us-east-1', '--output', 'json',
			@args ], '>', \$out, '2>', \$err);
	my $json = ($ok && $out =~ /\S/) ? eval { decode_json($out) } : undef;
	return ($ok, $json, $err);
}

sub address {
	my ($allocation) = @_;
	my ($ok, $json, $err) = aws('ec2', 'describe-addresses', '--allocation-ids', $allocation);
	diag($err) unless $ok;
	return ($json->{Addresses} // [])->[0] // {};
}

sub private_ips {
	my ($eni) = @_;
	my ($ok, $json, $err) = aws('ec2', 'describe-network-interfaces', '--network-interface-ids', $eni);
	diag($err) unless $ok;
	return join(',', map { $_->{PrivateIpAddress} . ($_->{Primary} ? '*' : '') }
		  @{ ($json->{NetworkInterfaces} // [])->[0]{PrivateIpAddresses} // [] });
}

sub state_of_address { return fake_state($fake)->{addresses}{ $_[0] }{association} }

# ---- EC2: Elastic IPs --------------------------------------------------------

my ($ok, $json, $err) = aws('ec2', 'describe-addresses');
ok($ok, 'describe-addresses succeeds') or diag($err);
my %by_id = map { $_->{AllocationId} => $_ } @{ $json->{Addresses} // [] };
is_deeply([ sort keys %by_id ], [ 'eipalloc-0a000001', 'eipalloc-0a000002' ],
	"it lists this account's addresses, not another account's");
my $eip = $by_id{'eipalloc-0a000001'} // {};
is(join(' ', map { $_ // '-' } @$eip{qw(PublicIp Domain NetworkInterfaceId PrivateIpAddress InstanceId NetworkInterfaceOwnerId)}),
	'198.51.100.10 vpc eni-0a00000a 10.0.1.10 i-0a000001 123456789012',
	"an associated address: its public IP, domain, interface, private address, instance and the interface's owner");
like($eip->{AssociationId} // '', qr/^eipassoc-[0-9a-f]+$/, 'and its association id');
ok(!exists $by_id{'eipalloc-0a000002'}{AssociationId}, 'an unassociated address has no association');

($ok, $json, $err) = aws('ec2', 'describe-addresses', '--allocation-ids', 'eipalloc-0c000001');
like($err, qr/InvalidAllocationID\.NotFound/, "another account's allocation id is not found, as EC2 has it");

my $before = state_of_address('eipalloc-0a000001');
($ok, $json, $err) = aws('ec2', 'associate-address', '--allocation-id', 'eipalloc-0a000001',
	'--network-interface-id', 'eni-0b00000b');
like($err, qr/Resource\.AlreadyAssociated/, 'an associated address without --allow-reassociation: Resource.AlreadyAssociated');
like($err, qr/eipalloc-0a000001 is already associated with associate-id \Q$before->{association_id}\E/,
	'naming the allocation and its association');
is_deeply(state_of_address('eipalloc-0a000001'), $before, 'and nothing changed');

($ok, $json, $err) = aws('ec2', 'associate-address', '--allocation-id', 'eipalloc-0a000001',
	'--network-interface-id', 'eni-0b00000b', '--allow-reassociation');
ok($ok, 'with --allow-reassociation it moves') or diag($err);
my $association = $json->{AssociationId} // '';
like($association, qr/^eipassoc-/, 'answering the new association id');
isnt($association, $before->{association_id}, 'a new one');
$eip = address('eipalloc-0a000001');
is(join(' ', map { $_ // '-' } @$eip{qw(NetworkInterfaceId PrivateIpAddress InstanceId AssociationId)}),
	"eni-0b00000b 10.0.1.11 i-0b000001 $association", "describe-addresses shows it on the other interface's primary address");

($ok, $json, $err) = aws('ec2', 'associate-address', '--allocation-id', 'eipalloc-0fffffff',
	'--network-interface-id', 'eni-0b00000b');
like($err, qr/InvalidAllocationID\.NotFound/, 'an unknown allocation: InvalidAllocationID.NotFound');

($ok, $json, $err) = aws('ec2', 'associate-address', '--allocation-id', 'eipalloc-0a000001',
	'--network-interface-id', 'eni-0a00000a', '--allow-reassociation', '--dry-run');
like($err, qr/DryRunOperation/, 'a dry run of associate-address: DryRunOperation');
is(state_of_address('eipalloc-0a000001')->{eni}, 'eni-0b00000b', 'which moved nothing');

# Eventual consistency: after the move DescribeAddresses still shows the old
# association for eip_visible_after_ms (long: the CLI takes seconds a call
# on a busy machine).
fake_control($fake, 'faults', '{"eip_visible_after_ms": 15000}');
my $moved_at = time();
($ok, $json, $err) = aws('ec2', 'associate-address', '--allocation-id', 'eipalloc-0a000001',
	'--network-interface-id', 'eni-0a00000a', '--allow-reassociation');
ok($ok, 'associate-address back, while DescribeAddresses lags') or diag($err);
my $moved_at_answered = time();
is(state_of_address('eipalloc-0a000001')->{eni}, 'eni-0a00000a', 'the association changed at once');
$eip = address('eipalloc-0a000001');
is($eip->{NetworkInterfaceId}, 'eni-0b00000b', 'describe-addresses still shows the old one')
  or diag(sprintf('asked %.1f s after the change', time() - $moved_at));
# The server stamped the change before the CLI returned: wait from then.
sleep(15.3 - (time() - $moved_at_answered)) if time() - $moved_at_answered < 15.3;
is(address('eipalloc-0a000001')->{NetworkInterfaceId}, 'eni-0a00000a', 'and the new one once eip_visible_after_ms passed');
fake_control($fake, 'faults', '{"eip_visible_after_ms": null}');

($ok, $json, $err) = aws('ec2', 'associate-address', '--allocation-id', 'eipalloc-0a000002', '--instance-id', 'i-0b000001');
ok($ok, 'associate-address by instance id') or diag($err);
is(address('eipalloc-0a000002')->{NetworkInterfaceId}, 'eni-0b00000b', "goes to the instance's primary interface");
($ok, $json, $err) = aws('ec2', 'disassociate-address', '--association-id', $json->{AssociationId} // '');
ok($ok, 'disassociate-address succeeds') or diag($err);
ok(!exists address('eipalloc-0a000002')->{AssociationId}, 'and the address is unassociated');
($ok, $json, $err) = aws('ec2', 'disassociate-address', '--association-id', 'eipassoc-0fffffff');
like($err, qr/InvalidAssociationID\.NotFound/, 'an unknown association: InvalidAssociationID.NotFound');

($ok, $json, $err) = aws('ec2', 'create-tags', '--resources', 'eipalloc-0a000002', '--tags', 'Key=pg_vip:eip,Value=tl=3');
ok($ok, 'create-tags on an allocation') or diag($err);
is(join(',', map { "$_->{Key}=$_->{Value}" } @{ address('eipalloc-0a000002')->{Tags} // [] }), 'pg_vip:eip=tl=3',
	'describe-addresses shows its tag');
($ok, $json, $err) = aws('ec2', 'delete-tags', '--resources', 'eipalloc-0a000002', '--tags', 'Key=pg_vip:eip');
is_deeply(address('eipalloc-0a000002')->{Tags}, [], 'delete-tags takes it away');

# ---- EC2: secondary private addresses ---------------------------------------

($ok, $json, $err) = aws('ec2', 'assign-private-ip-addresses', '--network-interface-id', 'eni-0a00000a',
	'--private-ip-addresses', '10.0.1.100');
ok($ok, 'assign-private-ip-addresses succeeds') or diag($err);
is(join(',', map { $_->{PrivateIpAddress} } @{ $json->{AssignedPrivateIpAddresses} // [] }), '10.0.1.100',
	'answering the addresses assigned');
is(private_ips('eni-0a00000a'), '10.0.1.10*,10.0.1.100', 'describe-network-interfaces: the primary, then the secondary');

($ok, $json, $err) = aws('ec2', 'assign-private-ip-addresses', '--network-interface-id', 'eni-0b00000b',
	'--private-ip-addresses', '10.0.1.100');
like($err, qr/PrivateIpAddressInUse/, "another interface's address without --allow-reassignment is refused");
is(private_ips('eni-0a00000a'), '10.0.1.10*,10.0.1.100', 'and stays where it was');
($ok, $json, $err) = aws('ec2', 'assign-private-ip-addresses', '--network-interface-id', 'eni-0b00000b',
	'--private-ip-addresses', '10.0.2.100');
like($err, qr/InvalidParameterValue.*subnet/, "an address outside the interface's subnet is refused");

# A secondary IP's fence is on its subnet: the preflight proves
# DescribeSubnets and CreateTags/DeleteTags on the subnet under the address's
# key with DryRun, which a policy allows or refuses as EC2 does.
fake_control($fake, 'policy', encode_json({ instance => 'i-0a000001', policy => { Version => '2012-10-17',
	Statement => [
		{ Effect => 'Allow', Action => [ 'ec2:DescribeSubnets' ], Resource => '*' },
		{ Effect => 'Allow', Action => [ 'ec2:CreateTags', 'ec2:DeleteTags' ],
		  Resource => 'arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0a0b0c0d',
		  Condition => { 'ForAllValues:StringLike' => { 'aws:TagKeys' => [ 'pg_vip:10.0.1.100/32:tl*' ] } } } ] } }));
($ok, $json, $err) = aws('ec2', 'describe-subnets', '--subnet-ids', 'subnet-0a0b0c0d', '--dry-run');
like($err, qr/DryRunOperation/, 'a dry run of describe-subnets: DryRunOperation');
($ok, $json, $err) = aws('ec2', 'create-tags', '--resources', 'subnet-0a0b0c0d', '--tags',
	'Key=pg_vip:10.0.1.100/32:tl2,Value=preflight', '--dry-run');
like($err, qr/DryRunOperation/, "a dry run of create-tags on the subnet under the address's key: DryRunOperation");
($ok, $json, $err) = aws('ec2', 'delete-tags', '--resources', 'subnet-0a0b0c0d', '--tags',
	'Key=pg_vip:10.0.1.100/32:tl2,Value=preflight', '--dry-run');
like($err, qr/DryRunOperation/, 'and of delete-tags: DryRunOperation');
($ok, $json, $err) = aws('ec2', 'describe-subnets', '--subnet-ids', 'subnet-0a0b0c0d');
ok($ok, 'describe-subnets') or diag($err);
ok(!grep({ $_->{Key} =~ /^pg_vip:/ } @{ ($json->{Subnets} // [])->[0]{Tags} // [] }), 'the dry runs tagged nothing');
($ok, $json, $err) = aws('ec2', 'create-tags', '--resources', 'subnet-0a0b0c0d', '--tags',
	'Key=pg_vip:10.0.1.101/32:tl2,Value=preflight', '--dry-run');
like($err, qr/UnauthorizedOperation.*ec2:CreateTags/, "another address's key on the subnet: UnauthorizedOperation");
($ok, $json, $err) = aws('ec2', 'create-tags', '--resources', 'eni-0a00000a', '--tags',
	'Key=pg_vip:10.0.1.100/32:tl2,Value=preflight', '--dry-run');
like($err, qr/UnauthorizedOperation/, 'the key on the interface instead: UnauthorizedOperation');
fake_control($fake, 'policy', encode_json({ instance => 'i-0a000001', policy => { Version => '2012-10-17',
	Statement => [ { Effect => 'Allow', Action => [ 'ec2:DescribeNetworkInterfaces' ], Resource => '*' } ] } }));
($ok, $json, $err) = aws('ec2', 'describe-subnets', '--subnet-ids', 'subnet-0a0b0c0d', '--dry-run');
like($err, qr/UnauthorizedOperation.*ec2:DescribeSubnets/, 'describe-subnets not allowed: UnauthorizedOperation');
fake_control($fake, 'policy', encode_json({ instance => 'i-0a000001', policy => undef }));

# An Elastic IP on the secondary address moves with it.
($ok, $json, $err) = aws('ec2', 'associate-address', '--allocation-id', 'eipalloc-0a000002',
	'--network-interface-id', 'eni-0a00000a', '--private-ip-address', '10.0.1.100');
ok($ok, 'an Elastic IP on the secondary address') or diag($err);

# Asynchronous: the address leaves and arrives secondary_ip_delay_ms later.
fake_control($fake, 'faults', '{"secondary_ip_delay_ms": 15000}');
my $assigned_at = time();
($ok, $json, $err) = aws('ec2', 'assign-private-ip-addresses', '--network-interface-id', 'eni-0b00000b',
	'--private-ip-addresses', '10.0.1.100', '--allow-reassignment');
ok($ok, 'with --allow-reassignment it is taken') or diag($err);
my $assigned_at_answered = time();
my ($a_ips, $b_ips) = (private_ips('eni-0a00000a'), private_ips('eni-0b00000b'));
is("$a_ips / $b_ips", '10.0.1.10*,10.0.1.100 / 10.0.1.11*', 'but until secondary_ip_delay_ms passed it has not moved')
  or diag(sprintf('asked %.1f s after the change', time() - $assigned_at));
is(scalar(@{ fake_state($fake)->{ip_moves} }), 1, 'the state shows the move under way');
# The server stamped the change before the CLI returned: wait from then.
sleep(15.3 - (time() - $assigned_at_answered)) if time() - $assigned_at_answered < 15.3;
is(private_ips('eni-0a00000a') . ' / ' . private_ips('eni-0b00000b'), '10.0.1.10* / 10.0.1.11*,10.0.1.100',
	'then it left the one interface for the other');
$eip = address('eipalloc-0a000002');
is(join(' ', map { $_ // '-' } @$eip{qw(NetworkInterfaceId PrivateIpAddress)}), 'eni-0b00000b 10.0.1.100',
	'and its Elastic IP went with it');
fake_control($fake, 'faults', '{"secondary_ip_delay_ms": null}');

($ok, $json, $err) = aws('ec2', 'unassign-private-ip-addresses', '--network-interface-id', 'eni-0b00000b',
	'--private-ip-addresses', '10.0.1.100');
ok($ok, 'unassign-private-ip-addresses succeeds') or diag($err);
is(private_ips('eni-0b00000b'), '10.0.1.11*', 'the address is gone');
ok(!exists address('eipalloc-0a000002')->{AssociationId}, 'and its Elastic IP is unassociated');
($ok, $json, $err) = aws('ec2', 'unassign-private-ip-addresses', '--network-interface-id', 'eni-0b00000b',
	'--private-ip-addresses', '10.0.1.11');
like($err, qr/InvalidParameterValue/, 'a primary address cannot be unassigned');

($ok, $json, $err) = aws('ec2', 'create-tags', '--resources', 'eni-0b00000b', '--tags', 'Key=pg_vip:10.0.1.100,Value=tl=4');
ok($ok, 'create-tags on an interface') or diag($err);
($ok, $json, $err) = aws('ec2', 'describe-network-interfaces', '--filters', 'Name=tag-key,Values=pg_vip:10.0.1.100');
is(join(',', map { "$_->{NetworkInterfaceId}:" . join('', map { "$_->{Key}=$_->{Value}" } @{ $_->{TagSet} }) }
		@{ $json->{NetworkInterfaces} // [] }), 'eni-0b00000b:pg_vip:10.0.1.100=tl=4',
	'describe-network-interfaces filters by it and shows the tag');

# ---- STS: AssumeRole into the other account ---------------------------------

my @assume = ('sts', 'assume-role', '--role-arn', $role_arn, '--role-session-name', 'pg-vip-test');
($ok, $json, $err) = aws(@assume, '--external-id', 'not-the-one');
like($err, qr/AccessDenied.*not authorized to perform: sts:AssumeRole on resource: \Q$role_arn\E/,
	'a wrong external id: AccessDenied');
($ok, $json, $err) = aws(@assume);
like($err, qr/AccessDenied/, 'no external id: AccessDenied');
{
	local $ENV{AWS_ACCESS_KEY_ID} = 'AKIDPGVIPKINDS02';
	local $ENV{AWS_SECRET_ACCESS_KEY} = 'kinds/secret/2';
	($ok, $json, $err) = aws(@assume, '--external-id', 'pg-vip-external-id');
	like($err, qr/AccessDenied/, 'a caller the role does not trust: AccessDenied');
}
($ok, $json, $err) = aws(@assume, '--external-id', 'pg-vip-external-id', '--duration-seconds', '7200');
like($err, qr/ValidationError.*MaxSessionDuration/, "a duration beyond the role's maximum: ValidationError");

($ok, $json, $err) = aws(@assume, '--external-id', 'pg-vip-external-id', '--duration-seconds', '900');
ok($ok, 'assume-role with the external id succeeds') or diag($err);
my $cred = $json->{Credentials} // {};
like($cred->{AccessKeyId} // '', qr/^ASIA[0-9A-Z]{16}$/, 'temporary credentials: an ASIA access key');
ok(length($cred->{SecretAccessKey} // '') >= 30 && length($cred->{SessionToken} // '') >= 60, 'a secret and a session token');
like($cred->{Expiration} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/, 'an ISO 8601 expiration');
is($json->{AssumedRoleUser}{Arn}, 'arn:aws:sts::210987654321:assumed-role/pg-vip-dns/pg-vip-test',
	'the assumed role user in the role\'s account');
like($json->{AssumedRoleUser}{AssumedRoleId} // '', qr/^AROA[0-9A-Z]+:pg-vip-test$/, 'and its id');

{
	local $ENV{AWS_ACCESS_KEY_ID} = $cred->{AccessKeyId};
	local $ENV{AWS_SECRET_ACCESS_KEY} = $cred->{SecretAccessKey};
	local $ENV{AWS_SESSION_TOKEN} = $cred->{SessionToken};
	($ok, $json, $err) = aws('ec2', 'describe-addresses');
	ok($ok, 'the temporary credentials are accepted') or diag($err);
	is(join(',', map { $_->{AllocationId} } @{ $json->{Addresses} // [] }), 'eipalloc-0c000001',
		"and see the role's account's addresses only");
	($ok, $json, $err) = aws('sts', 'get-caller-identity');
	is(join(' ', map { $_ // '-' } @$json{qw(Account Arn)}),
		'210987654321 arn:aws:sts::210987654321:assumed-role/pg-vip-dns/pg-vip-test',
		'get-caller-identity names the session in the role\'s account') or diag($err);
	($ok, $json, $err) = aws('route53', 'list-resource-record-sets', '--hosted-zone-id', 'Z0C00000000000000000C');
	ok($ok, "the role lists its account's hosted zone") or diag($err);
	($ok, $json, $err) = aws('route53', 'list-resource-record-sets', '--hosted-zone-id', 'Z0A00000000000000000A');
	like($err, qr/AccessDenied.*not authorized to access this resource/, "another account's zone: AccessDenied");
	{
		local $ENV{AWS_SECRET_ACCESS_KEY} = $cred->{SecretAccessKey} . 'x';
		($ok, $json, $err) = aws('route53', 'list-resource-record-sets', '--hosted-zone-id', 'Z0C00000000000000000C');
		like($err, qr/SignatureDoesNotMatch/, 'their signature is checked');
	}
	# Held to a policy: only the record db.example.org may change.
	fake_control($fake, 'policy', encode_json({ role => $role_arn, policy => { Version => '2012-10-17', Statement => [
		{ Effect => 'Allow', Action => 'route53:ChangeResourceRecordSets',
		  Resource => 'arn:aws:route53:::hostedzone/Z0C00000000000000000C',
		  Condition => { 'ForAllValues:StringEquals' => {
			  'route53:ChangeResourceRecordSetsNormalizedRecordNames' => ['db.example.org'] } } } ] } }));
	my $upsert = sub {
		my ($name) = @_;
		return encode_json({ Changes => [ { Action => 'UPSERT', ResourceRecordSet => { Name => $name, Type => 'A',
			TTL => 60, ResourceRecords => [ { Value => '198.51.100.20' } ] } } ] });
	};
	($ok, $json, $err) = aws('route53', 'change-resource-record-sets', '--hosted-zone-id', 'Z0C00000000000000000C',
		'--change-batch', $upsert->('DB.example.org.'));
	ok($ok, 'the policy allows the record it names') or diag($err);
	($ok, $json, $err) = aws('route53', 'change-resource-record-sets', '--hosted-zone-id', 'Z0C00000000000000000C',
		'--change-batch', $upsert->('other.example.org'));
	like($err, qr/AccessDenied.*route53:ChangeResourceRecordSets/, 'and refuses another one');
	fake_control($fake, 'policy', encode_json({ role => $role_arn, policy => undef }));
	fake_control($fake, 'expire_role_credentials', encode_json({ role => $role_arn }));
	($ok, $json, $err) = aws('ec2', 'describe-addresses');
	like($err, qr/ExpiredToken/, 'expired early (expire_role_credentials): ExpiredToken');
}
my ($role_call) = grep { ($_->{service} // '') eq 'route53' && ($_->{caller} // '') eq "role:$role_arn" } @{ fake_log($fake) };
ok($role_call, 'calls with the role\'s credentials are logged with the role as caller');
($ok, $json, $err) = aws('route53', 'list-resource-record-sets', '--hosted-zone-id', 'Z0C00000000000000000C');
like($err, qr/AccessDenied/, "this account's caller may not touch the other account's zone");

# ---- Route 53 ------------------------------------------------------------------

my $zone = 'Z0A00000000000000000A';
sub records {
	my ($ok, $json, $err) = aws('route53', 'list-resource-record-sets', '--hosted-zone-id', $zone);
	diag($err) unless $ok;
	return join(' ', map { "$_->{Name}/$_->{Type}/" . ($_->{TTL} // '') . '/' . join(',', map { $_->{Value} } @{ $_->{ResourceRecords} }) }
		  grep { $_->{Type} !~ /^(SOA|NS)$/ } @{ $json->{ResourceRecordSets} // [] });
}
sub dns_view {
	my ($out, $err);
	IPC::Run::run([ 'curl', '-s', '-f', "$fake->{ec2}/_fake/route53/zone/$zone" ], '>', \$out, '2>', \$err) or die $err;
	return join(' ', map { "$_->{name}/" . join(',', @{ $_->{values} }) } grep { $_->{type} eq 'A' } @{ decode_json($out)->{dns} });
}
is(records(), 'primary.db.example.internal./A/60/10.0.1.10', 'list-resource-record-sets: the world file\'s record');

fake_control($fake, 'faults', '{"route53_insync_after_ms": 15000}');
my $changed_at = time();
($ok, $json, $err) = aws('route53', 'change-resource-record-sets', '--hosted-zone-id', $zone, '--change-batch',
	encode_json({ Comment => 'pg_vip test', Changes => [ { Action => 'UPSERT', ResourceRecordSet => {
		Name => 'Primary.DB.example.internal', Type => 'A', TTL => 60, ResourceRecords => [ { Value => '10.0.1.11' } ] } } ] }));
ok($ok, 'change-resource-record-sets UPSERT succeeds') or diag($err);
my $changed_at_answered = time();
my $change = $json->{ChangeInfo} // {};
like($change->{Id} // '', qr{^/change/C[0-9A-Z]+$}, 'answering a change id');
is($change->{Status}, 'PENDING', 'PENDING');
like($change->{SubmittedAt} // '', qr/^\d{4}-\d\d-\d\dT/, 'with the time it was submitted');
is(records(), 'primary.db.example.internal./A/60/10.0.1.11', 'the API shows the record at once, its name as Route 53 writes it');
($ok, $json, $err) = aws('route53', 'get-change', '--id', $change->{Id} // '');
is($json->{ChangeInfo}{Status}, 'PENDING', 'get-change: PENDING before route53_insync_after_ms')
  or diag(sprintf('asked %.1f s after the change', time() - $changed_at));
is(dns_view(), 'primary.db.example.internal./10.0.1.10', 'while resolvers still answer the old value');
# The server stamped the change before the CLI returned: wait from then.
sleep(15.3 - (time() - $changed_at_answered)) if time() - $changed_at_answered < 15.3;
($ok, $json, $err) = aws('route53', 'get-change', '--id', $change->{Id} // '');
is($json->{ChangeInfo}{Status}, 'INSYNC', 'then INSYNC');
is(dns_view(), 'primary.db.example.internal./10.0.1.11', 'and resolvers answer the new value');
fake_control($fake, 'faults', '{"route53_insync_after_ms": null}');

# A batch is all or nothing: a CREATE that would succeed and a DELETE whose TTL does not match.
($ok, $json, $err) = aws('route53', 'change-resource-record-sets', '--hosted-zone-id', $zone, '--change-batch',
	encode_json({ Changes => [
		{ Action => 'CREATE', ResourceRecordSet => { Name => 'standby.db.example.internal', Type => 'A', TTL => 60,
			ResourceRecords => [ { Value => '10.0.1.10' } ] } },
		{ Action => 'DELETE', ResourceRecordSet => { Name => 'primary.db.example.internal', Type => 'A', TTL => 300,
			ResourceRecords => [ { Value => '10.0.1.11' } ] } } ] }));
ok(!$ok, 'a batch with a mismatched DELETE fails');
like($err, qr/\(InvalidChangeBatch\).*\[Tried to delete resource record set \[name='primary\.db\.example\.internal\.', type='A'\] but the values provided do not match the current values\]/,
	"with InvalidChangeBatch in Route 53's words");
is(records(), 'primary.db.example.internal./A/60/10.0.1.11', 'and nothing of it was applied');

($ok, $json, $err) = aws('route53', 'change-resource-record-sets', '--hosted-zone-id', $zone, '--change-batch',
	encode_json({ Changes => [ { Action => 'CREATE', ResourceRecordSet => { Name => 'primary.db.example.internal.',
		Type => 'A', TTL => 60, ResourceRecords => [ { Value => '10.0.1.12' } ] } } ] }));
like($err, qr/Tried to create resource record set \[name='primary\.db\.example\.internal\.', type='A'\] but it already exists/,
	'a CREATE of an existing record: it already exists');
# Changes apply in order: a DELETE of the current values then a CREATE is the compare-and-swap.
($ok, $json, $err) = aws('route53', 'change-resource-record-sets', '--hosted-zone-id', $zone, '--change-batch',
	encode_json({ Changes => [
		{ Action => 'DELETE', ResourceRecordSet => { Name => 'primary.db.example.internal.', Type => 'A', TTL => 60,
			ResourceRecords => [ { Value => '10.0.1.11' } ] } },
		{ Action => 'CREATE', ResourceRecordSet => { Name => 'primary.db.example.internal.', Type => 'A', TTL => 30,
			ResourceRecords => [ { Value => '10.0.1.10' } ] } },
		{ Action => 'CREATE', ResourceRecordSet => { Name => 'a.db.example.internal.', Type => 'TXT', TTL => 30,
			ResourceRecords => [ { Value => '"x"' } ] } } ] }));
ok($ok, 'DELETE with the exact values, then CREATE, in one batch') or diag($err);
is(records(), 'a.db.example.internal./TXT/30/"x" primary.db.example.internal./A/30/10.0.1.10',
	'applied, and listed in Route 53\'s order (labels reversed)');

($ok, $json, $err) = aws('route53', 'list-resource-record-sets', '--no-paginate',
	'--cli-input-json', encode_json({ HostedZoneId => $zone, MaxItems => '2' }));
is(join(' ', map { $_ // '-' } $json->{IsTruncated} ? 'true' : 'false', @$json{qw(NextRecordName NextRecordType MaxItems)},
		map { "$_->{Name}/$_->{Type}" } @{ $json->{ResourceRecordSets} // [] }),
	'true a.db.example.internal. TXT 2 db.example.internal./NS db.example.internal./SOA',
	'maxitems: a truncated page names the next record');
($ok, $json, $err) = aws('route53', 'list-resource-record-sets', '--hosted-zone-id', $zone,
	'--start-record-name', 'primary.db.example.internal', '--start-record-type', 'A');
is(join(' ', map { "$_->{Name}/$_->{Type}" } @{ $json->{ResourceRecordSets} // [] }), 'primary.db.example.internal./A',
	'a start name and type list from there');

for my $fault ([ 'Throttling', 'Rate exceeded' ],
	[ 'PriorRequestNotComplete', 'The request was rejected because Route 53 was still processing a prior request.' ])
{
	my ($code, $message) = @$fault;
	fake_control($fake, 'faults', encode_json({ fail_next => { count => 1, service => 'route53', status => 400,
		code => $code, message => $message, actions => ['ChangeResourceRecordSets'] } }));
	($ok, $json, $err) = aws('route53', 'change-resource-record-sets', '--hosted-zone-id', $zone, '--change-batch',
		encode_json({ Changes => [ { Action => 'UPSERT', ResourceRecordSet => { Name => 'primary.db.example.internal.',
			Type => 'A', TTL => 30, ResourceRecords => [ { Value => '10.0.1.99' } ] } } ] }));
	like($err, qr/\($code\)/, "an injected $code reaches the client as Route 53's error");
	like(records(), qr{primary\.db\.example\.internal\./A/30/10\.0\.1\.10}, 'and changes nothing');
}

($ok, $json, $err) = aws('route53', 'list-resource-record-sets', '--hosted-zone-id', 'Z0FFFFFFFFFFFFFFFFFFF');
like($err, qr/NoSuchHostedZone/, 'an unknown zone: NoSuchHostedZone');
($ok, $json, $err) = aws('route53', 'get-change', '--id', 'C0FFFFFFFFFFFFFFFFFFF');
like($err, qr/NoSuchChange/, 'an unknown change: NoSuchChange');
{
	local $ENV{AWS_SECRET_ACCESS_KEY} = 'kinds/secret/wrong';
	($ok, $json, $err) = aws('route53', 'list-resource-record-sets', '--hosted-zone-id', $zone);
	like($err, qr/SignatureDoesNotMatch/, 'a wrong secret is refused by Route 53 too');
}
($ok, $json, $err) = aws('--region', 'eu-west-1', 'route53', 'list-resource-record-sets', '--hosted-zone-id', $zone);
like($err, qr/SignatureDoesNotMatch/, 'Route 53 is signed for us-east-1 only');

# ---- The request log ---------------------------------------------------------

my @log = @{ fake_log($fake) };
my ($changed) = grep { ($_->{action} // '') eq 'ChangeResourceRecordSets' && ($_->{status} // '') eq '200'
	  && ($_->{params}{HostedZoneId} // '') eq $zone } @log;
is(join(' ', map { $_ // '-' } @{$changed}{qw(service changing caller)}, $changed->{params}{HostedZoneId}),
	"route53 1 i-0a000001 $zone", 'a Route 53 change is logged with its service, as changing, its caller and zone');
my ($assumed) = grep { ($_->{action} // '') eq 'AssumeRole' && ($_->{status} // '') eq '200' } @log;
is(join(' ', map { $_ // '-' } @{$assumed}{qw(service changing caller)}), 'sts 1 i-0a000001', 'AssumeRole likewise');
my ($dry) = grep { ($_->{action} // '') eq 'AssociateAddress' && $_->{dry_run} } @log;
ok($dry && !$dry->{changing}, 'a dry run is logged as one, not changing');
ok(!grep({ ($_->{params}{SecretAccessKey} // '') ne '' } @log), 'no secret in the log');

done_testing();
