// vip_preflight()'s runs, shared by the server: one run at a time, at most
// one fresh run per pg_vip.preflight_min_interval, and the last run's rows
// for every call in between. Each run sends about three DryRun requests per
// route table, which draw on the same EC2 request buckets as a failover's
// ReplaceRoute: a monitoring loop, or a query that calls vip_preflight()
// per row, must not be able to empty them.
#pragma once

#include "preflight_run.hpp"  // core headers first (core/cpp_only.hpp)
#include "pg.hpp"

extern "C" {
#include "storage/condition_variable.h"
}

namespace pg_vip {

// The last complete run's rows, packed: per row a flag byte ('t'/'f') then
// check, detail and hint, each NUL-terminated. Large enough for 200 route
// tables' rows with long AWS messages; what does not fit is dropped and
// counted.
constexpr int kPreflightBuffer = 256 * 1024;

struct PreflightCache {
  pid_t running_pid;       // the process whose run is under way; 0: none
  uint64 generation;       // complete runs since the server started
  TimestampTz checked_at;  // when the last complete run ended
  int n;                   // its rows kept
  int dropped;             // its rows that did not fit
  int used;                // bytes of `rows` in use
  ConditionVariable done;  // broadcast when a run ends, complete or not
  char rows[kPreflightBuffer];
};

// Called once when shared memory is made.
void preflight_cache_init(PreflightCache *cache);

// Who asks, and so what they may get.
enum class PreflightAsk {
  Cached,  // a backend: the last run's rows when younger than the interval, else a run
  Fresh,   // a superuser's backend: a run now (or the one under way)
  Worker,  // the worker at start and after a reload: a run, unless one is under way or the
           // interval since the last has not passed (then Busy: it asks again later); it never waits
};

enum class PreflightOutcome {
  Ran,          // this process ran the checks; `rows` are its own, now in the cache too
  Cached,       // `rows` are the cache's: the last run's, or the one this call waited for
  Busy,         // Worker only: not now
  Interrupted,  // a cancel stopped the run: nothing kept, `rows` empty
  Throttled,    // Worker only: AWS throttled the run, which stopped there: nothing kept;
                // `rows.throttled` says how many answers
  Failed,       // the door caught an error (out of memory): `failure` says it
};

// Waits, for a backend, while another process runs the checks; a query
// cancel ends the wait with an ERROR (no C++ object may be alive in the
// caller's frame). `rows` is always to be freed with preflight_rows_free().
PreflightOutcome preflight_get(PreflightAsk ask, bool (*cancelled)(), PreflightRows &rows, TimestampTz &checked_at,
                               door::Failure &failure);

}  // namespace pg_vip
