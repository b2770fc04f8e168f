# No room for the promotion's fence tag: EC2 keeps 50 tags per resource,
# and one route table is full (node-a's tag of timeline 1 and 49 others).
# node-b is promoted while node-a still runs as a primary. Its one round
# trip moves every route, and its CreateTags (one request for every table)
# is refused whole: TagLimitExceeded. node-b deletes node-a's older tag,
# which it outranks, writes its own at once, and holds; node-a reads the
# newer timeline's tag, goes fenced and takes nothing back. The others'
# tags stay. Without the room made, node-a, whose own tag still read
# newest, took the routes back (adversary 6's G4).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgVipTest;

my @tables = qw(rtb-0a000001 rtb-0a000002 rtb-0a000003);
my $full = $tables[0];
my $fake = start_fake_aws(standard_world());
my ($a, $b) = held_pair($fake);

sub tags_of {
	my ($table) = @_;
	return fake_state($fake)->{tables}{$table}{tags};
}
my @a_keys = grep { /^pg_vip:/ } keys %{ tags_of($full) };
is(scalar(@a_keys), 1, "node-a's fence tag is on $full") or diag(explain(tags_of($full)));

# Other tools' tags fill the table to EC2's 50.
my $n = 0;
while (keys %{ tags_of($full) } < 50) {
	fake_control($fake, 'tag', sprintf('{"route_table_id": "%s", "key": "team:%02d", "value": "x"}', $full, $n++));
}
is(scalar(keys %{ tags_of($full) }), 50, "$full carries 50 tags");

my $before = log_size($fake);
$b->promote;    # node-a is NOT stopped
ok(wait_for_status($b, 'state', 'held', 30), 'node-b, promoted, holds the VIP')
  or diag(status_of($b, 'last_error'));
ok(wait_for_status($a, 'state', 'fenced', 30), 'node-a, still a primary, is fenced')
  or diag(status_of($a, 'last_error'));
my $log = fake_log($fake);
my @refused = grep { $_->{action} eq 'CreateTags' && ($_->{code} // '') eq 'TagLimitExceeded' }
  @$log[ $before .. $#$log ];
ok(@refused >= 1, "the promotion's CreateTags was refused: TagLimitExceeded");
my $tags = tags_of($full);
ok(exists $tags->{'pg_vip:10.0.99.10/32:tl2'}, "$full carries node-b's tag of timeline 2")
  or diag(explain($tags));
ok(!exists $tags->{ $a_keys[0] }, "node-a's older tag was deleted to make the room");
is(scalar(grep { /^team:/ } keys %$tags), $n, "the other tools' $n tags stay");
ok($b->log_contains(qr/no room for this node's fence tag on .*$full.*older timelines' tags deleted and the tag written/),
	"node-b's log says what it did");

# Several check intervals later every route still points at node-b, and
# node-a sent no change.
my $mid = log_size($fake);
sleep 4;
is(route_target($fake, $_), 'eni-0b00000b', "$_ points at node-b") for @tables;
$log = fake_log($fake);
is(scalar(grep { ($_->{caller} // '') eq 'i-0a000001' && $_->{changing} } @$log[ $mid .. $#$log ]),
	0, 'the fenced old primary sent no changing request');

$a->stop;
$b->stop;
done_testing();
