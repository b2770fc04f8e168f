#include "http_types.hpp"

#include <strings.h>

#include <cctype>
#include <ctime>

#include "secret.hpp"

namespace pg_vip::http {

Header::~Header() {
  wipe(name);
  wipe(value);
}

const Header *find_header(const std::vector<Header> &headers, std::string_view name) {
  for (const auto &h : headers)
    if (h.name.size() == name.size() && strncasecmp(h.name.data(), name.data(), name.size()) == 0) return &h;
  return nullptr;
}

std::string uri_encode(std::string_view s, bool keep_slash) {
  static const char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

std::string uri_decode(std::string_view s) {
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && value(s[i + 1]) >= 0 && value(s[i + 2]) >= 0) {
      out += static_cast<char>(value(s[i + 1]) * 16 + value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace pg_vip::http

namespace pg_vip::http {

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view v) {
  // "Sun, 06 Nov 1994 08:49:37 GMT": fixed width, 29 bytes.
  static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  if (v.size() != 29 || v.substr(3, 2) != ", " || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' || v[19] != ':' ||
      v[22] != ':' || v.substr(25) != " GMT")
    return std::nullopt;
  bool day_known = false;
  for (const char *d : days) day_known |= v.substr(0, 3) == d;
  if (!day_known) return std::nullopt;
  auto number = [&](std::size_t at, std::size_t len, int &out) {
    out = 0;
    for (std::size_t i = at; i < at + len; ++i) {
      if (v[i] < '0' || v[i] > '9') return false;
      out = out * 10 + (v[i] - '0');
    }
    return true;
  };
  int mday, year, hour, minute, second, month = -1;
  for (int m = 0; m < 12; ++m)
    if (v.substr(8, 3) == months[m]) month = m;
  if (month < 0 || !number(5, 2, mday) || !number(12, 4, year) || !number(17, 2, hour) || !number(20, 2, minute) ||
      !number(23, 2, second))
    return std::nullopt;
  // system_clock counts nanoseconds in 64 bits: past 2262 it overflows, and no server's clock is there.
  if (mday < 1 || mday > 31 || year < 1970 || year > 2200 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month;
  tm.tm_mday = mday;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  std::time_t t = timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  // timegm rolls "31 Feb" over into March: a date that does not exist is refused.
  std::tm back{};
  if (!gmtime_r(&t, &back) || back.tm_mday != mday || back.tm_mon != month || back.tm_sec != second)
    return std::nullopt;
  return std::chrono::system_clock::from_time_t(t);
}

}  // namespace pg_vip::http
