// The worker's state in shared memory. One writer (the worker); SQL functions
// read it under the lock and copy it out. Plain data only: it lives in the
// postmaster's shared memory and is re-created after a crash restart.
#pragma once

#include "../core/role.hpp"
#include "../core/settings.hpp"
#include "pg.hpp"

namespace pg_vip {

enum class RouteState : uint8_t { Unknown = 0, Ours, Other, Missing, Blackhole };
const char *to_string(RouteState s) noexcept;

struct RouteSlot {
  char route_table_id[32];
  char destination[64];
  char target[32];
  RouteState state;
  char holder[128];
  uint32 holder_timeline;  // 0: none known
  TimestampTz checked_at;  // 0: never
  char last_error[256];
};

struct SharedState {
  LWLock *lock;
  pid_t worker_pid;              // 0 while no worker runs
  bool started_as_standby;       // standby.signal present when shared memory was made
  bool enabled;
  bool configured;
  bool dry_run;
  Role role;
  PrimaryBy primary_by;
  State state;
  uint32 timeline;               // 0: not yet known
  TimestampTz promoted_at;       // when the worker noticed the end of recovery; 0: never
  char node_name[settings::kMaxNodeName + 1];
  char vip[64];
  char network_interface[32];
  int routes_held;
  double last_claim_ms;          // < 0: no claim yet
  char last_error[512];
  int n_route_tables;
  RouteSlot routes[settings::kMaxRouteTables];
};

// Installs the shared memory hooks; called from _PG_init in the postmaster.
void shared_state_install_hooks();

// The attached state, or nullptr when pg_vip was not preloaded.
SharedState *shared_state();

// ereports ERROR with a hint when pg_vip was not loaded through
// shared_preload_libraries; otherwise returns the state.
SharedState *shared_state_or_error();

}  // namespace pg_vip
