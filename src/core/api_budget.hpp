// A node's share of its AWS account's API budget. EC2 and Route 53 throttle
// per account and region, with a token bucket per action that every caller
// draws from: every node of every cluster, and Terraform, autoscaling and
// the console beside them. A node that retries as hard as it can during an
// outage spends the budget the other clusters' promotions need. This keeps
// on the client what the AWS SDKs' standard and adaptive retry modes keep:
//   - a retry quota: each retry takes tokens, each success gives some back;
//     once a node has failed enough, it stops retrying and lets the next
//     check try again, instead of amplifying the outage;
//   - a send rate: off until the service throttles this node, then cut on
//     every throttled answer and grown again (as TCP's CUBIC) while answers
//     come back; requests wait for it.
// Adapted to pg_vip: a claim (Urgency::Claim) is never refused by the
// quota and sends its first round trip at once (the promotion must not
// wait for a rate earned by reads); it waits for the rate between its
// retries. A check or a preflight (Urgency::Check) gives way: it sends
// nothing the rate does not allow yet, and retries only within the quota.
// Pure: time is given, never read.
#pragma once

#include <chrono>
#include <cstdint>

#include "aws_error.hpp"
#include "cpp_only.hpp"

namespace pg_vip::aws {

enum class Urgency {
  Claim,  // moves or fences the VIP: retried until its deadline, whatever the quota
  Check,  // reads, renewals, tidying, preflights: give way to claims
};

class RetryQuota {
 public:
  // The SDKs' standard mode: 500 tokens; a retry costs 5, or 10 after a
  // time-out (the service may be down: back off harder); a success returns
  // what its retry took, or 1 when it needed none.
  static constexpr int kCapacity = 500;
  static constexpr int kRetryCost = 5;
  static constexpr int kTimeoutCost = 10;
  static constexpr int kSuccessRefund = 1;

  static int cost(const AwsError &e) noexcept;
  // Takes the cost of retrying after `e`; returns what was taken, or -1
  // when a check's retry must not go (too few tokens: nothing taken). A
  // claim's retry always goes and takes what is there, up to its cost.
  int take(const AwsError &e, Urgency urgency) noexcept;
  // A call succeeded; `taken`: what its retries took (0: none).
  void succeeded(int taken) noexcept;
  int available() const noexcept { return tokens_; }
  // Retries refused (for the metrics and the simulation).
  uint64_t refused() const noexcept { return refused_; }

 private:
  int tokens_ = kCapacity;
  uint64_t refused_ = 0;
};

class SendRate {
 public:
  using Time = std::chrono::steady_clock::time_point;
  // CUBIC's constants as the SDKs use them: after a throttle the rate is
  // cut to kBeta of what was being sent, then grows back along a cubic
  // curve (scaled by kScale) that passes the rate throttled at.
  static constexpr double kBeta = 0.7;
  static constexpr double kScale = 0.4;
  static constexpr double kMinRate = 0.5;    // requests per second: never slower
  static constexpr double kSmoothing = 0.8;  // weight of the newest measured rate
  static constexpr double kMeasureSeconds = 0.5;
  // Tokens a quiet node saves up, at the least: a check's requests (a read,
  // the tag's renewal, old tags' deletion) go together, however slow the
  // rate; with one token the renewal after each read would wait for ever.
  static constexpr double kBurst = 3;

  // How long to wait before sending `n` requests at `now`; the tokens are
  // taken (going into debt when short, so the next requests wait longer;
  // never more than a second's worth of debt).
  // Zero until the service has throttled this node.
  std::chrono::milliseconds reserve(Time now, int n = 1) noexcept;
  // How long `n` requests would wait at `now`, taking nothing.
  std::chrono::milliseconds wait(Time now, int n = 1) noexcept;
  // Told of every answer: throttled or not.
  void answered(Time now, bool throttled) noexcept;

  bool engaged() const noexcept { return engaged_; }
  double rate() const noexcept { return fill_; }          // requests per second while engaged
  double measured() const noexcept { return measured_; }  // what was being sent

 private:
  void refill(Time now) noexcept;
  void measure(Time now) noexcept;
  double cubic(Time now) const noexcept;

  bool engaged_ = false;
  double fill_ = 0;    // tokens per second
  double tokens_ = 0;  // may go negative: a debt
  Time filled_{};
  // The measured send rate, over windows of kMeasureSeconds.
  double measured_ = 0;
  double window_count_ = 0;
  Time window_start_{};
  bool measuring_ = false;
  // The curve: the rate throttled at, and when.
  double last_max_ = 0;
  Time throttled_at_{};
};

// What a node keeps per service (EC2, Route 53): shared by all of its
// clients of that service, kept across checks.
struct ApiBudget {
  RetryQuota quota;
  SendRate rate;
};

}  // namespace pg_vip::aws
