# The lab runs as root, on machines other people use (a CI runner): it must
# not hand anyone root. Its PostgreSQL trusts every local connection, so a
# local user who reached a node's socket would be a superuser, then the
# postgres OS user (COPY ... TO PROGRAM), and root wherever root writes,
# changes the owner of, or reads a file in a directory postgres may write
# (a symbolic link planted there). Here, with a repmgr lab up: no OS user
# but postgres reaches a socket, nothing of root's lies where postgres could
# swap it, the logs a failed test shows are read as postgres, and the
# scripts hold no redirect, chown or tail of root's into a node's directory.
# And the lab's smaller promises: it lives only where root alone decides,
# a lab's id is never one in use, a psql of the lab gives up, the client
# restarted goes on with new sequence numbers, and the environment given
# to postgres survives any path.
use strict;
use warnings;
use lib 'test/perl';
use PgVipLab;
use Test::More;
use Time::HiRes qw(time sleep);
use File::Temp qw(tempdir);

lab_or_skip();

# The scripts themselves: root never redirects into, changes the owner of
# (following a link), reads or links in a node's directory; those go
# through postgres (node.sh's as_pg, pg_write, pg_show).
{
	my @found;
	for my $file (glob('test/lab/*.sh'), 'scripts/lab.sh') {
		open(my $fh, '<', $file) or die "$file: $!";
		while (my $line = <$fh>) {
			next if $line =~ /^\s*#/;
			my $node_path = qr/"\$(?:\((?:node_dir|node_data|repmgr_conf|patroni_conf)\b|dir\/|conf")/;
			push @found, "$file:$.: $line"
			  if $line =~ />>?\s*$node_path/
			  || $line =~ /\bchown\s+(?!-h\b)/
			  || $line =~ /(?<!as_pg )\b(?:tail|cat|head|grep)\b[^;|&]*$node_path/
			  || $line =~ /(?<!as_pg )\bln\s+-s/;
		}
	}
	is(join('', @found), '', "the lab's scripts: no redirect, chown without -h, read or link of root's in a node's directory");
}

# Runs a bash script with the lab's shell files at hand; its output.
sub bash_out {
	my ($script, @args) = @_;
	open(my $p, '-|', 'bash', '-c', "set -e; source scripts/common.sh; $script", 'bash', @args) or die;
	local $/;
	my $out = <$p> // '';
	close $p;
	chomp $out;
	return $out;
}

# A word in the environment given to postgres is one word, whatever it holds.
{
	my $space = tempdir('pg vip lab.XXXXXX', TMPDIR => 1, CLEANUP => 1);
	chmod 0755, $space;
	my $got = bash_out(<<'SH', $space);
LAB_DIR=$1; source test/lab/net.sh; source test/lab/node.sh
in_ns() { shift; "$@"; }   # no namespace: the environment is what is tried
as_pg_in node-a sh -c 'printf "%s|%s" "$HOME" "$LANG"' 2>&1
SH
	is($got, "$space/node-a|C.UTF-8", 'as_pg_in: HOME with a space in it reaches postgres whole');
}

# A lab's id: one whose namespaces exist already (a lab up, or what a lab
# left behind) is never taken; the next free one is.
{
	my @taken = ('pgvip-f0f0a-router', 'pgvip-f0f0b-node-a');
	system('ip', 'netns', 'add', $_) for @taken;
	my $ids = File::Temp->new;
	print $ids "f0f0a\nf0f0b\nf0f0c\n";
	close $ids;
	my $got = bash_out(<<'SH', "$ids");
source test/lab/net.sh
ids=$1
lab_random_id() { head -n 1 "$ids"; sed -i 1d "$ids"; }   # the candidates, in order
net_claim_id 2>&1 && echo "$LAB_ID"
SH
	is((split /\n/, $got)[-1], 'f0f0c', 'a lab takes the first id none of whose namespaces exist') or diag($got);
	ok(system('ip netns list | grep -q "^pgvip-f0f0c-router"') == 0, 'and holds it (its router namespace)');
	system("ip netns del $_ 2>/dev/null") for @taken, 'pgvip-f0f0c-router';
}

# Where the lab may live: root's own directory, below directories no one
# else may write to (a sticky one, as /tmp, is fine); a name the managers'
# settings can carry unquoted. Refused at once, nothing made.
{
	my $open = tempdir('pg_vip_lab_open.XXXXXX', TMPDIR => 1, CLEANUP => 1);
	chmod 0777, $open;
	my $out = `PG_VIP_LAB_DIR='$open/lab' bash scripts/lab.sh up 2>&1`;
	ok($? != 0 && $out =~ /\Q$open\E, above .*: refused/ && !-e "$open/lab",
		'a lab below a directory anyone may write to is refused, nothing made') or diag($out);
	$out = `PG_VIP_LAB_DIR='/tmp/pg vip lab' bash scripts/lab.sh up 2>&1`;
	ok($? != 0 && $out =~ /only letters, digits and/ && !-e '/tmp/pg vip lab',
		'a lab directory whose name has a space is refused') or diag($out);
}

lab_up('--manager', 'repmgr', '--tables', '1');
my $dir = lab_dir();

lab_confined();

# What a failed test shows: a log postgres replaced by a link to a file only
# root may read is read as postgres, and shows nothing of that file.
{
	my $secret = "$dir/root-only.secret";
	open(my $fh, '>', $secret) or die;
	print $fh "ROOT-ONLY-MARKER\n";
	close $fh;
	chmod 0600, $secret;
	system('runuser', '-u', 'postgres', '--', 'ln', '-s', $secret, "$dir/node-a/planted.log") == 0
	  or die 'postgres could not plant its link';
	my $logs = lab_logs();
	like($logs, qr/database system is ready to accept connections/, "the failed test's logs show the nodes' logs");
	unlike($logs, qr/ROOT-ONLY-MARKER/, "and nothing postgres may not read, through a link it planted");
	unlink("$dir/node-a/planted.log", $secret);
}

# A psql of the lab gives up: a statement over the lab's timeout
# (LAB_SQL_TIMEOUT seconds) is cancelled, not waited for.
{
	local $ENV{LAB_SQL_TIMEOUT} = 2;
	my $t0 = time;
	my ($rc, $out) = lab('sql', 'node-a', 'SELECT pg_sleep(60)');
	my $took = time - $t0;
	ok($rc != 0 && $took < 20, sprintf('a 60 s statement under a 2 s timeout fails after %.1f s', $took));
	like($out, qr/statement timeout/, 'and says it was the statement timeout');
}

# The client stopped and started again: it goes on with new sequence numbers
# (lab_writes.seq is the key), so every write after the restart commits.
ok(wait_until(sub { (client_report()->{by_node}{'node-a'} // 0) >= 50 }, 20), 'the client commits on node-a');
lab_ok('the client stops', 'client', 'stop');
my $restart = time;
lab_ok('the client starts again', 'client', 'start');
ok(wait_until(sub { (client_report(since => $restart)->{acked} // 0) >= 50 }, 20),
	'the restarted client commits');
my $r = client_report(since => $restart);
is($r->{failed}, 0, 'none of its writes fails') or diag(explain($r));
{
	my %seen;
	open(my $fh, '<', "$dir/client.csv") or die;
	while (<$fh>) { $seen{$1}++ if /^(\d+),/ }
	is(scalar(grep { $_ > 1 } values %seen), 0, "no sequence number is used twice in the client's record");
}
lab('client', 'stop');
my $d = client_report(check => 'node-a');
is($d->{lost}, 0, 'every acknowledged commit is on node-a');

done_testing();
