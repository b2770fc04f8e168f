# Bad credentials are reported and never logged; dry_run changes nothing;
# text from AWS reaches the notification command as data, never as shell.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use JSON::PP;
use PgVipTest;

# 1. Static credentials from the environment with a wrong secret.
{
	my %world = standard_world();
	$world{credentials} = [ { access_key => 'AKIDPGVIPTAPTEST1', secret => 'the-right/secret+1' } ];
	my $fake = start_fake_aws(%world);
	my $secret = 'wrong/Secret+Value-5e1f';
	my ($a) = start_pair($fake, primary_name => 'badcred', no_standby => 1,
		primary_extra => "log_min_messages = debug1\n");
	# start_pair cleared the environment; the server must be restarted with the keys.
	$a->stop;
	local $ENV{AWS_ACCESS_KEY_ID} = 'AKIDPGVIPTAPTEST1';
	local $ENV{AWS_SECRET_ACCESS_KEY} = $secret;
	$a->start;
	$a->poll_query_until('postgres', "SELECT last_error LIKE '%SignatureDoesNotMatch%' FROM vip_status()")
	  or diag(status_of($a, 'last_error'));
	is(status_of($a, 'state'), 'claiming', 'bad credentials: the node keeps claiming');
	like(status_of($a, 'last_error'), qr/SignatureDoesNotMatch: The request signature we calculated does not match/,
		'vip_status() shows the AWS error code and message');
	like($a->safe_psql('postgres', "SELECT string_agg(last_error, ' ') FROM vip_routes()"), qr/SignatureDoesNotMatch/,
		'vip_routes() shows it per table');
	is(route_target($fake, 'rtb-0a000001'), 'eni-0a00000a', 'nothing moved');
	$a->stop;
	my $log = slurp_file($a->logfile);
	like($log, qr/SignatureDoesNotMatch/, 'the server log names the error');
	unlike($log, qr/\Q$secret\E/, 'the secret appears nowhere in the server log');
	my $all = join('', map { -f $_ ? slurp_file($_) : '' } glob($a->data_dir . '/log/*'));
	unlike($all, qr/\Q$secret\E/, 'nor in any other log file');
}

# 2. dry_run: the decision is made and reported, nothing that changes AWS is sent.
{
	my $fake = start_fake_aws(standard_world());
	my ($a) = start_pair($fake, primary_name => 'dryrun', no_standby => 1, extra => "pg_vip.dry_run = on\n");
	ok(wait_for_status($a, 'state', 'dry_run'), 'dry_run: state dry_run');
	like($a->safe_psql('postgres', "SELECT details FROM vip_events() WHERE event = 'vip_claim'"),
		qr/dry run \(start as primary\): would point 1 route table at eni-0a00000a: rtb-0a000003; would write the fence tag on 3 route tables$/,
		'the event says what it would have done: only the table whose route is missing');
	sleep 2;
	is(scalar(@{ changing_requests_since($fake, 0) }), 0, 'no changing request reached the endpoint');
	ok(scalar(grep { $_->{service} eq 'ec2' } @{ fake_log($fake) }) > 0, 'reads did');
	$a->stop;
}

# 3. An error message from AWS carrying quotes and $(...) reaches the
#    notification command as one literal argument.
{
	my $fake = start_fake_aws(standard_world());
	my $dir = PostgreSQL::Test::Utils::tempdir();
	my $notify = "$FindBin::RealBin/../notify_to_file.sh";
	my $message = qq{it's "bad" \$(touch $dir/pwned1) `touch $dir/pwned2`; touch $dir/pwned3 ' ; touch $dir/pwned4 '};
	fake_control($fake, 'faults',
		JSON::PP->new->encode({ fail_next => { count => 100, status => 400, code => 'InvalidParameterValue',
					message => $message, actions => ['CreateRoute'] } }));
	my ($a) = start_pair($fake, primary_name => 'inject', no_standby => 1,
		extra => "pg_vip.event_notification_command = '$notify $dir/events.txt %e %s %d'\n"
		  . "pg_vip.event_notifications = 'vip_claim_failed'\n");
	my $deadline = time + 20;
	usleep(100_000) while time < $deadline && !(-f "$dir/events.txt" && slurp_file("$dir/events.txt") =~ /vip_claim_failed/);
	ok(-f "$dir/events.txt", 'the notification command ran');
	my ($line) = grep { /^vip_claim_failed\|0\|/ } split /\n/, (-f "$dir/events.txt" ? slurp_file("$dir/events.txt") : '');
	ok(defined $line, 'for vip_claim_failed, with success 0');
	ok(index($line // '', $message) >= 0, 'the AWS message arrived verbatim, quotes and $(...) included')
	  or diag($line);
	ok(!-e "$dir/pwned$_", "nothing in the message ran (pwned$_)") for 1 .. 4;
	unlike(slurp_file("$dir/events.txt"), qr/^vip_held/m, 'events not listed in pg_vip.event_notifications do not run it');
	$a->stop;
}

done_testing();
