# The worker's own preflight in a busy account (issue 22): when AWS
# throttles the preflight's requests, its rows say "throttled", not what
# this node lacks, so the run is deferred (a LOG line), not reported (no
# WARNING, no vip_preflight_failed event, no preflight row in
# vip_metrics()), and asked again after a backoff of at least
# max(2 x check_interval, 10 s). Once the account's buckets are no longer
# empty, the next run is reported as any: here its one failed check,
# vip_bound (10.0.99.10 is bound nowhere on a test machine).
#
# The node under test is a standby: a standby sends no changing request of
# its own, so only its preflight's DryRun probes meet the changing actions'
# buckets. The primary claims, and runs its own preflight, before the
# buckets go on; the standby is made and started after, so its worker's
# first preflight is the one AWS throttles.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use JSON::PP qw(encode_json);
use PgVipTest;

my $fake = start_fake_aws(standard_world());
# A deferred run is not kept as the last run (vip_preflight() shows the
# last complete one), so pg_vip.preflight_min_interval, at its default
# minute, does not hold back the run after the backoff this test is about.
my ($a) = start_pair($fake, no_standby => 1, primary_name => 'deferred_a');
ok(wait_for_status($a, 'state', 'held'), 'node-a holds the VIP');
ok($a->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM vip_metrics() WHERE metric = 'preflight_checks' AND value > 0"),
	'node-a\'s worker ran its preflight before the buckets go on');

# vip_metrics()' value of $name on $node ('' if it has no such row).
sub metric {
	my ($node, $name) = @_;
	return $node->safe_psql('postgres', "SELECT value FROM vip_metrics() WHERE metric = '$name'");
}
sub dry_run_refused {
	my $counts = fake_buckets($fake)->{counts};
	my $n = 0;
	$n += $counts->{$_}{dry_run_refused} for keys %$counts;
	return $n;
}

# The account's changing actions: one token each, one back every 100 s.
# The standby's preflight probes each of them once per route table (three),
# so at least two probes of each action find the bucket empty.
fake_control($fake, 'buckets/counts/clear', '{}');
fake_control($fake, 'buckets', encode_json({
	actions => { map { $_ => { size => 1, refill_per_s => 0.01 } } qw(ReplaceRoute CreateRoute CreateTags DeleteTags) } }));

$a->backup('base');
my $b = PostgreSQL::Test::Cluster->new('deferred_b');
$b->init_from_backup($a, 'base', has_streaming => 1);
$b->append_conf('postgresql.conf',
	"pg_vip.node_name = 'node-b'\npg_vip.imds_endpoint = '$fake->{imds}{'i-0b000001'}'\n");
my $started = time;
$b->start;
ok(wait_for_status($b, 'state', 'standby'), 'node-b is a standby');

# The time, in seconds, of the first line of node-b's log matching $re.
sub log_time {
	my ($re) = @_;
	for (split /\n/, slurp_file($b->logfile)) {
		next unless /$re/;
		my ($h, $m, $s) = /^\d{4}-\d\d-\d\d (\d\d):(\d\d):(\d\d\.\d+) / or die "no time in: $_";
		return $h * 3600 + $m * 60 + $s;
	}
	die "no line matches $re";
}

# (a) Deferred, not reported.
ok($b->wait_for_log(qr/LOG:  pg_vip: preflight deferred: AWS throttled \d+ of its requests/),
	'node-b\'s worker deferred its preflight: AWS throttled it');
my $deferred_after = time - $started;
my ($throttled) = slurp_file($b->logfile) =~ /preflight deferred: AWS throttled (\d+) of its requests/;
note(sprintf('the first preflight was deferred %.1f s after the start, %d requests throttled', $deferred_after,
		$throttled));
cmp_ok(dry_run_refused(), '>', 0, 'the endpoint refused DryRun probes (the preflight\'s)');
# The run stops at AWS's first throttle: the probes sent with the one
# throttled, at least one per changing action (each bucket holds 1 token).
cmp_ok($throttled, '>=', 4, 'the log counts the throttled probes (one per changing action, at least)');
is(count_log_lines($b, qr/preflight check .* failed/), 0, 'no "preflight check ... failed" WARNING');
is(event_count($b, 'vip_preflight_failed'), '0', 'no vip_preflight_failed event');
is(metric($b, 'preflight_checks'), '', 'vip_metrics() has no preflight_checks row: no run reported');
is(metric($b, 'preflight_failed_checks'), '', 'nor a preflight_failed_checks row');

# The first backoff's floor is quiet(1 s) = 10 s: nothing runs again before.
my $log_at = -s $b->logfile;
sleep 5;
is(count_log_lines($b, qr/preflight deferred/), 1, 'not asked again within 5 s of the deferral (the backoff\'s floor is 10 s)');

# (b) The buckets off: the next run, at most 20 s (the first backoff's
# ceiling) after the deferral, is reported as any.
fake_control($fake, 'buckets', '{}');
ok($b->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM vip_metrics() WHERE metric = 'preflight_checks' AND value > 0"),
	'node-b\'s next preflight ran and is in vip_metrics()');
is(metric($b, 'preflight_failed_checks'), '1', 'one failed check');
ok($b->poll_query_until('postgres',
		q{SELECT count(*) = 1 FROM vip_events() WHERE event = 'vip_preflight_failed'
		  AND details ~ '^1 of \d+ preflight checks failed: vip_bound$'}),
	'a vip_preflight_failed event names it: vip_bound');
ok($b->wait_for_log(qr/WARNING:  pg_vip: preflight check vip_bound failed/, $log_at), 'and its WARNING is in the log');
# By the server's own clock (log_line_prefix %m): the deferral's LOG line
# to the reported run's WARNING, the backoff plus the run.
my $gap = log_time(qr/preflight check vip_bound failed/) - log_time(qr/preflight deferred/);
$gap += 86400 if $gap < 0;    # midnight between them
note(sprintf('the preflight was reported %.1f s after its deferral', $gap));
cmp_ok($gap, '>=', 10, 'not before the backoff\'s floor, 10 s');
cmp_ok($gap, '<', 25, 'within the first backoff\'s ceiling, 20 s, and the run');
is(count_log_lines($b, qr/preflight check .* failed/), 1, 'no other check failed (no permission row, as in a quiet account)');
is(count_log_lines($b, qr/preflight deferred/), 1, 'deferred only once');

$b->stop('immediate');
$a->stop('immediate');
done_testing();
