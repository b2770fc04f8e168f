# The lab's DNS (test/lab/resolver.py in the router, test/lab/dns.sh): what
# a client that connects by name would be told (the record pg_vip points
# at the primary; test/lab/t/036_repmgr_dns.pl fails it over). Records are set through the endpoint's Route 53 API with the AWS
# CLI, as a node's instance role. The resolver answers a name of the
# endpoint's zone with the records of its newest change in sync, with the
# record's TTL, and keeps the answer that long: a change is seen once it is
# in sync and the answer before it has expired, never earlier. Names the
# zone lacks are NXDOMAIN; names of no zone of the lab, REFUSED. The
# internet's host may ask it; it reaches nothing else of the router.
use strict;
use warnings;
use lib 'test/perl';
use PgVipLab;
use JSON::PP;
use Test::More;
use Time::HiRes qw(time sleep);

lab_or_skip();
lab_up('--manager', 'repmgr', '--tables', '1', '--no-client');
my $zone = 'Z0A00000000000000000A';
my $name = 'lab.db.example.internal';

# One query through the lab's resolver; its answer (rcode, answers, ttl).
sub ask {
	my ($n, @opts) = @_;
	my ($rc, $out) = lab('dns-ask', @opts, $n);
	my ($line) = grep { /^\{/ } split /\n/, $out;
	die "dns-ask $n: $out\n" unless $rc == 0 && $line;
	return decode_json($line);
}

# The record set to an address with a TTL, by the AWS CLI; the change's id.
sub upsert {
	my ($address, $ttl) = @_;
	my $batch = encode_json({ Changes => [ { Action => 'UPSERT', ResourceRecordSet =>
		{ Name => $name, Type => 'A', TTL => $ttl, ResourceRecords => [ { Value => $address } ] } } ] });
	my $out = lab_ok("UPSERT $name A $address (TTL $ttl) through the AWS CLI", 'aws', 'node-a', 'route53',
		'change-resource-record-sets', '--hosted-zone-id', $zone, '--change-batch', $batch);
	return eval { decode_json($out)->{ChangeInfo}{Id} } // '';
}

my $primary = ask('primary.db.example.internal');
ok($primary->{rcode} == 0 && "@{$primary->{answers}}" eq '10.0.1.10' && $primary->{ttl} >= 0 && $primary->{ttl} <= 5,
	"the record node-a's pg_vip points at it, with pg_vip.dns_ttl's TTL (5 s) counted down: "
	  . "@{$primary->{answers}}, TTL $primary->{ttl}");
is(ask('nothing.db.example.internal')->{rcode}, 3, 'a name the zone lacks: NXDOMAIN');
is(ask('db.example.org')->{rcode}, 5, 'a name of no zone of the lab: REFUSED (nothing leaves the lab)');
is_deeply(ask('primary.db.example.internal', '--type', 'AAAA')->{answers}, [], 'AAAA of an A-only name: no data');
is_deeply(ask('primary.db.example.internal', '--from', 'internet')->{answers}, ['10.0.1.10'],
	"the internet's host may ask it");

# A record in sync at once, TTL 2 s.
my $change = upsert('10.0.1.10', 2);
like($change, qr{^/change/}, 'Route 53 answers with a change id');
like((lab('aws', 'node-a', 'route53', 'get-change', '--id', $change))[1], qr/"Status": "INSYNC"/, 'the change is INSYNC');
my $first = ask($name);
is_deeply([ $first->{answers}, $first->{ttl} ], [ ['10.0.1.10'], 2 ], 'the resolver answers it with its TTL');

# Polls the resolver for $name until it answers $want; (when it first did,
# the TTLs of the other answers before it).
sub until_answers {
	my ($want, $seconds) = @_;
	my ($seen, @before);
	wait_until(sub {
		my $got = ask($name);
		if (($got->{answers}[0] // '') eq $want) { $seen = time; return 1 }
		push @before, $got->{ttl} // -1;
		return 0;
	}, $seconds);
	return ($seen, @before);
}

# A change PENDING for 5 s: seen once it is in sync (and the answer cached
# before it, TTL 2 s, has expired), not before.
lab_ok('changes are PENDING for 5 s', 'aws-control', 'faults', '{"route53_insync_after_ms": 5000}');
my $asked = time;
upsert('10.0.2.10', 8);
my ($seen, @old) = until_answers('10.0.2.10', 20);
ok($seen, 'the resolver answers the PENDING change once it is in sync');
ok(@old > 0 && $seen - $asked >= 5, sprintf('not before: the old value %d times, the new %.2f s after the UPSERT was sent',
		scalar @old, $seen - $asked));
lab_ok('faults cleared', 'aws-control', 'faults', '{"clear": true}');

# A change in sync at once: the answer before it is kept for its TTL (8 s).
my $changed = time;
upsert('10.0.1.10', 2);
my ($seen2, @cached) = until_answers('10.0.1.10', 20);
ok($seen2, 'the resolver answers the next change');
ok($seen2 - $seen >= 7 && @cached > 0 && !grep({ $_ < 0 || $_ > 8 } @cached),
	sprintf('once the 8 s of the answer before it are over (%.2f s after it was first given, %.2f s after the change; '
			. 'meanwhile %d answers, TTL %s)', $seen2 - $seen, $seen2 - $changed, scalar @cached, join(',', @cached)));

# The internet reaches the resolver, and nothing else of the router.
my $env = lab_env();
my $port = (split /:/, $env->{LAB_EC2})[-1];
ok(system("ip netns exec pgvip-$env->{LAB_ID}-internet /usr/bin/python3 -c "
		. "\"import socket; socket.create_connection(('10.0.0.1', $port), timeout=1)\" 2>/dev/null") != 0,
	"the internet's host does not reach the lab's AWS endpoint");

done_testing();
