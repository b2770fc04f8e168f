# The tutorial's setup with pg_vip instead of the hook: repmgr (Debian's
# postgresql-15-repmgr) with failover=automatic on two nodes, the VIP bound
# on both, a /32 route per route table, a client writing through the VIP.
# The primary dies twice: its PostgreSQL killed, then the new primary's link
# cut. Each time repmgrd promotes the standby, pg_vip moves the VIP, the
# client's writes resume through the VIP on the new primary, and every
# commit the client saw acknowledged by the final primary is there.
# Between the two, the tutorial's split brain: the killed primary restarted
# as a primary (repmgr shows it running as primary); pg_vip fences it and
# the client never reaches it; `repmgr node rejoin --force-rewind` makes it
# a standby, and pg_vip says so.
use strict;
use warnings;
use lib 'test/perl';
use PgVipLab;
use JSON::PP;
use Test::More;
use Time::HiRes qw(time sleep);

lab_or_skip();
lab_up('--manager', 'repmgr', '--tables', '3');

vip_at_start('node-a', 'node-b');

# Each node's least-privilege policy, from vip_iam_policy() on that node:
# narrow (no changing action on anything but the lab's three route tables,
# its Elastic IP's allocation, the node's own interface, which
# AssociateAddress names, and the lab's hosted zone, whose record it points,
# with Route 53's changes to wait for; tag keys this VIP's only), and from here on the endpoint holds the node to
# it, as IAM would: every failover below runs under it.
my %instance = ('node-a' => 'i-0a000001', 'node-b' => 'i-0b000001');
my %eni = ('node-a' => 'eni-0a00000a', 'node-b' => 'eni-0b00000b');
my $arn = 'arn:aws:ec2:us-east-1:123456789012';
my @tables = map { sprintf('rtb-0a%06d', $_) } 1 .. 3;
for my $node (qw(node-a node-b)) {
	my $text = lab_sql($node, 'SELECT vip_iam_policy()') // '';
	my $policy = eval { decode_json($text) };
	ok($policy, "$node: vip_iam_policy() is JSON") or diag($text);
	my (@wide, @keys);
	for my $st (@{ $policy->{Statement} // [] }) {
		my @actions = ref $st->{Action} ? @{ $st->{Action} } : ($st->{Action});
		my @resources = ref $st->{Resource} ? @{ $st->{Resource} } : ($st->{Resource});
		next unless grep { !/^ec2:Describe/ } @actions;
		for my $r (@resources) {
			push @wide, "$st->{Sid} on $r"
			  unless grep { $r eq $_ } (map({ "$arn:route-table/$_" } @tables), "$arn:elastic-ip/eipalloc-0a000001",
				"$arn:network-interface/$eni{$node}", 'arn:aws:route53:::hostedzone/Z0A00000000000000000A',
				'arn:aws:route53:::change/*');
		}
		push @keys, @{ $st->{Condition}{'ForAllValues:StringLike'}{'aws:TagKeys'} // [] } if grep { /Tags$/ } @actions;
	}
	is(join('; ', @wide), '', "$node: no changing action on anything but the lab's route tables, Elastic IP, own interface and hosted zone");
	is(join(' ', sort grep { !m{^pg_vip:10\.0\.99\.10/32(:tl\*)?$} } @keys), '', "$node: tag keys of this VIP only");
	lab_ok("$node held to its own policy", 'aws-control', 'policy',
		encode_json({ instance => $instance{$node}, policy => $policy }));
}

# Set up as a deployment should be, every node passes every preflight check
# (the VIP bound on it, outside the VPC's range, each permission proved under
# its own policy).
for my $node (qw(node-a node-b)) {
	is(lab_sql($node, q{SELECT coalesce(string_agg("check" || ': ' || detail, '; '), '') FROM vip_preflight(fresh => true) WHERE NOT ok}),
		'', "$node: vip_preflight() finds nothing wrong");
}

# 1. The primary's PostgreSQL killed (SIGKILL to the postmaster and its children).
my $t0 = time;
my $out = lab_ok('node-a killed: repmgrd promotes node-b, which takes the VIP', 'failover', '--how', 'kill');
note($out);
vip_moved('node-a', 'node-b', $t0, 3);

# The split brain: node-a restarted as it was, a primary on timeline 1.
my $restart = stale_primary_back('node-a', 'node-b', 'i-0a000001', sub {
	my (undef, $service) = lab('service-status', 'node-b');
	like($service, qr/node-a\s*\|\s*primary\s*\|\s*! running/,
		'repmgr service status shows node-a "! running" as primary, as the tutorial shows')
	  or diag($service);
});
like((lab('vip-host'))[1], qr/^node-b$/m, "the router still sends the VIP's packets to node-b");
is(client_report(since => $restart)->{by_node}{'node-a'} // 0, 0, 'the client never reached node-a through the VIP');

# The tutorial's way back: node-a stopped, rewound, started as a standby.
my ($rc, $rejoin) = lab('rejoin', 'node-a');
is($rc, 0, 'node-a rejoins as a standby (repmgr node rejoin --force-rewind)') or diag($rejoin);
ok(wait_until(sub { (lab_sql('node-a', 'SELECT state FROM vip_status()') // '') eq 'standby' }, 30),
	'pg_vip on node-a reports standby');
ok(wait_until(sub { (lab_sql('node-b', "SELECT state FROM pg_stat_replication WHERE application_name = 'node-a'") // '') eq 'streaming' }, 30),
	'node-a streams from node-b');
my $d = client_report(check => 'node-b');
is($d->{lost_by_node}{'node-b'} // 0, 0, 'no commit acknowledged by node-b is missing on node-b');
note("commits acknowledged by node-a and lost with it (asynchronous replication): " . ($d->{lost_by_node}{'node-a'} // 0));

# 2. The new primary's link cut: node-a (now a standby) is promoted.
$t0 = time;
$out = lab_ok("node-b's link cut: repmgrd promotes node-a, which takes the VIP", 'failover', '--how', 'cut');
note($out);
vip_moved('node-b', 'node-a', $t0, 3);
is(lab_sql('node-a', 'SELECT timeline FROM vip_status()'), '3', 'node-a holds the VIP on timeline 3');
lab('client', 'stop');
$d = client_report(check => 'node-a', since => $t0);
is($d->{lost_by_node}{'node-a'} // 0, 0, 'no commit acknowledged by node-a is missing on node-a');
note('commits acknowledged by node-b and lost with its link: ' . ($d->{lost_by_node}{'node-b'} // 0));

done_testing();
