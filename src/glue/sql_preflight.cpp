// vip_preflight(): one row per check of what a claim needs (preflight.hpp).
// The checks run in this backend, over the network, bounded by
// pg_vip.request_timeout and stopped by a query cancel.
#include <cstdlib>

#include "../core/preflight_probe.hpp"
#include "gucs.hpp"
#include "preflight_run.hpp"

extern "C" {
#include "utils/tuplestore.h"
}

namespace pg_vip {

bool preflight_run(bool (*cancelled)(), PreflightRows &out, door::Failure &failure) noexcept {
  out = PreflightRows{};
  return door::run(
      [&] {
        preflight::ProbeHooks hooks;
        if (cancelled) hooks.cancelled = cancelled;
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
  PreflightRows rows;
  door::Failure failure;
  bool ran = preflight_run(interrupted, rows, failure);
  if (!ran) {
    preflight_rows_free(rows);
    door::raise_error(failure);
  }
  if (interrupted()) {
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
    Datum values[4] = {CStringGetTextDatum(r.check), BoolGetDatum(r.ok), CStringGetTextDatum(r.detail),
                       r.hint[0] ? CStringGetTextDatum(r.hint) : (Datum) 0};
    bool nulls[4] = {false, false, false, r.hint[0] == '\0'};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  preflight_rows_free(rows);
  return (Datum) 0;
}
