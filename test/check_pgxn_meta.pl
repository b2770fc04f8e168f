#!/usr/bin/perl
# Checks a PGXN archive (make dist) as PGXN would take it: its META.json
# against the PGXN Meta Spec 1.0.0 (https://pgxn.org/spec/), and against the
# archive itself: every file it names is there, every path lies under
# <name>-<version>/, and the version agrees with pg_vip.control's
# default_version. Debian ships no PGXN validator (PGXN::Meta::Validator),
# so the spec's rules are written out here.
#   perl test/check_pgxn_meta.pl pg_vip-0.2.0.zip   exits 1, naming each fault
#   perl test/check_pgxn_meta.pl --self-test        shows that each rule can fail
use strict;
use warnings;
use JSON::PP;

# The spec's version: Semantic Versioning, with the pre-release part written
# either as SemVer 1.0.0 did (1.0.0beta1) or as 2.0.0 does (1.0.0-beta.1).
my $semver = qr/^(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)(?:-?[0-9A-Za-z][0-9A-Za-z.-]*)?$/;
# A term: at least two characters, no slash, backslash, control character or whitespace.
my $term = qr/^[^\/\\\s\p{Cc}]{2,}$/;
my %licenses = map { $_ => 1 } qw(agpl_3 apache_1_1 apache_2_0 artistic_1 artistic_2 bsd freebsd
  gfdl_1_2 gfdl_1_3 gpl_1 gpl_2 gpl_3 lgpl_2_1 lgpl_3_0 mit mozilla_1_0 mozilla_1_1 openssl perl_5
  postgresql qpl_1_0 ssleay sun zlib open_source restricted unrestricted unknown);
my %required = map { $_ => 1 } qw(name abstract maintainer version license provides meta-spec);
my %optional = map { $_ => 1 } qw(description generated_by tags no_index prereqs release_status resources);
my %phases = map { $_ => 1 } qw(configure build test runtime develop);
my %relations = map { $_ => 1 } qw(requires recommends suggests conflicts);
my %resources = map { $_ => 1 } qw(homepage bugtracker repository);

sub is_string { my ($v) = @_; return defined $v && !ref $v && $v ne '' }
sub custom_key { return $_[0] =~ /^[xX]_/ }

# A version range: "0", or comparisons joined by commas.
sub version_range_ok {
	my ($range) = @_;
	return 0 unless is_string($range);
	return 1 if $range eq '0';
	for my $part (split /\s*,\s*/, $range) {
		return 0 unless $part =~ /^\s*(?:(?:==|!=|>=|<=|>|<)\s*)?(\S+)\s*$/ && $1 =~ $semver;
	}
	return 1;
}

# The faults of $meta (a decoded META.json), given the archive's file list
# (paths as they are in the archive) and its pg_vip.control text.
sub faults {
	my ($meta, $files, $control) = @_;
	my @f;
	return ('META.json is not a JSON object') unless ref $meta eq 'HASH';
	for my $key (sort keys %required) {
		push @f, "required key \"$key\" is missing" unless exists $meta->{$key};
	}
	for my $key (sort keys %$meta) {
		push @f, "unknown key \"$key\" (the spec's keys, or x_ for custom ones)"
		  unless $required{$key} || $optional{$key} || custom_key($key);
	}
	push @f, 'name must be a term (two characters or more, no slash, backslash or whitespace)'
	  if exists $meta->{name} && !(is_string($meta->{name}) && $meta->{name} =~ $term);
	push @f, 'abstract must be a non-empty string' if exists $meta->{abstract} && !is_string($meta->{abstract});
	push @f, "version \"" . ($meta->{version} // '') . "\" is not a semantic version"
	  if exists $meta->{version} && !(is_string($meta->{version}) && $meta->{version} =~ $semver);
	if (exists $meta->{maintainer}) {
		my $m = $meta->{maintainer};
		push @f, 'maintainer must be a string or a non-empty list of strings'
		  unless is_string($m) || (ref $m eq 'ARRAY' && @$m && !grep { !is_string($_) } @$m);
	}
	if (exists $meta->{license}) {
		my $l = $meta->{license};
		my @names = ref $l eq 'ARRAY' ? @$l : ref $l eq 'HASH' ? () : ($l);
		if (ref $l eq 'HASH') {
			push @f, 'license map must name each license with a URL'
			  unless %$l && !grep { !is_string($l->{$_}) } keys %$l;
		} elsif (!@names || grep { !is_string($_) || !$licenses{$_} } @names) {
			push @f, "license must be one of the spec's names (e.g. postgresql), a list of them, or a map of names to URLs";
		}
	}
	if (exists $meta->{'meta-spec'}) {
		my $ms = $meta->{'meta-spec'};
		push @f, 'meta-spec.version must be "1.0.0"'
		  unless ref $ms eq 'HASH' && is_string($ms->{version}) && $ms->{version} eq '1.0.0';
	}
	if (exists $meta->{provides}) {
		my $p = $meta->{provides};
		if (ref $p ne 'HASH' || !%$p) {
			push @f, 'provides must map at least one extension name to its file and version';
		} else {
			for my $ext (sort keys %$p) {
				my $e = $p->{$ext};
				push @f, "provides: \"$ext\" is not a term" unless $ext =~ $term;
				if (ref $e ne 'HASH') { push @f, "provides.$ext must be an object"; next; }
				push @f, "provides.$ext.file is missing" unless is_string($e->{file});
				push @f, "provides.$ext.version is missing or not a semantic version"
				  unless is_string($e->{version}) && $e->{version} =~ $semver;
				for my $k (sort keys %$e) {
					push @f, "provides.$ext: unknown key \"$k\""
					  unless $k =~ /^(?:file|version|abstract|docfile)$/ || custom_key($k);
				}
			}
		}
	}
	if (exists $meta->{tags}) {
		my $t = $meta->{tags};
		push @f, 'tags must be a list of terms up to 255 characters (no slash or backslash)'
		  unless ref $t eq 'ARRAY' && !grep { !is_string($_) || length($_) > 255 || m{[/\\\p{Cc}]} } @$t;
	}
	if (exists $meta->{release_status}) {
		push @f, 'release_status must be stable, testing or unstable'
		  unless is_string($meta->{release_status}) && $meta->{release_status} =~ /^(?:stable|testing|unstable)$/;
	}
	if (exists $meta->{resources}) {
		my $r = $meta->{resources};
		push @f, 'resources must be an object of homepage, bugtracker, repository'
		  unless ref $r eq 'HASH' && !grep { !$resources{$_} && !custom_key($_) } keys %$r;
	}
	if (exists $meta->{prereqs}) {
		my $pr = $meta->{prereqs};
		if (ref $pr ne 'HASH') {
			push @f, 'prereqs must be an object of phases';
		} else {
			for my $phase (sort keys %$pr) {
				if (!$phases{$phase} && !custom_key($phase)) { push @f, "prereqs: unknown phase \"$phase\""; next; }
				my $rels = $pr->{$phase};
				if (ref $rels ne 'HASH') { push @f, "prereqs.$phase must be an object"; next; }
				for my $rel (sort keys %$rels) {
					if (!$relations{$rel} && !custom_key($rel)) {
						push @f, "prereqs.$phase: unknown relationship \"$rel\"";
						next;
					}
					my $deps = $rels->{$rel};
					if (ref $deps ne 'HASH') { push @f, "prereqs.$phase.$rel must be an object"; next; }
					for my $dep (sort keys %$deps) {
						push @f, "prereqs.$phase.$rel.$dep: \"" . ($deps->{$dep} // '') . "\" is not a version range"
						  unless version_range_ok($deps->{$dep});
					}
				}
			}
		}
	}
	return @f if @f;

	# Against the archive: PGXN unpacks it into <name>-<version>/.
	my $prefix = "$meta->{name}-$meta->{version}/";
	my %in = map { $_ => 1 } @$files;
	my @outside = grep { index($_, $prefix) != 0 } @$files;
	push @f, "the archive holds paths outside $prefix (e.g. $outside[0])" if @outside;
	push @f, "the archive has no ${prefix}META.json" unless $in{"${prefix}META.json"};
	for my $ext (sort keys %{ $meta->{provides} }) {
		for my $k (qw(file docfile)) {
			my $path = $meta->{provides}{$ext}{$k};
			push @f, "provides.$ext.$k \"$path\" is not in the archive"
			  if defined $path && !$in{"$prefix$path"};
		}
	}
	my ($default) = ($control // '') =~ /^\s*default_version\s*=\s*'([^']*)'/m;
	if (!defined $default) {
		push @f, "the archive's pg_vip.control names no default_version";
	} else {
		push @f, "version $meta->{version} differs from pg_vip.control's default_version $default"
		  if $meta->{version} ne $default;
		for my $ext (sort keys %{ $meta->{provides} }) {
			my $v = $meta->{provides}{$ext}{version};
			push @f, "provides.$ext.version $v differs from pg_vip.control's default_version $default" if $v ne $default;
		}
	}
	return @f;
}

sub unzip_lines {
	my @cmd = @_;
	open(my $fh, '-|', @cmd) or die "cannot run $cmd[0]: $!\n";
	local $/;
	my $out = <$fh>;
	close $fh or die "@cmd failed (is unzip installed?)\n";
	return $out;
}

sub check_archive {
	my ($zip) = @_;
	die "$zip: no such archive\n" unless -f $zip;
	my @files = grep { $_ ne '' && !m{/$} } split /\n/, unzip_lines('unzip', '-Z1', $zip);
	my @metas = grep { m{^[^/]+/META\.json$} } @files;
	die "$zip: no META.json at the top of the archive's directory\n" unless @metas == 1;
	my ($top) = $metas[0] =~ m{^([^/]+/)};
	my $meta = eval { JSON::PP->new->decode(unzip_lines('unzip', '-p', $zip, $metas[0])) };
	die "$zip: $metas[0] is not valid JSON: $@" unless defined $meta;
	my $control = grep({ $_ eq "${top}pg_vip.control" } @files) ? unzip_lines('unzip', '-p', $zip, "${top}pg_vip.control") : undef;
	my @f = faults($meta, \@files, $control);
	if (@f) {
		print STDERR "$zip: META.json fails the PGXN Meta Spec or disagrees with the archive:\n";
		print STDERR "  - $_\n" for @f;
		return 0;
	}
	printf "%s: META.json valid (PGXN Meta Spec 1.0.0); %s %s, %d files under %s\n",
	  $zip, $meta->{name}, $meta->{version}, scalar @files, $top;
	return 1;
}

# Each rule, broken once in an otherwise valid META.json: the check must
# name the fault. A check that passed everything would fail here.
sub self_test {
	my $good = {
		name => 'pg_vip', abstract => 'a', version => '1.2.3', maintainer => ['m'], license => 'postgresql',
		provides => { pg_vip => { file => 'pg_vip.sql', version => '1.2.3', docfile => 'README.md' } },
		prereqs => { runtime => { requires => { PostgreSQL => '>= 15.0.0, < 19.0.0' } } },
		tags => ['aws'], 'meta-spec' => { version => '1.0.0' },
	};
	my @files = map { "pg_vip-1.2.3/$_" } qw(META.json pg_vip.sql README.md pg_vip.control);
	my $control = "default_version = '1.2.3'\n";
	my $copy = sub { JSON::PP->new->decode(JSON::PP->new->encode($good)) };
	my @cases = (
		['no name', sub { delete $_[0]{name} }, qr/"name" is missing/],
		['a name with a space', sub { $_[0]{name} = 'pg vip' }, qr/name must be a term/],
		['no provides', sub { delete $_[0]{provides} }, qr/"provides" is missing/],
		['a version not semver', sub { $_[0]{version} = '1.2' }, qr/not a semantic version/],
		['an unknown license', sub { $_[0]{license} = 'postgres' }, qr/license must be/],
		['meta-spec 2.0.0', sub { $_[0]{'meta-spec'}{version} = '2.0.0' }, qr/meta-spec.version/],
		['provides without file', sub { delete $_[0]{provides}{pg_vip}{file} }, qr/file is missing/],
		['an unknown top-level key', sub { $_[0]{homepage} = 'x' }, qr/unknown key "homepage"/],
		['a bad version range', sub { $_[0]{prereqs}{runtime}{requires}{PostgreSQL} = '>= 15' }, qr/not a version range/],
		['a file not in the archive', sub { $_[0]{provides}{pg_vip}{file} = 'sql/pg_vip.sql' }, qr/is not in the archive/],
		['a version the control file does not have', sub { $_[0]{version} = '1.2.4' }, qr/differs from pg_vip.control/],
		['provides a version the control file does not have',
			sub { $_[0]{provides}{pg_vip}{version} = '1.2.4' }, qr/provides.pg_vip.version 1.2.4 differs/],
		['an archive directory of another version', sub { $_[0]{version} = $_[0]{provides}{pg_vip}{version} = '1.2.4'; },
			qr/paths outside pg_vip-1.2.4\//],
	);
	my $failures = 0;
	my @ok = faults($copy->(), \@files, $control);
	if (@ok) { print "not ok - the valid META.json is refused: @ok\n"; $failures++; }
	else { print "ok - a valid META.json passes\n"; }
	for my $case (@cases) {
		my ($what, $break, $expect) = @$case;
		my $meta = $copy->();
		$break->($meta);
		my @f = faults($meta, \@files, $control);
		if (grep { $_ =~ $expect } @f) { print "ok - refused: $what\n"; }
		else { print "not ok - not refused as expected: $what (got: @f)\n"; $failures++; }
	}
	printf "check_pgxn_meta self-test: %d passed, %d failed\n", @cases + 1 - $failures, $failures;
	return $failures == 0;
}

if (@ARGV == 1 && $ARGV[0] eq '--self-test') {
	exit(self_test() ? 0 : 1);
}
die "usage: $0 ARCHIVE.zip | --self-test\n" unless @ARGV == 1;
exit(check_archive($ARGV[0]) ? 0 : 1);
