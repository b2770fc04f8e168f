#!/usr/bin/perl
# Holds door.hpp's rule on the compiled code: an ereport(ERROR) in a
# PG_VIP_FUNCTION body (or a glue function it calls) longjmps over its frame,
# so no object with a non-trivial destructor may be alive there outside a
# door::run() callable. A function with such an object has cleanup code in
# its unwind tables: the compiler emits an LSDA for it (.cfi_lsda). Each file
# is compiled to assembly with the flags `make` uses; in it, only door::run's
# instances may have an LSDA (run is noinline: its callables' objects stay in
# its frame).
#
#   perl test/door_frames.pl [--pg-config PATH] [FILE.cpp ...]
# With no file: every src/glue/sql_*.cpp and src/glue/gucs.cpp. Prints one
# line per offending function and exits 1 if there is any; 2 if a file does
# not compile. Run from the top of the tree.
use strict;
use warnings;
use File::Temp qw(tempdir);
use Getopt::Long;

my $pg_config = $ENV{PG_CONFIG} // 'pg_config';
GetOptions('pg-config=s' => \$pg_config) or die "usage: $0 [--pg-config PATH] [FILE.cpp ...]\n";
my @files = @ARGV ? @ARGV : ((sort glob('src/glue/sql_*.cpp')), 'src/glue/gucs.cpp');
my $tmp = tempdir(CLEANUP => 1);
# Glue functions that use the core (and throw): their callers call them
# inside door::run, as their header says. ControllerConfig's implicit
# constructor is emitted out of line in gucs.cpp by newer compilers (g++ 14,
# PostgreSQL 17's chroot): only controller_config() constructs one there.
my @inside_run = ('pg_vip::gucs::controller_config()', 'pg_vip::gucs::role_settings()',
  'pg_vip::ControllerConfig::ControllerConfig()');

# The command make would compile src/glue/door.cpp with, as a template.
my ($template) = grep { /\s-c -o src\/glue\/door\.o src\/glue\/door\.cpp/ }
  split /\n/, `make -s -B -n PG_CONFIG='$pg_config' src/glue/door.o 2>/dev/null`;
die "cannot learn the compile command from make\n" unless $template;

my $status = 0;
for my $file (@files) {
  (my $asm = $file) =~ s{.*/}{};
  $asm = "$tmp/$asm.s";
  my $cmd = $template;
  $cmd =~ s{ -MMD -MP}{}g;
  $cmd =~ s{ -c -o src/glue/door\.o src/glue/door\.cpp}{ -S -o '$asm' '$file'};
  if (system("$cmd >&2") != 0) {
    print "$file: does not compile\n";
    $status = 2;
    next;
  }
  for my $function (functions_with_cleanup($asm)) {
    next if $function =~ /^bool pg_vip::door::run</;
    next if $function =~ /\{lambda\([^)]*\)#\d+\}::operator\(\)/;
    next if $function =~ /::~[\w:]+\(\)$/;
    next if grep { $function eq $_ } @inside_run;
    print "$file: $function keeps an object with a destructor where an ereport(ERROR) can jump over it\n";
    $status ||= 1;
  }
}
exit $status;

# The demangled names of the functions in `asm` that have an LSDA.
sub functions_with_cleanup {
  my ($asm) = @_;
  open(my $in, '<', $asm) or die "$asm: $!\n";
  my ($name, @found);
  while (<$in>) {
    $name = $1 if /^\s*\.type\s+([^,]+),\s*\@function/;
    push @found, $name if /^\s*\.cfi_lsda\b/ && defined $name;
  }
  close $in;
  my %seen;
  @found = grep { !$seen{$_}++ } @found;
  return () unless @found;
  my @names = split /\n/, `printf '%s\\n' @{[ join ' ', map { "'$_'" } @found ]} | c++filt`;
  return @names;
}
