# The version is written once (pg_vip.control); META.json, the installed
# script and the loaded library agree with it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use PgVipTest;

my $top = "$FindBin::RealBin/../..";
my ($control_version) = slurp_file("$top/pg_vip.control") =~ /^default_version\s*=\s*'([^']+)'/m;
ok(defined $control_version, 'pg_vip.control names a default_version');

my $meta = decode_json(slurp_file("$top/META.json"));
is($meta->{version}, $control_version, 'META.json version matches the control file');
is($meta->{provides}{pg_vip}{version}, $control_version, 'META.json provides the same version');

my $sharedir = `pg_config --sharedir`;
chomp $sharedir;
ok(-f "$sharedir/extension/pg_vip--$control_version.sql", 'the install script of that version is installed');

my $node = PostgreSQL::Test::Cluster->new('version');
$node->init;
$node->append_conf('postgresql.conf', vip_conf());
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_vip');
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_vip'"),
	$control_version, 'CREATE EXTENSION installs the control file version');
is($node->safe_psql('postgres', 'SELECT vip_version()'), $control_version,
	'the loaded library reports the same version');

# META.json claims this server's major version (x_postgresql_tested, made by
# scripts/dist_meta.pl from what the test command passed).
my $major = int($node->safe_psql('postgres', 'SHOW server_version_num') / 10000);
ok((grep { $_ eq $major } @{ $meta->{x_postgresql_tested} // [] }),
	"META.json's x_postgresql_tested names PostgreSQL $major, the version this runs on");

# From 18 the library's magic block names it and its version
# (PG_MODULE_MAGIC_EXT), as pg_get_loaded_modules() shows; before 18
# neither exists.
if ($major >= 18) {
	is($node->safe_psql('postgres',
			"SELECT module_name || ' ' || version FROM pg_get_loaded_modules() WHERE file_name = 'pg_vip.so'"),
		"pg_vip $control_version", 'pg_get_loaded_modules() names pg_vip and its version');
}
$node->stop;
done_testing();
