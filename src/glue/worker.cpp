// The background worker: follows this instance's role, publishes the
// configuration it acts on, and (later) claims and watches the VIP.
#include <unistd.h>

#include <string>

#include "../core/role.hpp"
#include "../core/settings.hpp"
#include "door.hpp"
#include "gucs.hpp"
#include "shared_state.hpp"

extern "C" {
PGDLLEXPORT void pg_vip_worker_main(Datum arg);
}

namespace pg_vip {
namespace {

// While a standby, the worker polls RecoveryInProgress(): PostgreSQL has no
// hook at the end of recovery. 10 ms keeps the time to notice a promotion
// well under the 20 ms aim at a cost of one cheap wake-up per 10 ms.
constexpr long kStandbyPollMs = 10;

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

void build_config(PublishedConfig &out) {
  memset(&out, 0, sizeof out);
  out.enabled = gucs::enabled;
  out.dry_run = gucs::dry_run;
  std::string name = settings::parse_node_name(gucs::node_name ? gucs::node_name : "");
  if (name.empty() && cluster_name) name = settings::sanitize_node_name(cluster_name);
  if (name.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0) name = settings::sanitize_node_name(host);
  }
  strlcpy(out.node_name, name.c_str(), sizeof out.node_name);
  std::string vip = settings::normalize("vip", gucs::vip ? gucs::vip : "");
  strlcpy(out.vip, vip.c_str(), sizeof out.vip);
  strlcpy(out.network_interface, gucs::network_interface ? gucs::network_interface : "auto",
          sizeof out.network_interface);
  auto tables = settings::parse_route_tables(gucs::route_tables ? gucs::route_tables : "");
  out.n_route_tables = static_cast<int>(tables.size());
  for (std::size_t i = 0; i < tables.size(); ++i)
    strlcpy(out.route_tables[i], tables[i].c_str(), sizeof out.route_tables[i]);
  out.configured = !vip.empty() && !tables.empty();
}

void update_state(SharedState *shared) {
  shared->state = base_state({shared->enabled, shared->configured, shared->role});
}

// Re-reads the settings into shared memory. A route table that stays in the
// list keeps its slot's observations; a new one starts unknown.
void publish_config(SharedState *shared) {
  door::Failure failure;
  if (!door::run([&] { build_config(config); }, failure)) {
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
  update_state(shared);
  LWLockRelease(shared->lock);
}

TimeLineID current_timeline(bool in_recovery) {
  if (!in_recovery) return GetWALInsertionTimeLine();
  TimeLineID tli = 0;
  (void) GetXLogReplayRecPtr(&tli);
  return tli;
}

// One look at the instance's role. Writes shared memory only when something
// changed, so an idle standby takes no lock at all.
void observe_role(SharedState *shared, RoleTracker &tracker, TimeLineID &published_tli) {
  bool in_recovery = RecoveryInProgress();
  RoleTracker::Change change = tracker.observe(in_recovery);
  TimeLineID tli = current_timeline(in_recovery);
  if (!change.became_primary && tli == published_tli && shared->role == tracker.role()) return;

  TimestampTz now = GetCurrentTimestamp();
  LWLockAcquire(shared->lock, LW_EXCLUSIVE);
  shared->role = tracker.role();
  shared->timeline = tli;
  if (change.became_primary) {
    shared->primary_by = change.by;
    if (change.by == PrimaryBy::Promotion) shared->promoted_at = now;
  }
  update_state(shared);
  LWLockRelease(shared->lock);
  published_tli = tli;

  if (change.became_primary && change.by == PrimaryBy::Promotion)
    ereport(LOG, (errmsg("pg_vip: this node was promoted, now primary on timeline %u", tli)));
  else if (change.became_primary)
    ereport(LOG, (errmsg("pg_vip: this node started as primary on timeline %u", tli),
                  errdetail("It did not leave recovery as a standby while pg_vip watched, so it "
                            "is not treated as promoted.")));
}

void clear_worker_pid(int, Datum) {
  SharedState *shared = shared_state();
  LWLockAcquire(shared->lock, LW_EXCLUSIVE);
  if (shared->worker_pid == MyProcPid) shared->worker_pid = 0;
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
  // Trivially destructible, so safe to keep across PostgreSQL calls.
  RoleTracker tracker(shared->started_as_standby, shared->role, shared->primary_by);
  LWLockRelease(shared->lock);
  publish_config(shared);
  TimeLineID published_tli = 0;

  while (!ShutdownRequestPending) {
    if (ConfigReloadPending) {
      ConfigReloadPending = false;
      ProcessConfigFile(PGC_SIGHUP);
      publish_config(shared);
    }
    observe_role(shared, tracker, published_tli);
    long timeout = tracker.role() == Role::Primary ? gucs::check_interval_ms : kStandbyPollMs;
    (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, timeout,
                     PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();
  }
  // Exit code 1: the postmaster starts the worker again unless the whole
  // server is shutting down, so a stray SIGTERM never leaves the VIP unwatched.
  ereport(LOG, (errmsg("pg_vip worker shutting down")));
  proc_exit(1);
}
