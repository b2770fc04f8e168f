// vip_preflight(): one row per check of what a claim needs (preflight.hpp),
// from the server's last run or from a run in this backend
// (preflight_cache.hpp), over the network, each request bounded by
// pg_vip.request_timeout and stopped by a query cancel.
#include <cstdlib>

#include "../core/preflight_probe.hpp"
#include "gucs.hpp"
#include "preflight_cache.hpp"
#include "preflight_run.hpp"
#include "shared_state.hpp"

extern "C" {
#include "utils/tuplestore.h"
}

namespace pg_vip {

bool preflight_run(bool (*cancelled)(), bool stop_when_throttled, PreflightRows &out, door::Failure &failure) noexcept {
  out = PreflightRows{};
  return door::run(
      [&] {
        preflight::ProbeHooks hooks;
        hooks.cancelled = [cancelled, stop_when_throttled, &out] {
          return (cancelled && cancelled()) || (stop_when_throttled && out.throttled > 0);
        };
        hooks.role = gucs::role_settings();
        hooks.throttled = [&out] { ++out.throttled; };
        std::vector<preflight::CheckResult> rows = preflight::run(gucs::controller_config(), hooks);
        out.rows = static_cast<PreflightRow *>(std::calloc(rows.size(), sizeof(PreflightRow)));
        if (!out.rows) throw std::bad_alloc();
        for (const auto &r : rows) {
          PreflightRow &row = out.rows[out.n++];
          row.ok = r.ok;
          row.check = door::copy_out(r.name);
          row.detail = door::copy_out(r.detail);
          row.hint = door::copy_out(r.hint);
          if (!row.check || !row.detail || !row.hint) throw std::bad_alloc();
          if (!r.ok) ++out.failed;
        }
        out.failed_names = door::copy_out(preflight::failed_names(rows));
        if (!out.failed_names) throw std::bad_alloc();
      },
      failure);
}

void preflight_rows_free(PreflightRows &rows) noexcept {
  for (int i = 0; i < rows.n; ++i) {
    std::free(rows.rows[i].check);
    std::free(rows.rows[i].detail);
    std::free(rows.rows[i].hint);
  }
  std::free(rows.rows);
  std::free(rows.failed_names);
  rows = PreflightRows{};
}

namespace {

// A query cancel or a termination stops the requests under way; the
// interrupt itself is served after the door, by CHECK_FOR_INTERRUPTS().
bool interrupted() { return QueryCancelPending || ProcDiePending; }

}  // namespace
}  // namespace pg_vip

using namespace pg_vip;

PG_VIP_FUNCTION(vip_preflight) {
  bool fresh = PG_GETARG_BOOL(0);
  (void) shared_state_or_error();
  if (fresh && !superuser())
    ereport(ERROR,
            (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("permission denied to run vip_preflight()'s checks now"),
             errdetail("Only superusers may ask for a fresh run: each run sends EC2 requests that draw on "
                       "the same request limits as a failover."),
             errhint("Call vip_preflight() without fresh: it returns the last run's rows, at most "
                     "pg_vip.preflight_min_interval old.")));
  PreflightRows rows;
  TimestampTz checked_at = 0;
  door::Failure failure;
  PreflightOutcome outcome =
      preflight_get(fresh ? PreflightAsk::Fresh : PreflightAsk::Cached, interrupted, rows, checked_at, failure);
  if (outcome == PreflightOutcome::Failed) {
    preflight_rows_free(rows);
    door::raise_error(failure);
  }
  if (outcome == PreflightOutcome::Interrupted || interrupted()) {
    preflight_rows_free(rows);
    CHECK_FOR_INTERRUPTS();
    // Held off (e.g. a cancel during a commit cannot be), yet the requests stopped: the rows are not complete.
    ereport(ERROR,
            (errcode(ERRCODE_QUERY_CANCELED), errmsg("vip_preflight() was interrupted before its checks ended")));
  }
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
  for (int i = 0; i < rows.n; ++i) {
    const PreflightRow &r = rows.rows[i];
    Datum values[5] = {CStringGetTextDatum(r.check), BoolGetDatum(r.ok), CStringGetTextDatum(r.detail),
                       r.hint[0] ? CStringGetTextDatum(r.hint) : (Datum) 0, TimestampTzGetDatum(checked_at)};
    bool nulls[5] = {false, false, false, r.hint[0] == '\0', false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  preflight_rows_free(rows);
  return (Datum) 0;
}
