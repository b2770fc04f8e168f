// Loading: settings, shared memory and the background worker.
#include "door.hpp"
#include "fence_action.hpp"
#include "gucs.hpp"
#include "shared_state.hpp"

#ifndef PG_VIP_VERSION
#error "PG_VIP_VERSION must be defined by the build (it comes from pg_vip.control)"
#endif

extern "C" {
// The magic block, once. PostgreSQL 18 lets a library name itself and its
// version there (PG_MODULE_MAGIC_EXT; "Introduce PG_MODULE_MAGIC_EXT macro",
// March 2025, in the 18 release notes), which pg_get_loaded_modules() shows:
// which pg_vip a server has loaded, even where no CREATE EXTENSION ran.
#if PG_VERSION_NUM >= 180000
PG_MODULE_MAGIC_EXT(.name = "pg_vip", .version = PG_VIP_VERSION);
#else
PG_MODULE_MAGIC;
#endif
void _PG_init(void);
}

void _PG_init(void) {
  pg_vip::gucs::define();
  // Loaded later (by CREATE EXTENSION or a function call): settings only. The
  // SQL functions then refuse with a hint (shared_state_or_error).
  if (!process_shared_preload_libraries_in_progress || IsBinaryUpgrade) return;

  pg_vip::shared_state_install_hooks();
  // Inherited by every backend the postmaster forks: the check that keeps
  // clients off a fenced node (pg_vip.fence_action).
  pg_vip::fence_action::install_hook();

  BackgroundWorker worker;
  memset(&worker, 0, sizeof worker);
  // A database connection (to no database) makes the worker visible in
  // pg_stat_activity under its bgw_type.
  worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
  // Consistent state: a hot standby starts it during recovery, so it can see
  // recovery end. With hot_standby = off it starts once recovery has ended.
  worker.bgw_start_time = BgWorkerStart_ConsistentState;
  worker.bgw_restart_time = 1;
  strlcpy(worker.bgw_library_name, "pg_vip", BGW_MAXLEN);
  strlcpy(worker.bgw_function_name, "pg_vip_worker_main", BGW_MAXLEN);
  strlcpy(worker.bgw_name, "pg_vip worker", BGW_MAXLEN);
  strlcpy(worker.bgw_type, "pg_vip", BGW_MAXLEN);
  RegisterBackgroundWorker(&worker);
}
