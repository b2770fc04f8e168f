# Loaded any other way than shared_preload_libraries, every SQL function
# refuses with a clear error and a hint.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('plain');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_vip');
for my $call ('SELECT * FROM vip_status()', 'SELECT * FROM vip_routes()',
	"SELECT vip_check_setting('vip', '10.0.0.1/32')", 'SELECT vip_version()')
{
	my ($ret, $out, $err) = $node->psql('postgres', $call);
	isnt($ret, 0, "$call fails");
	like($err, qr/ERROR:  pg_vip is not loaded through shared_preload_libraries/, "$call: says why");
	like($err, qr/HINT:  Add pg_vip to shared_preload_libraries in postgresql.conf and restart the server\./,
		"$call: says what to do");
}
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_vip'"),
	'0', 'no worker without preloading');
$node->stop;
done_testing();
