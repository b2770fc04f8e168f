#include "api_budget.hpp"

#include <algorithm>
#include <cmath>

namespace pg_vip::aws {

namespace {

double seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

int RetryQuota::cost(const AwsError &e) noexcept { return e.kind == ErrorKind::Transport ? kTimeoutCost : kRetryCost; }

int RetryQuota::take(const AwsError &e, Urgency urgency) noexcept {
  const int c = cost(e);
  if (tokens_ < c && urgency == Urgency::Check) {
    ++refused_;
    return -1;
  }
  const int taken = std::min(c, tokens_);
  tokens_ -= taken;
  return taken;
}

void RetryQuota::succeeded(int taken) noexcept {
  tokens_ = std::min(kCapacity, tokens_ + (taken > 0 ? taken : kSuccessRefund));
}

void SendRate::refill(Time now) noexcept {
  if (now <= filled_) return;
  const double capacity = std::max(fill_, kBurst);
  tokens_ = std::min(capacity, tokens_ + seconds(now - filled_) * fill_);
  filled_ = now;
}

std::chrono::milliseconds SendRate::wait(Time now, int n) noexcept {
  if (!engaged_) return std::chrono::milliseconds(0);
  refill(now);
  if (tokens_ >= n) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(static_cast<long long>(std::ceil((n - tokens_) / fill_ * 1000.0)));
}

std::chrono::milliseconds SendRate::reserve(Time now, int n) noexcept {
  auto w = wait(now, n);
  // The debt stops at a second's worth: a claim that keeps failing must not
  // run up a debt its own verifying read (a check) would wait minutes for.
  if (engaged_) tokens_ = std::max(tokens_ - n, -std::max(fill_, 1.0));
  return w;
}

// The rate this node sends at: answers counted over windows of
// kMeasureSeconds, smoothed. Before the first window closes, the open
// window's count over a whole window (a burst is a burst).
void SendRate::measure(Time now) noexcept {
  if (!measuring_) {
    measuring_ = true;
    window_start_ = now;
  }
  window_count_ += 1;
  const double elapsed = seconds(now - window_start_);
  if (elapsed >= kMeasureSeconds) {
    measured_ = kSmoothing * (window_count_ / elapsed) + (1 - kSmoothing) * measured_;
    window_count_ = 0;
    window_start_ = now;
  }
}

double SendRate::cubic(Time now) const noexcept {
  const double t = seconds(now - throttled_at_);
  const double k = std::cbrt(last_max_ * (1 - kBeta) / kScale);
  return kScale * std::pow(t - k, 3) + last_max_;
}

void SendRate::answered(Time now, bool throttled) noexcept {
  measure(now);
  const double sending = std::max(measured_, window_count_ / kMeasureSeconds);
  if (throttled) {
    // The answers of one burst are one throttling event: cut once per
    // window, not once per answer (ten tables refused together would
    // otherwise cut the rate to 0.7^10 of itself).
    if (engaged_ && seconds(now - throttled_at_) < kMeasureSeconds) return;
    refill(now);
    const double base = engaged_ ? std::min(sending, fill_) : sending;
    last_max_ = std::max(base, kMinRate);
    throttled_at_ = now;
    if (!engaged_) {
      engaged_ = true;
      tokens_ = 0;
      filled_ = now;
    }
    fill_ = std::max(last_max_ * kBeta, kMinRate);
    return;
  }
  if (!engaged_) return;
  refill(now);
  // Grows back along the curve, but never past twice what this node sends:
  // a node that sends little has not shown the service takes more.
  fill_ = std::max(kMinRate, std::min(cubic(now), 2 * std::max(sending, kMinRate)));
}

}  // namespace pg_vip::aws
