// ISO 8601 times as IMDS (Expiration) and fence tags (at=) write them: any
// text an endpoint sends must end in a value or a typed error.
#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "core/error.hpp"

using namespace pg_vip;

TEST(Iso8601, ReadsWhatImdsWrites) {
  EXPECT_EQ(iso8601(parse_iso8601("2015-08-30T12:36:00Z")), "2015-08-30T12:36:00Z");
  EXPECT_EQ(iso8601(parse_iso8601("2026-11-25T19:00:00.123Z")), "2026-11-25T19:00:00Z");
}

// Found by the imds_credentials fuzz target: years far from now overflowed
// the conversion to system_clock (undefined behaviour, a garbage expiry).
TEST(Iso8601, YearsOutsideTheClocksRangeAreRefused) {
  for (const char *t : {"6015-08-30T12:36:00Z", "1013-11-25T19:00:00.123Z", "1969-12-31T23:59:59Z",
                        "2201-01-01T00:00:00Z", "-001-01-01T00:00:00Z", "2026-01-01T-1:00:00Z"})
    EXPECT_THROW(parse_iso8601(t), Error) << t;
  EXPECT_NO_THROW(parse_iso8601("2200-12-31T23:59:59Z"));
  EXPECT_NO_THROW(parse_iso8601("1970-01-01T00:00:00Z"));
}
