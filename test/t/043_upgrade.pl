# ALTER EXTENSION pg_vip UPDATE from the released 0.1.0 gives exactly what a
# fresh CREATE EXTENSION gives: the same functions (signature, result,
# volatility, strictness, ...), types, comments and privileges. vip_status()
# warns while the loaded library and the database's SQL objects differ in
# version, and stops once they agree.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgVipTest;

my $top = "$FindBin::RealBin/../..";
my ($version) = slurp_file("$top/pg_vip.control") =~ /^default_version\s*=\s*'([^']+)'/m;
my $released = '0.1.0';

# Everything pg_vip puts in a database, one line per fact, in a fixed order:
# the members of the extension, each function's whole definition with its
# privileges (aclexplode, so the order of grants does not matter), each
# type's columns, and every comment.
my $objects_sql = <<'SQL';
WITH member AS (
  SELECT d.classid, d.objid FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
   WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND e.extname = 'pg_vip')
SELECT line FROM (
  SELECT 'member ' || pg_describe_object(classid, objid, 0) AS line FROM member
  UNION ALL
  SELECT format('function %s returns %s; args (%s); language %s; volatility %s; strict %s; security definer %s; '
                'parallel %s; leakproof %s; cost %s; rows %s; symbol %s in %s; owner %s; acl %s',
                p.oid::regprocedure, pg_get_function_result(p.oid), pg_get_function_arguments(p.oid), l.lanname,
                p.provolatile, p.proisstrict, p.prosecdef, p.proparallel, p.proleakproof, p.procost, p.prorows,
                p.prosrc, p.probin, p.proowner::regrole,
                (SELECT string_agg(format('%s:%s:%s', CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END,
                                          a.privilege_type, a.is_grantable), ', ' ORDER BY 1)
                   FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a))
    FROM member m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
    JOIN pg_language l ON l.oid = p.prolang
  UNION ALL
  SELECT format('type %s (%s): %s', t.oid::regtype, t.typtype,
                (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                   FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped))
    FROM member m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
  UNION ALL
  SELECT format('comment on %s: %s', pg_describe_object(m.classid, m.objid, c.objsubid), c.description)
    FROM member m JOIN pg_description c ON c.classoid = m.classid AND c.objoid = m.objid
) facts ORDER BY line;
SQL

sub objects_of {
	my ($node, $db) = @_;
	return $node->safe_psql($db, $objects_sql);
}

# Runs $sql in $db; returns its exit code and stderr.
sub psql_err {
	my ($node, $db, $sql) = @_;
	my ($out, $err) = ('', '');
	my $rc = $node->psql($db, $sql, stdout => \$out, stderr => \$err);
	return ($rc, $err);
}

sub extversion {
	my ($node, $db) = @_;
	return $node->safe_psql($db, "SELECT extversion FROM pg_extension WHERE extname = 'pg_vip'");
}

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf('postgresql.conf', vip_conf(extra => "pg_vip.enabled = off\n"));
$node->start;
$node->safe_psql('postgres', "CREATE DATABASE $_") for qw(upgraded fresh scratch);

# The released version still installs, as it was.
$node->safe_psql('upgraded', "CREATE EXTENSION pg_vip VERSION '$released'");
is(extversion($node, 'upgraded'), $released, "CREATE EXTENSION pg_vip VERSION '$released' installs $released");
my $old = objects_of($node, 'upgraded');
like($old, qr/^function vip_status\(\)/m, "$released has vip_status()");
unlike($old, qr/vip_metrics|vip_preflight/, "$released has neither vip_metrics() nor vip_preflight()");

# The library is newer than the SQL: vip_status() says so, and how to fix it.
my ($rc, $err) = psql_err($node, 'upgraded', 'SELECT state FROM vip_status()');
is($rc, 0, "vip_status() still answers with the SQL at $released");
like($err, qr/WARNING:  pg_vip's loaded library and its SQL objects in this database differ in version/,
	'vip_status() warns that the library and the SQL differ');
like($err, qr/DETAIL:  The server has loaded the pg_vip library \Q$version\E; this database has pg_vip's SQL objects at \Q$released\E\./,
	'the warning names both versions');
like($err, qr/HINT:  Run ALTER EXTENSION pg_vip UPDATE in this database\./, 'the hint says ALTER EXTENSION pg_vip UPDATE');
($rc, $err) = psql_err($node, 'upgraded', 'SELECT state FROM vip_status(); SELECT state FROM vip_status()');
is(scalar(() = $err =~ /WARNING:  pg_vip's loaded library/g), 1,
	'once per session: a monitoring connection calling vip_status() on every scrape is warned once');

# Bad versions are refused by name, and nothing changes.
($rc, $err) = psql_err($node, 'upgraded', "ALTER EXTENSION pg_vip UPDATE TO '9.9'");
isnt($rc, 0, "ALTER EXTENSION pg_vip UPDATE TO '9.9' fails");
like($err, qr/extension "pg_vip" has no update path from version "\Q$released\E" to version "9\.9"/,
	'the error names the extension and both versions');
is(extversion($node, 'upgraded'), $released, 'after the failed update the SQL is still at ' . $released);
is(objects_of($node, 'upgraded'), $old, 'and its objects are untouched');
($rc, $err) = psql_err($node, 'scratch', "CREATE EXTENSION pg_vip VERSION '0.0.9'");
isnt($rc, 0, "CREATE EXTENSION pg_vip VERSION '0.0.9' fails");
like($err, qr/extension "pg_vip" has no installation script nor update path for version "0\.0\.9"/,
	'the error names the version that does not exist');

# The update, and a fresh install beside it.
$node->safe_psql('upgraded', 'ALTER EXTENSION pg_vip UPDATE');
is(extversion($node, 'upgraded'), $version, "ALTER EXTENSION pg_vip UPDATE brings it to $version");
$node->safe_psql('fresh', 'CREATE EXTENSION pg_vip');
is(extversion($node, 'fresh'), $version, "CREATE EXTENSION pg_vip installs $version");
my $fresh = objects_of($node, 'fresh');
like($fresh, qr/^function vip_metrics\(\) returns SETOF record/m, "$version has vip_metrics()");
like($fresh, qr/^function vip_preflight\(boolean\) returns SETOF record; args \(fresh boolean DEFAULT false, OUT "check" text, OUT ok boolean, OUT detail text, OUT hint text, OUT checked_at timestamp with time zone\)/m,
	"$version has vip_preflight(fresh) with checked_at");
like($fresh, qr/^function vip_iam_policy\(\) returns text; .*; acl [^,:]+:EXECUTE:f$/m,
	"$version has vip_iam_policy(), for its owner (a superuser) alone");
is(objects_of($node, 'upgraded'), $fresh, "updated from $released, the objects are those of a fresh $version");
isnt($old, $fresh, "the comparison tells $released from $version");

($rc, $err) = psql_err($node, 'upgraded', 'SELECT state FROM vip_status()');
is($rc, 0, 'vip_status() answers after the update');
unlike($err, qr/WARNING/, 'and warns no more');

# The comparison sees a privilege, a comment and a volatility that differ.
for my $change (
	['a grant to PUBLIC', 'GRANT EXECUTE ON FUNCTION vip_metrics() TO PUBLIC', 'REVOKE EXECUTE ON FUNCTION vip_metrics() FROM PUBLIC'],
	['another volatility', 'ALTER FUNCTION vip_metrics() STABLE', 'ALTER FUNCTION vip_metrics() VOLATILE'],
	['another comment', "COMMENT ON FUNCTION vip_preflight(boolean) IS 'x'", undef])
{
	my ($what, $do, $undo) = @$change;
	$node->safe_psql('upgraded', $do);
	isnt(objects_of($node, 'upgraded'), $fresh, "the comparison catches $what");
	next unless $undo;
	$node->safe_psql('upgraded', $undo);
	is(objects_of($node, 'upgraded'), $fresh, "and sees them equal again once undone");
}

# The SQL newer than the library (a new package installed and the database
# updated, the server not yet restarted): the hint says to restart.
$node->safe_psql('scratch', 'CREATE EXTENSION pg_vip');
$node->safe_psql('scratch', "UPDATE pg_extension SET extversion = '99.0.0' WHERE extname = 'pg_vip'");
($rc, $err) = psql_err($node, 'scratch', 'SELECT state FROM vip_status()');
like($err, qr/DETAIL:  The server has loaded the pg_vip library \Q$version\E; this database has pg_vip's SQL objects at 99\.0\.0\./,
	'an older library than the SQL is named too');
like($err, qr/HINT:  Install pg_vip 99\.0\.0 if it is not installed, then restart the server so that it loads that library\./,
	'and the hint says to restart the server');

$node->stop;
done_testing();
