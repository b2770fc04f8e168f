#include "clock.hpp"

#include <cstdio>

#include "error.hpp"

namespace pg_vip {

Clock::time_point parse_iso8601(const std::string &text) {
  struct tm tm = {};
  int y, mo, d, h, mi, s;
  char z = 0;
  // Accepts an optional fraction of seconds, then Z.
  int n = std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &z);
  if (n == 7 && z == '.') z = text.back();
  // Years outside 1970..2200 are refused: system_clock counts nanoseconds
  // in 64 bits (about 1678 to 2262), and a time from IMDS or a tag outside
  // that range would overflow the conversion (found by the fuzzer).
  if (n != 7 || z != 'Z' || y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
      mi > 59 || s < 0 || s > 60)
    throw Error("invalid timestamp \"" + text.substr(0, 40) + "\"",
                "Expected an ISO 8601 UTC time such as 2015-08-30T12:36:00Z.");
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return Clock::time_point(std::chrono::seconds(timegm(&tm)));
}

static std::string format_utc(Clock::time_point t, const char *format) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  struct tm tm;
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

std::string amz_date(Clock::time_point t) { return format_utc(t, "%Y%m%dT%H%M%SZ"); }
std::string amz_day(Clock::time_point t) { return format_utc(t, "%Y%m%d"); }
std::string iso8601(Clock::time_point t) { return format_utc(t, "%Y-%m-%dT%H:%M:%SZ"); }

}  // namespace pg_vip
