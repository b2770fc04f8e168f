# pg_vip.fence_action: what a fenced node does about its own clients, on a
# split brain (node-b promoted while node-a still runs, then node-a, once
# repaired, fenced again by node-b coming back on its newer timeline).
#   terminate: the ordinary session connected before the fence is ended,
#              once, and logged, and so is a non-superuser's logical
#              replication session (replication=database runs SQL); a
#              superuser's survives, and so do a physical replication stream
#              and a session of a role in pg_vip.fence_allow_roles; new
#              ordinary ones are refused.
#   reject:    an ordinary login is refused with a FATAL that names the
#              holder and says how to recover; superusers and replication
#              still get in; a client that keeps reconnecting is refused
#              until a forced vip_claim() lifts the fence, then gets in.
#   fence_allow_roles: a role that has the privileges of a listed role (a
#              member that inherits them) logs in to the fenced node; a
#              NOINHERIT member does not, nor a listed role's member over
#              replication=database; a listed role that does not exist is
#              a WARNING when the fence begins.
#   none:      the default; a reload to it lifts the refusal, and a fenced
#              node then accepts an ordinary login.
#   A bad value is refused with the list of valid ones.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use PgVipTest;

# psql as $user on $node (extra connection options in $opts), running $sql in the background.
sub session_bg {
	my ($node, $user, $sql, $opts) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[
			'psql', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d',
			$node->connstr('postgres') . " user=$user" . ($opts ? " $opts" : ''), '-c', $sql
		],
		'<', \undef, '>', \$out, '2>', \$err);
	return { h => $h, out => \$out, err => \$err };
}

# One login as $user (extra connection options in $opts): (exit code, stdout, stderr).
sub login {
	my ($node, $user, $sql, $opts) = @_;
	return $node->psql('postgres', $sql // 'SELECT current_user',
		connstr => $node->connstr('postgres') . " user=$user" . ($opts ? " $opts" : ''),
		extra_params => ['-w']);
}

# Polls until an ordinary login as $user succeeds ($want 1) or is refused
# ($want 0), for at most 30 s: the postmaster applies a reload a moment after
# pg_reload_conf() returns.
sub wait_for_login {
	my ($node, $user, $want) = @_;
	my $deadline = time + 30;
	while (time < $deadline) {
		my ($ret) = login($node, $user);
		return 1 if ($ret == 0) == $want;
		usleep(50_000);
	}
	return 0;
}

# Polls $cond for at most 30 s.
sub eventually {
	my ($cond) = @_;
	my $deadline = time + 30;
	while (time < $deadline) {
		return 1 if $cond->();
		usleep(50_000);
	}
	return 0;
}

sub set_fence_action {
	my ($node, $value) = @_;
	$node->safe_psql('postgres', "ALTER SYSTEM SET pg_vip.fence_action = '$value'; SELECT pg_reload_conf();");
}

my $fake = start_fake_aws(standard_world());
# ghost: a role that does not exist, listed all the same.
my ($a, $b) = held_pair($fake,
	primary_extra => "pg_vip.fence_action = 'terminate'\npg_vip.fence_allow_roles = 'monitoring, ghost'\n");
is($a->safe_psql('postgres', 'SHOW pg_vip.fence_action'), 'terminate', 'node-a runs with fence_action = terminate');
is($a->safe_psql('postgres', 'SHOW pg_vip.fence_allow_roles'), 'monitoring, ghost', 'and fence_allow_roles = monitoring, ghost');
# app: an application's role. repl: a replication role, not a superuser.
# monitoring: the group fence_allow_roles names (a pg_monitor member, as a
# monitoring tool's group would be); watcher inherits its privileges, lazy
# (NOINHERIT) does not; replwatch is a member with REPLICATION.
$a->safe_psql('postgres', 'CREATE ROLE app LOGIN; CREATE ROLE repl LOGIN REPLICATION; CREATE TABLE orders (id int)');
$a->safe_psql('postgres',
	'CREATE ROLE monitoring NOLOGIN IN ROLE pg_monitor; CREATE ROLE watcher LOGIN IN ROLE monitoring; '
	  . 'CREATE ROLE lazy LOGIN NOINHERIT IN ROLE monitoring; CREATE ROLE replwatch LOGIN REPLICATION IN ROLE monitoring');
$a->safe_psql('postgres', 'GRANT INSERT, SELECT ON orders TO app');
$a->wait_for_catchup($b);
my ($ret, $out, $err) = login($a, 'app', 'INSERT INTO orders VALUES (1)');
is($ret, 0, 'node-a, holding the VIP, takes an ordinary login and write') or diag($err);

# --- terminate ------------------------------------------------------------------
my $app = session_bg($a, 'app', 'SELECT pg_sleep(300)');
my $admin = session_bg($a, 'postgres', 'SELECT pg_sleep(300)');
my $watcher = session_bg($a, 'watcher', 'SELECT pg_sleep(300)');
# A logical replication connection runs SQL: a non-superuser's is ended too.
my $logical = session_bg($a, 'repl', 'SELECT pg_sleep(300)', 'replication=database');
# A physical stream (pg_receivewal, as a standby or a WAL archiver streams)
# is left alone.
my $wal_dir = PostgreSQL::Test::Utils::tempdir('receivewal');
my $receivewal = IPC::Run::start(
	[ 'pg_receivewal', '-w', '-n', '-D', $wal_dir, '-d', $a->connstr . ' user=repl application_name=pg_receivewal' ],
	'<', \undef, '>', \my $rw_out, '2>', \my $rw_err);
ok(wait_for_query($a, "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(300)' AND state = 'active'", '4'),
	'an ordinary session, a superuser session, a fence_allow_roles member\'s session and a logical replication session are connected to node-a');
ok(wait_for_query($a, "SELECT count(*) FROM pg_stat_replication WHERE usename = 'repl' AND application_name = 'pg_receivewal'", '1'),
	'and a physical replication stream of a non-superuser (pg_receivewal)');
my $watcher_pid = $a->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE usename = 'watcher'");
my $logical_pid = $a->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE usename = 'repl' AND query = 'SELECT pg_sleep(300)'");
my $app_pid = $a->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE usename = 'app'");
my $admin_pid = $a->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(300)' AND usename NOT IN ('app', 'watcher', 'repl')");

$b->promote;    # node-a is NOT stopped: a split brain
ok(wait_for_status($b, 'state', 'held', 30), 'node-b, promoted, holds the VIP') or diag(status_of($b, 'last_error'));
ok(wait_for_status($a, 'state', 'fenced', 30), 'node-a, still running, is fenced') or diag(status_of($a, 'last_error'));
is(status_of($a, 'holder') . ' ' . status_of($a, 'holder_timeline'), 'node-b 2', 'node-a names node-b on timeline 2');

my $app_ended = eval { $app->{h}->finish } // 0;
ok(!$app_ended, "the ordinary session connected before the fence was ended (pid $app_pid)");
like(${ $app->{err} }, qr/terminating connection due to administrator command/, 'by a termination, as pg_terminate_backend() does');
ok($a->poll_query_until('postgres', "SELECT count(*) = 1 FROM pg_stat_activity WHERE pid = $admin_pid"),
	"the superuser's session survives (pid $admin_pid)");
ok(wait_for_query($a, "SELECT count(*) FROM pg_stat_activity WHERE pid = $app_pid", '0'), 'the ordinary session is gone');
$a->wait_for_log(qr/LOG:  pg_vip: terminating the session of role "app" \(process $app_pid\) because this node is fenced/);
is(count_log_lines($a, qr/pg_vip: terminating the session of role "app" \(process $app_pid\)/), 1,
	'the server log has one LOG line for the termination');
is(count_log_lines($a, qr/pg_vip: terminating the session of role "postgres"/), 0, 'and none for the superuser');
my $logical_ended = eval { $logical->{h}->finish } // 0;
ok(!$logical_ended, "the non-superuser's logical replication session (replication=database) was ended too (pid $logical_pid)");
ok(wait_for_query($a, "SELECT count(*) FROM pg_stat_activity WHERE pid = $logical_pid", '0'), 'it is gone');
is(count_log_lines($a, qr/pg_vip: terminating the session of role "repl" \(process $logical_pid\)/), 1,
	'the server log has one LOG line for it');
like(slurp_file($a->logfile), qr/LOG:  pg_vip: this node is fenced; 2 client sessions terminated/, 'and a summary line');
is($a->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE pid = $watcher_pid"), '1',
	"the session of a role with the privileges of fence_allow_roles' monitoring survives (pid $watcher_pid)");
is($a->safe_psql('postgres', "SELECT count(*) FROM pg_stat_replication WHERE usename = 'repl' AND application_name = 'pg_receivewal'"),
	'1', 'the physical replication stream survives');
like(slurp_file($a->logfile), qr/WARNING:  pg_vip: role "ghost" in pg_vip.fence_allow_roles does not exist/,
	'the listed role that does not exist is a WARNING once the fence begins');
($ret, $out, $err) = login($a, 'app');
isnt($ret, 0, 'a new ordinary login to the fenced node is refused');
like($err, qr/FATAL:  this node is fenced and refuses connections/, 'with the fence FATAL');
# Once per fence: three check intervals later, nothing more was terminated.
sleep 3;
is(count_log_lines($a, qr/pg_vip: this node is fenced; \d+ client sessions? terminated/), 1,
	'the termination ran once, not on every turn of the loop');
is($a->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE pid = $admin_pid"), '1',
	"the superuser's session is still there");
is($a->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE pid = $watcher_pid"), '1',
	"and so is the fence_allow_roles member's");
is(count_log_lines($a, qr/pg_vip: role "ghost" in pg_vip.fence_allow_roles does not exist/), 1,
	'the WARNING for the missing role was given once, not on every turn');
$_->{h}->kill_kill, $_->{h}->finish for ($admin, $watcher);
$receivewal->kill_kill;
$receivewal->finish;

# --- reject ---------------------------------------------------------------------
set_fence_action($a, 'reject');
ok(wait_for_query($a, 'SHOW pg_vip.fence_action', 'reject'), 'fence_action = reject, by a reload');
($ret, $out, $err) = login($a, 'app');
isnt($ret, 0, 'reject: an ordinary login to the fenced node fails');
like($err, qr/FATAL:  this node is fenced and refuses connections/, 'reject: with a FATAL that says the node is fenced');
like($err, qr/DETAIL:  pg_vip moved the virtual IP 10\.0\.99\.10\/32 to node "node-b" on timeline 2; this node, on timeline 1, is a stale primary/,
	'reject: the detail names the holder, its timeline and this node\'s');
like($err, qr/HINT:  Connect through the virtual IP or to the holder\. .*rejoin it as a standby .*repmgr node rejoin or pg_rewind.*SELECT vip_claim\(force => true\)/,
	'reject: the hint says how to recover');
like(slurp_file($a->logfile), qr/FATAL:  this node is fenced and refuses connections/, 'reject: the server log has it too');
($ret, $out, $err) = login($a, 'postgres', 'SELECT state, holder FROM vip_status()');
is($ret, 0, 'reject: a superuser still logs in') or diag($err);
is($out, 'fenced|node-b', 'reject: and reads vip_status()');
($ret, $out, $err) = login($a, 'repl', 'IDENTIFY_SYSTEM', 'replication=true');
is($ret, 0, 'reject: a physical replication connection (a non-superuser role with REPLICATION) works') or diag($err);
like($out, qr/^\d+\|1\|/, 'reject: IDENTIFY_SYSTEM answers, on timeline 1');
# replication=database runs SQL as well: judged as an ordinary login, or
# a REPLICATION role could write to the fenced node.
($ret, $out, $err) = login($a, 'repl', 'INSERT INTO orders VALUES (42)', 'replication=database');
isnt($ret, 0, 'reject: a logical replication connection of a non-superuser is refused: it could run SQL');
like($err, qr/FATAL:  this node is fenced and refuses connections/, 'reject: with the same FATAL');
($ret, $out, $err) = login($a, 'postgres', 'IDENTIFY_SYSTEM', 'replication=database');
is($ret, 0, "reject: a superuser's logical replication connection works") or diag($err);
($ret, $out, $err) = login($a, 'repl');
isnt($ret, 0, 'reject: the same role, connecting as an ordinary client, is refused');
# fence_allow_roles = 'monitoring, ghost'
($ret, $out, $err) = login($a, 'watcher', 'SELECT state FROM vip_status()');
is($ret . ':' . $out, '0:fenced', 'reject: a role with the privileges of monitoring (in fence_allow_roles) logs in and sees the fence')
  or diag($err);
($ret, $out, $err) = login($a, 'lazy');
isnt($ret, 0, 'reject: a NOINHERIT member of monitoring, which does not have its privileges, is refused');
like($err, qr/FATAL:  this node is fenced and refuses connections/, 'reject: with the fence FATAL');
($ret, $out, $err) = login($a, 'replwatch', 'IDENTIFY_SYSTEM', 'replication=database');
isnt($ret, 0, 'reject: a member of monitoring over replication=database is refused: fence_allow_roles is for ordinary sessions');
($ret, $out, $err) = login($a, 'replwatch');
is($ret, 0, 'reject: the same role, as an ordinary client, gets in') or diag($err);
$a->safe_psql('postgres', "ALTER SYSTEM SET pg_vip.fence_allow_roles = ''; SELECT pg_reload_conf();");
ok(wait_for_login($a, 'watcher', 0), 'reject: with fence_allow_roles emptied by a reload, the member is refused too');

# A pooler-like client: reconnects every 100 ms and notes each outcome.
my $loop_script = 'while :; do if psql -X -w -A -t -d "$1" -c "SELECT 1" >/dev/null 2>&1; then echo in; else echo refused; fi; '
  . 'sleep 0.1; done';
my $loop_out = '';
my $loop = IPC::Run::start([ 'bash', '-c', $loop_script, 'pooler', $a->connstr('postgres') . ' user=app' ],
	'<', \undef, '>', \$loop_out, '2>', \my $loop_err);
my $deadline = time + 30;
while (time < $deadline) {
	$loop->pump_nb;
	last if (() = $loop_out =~ /refused/g) >= 5;
	usleep(50_000);
}
$loop->pump_nb;
my $before_lift = $loop_out;
ok((() = $before_lift =~ /refused/g) >= 5, 'reject: a reconnecting client tried at least five times while fenced');
unlike($before_lift, qr/\bin\b/, 'reject: and was refused every time');

# Lift the fence: node-b goes away and node-a's claim is forced.
$b->stop('immediate');
($ret, $out, $err) = $a->psql('postgres', "SELECT string_agg(state, ',') FROM vip_claim(force => true)");
is($ret, 0, 'vip_claim(force => true) on node-a works') or diag($err);
ok(wait_for_status($a, 'state', 'held'), 'node-a holds the VIP again');
ok(eventually(sub { !-e $a->data_dir . '/pg_vip.fence' }), 'holding the VIP, node-a forgets the fence (pg_vip.fence is gone)');
$deadline = time + 30;
while (time < $deadline) {
	$loop->pump_nb;
	last if $loop_out =~ /\bin\n(.*\n){3}/s;    # in, then three more attempts
	usleep(50_000);
}
$loop->kill_kill;
$loop->finish;
my ($after_first_in) = $loop_out =~ /^(?:refused\n)*in\n(.*)\z/s;
ok(defined $after_first_in, 'reject: the reconnecting client got in once the fence was lifted')
  or diag($loop_out);
unlike($after_first_in // '', qr/refused/, 'reject: and every attempt after that succeeded');
like(slurp_file($a->logfile), qr/LOG:  pg_vip: connections are accepted again/, 'the log says connections are accepted again');
($ret, $out, $err) = login($a, 'app', 'INSERT INTO orders VALUES (2)');
is($ret, 0, 'node-a, holding the VIP again, takes ordinary writes') or diag($err);

# --- none: the default, and a reload to it lifts the refusal ----------------------
# node-b comes back as a primary on timeline 2: it takes the VIP, node-a is fenced.
$b->start;
ok(wait_for_status($b, 'state', 'held', 30), 'node-b, restarted as primary on timeline 2, takes the VIP back')
  or diag(status_of($b, 'last_error'));
ok(wait_for_status($a, 'state', 'fenced', 30), 'node-a is fenced again') or diag(status_of($a, 'last_error'));
($ret, $out, $err) = login($a, 'app');
isnt($ret, 0, 'reject: an ordinary login to node-a is refused again');
ok(-e $a->data_dir . '/pg_vip.fence', 'the fence is remembered in the data directory');

# The partition that made node-a stale goes on, and node-a restarts: EC2
# answers it nothing but errors, so its worker cannot read the fence again.
# The remembered fence refuses connections from the first one.
fake_deny($fake, { instance => 'i-0a000001', status => 503, code => 'Unavailable' });
$a->restart;
($ret, $out, $err) = login($a, 'app', 'INSERT INTO orders VALUES (3)');
isnt($ret, 0, 'restarted while AWS is unreachable, node-a still refuses an ordinary login') or diag($out);
like($err, qr/DETAIL:  pg_vip moved the virtual IP to node "node-b" on timeline 2 before this server restarted/,
	'the detail says the fence was remembered across the restart');
like($err, qr/HINT:  .*even while AWS cannot be reached.*pg_vip\.fence_action to none/, 'and the hint how it ends');
isnt(status_of($a, 'state'), 'fenced', 'although node-a could not read the fence again');
($ret, $out, $err) = login($a, 'postgres', 'SELECT count(*) FROM orders');
is($ret . ':' . $out, '0:2', 'a superuser still logs in') or diag($err);
fake_deny($fake);
ok(wait_for_status($a, 'state', 'fenced', 30), 'once AWS answers, node-a reads the fence again') or diag(status_of($a, 'last_error'));
($ret, $out, $err) = login($a, 'app');
isnt($ret, 0, 'and still refuses ordinary logins');
is($a->safe_psql('postgres', "SELECT boot_val FROM pg_settings WHERE name = 'pg_vip.fence_action'"), 'none',
	'none is the default');
set_fence_action($a, 'none');
ok(wait_for_query($a, 'SHOW pg_vip.fence_action', 'none'), 'fence_action = none, by a reload');
ok(wait_for_login($a, 'app', 1), 'none: the reload lifts the refusal');
($ret, $out, $err) = login($a, 'app', "SELECT count(*) FROM orders");
is($ret . ':' . $out, '0:2', 'none: a fenced node still accepts an ordinary login and its queries') or diag($err);
is(status_of($a, 'state'), 'fenced', 'none: while node-a is still fenced');
like(slurp_file($a->logfile), qr/LOG:  pg_vip: connections are accepted again\n.*DETAIL:  pg_vip.fence_action is now none\./,
	'the log says the refusal ended because the setting changed');

# --- a bad value ------------------------------------------------------------------
($ret, $out, $err) = $a->psql('postgres', "ALTER SYSTEM SET pg_vip.fence_action = 'kill'");
isnt($ret, 0, "ALTER SYSTEM SET pg_vip.fence_action = 'kill' fails");
like($err, qr/invalid value for parameter "pg_vip.fence_action": "kill"/, 'naming the setting and the value');
like($err, qr/HINT:  Available values: none, reject, terminate\./, 'and listing the valid values');
($ret, $out, $err) = login($a, 'app', 'SET pg_vip.fence_action = none');
isnt($ret, 0, 'an ordinary role cannot change it in its session');

$a->stop;
$b->stop;

# --- another cluster's tag: a misconfiguration, not a stale primary -----------
# The tables carry a tag of another cluster (another system identifier): it
# is foreign, never a fence: node-c is not fenced, its clients are left
# alone, nothing is remembered, and vip_routes() says why per table.
my %world = standard_world();
$world{"route_tables.$_.tags"} = { 'pg_vip:10.0.99.10/32' => 'tl=9;sysid=1;id=eni-0f00000f;at=2026-11-18T11:06:40Z;node=other-cluster' }
  for qw(rtb-0a000001 rtb-0a000002 rtb-0a000003);
my $fake2 = start_fake_aws(%world);
my ($c) = start_pair($fake2, primary_name => 'foreign_fence', no_standby => 1, extra => "pg_vip.fence_action = 'reject'\n");
ok($c->poll_query_until('postgres', "SELECT last_error LIKE '%not this cluster''s%' FROM vip_status()"),
	"another cluster's tag is reported") or diag(status_of($c, 'last_error'));
is(status_of($c, 'state'), 'claiming', 'node-c stays claiming');
like(status_of($c, 'last_error'), qr/fence tag not this cluster's \(another cluster's, system identifier 1\): not claimed over, not a fence/,
	'and says why');
like($c->safe_psql('postgres', "SELECT string_agg(last_error, ' | ') FROM vip_routes()"),
	qr/not this cluster's .*delete it if nothing of yours wrote it.*the tag: tl=9;sysid=1;id=eni-0f00000f;/,
	'per table in vip_routes(), what to do first');
isnt(status_of($c, 'state'), 'fenced', 'node-c is not fenced');
$c->safe_psql('postgres', 'CREATE ROLE app LOGIN');
($ret, $out, $err) = login($c, 'app');
is($ret, 0, "beside another cluster's tag, node-c still accepts an ordinary login") or diag($err);
ok(!-e $c->data_dir . '/pg_vip.fence', 'and remembers no fence');
$c->stop;
done_testing();
