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

our @EXPORT = qw(vip_conf status_of wait_for_status worker_pid start_fake_aws fake_control fake_log);

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
# world given (a hash, written as JSON); returns a hash with ec2 (URL), imds
# (instance id => URL), dir, pid. Stopped when the test ends.
my @fake_pids;
sub start_fake_aws {
	my (%world) = @_;
	require JSON::PP;
	my $dir = PostgreSQL::Test::Utils::tempdir('fake_aws');
	my $server = "$FindBin::RealBin/../fake_aws/server.py";
	open(my $fh, '>', "$dir/world.json") or die;
	print $fh JSON::PP->new->canonical->encode(\%world);
	close $fh;
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0) {
		open(STDERR, '>', "$dir/server.err");
		exec('/usr/bin/python3', $server, '--world', "$dir/world.json", '--ports-file', "$dir/ports.json",
			'--log', "$dir/requests.jsonl");
		exit 127;
	}
	push @fake_pids, $pid;
	my $deadline = time + 20;
	while (!-f "$dir/ports.json") {
		die "fake AWS endpoint did not start: " . PostgreSQL::Test::Utils::slurp_file("$dir/server.err")
		  if time > $deadline || waitpid($pid, 1) == $pid;
		usleep(20_000);
	}
	my $ports = JSON::PP::decode_json(PostgreSQL::Test::Utils::slurp_file("$dir/ports.json"));
	my %imds = map { $_ => "http://127.0.0.1:$ports->{imds}{$_}" } keys %{ $ports->{imds} };
	return { ec2 => "http://127.0.0.1:$ports->{ec2}", imds => \%imds, dir => $dir, pid => $pid };
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

END {
	local $?;
	kill 'TERM', @fake_pids if @fake_pids;
	waitpid($_, 0) for @fake_pids;
}

1;
