# The lab's TAP tests (test/lab/t): a VPC in a box per test file, driven
# through scripts/lab.sh (which draws it: test/lab/net.sh). The tests run as
# root; without root or network namespaces a file is skipped (skip_all: the
# test command counts it as skipped, never as passed), with the one-line
# reason scripts/lab.sh gives. Each file's lab has its own directory and
# names, and is removed when the file ends, however it ends.
package PgVipLab;
use strict;
use warnings;
use Exporter 'import';
use File::Temp qw(tempdir);
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use JSON::PP;
use Time::HiRes qw(time sleep);
use Test::More;
use IPC::Run;

our @EXPORT = qw(lab_or_skip lab lab_ok lab_up lab_sql wait_until client_report lab_env lab_dir vip_at_start vip_moved
  stale_primary_back lab_confined lab_logs postgres_controls);

my $top = abs_path(dirname(__FILE__) . '/../..');
my $dir;
my $up = 0;

sub lab_dir { return $dir }

# Skips the whole file (with scripts/lab.sh's own reason) unless the lab can run.
sub lab_or_skip {
	if ($> != 0) {
		plan skip_all => 'the lab needs root: it makes network namespaces (run as root)';
	}
	my $probe = "pgvip-probe-$$";
	if (system("ip netns add $probe >/dev/null 2>&1") != 0) {
		plan skip_all => 'network namespaces are unavailable here (ip netns add failed): the lab cannot run';
	}
	system("ip netns del $probe");
	if (system('command -v nft >/dev/null 2>&1') != 0) {
		plan skip_all => "the lab needs nftables (nft), the Elastic IP's NAT: apt-get install nftables";
	}
	$dir = tempdir('pg_vip_lab.XXXXXX', TMPDIR => 1, CLEANUP => 0);
	chmod 0755, $dir;
	$SIG{INT} = $SIG{TERM} = sub { lab_down(); exit 130 };
	return;
}

sub lab_down {
	return unless $dir && -d $dir;
	if ($ENV{PG_VIP_LAB_KEEP}) {
		diag("lab kept in $dir (PG_VIP_LAB_KEEP)");
		return;
	}
	system("PG_VIP_LAB_DIR='$dir' bash '$top/scripts/lab.sh' down >/dev/null 2>&1");
	system('rm', '-rf', $dir);
}

END {
	my $status = $?;
	# Test::More sets the exit status after this block: ask it.
	if ($dir && -d $dir && ($status != 0 || !Test::More->builder->is_passing)) {
		# Keep what tells why: the nodes' logs go to the test's output.
		diag(lab_logs());
	}
	lab_down();
	$? = $status;
}

# The end of every log of the lab (the nodes', sshd's and the lab's own), 25
# lines each: what a failed test shows.
sub lab_logs {
	my $text = '';
	for my $log (glob("$dir/*/*.log $dir/*/*.out $dir/ssh/*/*.log $dir/*.log")) {
		$text .= "--- $log\n" . read_tail($log, 25);
	}
	return $text;
}

# The last lines of a file. One where postgres may put a link (a node's
# directory) is read as postgres, who shows only what is its own anyway;
# given up on after 10 s (a link to a pipe, or to /dev/zero).
sub read_tail {
	my ($path, $lines) = @_;
	my @tail = ('timeout', '-k', '2', '10', 'tail', '-n', $lines, '--', $path);
	unshift @tail, 'runuser', '-u', 'postgres', '--' if defined postgres_controls($path);
	my $out = '';
	IPC::Run::run(\@tail, '>', \$out, '2>', '/dev/null');
	return $out;
}

# Runs scripts/lab.sh with this file's lab; returns (exit code, output).
sub lab {
	my @args = @_;
	my $quoted = join ' ', map { my $a = $_; $a =~ s/'/'\\''/g; "'$a'" } @args;
	my $out = `PG_VIP_LAB_DIR='$dir' bash '$top/scripts/lab.sh' $quoted 2>&1`;
	return ($? >> 8, $out);
}

# lab() that must succeed: one test, the output shown when it fails.
sub lab_ok {
	my ($name, @args) = @_;
	my ($rc, $out) = lab(@args);
	ok($rc == 0, $name) or diag("scripts/lab.sh @args:\n$out");
	return $out;
}

# Brings the lab up (options as scripts/lab.sh up takes them); bails out of
# the file when it cannot, since nothing after it could pass.
sub lab_up {
	my @opts = @_;
	my ($rc, $out) = lab('up', @opts);
	if ($rc != 0) {
		diag($out);
		die "the lab did not come up: scripts/lab.sh up @opts\n";
	}
	$up = 1;
	return $out;
}

# One value from a node (psql -At through its socket); undef if it fails.
sub lab_sql {
	my ($node, $sql) = @_;
	my ($rc, $out) = lab('sql', $node, $sql);
	return undef if $rc != 0;
	chomp $out;
	return $out;
}

sub lab_env {
	my ($rc, $out) = lab('env');
	my %env = $out =~ /^(\w+)=(.*)$/mg;
	return \%env;
}

# Polls $cond every 100 ms for up to $seconds; true if it held once.
sub wait_until {
	my ($cond, $seconds) = @_;
	my $deadline = time + $seconds;
	while (time < $deadline) {
		return 1 if $cond->();
		sleep 0.1;
	}
	return $cond->() ? 1 : 0;
}

# The client's record as report.py reads it (a hash); check => NODE also
# asks NODE for every acknowledged commit; via => 'eip': the client that
# writes through the Elastic IP from the lab's internet.
sub client_report {
	my (%o) = @_;
	my @args = ('client', '--via', $o{via} // 'vip', 'report', '--json');
	push @args, '--check', $o{check} if $o{check};
	push @args, '--since', $o{since} if $o{since};
	my ($rc, $out) = lab(@args);
	my ($line) = grep { /^\{/ } split /\n/, $out;
	# No report is a failure of the file, never an empty report that passes.
	die "the client's report failed: $out\n" unless $line;
	return decode_json($line);
}

# The lab as it starts (4 tests): $primary holds the VIP, $standby is a
# standby for pg_vip, the router sends the VIP's packets to $primary, and
# the client commits through the VIP there.
sub vip_at_start {
	my ($primary, $standby) = @_;
	is(lab_sql($primary, 'SELECT state FROM vip_status()'), 'held', "$primary, the primary, holds the VIP");
	is(lab_sql($standby, 'SELECT state FROM vip_status()'), 'standby', "$standby is a standby for pg_vip");
	like((lab('vip-host'))[1], qr/^$primary$/m, "the router sends the VIP's packets to $primary");
	ok(wait_until(sub { (client_report()->{by_node}{$primary} // 0) >= 50 }, 20),
		"the client commits through the VIP on $primary");
}

# After a failover from $old to $new that began at $t0 (5 tests): $new holds
# every one of the $tables route tables, the router sends it the VIP's
# packets, the client's writes resume there, and the write gap runs from
# $old to $new (reported). Returns the client's report since $t0.
sub vip_moved {
	my ($old, $new, $t0, $tables) = @_;
	is(lab_sql($new, "SELECT count(*) FROM vip_routes() WHERE state = 'ours'"), $tables,
		"all $tables route tables held by $new");
	like((lab('vip-host'))[1], qr/^$new$/m, "the router now sends the VIP's packets to $new");
	ok(wait_until(sub { (client_report(since => $t0)->{by_node}{$new} // 0) >= 50 }, 30),
		"the client's writes resume through the VIP on $new");
	my $r = client_report(since => $t0);
	ok($r->{outage} && $r->{outage}{last_node} eq $old && $r->{outage}{first_node} eq $new,
		"the write gap runs from $old to $new");
	note(sprintf('write gap: %.0f ms (%d failed attempts)', $r->{outage}{seconds} * 1000, $r->{outage}{failed_attempts}))
	  if $r->{outage};
	like(lab_sql($new, "SELECT string_agg(event, ',') FROM vip_events()"), qr/vip_held/, "$new recorded vip_held");
	return $r;
}

# The split brain (5 tests): the old primary $old (EC2 instance $instance),
# restarted as it was, runs as a primary again; its pg_vip is fenced, sees
# $holder as the holder, and in three check intervals sends AWS no
# changing request. $meanwhile (optional) runs its own tests while the
# stale primary is up. Returns the time it was restarted.
sub stale_primary_back {
	my ($old, $holder, $instance, $meanwhile) = @_;
	my $aws_log = lab_env()->{LAB_DIR} . '/aws-requests.jsonl';
	my $changes = sub { my @n = `grep '"caller": "$instance"' '$aws_log' | grep '"changing": true'`; scalar @n };
	my $restart = time;
	my $before = $changes->();
	lab_ok("$old restarted as it was", 'start', $old);
	is(lab_sql($old, 'SELECT pg_is_in_recovery()'), 'f', "$old runs as a primary again (split brain)");
	ok(wait_until(sub { (lab_sql($old, 'SELECT state FROM vip_status()') // '') eq 'fenced' }, 20),
		"pg_vip on $old: fenced");
	like(lab_sql($old, 'SELECT holder FROM vip_status()'), qr/$holder/, "$old sees $holder as the holder");
	$meanwhile->() if $meanwhile;
	sleep 3;    # three check intervals: a stale primary that fought would have tried by now
	is($changes->() - $before, 0, "$old sent no changing request to AWS since it came back");
	return $restart;
}

# What the postgres OS user may write to (a lab's PostgreSQL superuser can
# run anything as postgres: COPY ... TO PROGRAM).
my ($pg_uid) = (getpwnam('postgres'))[2];
my %pg_groups = map { $_ => 1 } split ' ', `id -G postgres 2>/dev/null`;

sub postgres_may_write_dir {
	my ($d) = @_;
	my @st = lstat($d) or return 0;
	my $mode = $st[2];
	# Its owner may change its mode: a directory postgres owns is postgres's.
	return defined $pg_uid && ($st[4] == $pg_uid || ($pg_groups{ $st[5] } && ($mode & 0020)) || ($mode & 0002));
}

# The directory through which postgres could put something else at $path
# (swap it, or plant a symbolic link for root to follow), or undef if none:
# every directory from / down to the path's own counts; in a sticky one (as
# /tmp) only entries postgres owns can be moved.
sub postgres_controls {
	my ($path) = @_;
	my @parts = grep { length } split m{/}, $path;
	my $parent = '/';
	for my $part (@parts) {
		my $child = $parent eq '/' ? "/$part" : "$parent/$part";
		if (postgres_may_write_dir($parent)) {
			my @pst = lstat($parent);
			my @cst = lstat($child);
			my $sticky = ($pst[2] & 01000);
			return $parent unless $sticky && @cst && $cst[4] != $pg_uid;
		}
		$parent = $child;
	}
	return undef;
}

# The lab keeps its PostgreSQL superuser to itself, and root never works
# where postgres could lead it: no OS user but postgres reaches a node's
# socket (each socket is tried as nobody, and as postgres, which must get
# in), and nothing of root's (a file root wrote, a link it made, a
# directory it created) lies where postgres could swap it. Three tests
# and one per socket found.
sub lab_confined {
	my @sockets = split /\n/, `find '$dir' -type s -name '.s.PGSQL.*' 2>/dev/null`;
	ok(@sockets >= 2, 'the lab has PostgreSQL sockets to try (' . scalar(@sockets) . ')');
	my $psql = `bash -c 'source "$top/scripts/common.sh"; echo \$PG_BINDIR'`;
	chomp $psql;
	$psql .= '/psql';
	for my $socket (@sockets) {
		my ($sockdir, $port) = $socket =~ m{^(.*)/\.s\.PGSQL\.(\d+)$} or next;
		my @args = ($psql, '-X', '-At', '-h', $sockdir, '-p', $port, '-U', 'postgres', '-d', 'postgres', '-c', 'SELECT 1');
		my ($as_pg, $as_nobody) = ('', '');
		IPC::Run::run([ 'runuser', '-u', 'postgres', '--', 'env', '-i', 'PGCONNECT_TIMEOUT=5', @args ], '>&', \$as_pg);
		my $refused = !IPC::Run::run([ 'runuser', '-u', 'nobody', '--', 'env', '-i', 'HOME=/', 'PGCONNECT_TIMEOUT=5', @args ],
			'>&', \$as_nobody);
		ok($as_pg =~ /^1$/m && $refused && $as_nobody =~ /Permission denied/,
			"$socket: postgres connects, nobody is refused by the file system")
		  or diag("as postgres: $as_pg\nas nobody: $as_nobody");
	}
	my @exposed;
	for my $entry (split /\n/, `find '$dir' -user 0 2>/dev/null`) {
		my $by = postgres_controls($entry);
		push @exposed, "$entry (through $by)" if defined $by;
	}
	is_deeply(\@exposed, [], "nothing of root's lies in a directory postgres may write")
	  or diag(join("\n", @exposed));
	ok(!defined postgres_controls("$dir/lab.env"), "the lab's own directory and every one above it are beyond postgres");
	return;
}

1;
