# Helpers shared by pg_vip's TAP tests: nodes with pg_vip preloaded, and
# bounded polling of vip_status().
package PgVipTest;

use strict;
use warnings;
use Exporter 'import';
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use FindBin;

our @EXPORT = qw(vip_conf status_of wait_for_status worker_pid start_fake_aws fake_control fake_log
  standard_world start_pair held_pair streaming_pair fake_state route_target changing_requests_since fake_deny);

# postgresql.conf lines for a node that preloads pg_vip. No AWS traffic
# leaves loopback: the endpoints point at what the test names, or at a
# closed loopback port.
sub vip_conf {
	my (%o) = @_;
	my $name = $o{node_name} // 'node';
	my $conf = "shared_preload_libraries = 'pg_vip'\n"
	  . "log_line_prefix = '%m [%p] '\n"
	  . "pg_vip.node_name = '$name'\n"
	  . "pg_vip.vip = '" . ($o{vip} // '10.99.0.10/32') . "'\n"
	  . "pg_vip.route_tables = '" . ($o{route_tables} // 'rtb-0123abcd') . "'\n"
	  . "pg_vip.network_interface = '" . ($o{eni} // 'eni-0a1b2c3d') . "'\n"
	  . "pg_vip.region = 'us-east-1'\n"
	  . "pg_vip.ec2_endpoint = '" . ($o{ec2_endpoint} // 'http://127.0.0.1:9') . "'\n"
	  . "pg_vip.imds_endpoint = '" . ($o{imds_endpoint} // 'http://127.0.0.1:9') . "'\n";
	$conf .= $o{extra} if $o{extra};
	return $conf;
}

# One column of vip_status() on $node.
sub status_of {
	my ($node, $column) = @_;
	return $node->safe_psql('postgres', "SELECT $column FROM vip_status()");
}

# Polls until vip_status().$column = $want, for at most $timeout seconds.
sub wait_for_status {
	my ($node, $column, $want, $timeout) = @_;
	$timeout //= 30;
	my $deadline = time + $timeout;
	my $got;
	while (time < $deadline) {
		$got = $node->safe_psql('postgres', "SELECT $column FROM vip_status()");
		return 1 if $got eq $want;
		usleep(20_000);
	}
	diag("vip_status().$column on " . $node->name . " is '$got', waited for '$want'");
	return 0;
}

# The pid of the pg_vip worker as pg_stat_activity shows it ('' if none).
sub worker_pid {
	my ($node) = @_;
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_vip'");
}

# Starts the project's local AWS endpoint (test/fake_aws/server.py) with the
# shared world, test/fake_aws/world.json, changed as the arguments say: each
# key a server.py --set PATH (a top-level key such as route_tables, or
# instances.<id>, or instances.<id>.<field>), each value what it becomes
# (undef removes it). Returns a hash with ec2 (URL), imds (instance id =>
# URL), dir, pid. Stopped when the test ends.
my @fake_pids;
sub start_fake_aws {
	my (%set) = @_;
	require JSON::PP;
	require POSIX;
	my $json = JSON::PP->new->canonical->allow_nonref;
	my $dir = PostgreSQL::Test::Utils::tempdir('fake_aws');
	# Sorted, so that a whole list is set before a change to one of its elements.
	my @cmd = ('/usr/bin/python3', "$FindBin::RealBin/../fake_aws/server.py", '--log', "$dir/requests.jsonl",
		map { ('--set', "$_=" . $json->encode($set{$_})) } sort keys %set);
	pipe(my $answer, my $w) or die "pipe: $!";
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0) {
		close $answer;
		open(STDOUT, '>&', $w) && open(STDERR, '>', "$dir/server.err") && exec(@cmd);
		POSIX::_exit(127);  # not exit: this copy of the test must not run its END blocks
	}
	close $w;
	push @fake_pids, $pid;
	# One JSON line once every port listens; end of file if it could not start.
	my $line = <$answer>;
	close $answer;
	die "fake AWS endpoint did not start: " . PostgreSQL::Test::Utils::slurp_file("$dir/server.err")
	  unless defined $line;
	my $started = JSON::PP::decode_json($line);
	return { ec2 => $started->{ec2}, imds => $started->{imds}, dir => $dir, pid => $pid };
}

# POST /_fake/<what> with a JSON body.
sub fake_control {
	my ($fake, $what, $json) = @_;
	my ($out, $err);
	IPC::Run::run([ 'curl', '-s', '-f', '-X', 'POST', '--data', $json, "$fake->{ec2}/_fake/$what" ],
		'>', \$out, '2>', \$err)
	  or die "fake control $what failed: $err";
	return $out;
}

# Replaces the endpoint's deny rules (POST /_fake/deny); no rules clears them.
# Each rule is a hash: actions (list; absent: any), instance (the caller;
# absent: any), code (UnauthorizedOperation), status (403), message.
#   fake_deny($fake, { actions => ['CreateTags'], instance => 'i-0b000001' });
sub fake_deny {
	my ($fake, @rules) = @_;
	require JSON::PP;
	return fake_control($fake, 'deny', JSON::PP->new->canonical->encode({ rules => \@rules }));
}

# The endpoint's request log: a list of hashes.
sub fake_log {
	my ($fake) = @_;
	require JSON::PP;
	my @entries;
	return [] unless -f "$fake->{dir}/requests.jsonl";
	open(my $fh, '<', "$fake->{dir}/requests.jsonl") or die;
	while (my $line = <$fh>) {
		push @entries, JSON::PP::decode_json($line) if $line =~ /\S/;
	}
	return \@entries;
}

# The changes to the shared world (start_fake_aws's arguments) that most
# tests run in: a third instance, for a second standby, and node-a's
# source/destination check left on. The shared world: the VIP routed at
# node-a's interface in two of three route tables, instances with their own
# IMDS and the role pg-vip-role.
sub standard_world {
	require JSON::PP;
	return (
		'instances.i-0a000001.source_dest_check' => JSON::PP::true(),
		'instances.i-0c000001' => { eni => 'eni-0c00000c', mac => '0e:00:00:00:00:0c', role => 'pg-vip-role' });
}

# A primary with pg_vip (its postgresql.conf lines: primary_conf; the
# extension created) and, unless no_standby, a streaming standby made from its
# base backup (extra lines: standby_conf), both started.
sub streaming_pair {
	my (%o) = @_;
	my $primary = PostgreSQL::Test::Cluster->new($o{primary_name} // 'primary');
	$primary->init(allows_streaming => 1);
	$primary->append_conf('postgresql.conf', $o{primary_conf});
	$primary->start;
	$primary->safe_psql('postgres', 'CREATE EXTENSION pg_vip');
	return ($primary) if $o{no_standby};
	$primary->backup('base');
	my $standby = PostgreSQL::Test::Cluster->new($o{standby_name} // 'standby');
	$standby->init_from_backup($primary, 'base', has_streaming => 1);
	$standby->append_conf('postgresql.conf', $o{standby_conf} // '');
	$standby->start;
	return ($primary, $standby);
}

# A primary (node-a on instance i-0a000001) and a streaming standby (node-b
# on i-0b000001), both with pg_vip pointed at the fake endpoint and each at
# its own instance metadata service. Options: extra (postgresql.conf lines
# for both), standby_extra, primary_extra, no_standby.
sub start_pair {
	my ($fake, %o) = @_;
	# The servers inherit this environment: no real credentials or metadata.
	delete $ENV{$_} for qw(AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_REGION
	  AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_ENDPOINT_URL_EC2 AWS_EC2_METADATA_DISABLED);
	$ENV{AWS_SHARED_CREDENTIALS_FILE} = '/dev/null';
	$ENV{AWS_CONFIG_FILE} = '/dev/null';
	# Standbys read as often as the primary, streaming or not (as before
	# pg_vip.standby_check_interval), and so does a holder with a streaming
	# standby (as before pg_vip.replicated_check_interval): the tests that
	# use this pair stage what a node has read. 050_standby_cadence and
	# 051_replicated_cadence test the settings themselves.
	my $common = "pg_vip.route_tables = 'rtb-0a000001, rtb-0a000002, rtb-0a000003'\n"
	  . "pg_vip.check_interval = '1s'\npg_vip.standby_check_interval = '1s'\n"
	  . "pg_vip.replicated_check_interval = '1s'\npg_vip.request_timeout = '1s'\n"
	  . ($o{extra} // '');
	return streaming_pair(
		primary_name => $o{primary_name} // 'node_a',
		standby_name => $o{standby_name} // 'node_b',
		no_standby => $o{no_standby},
		primary_conf =>
		  vip_conf(node_name => 'node-a', vip => '10.0.99.10/32', route_tables => 'rtb-0a000001', eni => 'auto',
			ec2_endpoint => $fake->{ec2}, imds_endpoint => $fake->{imds}{'i-0a000001'}, extra => $common)
		  . "pg_vip.region = ''\n" . ($o{primary_extra} // ''),
		standby_conf => "pg_vip.node_name = 'node-b'\npg_vip.imds_endpoint = '$fake->{imds}{'i-0b000001'}'\n"
		  . ($o{standby_extra} // ''));
}

# start_pair, then waits until node-a holds the VIP and node-b, a standby,
# has read every route table. Returns (node-a, node-b).
sub held_pair {
	my ($fake, %o) = @_;
	my ($a, $b) = start_pair($fake, %o);
	ok(wait_for_status($a, 'state', 'held'), 'node-a holds the VIP');
	ok(wait_for_status($b, 'state', 'standby'), 'node-b is a standby');
	$b->poll_query_until('postgres', 'SELECT bool_and(checked_at IS NOT NULL) FROM vip_routes()')
	  or diag('node-b did not read every route table');
	# Each worker runs its own preflight at a random moment within three
	# check intervals of its start: done before the test goes on, so that
	# its DryRun requests neither meet the test's scripted faults nor
	# appear among the requests the test counts.
	for my $node ($a, $b) {
		$node->poll_query_until('postgres',
			"SELECT count(*) = 1 FROM vip_metrics() WHERE metric = 'preflight_checks'")
		  or diag($node->name . ': its worker did not report a preflight');
	}
	return ($a, $b);
}

# The endpoint's view of the world (GET /_fake/state).
sub fake_state { return fake_get($_[0], 'state'); }

# GET /_fake/<what>, its JSON decoded.
sub fake_get {
	my ($fake, $what) = @_;
	require JSON::PP;
	my ($out, $err);
	IPC::Run::run([ 'curl', '-s', '-f', "$fake->{ec2}/_fake/$what" ], '>', \$out, '2>', \$err)
	  or die "fake $what: $err";
	return JSON::PP::decode_json($out);
}

# Where the VIP's route in a table points, as the endpoint holds it ('' if absent).
sub route_target {
	my ($fake, $table, $vip) = @_;
	$vip //= '10.0.99.10/32';
	for my $r (@{ fake_state($fake)->{tables}{$table}{routes} }) {
		return ($r->{state} eq 'blackhole' ? 'blackhole:' : '') . ($r->{eni} // '') if $r->{destination} eq $vip;
	}
	return '';
}

# The endpoint's request rate limits and what met them (GET /_fake/buckets):
# { config, tokens => { bucket => tokens }, counts => { action => { accepted,
# refused, dry_run_accepted, dry_run_refused } } }.
push @EXPORT, qw(fake_buckets);
sub fake_buckets { return fake_get($_[0], 'buckets'); }

# The changing requests (ReplaceRoute, CreateRoute, CreateTags) logged after
# the first $since entries.
sub changing_requests_since {
	my ($fake, $since) = @_;
	my $log = fake_log($fake);
	return [ grep { $_->{service} eq 'ec2' && $_->{changing} } @{$log}[ $since .. $#$log ] ];
}

# --- Helpers for the claim-logic tests (024-028) ----------------------------
push @EXPORT, qw(log_size ec2_requests_since route_changes_since initial_targets states_over
  event_count count_log_lines start_psql_bg wait_for_query);

# How many entries the endpoint's request log holds now (a mark for *_since).
sub log_size {
	my ($fake) = @_;
	return scalar @{ fake_log($fake) };
}

# The EC2 requests logged after the first $since entries; optional filters:
# action (a name or a list of names), caller (an instance id), status.
# DryRun requests (the preflight's: they change nothing) are left out unless
# dry_run => 1.
sub ec2_requests_since {
	my ($fake, $since, %f) = @_;
	my $log = fake_log($fake);
	my %actions = map { $_ => 1 } (ref $f{action} ? @{ $f{action} } : defined $f{action} ? ($f{action}) : ());
	return [
		grep {
			$_->{service} eq 'ec2'
			  && (!%actions || $actions{ $_->{action} })
			  && (!defined $f{caller} || ($_->{caller} // '') eq $f{caller})
			  && (!defined $f{status} || ($_->{status} // '') eq $f{status})
			  && ($f{dry_run} || !$_->{dry_run})
		} @{$log}[ $since .. $#$log ] ];
}

# Seconds from $since (a time) until the first EC2 request logged after mark
# $mark that matches %f (as ec2_requests_since), polled for up to 10 s;
# undef when none came.
# The EC2 requests matching %f (as ec2_requests_since) logged over the next
# $seconds.
push @EXPORT, qw(seconds_to_first_request ec2_requests_over);
sub ec2_requests_over {
	my ($fake, $seconds, %f) = @_;
	my $mark = log_size($fake);
	Time::HiRes::usleep($seconds * 1_000_000);
	return ec2_requests_since($fake, $mark, %f);
}

sub seconds_to_first_request {
	my ($fake, $mark, $since, %f) = @_;
	my $deadline = Time::HiRes::time() + 10;
	while (Time::HiRes::time() < $deadline) {
		return Time::HiRes::time() - $since if @{ ec2_requests_since($fake, $mark, %f) };
		Time::HiRes::usleep(50_000);
	}
	return undef;
}

# Where the VIP's route points in each table now: { table => eni or '' }.
sub initial_targets {
	my ($fake, @tables) = @_;
	return { map { $_ => route_target($fake, $_) } @tables };
}

# The requests logged after $since that really moved the VIP's route: each
# successful ReplaceRoute or CreateRoute whose interface differs from where
# the route pointed (starting from $targets, a hash table => eni, updated).
# Returns { table => [ { t, eni, caller }, ... ] }.
sub route_changes_since {
	my ($fake, $since, $targets, $vip) = @_;
	$vip //= '10.0.99.10/32';
	my %now = %$targets;
	my %changes = map { $_ => [] } keys %now;
	for my $r (@{ ec2_requests_since($fake, $since, action => [qw(ReplaceRoute CreateRoute)], status => 200) }) {
		next unless ($r->{params}{DestinationCidrBlock} // '') eq $vip;
		my ($table, $eni) = ($r->{params}{RouteTableId}, $r->{params}{NetworkInterfaceId} // '');
		next if ($now{$table} // '') eq $eni;
		$now{$table} = $eni;
		push @{ $changes{$table} }, { t => $r->{t}, eni => $eni, caller => $r->{caller} };
	}
	return \%changes;
}

# Samples vip_status().state on $node every 100 ms for $seconds; returns a
# hash state => number of samples.
sub states_over {
	my ($node, $seconds) = @_;
	my %seen;
	my $deadline = time + $seconds;
	while (time < $deadline) {
		$seen{ $node->safe_psql('postgres', 'SELECT state FROM vip_status()') }++;
		usleep(100_000);
	}
	return \%seen;
}

# How many vip_events() rows named $event (whose details match the SQL
# LIKE pattern $like, if given) $node holds.
sub event_count {
	my ($node, $event, $like) = @_;
	my $where = "event = '$event'" . (defined $like ? " AND details LIKE '$like'" : '');
	return $node->safe_psql('postgres', "SELECT count(*) FROM vip_events() WHERE $where");
}

# How many lines of $node's server log match $re.
sub count_log_lines {
	my ($node, $re) = @_;
	return scalar grep { /$re/ } split /\n/, PostgreSQL::Test::Utils::slurp_file($node->logfile);
}

# Starts psql -c $sql on $node in the background; returns a hash with the
# IPC::Run harness (h) and references to its stdout and stderr (out, err).
sub start_psql_bg {
	my ($node, $sql) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-c', $sql ],
		'<', \undef, '>', \$out, '2>', \$err);
	return { h => $h, out => \$out, err => \$err };
}

# Polls $sql on $node until it returns $want, for at most $timeout seconds.
sub wait_for_query {
	my ($node, $sql, $want, $timeout) = @_;
	$timeout //= 30;
	my $deadline = time + $timeout;
	my $got = '';
	while (time < $deadline) {
		$got = $node->safe_psql('postgres', $sql);
		return 1 if $got eq $want;
		usleep(50_000);
	}
	diag("on " . $node->name . ": '$sql' returned '$got', waited for '$want'");
	return 0;
}

END {
	local $?;
	kill 'TERM', @fake_pids if @fake_pids;
	waitpid($_, 0) for @fake_pids;
}

# Static keys in the environment the server inherits, and nothing else
# that could steer the credentials, the region or the endpoint: every check
# but the one under test stays green, whatever instance metadata does.
push @EXPORT, qw(use_static_keys);
sub use_static_keys {
	my ($key, $secret) = @_;
	delete $ENV{$_} for qw(AWS_SESSION_TOKEN AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL
	  AWS_ENDPOINT_URL_EC2 AWS_EC2_METADATA_DISABLED);
	$ENV{AWS_ACCESS_KEY_ID} = $key;
	$ENV{AWS_SECRET_ACCESS_KEY} = $secret;
	$ENV{AWS_SHARED_CREDENTIALS_FILE} = '/dev/null';
	$ENV{AWS_CONFIG_FILE} = '/dev/null';
}

# The AWS CLI as an operator runs it against the endpoint, with a static
# key the endpoint was started with (start_fake_aws(credentials => ...)),
# never the servers' environment or instance metadata. Returns (ok, the
# answer decoded, stderr).
push @EXPORT, qw(aws_as_operator);
sub aws_as_operator {
	my ($fake, $key, $secret, @args) = @_;
	require JSON::PP;
	local $ENV{AWS_EC2_METADATA_DISABLED} = 'true';
	local $ENV{AWS_CONFIG_FILE} = '/dev/null';
	local $ENV{AWS_SHARED_CREDENTIALS_FILE} = '/dev/null';
	local $ENV{AWS_ACCESS_KEY_ID} = $key;
	local $ENV{AWS_SECRET_ACCESS_KEY} = $secret;
	local $ENV{AWS_SESSION_TOKEN};
	delete $ENV{AWS_SESSION_TOKEN};
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run([ '/usr/bin/aws', '--endpoint-url', $fake->{ec2}, '--region', 'us-east-1', '--output', 'json',
			@args ], '>', \$out, '2>', \$err);
	return ($ok, (($ok && $out =~ /\S/) ? eval { JSON::PP::decode_json($out) } : undef), $err);
}

1;
