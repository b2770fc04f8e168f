// vip_metrics(): the counters the worker publishes with its status, one row
// per value in Prometheus' shape (metric, labels action/outcome/le, value),
// for postgres_exporter's custom queries or any SQL client. Copied out of
// shared memory under the lock; the rows are built from the copy.
#include "../core/metrics.hpp"
#include "shared_state.hpp"
#include "door.hpp"

extern "C" {
#include "utils/float.h"
#include "utils/tuplestore.h"
}

namespace pg_vip {
namespace {

// A metric's row: labels that do not apply are NULL.
void put(ReturnSetInfo *rsinfo, const char *metric, const char *action, const char *outcome, const double *le,
         double value) {
  Datum values[5] = {CStringGetTextDatum(metric), action ? CStringGetTextDatum(action) : (Datum) 0,
                     outcome ? CStringGetTextDatum(outcome) : (Datum) 0, le ? Float8GetDatum(*le) : (Datum) 0,
                     Float8GetDatum(value)};
  bool nulls[5] = {false, action == nullptr, outcome == nullptr, le == nullptr, false};
  tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

void put(ReturnSetInfo *rsinfo, const char *metric, double value) {
  put(rsinfo, metric, nullptr, nullptr, nullptr, value);
}

}  // namespace
}  // namespace pg_vip

using namespace pg_vip;

PG_VIP_FUNCTION(vip_metrics) {
  SharedState *shared = shared_state_or_error();
  // Static: one backend runs one function at a time, and the copy is a few KB.
  static Metrics m;
  LWLockAcquire(shared->lock, LW_SHARED);
  m = shared->status.metrics;
  LWLockRelease(shared->lock);

  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
  put(rsinfo, "claims_total", m.claims());
  put(rsinfo, "claim_failures_total", m.claim_failures);
  put(rsinfo, "repairs_total", m.repairs);
  put(rsinfo, "fences_total", m.fences);
  // Every outcome of every action seen, zeros included: a rate over a
  // series that appears only with its first error would miss that error.
  for (const ActionCounters &a : m.actions) {
    if (a.action[0] == '\0') continue;
    for (int o = 0; o < kCallOutcomes; ++o)
      put(rsinfo, "api_calls_total", a.action, to_string(static_cast<CallOutcome>(o)), nullptr, a.calls[o]);
  }
  for (const ActionCounters &a : m.actions)
    if (a.action[0] != '\0') put(rsinfo, "retries_total", a.action, nullptr, nullptr, a.retries);
  // No row before the first claim: no value is not a value of zero.
  if (m.last_claim_seconds >= 0) put(rsinfo, "last_claim_seconds", m.last_claim_seconds);
  for (int b = 0; b <= kClaimBucketBounds; ++b) {
    double le = b < kClaimBucketBounds ? kClaimBuckets[b] : get_float8_infinity();
    put(rsinfo, "claim_duration_seconds_bucket", nullptr, nullptr, &le, m.claims_within(b));
  }
  put(rsinfo, "claim_duration_seconds_sum", m.claim_seconds_sum);
  put(rsinfo, "claim_duration_seconds_count", m.claims());
  // Likewise none before the worker's first preflight.
  if (m.preflight_failed_checks >= 0) {
    put(rsinfo, "preflight_checks", m.preflight_checks);
    put(rsinfo, "preflight_failed_checks", m.preflight_failed_checks);
  }
  return (Datum) 0;
}
