// When the worker runs its own preflight. Each start and each reload probes
// every target with a DryRun of each changing request a claim would send
// (four per route table), and EC2 counts a DryRun against the same bucket
// as the real request. When a zone comes back, a third of a fleet's nodes
// start at once; their preflights, sent together, would spend the changing
// buckets that the zone's promotions may still need. So the worker's
// preflight:
//   - runs at a random moment within spread() of being asked, not at once;
//   - waits while AWS throttles this node (a throttled answer less than
//     quiet() ago);
//   - when AWS throttled the preflight itself, is not reported (its failed
//     rows would be the account's load, not this node's configuration) and
//     is asked again after a backoff that doubles, up to ten minutes.
// vip_preflight() in a session is the DBA's own call and runs at once.
// Pure: time and randomness are given.
#pragma once

#include <chrono>
#include <random>

#include "judgement.hpp"
#include "cpp_only.hpp"

namespace pg_vip {

class PreflightPacing {
 public:
  static constexpr std::chrono::milliseconds kMaxSpread{60000};
  static constexpr std::chrono::milliseconds kMaxBackoff{600000};

  // Three checks' worth (a node's own cadence), at most a minute.
  static std::chrono::milliseconds spread(std::chrono::milliseconds check_interval);
  // Two checks' worth, at least ten seconds.
  static std::chrono::milliseconds quiet(std::chrono::milliseconds check_interval);

  // Asked (at start, after a reload): due at a random moment within spread().
  void ask(SteadyTime now, std::chrono::milliseconds check_interval, std::mt19937_64 &rng);
  bool asked() const noexcept { return asked_; }
  // How long until it may run (zero: now); `throttled_at`: when AWS last
  // throttled this node (zero: never). Meaningless when not asked.
  std::chrono::milliseconds wait(SteadyTime now, SteadyTime throttled_at) const noexcept;
  bool due(SteadyTime now, SteadyTime throttled_at) const noexcept {
    return asked_ && wait(now, throttled_at).count() == 0;
  }
  // It ran and AWS throttled some of its requests: asked again after the
  // backoff (doubling, with full jitter above its floor).
  void throttled(SteadyTime now, std::mt19937_64 &rng);
  // It ran to its end (or cannot run: nothing configured).
  void done() noexcept;
  int backoffs() const noexcept { return backoffs_; }

 private:
  bool asked_ = false;
  SteadyTime not_before_{};
  std::chrono::milliseconds check_interval_{10000};
  int backoffs_ = 0;
};

}  // namespace pg_vip
