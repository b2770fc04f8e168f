# Text from AWS never runs as shell code, and the notification command never
# sees the worker's AWS credentials (issue 10, items 1 and 2).
#
# Anyone allowed ec2:CreateTags on the route tables can write the fence tag,
# whose node field pg_vip quotes in the details of vip_fenced. Here a newer
# timeline's tag has a node field with $(touch X), "; touch X; " and line
# breaks, which touch marker files if a shell ever reads them as code (before
# the fix, each template of section 2 ran at least one of them). node-a
# restarts as a primary with one template after another, quoted every way:
# each time it is fenced by that tag and raises vip_fenced. Templates with
# each placeholder a whole, unquoted word (or reading PG_VIP_DETAILS) run and
# receive the text verbatim, less its control characters; every other
# template is refused, by the setting's check or, failing that, when the
# event comes; no marker ever appears. So is a template that hands a value
# to a program that reads code (a pipe into sh, perl -e, set -- then eval). The server runs with AWS keys, a
# session token and other secrets in its environment; the commands'
# environment holds none of them.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use File::Temp ();
use JSON::PP ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use PgVipTest;

# Markers go to a short directory: the whole tag value must fit EC2's 256 characters.
my $marks = File::Temp::tempdir('/tmp/pgvip029XXXX', CLEANUP => 1);
my $out = PostgreSQL::Test::Utils::tempdir();
my $notify = "$FindBin::RealBin/../notify_to_file.sh";
my $node_field = "\$(touch $marks/a)\"; touch $marks/c; \"x\"\ntouch $marks/b\n\"";
# What the details carry: the node name escaped outside [A-Za-z0-9-_.:@/]
# (a node name from a tag is shown only in that set).
(my $shown = $node_field) =~ s{([^A-Za-z0-9\-_.:\@/])}{sprintf('\\x%02x', ord($1))}ge;

my %secrets = (
	AWS_ACCESS_KEY_ID => 'AKIDPGVIP029NOTIFY1',
	AWS_SECRET_ACCESS_KEY => 'notify029/Secret+Key-8c1d',
	AWS_SESSION_TOKEN => 'notify029-session-token-5b7e',
	AWS_CONTAINER_AUTHORIZATION_TOKEN => 'notify029-container-token-2a9f',
	PGPASSWORD => 'notify029-pg-password-71c3');

my %world = standard_world();
$world{credentials} = [
	{ access_key => $secrets{AWS_ACCESS_KEY_ID}, secret => $secrets{AWS_SECRET_ACCESS_KEY},
		token => $secrets{AWS_SESSION_TOKEN} } ];
my $fake = start_fake_aws(%world);
my ($a) = start_pair($fake, primary_name => 'notify_safety', no_standby => 1,
	extra => "pg_vip.event_notifications = 'vip_fenced'\n");
# A tag of this cluster's (its system identifier is no secret: every tag
# shows it) on timeline 9, written by someone else allowed ec2:CreateTags.
my $sysid = $a->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()');
my $tag = "tl=9;sysid=$sysid;id=eni-0c00000c;at=2026-01-01T00:00:00Z;node=$node_field";
cmp_ok(length($tag), '<=', 256, 'the hostile tag fits in an EC2 tag value');
fake_control($fake, 'tag',
	JSON::PP::encode_json({ route_table_id => $_, key => 'pg_vip:10.0.99.10/32', value => $tag }))
  for qw(rtb-0a000001 rtb-0a000002 rtb-0a000003);
ok(wait_for_status($a, 'state', 'fenced'), 'node-a is fenced by the hostile tag') or diag(status_of($a, 'last_error'));

# The markers the tag's text has touched since the last call (then removed),
# and all it ever touched.
my %ever_ran;
sub markers {
	opendir(my $d, $marks) or die "$marks: $!";
	my @found = sort grep { !/^\./ } readdir($d);
	for (@found) { $ever_ran{$_} = 1; unlink("$marks/$_"); }
	return @found;
}

# Restarts node-a with $template, its environment full of secrets, and
# waits for its vip_fenced; then for the command's output ($runs) or for
# the refusal in the log.
sub restart_with {
	my ($template) = @_;
	# postgresql.conf reads a backslash as an escape and '' as a quote.
	(my $quoted = $template) =~ s/\\/\\\\/g;
	$quoted =~ s/'/''/g;
	$a->append_conf('postgresql.conf', "pg_vip.event_notification_command = '$quoted'\n");
	my $offset = -s $a->logfile;
	{
		local @ENV{ keys %secrets } = values %secrets;
		$a->restart;
	}
	ok($a->poll_query_until('postgres', "SELECT count(*) > 0 FROM vip_events() WHERE event = 'vip_fenced'"),
		'vip_fenced raised');
	return $offset;
}

sub wait_for_file {
	my ($path, $timeout) = @_;
	my $deadline = time + ($timeout // 20);
	usleep(50_000) while time < $deadline && !(-s $path);
	return -s $path;
}

# 1. Safe templates run, and the hostile text reaches them as data.
my @safe = (
	[ 'unquoted placeholders', "$notify $out/s1.txt %e %s %d; env > $out/s1.env", qr/^vip_fenced\|1\|(.*)$/ ],
	[ 'the environment variables', "$notify $out/s2.txt \"\$PG_VIP_EVENT\" \"\$PG_VIP_DETAILS\"; env > $out/s2.env",
		qr/^vip_fenced\|(.*)$/ ]);
for my $i (0 .. $#safe) {
	my ($what, $template, $line_re) = @{ $safe[$i] };
	my $n = $i + 1;
	restart_with($template);
	ok(wait_for_file("$out/s$n.env"), "$what: the command ran");
	my ($line) = split /\n/, (-f "$out/s$n.txt" ? slurp_file("$out/s$n.txt") : '');
	my ($details) = ($line // '') =~ $line_re;
	ok(defined $details && index($details, "node \"$shown\" (eni-0c00000c)") >= 0,
		"$what: the tag's node field arrived as one literal value, escaped")
	  or diag($line);
	my $env = slurp_file("$out/s$n.env");
	unlike($env, qr/^AWS_/m, "$what: no AWS_ variable in the command's environment");
	for my $name (sort keys %secrets) {
		unlike($env, qr/\Q$secrets{$name}\E/, "$what: the value of $name is not in it");
	}
	like($env, qr/^PG_VIP_DETAILS=.*\Qnode "$shown"\E/m, "$what: PG_VIP_DETAILS carries the details");
	like($env, qr/^PG_VIP_EVENT=vip_fenced$/m, "$what: PG_VIP_EVENT the event");
	like($env, qr/^PATH=/m, "$what: PATH is kept");
	is(join(',', markers()), '', "$what: nothing in the tag ran");
}
ok(!$a->log_contains(qr/\Q$secrets{AWS_SECRET_ACCESS_KEY}\E/), 'the secret is not in the server log either');

# 2. Templates that quote, join or re-parse a placeholder never run.
my @unsafe = (
	[ 'repmgr\'s "%t" "%d"', "$notify $out/u1.txt %n %e %s \"%t\" \"%d\"" ],
	[ "'%d'", "$notify $out/u2.txt %e '%d'" ],
	[ '\\%d', "$notify $out/u3.txt %e \\%d" ],
	[ '"${x:-%d}"', "$notify $out/u4.txt %e \"\${x:-%d}\"" ],
	[ 'sh -c "... %d"', "sh -c \"$notify $out/u5.txt %e %d\"" ],
	[ 'eval', "eval $notify $out/u6.txt %e %d" ],
	[ 'a comment', "$notify $out/u7.txt %e # %d" ],
	[ "\$'%d'", "$notify $out/u8.txt %e \$'%d'" ],
	# Issue 19: programs that read code, and eval through a variable.
	[ 'a pipe into sh', "$notify $out/u9.txt %e; echo %d | sh" ],
	[ 'perl -e', "$notify $out/u10.txt %e; perl -e %d" ],
	[ 'set -- then eval', "set -- %d; $notify $out/u11.txt %e; eval \"\$1\"" ]);
for my $i (0 .. $#unsafe) {
	my ($what, $template) = @{ $unsafe[$i] };
	my $n = $i + 1;
	my $offset = restart_with($template);
	# Refused at the setting's check (the server starts without the command)
	# or, if a value got past it, when the event comes.
	my $refused = qr/invalid value for parameter "pg_vip\.event_notification_command"|pg_vip: the event notification command was not run: it could let text from AWS run as shell code/;
	my $deadline = time + 15;
	usleep(100_000) while time < $deadline && slurp_file($a->logfile, $offset) !~ $refused;
	like(slurp_file($a->logfile, $offset), $refused, "$what: refused, and the log says so");
	sleep 1;    # what an injection would have run has had time to run
	ok(!-e "$out/u$n.txt", "$what: the command did not run");
	is(join(',', markers()), '', "$what: nothing in the tag ran");
}

# 3. The setting says why, and what to write instead.
my ($ret, $stdout, $stderr) = $a->psql('postgres',
	q{SELECT vip_check_setting('pg_vip.event_notification_command', '/etc/repmgr/repmgr-hook.sh %n %e %s "%t" "%d"')});
isnt($ret, 0, 'vip_check_setting() refuses repmgr\'s quoted template');
like($stderr, qr/ERROR:  invalid value for parameter "pg_vip\.event_notification_command"/, 'naming the setting');
like($stderr, qr/DETAIL:  The placeholder %t stands inside double quotes, where the shell still expands/, 'saying why');
like($stderr, qr/HINT:  .*as in "\/etc\/repmgr\/repmgr-hook\.sh %n %e %s %t %d".*PG_VIP_DETAILS/,
	'and showing the safe form and the environment variables');
($ret, $stdout, $stderr) =
  $a->psql('postgres', q{ALTER SYSTEM SET pg_vip.event_notification_command = '/usr/local/bin/hook "%d"'});
isnt($ret, 0, 'ALTER SYSTEM refuses a quoted placeholder (the GUC check hook)');
like($stderr, qr/The placeholder %d stands inside double quotes/, 'with the same words');
($ret, $stdout, $stderr) = $a->psql('postgres',
	q{SELECT vip_check_setting('pg_vip.event_notification_command', 'ssh admin@monitor notify %e %d')});
isnt($ret, 0, 'vip_check_setting() refuses a placeholder in ssh\'s command words');
like($stderr, qr/DETAIL:  The placeholder %e is an argument of ssh, /, 'naming the program that reads code');
like($stderr, qr/HINT:  .*the safe way.*PG_VIP_DETAILS/, 'and the environment variables as the safe way');
is($a->safe_psql('postgres',
		q{SELECT vip_check_setting('event_notification_command', '/etc/repmgr/repmgr-hook.sh %n %e %s %t %d')}),
	'/etc/repmgr/repmgr-hook.sh %n %e %s %t %d', 'the unquoted template is accepted as written');

# 4. vip_events() and the log carry the details without control characters.
my $details = $a->safe_psql('postgres', "SELECT details FROM vip_events() WHERE event = 'vip_fenced' LIMIT 1");
unlike($details, qr/[\x00-\x1f]/, 'vip_events() details hold no control character');
ok(index($details, '\x22x\x22\x0atouch\x20' . "$marks/b") >= 0, 'a line break in the tag shows escaped')
  or diag($details);

$a->stop;
markers();
is(join(',', sort keys %ever_ran), '', 'in the end, nothing in the tag ever ran');
done_testing();
