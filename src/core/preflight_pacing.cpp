#include "preflight_pacing.hpp"

#include <algorithm>

namespace pg_vip {

using std::chrono::milliseconds;

milliseconds PreflightPacing::spread(milliseconds check_interval) {
  return std::clamp(check_interval * 3, milliseconds(1), kMaxSpread);
}

milliseconds PreflightPacing::quiet(milliseconds check_interval) {
  return std::max(check_interval * 2, milliseconds(10000));
}

void PreflightPacing::ask(SteadyTime now, milliseconds check_interval, std::mt19937_64 &rng) {
  check_interval_ = check_interval;
  std::uniform_int_distribution<long long> at(0, spread(check_interval).count());
  // A reload while a backoff runs keeps the later moment.
  SteadyTime when = now + milliseconds(at(rng));
  not_before_ = asked_ ? std::max(not_before_, when) : when;
  asked_ = true;
}

milliseconds PreflightPacing::wait(SteadyTime now, SteadyTime throttled_at) const noexcept {
  SteadyTime until = not_before_;
  if (throttled_at != SteadyTime{}) until = std::max(until, throttled_at + quiet(check_interval_));
  return until <= now ? milliseconds(0) : std::chrono::ceil<milliseconds>(until - now);
}

void PreflightPacing::throttled(SteadyTime now, std::mt19937_64 &rng) {
  ++backoffs_;
  const milliseconds floor = quiet(check_interval_);
  const milliseconds ceiling = std::min<milliseconds>(kMaxBackoff, floor * (1LL << std::min(backoffs_, 10)));
  std::uniform_int_distribution<long long> pick(floor.count(), std::max(floor, ceiling).count());
  not_before_ = now + milliseconds(pick(rng));
  asked_ = true;
}

void PreflightPacing::done() noexcept {
  asked_ = false;
  backoffs_ = 0;
}

}  // namespace pg_vip
