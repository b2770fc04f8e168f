# Runs the TAP test files given and prints, last, one line
#   tap totals: N passed, M failed, K skipped
# counting test assertions, where a file that died or broke its plan counts
# as one more failure; a skipped assertion, and a file skipped as a whole
# (skip_all: what it needs is not here), count as skipped, never as passed. It takes prove's -I (and -v), so it can stand in for
# prove under PGXS (scripts/test.sh does):
#   make check-tap PROVE="perl test/run_tap.pl"
# and prove's -j N: N files at once (each starts its own servers and its own
# endpoint, on ports of their own).
use strict;
use warnings;
use Getopt::Long qw(:config bundling no_ignore_case);
use TAP::Harness;

my @lib;
my $verbose = 0;
my $jobs = 1;
GetOptions('I=s' => \@lib, 'v|verbose' => \$verbose, 'j|jobs=i' => \$jobs)
  or die "usage: perl test/run_tap.pl [-I dir]... [-v] [-j N] test.pl...\n";

my $harness =
  TAP::Harness->new({ verbosity => $verbose, failures => 1, timer => 1, lib => \@lib, jobs => $jobs });
my $agg = $harness->runtests(@ARGV);
my $skipped = scalar $agg->skipped;
my $passed = scalar($agg->passed) - $skipped;
my $failed = scalar $agg->failed;
for my $file ($agg->descriptions) {
	my ($parser) = $agg->parsers($file);
	if ($parser->skip_all && !$parser->exit && !$parser->parse_errors) {
		$skipped++;
		next;
	}
	$failed++ if $parser->exit || $parser->parse_errors || ($parser->tests_run == 0);
}
print "tap totals: $passed passed, $failed failed, $skipped skipped\n";
exit($failed ? 1 : 0);
