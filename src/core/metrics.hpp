// What pg_vip counts, for vip_metrics(): claims, their failures and
// durations, repairs, fences, and every EC2 attempt by action and outcome.
// Plain, fixed-size and trivially copyable: it rides inside Status into
// shared memory, is copied there under a lock, and a restarted worker
// resumes from the copy its predecessor published. So the counters start at
// zero when the server starts (shared memory made anew), never when only
// the worker restarts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

#include "aws_error.hpp"
#include "cpp_only.hpp"

namespace pg_vip {

// How one EC2 attempt ended, in the five outcomes an alert tells apart.
enum class CallOutcome : uint8_t {
  Ok,           // an answer that is not an error (a DryRun's "would have succeeded" included)
  Throttled,    // RequestLimitExceeded and kin: the account's request rate
  ClientError,  // refused for what was asked or who asked: credentials, IAM, a missing or invalid resource
  ServerError,  // EC2 failed (5xx), or answered what could not be read
  Timeout,      // no HTTP answer at all: connect refused or timed out, TLS, a dropped connection
};
constexpr int kCallOutcomes = 5;
// "ok", "throttled", "client_error", "server_error", "timeout": the label values.
const char *to_string(CallOutcome outcome) noexcept;
CallOutcome outcome_of(const std::optional<aws::AwsError> &error) noexcept;

// The upper bounds (seconds) of the claim duration histogram's buckets; a
// last bucket, +Inf, takes the rest. From a promotion's single round trip
// (tens of milliseconds) to a claim retried through an EC2 outage.
constexpr double kClaimBuckets[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
constexpr int kClaimBucketBounds = static_cast<int>(std::size(kClaimBuckets));

// One EC2 action's counters.
struct ActionCounters {
  char action[40] = {};  // "" in a slot not used yet
  uint64_t calls[kCallOutcomes] = {};
  uint64_t retries = 0;  // attempts beyond a call's first
};
// Slots for EC2 actions, the last one "other": pg_vip calls a handful of
// actions, so the table never fills unless something unexpected is counted,
// and then the counts still add up.
constexpr int kActionSlots = 16;
constexpr char kOtherAction[] = "other";

struct Metrics {
  // Claims that ended with every route table held (route and fence tag read
  // back naming this node), one per vip_held or vip_repaired event: after a
  // promotion, at start as primary, when a fence lifted, a repair, or a
  // vip_claim(). The histogram counts the same claims, so its count is this
  // number; claims_total is rendered from it.
  uint64_t claim_buckets[kClaimBucketBounds + 1] = {};  // per bucket, not cumulative; the last is +Inf
  double claim_seconds_sum = 0;
  double last_claim_seconds = -1;  // < 0: no claim yet
  // Rounds of a claim that ended with some route table not held, fenced
  // aside (fences counts those): each retry of a lasting failure counts,
  // and so does a primary that cannot get ready to claim (credentials,
  // region, interface) at each attempt.
  uint64_t claim_failures = 0;
  uint64_t repairs = 0;  // claims that pointed back held tables found moved away (vip_repaired events)
  uint64_t fences = 0;   // times this node entered the fenced state (vip_fenced events)
  // The last preflight the worker ran: how many checks, how many failed (-1: none yet).
  int32_t preflight_checks = -1;
  int32_t preflight_failed_checks = -1;
  int32_t n_actions = 0;  // slots in use
  ActionCounters actions[kActionSlots];

  void count_claim(double seconds) noexcept;
  // One EC2 attempt: `attempt` counts from 1, so any above 1 is a retry.
  void count_attempt(std::string_view action, const std::optional<aws::AwsError> &error, int attempt) noexcept;
  void record_preflight(int checks, int failed) noexcept;

  uint64_t claims() const noexcept;
  // Claims that took at most kClaimBuckets[bucket] seconds (bucket ==
  // kClaimBucketBounds: all of them), as Prometheus' `le` buckets count.
  uint64_t claims_within(int bucket) const noexcept;
  // The counters of `action`, or null when it was never counted.
  const ActionCounters *find(std::string_view action) const noexcept;

 private:
  ActionCounters &slot(std::string_view action) noexcept;
};

static_assert(std::is_trivially_copyable_v<Metrics>, "copied into shared memory under a lock");
static_assert(sizeof(Metrics) <= 4096, "copied with the status under a lock: keep it small");

}  // namespace pg_vip
