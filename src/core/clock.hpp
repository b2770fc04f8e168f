// The wall clock, injectable: signatures carry the time, and tests sign at
// the test suite's fixed timestamp or move time forward to expire tokens.
#pragma once

#include <chrono>
#include <ctime>
#include <string>

#include "cpp_only.hpp"

namespace pg_vip {

class Clock {
 public:
  using time_point = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point now() const { return std::chrono::system_clock::now(); }
};

class FixedClock : public Clock {
 public:
  explicit FixedClock(time_point t) : t_(t) {}
  time_point now() const override { return t_; }
  void set(time_point t) { t_ = t; }
  void advance(std::chrono::seconds s) { t_ += s; }

 private:
  time_point t_;
};

// "2015-08-30T12:36:00Z" (as in IMDS's Expiration) to a time point; throws Error.
Clock::time_point parse_iso8601(const std::string &text);
// 20150830T123600Z and 20150830, as SigV4 writes them.
std::string amz_date(Clock::time_point t);
// 2015-08-30T12:36:00Z
std::string iso8601(Clock::time_point t);
std::string amz_day(Clock::time_point t);

}  // namespace pg_vip
