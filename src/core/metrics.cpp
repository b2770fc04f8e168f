#include "metrics.hpp"

#include <cmath>
#include <cstring>

namespace pg_vip {

const char *to_string(CallOutcome outcome) noexcept {
  switch (outcome) {
    case CallOutcome::Ok: return "ok";
    case CallOutcome::Throttled: return "throttled";
    case CallOutcome::ClientError: return "client_error";
    case CallOutcome::ServerError: return "server_error";
    case CallOutcome::Timeout: return "timeout";
  }
  return "unknown";
}

// By what a DBA would do about it: wait (throttled), fix pg_vip's
// credentials, IAM policy or settings (client_error), wait for EC2
// (server_error), look at the network path to EC2 (timeout). A refused
// connection counts as a timeout: both mean no answer from EC2 at all.
CallOutcome outcome_of(const std::optional<aws::AwsError> &error) noexcept {
  if (!error || error->dry_run_ok()) return CallOutcome::Ok;
  switch (error->kind) {
    case aws::ErrorKind::Transport: return CallOutcome::Timeout;
    case aws::ErrorKind::Throttled: return CallOutcome::Throttled;
    case aws::ErrorKind::ServerError:
    // An answer that cannot be read came from EC2's side of the connection
    // (or a proxy on the way), not from what pg_vip asked.
    case aws::ErrorKind::Malformed: return CallOutcome::ServerError;
    case aws::ErrorKind::ExpiredToken:
    case aws::ErrorKind::Authentication:  // no credentials at all too (NoCredentials)
    case aws::ErrorKind::Authorization:
    case aws::ErrorKind::NotFound:
    case aws::ErrorKind::Invalid:
    // Another node's compare-and-swap went first: answered, and refused.
    case aws::ErrorKind::Conflict: return CallOutcome::ClientError;
  }
  return CallOutcome::ClientError;
}

void Metrics::count_claim(double seconds) noexcept {
  if (!(seconds >= 0)) seconds = 0;  // NaN too: a duration the clock could not give is not a negative one
  int bucket = 0;
  while (bucket < kClaimBucketBounds && seconds > kClaimBuckets[bucket]) ++bucket;
  ++claim_buckets[bucket];
  claim_seconds_sum += seconds;
  last_claim_seconds = seconds;
}

ActionCounters &Metrics::slot(std::string_view action) noexcept {
  if (n_actions < 0 || n_actions > kActionSlots - 1) n_actions = kActionSlots - 1;  // never past the named slots
  for (int i = 0; i < n_actions; ++i)
    if (action == actions[i].action) return actions[i];
  ActionCounters &other = actions[kActionSlots - 1];
  // A name that would be cut is counted as other rather than under a wrong name.
  if (action.empty() || action.size() >= sizeof other.action || n_actions >= kActionSlots - 1) {
    if (other.action[0] == '\0') std::memcpy(other.action, kOtherAction, sizeof kOtherAction);
    return other;
  }
  ActionCounters &s = actions[n_actions++];
  std::memcpy(s.action, action.data(), action.size());
  s.action[action.size()] = '\0';
  return s;
}

void Metrics::count_attempt(std::string_view action, const std::optional<aws::AwsError> &error, int attempt) noexcept {
  // A request pg_vip cut short itself (a promotion, a shutdown) says nothing
  // of EC2: it is no outcome to count.
  if (error && error->cut_short()) return;
  ActionCounters &s = slot(action);
  ++s.calls[static_cast<int>(outcome_of(error))];
  if (attempt > 1) ++s.retries;
}

void Metrics::record_preflight(int checks, int failed) noexcept {
  preflight_checks = checks < 0 ? 0 : checks;
  preflight_failed_checks = failed < 0 ? 0 : failed;
}

uint64_t Metrics::claims() const noexcept { return claims_within(kClaimBucketBounds); }

uint64_t Metrics::claims_within(int bucket) const noexcept {
  uint64_t n = 0;
  for (int i = 0; i <= bucket && i <= kClaimBucketBounds; ++i) n += claim_buckets[i];
  return n;
}

const ActionCounters *Metrics::find(std::string_view action) const noexcept {
  for (int i = 0; i < kActionSlots; ++i)
    if (actions[i].action[0] && action == actions[i].action) return &actions[i];
  return nullptr;
}

}  // namespace pg_vip
