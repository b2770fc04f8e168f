# Two nodes race for one Route 53 record: the record is the only target,
# the old primary is gone and both standbys are promoted at once, and the
# endpoint holds both claims' batches until they cross. Each batch deletes
# the fence TXT as its node last read it (the old primary's): Route 53 applies
# one, and refuses the other whole (InvalidChangeBatch), so the record never
# holds two writers' fences. The refused node re-reads and decides again by
# the fence's rules: one node holds, the other is fenced, and the record and
# its fence name the holder. Then Route 53 answers PriorRequestNotComplete
# while the holder repairs the record (033 covers Throttling).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use JSON::PP qw(decode_json);
use PgVipTest;

my $zone = 'Z0A00000000000000000A';
my $name = 'primary.db.example.internal.';
my $fake = start_fake_aws(standard_world());
# The record alone: no route table, so that the compare-and-swap is all
# that stands between the two claims.
my $extra = "pg_vip.dns_records = '$zone:$name'\n"
  . "pg_vip.route53_endpoint = '$fake->{ec2}'\n"
  . "pg_vip.dns_ttl = 5\n"
  . "pg_vip.request_timeout = '5s'\n";
my ($a, $b) = start_pair($fake, extra => $extra, primary_extra => "pg_vip.route_tables = ''\n");
my $c = PostgreSQL::Test::Cluster->new('node_c');
$c->init_from_backup($a, 'base', has_streaming => 1);
$c->append_conf('postgresql.conf',
	"pg_vip.node_name = 'node-c'\npg_vip.imds_endpoint = '$fake->{imds}{'i-0c000001'}'\n");
$c->start;
# Each node's private address (node-c's interface is the world's eni-0c00000c).
my %address = (node_a => '10.0.1.10', node_b => '10.0.1.11', node_c => '10.1.1.10');
my %instance = (node_b => 'i-0b000001', node_c => 'i-0c000001');
my %node_of = reverse %instance;

sub zone {
	my ($out, $err);
	IPC::Run::run([ 'curl', '-s', '-f', "$fake->{ec2}/_fake/route53/zone/$zone" ], '>', \$out, '2>', \$err)
	  or die $err;
	my %z;
	push @{ $z{"$_->{name}/$_->{type}"} }, join(',', @{ $_->{values} }) for @{ decode_json($out)->{records} };
	return \%z;
}
sub address { return join(';', @{ zone()->{"$name/A"} // [] }) }
sub fence   { return join(';', @{ zone()->{"_pg_vip.$name/TXT"} // [] }) }
sub changes_since {
	my ($since) = @_;
	my $log = fake_log($fake);
	return [ grep { ($_->{service} // '') eq 'route53' && ($_->{action} // '') eq 'ChangeResourceRecordSets' }
		  @{$log}[ $since .. $#$log ] ];
}
# The TXT value a batch deletes ('' for none): the fence it compares with.
sub deleted_fence {
	my ($entry) = @_;
	my ($d) = grep { $_->{Action} eq 'DELETE' && $_->{Type} eq 'TXT' } @{ $entry->{params}{Changes} };
	return $d ? join(',', @{ $d->{Values} }) : '';
}
sub upserted_address {
	my ($entry) = @_;
	my ($u) = grep { $_->{Action} eq 'UPSERT' && $_->{Type} eq 'A' } @{ $entry->{params}{Changes} };
	return $u ? join(',', @{ $u->{Values} }) : '';
}
sub summary {
	my ($list) = @_;
	return [ map { { caller => $_->{caller}, code => $_->{code}, status => $_->{status}, t => $_->{t},
				deletes => deleted_fence($_), upserts => upserted_address($_) } } @$list ];
}
sub dns_row {
	my ($node) = @_;
	return $node->safe_psql('postgres',
		"SELECT state || '|' || coalesce(holder, '') || '|' || coalesce(holder_timeline::text, '') FROM vip_targets() WHERE kind = 'dns'");
}

ok(wait_for_status($a, 'state', 'held'), 'node-a holds the record, its only target')
  or diag(status_of($a, 'last_error'));
is(address(), $address{node_a}, "the record holds node-a's address");
my $node_a_fence = fence();
sub fence_before_race { return $node_a_fence }
like(fence(), qr/ 10\.0\.1\.10 tl=1;/, "and its fence is node-a's, timeline 1");
for my $n ($b, $c) {
	ok(wait_for_status($n, 'state', 'standby'), $n->name . ' is a standby');
	ok($n->poll_query_until('postgres', "SELECT state = 'other' AND holder = 'node-a' FROM vip_targets() WHERE kind = 'dns'"),
		$n->name . ' has read the record and its fence: node-a holds it') or diag(dns_row($n));
}

# Both claims' batches are held by the endpoint for two seconds, so that
# each is sent before the other is applied.
$a->stop('immediate');
fake_control($fake, 'faults', '{"stall_next": {"count": 2, "seconds": 2, "service": "route53", '
	  . '"actions": ["ChangeResourceRecordSets"]}}');
my $before = scalar @{ fake_log($fake) };
$b->safe_psql('postgres', 'SELECT pg_promote(wait => false)');
$c->safe_psql('postgres', 'SELECT pg_promote(wait => false)');
ok(wait_for_status($b, 'timeline', '2') && wait_for_status($c, 'timeline', '2'), 'both promoted to timeline 2');

my ($holder, $other);
my $deadline = time + 40;
while (time < $deadline) {
	my ($sb, $sc) = (status_of($b, 'state'), status_of($c, 'state'));
	($holder, $other) = ($b, $c) if $sb eq 'held' && $sc eq 'fenced';
	($holder, $other) = ($c, $b) if $sc eq 'held' && $sb eq 'fenced';
	last if $holder && address() eq $address{ $holder->name };
	$holder = undef;
	usleep(100_000);
}
ok($holder, 'one node holds the record and the other is fenced')
  or diag('node-b: ' . status_of($b, 'state') . ' ' . status_of($b, 'last_error') . "\nnode-c: "
	  . status_of($c, 'state') . ' ' . status_of($c, 'last_error') . "\n" . explain(changes_since($before)));

# The two crossing batches: each compared with node-a's fence; one applied.
my $changes = changes_since($before);
my $a_fence = fence_before_race();
my @crossing = grep { deleted_fence($_) eq $a_fence } @$changes;
is(join(',', sort map { $_->{caller} } @crossing), 'i-0b000001,i-0c000001',
	"both promoted nodes sent a batch deleting node-a's fence as they had read it")
  or diag(explain(summary($changes)));
my @won = grep { $_->{status} eq '200' } @crossing;
my @refused = grep { ($_->{code} // '') eq 'InvalidChangeBatch' } @crossing;
is(scalar(@won) . '/' . scalar(@refused), '1/1', 'Route 53 applied exactly one of them and refused the other whole')
  or diag(explain(summary($changes)));
SKIP: {
	skip 'no single holder, or no single winner of the race', 12 unless $holder && @won == 1 && @refused == 1;
	my ($winner, $loser) = map { $node_of{ $_->{caller} } } ($won[0], $refused[0]);
	my $w = $winner eq 'node_b' ? $b : $c;
	my $l = $winner eq 'node_b' ? $c : $b;
	is(upserted_address($won[0]), $address{$winner}, "the applied batch pointed the record at its node's address");
	like($refused[0]{params}{Changes}[1]{Values}[0] // '', qr/ \Q$address{$loser}\E tl=2;/,
		"the refused batch would have written its node's timeline 2 fence");
	# The refused node sent nothing more until it had read the record again:
	# no batch of it compares with node-a's fence a second time, and every
	# later batch (if the fence's rules let it take the record) compares with
	# the fence as the one before it left it.
	my @later = grep { $_->{t} > $refused[0]{t} && $_->{caller} eq $instance{$loser} } @$changes;
	my $loser_read = grep {
		($_->{service} // '') eq 'route53' && ($_->{action} // '') eq 'ListResourceRecordSets'
		  && ($_->{caller} // '') eq $instance{$loser} && $_->{t} > $refused[0]{t}
	} @{ fake_log($fake) };
	ok($loser_read, 'the refused node read the record again');
	is(scalar(grep { ($_->{code} // '') eq 'InvalidChangeBatch' } @$changes), 1,
		'no other batch was refused: none was sent on a stale read') or diag(explain(summary($changes)));
	my $hname = $holder->name =~ s/_/-/r;
	my $oname = $other->name =~ s/_/-/r;
	note("race won by $winner; by the fence's rules " . $holder->name . ' holds');
	# Exactly one holder, by the fence's rules: the race's winner keeps it,
	# or (terms begun in the same second) the interface id that sorts first.
	is(address(), $address{ $holder->name }, "the record holds the holder's address, and one");
	my @txt = @{ zone()->{"_pg_vip.$name/TXT"} // [] };
	is(scalar(@txt), 1, 'one fence TXT record');
	like($txt[0] // '', qr/ \Q$address{ $holder->name }\E tl=2;.*node=\Q$hname\E"$/, "naming the holder, timeline 2");
	is(dns_row($holder), "ours|$hname|2", "vip_targets() on the holder: the record is ours, under its fence");
	is(dns_row($other), "other|$hname|2", 'vip_targets() on the other: the holder has it');
	is(status_of($other, 'holder'), $hname, "vip_status() on the fenced node names the holder");
	like($other->safe_psql('postgres', "SELECT details FROM vip_events() WHERE event = 'vip_fenced' ORDER BY at DESC LIMIT 1"),
		qr/another node on the same timeline (holds the VIP|has been primary since)/, 'vip_events(): the fenced node says why');
	ok(event_count($holder, 'vip_held') >= 1, 'vip_events(): the holder holds');
	# Stable: three check intervals later nothing has moved.
	my $mark = scalar @{ fake_log($fake) };
	sleep 3;
	is(scalar(@{ changes_since($mark) }), 0, 'no batch since: neither node fights for the record')
	  or diag(explain(summary(changes_since($mark))));
	is(status_of($holder, 'state') . ',' . status_of($other, 'state'), 'held,fenced', 'the holder holds, the other is fenced');

	# PriorRequestNotComplete: someone points the record elsewhere, and
	# Route 53 answers the holder's repair twice with "the last change is
	# not in sync yet": the repair is retried and goes through.
	fake_control($fake, 'route53/record', qq({"zone": "$zone", "name": "$name", "type": "A", "ttl": 5, "values": ["10.0.1.99"]}));
	fake_control($fake, 'faults', '{"fail_next": {"count": 2, "status": 400, "code": "PriorRequestNotComplete", '
		  . '"message": "The request was rejected because Route 53 was still processing a prior request.", '
		  . '"service": "route53", "actions": ["ChangeResourceRecordSets"]}}');
	$mark = scalar @{ fake_log($fake) };
	my $back = 0;
	for (1 .. 300) {
		last if ($back = address() eq $address{ $holder->name });
		usleep(100_000);
	}
	ok($back, 'the holder put the record back') or diag(address());
	my $repair = changes_since($mark);
	is(join(',', map { $_->{code} // $_->{status} } @$repair), 'PriorRequestNotComplete,PriorRequestNotComplete,200',
		'through two PriorRequestNotComplete answers') or diag(explain(summary($repair)));
	ok(wait_for_status($holder, 'state', 'held'), 'and holds') or diag(status_of($holder, 'last_error'));
}

$_->stop for ($b, $c);
done_testing();
