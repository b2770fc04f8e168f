# Helpers shared by pg_vip's TAP tests: nodes with pg_vip preloaded, and
# bounded polling of vip_status().
package PgVipTest;

use strict;
use warnings;
use Exporter 'import';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);

our @EXPORT = qw(vip_conf status_of wait_for_status worker_pid);

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

1;
