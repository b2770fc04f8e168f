# The tutorial's clients that connect by name: the nodes' pg_vip points a
# Route 53 record (primary.db.example.internal., TTL 5 s) at the primary's
# private address, and a client in the VPC connects by that name, which
# libpq resolves at each connection with the system resolver, asking the
# lab's (which keeps each answer for its TTL, as a caching resolver does).
# repmgr fails over (the primary killed): pg_vip on node-b points the
# record and its fence TXT at node-b in the promotion's claim; the client
# by name, told node-a's address for what is left of the TTL, then
# node-b's, writes on node-b. The old primary, restarted as a primary, is
# fenced and changes no record; no commit acknowledged by node-b is lost.
# When the lab goes, its namespaces and the resolver's files go.
use strict;
use warnings;
use lib 'test/perl';
use PgVipLab;
use JSON::PP;
use Test::More;
use Time::HiRes qw(time sleep);

lab_or_skip();
lab_up('--manager', 'repmgr', '--tables', '1', '--dns-client');
my $env = lab_env();
my $id = $env->{LAB_ID};
my $zone = 'Z0A00000000000000000A';
my $name = 'primary.db.example.internal.';
my %addr = ('node-a' => '10.0.1.10', 'node-b' => '10.0.2.10');

# The zone as the endpoint holds it: "name/type" -> [ttl, values joined by ','].
sub zone {
	my ($rc, $out) = lab('aws-control', "route53/zone/$zone");
	die "the zone: $out\n" unless $rc == 0;
	my %z;
	$z{"$_->{name}/$_->{type}"} = [ $_->{ttl}, join(',', @{ $_->{values} }) ] for @{ decode_json($out)->{records} };
	return \%z;
}
sub address { return (zone()->{"$name/A"} // [ 0, '' ]) }
sub fence   { return (zone()->{"_pg_vip.$name/TXT"} // [ 0, '' ])->[1] }
sub dns_row {
	my ($node) = @_;
	return lab_sql($node, q{SELECT state || ' ' || coalesce(holder, '-') FROM vip_targets() WHERE kind = 'dns'}) // '-';
}
# Lines of a JSON-lines file of the lab's, decoded.
sub jsonl {
	my ($file) = @_;
	open(my $fh, '<', "$env->{LAB_DIR}/$file") or die "$file: $!";
	return map { decode_json($_) } grep { /^\{/ } <$fh>;
}

vip_at_start('node-a', 'node-b');
is_deeply(address(), [ 5, $addr{'node-a'} ], "node-a's pg_vip points the record at its private address, TTL 5 s");
like(fence(), qr/^"pg_vip:10\.0\.99\.10\/32:tl1 10\.0\.1\.10 tl=1;/, 'beside it, the fence TXT names timeline 1 and node-a');
is(dns_row('node-a'), 'ours node-a', "vip_targets() on node-a: the record is its own");
like((lab('dns-system'))[1], qr/^10\.0\.1\.10$/, "the client host's system resolver answers node-a's address");
ok(wait_until(sub { (client_report(via => 'dns')->{by_node}{'node-a'} // 0) >= 50 }, 20),
	'the client by name commits on node-a');

# The primary's PostgreSQL killed.
my $t0 = time;
note(lab_ok('node-a killed: repmgrd promotes node-b, which points the record at itself', 'failover', '--how', 'kill'));
my $route = vip_moved('node-a', 'node-b', $t0, 1);
is_deeply(address(), [ 5, $addr{'node-b'} ], "the record points at node-b's private address, TTL 5 s");
my $fence = fence();
like($fence, qr/^"pg_vip:10\.0\.99\.10\/32:tl2 10\.0\.2\.10 tl=2;/, 'its fence TXT names timeline 2 and node-b');
is(dns_row('node-b'), 'ours node-b', "vip_targets() on node-b: the record is its own");
ok(wait_until(sub { (client_report(via => 'dns', since => $t0)->{by_node}{'node-b'} // 0) >= 50 }, 30),
	'the client by name writes on node-b');
my $dns = client_report(via => 'dns', since => $t0);
ok($dns->{outage} && $dns->{outage}{last_node} eq 'node-a' && $dns->{outage}{first_node} eq 'node-b',
	'its write gap runs from node-a to node-b');

# What the client host was told, and when: the change that moved the record,
# then node-a's address still, from the cache, until the TTL ran out.
my ($change) = grep {
	($_->{action} // '') eq 'ChangeResourceRecordSets' && ($_->{caller} // '') eq 'i-0b000001' && $_->{t} >= $t0
	  && ($_->{status} // 0) == 200
} jsonl('aws-requests.jsonl');
ok($change, "node-b's ChangeResourceRecordSets was answered");
my @answers = grep { $_->{t} >= $t0 && $_->{type} eq 'A' && $_->{name} eq $name } jsonl('dns-queries.jsonl');
my ($first_new) = grep { "@{$_->{answers}}" eq $addr{'node-b'} } @answers;
my @stale = grep { $change && $_->{t} > $change->{t} && "@{$_->{answers}}" eq $addr{'node-a'} } @answers;
ok($first_new, "the resolver answered node-b's address");
ok($change && $first_new && $first_new->{t} >= $change->{t} && $first_new->{t} <= $change->{t} + 5 + 1,
	sprintf("no earlier than the change, and within the TTL after it (%.2f s)",
		$change && $first_new ? $first_new->{t} - $change->{t} : -1));
ok(@stale > 0 && !grep({ !$_->{cached} || $_->{ttl} > 5 } @stale),
	'after the change, the answers that still gave node-a came from the cache, within the TTL (' . scalar(@stale) . ')');
note(sprintf('write gap by route (the VIP): %.0f ms; by name (TTL 5 s): %.0f ms (%d failed attempts); '
		. "the resolver gave node-b's address %.2f s after node-b's change was answered",
		$route->{outage}{seconds} * 1000, $dns->{outage}{seconds} * 1000, $dns->{outage}{failed_attempts},
		$first_new->{t} - $change->{t}))
  if $route->{outage} && $dns->{outage} && $change && $first_new;

# The split brain: node-a restarted as it was, a primary on timeline 1.
# The fence without its lease's time (node-b renews it).
sub fence_holder { my $f = fence(); $f =~ s/;at=[^;"]*//; return $f }
my @zone_before = (address(), fence_holder());
my $restart = stale_primary_back('node-a', 'node-b', 'i-0a000001', sub {
	like(dns_row('node-a'), qr/^other node-b/, 'node-a sees the record held by node-b');
});
is_deeply([ address(), fence_holder() ], \@zone_before, 'the record and its fence are as node-b left them (its lease renewed)');
is(scalar(grep { ($_->{service} // '') eq 'route53' && ($_->{caller} // '') eq 'i-0a000001' && $_->{t} >= $restart
			&& ($_->{action} // '') eq 'ChangeResourceRecordSets' } jsonl('aws-requests.jsonl')),
	0, 'node-a sent Route 53 no change since it came back');
is(client_report(via => 'dns', since => $restart)->{by_node}{'node-a'} // 0, 0,
	'the client by name never reached node-a again');
ok(wait_until(sub { (client_report(via => 'dns', since => $restart)->{by_node}{'node-b'} // 0) >= 50 }, 20),
	'and goes on writing on node-b');
lab('client', '--via', 'dns', 'stop');
my $d = client_report(via => 'dns', check => 'node-b');
is($d->{lost_by_node}{'node-b'} // 0, 0, 'no commit acknowledged by node-b by name is missing on node-b');
note('commits acknowledged by node-a and lost with it (asynchronous replication): ' . ($d->{lost_by_node}{'node-a'} // 0));

# The lab goes: its namespaces, and the resolver's files for them.
ok(-f "/etc/netns/pgvip-$id-client/resolv.conf", "the client host's resolv.conf was in /etc/netns");
lab_ok('the lab goes down', 'down');
is(`ip netns list | grep -c '^pgvip-$id-'` + 0, 0, 'no namespace of the lab is left');
is(scalar(grep { m{/pgvip-$id-} } glob('/etc/netns/*')), 0, 'no resolver file of the lab is left in /etc/netns');
unlike(`ip -o link show 2>&1`, qr/\bv$id/, 'no link of the lab is left on the host');

done_testing();
