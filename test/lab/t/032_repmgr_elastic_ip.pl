# The tutorial's external clients: a host outside the VPC (the lab's
# internet, 192.0.2.10) writes through the Elastic IP's public address
# (198.51.100.10), which the router maps 1:1 to the private address of the
# interface the endpoint has it associated with, as AWS's internet gateway
# does. repmgr fails over (the primary killed); pg_vip associates the
# Elastic IP with the new primary in the promotion's round trip; the client
# outside sees the failover as the one inside the VPC does, through the VIP,
# and its writes land on the new primary. The old primary, restarted as a
# primary, is fenced and never takes the address back. The internet reaches
# nothing but the public address. When the lab goes, its namespaces go, and
# with them every rule it made.
use strict;
use warnings;
use lib 'test/perl';
use PgVipLab;
use JSON::PP;
use Test::More;
use Time::HiRes qw(time sleep);

lab_or_skip();
lab_up('--manager', 'repmgr', '--tables', '1', '--eip-client');
my $env = lab_env();
my $id = $env->{LAB_ID};
my $internet = "pgvip-$id-internet";

vip_at_start('node-a', 'node-b');
is(lab_sql('node-a', q{SELECT state || ' ' || coalesce(holder, '-') FROM vip_targets() WHERE kind = 'elastic_ip' AND id = 'eipalloc-0a000001'}),
	'ours node-a', "node-a's pg_vip holds the Elastic IP");
like((lab('eip-host'))[1], qr/^node-a$/m, "the router NATs the Elastic IP's packets to node-a");
ok(wait_until(sub { (client_report(via => 'eip')->{by_node}{'node-a'} // 0) >= 50 }, 20),
	'the client outside the VPC commits on node-a through the public address');

# From the internet, a TCP connection can reach what (1 s to answer).
sub reaches {
	my ($addr, $port) = @_;
	my $code = "import socket; s = socket.create_connection(('$addr', $port), timeout=1)";
	return system("ip netns exec '$internet' /usr/bin/python3 -c \"$code\" 2>/dev/null") == 0;
}
ok(reaches('198.51.100.10', 5432), 'the internet reaches PostgreSQL by the public address');
ok(!reaches('10.0.1.10', 5432), "but not node-a's private address");
ok(!reaches('10.0.99.10', 5432), 'nor the VIP');
ok(!reaches('10.0.0.1', (split /:/, $env->{LAB_EC2})[-1]), "nor the lab's AWS endpoint on the router");

# Each node's policy from vip_iam_policy(), held to by the endpoint from here on:
# the failover below runs under it.
my %instance = ('node-a' => 'i-0a000001', 'node-b' => 'i-0b000001');
for my $node (qw(node-a node-b)) {
	my $policy = eval { decode_json(lab_sql($node, 'SELECT vip_iam_policy()') // '') };
	ok($policy, "$node: vip_iam_policy() is JSON");
	lab_ok("$node held to its own policy", 'aws-control', 'policy',
		encode_json({ instance => $instance{$node}, policy => $policy }));
}

# The primary's PostgreSQL killed.
my $t0 = time;
note(lab_ok('node-a killed: repmgrd promotes node-b, which takes the VIP and the Elastic IP', 'failover', '--how', 'kill'));
my $route = vip_moved('node-a', 'node-b', $t0, 1);
is(lab_sql('node-b', q{SELECT state || ' ' || coalesce(holder, '-') FROM vip_targets() WHERE kind = 'elastic_ip'}),
	'ours node-b', "node-b's pg_vip holds the Elastic IP");
my ($rc, $state) = lab('aws-control', 'state');
my $assoc = eval { decode_json($state)->{addresses}{'eipalloc-0a000001'}{association} } // {};
is($assoc->{eni} // '-', 'eni-0b00000b', "the endpoint associates the Elastic IP with node-b's interface");
like((lab('eip-host'))[1], qr/^node-b$/m, "the router now NATs the Elastic IP's packets to node-b");
ok(wait_until(sub { (client_report(via => 'eip', since => $t0)->{by_node}{'node-b'} // 0) >= 50 }, 30),
	"the client outside the VPC writes on node-b through the same public address");
my $eip = client_report(via => 'eip', since => $t0);
ok($eip->{outage} && $eip->{outage}{last_node} eq 'node-a' && $eip->{outage}{first_node} eq 'node-b',
	"its write gap runs from node-a to node-b");

# When each way moved: the AssociateAddress answered, then the router's NAT.
{
	open(my $fh, '<', "$env->{LAB_DIR}/aws-requests.jsonl") or die;
	my ($asked) = map { $_->{t} } grep { ($_->{action} // '') eq 'AssociateAddress' && $_->{t} >= $t0 && ($_->{status} // 0) == 200 }
	  map { decode_json($_) } grep { /AssociateAddress/ } <$fh>;
	open(my $rh, '<', "$env->{LAB_DIR}/eip-router.jsonl") or die;
	my ($nat) = grep { ($_->{node} // '') eq 'node-b' && $_->{t} >= $t0 } map { decode_json($_) } <$rh>;
	ok($asked && $nat && $nat->{t} >= $asked, 'the router followed the AssociateAddress the endpoint received');
	note(sprintf('write gap by route (the VIP): %.0f ms; by Elastic IP: %.0f ms (%d failed attempts); '
			. 'the router NATed to node-b %.1f ms after the endpoint received the AssociateAddress',
			$route->{outage}{seconds} * 1000, $eip->{outage}{seconds} * 1000, $eip->{outage}{failed_attempts},
			($nat->{t} - $asked) * 1000))
	  if $asked && $nat && $route->{outage} && $eip->{outage};
}

# The split brain: node-a restarted as it was, a primary on timeline 1.
my $restart = stale_primary_back('node-a', 'node-b', 'i-0a000001', sub {
	like(lab_sql('node-a', q{SELECT state || ' ' || coalesce(holder, '-') FROM vip_targets() WHERE kind = 'elastic_ip'}),
		qr/^other node-b/, 'node-a sees the Elastic IP held by node-b');
});
like((lab('eip-host'))[1], qr/^node-b$/m, "the router still NATs the Elastic IP's packets to node-b");
is(client_report(via => 'eip', since => $restart)->{by_node}{'node-a'} // 0, 0,
	'the client outside the VPC never reached node-a through the public address');
ok(wait_until(sub { (client_report(via => 'eip', since => $restart)->{by_node}{'node-b'} // 0) >= 50 }, 20),
	'and goes on writing on node-b');
lab('client', '--via', 'eip', 'stop');
my $d = client_report(via => 'eip', check => 'node-b');
is($d->{lost_by_node}{'node-b'} // 0, 0, 'no commit acknowledged by node-b through the Elastic IP is missing on node-b');
note('commits acknowledged by node-a and lost with it (asynchronous replication): ' . ($d->{lost_by_node}{'node-a'} // 0));

# The lab goes: its namespaces, and with them its links, routes and NAT rules.
lab_ok('the lab goes down', 'down');
is(`ip netns list | grep -c '^pgvip-$id-'` + 0, 0, "no namespace of the lab is left");
unlike(`nft list tables 2>&1`, qr/pgvip_eip/, "no NAT table of the lab is left outside it");
unlike(`ip -o link show 2>&1`, qr/\bv$id/, 'no link of the lab is left on the host');

done_testing();
