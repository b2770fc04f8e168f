#include <signal.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "gucs.hpp"  // core headers first (core/cpp_only.hpp)
#include "preflight_cache.hpp"
#include "shared_state.hpp"

namespace pg_vip {
namespace {

// A run whose process is gone without a word (killed, say) must not keep
// every later call waiting.
bool alive(pid_t pid) { return pid != 0 && (kill(pid, 0) == 0 || errno == EPERM); }

// Packs `rows` into the cache. Under the lock, exclusive; allocates nothing.
void keep(PreflightCache *c, const PreflightRows &rows) {
  c->n = 0;
  c->dropped = 0;
  c->used = 0;
  for (int i = 0; i < rows.n; ++i) {
    const PreflightRow &r = rows.rows[i];
    std::size_t check = strlen(r.check) + 1, detail = strlen(r.detail) + 1, hint = strlen(r.hint) + 1;
    std::size_t need = 1 + check + detail + hint;
    if (need > static_cast<std::size_t>(kPreflightBuffer - c->used)) {
      c->dropped = rows.n - i;
      break;
    }
    char *p = c->rows + c->used;
    *p++ = r.ok ? 't' : 'f';
    memcpy(p, r.check, check);
    memcpy(p + check, r.detail, detail);
    memcpy(p + check + detail, r.hint, hint);
    c->used += static_cast<int>(need);
    ++c->n;
  }
}

char *dup(const char *s) {
  char *out = strdup(s);
  return out;
}

// Copies the cache out into malloc'd rows, with a last row saying how many
// did not fit. Under the lock, shared or exclusive; false when out of memory.
bool copy_out(const PreflightCache *c, PreflightRows &out) {
  out = PreflightRows{};
  int total = c->n + (c->dropped > 0 ? 1 : 0);
  out.rows = static_cast<PreflightRow *>(calloc(total > 0 ? total : 1, sizeof(PreflightRow)));
  if (!out.rows) return false;
  const char *p = c->rows;
  for (int i = 0; i < c->n; ++i) {
    PreflightRow &r = out.rows[out.n++];
    r.ok = *p++ == 't';
    r.check = dup(p);
    p += strlen(p) + 1;
    r.detail = dup(p);
    p += strlen(p) + 1;
    r.hint = dup(p);
    p += strlen(p) + 1;
    if (!r.check || !r.detail || !r.hint) return false;
    if (!r.ok) ++out.failed;
  }
  if (c->dropped > 0) {
    PreflightRow &r = out.rows[out.n++];
    char detail[160];
    snprintf(detail, sizeof detail, "%d more rows of the last run did not fit in pg_vip's shared memory.", c->dropped);
    r.ok = false;
    r.check = dup("rows_dropped");
    r.detail = dup(detail);
    r.hint = dup("Ask for the whole run with vip_preflight(fresh => true) as a superuser.");
    if (!r.check || !r.detail || !r.hint) return false;
    ++out.failed;
  }
  out.failed_names = dup("");
  return out.failed_names != nullptr;
}

bool interval_passed(const PreflightCache *c, TimestampTz now) {
  return c->generation == 0 ||
         now - c->checked_at >= static_cast<int64>(gucs::preflight_min_interval_ms) * INT64CONST(1000);
}

}  // namespace

void preflight_cache_init(PreflightCache *cache) {
  cache->running_pid = 0;
  cache->generation = 0;
  cache->checked_at = 0;
  cache->n = cache->dropped = cache->used = 0;
  ConditionVariableInit(&cache->done);
}

PreflightOutcome preflight_get(PreflightAsk ask, bool (*cancelled)(), PreflightRows &rows, TimestampTz &checked_at,
                               door::Failure &failure) {
  rows = PreflightRows{};
  SharedState *shared = shared_state();
  PreflightCache *c = &shared->preflight;
  bool waited = false;
  uint64 seen = 0;  // the generation when this call began to wait
  for (;;) {
    LWLockAcquire(shared->lock, LW_EXCLUSIVE);
    if (c->running_pid != 0 && !alive(c->running_pid)) c->running_pid = 0;
    if (c->running_pid != 0) {
      if (ask == PreflightAsk::Worker) {
        LWLockRelease(shared->lock);
        return PreflightOutcome::Busy;
      }
      if (!waited) {
        seen = c->generation;
        waited = true;
        ConditionVariablePrepareToSleep(&c->done);
      }
      LWLockRelease(shared->lock);
      // Woken by the run's end; the timeout only re-checks that its process lives.
      ConditionVariableTimedSleep(&c->done, 1000, PG_WAIT_EXTENSION);
      continue;
    }
    // The run this call waited for ended complete: its rows are as fresh as any.
    bool use_cache =
        waited ? c->generation != seen : ask == PreflightAsk::Cached && !interval_passed(c, GetCurrentTimestamp());
    if (use_cache) {
      bool ok = copy_out(c, rows);
      checked_at = c->checked_at;
      LWLockRelease(shared->lock);
      if (waited) ConditionVariableCancelSleep();
      if (!ok) {
        door::fill(failure, ERRCODE_OUT_OF_MEMORY, "out of memory");
        return PreflightOutcome::Failed;
      }
      return PreflightOutcome::Cached;
    }
    if (ask == PreflightAsk::Worker && !interval_passed(c, GetCurrentTimestamp())) {
      LWLockRelease(shared->lock);
      return PreflightOutcome::Busy;
    }
    c->running_pid = MyProcPid;
    LWLockRelease(shared->lock);
    break;
  }
  if (waited) ConditionVariableCancelSleep();

  // From here to the broadcast nothing may raise: the cache is marked as
  // running under this process.
  // The worker's run stops once AWS throttles it: incomplete, not kept.
  const bool worker = ask == PreflightAsk::Worker;
  bool ok = preflight_run(cancelled, worker, rows, failure);
  bool complete = ok && !(cancelled && cancelled()) && !(worker && rows.throttled > 0);
  LWLockAcquire(shared->lock, LW_EXCLUSIVE);
  if (complete) {
    keep(c, rows);
    ++c->generation;
    c->checked_at = checked_at = GetCurrentTimestamp();
  }
  c->running_pid = 0;
  LWLockRelease(shared->lock);
  ConditionVariableBroadcast(&c->done);
  if (!ok) return PreflightOutcome::Failed;
  if (worker && rows.throttled > 0) return PreflightOutcome::Throttled;  // the caller frees the rows
  if (!complete) {
    preflight_rows_free(rows);
    return PreflightOutcome::Interrupted;
  }
  return PreflightOutcome::Ran;
}

}  // namespace pg_vip
