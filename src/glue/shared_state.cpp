#include "shared_state.hpp"

#include <unistd.h>

#include "fence_action.hpp"

extern "C" {
#include "storage/proc.h"
}

namespace pg_vip {
namespace {

SharedState *state = nullptr;
shmem_request_hook_type prev_shmem_request_hook = nullptr;
shmem_startup_hook_type prev_shmem_startup_hook = nullptr;

void request_shared_memory() {
  if (prev_shmem_request_hook) prev_shmem_request_hook();
  RequestAddinShmemSpace(MAXALIGN(sizeof(SharedState)));
  RequestNamedLWLockTranche("pg_vip", 1);
}

// Runs in the postmaster at start and again after every crash restart, before
// the startup process may remove standby.signal on promotion: the moment to
// record whether this server life began as a standby.
void attach_shared_memory() {
  if (prev_shmem_startup_hook) prev_shmem_startup_hook();
  LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
  bool found = false;
  state = static_cast<SharedState *>(ShmemInitStruct("pg_vip", sizeof(SharedState), &found));
  if (!found) {
    memset(static_cast<void *>(state), 0, sizeof(SharedState));
    state->lock = &(GetNamedLWLockTranche("pg_vip"))->lock;
    state->started_as_standby = access("standby.signal", F_OK) == 0;
    state->status = Status{};
    preflight_cache_init(&state->preflight);
    fence_action::load_remembered(state);
  }
  LWLockRelease(AddinShmemInitLock);
}

void unregister_worker(int, Datum) {
  LWLockAcquire(state->lock, LW_EXCLUSIVE);
  if (state->worker_pid == MyProcPid) {
    state->worker_pid = 0;
    state->worker_latch = nullptr;
  }
  LWLockRelease(state->lock);
}

}  // namespace

void shared_state_install_hooks() {
  prev_shmem_request_hook = shmem_request_hook;
  shmem_request_hook = request_shared_memory;
  prev_shmem_startup_hook = shmem_startup_hook;
  shmem_startup_hook = attach_shared_memory;
}

SharedState *shared_state() { return state; }

SharedState *shared_state_or_error() {
  if (state == nullptr)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("pg_vip is not loaded through shared_preload_libraries"),
                    errdetail("pg_vip needs its background worker and shared memory, which exist only "
                              "when the library is loaded at server start."),
                    errhint("Add pg_vip to shared_preload_libraries in postgresql.conf and restart "
                            "the server.")));
  return state;
}

void register_worker(SharedState *shared, Status &published) {
  before_shmem_exit(unregister_worker, 0);
  LWLockAcquire(shared->lock, LW_EXCLUSIVE);
  shared->worker_pid = MyProcPid;
  shared->worker_latch = &MyProc->procLatch;
  published = shared->status;
  LWLockRelease(shared->lock);
}

int waiting_claims(SharedState *shared, ClaimSlot (&out)[kClaimSlots]) {
  int n = 0;
  LWLockAcquire(shared->lock, LW_SHARED);
  for (uint64 seq = shared->status.claim_done + 1; seq <= shared->claim_request && n < kClaimSlots; ++seq) {
    const ClaimSlot &slot = shared->claims[seq % kClaimSlots];
    if (slot.seq == seq && !slot.answered) out[n++] = slot;
  }
  LWLockRelease(shared->lock);
  return n;
}

void publish(SharedState *shared, const Status &status, const Messages &messages) {
  LWLockAcquire(shared->lock, LW_EXCLUSIVE);
  shared->status = status;
  for (int i = 0; i < messages.n_answers; ++i) {
    const AnswerRecord &answer = messages.answers[i];
    ClaimSlot &slot = shared->claims[answer.seq % kClaimSlots];
    if (slot.seq != answer.seq) continue;  // cannot happen: a slot is reused only once answered
    slot.answered = true;
    slot.ok = answer.ok;
    slot.state = answer.state;
    strlcpy(slot.error, answer.error, sizeof slot.error);
  }
  for (int i = 0; i < messages.n_events; ++i) shared->events[shared->events_total++ % kEventSlots] = messages.events[i];
  LWLockRelease(shared->lock);
}

}  // namespace pg_vip
