# The files operators are given work against the code they describe:
#   1. Every query of monitoring/queries.yaml runs, as a member of pg_monitor
#      (what postgres_exporter connects as), on a primary holding the VIP and
#      on a standby, and returns exactly the columns the file declares, each
#      with a value its usage can carry (LABEL text, COUNTER and GAUGE
#      numbers, HISTOGRAM bounds and cumulative counts).
#      Every function a query calls names its schema, and the queries run
#      with an empty search_path: nothing in a schema the exporter's role
#      searches can stand in for vip_status() or vip_metrics().
#   1b. On a fenced node under fence_action = terminate and then reject, the
#      exporter's role, listed in pg_vip.fence_allow_roles, keeps its session
#      and logs in again: every query still runs and pg_vip_status says fenced.
#   2. Every metric, label and label value monitoring/alerts.yml uses is one
#      those queries yield (or the exporter's own pg_up): renaming a column
#      breaks this test, not the alerts. A rule fires for a target that
#      stopped answering (pg_up == 0) and one for pg_vip's metrics absent.
#   3. docs/iam-policy.json allows every EC2 action the code names and nothing
#      else, changing actions only on route tables, CreateTags and DeleteTags
#      only for one VIP's fence tag keys under the prefix the code writes.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgVipTest;

my $top = "$FindBin::RealBin/../..";

# A YAML file as Perl data, read by Debian's Python (python3-yaml, which
# patroni pulls in; else ruamel.yaml, which awscli does).
sub load_yaml {
	my ($path) = @_;
	my $py = <<'PY';
import json, sys
try:
    import yaml
    load = yaml.safe_load
except ImportError:
    from ruamel.yaml import YAML
    load = YAML(typ="safe").load
with open(sys.argv[1]) as f:
    print(json.dumps(load(f)))
PY
	my ($out, $err);
	IPC::Run::run([ '/usr/bin/python3', '-c', $py, $path ], '>', \$out, '2>', \$err)
	  or die "cannot read $path as YAML (python3-yaml or ruamel.yaml): $err";
	return decode_json($out);
}

sub is_number { return defined $_[0] && !ref $_[0] && $_[0] =~ /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/ }

# --- 1. The queries ---------------------------------------------------------
my $queries = load_yaml("$top/monitoring/queries.yaml");
ok(ref $queries eq 'HASH' && %$queries, 'monitoring/queries.yaml holds queries');

# What each query yields: namespace => { columns => [...], labels => [...],
# usage => { column => usage }, metrics => { name => 1 } }, as
# postgres_exporter names them (<namespace>_<column>).
my (%shape, %yielded);
for my $ns (sort keys %$queries) {
	my $q = $queries->{$ns};
	like($ns, qr/^pg_vip(_[a-z0-9]+)*$/, "$ns: named under pg_vip");
	ok(defined $q->{query} && $q->{query} =~ /\bvip_(status|metrics)\(\)/, "$ns: reads vip_status() or vip_metrics()");
	unlike($q->{query} // '', qr/vip_preflight/, "$ns: does not call vip_preflight() (AWS requests on every scrape)");
	ok($q->{master}, "$ns: master: true (run once, not in every database)");
	# A call is schema.function(...); coalesce and FILTER are syntax, not functions.
	my @unqualified = grep { !/^(coalesce|filter|nullif|greatest|least)$/i }
	  (($q->{query} // '') =~ /(?<![\w."])([a-z_][a-z0-9_]*)\s*\(/gi);
	is(join(', ', @unqualified), '', "$ns: every function call names its schema");
	my (%usage, @columns, @labels);
	for my $m (@{ $q->{metrics} // [] }) {
		my ($col) = keys %$m;
		my $u = $m->{$col}{usage} // '';
		ok($u =~ /^(LABEL|COUNTER|GAUGE|HISTOGRAM)$/, "$ns.$col: usage $u is one this file's checks know");
		ok(($m->{$col}{description} // '') ne '', "$ns.$col: has a description");
		$usage{$col} = $u;
		if ($u eq 'LABEL') {
			push @columns, $col;
			push @labels, $col;
		} elsif ($u eq 'HISTOGRAM') {
			push @columns, map { "$col$_" } ('', '_bucket', '_sum', '_count');
			$yielded{"${ns}_$col$_"} = $ns for qw(_bucket _sum _count);
		} else {
			push @columns, $col;
			$yielded{"${ns}_$col"} = $ns;
		}
	}
	$shape{$ns} = { columns => [ sort @columns ], labels => \@labels, usage => \%usage };
}

my $fake = start_fake_aws(standard_world());
my ($primary, $standby) = held_pair($fake);
# postgres_exporter's own role: no superuser, pg_monitor only; its
# search_path is empty, so that an unqualified function name finds nothing
# but pg_catalog's.
$primary->safe_psql('postgres', "CREATE ROLE exporter LOGIN IN ROLE pg_monitor; ALTER ROLE exporter SET search_path = ''");
$primary->wait_for_catchup($standby);

# One throttled read, so that the throttling alert's label value has a row
# to match (and a retry to count).
fake_control($fake, 'faults',
	'{"fail_next": {"count": 1, "status": 503, "code": "RequestLimitExceeded", "message": "Request limit exceeded.", "actions": ["DescribeRouteTables"]}}');
ok( eval {
		wait_for_query($primary,
			"SELECT count(*) > 0 FROM vip_metrics() WHERE metric = 'api_calls_total' AND outcome = 'throttled'",
			't', 20);
	},
	'the throttled read is counted in vip_metrics()') or diag($@);

# Every row a query returns, as hashes column => value, run as the exporter.
sub rows_of {
	my ($node, $sql) = @_;
	$sql =~ s/[\s;]+$//;
	my $json = $node->safe_psql('postgres', "SELECT coalesce(json_agg(row_to_json(q)), '[]') FROM ($sql) q",
		extra_params => [ '-U', 'exporter' ]);
	return decode_json($json);
}

my %seen_values;    # "namespace.label" => { value => 1 }
my %result;         # node (and what it is) => namespace => rows
sub check_queries {
	my ($node, $who) = @_;
	for my $ns (sort keys %shape) {
		my $rows = eval { rows_of($node, $queries->{$ns}{query}) };
		ok(defined $rows, "$ns runs on $who as a pg_monitor member") or do { diag($@); next };
		$result{$who}{$ns} = $rows;
		ok(@$rows > 0, "$ns returns rows on $who");
		my $s = $shape{$ns};
		for my $i (0 .. $#$rows) {
			my $r = $rows->[$i];
			is_deeply([ sort keys %$r ], $s->{columns}, "$ns row $i on $who: the columns the file declares");
			for my $col (sort keys %{ $s->{usage} }) {
				my $u = $s->{usage}{$col};
				my $v = $r->{$col};
				if ($u eq 'LABEL') {
					ok(defined $v && !ref $v && $v ne '', "$ns.$col on $who: a label value ('" . ($v // 'NULL') . "')");
					$seen_values{"$ns.$col"}{$v} = 1 if defined $v;
				} elsif ($u eq 'COUNTER') {
					ok(is_number($v) && $v >= 0, "$ns.$col on $who: a count (" . ($v // 'NULL') . ')');
				} elsif ($u eq 'GAUGE') {
					# NULL is allowed: the exporter reports NaN (nothing measured yet).
					ok(!defined $v || is_number($v), "$ns.$col on $who: a number or NULL (" . ($v // 'NULL') . ')');
				} else {
					my ($le, $counts, $sum, $count) = map { $r->{"$col$_"} } ('', '_bucket', '_sum', '_count');
					ok(ref $le eq 'ARRAY' && @$le && !grep({ !is_number($_) } @$le), "$ns.$col on $who: bucket bounds");
					ok(ref $counts eq 'ARRAY' && @$counts == @{ $le // [] } && !grep({ !/^\d+$/ } @$counts),
						"$ns.${col}_bucket on $who: one integer count per bound");
					my @c = ref $counts eq 'ARRAY' ? @$counts : ();
					ok(!grep({ $c[$_] < $c[ $_ - 1 ] } 1 .. $#c), "$ns.${col}_bucket on $who: cumulative");
					ok(is_number($sum) && $sum >= 0, "$ns.${col}_sum on $who: a number");
					ok(defined $count && $count =~ /^\d+$/ && (!@c || $count >= $c[-1]),
						"$ns.${col}_count on $who: at least the last bucket's count");
				}
			}
		}
	}
}
check_queries($_, $_->name) for ($primary, $standby);

# What the rows say matches the nodes: a held primary, a standby.
my $p = $result{ $primary->name }{pg_vip_status}[0] // {};
my $s = $result{ $standby->name }{pg_vip_status}[0] // {};
is(join(',', map { $p->{$_} // 'NULL' } qw(is_primary held fenced routes_held route_tables)), '1,1,0,3,3',
	'pg_vip_status on the held primary: primary, held, not fenced, 3 of 3 tables');
is(join(',', map { $s->{$_} // 'NULL' } qw(is_primary held fenced)), '0,0,0', 'pg_vip_status on the standby: none of them');

# --- 1b. A fenced node, seen by the exporter's role -------------------------
# The README's advice: the exporter's role in pg_vip.fence_allow_roles. app,
# an application's role, shows that the fence refuses everyone else.
$primary->safe_psql('postgres',
	"CREATE ROLE app LOGIN; ALTER SYSTEM SET pg_vip.fence_action = 'terminate'; "
	  . "ALTER SYSTEM SET pg_vip.fence_allow_roles = 'exporter'; SELECT pg_reload_conf()");
ok(wait_for_query($primary, 'SHOW pg_vip.fence_allow_roles', 'exporter'), 'fence_allow_roles = exporter, by a reload');
# postgres_exporter keeps its connection open between scrapes.
my ($kept_out, $kept_err) = ('', '');
my $kept = IPC::Run::start(
	[ 'psql', '-X', '-A', '-t', '-d', $primary->connstr('postgres') . ' user=exporter', '-c', 'SELECT pg_sleep(300)' ],
	'<', \undef, '>', \$kept_out, '2>', \$kept_err);
ok(wait_for_query($primary, "SELECT count(*) FROM pg_stat_activity WHERE usename = 'exporter' AND state = 'active'", '1'),
	"the exporter's session is connected");
my $kept_pid = $primary->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE usename = 'exporter'");
$standby->promote;    # the old primary is not stopped: a split brain
ok(wait_for_status($primary, 'state', 'fenced', 30), 'the old primary is fenced') or diag(status_of($primary, 'last_error'));
my ($ret, $out, $err) = $primary->psql('postgres', 'SELECT 1', connstr => $primary->connstr('postgres') . ' user=app');
like($err, qr/FATAL:  this node is fenced and refuses connections/, 'terminate: an application\'s login is refused');
ok($primary->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE state = 'active' AND usename = 'app'"),
	'(no application session is left)');
# A sweep runs on every turn of the worker's loop (check_interval 1 s).
sleep 3;
is($primary->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE pid = $kept_pid"), '1',
	"terminate: the exporter's session, open before the fence, was not ended");
check_queries($primary, 'the fenced node (terminate)');
my $f = $result{'the fenced node (terminate)'}{pg_vip_status}[0] // {};
is(join(',', map { $f->{$_} // 'NULL' } qw(is_primary held fenced)), '1,0,1', 'terminate: pg_vip_status says fenced');
$kept->kill_kill;
$kept->finish;
$primary->safe_psql('postgres', "ALTER SYSTEM SET pg_vip.fence_action = 'reject'; SELECT pg_reload_conf()");
ok(wait_for_query($primary, 'SHOW pg_vip.fence_action', 'reject'), 'fence_action = reject, by a reload');
($ret, $out, $err) = $primary->psql('postgres', 'SELECT 1', connstr => $primary->connstr('postgres') . ' user=app');
like($err, qr/FATAL:  this node is fenced and refuses connections/, 'reject: an application\'s login is refused');
check_queries($primary, 'the fenced node (reject)');
$f = $result{'the fenced node (reject)'}{pg_vip_status}[0] // {};
is(join(',', map { $f->{$_} // 'NULL' } qw(is_primary held fenced)), '1,0,1', 'reject: pg_vip_status says fenced');

# --- 2. The alert rules -----------------------------------------------------
my $alerts = load_yaml("$top/monitoring/alerts.yml");
my @rules = map { @{ $_->{rules} // [] } } @{ $alerts->{groups} // [] };
ok(@rules >= 5, scalar(@rules) . ' alert rules in monitoring/alerts.yml');
my %alert_names;
for my $rule (@rules) {
	my $name = $rule->{alert} // '(no name)';
	$alert_names{$name}++;
	my $expr = $rule->{expr} // '';
	ok(($rule->{labels}{severity} // '') =~ /^(critical|warning)$/, "$name: severity critical or warning");
	ok(($rule->{annotations}{summary} // '') ne '', "$name: has a summary");
	ok(!defined $rule->{for} || $rule->{for} =~ /^\d+[smh]$/, "$name: for is a duration");
	my @metrics = $expr =~ /\b(pg_vip_[a-z0-9_]+)/g;
	ok(@metrics || $expr =~ /\bpg_up\b/, "$name: uses pg_vip metrics (or postgres_exporter's pg_up)");
	my %labels_here = (instance => 1, job => 1);
	for my $m (@metrics) {
		ok(exists $yielded{$m}, "$name: $m is a metric monitoring/queries.yaml yields");
		$labels_here{$_} = 1 for @{ $shape{ $yielded{$m} // '' }{labels} // [] };
	}
	# absent() yields one series with none of its argument's labels.
	%labels_here = () if $expr =~ /^\s*absent\s*\(/;
	# Each matcher metric{label="value"}: the label is one of that metric's,
	# and an equality's value is one the queries returned above.
	while ($expr =~ /\b(pg_vip_[a-z0-9_]+)\s*\{([^}]*)\}/g) {
		my ($m, $matchers) = ($1, $2);
		my $ns = $yielded{$m} // '';
		while ($matchers =~ /(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g) {
			my ($label, $op, $value) = ($1, $2, $3);
			ok((grep { $_ eq $label } @{ $shape{$ns}{labels} // [] }), "$name: $m has the label $label");
			ok($seen_values{"$ns.$label"}{$value}, "$name: $label=\"$value\" is a value the query returned")
			  if $op eq '=';
		}
	}
	# An aggregation keeps only its by() labels.
	%labels_here = map { $_ => 1 } split /\s*,\s*/, $1 if $expr =~ /\bby\s*\(([^)]*)\)/;
	my $text = join(' ', values %{ $rule->{annotations} // {} });
	ok($labels_here{$_}, "$name: its annotations' \$labels.$_ is a label of its expression")
	  for $text =~ /\$labels\.(\w+)/g;
}
ok($alert_names{$_}, "alerts.yml has $_")
  for qw(PgVipNotHeldOnPrimary PgVipFenced PgVipPreflightFailing PgVipThrottled PgVipClaimFailures);
# A node whose exporter can no longer read it (a fence that refuses the
# exporter's role, a server down) must not look like a quiet one.
ok((grep { ($_->{expr} // '') =~ /\bpg_up\s*==\s*0\b/ } @rules), 'alerts.yml has a rule for a target that stopped answering (pg_up == 0)');
ok((grep { ($_->{expr} // '') =~ /\babsent\s*\(\s*pg_vip_/ } @rules), 'alerts.yml has a rule for pg_vip\'s metrics absent altogether');
ok((grep { ($_->{expr} // '') =~ /\bpg_up\s*==\s*1\s+unless\b.*\bpg_vip_/s } @rules),
	'alerts.yml has a rule for a target that answers without pg_vip\'s metrics');

# --- 3. The IAM policy ------------------------------------------------------
my $policy = eval { decode_json(slurp_file("$top/docs/iam-policy.json")) };
ok($policy, 'docs/iam-policy.json is JSON') or diag($@);
is($policy->{Version}, '2012-10-17', 'the policy language version');
my %allowed;    # ec2 action => [statements]
for my $st (@{ $policy->{Statement} // [] }) {
	is($st->{Effect}, 'Allow', ($st->{Sid} // '?') . ': an Allow statement');
	ok(!exists $st->{NotAction} && !exists $st->{NotResource}, ($st->{Sid} // '?') . ': no NotAction or NotResource');
	my @actions = ref $st->{Action} ? @{ $st->{Action} } : ($st->{Action} // ());
	for my $a (@actions) {
		unlike($a, qr/\*/, "$a: named exactly, no wildcard");
		push @{ $allowed{ $a =~ s/^ec2://r } }, $st if $a =~ /^ec2:/;
	}
}

# Every EC2 action the code names: a string literal of src/core that is the
# name of an EC2 operation in botocore's model of the API (Debian's awscli
# bundles it), so a new call needs no change here to be caught.
my ($ops_json, $ops_err);
IPC::Run::run(
	[
		'/usr/bin/python3', '-c',
		'import awscli, json; from botocore.loaders import Loader; '
		  . 'print(json.dumps(sorted(Loader().load_service_model("ec2", "service-2")["operations"])))'
	],
	'>', \$ops_json, '2>', \$ops_err) or die "cannot read botocore's EC2 model: $ops_err";
my %ec2_operation = map { $_ => 1 } @{ decode_json($ops_json) };
ok($ec2_operation{ReplaceRoute}, scalar(keys %ec2_operation) . ' EC2 operations in botocore\'s model');
my %in_code;
for my $file (glob("$top/src/core/*.cpp"), glob("$top/src/core/*.hpp")) {
	my $text = slurp_file($file);
	while ($text =~ /"([A-Z][A-Za-z0-9]+)"/g) {
		$in_code{$1}{ $file =~ s{.*/}{}r } = 1 if $ec2_operation{$1};
	}
}
ok($in_code{$_}, "the code names $_ (the scan finds actions)") for qw(ReplaceRoute CreateRoute CreateTags DescribeRouteTables);

# docs/iam.md's list of every action (test/unit/actions_test.cpp holds it
# equal to the action table, src/core/actions.cpp): kind and permission.
my %listed;    # ec2 action => {kind => 1}
for my $line (split /\n/, slurp_file("$top/docs/iam.md")) {
	$listed{$2}{$1} = 1 if $line =~ /^\| (\w+) \| `ec2:(\w+)` \|/;
}
ok($listed{ReplaceRoute}{route}, 'docs/iam.md lists the actions by kind');
# The README's example configures route tables only: its policy allows
# exactly the EC2 actions listed for route tables and the node itself.
my %route_kind = map { $_ => 1 } grep { $listed{$_}{route} || $listed{$_}{node} } keys %listed;
for my $action (sort keys %in_code) {
	ok($listed{$action}, "docs/iam.md lists ec2:$action (named in " . join(', ', sort keys %{ $in_code{$action} }) . ')');
}
for my $action (sort keys %route_kind) {
	ok($allowed{$action}, "docs/iam-policy.json allows ec2:$action (listed for route tables or the node)");
}
for my $action (sort keys %allowed) {
	ok($route_kind{$action}, "ec2:$action in the policy is listed for route tables or the node (least privilege)");
	ok($in_code{$action}, "ec2:$action in the policy is an action the code calls");
}
for my $action (sort keys %allowed) {
	for my $st (@{ $allowed{$action} }) {
		my @resources = ref $st->{Resource} ? @{ $st->{Resource} } : ($st->{Resource} // ());
		next if $action =~ /^Describe/;    # EC2's Describe* take no resource ARN
		ok(@resources && !grep({ !m{^arn:aws:ec2:[^:]+:[^:]+:route-table/} } @resources),
			"ec2:$action: only on route tables");
	}
}
my ($tag_prefix) = slurp_file("$top/src/core/fence.cpp") =~ /fence_tag_key\([^)]*\)\s*\{\s*return\s+"([^"]+)"/;
ok(defined $tag_prefix, "the fence tag's key prefix, from fence.cpp: " . ($tag_prefix // 'not found'));
# One VIP's keys (the policy is generated for the README's example; the
# unit test iam_policy_test.cpp holds the exact keys): the prefix, a VIP with
# its prefix length, then at most the per-timeline suffix's wildcard.
for my $action (qw(CreateTags DeleteTags)) {
	for my $st (@{ $allowed{$action} // [] }) {
		my $c = $st->{Condition} // {};
		my $keys = $c->{'ForAllValues:StringLike'}{'aws:TagKeys'};
		ok(ref $keys eq 'ARRAY' && @$keys, "ec2:$action: a condition on the tag keys");
		my $prefix = $tag_prefix // 'pg_vip:';
		like($_, qr{^\Q$prefix\E[0-9a-f.:]+/\d+(?::tl\*)?$}, "ec2:$action: only one VIP's fence tag keys: $_")
		  for @{ ref $keys eq 'ARRAY' ? $keys : [] };
		is($c->{Null}{'aws:TagKeys'}, 'false', "ec2:$action: and only with tag keys (ForAllValues on none is true)");
	}
}

done_testing();
