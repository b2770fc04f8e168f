# door.hpp's rule, held on the compiled code: in the files of the SQL entry
# points no function but door::run (and its callables) keeps an object with a
# destructor where an ereport(ERROR) could longjmp over it. The check must
# also catch a body that breaks the rule (a fixture), or it proves nothing.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use Test::More;

my $top = "$FindBin::RealBin/../..";
chdir $top or die "$top: $!";
my $pg_config = $ENV{PG_CONFIG} // 'pg_config';

my $out = `perl test/door_frames.pl --pg-config '$pg_config' 2>&1`;
is($? >> 8, 0, "no SQL entry point keeps a C++ object over an ereport(ERROR)") or diag($out);

$out = `perl test/door_frames.pl --pg-config '$pg_config' test/door_frames_fixture.cpp 2>&1`;
is($? >> 8, 1, 'a body with a std::string alive over an ereport(ERROR) is refused') or diag($out);
like($out, qr/door_frames_fixture_impl/, 'the refusal names the body');

done_testing();
