# Two standbys promoted at once reach the same timeline: never two holders.
# Whichever holds the fence tag keeps the VIP, the other ends fenced, and
# every route table points at the holder.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use PgVipTest;

my $fake = start_fake_aws(standard_world());
my ($a, $b) = start_pair($fake);
my $c = PostgreSQL::Test::Cluster->new('node_c');
$c->init_from_backup($a, 'base', has_streaming => 1);
$c->append_conf('postgresql.conf',
	"pg_vip.node_name = 'node-c'\npg_vip.imds_endpoint = '$fake->{imds}{'i-0c000001'}'\n");
$c->start;
ok(wait_for_status($a, 'state', 'held'), 'node-a holds');
ok(wait_for_status($_, 'state', 'standby'), $_->name . ' is a standby') for ($b, $c);
$_->poll_query_until('postgres', 'SELECT bool_and(checked_at IS NOT NULL) FROM vip_routes()') for ($b, $c);

$a->stop('immediate');
# Both at once: each reaches timeline 2.
$b->safe_psql('postgres', 'SELECT pg_promote(wait => false)');
$c->safe_psql('postgres', 'SELECT pg_promote(wait => false)');
ok(wait_for_status($b, 'timeline', '2') && wait_for_status($c, 'timeline', '2'), 'both promoted to timeline 2');

my %eni = (node_b => 'eni-0b00000b', node_c => 'eni-0c00000c');
my ($holder, $other);
my $deadline = time + 30;
while (time < $deadline) {
	my ($sb, $sc) = (status_of($b, 'state'), status_of($c, 'state'));
	($holder, $other) = ($b, $c) if $sb eq 'held' && $sc eq 'fenced';
	($holder, $other) = ($c, $b) if $sc eq 'held' && $sb eq 'fenced';
	last if $holder && !grep { route_target($fake, $_) ne $eni{ $holder->name } } qw(rtb-0a000001 rtb-0a000002 rtb-0a000003);
	$holder = undef;
	usleep(100_000);
}
ok($holder, 'one node holds the VIP and the other is fenced')
  or diag('node-b: ' . status_of($b, 'state') . ' ' . status_of($b, 'last_error') . "\nnode-c: "
	  . status_of($c, 'state') . ' ' . status_of($c, 'last_error'));
SKIP: {
	skip 'no single holder', 5 unless $holder;
	my $name = $holder->name =~ s/_/-/r;
	is(status_of($other, 'holder'), $name, 'the fenced node names the holder');
	# Promoted in the same second, the interface id decides; a second apart,
	# the node whose term began first (since=): either is said.
	like(status_of($other, 'last_error'),
		qr/another node on the same timeline (holds the VIP|has been primary since \d+)/, 'and says why');
	# Stable: three check intervals later nothing has moved.
	sleep 3;
	is(status_of($holder, 'state'), 'held', 'the holder still holds');
	is(status_of($other, 'state'), 'fenced', 'the other is still fenced');
	is(join(',', map { route_target($fake, $_) } qw(rtb-0a000001 rtb-0a000002 rtb-0a000003)),
		join(',', ($eni{ $holder->name }) x 3), 'every route table still points at the holder');
}
$_->stop for ($b, $c);
done_testing();
