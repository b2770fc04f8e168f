// The worker's state in shared memory. One writer (the worker, publishing
// what its controller reports); SQL functions read it under the lock and
// copy it out. Plain data only: it lives in the
// postmaster's shared memory and is re-created after a crash restart.
#pragma once

#include "../core/status.hpp"
#include "preflight_cache.hpp"
#include "pg.hpp"

namespace pg_vip {

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

constexpr int kEventSlots = 64;

struct SharedState {
  LWLock *lock;
  pid_t worker_pid;         // 0 while no worker runs
  Latch *worker_latch;      // set by vip_claim() to wake the worker
  bool started_as_standby;  // standby.signal present when shared memory was made

  // What the controller last reported (it alone writes it; the worker
  // copies it in whole), and what a restarted worker resumes from.
  Status status;

  // vip_claim(): a backend takes the number claim_request + 1 and fills its
  // slot; the worker answers the slots in order (status.claim_done is the
  // last answered, and a restarted worker resumes from it, so no call is
  // answered twice).
  uint64 claim_request;
  ClaimSlot claims[kClaimSlots];

  uint64 events_total;  // events ever recorded; the ring holds the last kEventSlots
  EventRecord events[kEventSlots];

  // The fence remembered across a restart (fence_action.hpp): set at start
  // from $PGDATA/pg_vip.fence, cleared by the worker once this node holds
  // the VIP or is a standby. Under `lock`.
  bool fence_remembered;
  char remembered_holder[sizeof Status::holder];
  uint32 remembered_holder_timeline;

  // vip_preflight()'s runs (preflight_cache.hpp). Under `lock`.
  PreflightCache preflight;
};

// Installs the shared memory hooks; called from _PG_init in the postmaster.
void shared_state_install_hooks();

// The attached state, or nullptr when pg_vip was not preloaded.
SharedState *shared_state();

// ereports ERROR with a hint when pg_vip was not loaded through
// shared_preload_libraries; otherwise returns the state.
SharedState *shared_state_or_error();

// The worker's side. Each takes the lock once and copies plain data only.

// Records this process as the worker (cleared again at its exit) and copies
// out the status a previous worker published, to resume from.
void register_worker(SharedState *shared, Status &published);

// The vip_claim() calls waiting to be answered, oldest first; returns how many.
int waiting_claims(SharedState *shared, ClaimSlot (&out)[kClaimSlots]);

// The status in one copy, the answers into their slots, the events into the ring.
void publish(SharedState *shared, const Status &status, const Messages &messages);

}  // namespace pg_vip
