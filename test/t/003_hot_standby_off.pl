# With hot_standby = off the worker starts only once recovery has ended; it
# must still know that this was a promotion. A crash restart of the promoted
# node re-creates shared memory and reports a start.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgVipTest;

# restart_after_crash: the test crash-restarts the standby below.
my ($primary, $standby) = streaming_pair(
	primary_conf => vip_conf(node_name => 'node-a'),
	standby_conf => "hot_standby = off\nrestart_after_crash = on\npg_vip.node_name = 'node-b'\n");

$standby->promote;
# pg_ctl promote returns once the control file says the server is in
# production; with hot_standby = off the postmaster accepts connections a
# moment later (200 ms later under valgrind): wait for that, as PostgreSQL's
# own tests do, before the first query.
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'the promoted standby never accepted connections';
ok(wait_for_status($standby, 'role', 'primary', 20), 'promoted standby reports primary');
is(status_of($standby, 'primary_by'), 'promotion', 'hot_standby = off: still known as a promotion');
is(status_of($standby, 'timeline'), '2', 'new timeline');
is(status_of($standby, 'promoted_at IS NOT NULL'), 't', 'promoted_at recorded');

# Crash restart: kill a backend with SIGKILL; the postmaster re-initialises
# shared memory, and standby.signal is long gone.
my $log_offset = -s $standby->logfile;
my $backend = $standby->background_psql('postgres');
my $bpid = $backend->query_safe('SELECT pg_backend_pid()');
kill 'KILL', $bpid;
$backend->quit;
$standby->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset);
$standby->poll_query_until('postgres', 'SELECT true') or die 'server did not come back';
ok(wait_for_status($standby, 'role', 'primary'), 'after the crash restart: primary');
is(status_of($standby, 'primary_by'), 'start', 'after the crash restart: a start, not a promotion');
is(status_of($standby, 'promoted_at IS NULL'), 't', 'after the crash restart: no promoted_at');

$standby->stop;
$primary->stop;
done_testing();
