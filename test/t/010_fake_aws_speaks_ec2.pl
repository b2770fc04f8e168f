# The local AWS endpoint speaks EC2's dialect: Debian's AWS CLI (botocore,
# an implementation independent of pg_vip) works against it, and a wrong
# secret is refused as EC2 refuses it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use PgVipTest;

plan skip_all => 'Debian awscli not installed' unless -x '/usr/bin/aws';

my $fake = start_fake_aws(
	region => 'us-east-1',
	credentials => [ { access_key => 'AKIDPGVIPCLITEST1', secret => 'cli/secret+value/1' } ],
	instances => [ { id => 'i-0a000001', eni => 'eni-0a00000a' }, { id => 'i-0b000001', eni => 'eni-0b00000b' } ],
	route_tables => [
		{ id => 'rtb-0a000001', routes => [ { destination => '10.0.99.10/32', eni => 'eni-0a00000a' } ] },
		{ id => 'rtb-0a000002' } ]);

# Keep the CLI away from any real metadata service or credentials file.
local $ENV{AWS_EC2_METADATA_DISABLED} = 'true';
local $ENV{AWS_CONFIG_FILE} = '/dev/null';
local $ENV{AWS_SHARED_CREDENTIALS_FILE} = '/dev/null';
local $ENV{AWS_ACCESS_KEY_ID} = 'AKIDPGVIPCLITEST1';
local $ENV{AWS_SECRET_ACCESS_KEY} = 'cli/secret+value/1';
my @aws = ('/usr/bin/aws', 'ec2', '--endpoint-url', $fake->{ec2}, '--region', 'us-east-1', '--output', 'json');

my ($out, $err);
my $ok = IPC::Run::run([ @aws, 'replace-route', '--route-table-id', 'rtb-0a000001',
		'--destination-cidr-block', '10.0.99.10/32', '--network-interface-id', 'eni-0b00000b' ], '>', \$out, '2>', \$err);
ok($ok, 'aws ec2 replace-route succeeds') or diag($err);

$ok = IPC::Run::run([ @aws, 'describe-route-tables', '--route-table-ids', 'rtb-0a000001' ], '>', \$out, '2>', \$err);
ok($ok, 'aws ec2 describe-route-tables succeeds') or diag($err);
my $tables = eval { decode_json($out)->{RouteTables} } // [];
my ($vip) = grep { ($_->{DestinationCidrBlock} // '') eq '10.0.99.10/32' } @{ $tables->[0]{Routes} // [] };
is($vip->{NetworkInterfaceId}, 'eni-0b00000b', 'the CLI reads the replaced route back');
is($vip->{State}, 'active', 'and its state');

$ok = IPC::Run::run([ @aws, 'replace-route', '--route-table-id', 'rtb-0a000002',
		'--destination-cidr-block', '10.0.99.10/32', '--network-interface-id', 'eni-0b00000b' ], '>', \$out, '2>', \$err);
ok(!$ok, 'replace-route on a table without the route fails');
like($err, qr/InvalidParameterValue/, 'with EC2\'s InvalidParameterValue');

$ok = IPC::Run::run([ @aws, 'create-route', '--route-table-id', 'rtb-0a000002',
		'--destination-cidr-block', '10.0.99.10/32', '--network-interface-id', 'eni-0b00000b' ], '>', \$out, '2>', \$err);
ok($ok, 'create-route succeeds') or diag($err);
$ok = IPC::Run::run([ @aws, 'create-route', '--route-table-id', 'rtb-0a000002',
		'--destination-cidr-block', '10.0.99.10/32', '--network-interface-id', 'eni-0b00000b' ], '>', \$out, '2>', \$err);
like($err, qr/RouteAlreadyExists/, 'a second create-route: RouteAlreadyExists');

$ok = IPC::Run::run([ @aws, 'create-tags', '--resources', 'rtb-0a000002', '--tags', 'Key=pg_vip:10.0.99.10/32,Value=tl=2' ],
	'>', \$out, '2>', \$err);
ok($ok, 'create-tags succeeds') or diag($err);
$ok = IPC::Run::run([ @aws, 'create-tags', '--resources', 'rtb-0a000002', '--tags', 'Key=pg_vip:10.0.99.10/32:tl1,Value=tl=1',
		'Key=keep,Value=me' ], '>', \$out, '2>', \$err);
ok($ok, 'create-tags with two tags succeeds') or diag($err);
# DeleteTags as EC2 has it: a key alone deletes it whatever its value; a
# key with a value only when it matches; a key that is not there is no error.
$ok = IPC::Run::run([ @aws, 'delete-tags', '--resources', 'rtb-0a000002', '--tags', 'Key=pg_vip:10.0.99.10/32:tl1',
		'Key=keep,Value=other', 'Key=absent' ], '>', \$out, '2>', \$err);
ok($ok, 'delete-tags succeeds') or diag($err);
$ok = IPC::Run::run([ @aws, 'describe-route-tables', '--route-table-ids', 'rtb-0a000002' ], '>', \$out, '2>', \$err);
is(join(',', map { "$_->{Key}=$_->{Value}" } sort { $a->{Key} cmp $b->{Key} } @{ decode_json($out)->{RouteTables}[0]{Tags} }),
	'keep=me,pg_vip:10.0.99.10/32=tl=2', 'delete-tags deleted the key asked, not the one whose value did not match');

{
	local $ENV{AWS_SECRET_ACCESS_KEY} = 'cli/secret+value/2';
	$ok = IPC::Run::run([ @aws, 'describe-route-tables' ], '>', \$out, '2>', \$err);
	ok(!$ok, 'a wrong secret is refused');
	like($err, qr/SignatureDoesNotMatch/, 'with SignatureDoesNotMatch');
}

my @ec2 = grep { $_->{service} eq 'ec2' } @{ fake_log($fake) };
is(scalar(@ec2), 10, 'the endpoint logged every request');
is($ec2[0]{action}, 'ReplaceRoute', 'with its action');
is($ec2[0]{params}{RouteTableId}, 'rtb-0a000001', 'its parameters');
is($ec2[0]{access_key}, 'AKIDPGVIPCLITEST1', 'and the caller\'s access key');
ok($ec2[0]{t} > 0, 'and the time it was received');
done_testing();
