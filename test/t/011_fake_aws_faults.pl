# The local AWS endpoint's refusals and answer shapes, driven with Debian's
# AWS CLI (botocore, independent of pg_vip): deny rules by action and by
# calling instance, the <ErrorResponse> error form, DescribeRouteTables
# paging, DryRun, and the IMDS interface listing.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use PgVipTest;

plan skip_all => 'Debian awscli not installed' unless -x '/usr/bin/aws';

my %key = (
	a => { id => 'AKIDPGVIPFAULTSA01', secret => 'faults/secret+a/1' },
	b => { id => 'AKIDPGVIPFAULTSB01', secret => 'faults/secret+b/1' });
my $fake = start_fake_aws(
	region => 'us-east-1',
	describe_page_size => 2,
	credentials => [
		{ access_key => $key{a}{id}, secret => $key{a}{secret}, instance => 'i-0a000001' },
		{ access_key => $key{b}{id}, secret => $key{b}{secret}, instance => 'i-0b000001' } ],
	instances => [
		{ id => 'i-0a000001', eni => 'eni-0a00000a', mac => '0e:00:00:00:00:0a',
			extra_enis => [ { mac => '0e:00:00:00:01:0a', eni => 'eni-0a00001a' } ] },
		{ id => 'i-0b000001', eni => 'eni-0b00000b', mac => '0e:00:00:00:00:0b', role => 'pg-vip-role' } ],
	route_tables => [
		{ id => 'rtb-0a000001', routes => [ { destination => '10.0.99.10/32', eni => 'eni-0a00000a' } ] },
		map { { id => "rtb-0a00000$_" } } 2 .. 5 ]);

# Keep the CLI away from any real metadata service or credentials file.
local $ENV{AWS_EC2_METADATA_DISABLED} = 'true';
local $ENV{AWS_CONFIG_FILE} = '/dev/null';
local $ENV{AWS_SHARED_CREDENTIALS_FILE} = '/dev/null';
delete local $ENV{AWS_SESSION_TOKEN};
delete local $ENV{AWS_PROFILE};
my @aws = ('/usr/bin/aws', 'ec2', '--endpoint-url', $fake->{ec2}, '--region', 'us-east-1', '--output', 'json');

# Runs the CLI as caller a or b (or with explicit credentials); returns (ok, stdout, stderr).
sub aws_as {
	my ($who, @args) = @_;
	my $cred = ref $who ? $who : { id => $key{$who}{id}, secret => $key{$who}{secret} };
	local $ENV{AWS_ACCESS_KEY_ID} = $cred->{id};
	local $ENV{AWS_SECRET_ACCESS_KEY} = $cred->{secret};
	local $ENV{AWS_SESSION_TOKEN} = $cred->{token} if $cred->{token};
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run([ @aws, @args ], '>', \$out, '2>', \$err);
	return ($ok, $out, $err);
}

sub replace_route {
	my ($table, $eni, @more) = @_;
	return ('replace-route', '--route-table-id', $table, '--destination-cidr-block', '10.0.99.10/32',
		'--network-interface-id', $eni, @more);
}

sub tags_of {
	my ($table) = @_;
	return fake_state($fake)->{tables}{$table}{tags};
}

sub ec2_log_since {
	my ($since) = @_;
	my $log = fake_log($fake);
	return [ grep { $_->{service} eq 'ec2' } @{$log}[ $since .. $#$log ] ];
}


# The RouteTables of the CLI's JSON output.
sub tables_in {
	my ($json) = @_;
	my $doc = eval { decode_json($json) } // {};
	return $doc->{RouteTables} // [];
}

# Unsigned POST (no credentials): the raw error document.
sub raw_error_body {
	my ($out, $err);
	IPC::Run::run([ 'curl', '-s', '-X', 'POST', '--data', 'Action=DescribeRouteTables&Version=2016-11-15',
			"$fake->{ec2}/" ], '>', \$out, '2>', \$err);
	return $out // '';
}

my ($ok, $out, $err, $since, $log);

# --- Deny rules by action -------------------------------------------------
fake_deny($fake, { actions => ['CreateTags'] });
$since = log_size($fake);
($ok, $out, $err) = aws_as('a', 'create-tags', '--resources', 'rtb-0a000002', '--tags', 'Key=pg_vip:x,Value=tl=9');
ok(!$ok, 'a denied CreateTags fails');
like($err, qr/UnauthorizedOperation/, 'with UnauthorizedOperation');
like($err, qr/You are not authorized to perform this operation\. User: arn:aws:iam::\d+:user\/\S+ is not authorized to perform: ec2:CreateTags on resource: arn:aws:ec2:us-east-1:\d+:route-table\/rtb-0a000002/,
	'and a message naming the caller and the missing permission, as EC2 words it');
is_deeply(tags_of('rtb-0a000002'), {}, 'the denied CreateTags applied nothing');
$log = ec2_log_since($since);
is(scalar(@$log), 1, 'the denied request is logged once');
is($log->[0]{code}, 'UnauthorizedOperation', 'with its code');
is($log->[0]{status}, 403, 'and HTTP 403');
is($log->[0]{caller}, 'i-0a000001', 'a static key with an "instance" field calls as that instance');
($ok, $out, $err) = aws_as('b', 'create-tags', '--resources', 'rtb-0a000002', '--tags', 'Key=pg_vip:x,Value=tl=9');
like($err, qr/UnauthorizedOperation/, 'a rule without "instance" denies every caller');
($ok, $out, $err) = aws_as('a', 'describe-route-tables', '--route-table-ids', 'rtb-0a000001');
ok($ok, 'actions not named in the rule are allowed') or diag($err);

# --- Deny rules by instance -----------------------------------------------
fake_deny($fake, { actions => [ 'ReplaceRoute', 'CreateRoute' ], instance => 'i-0b000001' });
($ok, $out, $err) = aws_as('b', replace_route('rtb-0a000001', 'eni-0b00000b'));
ok(!$ok, 'ReplaceRoute denied to i-0b000001 fails for its key');
like($err, qr/UnauthorizedOperation/, 'with UnauthorizedOperation');
like($err, qr/ec2:ReplaceRoute/, 'naming ec2:ReplaceRoute');
is(route_target($fake, 'rtb-0a000001'), 'eni-0a00000a', 'the route did not move');
($ok, $out, $err) = aws_as('a', replace_route('rtb-0a000001', 'eni-0a00001a'));
ok($ok, 'another instance\'s key may still ReplaceRoute') or diag($err);
is(route_target($fake, 'rtb-0a000001'), 'eni-0a00001a', 'to an extra interface of its instance');
($ok, $out, $err) = aws_as('a', 'create-tags', '--resources', 'rtb-0a000002', '--tags', 'Key=pg_vip:x,Value=tl=9');
ok($ok, 'the rule list was replaced: CreateTags is allowed again') or diag($err);
is(tags_of('rtb-0a000002')->{'pg_vip:x'}, 'tl=9', 'and applied');

# Role credentials from an instance's IMDS call as that instance.
my $imds_b = $fake->{imds}{'i-0b000001'};
my ($token, $role, $creds_json);
IPC::Run::run([ 'curl', '-s', '-f', '-X', 'PUT', '-H', 'X-aws-ec2-metadata-token-ttl-seconds: 60',
		"$imds_b/latest/api/token" ], '>', \$token);
IPC::Run::run([ 'curl', '-s', '-f', '-H', "X-aws-ec2-metadata-token: $token",
		"$imds_b/latest/meta-data/iam/security-credentials/" ], '>', \$role);
IPC::Run::run([ 'curl', '-s', '-f', '-H', "X-aws-ec2-metadata-token: $token",
		"$imds_b/latest/meta-data/iam/security-credentials/$role" ], '>', \$creds_json);
my $rc = eval { decode_json($creds_json) } // {};
my $role_cred = { id => $rc->{AccessKeyId} // '', secret => $rc->{SecretAccessKey} // '', token => $rc->{Token} };
is(fake_state($fake)->{key_instances}{ $role_cred->{id} }, 'i-0b000001',
	'role credentials handed out by i-0b000001\'s IMDS are remembered as its');
($ok, $out, $err) = aws_as($role_cred, 'create-route', '--route-table-id', 'rtb-0a000003',
	'--destination-cidr-block', '10.0.99.10/32', '--network-interface-id', 'eni-0b00000b');
like($err, qr/UnauthorizedOperation/, 'so a rule for i-0b000001 denies them');
like($err, qr/assumed-role\/pg-vip-role\/i-0b000001 is not authorized to perform: ec2:CreateRoute/,
	'the message names the assumed role');
is(route_target($fake, 'rtb-0a000003'), '', 'and nothing was created');

# A rule's own code, status and message.
fake_deny($fake, { instance => 'i-0a000001', code => 'AuthFailure', status => 401, message => 'key revoked' });
$since = log_size($fake);
($ok, $out, $err) = aws_as('a', 'describe-route-tables', '--route-table-ids', 'rtb-0a000001');
like($err, qr/AuthFailure.*key revoked/, 'a rule answers with its own code and message');
is(ec2_log_since($since)->[0]{status}, 401, 'and status');
($ok, $out, $err) = aws_as('b', 'describe-route-tables', '--route-table-ids', 'rtb-0a000001');
ok($ok, 'other callers are not affected') or diag($err);
fake_deny($fake);
($ok, $out, $err) = aws_as('a', 'describe-route-tables', '--route-table-ids', 'rtb-0a000001');
ok($ok, 'no rules: allowed again') or diag($err);
is_deeply(fake_state($fake)->{deny}, [], 'and the state shows no rules');

# --- Error form -------------------------------------------------------------
like(raw_error_body(), qr{^<\?xml[^>]*>\s*<Response><Errors><Error><Code>AuthFailure</Code>},
	'errors are EC2\'s <Response><Errors> by default');
fake_control($fake, 'faults', '{"error_form": "ErrorResponse"}');
like(raw_error_body(),
	qr{<ErrorResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><Error><Type>Sender</Type><Code>AuthFailure</Code><Message>[^<]+</Message></Error><RequestId>[^<]+</RequestId></ErrorResponse>},
	'error_form ErrorResponse: <ErrorResponse><Error><Type>Sender</Type>...');
fake_deny($fake, { actions => ['ReplaceRoute'] });
($ok, $out, $err) = aws_as('a', replace_route('rtb-0a000001', 'eni-0a00000a'));
like($err, qr/\(UnauthorizedOperation\).*ec2:ReplaceRoute/, 'the CLI reads the code and message of that form');
($ok, $out, $err) = aws_as('a', 'describe-route-tables', '--route-table-ids', 'rtb-0fffffff');
like($err, qr/InvalidRouteTableID\.NotFound/, 'of every error');
fake_deny($fake);
fake_control($fake, 'faults', '{"error_form": "Response"}');
like(raw_error_body(), qr{<Response><Errors>}, 'and back to <Response>');

# --- DescribeRouteTables paging ---------------------------------------------
$since = log_size($fake);
($ok, $out, $err) = aws_as('a', 'describe-route-tables');
ok($ok, 'describe-route-tables with a page size of 2 (the world file\'s)') or diag($err);
my @ids = map { $_->{RouteTableId} } @{ tables_in($out) };
is_deeply(\@ids, [ map { "rtb-0a00000$_" } 1 .. 5 ], 'the CLI follows nextToken: all 5 tables come back');
$log = ec2_log_since($since);
is(scalar(@$log), 3, 'in 3 requests');
is_deeply([ map { defined $_->{params}{NextToken} ? 1 : 0 } @$log ], [ 0, 1, 1 ], 'the 2nd and 3rd with NextToken');
ok(!defined $log->[0]{params}{MaxResults}, 'the CLI sent no MaxResults');

($ok, $out, $err) = aws_as('a', 'describe-route-tables', '--no-paginate');
my $page = eval { decode_json($out) } // {};
is(scalar(@{ $page->{RouteTables} // [] }), 2, 'one page holds 2 tables');
ok(length($page->{NextToken} // ''), 'and a NextToken');

$since = log_size($fake);
($ok, $out, $err) = aws_as('a', 'describe-route-tables', '--route-table-ids', 'rtb-0a000005', 'rtb-0a000002',
	'rtb-0a000004');
@ids = map { $_->{RouteTableId} } @{ tables_in($out) };
is_deeply(\@ids, [qw(rtb-0a000005 rtb-0a000002 rtb-0a000004)], 'paging over the tables asked for');
is(scalar(@{ ec2_log_since($since) }), 2, 'in 2 requests');

($ok, $out, $err) = aws_as('a', 'describe-route-tables', '--starting-token', 'bm90LWEtdG9rZW4');
ok(!$ok, 'an unknown NextToken is refused');

fake_control($fake, 'faults', '{"describe_page_size": 0}');
$since = log_size($fake);
($ok, $out, $err) = aws_as('a', 'describe-route-tables');
is(scalar(@{ tables_in($out) }), 5, 'describe_page_size 0: all 5 tables');
is(scalar(@{ ec2_log_since($since) }), 1, 'in one request');
fake_control($fake, 'faults', '{"describe_page_size": 4}');
$since = log_size($fake);
($ok, $out, $err) = aws_as('a', 'describe-route-tables');
is(scalar(@{ ec2_log_since($since) }), 2, 'describe_page_size set through /_fake/faults: 4 + 1');
fake_control($fake, 'faults', '{"clear": true}');
is(fake_state($fake)->{describe_page_size}, 2, 'faults\' clear restores the world file\'s page size');

# --- DryRun -----------------------------------------------------------------
my %before = (route => route_target($fake, 'rtb-0a000001'), tags => tags_of('rtb-0a000001'));
$since = log_size($fake);
($ok, $out, $err) = aws_as('a', replace_route('rtb-0a000001', 'eni-0b00000b', '--dry-run'));
ok(!$ok, 'ReplaceRoute --dry-run "fails" as EC2 answers it');
like($err, qr/\(DryRunOperation\).*Request would have succeeded, but DryRun flag is set\./,
	'with DryRunOperation');
is(route_target($fake, 'rtb-0a000001'), $before{route}, 'and the route did not move');
$log = ec2_log_since($since);
is($log->[0]{status}, 412, 'HTTP 412');
ok($log->[0]{dry_run} && !$log->[0]{changing}, 'logged as a dry run that changes nothing');
($ok, $out, $err) = aws_as('a', 'create-route', '--route-table-id', 'rtb-0a000004', '--destination-cidr-block',
	'10.0.99.10/32', '--network-interface-id', 'eni-0a00000a', '--dry-run');
like($err, qr/DryRunOperation/, 'CreateRoute --dry-run: DryRunOperation');
is(route_target($fake, 'rtb-0a000004'), '', 'no route created');
($ok, $out, $err) = aws_as('a', 'create-tags', '--resources', 'rtb-0a000001', '--tags', 'Key=dry,Value=run',
	'--dry-run');
like($err, qr/DryRunOperation/, 'CreateTags --dry-run: DryRunOperation');
is_deeply(tags_of('rtb-0a000001'), $before{tags}, 'no tag written');
($ok, $out, $err) = aws_as('a', 'describe-route-tables', '--route-table-ids', 'rtb-0a000001', '--dry-run');
like($err, qr/DryRunOperation/, 'DescribeRouteTables --dry-run: DryRunOperation');

fake_deny($fake, { actions => ['ReplaceRoute'], instance => 'i-0b000001' });
($ok, $out, $err) = aws_as('b', replace_route('rtb-0a000001', 'eni-0b00000b', '--dry-run'));
like($err, qr/UnauthorizedOperation/, 'a denied caller\'s dry run gets the deny error');
unlike($err, qr/DryRunOperation/, 'not DryRunOperation');
($ok, $out, $err) = aws_as('a', replace_route('rtb-0a000001', 'eni-0b00000b', '--dry-run'));
like($err, qr/DryRunOperation/, 'an allowed caller\'s dry run still succeeds');
is(route_target($fake, 'rtb-0a000001'), $before{route}, 'and nothing moved');
fake_deny($fake);

# --- IMDS: the interfaces of an instance ------------------------------------
sub imds_get {
	my ($instance, $path, $with_token) = @_;
	my $url = $fake->{imds}{$instance};
	my ($tok, $body, $e) = ('', '', '');
	IPC::Run::run([ 'curl', '-s', '-f', '-X', 'PUT', '-H', 'X-aws-ec2-metadata-token-ttl-seconds: 60',
			"$url/latest/api/token" ], '>', \$tok);
	my @h = ($with_token // 1) ? ('-H', "X-aws-ec2-metadata-token: $tok") : ();
	IPC::Run::run([ 'curl', '-s', '-w', '\n%{http_code}', @h, "$url$path" ], '>', \$body, '2>', \$e);
	my ($text, $code) = $body =~ /\A(.*)\n(\d+)\z/s;
	return ($code // 0, $text // '');
}
my $macs = '/latest/meta-data/network/interfaces/macs/';
my ($code, $text) = imds_get('i-0a000001', $macs);
is($code, 200, 'macs/ is served');
is($text, "0e:00:00:00:00:0a/\n0e:00:00:00:01:0a/", 'one "<mac>/" line per interface, the extra ENI too');
is((imds_get('i-0a000001', "${macs}0e:00:00:00:00:0a/interface-id"))[1], 'eni-0a00000a', 'interface-id of the primary');
is((imds_get('i-0a000001', "${macs}0e:00:00:00:01:0a/interface-id"))[1], 'eni-0a00001a', 'and of the extra ENI');
is((imds_get('i-0a000001', "${macs}0e:00:00:00:01:0a/device-number"))[1], '1', 'device-number of the extra ENI');
is((imds_get('i-0a000001', "${macs}0e:00:00:00:00:0b/interface-id"))[0], 404, 'another instance\'s MAC: 404');
is((imds_get('i-0b000001', $macs))[1], "0e:00:00:00:00:0b/", 'an instance with one interface lists one');
is((imds_get('i-0a000001', $macs, 0))[0], 401, 'without an IMDSv2 token: 401');

done_testing();
