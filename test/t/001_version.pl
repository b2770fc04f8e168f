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
$node->stop;
done_testing();
