# The local AWS endpoint's request rate limits (POST /_fake/buckets), driven
# with Debian's AWS CLI (botocore, independent of pg_vip) and its retries
# off: off by default; a bucket per EC2 action, shared by every caller; an
# empty bucket answers EC2's 503 RequestLimitExceeded and applies nothing;
# DryRun takes a token too; Route 53's one bucket answers 400 Throttling;
# tokens come back with time; the counts, and their clear.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use Time::HiRes qw(usleep);
use PgVipTest;

plan skip_all => 'Debian awscli not installed' unless -x '/usr/bin/aws';

my %key = (
	a => { id => 'AKIDPGVIPBUCKETA01', secret => 'buckets/secret+a/1' },
	b => { id => 'AKIDPGVIPBUCKETB01', secret => 'buckets/secret+b/1' });
my $fake = start_fake_aws(
	credentials => [
		{ access_key => $key{a}{id}, secret => $key{a}{secret}, instance => 'i-0a000001' },
		{ access_key => $key{b}{id}, secret => $key{b}{secret}, instance => 'i-0b000001' } ]);

local $ENV{AWS_EC2_METADATA_DISABLED} = 'true';
local $ENV{AWS_CONFIG_FILE} = '/dev/null';
local $ENV{AWS_SHARED_CREDENTIALS_FILE} = '/dev/null';
# One attempt: what the endpoint answers, not what the CLI's retries made of it.
local $ENV{AWS_MAX_ATTEMPTS} = '1';
local $ENV{AWS_RETRY_MODE} = 'standard';
delete local $ENV{AWS_SESSION_TOKEN};
delete local $ENV{AWS_PROFILE};

sub aws_as {
	my ($who, @args) = @_;
	local $ENV{AWS_ACCESS_KEY_ID} = $key{$who}{id};
	local $ENV{AWS_SECRET_ACCESS_KEY} = $key{$who}{secret};
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run([ '/usr/bin/aws', '--endpoint-url', $fake->{ec2}, '--region', 'us-east-1', '--output', 'json',
			@args ], '>', \$out, '2>', \$err);
	return ($ok, $out, $err);
}

sub describe { return aws_as($_[0], 'ec2', 'describe-route-tables', '--route-table-ids', 'rtb-0a000001'); }

sub replace_route {
	my ($who, $eni) = @_;
	return aws_as($who, 'ec2', 'replace-route', '--route-table-id', 'rtb-0a000001',
		'--destination-cidr-block', '10.0.99.10/32', '--network-interface-id', $eni);
}

sub counts { return fake_buckets($fake)->{counts}; }
sub last_entry { my $log = fake_log($fake); return $log->[-1]; }

my ($ok, $out, $err);

# Off by default: nothing throttled, nothing counted.
($ok, $out, $err) = describe('a') for 1 .. 3;
ok($ok, 'without buckets every request is answered') or diag($err);
is_deeply(counts(), {}, 'and nothing is counted');
is_deeply(fake_buckets($fake)->{config}, {}, 'no limits at start');

# Bad settings are refused, and change nothing.
my ($cout, $cerr);
IPC::Run::run([ 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', '--data',
		'{"actions": {"ReplaceRoute": {"size": 0, "refill_per_s": 1}}}', "$fake->{ec2}/_fake/buckets" ],
	'>', \$cout, '2>', \$cerr);
is($cout, '400', 'a bucket of no token is refused');
is_deeply(fake_buckets($fake)->{config}, {}, 'and changes nothing');

# Two tokens, no refill: shared by both callers, the third request is refused.
fake_control($fake, 'buckets', encode_json({ actions => { DescribeRouteTables => { size => 2, refill_per_s => 0 },
			ReplaceRoute => { size => 1, refill_per_s => 0 } } }));
($ok) = describe('a');
ok($ok, 'first DescribeRouteTables (caller a) answered');
($ok) = describe('b');
ok($ok, 'second (caller b) answered');
($ok, $out, $err) = describe('a');
ok(!$ok, 'the third finds the account\'s bucket empty');
like($err, qr/RequestLimitExceeded/, 'RequestLimitExceeded, as EC2 says it');
my $entry = last_entry();
is($entry->{status}, 503, 'HTTP 503');
ok($entry->{throttled}, 'logged as throttled');
is_deeply(counts()->{DescribeRouteTables}, { accepted => 2, refused => 1, dry_run_accepted => 0, dry_run_refused => 0 },
	'counted: two accepted, one refused');

# A changing action: its own bucket; a refused one applies nothing; DryRun draws too.
($ok, $out, $err) = aws_as('a', 'ec2', 'replace-route', '--dry-run', '--route-table-id', 'rtb-0a000001',
	'--destination-cidr-block', '10.0.99.10/32', '--network-interface-id', 'eni-0b00000b');
like($err, qr/DryRunOperation/, 'a DryRun ReplaceRoute takes the one token and is answered DryRunOperation');
($ok, $out, $err) = replace_route('b', 'eni-0b00000b');
like($err, qr/RequestLimitExceeded/, 'the next ReplaceRoute is throttled: the DryRun took the token');
is(route_target($fake, 'rtb-0a000001'), 'eni-0a00000a', 'and the route did not move');
($ok, $out, $err) = aws_as('a', 'ec2', 'create-tags', '--resources', 'rtb-0a000002', '--tags', 'Key=k,Value=v');
ok($ok, 'an action without a bucket (and no default) is not limited') or diag($err);
is_deeply(counts()->{ReplaceRoute}, { accepted => 1, refused => 1, dry_run_accepted => 1, dry_run_refused => 0 },
	'ReplaceRoute counted apart, its DryRun among the accepted');
ok(!exists counts()->{CreateTags}, 'an action that met no bucket is not counted');

# The EC2 default gives every other action its own bucket; Route 53 shares one.
fake_control($fake, 'buckets', encode_json({ ec2_default => { size => 1, refill_per_s => 0 },
			route53 => { size => 1, refill_per_s => 0 } }));
($ok) = aws_as('a', 'ec2', 'create-tags', '--resources', 'rtb-0a000002', '--tags', 'Key=k,Value=v');
ok($ok, 'CreateTags: the default bucket, full');
($ok) = describe('a');
ok($ok, 'DescribeRouteTables: a bucket of its own, refilled by the new settings');
($ok, $out, $err) = aws_as('b', 'ec2', 'create-tags', '--resources', 'rtb-0a000002', '--tags', 'Key=k,Value=w');
like($err, qr/RequestLimitExceeded/, 'CreateTags again: its bucket is empty');
is(fake_state($fake)->{tables}{'rtb-0a000002'}{tags}{k}, 'v', 'and the refused tag was not written');
($ok, $out, $err) = aws_as('a', 'route53', 'list-resource-record-sets', '--hosted-zone-id', 'Z0A00000000000000000A');
ok($ok, 'Route 53: the first request answered') or diag($err);
($ok, $out, $err) = aws_as('a', 'route53', 'get-change', '--id', 'C0000000000000');
like($err, qr/Throttling/, 'another Route 53 action shares its bucket: Throttling');
like($err, qr/Rate exceeded/, "with Route 53's message");
$entry = last_entry();
is($entry->{status}, 400, 'HTTP 400, as Route 53 answers it');
is($entry->{code}, 'Throttling', 'logged with its code');

# Tokens come back with time: 10 a second, one token.
fake_control($fake, 'buckets/counts/clear', '{}');
is_deeply(counts(), {}, 'the counts cleared');
fake_control($fake, 'buckets', encode_json({ actions => { DescribeRouteTables => { size => 1, refill_per_s => 10 } } }));
($ok) = describe('a');
ok($ok, 'a full bucket of one answers');
usleep(300_000);
($ok, $out, $err) = describe('b');
ok($ok, 'the token came back in 300 ms at 10 a second (and the CLI\'s own start-up)') or diag($err);
# A quarter of a token a second: the next request, well within 4 s, finds
# none; the level between shows the refill is continuous, not by whole tokens.
fake_control($fake, 'buckets', encode_json({ actions => { DescribeRouteTables => { size => 1, refill_per_s => 0.25 } } }));
($ok) = describe('a');
ok($ok, 'a full bucket of one answers');
($ok, $out, $err) = describe('b');
like($err, qr/RequestLimitExceeded/, 'the next, a CLI start later, finds it empty at a quarter token a second');
my $level = fake_buckets($fake)->{tokens}{DescribeRouteTables};
ok($level > 0 && $level < 1, "the bucket refills continuously: $level of a token now");
is_deeply(counts()->{DescribeRouteTables}, { accepted => 3, refused => 1, dry_run_accepted => 0, dry_run_refused => 0 },
	'counted since the clear');

# Off again: nothing throttled, the counts kept.
fake_control($fake, 'buckets', '{}');
($ok) = describe('a') for 1 .. 2;
ok($ok, 'with the limits off, answered');
is(counts()->{DescribeRouteTables}{accepted}, 3, 'the counts stay as they were once the limits are off');

done_testing();
