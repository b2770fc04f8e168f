# $PGDATA/pg_vip.fence, the fence a stale primary remembers across a
# restart: what stands at its names is never followed or waited on.
#   - A symlink planted at pg_vip.fence.tmp: the fence is written to a new
#     file all the same, and the link's target is left as it was.
#   - At pg_vip.fence, a FIFO (which would hang the postmaster at start), a
#     symlink (whose target would be read), a file too large and one whose
#     text pg_vip did not write: the server starts, says why in a WARNING,
#     and fails closed: ordinary logins are refused as under a remembered
#     fence, with no holder named.
#   - Once the worker reads the fence again, a regular file replaces the
#     symlink there, whose target is left as it was.
# (The file of another OS user, and a line break in the holder's name, are
# test/unit/fence_file_test.cpp's: the server's user cannot make the first,
# and a fence tag's name reaches the file escaped already.)
use strict;
use warnings;
use Fcntl;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use POSIX qw(mkfifo);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use PgVipTest;

# One ordinary login as app: (exit code, stdout, stderr).
sub login_app {
	my ($node) = @_;
	return $node->psql('postgres', 'SELECT 1', connstr => $node->connstr('postgres') . ' user=app', extra_params => ['-w']);
}

my $fake = start_fake_aws(standard_world());
my ($a, $b) = held_pair($fake, primary_extra => "pg_vip.fence_action = 'reject'\n");
$a->safe_psql('postgres', 'CREATE ROLE app LOGIN');
$a->wait_for_catchup($b);
my $fence = $a->data_dir . '/pg_vip.fence';
my $temp = "$fence.tmp";

# --- a symlink at the temporary name ------------------------------------------
my $outside = PostgreSQL::Test::Utils::tempdir('outside');
my $victim = "$outside/victim";
PostgreSQL::Test::Utils::append_to_file($victim, "precious\n");
symlink($victim, $temp) or die "symlink: $!";
$b->promote;    # node-a keeps running: a split brain
ok(wait_for_status($a, 'state', 'fenced', 30), 'node-a is fenced') or diag(status_of($a, 'last_error'));
my $deadline = time + 30;
usleep(50_000) while !-e $fence && !-l $fence && time < $deadline;
is(slurp_file($victim), "precious\n", 'the target of a symlink planted at pg_vip.fence.tmp is not overwritten');
ok(-f $fence && !-l $fence, 'pg_vip.fence is a regular file, not the planted link renamed into place');
is(-f $fence && !-l $fence ? slurp_file($fence) : '', "holder=node-b\ntimeline=2\n", 'and holds the fence');
ok(!-e $temp && !-l $temp, 'no temporary file is left');
is((stat $fence)[2] & 07777, 0600, 'pg_vip.fence has mode 600');

# --- what stands at pg_vip.fence at start -------------------------------------
# AWS stays unreachable for node-a across the restarts, so that only the
# remembered fence can refuse connections.
fake_deny($fake, { instance => 'i-0a000001', status => 503, code => 'Unavailable' });

# Restarts node-a with $plant put at pg_vip.fence (a sub that makes it), and
# checks that it starts at once, warns with $why, and refuses app's login
# without naming a holder.
sub restart_with {
	my ($what, $plant, $why) = @_;
	$a->stop;
	unlink $fence;
	$plant->();
	my $log_from = -s $a->logfile;
	my $started;
	{
		local $ENV{PGCTLTIMEOUT} = 20;
		$started = $a->start(fail_ok => 1);
	}
	ok($started, "$what: the server starts") or do {
		# The postmaster waits for a writer to open the FIFO: be that writer,
		# so that the test can go on and stop it.
		if (-p $fence && sysopen(my $w, $fence, O_WRONLY | O_NONBLOCK)) { close $w; }
		$a->poll_query_until('postgres', 'SELECT true');
	};
	my $log = substr(slurp_file($a->logfile), $log_from);
	like($log, qr/WARNING:  pg_vip: "pg_vip.fence" is not a fence file pg_vip wrote; this node counts as fenced\n.*DETAIL:  \Q$why\E/,
		"$what: a WARNING says why");
	my ($ret, $out, $err) = login_app($a);
	isnt($ret, 0, "$what: an ordinary login is refused (fail closed)");
	like($err, qr/DETAIL:  pg_vip moved the virtual IP to another primary before this server restarted/,
		"$what: naming no holder");
	isnt(status_of($a, 'state'), 'fenced', "$what: (the worker could not read the fence again)");
}

restart_with('a FIFO', sub { mkfifo($fence, 0600) or die "mkfifo: $!" }, 'It is not a regular file.');
restart_with(
	'a file of 1 MiB',
	sub { PostgreSQL::Test::Utils::append_to_file($fence, "holder=big\ntimeline=3\n" . ('x' x (1024 * 1024))) },
	'It is larger than 4096 bytes.');
restart_with('a text pg_vip did not write',
	sub { PostgreSQL::Test::Utils::append_to_file($fence, "holder=node-b\ntimeline=two\n") },
	'Its text is not the fields pg_vip writes.');
my $elsewhere = "$outside/elsewhere";
PostgreSQL::Test::Utils::append_to_file($elsewhere, "holder=planted\ntimeline=7\n");
restart_with('a symlink', sub { symlink($elsewhere, $fence) or die "symlink: $!" }, 'It is a symbolic link.');

# --- read again, written anew ---------------------------------------------------
fake_deny($fake);
ok(wait_for_status($a, 'state', 'fenced', 30), 'once AWS answers, node-a reads the fence again')
  or diag(status_of($a, 'last_error'));
$deadline = time + 30;
usleep(50_000) while !(-f $fence && slurp_file($fence) =~ /node-b/) && time < $deadline;
is(-f $fence && !-l $fence ? slurp_file($fence) : '', "holder=node-b\ntimeline=2\n",
	'and writes pg_vip.fence anew, a regular file naming the holder');
is(slurp_file($elsewhere), "holder=planted\ntimeline=7\n", 'the symlink it replaced was not written through');
my ($ret, $out, $err) = login_app($a);
like($err, qr/DETAIL:  pg_vip moved the virtual IP 10\.0\.99\.10\/32 to node "node-b" on timeline 2/,
	'the refusal names the holder again');

$a->stop;
$b->stop;
done_testing();
