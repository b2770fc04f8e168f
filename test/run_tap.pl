# Runs the TAP test files given and prints, last, one line
#   tap totals: N passed, M failed
# where a file that died or broke its plan counts as one more failure.
use strict;
use warnings;
use TAP::Harness;

my $harness = TAP::Harness->new({ verbosity => 0, failures => 1, timer => 1 });
my $agg = $harness->runtests(@ARGV);
my $passed = scalar $agg->passed;
my $failed = scalar $agg->failed;
for my $file ($agg->descriptions) {
	my ($parser) = $agg->parsers($file);
	$failed++ if $parser->exit || $parser->parse_errors || ($parser->tests_run == 0);
}
print "tap totals: $passed passed, $failed failed\n";
exit($failed ? 1 : 0);
