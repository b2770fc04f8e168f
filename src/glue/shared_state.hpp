// The worker's state in shared memory. One writer (the worker); SQL functions
// read it under the lock and copy it out. Plain data only: it lives in the
// postmaster's shared memory and is re-created after a crash restart.
#pragma once

#include "../core/role.hpp"
#include "../core/routes.hpp"
#include "../core/settings.hpp"
#include "pg.hpp"

namespace pg_vip {

struct RouteSlot {
  char route_table_id[32];
  char destination[64];
  char target[32];
  RouteState state;
  char holder[128];
  uint32 holder_timeline;  // 0: none known
  TimestampTz checked_at;  // 0: never
  TimestampTz repaired_at;  // when this node last pointed it here itself (flap memory); 0: never
  char last_error[256];
};

// One vip_claim() call: asked by a backend, answered by the worker. Each
// call has its own slot (its number modulo kClaimSlots), its own force flag
// and its own answer; at most kClaimSlots wait at once.
struct ClaimSlot {
  uint64 seq;  // 0: never used
  bool force;
  char requested_by[NAMEDATALEN];
  bool answered;
  bool ok;
  State state;  // the state the claim ended in: the caller's answer, whatever happened since
  char error[512];
};
constexpr int kClaimSlots = 8;

// One entry of the recent events ring shown by vip_events().
struct EventSlot {
  TimestampTz at;
  char event[24];
  bool success;
  char details[480];
};
constexpr int kEventSlots = 64;

struct SharedState {
  LWLock *lock;
  pid_t worker_pid;              // 0 while no worker runs
  Latch *worker_latch;           // set by vip_claim() to wake the worker
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
  TimestampTz conflict_since;     // when the state became conflict; 0: never
  uint32 newest_seen;            // the newest timeline seen holding the VIP (a sticky fence)
  char holder[128];              // who fenced this node, when fenced
  uint32 holder_timeline;
  int8 source_dest_check;        // -1 unknown, 0 off, 1 on (traffic to the VIP dropped)

  // vip_claim(): a backend takes the number claim_request + 1 and fills its
  // slot; the worker answers the slots in order and advances claim_done,
  // which a restarted worker resumes from, so no call is answered twice.
  uint64 claim_request;
  uint64 claim_done;
  ClaimSlot claims[kClaimSlots];

  uint64 events_total;           // events ever recorded; the ring holds the last kEventSlots
  EventSlot events[kEventSlots];

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
