# vip_preflight() cannot be turned into a flood of EC2 requests: one run at
# a time per server, at most one fresh run per pg_vip.preflight_min_interval,
# the last run's rows (with their time) for every call in between, a fresh
# run on demand for superusers only. And the least-privilege policy
# vip_iam_policy() writes, held by the endpoint as IAM would hold it, is
# wide enough for every check and narrow where pg_vip.preflight_probe_table
# proves it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgVipTest;

# Static keys of instance i-0a000001: the endpoint holds its callers to the
# policy set for that instance.
my $key = 'AKIDPGVIPBUDGET1';
my $fake = start_fake_aws(
	credentials => [ { access_key => $key, secret => 'budget/secret+1', instance => 'i-0a000001' } ]);
use_static_keys($key, 'budget/secret+1');

my $node = PostgreSQL::Test::Cluster->new('budget');
$node->init;
# enabled = off: the worker runs no checks, so every request is a call's.
$node->append_conf('postgresql.conf',
	vip_conf(node_name => 'node-a', vip => '127.0.0.1/32', route_tables => 'rtb-0a000001, rtb-0a000002', eni => 'auto',
		ec2_endpoint => $fake->{ec2}, imds_endpoint => $fake->{imds}{'i-0a000001'})
	  . "pg_vip.region = ''\npg_vip.enabled = off\npg_vip.request_timeout = '5s'\n"
	  . "pg_vip.preflight_min_interval = '1h'\nmax_connections = 130\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_vip');
$node->safe_psql('postgres', 'CREATE ROLE watcher LOGIN IN ROLE pg_monitor');

sub ec2_count { return scalar @{ ec2_requests_since($fake, 0, dry_run => 1) }; }

# One run's cost, as a superuser's fresh run.
my $before = ec2_count();
my $first = $node->safe_psql('postgres',
	q{SELECT count(*) || ' ' || bool_and(ok) || ' ' || count(DISTINCT checked_at) FROM vip_preflight(fresh => true)});
my $one_run = ec2_count() - $before;
like($first, qr/^\d+ true 1$/, 'a fresh run passes every check, its rows with one time');
cmp_ok($one_run, '>=', 10, "one run sends $one_run EC2 requests");

# 100 calls at once from a pg_monitor member, on a server with no run yet
# kept, while every EC2 answer takes 2 s: one run serves them all.
$node->restart;
fake_control($fake, 'faults', '{"delay_ms": 2000}');
$before = ec2_count();
my $script = $node->basedir . '/preflight.sql';
PostgreSQL::Test::Utils::append_to_file($script, "SELECT count(*) FROM vip_preflight();\n");
my ($out, $err) = ('', '');
IPC::Run::run([ 'pgbench', '-n', '-c', '100', '-j', '4', '-t', '1', '-f', $script, '-U', 'watcher',
		'-h', $node->host, '-p', $node->port, 'postgres' ], '>', \$out, '2>', \$err);
like($out, qr/number of transactions actually processed: 100\/100/, '100 concurrent calls all answered')
  or diag($err);
is(ec2_count() - $before, $one_run, "100 concurrent calls cost one run's $one_run requests");
fake_control($fake, 'faults', '{"clear": true}');

# Within the interval: the last run's rows and their time, no request.
my $kept = $node->safe_psql('postgres', 'SELECT DISTINCT checked_at FROM vip_preflight()');
$before = ec2_count();
for (1 .. 5) {
	is($node->safe_psql('postgres', 'SELECT DISTINCT checked_at FROM vip_preflight()', extra_params => [ '-U', 'watcher' ]),
		$kept, 'a call within pg_vip.preflight_min_interval gets the last run\'s rows, with their time') if $_ == 1;
	$node->safe_psql('postgres', 'SELECT count(*) FROM vip_preflight()', extra_params => [ '-U', 'watcher' ]);
}
is(ec2_count() - $before, 0, 'and sends nothing');

# A fresh run: superusers only.
my ($rc, $stdout, $stderr) =
  $node->psql('postgres', 'SELECT count(*) FROM vip_preflight(fresh => true)', extra_params => [ '-U', 'watcher' ]);
like($stderr, qr/ERROR:  permission denied to run vip_preflight\(\)'s checks now/, 'a pg_monitor member may not ask for a fresh run');
like($stderr, qr/HINT:  Call vip_preflight\(\) without fresh/, 'the hint says what it may do');
my $again = $node->safe_psql('postgres', 'SELECT DISTINCT checked_at FROM vip_preflight(fresh => true)');
cmp_ok($again, 'gt', $kept, 'a superuser\'s fresh run is run now');

# The policy vip_iam_policy() writes for this node.
($rc, $stdout, $stderr) = $node->psql('postgres', 'SELECT vip_iam_policy()', extra_params => [ '-U', 'watcher' ]);
like($stderr, qr/permission denied for function vip_iam_policy/, 'vip_iam_policy() is for superusers');
my $policy_text = $node->safe_psql('postgres', 'SELECT vip_iam_policy()');
my $policy = decode_json($policy_text);
my %changing = map { $_ => 1 } qw(ec2:ReplaceRoute ec2:CreateRoute ec2:CreateTags ec2:DeleteTags);
my (@wide, %tag_keys);
for my $st (@{ $policy->{Statement} }) {
	my @actions = ref $st->{Action} ? @{ $st->{Action} } : ($st->{Action});
	my @resources = ref $st->{Resource} ? @{ $st->{Resource} } : ($st->{Resource});
	for my $a (grep { $changing{$_} || /\*/ } @actions) {
		push @wide, "$st->{Sid}: $a on $_" for grep { $_ eq '*' || !m{:route-table/rtb-0a00000[12]$} } @resources;
		my $like = $a =~ /Tags$/ ? $st->{Condition}{'ForAllValues:StringLike'}{'aws:TagKeys'} : undef;
		$tag_keys{$a} = join(',', @$like) if $like;
	}
}
is(join('; ', @wide), '', 'no changing action on any resource but the two route tables (no "*", no wildcard action)');
is($tag_keys{'ec2:CreateTags'}, 'pg_vip:127.0.0.1/32:tl*', 'CreateTags only for this VIP\'s fence tag keys');
like($tag_keys{'ec2:DeleteTags'} // '', qr/^pg_vip:127\.0\.0\.1\/32(,pg_vip:127\.0\.0\.1\/32:tl\*)?$/,
	'DeleteTags only for this VIP\'s keys');
like($policy_text, qr/"arn:aws:ec2:us-east-1:123456789012:route-table\/rtb-0a000001"/,
	'the ARNs name the account and region instance metadata gave');

# Held to that policy, with a probe table: every check passes, and each
# changing action is refused where pg_vip has no business.
fake_control($fake, 'policy', encode_json({ instance => 'i-0a000001', policy => $policy }));
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_vip.preflight_probe_table = 'rtb-0f000009'");
$node->reload;
$node->poll_query_until('postgres', q{SELECT current_setting('pg_vip.preflight_probe_table') = 'rtb-0f000009'});
my %rows = map { my ($n, $ok, $d) = split /\x1f/; ($n => { ok => $ok eq 'true', detail => $d }) }
  split /\n/, $node->safe_psql('postgres', q{SELECT "check" || E'\x1f' || ok || E'\x1f' || detail FROM vip_preflight(fresh => true)});
my @narrow = sort grep { /^narrow:/ } keys %rows;
is(join(', ', @narrow),
	'narrow:CreateRoute rtb-0f000009, narrow:CreateTags rtb-0a000001 other_key, narrow:CreateTags rtb-0f000009, '
	  . 'narrow:DeleteTags rtb-0f000009, narrow:ReplaceRoute rtb-0f000009',
	'with a probe table, five narrow checks');
is(join(', ', sort grep { !$rows{$_}{ok} } keys %rows), '', 'under vip_iam_policy()\'s policy every check passes');
like($rows{'narrow:ReplaceRoute rtb-0f000009'}{detail}, qr/Refused, as a least-privilege policy should/,
	'ReplaceRoute is refused on a table pg_vip does not manage');

# The same calls with no policy (everything allowed): each narrow check fails and says why.
fake_control($fake, 'policy', encode_json({ instance => 'i-0a000001', policy => undef }));
%rows = map { my ($n, $ok, $d) = split /\x1f/; ($n => { ok => $ok eq 'true', detail => $d }) }
  split /\n/, $node->safe_psql('postgres', q{SELECT "check" || E'\x1f' || ok || E'\x1f' || detail FROM vip_preflight(fresh => true)});
is(join(', ', sort grep { !$rows{$_}{ok} } keys %rows), join(', ', @narrow), 'a wide policy fails exactly the narrow checks');
like($rows{'narrow:CreateTags rtb-0a000001 other_key'}{detail}, qr/could write or delete another cluster's fence/,
	'another VIP\'s tag allowed: it says what that risks');

$node->stop;
done_testing();
