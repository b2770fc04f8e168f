// The background worker: follows this instance's role, feeds the core's
// controller, and publishes what it reports into shared memory.
#include <sys/inotify.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "../core/controller.hpp"
#include "../core/role.hpp"
#include "../core/settings.hpp"
#include "door.hpp"
#include "gucs.hpp"
#include "shared_state.hpp"

extern "C" {
#include "storage/pmsignal.h"
#include "storage/proc.h"
}

extern "C" {
PGDLLEXPORT void pg_vip_worker_main(Datum arg);
}

namespace pg_vip {
namespace {

// PostgreSQL has no hook at the end of recovery, so a standby's worker
// watches for it. The data directory tells first: pg_promote() creates
// "promote" and the startup process removes standby.signal just before
// recovery ends. An inotify watch on the directory wakes the worker at once;
// it then polls RecoveryInProgress() every millisecond until recovery ends
// (or a few seconds pass), and otherwise sleeps a second at a time. Where
// inotify is not available it polls every 10 ms, which keeps the time to
// notice well under the 20 ms aim at the cost of 100 cheap wake-ups a second.
constexpr long kStandbyPollMs = 10;
constexpr long kWatchedIdleMs = 1000;
constexpr long kFastPollMs = 1;
constexpr auto kFastPollFor = std::chrono::seconds(5);
// While notification commands run, wake this often to reap them.
constexpr long kReapPollMs = 100;

// What one step of the controller reports, copied out of the C++ objects
// inside the door so that shared memory and the log are written outside it.
// Plain data; static because it is large.
struct StepOutput {
  State state;
  int routes_held;
  double last_claim_ms;
  char last_error[512];
  char network_interface[32];
  int8 source_dest_check;
  char holder[128];
  uint32 holder_timeline;
  uint64 claim_done;
  int n_answers;
  struct {
    uint64 seq;
    bool ok;
    State state;
    char error[512];
  } answers[kClaimSlots * 2];
  int n_tables;
  struct {
    RouteState state;
    char target[32];
    char holder[128];
    uint32 holder_timeline;
    TimestampTz checked_at;
    TimestampTz repaired_at;
    char last_error[256];
  } tables[settings::kMaxRouteTables];
  TimestampTz conflict_since;
  uint32 newest_seen;
  int n_events;
  struct {
    TimestampTz at;
    char event[24];
    bool success;
    char details[480];
  } events[16];
  int n_logs;
  struct {
    bool warning;
    char message[512];
    char detail[1024];
  } logs[32];
  bool notifications_running;
};

StepOutput out;

// The configuration as the worker applies it, built inside the door from the
// settings and copied into shared memory outside it. Plain data.
struct PublishedConfig {
  bool enabled;
  bool configured;
  bool dry_run;
  char node_name[settings::kMaxNodeName + 1];
  char vip[64];
  char network_interface[32];
  int n_route_tables;
  char route_tables[settings::kMaxRouteTables][32];
};

PublishedConfig config;

std::unique_ptr<RealTime> real_time;
std::unique_ptr<Controller> controller;
int promotion_watch = -1;  // inotify descriptor on the data directory, or -1
std::chrono::steady_clock::time_point fast_poll_until{};
bool watching_standby = false;
std::chrono::steady_clock::time_point primary_noticed{};

TimestampTz to_timestamptz(Clock::time_point t) {
  if (t == Clock::time_point{}) return 0;
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  // PostgreSQL counts from 2000-01-01.
  return static_cast<TimestampTz>(us) - (static_cast<TimestampTz>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY);
}

Clock::time_point from_timestamptz(TimestampTz t) {
  if (t == 0) return {};
  auto us = static_cast<int64>(t) + (static_cast<int64>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY);
  return Clock::time_point(std::chrono::duration_cast<Clock::time_point::duration>(std::chrono::microseconds(us)));
}

std::string node_name_from_settings() {
  std::string name = settings::parse_node_name(gucs::node_name ? gucs::node_name : "");
  if (name.empty() && cluster_name) name = settings::sanitize_node_name(cluster_name);
  if (name.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0) name = settings::sanitize_node_name(host);
  }
  return name;
}

void build_config(PublishedConfig &pub, ControllerConfig &cc) {
  memset(&pub, 0, sizeof pub);
  pub.enabled = gucs::enabled;
  pub.dry_run = gucs::dry_run;
  std::string name = node_name_from_settings();
  strlcpy(pub.node_name, name.c_str(), sizeof pub.node_name);
  std::string vip = settings::normalize("vip", gucs::vip ? gucs::vip : "");
  strlcpy(pub.vip, vip.c_str(), sizeof pub.vip);
  auto tables = settings::parse_route_tables(gucs::route_tables ? gucs::route_tables : "");
  pub.n_route_tables = static_cast<int>(tables.size());
  for (std::size_t i = 0; i < tables.size(); ++i)
    strlcpy(pub.route_tables[i], tables[i].c_str(), sizeof pub.route_tables[i]);
  pub.configured = !vip.empty() && !tables.empty();
  strlcpy(pub.network_interface, gucs::network_interface ? gucs::network_interface : "auto",
          sizeof pub.network_interface);

  cc.enabled = gucs::enabled;
  cc.dry_run = gucs::dry_run;
  cc.vip = vip;
  cc.route_tables = tables;
  cc.network_interface = pub.network_interface;
  cc.region = gucs::region ? gucs::region : "";
  cc.ec2_endpoint = gucs::ec2_endpoint ? gucs::ec2_endpoint : "";
  cc.imds_endpoint = gucs::imds_endpoint ? gucs::imds_endpoint : "http://169.254.169.254";
  cc.aws_profile = gucs::aws_profile ? gucs::aws_profile : "";
  cc.ca_file = gucs::ca_file ? gucs::ca_file : "";
  cc.node_name = name;
  cc.check_interval = std::chrono::milliseconds(gucs::check_interval_ms);
  cc.request_timeout = std::chrono::milliseconds(gucs::request_timeout_ms);
  cc.notification_command = gucs::event_notification_command ? gucs::event_notification_command : "";
  cc.notification_events = settings::parse_event_list(gucs::event_notifications ? gucs::event_notifications : "");
}

// Re-reads the settings into shared memory and the controller. A route
// table that stays in the list keeps its slot's observations.
void publish_config(SharedState *shared) {
  door::Failure failure;
  if (!door::run(
          [&] {
            ControllerConfig cc;
            build_config(config, cc);
            controller->configure(std::move(cc));
          },
          failure)) {
    // The check hooks make this unreachable short of a bug; keep the old
    // configuration and say why.
    door::raise(failure, WARNING);
    LWLockAcquire(shared->lock, LW_EXCLUSIVE);
    strlcpy(shared->last_error, failure.message, sizeof shared->last_error);
    LWLockRelease(shared->lock);
    return;
  }
  static RouteSlot previous[settings::kMaxRouteTables];
  LWLockAcquire(shared->lock, LW_EXCLUSIVE);
  int n_previous = shared->n_route_tables;
  memcpy(previous, shared->routes, sizeof(RouteSlot) * n_previous);
  shared->enabled = config.enabled;
  shared->configured = config.configured;
  shared->dry_run = config.dry_run;
  strlcpy(shared->node_name, config.node_name, sizeof shared->node_name);
  strlcpy(shared->vip, config.vip, sizeof shared->vip);
  if (strcmp(config.network_interface, "auto") != 0 || shared->network_interface[0] == '\0')
    strlcpy(shared->network_interface, config.network_interface, sizeof shared->network_interface);
  shared->n_route_tables = config.n_route_tables;
  for (int i = 0; i < config.n_route_tables; ++i) {
    RouteSlot &slot = shared->routes[i];
    memset(&slot, 0, sizeof slot);
    for (int j = 0; j < n_previous; ++j)
      if (strcmp(previous[j].route_table_id, config.route_tables[i]) == 0) slot = previous[j];
    strlcpy(slot.route_table_id, config.route_tables[i], sizeof slot.route_table_id);
    strlcpy(slot.destination, config.vip, sizeof slot.destination);
  }
  // Leaving disabled or unconfigured falls back to the role's base state
  // until the controller's next step says more.
  if (!config.enabled || !config.configured || shared->state == State::Disabled ||
      shared->state == State::Unconfigured)
    shared->state = base_state({config.enabled, config.configured, shared->role});
  LWLockRelease(shared->lock);
}

void copy_step_output(const Controller &c) {
  out.state = c.state();
  out.routes_held = c.routes_held();
  out.last_claim_ms = c.last_claim_ms();
  strlcpy(out.last_error, c.last_error().c_str(), sizeof out.last_error);
  strlcpy(out.network_interface, c.network_interface().c_str(), sizeof out.network_interface);
  out.source_dest_check = c.source_dest_check() ? (*c.source_dest_check() ? 1 : 0) : -1;
  out.holder[0] = '\0';
  out.holder_timeline = 0;
  if (c.holder()) {
    strlcpy(out.holder, c.holder()->node_name.c_str(), sizeof out.holder);
    out.holder_timeline = c.holder()->timeline;
  }
  out.claim_done = c.claim_request_done();
  out.conflict_since = to_timestamptz(c.conflict_since());
  out.newest_seen = c.newest_seen();
  out.n_tables = static_cast<int>(std::min<std::size_t>(c.tables().size(), settings::kMaxRouteTables));
  for (int i = 0; i < out.n_tables; ++i) {
    const TableView &v = c.tables()[i];
    auto &t = out.tables[i];
    t.state = v.state;
    strlcpy(t.target, v.target.c_str(), sizeof t.target);
    strlcpy(t.holder, v.holder ? v.holder->node_name.c_str() : "", sizeof t.holder);
    t.holder_timeline = v.holder ? v.holder->timeline : 0;
    t.checked_at = to_timestamptz(v.checked_at);
    t.repaired_at = to_timestamptz(v.repaired_at);
    strlcpy(t.last_error, v.last_error.c_str(), sizeof t.last_error);
  }
  out.notifications_running = c.notifications_running();
}

void take_messages(Controller &c) {
  auto answers = c.take_answers();
  out.n_answers = 0;
  for (const auto &a : answers) {
    if (out.n_answers == static_cast<int>(std::size(out.answers))) break;
    auto &slot = out.answers[out.n_answers++];
    slot.seq = a.seq;
    slot.ok = a.ok;
    slot.state = a.state;
    strlcpy(slot.error, a.error.c_str(), sizeof slot.error);
  }
  auto events = c.take_events();
  out.n_events = 0;
  for (const auto &e : events) {
    if (out.n_events == static_cast<int>(std::size(out.events))) break;
    auto &slot = out.events[out.n_events++];
    slot.at = to_timestamptz(e.at);
    strlcpy(slot.event, e.name.c_str(), sizeof slot.event);
    slot.success = e.success;
    strlcpy(slot.details, e.details.c_str(), sizeof slot.details);
  }
  auto logs = c.take_logs();
  out.n_logs = 0;
  for (const auto &l : logs) {
    if (out.n_logs == static_cast<int>(std::size(out.logs))) break;
    auto &slot = out.logs[out.n_logs++];
    slot.warning = l.warning;
    strlcpy(slot.message, l.message.c_str(), sizeof slot.message);
    strlcpy(slot.detail, l.detail.c_str(), sizeof slot.detail);
  }
}

// Writes a step's report into shared memory and the server log.
void publish_step(SharedState *shared) {
  LWLockAcquire(shared->lock, LW_EXCLUSIVE);
  if (shared->enabled && shared->configured) shared->state = out.state;
  shared->routes_held = out.routes_held;
  shared->last_claim_ms = out.last_claim_ms;
  strlcpy(shared->last_error, out.last_error, sizeof shared->last_error);
  if (out.network_interface[0]) strlcpy(shared->network_interface, out.network_interface, sizeof shared->network_interface);
  shared->source_dest_check = out.source_dest_check;
  strlcpy(shared->holder, out.holder, sizeof shared->holder);
  shared->holder_timeline = out.holder_timeline;
  shared->claim_done = std::max(shared->claim_done, out.claim_done);
  shared->conflict_since = out.conflict_since;
  shared->newest_seen = out.newest_seen;
  for (int i = 0; i < out.n_answers; ++i) {
    ClaimSlot &slot = shared->claims[out.answers[i].seq % kClaimSlots];
    if (slot.seq != out.answers[i].seq) continue;  // cannot happen: a slot is reused only once answered
    slot.answered = true;
    slot.ok = out.answers[i].ok;
    slot.state = out.answers[i].state;
    strlcpy(slot.error, out.answers[i].error, sizeof slot.error);
  }
  out.n_answers = 0;
  for (int i = 0; i < out.n_tables && i < shared->n_route_tables; ++i) {
    RouteSlot &slot = shared->routes[i];
    slot.state = out.tables[i].state;
    strlcpy(slot.target, out.tables[i].target, sizeof slot.target);
    strlcpy(slot.holder, out.tables[i].holder, sizeof slot.holder);
    slot.holder_timeline = out.tables[i].holder_timeline;
    slot.checked_at = out.tables[i].checked_at;
    slot.repaired_at = out.tables[i].repaired_at;
    strlcpy(slot.last_error, out.tables[i].last_error, sizeof slot.last_error);
  }
  for (int i = 0; i < out.n_events; ++i) {
    EventSlot &slot = shared->events[shared->events_total % kEventSlots];
    slot.at = out.events[i].at;
    strlcpy(slot.event, out.events[i].event, sizeof slot.event);
    slot.success = out.events[i].success;
    strlcpy(slot.details, out.events[i].details, sizeof slot.details);
    shared->events_total++;
  }
  LWLockRelease(shared->lock);

  // Events are among the log lines, in the order they happened.
  for (int i = 0; i < out.n_logs; ++i)
    ereport(out.logs[i].warning ? WARNING : LOG,
            (errmsg_internal("%s", out.logs[i].message),
             out.logs[i].detail[0] ? errdetail_internal("%s", out.logs[i].detail) : 0));
  out.n_events = 0;
  out.n_logs = 0;
}

TimeLineID current_timeline(bool in_recovery) {
  if (!in_recovery) return GetWALInsertionTimeLine();
  TimeLineID tli = 0;
  (void) GetXLogReplayRecPtr(&tli);
  return tli;
}

// One look at the instance's role. Writes shared memory only when something
// changed, so an idle standby takes no lock at all. True when this look saw
// the node become primary.
bool observe_role(SharedState *shared, RoleTracker &tracker, TimeLineID &published_tli) {
  bool in_recovery = RecoveryInProgress();
  RoleTracker::Change change = tracker.observe(in_recovery);
  if (change.became_primary) primary_noticed = std::chrono::steady_clock::now();
  TimeLineID tli = current_timeline(in_recovery);
  if (!change.became_primary && tli == published_tli && shared->role == tracker.role()) return false;

  TimestampTz now = GetCurrentTimestamp();
  LWLockAcquire(shared->lock, LW_EXCLUSIVE);
  shared->role = tracker.role();
  shared->timeline = tli;
  if (change.became_primary) {
    shared->primary_by = change.by;
    if (change.by == PrimaryBy::Promotion) shared->promoted_at = now;
    // The claim starts right after this; monitoring sees it from now on.
    if (shared->enabled && shared->configured) shared->state = State::Claiming;
  }
  LWLockRelease(shared->lock);
  published_tli = tli;

  if (change.became_primary && change.by == PrimaryBy::Promotion)
    ereport(LOG, (errmsg("pg_vip: this node was promoted, now primary on timeline %u", tli)));
  else if (change.became_primary)
    ereport(LOG, (errmsg("pg_vip: this node started as primary on timeline %u", tli),
                  errdetail("It did not leave recovery as a standby while pg_vip watched, so it "
                            "is not treated as promoted.")));
  return change.became_primary;
}

// The cancel hook of every AWS request: shutdown, postmaster death, or (for
// a standby's reads) a promotion, which must not wait behind a read.
bool cancelled() {
  if (ShutdownRequestPending || !PostmasterIsAlive()) return true;
  return watching_standby && !RecoveryInProgress();
}

void sleep_ms(std::chrono::milliseconds ms) {
  (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_POSTMASTER_DEATH, static_cast<long>(ms.count()),
                   PG_WAIT_EXTENSION);
  ResetLatch(MyLatch);
}

// Runs one controller step through the door; returns the delay it asks for.
long step(SharedState *shared, const RoleTracker &tracker, TimeLineID tli) {
  static char sysid[32];
  snprintf(sysid, sizeof sysid, UINT64_FORMAT, GetSystemIdentifier());
  // The vip_claim() calls waiting, copied out under the lock.
  static ClaimSlot pending[kClaimSlots];
  int n_pending = 0;
  LWLockAcquire(shared->lock, LW_SHARED);
  for (uint64 seq = shared->claim_done + 1; seq <= shared->claim_request && n_pending < kClaimSlots; ++seq) {
    const ClaimSlot &slot = shared->claims[seq % kClaimSlots];
    if (slot.seq == seq && !slot.answered) pending[n_pending++] = slot;
  }
  LWLockRelease(shared->lock);

  watching_standby = tracker.role() != Role::Primary;
  long delay_ms = 1000;
  door::Failure failure;
  bool ok = door::run(
      [&] {
        Observation obs;
        obs.role = tracker.role();
        obs.by = tracker.primary_by();
        obs.timeline = tli;
        obs.system_identifier = sysid;
        obs.primary_noticed = primary_noticed;
        for (int i = 0; i < n_pending; ++i)
          obs.requests.push_back({pending[i].seq, pending[i].force, pending[i].requested_by});
        delay_ms = static_cast<long>(controller->step(obs).count());
        copy_step_output(*controller);
        take_messages(*controller);
      },
      failure);
  watching_standby = false;
  if (!ok) {
    // A bug in the core, not an AWS failure (those are values): say so and
    // carry on; the postmaster need not restart anything.
    door::raise(failure, WARNING);
    LWLockAcquire(shared->lock, LW_EXCLUSIVE);
    strlcpy(shared->last_error, failure.message, sizeof shared->last_error);
    LWLockRelease(shared->lock);
    return 1000;
  }
  publish_step(shared);
  return std::max(delay_ms, 0L);
}

// Between steps, collects notification commands that finished (or kills
// those past their time bound) and logs what went wrong with them.
void reap_notifications(SharedState *shared) {
  door::Failure failure;
  if (!door::run(
          [&] {
            controller->reap_notifications();
            out.notifications_running = controller->notifications_running();
            take_messages(*controller);
          },
          failure)) {
    door::raise(failure, WARNING);
    out.notifications_running = false;
    return;
  }
  if (out.n_logs || out.n_events) publish_step(shared);
}

void open_promotion_watch() {
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return;
  if (inotify_add_watch(fd, DataDir, IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO) < 0) {
    close(fd);
    return;
  }
  promotion_watch = fd;
}

void close_promotion_watch() {
  if (promotion_watch >= 0) close(promotion_watch);
  promotion_watch = -1;
}

// Waits for the latch, the timeout, or (on a standby) a change in the data
// directory, which starts a short spell of fast polling.
void wait_for_work(long timeout_ms) {
  if (promotion_watch < 0) {
    (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, timeout_ms, PG_WAIT_EXTENSION);
  } else {
    int rc = WaitLatchOrSocket(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH | WL_SOCKET_READABLE,
                               promotion_watch, timeout_ms, PG_WAIT_EXTENSION);
    if (rc & WL_SOCKET_READABLE) {
      char buf[4096];
      while (read(promotion_watch, buf, sizeof buf) > 0) {
      }
      fast_poll_until = std::chrono::steady_clock::now() + kFastPollFor;
    }
  }
  ResetLatch(MyLatch);
}

void clear_worker_pid(int, Datum) {
  SharedState *shared = shared_state();
  LWLockAcquire(shared->lock, LW_EXCLUSIVE);
  if (shared->worker_pid == MyProcPid) {
    shared->worker_pid = 0;
    shared->worker_latch = nullptr;
  }
  LWLockRelease(shared->lock);
}

}  // namespace
}  // namespace pg_vip

void pg_vip_worker_main(Datum) {
  using namespace pg_vip;
  pqsignal(SIGHUP, SignalHandlerForConfigReload);
  pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
  BackgroundWorkerUnblockSignals();
  BackgroundWorkerInitializeConnection(nullptr, nullptr, 0);

  SharedState *shared = shared_state();
  before_shmem_exit(clear_worker_pid, 0);
  LWLockAcquire(shared->lock, LW_EXCLUSIVE);
  shared->worker_pid = MyProcPid;
  shared->worker_latch = &MyProc->procLatch;
  // Trivially destructible, so safe to keep across PostgreSQL calls.
  RoleTracker tracker(shared->started_as_standby, shared->role, shared->primary_by);
  // The flap memory survives a worker restart: a restart must not buy
  // another repair. Plain data copied out under the lock.
  static std::pair<char[32], TimestampTz> repairs[settings::kMaxRouteTables];
  int n_repairs = shared->n_route_tables;
  for (int i = 0; i < n_repairs; ++i) {
    strlcpy(repairs[i].first, shared->routes[i].route_table_id, sizeof repairs[i].first);
    repairs[i].second = shared->routes[i].repaired_at;
  }
  State resume_state = shared->state;
  uint64 resume_done = shared->claim_done;
  TimestampTz resume_conflict = shared->conflict_since;
  uint32 resume_newest = shared->newest_seen;
  LWLockRelease(shared->lock);

  door::Failure failure;
  if (!door::run(
          [&] {
            http::global_init();
            real_time = std::make_unique<RealTime>(cancelled, sleep_ms);
            Controller::Hooks hooks;
            hooks.time = real_time.get();
            Resume resume;
            resume.state = resume_state;
            resume.claim_done = resume_done;
            resume.conflict_since = from_timestamptz(resume_conflict);
            resume.newest_seen = resume_newest;
            for (int i = 0; i < n_repairs; ++i)
              if (repairs[i].second) resume.repaired.emplace_back(repairs[i].first, from_timestamptz(repairs[i].second));
            controller = std::make_unique<Controller>(std::move(hooks), std::move(resume));
          },
          failure))
    door::raise_error(failure);  // nothing C++ is live here; the worker exits and is restarted
  publish_config(shared);
  TimeLineID published_tli = 0;
  // A worker restarted while primary starts the clock of its claim now.
  primary_noticed = std::chrono::steady_clock::now();
  auto next_step = std::chrono::steady_clock::now();
  if (tracker.role() != Role::Primary && RecoveryInProgress()) open_promotion_watch();

  while (!ShutdownRequestPending) {
    if (ConfigReloadPending) {
      ConfigReloadPending = false;
      ProcessConfigFile(PGC_SIGHUP);
      publish_config(shared);
      next_step = std::chrono::steady_clock::now();
    }
    bool became_primary = observe_role(shared, tracker, published_tli);
    if (became_primary) close_promotion_watch();
    if (out.notifications_running) reap_notifications(shared);
    LWLockAcquire(shared->lock, LW_SHARED);
    bool requested = shared->claim_request > shared->claim_done;
    LWLockRelease(shared->lock);
    auto now = std::chrono::steady_clock::now();
    // A waiting vip_claim() call is answered at once: each step answers one.
    if (became_primary || requested || now >= next_step) {
      long delay = step(shared, tracker, published_tli);
      next_step = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay);
      if (ShutdownRequestPending) break;
    }
    long timeout = std::chrono::duration_cast<std::chrono::milliseconds>(next_step - std::chrono::steady_clock::now()).count();
    if (tracker.role() != Role::Primary) {
      bool fast = std::chrono::steady_clock::now() < fast_poll_until;
      timeout = std::min(timeout, fast ? kFastPollMs : promotion_watch >= 0 ? kWatchedIdleMs : kStandbyPollMs);
    }
    if (out.notifications_running) timeout = std::min(timeout, kReapPollMs);
    timeout = std::max(timeout, 1L);
    wait_for_work(timeout);
    CHECK_FOR_INTERRUPTS();
  }
  // Exit code 1: the postmaster starts the worker again unless the whole
  // server is shutting down, so a stray SIGTERM never leaves the VIP unwatched.
  ereport(LOG, (errmsg("pg_vip worker shutting down")));
  proc_exit(1);
}
