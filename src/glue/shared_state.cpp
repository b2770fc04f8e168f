#include "shared_state.hpp"

#include <unistd.h>

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
    memset(state, 0, sizeof(SharedState));
    state->lock = &(GetNamedLWLockTranche("pg_vip"))->lock;
    state->started_as_standby = access("standby.signal", F_OK) == 0;
    state->role = Role::Unknown;
    state->state = State::Unconfigured;
    state->enabled = true;
    state->last_claim_ms = -1;
    state->source_dest_check = -1;
  }
  LWLockRelease(AddinShmemInitLock);
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

}  // namespace pg_vip
