// The background worker: follows this instance's role, feeds the core's
// controller, and publishes the controller's status into shared memory.
// Shaped like contrib's autoprewarm: the main loop is a short list of named
// steps, and everything the worker keeps lives in one struct.
#include <memory>

#include "../core/controller.hpp"
#include "../core/ec2_cloud_factory.hpp"
#include "../core/preflight_pacing.hpp"
#include "door.hpp"
#include "fence_action.hpp"
#include "gucs.hpp"
#include "preflight_cache.hpp"
#include "preflight_run.hpp"
#include "shared_state.hpp"
#include "wait_policy.hpp"

extern "C" {
#include "replication/walreceiver.h"
#include "replication/walsender_private.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/pmsignal.h"
#include "storage/spin.h"
PGDLLEXPORT void pg_vip_worker_main(Datum arg);
}

namespace pg_vip {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// After the door caught a failed step, the next waits this long, even for a
// waiting vip_claim(): a bug must not turn the loop into a spin.
constexpr milliseconds kAfterFailure{1000};

struct Worker {
  SharedState *shared = nullptr;
  RoleTracker tracker{false, Role::Unknown, PrimaryBy::None};  // trivially destructible
  std::unique_ptr<RealTime> time;
  std::unique_ptr<Controller> controller;
  PromotionWatch watch;
  TimeLineID timeline = 0;      // as last published; 0: not yet
  bool became_primary = false;  // this turn of the loop saw the end of recovery
  bool streaming = false;       // a standby whose WAL receiver streams from its primary
  int standbys = 0;             // a primary: physical standbys streaming from it
  steady_clock::time_point primary_noticed{};
  steady_clock::time_point next_step{};
  steady_clock::time_point failed_until{};
  bool reading_as_standby = false;  // a promotion cancels the requests under way
  char system_identifier[32] = {};
  // Filled inside the door, published under the lock: plain data, static
  // because the Status is large.
  Status status;
  Messages messages;
  bool dirty = false;  // status or messages not yet published

  // pg_vip.fence_action: what was last done about this node's clients.
  fence_action::Enforcer fence_enforcer;

  // vip_preflight()'s checks are due: at start and after each reload, run
  // once the claim's own step has had its turn.
  bool preflight_due = true;
  bool preflight_as_standby = false;  // a promotion stops it
  // When it may run: spread after a start or reload, held while AWS
  // throttles this node, backed off when it was throttled itself.
  PreflightPacing preflight_pacing;
};

Worker w;

// The cancel hook of every AWS request: shutdown, postmaster death, or (for
// a standby's reads) a promotion, which must not wait behind a read.
bool cancelled() {
  if (ShutdownRequestPending || !PostmasterIsAlive()) return true;
  return w.reading_as_standby && !RecoveryInProgress();
}

void sleep_ms(milliseconds ms) {
  (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_POSTMASTER_DEATH, static_cast<long>(ms.count()),
                   PG_WAIT_EXTENSION);
  ResetLatch(MyLatch);
}

// The door caught a bug in the core (AWS failures are values, not
// exceptions): log it, show it, and carry on.
void report_failure(const door::Failure &failure) {
  door::raise(failure, WARNING);
  copy_text(w.status.last_error, failure.message);
  w.dirty = true;
}

// vip_preflight()'s checks are due (at start, after a reload), at a moment
// of their own (preflight_pacing.hpp).
void ask_preflight() {
  w.preflight_due = true;
  w.preflight_pacing.ask(steady_clock::now(), milliseconds(gucs::check_interval_ms), w.time->random());
}

void start_worker() {
  w.shared = shared_state();
  // What a previous worker published: the claim, fence and flap memory it
  // resumes from, so a restart neither buys another repair nor answers a
  // vip_claim() twice.
  register_worker(w.shared, w.status);
  w.fence_enforcer.resume(w.status);  // fence action: a restart does not act on the same fence again
  w.tracker = RoleTracker(w.shared->started_as_standby, w.status.role, w.status.primary_by);
  snprintf(w.system_identifier, sizeof w.system_identifier, UINT64_FORMAT, GetSystemIdentifier());

  door::Failure failure;
  if (!door::run(
          [&] {
            http::global_init();
            w.time = std::make_unique<RealTime>(cancelled, sleep_ms);
            Controller::Hooks hooks;
            hooks.time = w.time.get();
            // The role is read at each of the Cloud's requests for targets,
            // inside the controller's door, as the reloaded settings have it.
            hooks.cloud = ec2_cloud_factory(aws::process_environment(), [] { return gucs::role_settings(); });
            w.controller = std::make_unique<Controller>(std::move(hooks), resume_from(w.status));
            w.controller->configure(gucs::controller_config());
            w.controller->write_status(w.status);
          },
          failure))
    door::raise_error(failure);  // nothing C++ is live here; the worker exits and is restarted
  w.dirty = true;
  ask_preflight();
  // A worker restarted while primary starts the clock of its claim now.
  w.primary_noticed = steady_clock::now();
  if (w.tracker.role() != Role::Primary && RecoveryInProgress()) (void) w.watch.open(DataDir);
}

void reload_if_asked() {
  if (!ConfigReloadPending) return;
  ConfigReloadPending = false;
  ProcessConfigFile(PGC_SIGHUP);
  door::Failure failure;
  if (!door::run(
          [&] {
            w.controller->configure(gucs::controller_config());
            w.controller->write_status(w.status);
          },
          failure)) {
    // The check hooks make this unreachable short of a bug: the old
    // configuration stays.
    report_failure(failure);
    return;
  }
  w.dirty = true;
  w.next_step = steady_clock::now();
  ask_preflight();
}

// Whether this standby's WAL receiver streams from its primary. Read under
// the WAL receiver's spinlock; WalRcvStreaming() would also mark a receiver
// slow to start as stopped, which is the startup process's business.
bool wal_receiver_streaming() {
  WalRcvData *walrcv = WalRcv;
  if (walrcv == nullptr) return false;
  SpinLockAcquire(&walrcv->mutex);
  WalRcvState state = walrcv->walRcvState;
  SpinLockRelease(&walrcv->mutex);
  return state == WALRCV_STREAMING;
}

// How many physical standbys stream from this primary: WAL senders in the
// streaming state whose receiver replays what it gets (a standby reports
// its replay position; pg_receivewal and pg_basebackup never do), each read
// under its own spinlock as pg_stat_replication does. A logical WAL sender
// (a subscriber) is no standby either: neither is ever promoted.
int streaming_standbys() {
  if (WalSndCtl == nullptr) return 0;
  int n = 0;
  for (int i = 0; i < max_wal_senders; ++i) {
    WalSnd *sender = &WalSndCtl->walsnds[i];
    SpinLockAcquire(&sender->mutex);
    pid_t pid = sender->pid;
    WalSndState state = sender->state;
    XLogRecPtr replayed = sender->apply;
#if PG_VERSION_NUM >= 160000
    bool physical = sender->kind == REPLICATION_KIND_PHYSICAL;
#endif
    SpinLockRelease(&sender->mutex);
    if (pid == 0 || state != WALSNDSTATE_STREAMING || XLogRecPtrIsInvalid(replayed)) continue;
#if PG_VERSION_NUM < 160000
    // Before 16 a WAL sender does not say its kind; a logical one is
    // connected to a database, a physical one is not.
    PGPROC *proc = BackendPidGetProc(pid);
    bool physical = proc != nullptr && proc->databaseId == InvalidOid;
#endif
    if (physical) ++n;
  }
  return n;
}

TimeLineID current_timeline(bool in_recovery) {
  if (!in_recovery) return GetWALInsertionTimeLine();
  TimeLineID tli = 0;
  (void) GetXLogReplayRecPtr(&tli);
  return tli;
}

// One look at the instance's role; publishes only what changed, so an idle
// standby takes no exclusive lock.
void observe_role() {
  bool in_recovery = RecoveryInProgress();
  // Streaming stopped: its primary may be gone and a promotion near, so the
  // standby reads now, and then every check_interval (Controller::step).
  bool streaming = in_recovery && wal_receiver_streaming();
  if (w.streaming && !streaming) w.next_step = steady_clock::now();
  w.streaming = streaming;
  // A standby stopped streaming from this primary: it may have been
  // promoted, so a holder at the replicated cadence checks now.
  int standbys = in_recovery ? 0 : streaming_standbys();
  if (standbys < w.standbys) w.next_step = steady_clock::now();
  w.standbys = standbys;
  RoleTracker::Change change = w.tracker.observe(in_recovery);
  TimeLineID tli = current_timeline(in_recovery);
  w.became_primary = change.became_primary;
  if (!change.became_primary && tli == w.timeline) return;
  w.timeline = tli;
  // Both noexcept: plain copies.
  w.controller->observe_role(w.tracker.role(), w.tracker.primary_by(), tli, change.became_primary);
  w.controller->write_status(w.status);
  w.dirty = true;
  if (!change.became_primary) return;
  w.primary_noticed = steady_clock::now();
  w.watch.close();
  if (change.by == PrimaryBy::Promotion)
    ereport(LOG, (errmsg("pg_vip: this node was promoted, now primary on timeline %u", tli)));
  else
    ereport(LOG, (errmsg("pg_vip: this node started as primary on timeline %u", tli),
                  errdetail("It did not leave recovery as a standby while pg_vip watched, so it "
                            "is not treated as promoted.")));
}

// A step when one is due (a promotion, a waiting vip_claim() call, or the
// controller's own timer); otherwise only reaps notification commands.
void step_controller() {
  ClaimSlot pending[kClaimSlots];
  int n_pending = waiting_claims(w.shared, pending);
  auto now = steady_clock::now();
  bool due = w.became_primary || now >= w.next_step || (n_pending > 0 && now >= w.failed_until);
  if (!due && !w.status.notifications_running && !w.messages.more) return;

  milliseconds delay{0};
  w.reading_as_standby = w.tracker.role() != Role::Primary;
  door::Failure failure;
  bool ok = door::run(
      [&] {
        if (due) {
          Observation obs;
          obs.role = w.tracker.role();
          obs.by = w.tracker.primary_by();
          obs.timeline = w.timeline;
          obs.streaming = w.streaming;
          obs.standbys = w.standbys;
          obs.system_identifier = w.system_identifier;
          obs.primary_noticed = w.primary_noticed;
          for (int i = 0; i < n_pending; ++i)
            obs.requests.push_back({pending[i].seq, pending[i].force, pending[i].requested_by});
          delay = w.controller->step(obs);
        } else {
          w.controller->reap_notifications();
        }
        w.controller->write_status(w.status);
        w.controller->take_messages(w.messages);
      },
      failure);
  w.reading_as_standby = false;
  w.dirty = true;
  if (!ok) {
    report_failure(failure);
    w.failed_until = steady_clock::now() + kAfterFailure;
    delay = kAfterFailure;
  }
  if (due) w.next_step = steady_clock::now() + std::max(delay, milliseconds(0));
}

// Shared memory first (under its lock, in one go), then the log lines,
// events among them in the order they happened.
void publish() {
  if (!w.dirty) return;
  const Messages &m = w.messages;
  pg_vip::publish(w.shared, w.status, m);
  for (int i = 0; i < m.n_logs; ++i)
    ereport(m.logs[i].warning ? WARNING : LOG, (errmsg_internal("%s", m.logs[i].message),
                                                m.logs[i].detail[0] ? errdetail_internal("%s", m.logs[i].detail) : 0));
  w.messages.n_answers = w.messages.n_events = w.messages.n_logs = 0;
  w.dirty = false;
  // Fence action: once the fence is in shared memory (new connections are
  // refused from then on), the sessions already there.
  w.fence_enforcer.after_publish(w.status);
}

// The preflight's cancel hook: shutdown, postmaster death, or a promotion,
// whose claim must not wait behind checks.
bool preflight_cancelled() {
  if (ShutdownRequestPending || !PostmasterIsAlive()) return true;
  return w.preflight_as_standby && !RecoveryInProgress();
}

// Runs vip_preflight()'s checks when due (at start, after a reload), so a
// missing permission or an unbound VIP is in the log, vip_events() and
// vip_metrics() before a failover needs them. Never ahead of a claim: not
// while the first claim step of a primary or a vip_claim() call waits, and
// a promotion cancels it (it is then run again later).
void run_preflight_if_due() {
  if (!w.preflight_due) return;
  if (!w.status.configured || !w.status.enabled) {
    w.preflight_due = false;  // nothing to check; a reload that configures pg_vip asks again
    return;
  }
  ClaimSlot pending[kClaimSlots];
  if (w.status.state == State::Primary || waiting_claims(w.shared, pending) > 0) return;
  if (!w.preflight_pacing.due(steady_clock::now(), w.controller->throttled_at())) return;
  w.preflight_due = false;
  w.preflight_as_standby = w.tracker.role() != Role::Primary;

  PreflightRows rows;
  TimestampTz checked_at = 0;
  door::Failure failure;
  PreflightOutcome outcome = preflight_get(PreflightAsk::Worker, preflight_cancelled, rows, checked_at, failure);
  bool ok = outcome != PreflightOutcome::Failed;
  bool cancelled =
      outcome == PreflightOutcome::Interrupted || (outcome != PreflightOutcome::Throttled && preflight_cancelled());
  w.preflight_as_standby = false;
  if (outcome == PreflightOutcome::Busy) {
    // A backend's run is under way, or the last run is younger than
    // pg_vip.preflight_min_interval (a flood of reloads must not become a
    // flood of requests): the next loop asks again.
    preflight_rows_free(rows);
    w.preflight_due = true;
    return;
  }
  if (cancelled) {
    // Its answers would be the cancellation's, not AWS's: run it again later.
    preflight_rows_free(rows);
    w.preflight_due = !ShutdownRequestPending;
    return;
  }
  if (!ok) {
    preflight_rows_free(rows);
    w.preflight_pacing.done();
    door::raise(failure, WARNING);
    return;
  }
  if (outcome == PreflightOutcome::Throttled) {
    // AWS throttled the account's requests: the failed rows would say so,
    // not what this node lacks. Not reported; run again after a backoff.
    ereport(LOG, (errmsg("pg_vip: preflight deferred: AWS throttled %d of its requests", rows.throttled),
                  errdetail("It runs again once the account's requests are no longer throttled.")));
    preflight_rows_free(rows);
    w.preflight_pacing.throttled(steady_clock::now(), w.time->random());
    w.preflight_due = true;
    return;
  }
  w.preflight_pacing.done();
  for (int i = 0; i < rows.n; ++i) {
    const PreflightRow &r = rows.rows[i];
    if (r.ok) continue;
    ereport(WARNING, (errmsg("pg_vip: preflight check %s failed", r.check), errdetail_internal("%s", r.detail),
                      r.hint && r.hint[0] ? errhint("%s", r.hint) : 0));
  }
  int n = rows.n, n_failed = rows.failed;
  const char *names = rows.failed_names ? rows.failed_names : "";
  door::Failure record_failure;
  bool recorded = door::run(
      [&] {
        w.controller->record_preflight(n, n_failed, names);
        w.controller->write_status(w.status);
        w.controller->take_messages(w.messages);
      },
      record_failure);
  preflight_rows_free(rows);
  w.dirty = true;
  if (!recorded) report_failure(record_failure);
  publish();
}

// Sleeps until the latch, the policy's timeout, or (on a standby) a change
// in the data directory.
void wait_for_work() {
  auto now = steady_clock::now();
  WaitInputs in;
  in.until_step = std::chrono::duration_cast<milliseconds>(w.next_step - now);
  in.primary = w.tracker.role() == Role::Primary;
  in.watching = w.watch.is_open();
  in.fast_polling = w.watch.fast_polling(now);
  in.notifications_running = w.status.notifications_running || w.messages.more;
  long timeout = static_cast<long>(next_wait(in).count());
  int events = WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH;
  int rc = w.watch.is_open()
               ? WaitLatchOrSocket(MyLatch, events | WL_SOCKET_READABLE, w.watch.fd(), timeout, PG_WAIT_EXTENSION)
               : WaitLatch(MyLatch, events, timeout, PG_WAIT_EXTENSION);
  if (rc & WL_SOCKET_READABLE) w.watch.drain(steady_clock::now());
  ResetLatch(MyLatch);
  CHECK_FOR_INTERRUPTS();
}

}  // namespace
}  // namespace pg_vip

void pg_vip_worker_main(Datum) {
  using namespace pg_vip;
  pqsignal(SIGHUP, SignalHandlerForConfigReload);
  pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
  BackgroundWorkerUnblockSignals();
  BackgroundWorkerInitializeConnection(nullptr, nullptr, 0);

  start_worker();
  while (!ShutdownRequestPending) {
    reload_if_asked();
    observe_role();
    publish();  // a promotion shows before its claim's first request goes out
    step_controller();
    publish();
    run_preflight_if_due();
    if (ShutdownRequestPending) break;
    wait_for_work();
  }
  // Exit code 1: the postmaster starts the worker again unless the whole
  // server is shutting down, so a stray SIGTERM never leaves the VIP unwatched.
  ereport(LOG, (errmsg("pg_vip worker shutting down")));
  proc_exit(1);
}
