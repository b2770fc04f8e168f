# The local AWS endpoint's POST /_fake/route (a route changed behind
# pg_vip's back, as someone with the console would) takes only what EC2
# could hold: an existing route table, a destination that is a CIDR block
# (held as EC2 writes it) and not the VPC's local route, a known network
# interface unless the route is a blackhole or deleted. Anything else is
# answered 400 with what is wrong, and changes nothing: the lab's endpoint
# runs as root and mirrors every route into its router's kernel, where one
# bad entry would stop every later change.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use PgVipTest;

my $fake = start_fake_aws(
	instances => [ { id => 'i-0a000001', eni => 'eni-0a00000a' }, { id => 'i-0b000001', eni => 'eni-0b00000b' } ],
	route_tables => [
		{ id => 'rtb-0a000001', routes => [ { destination => '10.0.99.10/32', eni => 'eni-0a00000a' } ] },
		{ id => 'rtb-0a000002' } ]);

# POST /_fake/route: (HTTP status, body); status 000 when no answer came.
sub post_route {
	my ($body) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'curl', '-s', '-o', '-', '-w', '\n%{http_code}', '--max-time', '5', '-X', 'POST',
			'--data', $body, "$fake->{ec2}/_fake/route" ], '>', \$out, '2>', \$err);
	my ($text, $status) = $out =~ /^(.*)\n(\d{3})$/s ? ($1, $2) : ($out, '000');
	return ($status, $text);
}

sub routes_of {
	my ($table) = @_;
	return [ sort map { "$_->{destination} -> " . ($_->{eni} // '-') . " ($_->{state})" }
		  grep { $_->{origin} eq 'CreateRoute' } @{ fake_state($fake)->{tables}{$table}{routes} } ];
}

my $before = routes_of('rtb-0a000001');
my ($local) = map { $_->{destination} } grep { $_->{origin} eq 'CreateRouteTable' }
  @{ fake_state($fake)->{tables}{'rtb-0a000001'}{routes} };
for my $case (
	[ '{"route_table_id": "rtb-0a000001", "destination": "not-a-cidr", "eni": "eni-0b00000b"}', qr/destination/, 'a destination that is no CIDR block' ],
	[ '{"route_table_id": "rtb-0a000001", "destination": "10.0.99.10/24", "eni": "eni-0b00000b"}', qr/destination/, 'a CIDR block with host bits set' ],
	[ '{"route_table_id": "rtb-0a000001", "destination": "10.0.99.10/33", "eni": "eni-0b00000b"}', qr/destination/, 'a prefix longer than the address' ],
	[ '{"route_table_id": "rtb-0a000001", "destination": 7, "eni": "eni-0b00000b"}', qr/destination/, 'a destination that is no string' ],
	[ '{"route_table_id": "rtb-0a000001", "eni": "eni-0b00000b"}', qr/destination/, 'no destination' ],
	[ '{"route_table_id": "rtb-0fffffff", "destination": "10.0.99.10/32", "eni": "eni-0b00000b"}', qr/route_table_id/, 'a route table that does not exist' ],
	[ '{"destination": "10.0.99.10/32", "eni": "eni-0b00000b"}', qr/route_table_id/, 'no route table' ],
	[ '{"route_table_id": "rtb-0a000001", "destination": "10.0.99.10/32", "eni": "eni-0fffffff"}', qr/eni/, 'an interface that does not exist' ],
	[ '{"route_table_id": "rtb-0a000001", "destination": "10.0.99.10/32"}', qr/eni/, 'an active route without an interface' ],
	[ qq({"route_table_id": "rtb-0a000001", "destination": "$local", "delete": true}), qr/local/, "the VPC's local route ($local)" ],
	[ '["rtb-0a000001", "10.0.99.10/32"]', qr/object/, 'a body that is no JSON object' ])
{
	my ($body, $names, $what) = @$case;
	my ($status, $text) = post_route($body);
	ok($status eq '400' && $text =~ $names, "$what: 400, naming what is wrong") or diag("$status: $text");
}
is_deeply(routes_of('rtb-0a000001'), $before, 'none of them changed the route table');
is(scalar(grep { $_->{origin} eq 'CreateRouteTable' } @{ fake_state($fake)->{tables}{'rtb-0a000001'}{routes} }), 1,
	"nor its local route");

# What EC2 takes, it holds as EC2 writes it: an address alone is its /32,
# the same route as before (replaced, not a second one).
my ($status, $text) = post_route('{"route_table_id": "rtb-0a000001", "destination": "10.0.99.10", "eni": "eni-0b00000b"}');
is($status, '200', 'an address without a prefix is taken') or diag($text);
is_deeply(routes_of('rtb-0a000001'), ['10.0.99.10/32 -> eni-0b00000b (active)'], 'as its /32, replacing the route there');
($status, $text) = post_route('{"route_table_id": "rtb-0a000002", "destination": "10.0.99.10/32", "blackhole": true}');
is($status, '200', 'a blackhole needs no interface') or diag($text);
is_deeply(routes_of('rtb-0a000002'), ['10.0.99.10/32 -> - (blackhole)'], 'the blackhole is there');
($status, $text) = post_route('{"route_table_id": "rtb-0a000002", "destination": "10.0.99.10/32", "delete": true}');
is($status, '200', 'a route is deleted') or diag($text);
is_deeply(routes_of('rtb-0a000002'), [], 'and gone');

done_testing();
