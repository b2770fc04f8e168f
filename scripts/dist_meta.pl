#!/usr/bin/perl
# The META.json that `make dist` puts in the PGXN archive: the tree's
# META.json with its PostgreSQL claim made from what the test command
# (scripts/test.sh) recorded, so the archive claims exactly the versions
# that passed, on the commit archived.
#   perl scripts/dist_meta.pl RECORD META.json COMMIT   prints the META.json
#   perl scripts/dist_meta.pl --self-test               each rule shown to hold
#
# RECORD is the file scripts/test.sh writes at the end of a whole run:
#   commit <sha of HEAD when the run began>
#   clean yes|no          (no: tracked files had changes not committed)
#   postgresql N passed P failed F skipped S
# A version passed when it ran something and nothing failed; a version whose
# chroot could not run (only skipped) was not tested. The claim:
#   prereqs.runtime.requires.PostgreSQL   ">= MIN.0.0, < MAX+1.0.0"
#   prereqs.runtime.conflicts.PostgreSQL  the majors between them that did
#                                         not pass (16: Debian has none), as
#                                         one range; PGXN's version ranges
#                                         can exclude no more than that
#   x_postgresql_tested                   the majors that passed
use strict;
use warnings;
use JSON::PP;

sub slurp {
	my ($path) = @_;
	open(my $fh, '<', $path) or die "dist_meta: cannot read $path: $!\n";
	local $/;
	return <$fh>;
}

# Parses the record's text; dies naming what is wrong.
sub parse_record {
	my ($text) = @_;
	my (%r, %versions);
	for my $line (split /\n/, $text) {
		next if $line =~ /^\s*(#|$)/;
		if ($line =~ /^commit ([0-9a-f]{40})$/) { $r{commit} = $1; }
		elsif ($line =~ /^clean (yes|no)$/) { $r{clean} = $1; }
		elsif ($line =~ /^postgresql ([1-9][0-9]*) passed ([0-9]+) failed ([0-9]+) skipped ([0-9]+)$/) {
			$versions{$1} = { passed => $2, failed => $3, skipped => $4 };
		} else {
			die "dist_meta: the test record has a line it does not know: \"$line\"\n";
		}
	}
	die "dist_meta: the test record names no commit\n" unless $r{commit};
	die "dist_meta: the test record does not say whether the tree was clean\n" unless $r{clean};
	$r{versions} = \%versions;
	return \%r;
}

# The majors that passed, ascending.
sub passed_versions {
	my ($record) = @_;
	my $v = $record->{versions};
	return sort { $a <=> $b } grep { $v->{$_}{failed} == 0 && $v->{$_}{passed} > 0 } keys %$v;
}

# The META.json hash with its PostgreSQL claim made from @passed.
sub claim {
	my ($meta, @passed) = @_;
	die "dist_meta: no PostgreSQL version passed: nothing can be claimed\n" unless @passed;
	my ($min, $max) = ($passed[0], $passed[-1]);
	my %ok = map { $_ => 1 } @passed;
	my @gap = grep { !$ok{$_} } $min .. $max;
	for my $i (1 .. $#gap) {
		die "dist_meta: the versions not tested between $min and $max (@gap) are not one range, "
		  . "which PGXN's version ranges cannot exclude\n"
		  if $gap[$i] != $gap[ $i - 1 ] + 1;
	}
	my $runtime = $meta->{prereqs}{runtime} //= {};
	$runtime->{requires}{PostgreSQL} = ">= $min.0.0, < " . ($max + 1) . ".0.0";
	if (@gap) {
		$runtime->{conflicts}{PostgreSQL} = ">= $gap[0].0.0, < " . ($gap[-1] + 1) . ".0.0";
	} else {
		delete $runtime->{conflicts}{PostgreSQL};
		delete $runtime->{conflicts} unless %{ $runtime->{conflicts} // {} };
	}
	$meta->{x_postgresql_tested} = [ map {"$_"} @passed ];
	return $meta;
}

sub encode { return JSON::PP->new->canonical->indent->indent_length(3)->space_after->encode($_[0]) }

sub self_test {
	my $failures = 0;
	my $ok = sub {
		my ($cond, $what) = @_;
		print(($cond ? 'ok' : 'not ok') . " - $what\n");
		$failures++ unless $cond;
	};
	my $sha = 'a' x 40;
	my $rec = parse_record("commit $sha\nclean yes\npostgresql 15 passed 10 failed 0 skipped 1\n"
		  . "postgresql 17 passed 5 failed 0 skipped 0\npostgresql 18 passed 5 failed 0 skipped 0\n");
	my $m = claim({ prereqs => {} }, passed_versions($rec));
	$ok->($m->{prereqs}{runtime}{requires}{PostgreSQL} eq '>= 15.0.0, < 19.0.0', '15, 17, 18: requires 15 to 18');
	$ok->(($m->{prereqs}{runtime}{conflicts}{PostgreSQL} // '') eq '>= 16.0.0, < 17.0.0', '16, not tested, is excluded');
	$ok->(join(',', @{ $m->{x_postgresql_tested} }) eq '15,17,18', 'the tested list is 15, 17, 18');
	$rec->{versions}{18}{failed} = 1;
	$m = claim({ prereqs => {} }, passed_versions($rec));
	$ok->($m->{prereqs}{runtime}{requires}{PostgreSQL} eq '>= 15.0.0, < 18.0.0', 'a failed 18 is not claimed');
	$rec->{versions}{18} = { passed => 0, failed => 0, skipped => 1 };
	$m = claim({ prereqs => {} }, passed_versions($rec));
	$ok->($m->{prereqs}{runtime}{requires}{PostgreSQL} eq '>= 15.0.0, < 18.0.0', 'a skipped 18 is not claimed');
	$rec->{versions}{18} = { passed => 5, failed => 0, skipped => 0 };
	$rec->{versions}{17}{failed} = 2;
	$m = claim({ prereqs => {} }, passed_versions($rec));
	$ok->(($m->{prereqs}{runtime}{conflicts}{PostgreSQL} // '') eq '>= 16.0.0, < 18.0.0', 'a failed 17 joins 16 in the conflicts');
	$m = claim({ prereqs => { runtime => { conflicts => { PostgreSQL => '>= 16.0.0, < 17.0.0' } } } }, 15, 16, 17);
	$ok->(!exists $m->{prereqs}{runtime}{conflicts}, 'no gap: no conflicts left from before');
	$ok->(!eval { claim({}, 15, 17, 19); 1 } && $@ =~ /not one range/, 'two gaps are refused');
	$ok->(!eval { claim({}); 1 } && $@ =~ /no PostgreSQL version passed/, 'nothing passed is refused');
	$ok->(!eval { parse_record("clean yes\n"); 1 } && $@ =~ /no commit/, 'a record without its commit is refused');
	$ok->(!eval { parse_record("commit $sha\nclean yes\npostgresql 17 ok\n"); 1 } && $@ =~ /does not know/,
		'a line it does not know is refused');
	my $tree = eval { JSON::PP->new->decode(slurp('META.json')) };
	if ($tree) {
		my $again = claim(JSON::PP->new->decode(encode($tree)), @{ $tree->{x_postgresql_tested} // [] });
		$ok->(encode($again) eq slurp('META.json'), "the tree's META.json is what its own x_postgresql_tested makes, "
			  . 'as this script writes it');
	}
	printf "dist_meta self-test: %d failed\n", $failures;
	return $failures == 0;
}

if (@ARGV == 1 && $ARGV[0] eq '--self-test') {
	exit(self_test() ? 0 : 1);
}
die "usage: $0 RECORD META.json COMMIT | --self-test\n" unless @ARGV == 3;
my ($record_path, $meta_path, $commit) = @ARGV;
-f $record_path
  or die "dist_meta: no test record ($record_path): make dist claims the PostgreSQL versions that passed, "
  . "so run the test command first (bash scripts/test.sh, as root), on this commit\n";
my $record = parse_record(slurp($record_path));
$record->{commit} eq $commit
  or die "dist_meta: the test record is of commit $record->{commit}, not HEAD ($commit): "
  . "run the test command again on this commit\n";
$record->{clean} eq 'yes'
  or die "dist_meta: the test run had changes not committed: what it tested is not HEAD; commit, then run it again\n";
my $meta = JSON::PP->new->decode(slurp($meta_path));
print encode(claim($meta, passed_versions($record)));
