// What differs between the PostgreSQL major versions pg_vip is built for
// (15, 17, 18), one function per difference, each chosen here, once, by
// PG_VERSION_NUM; the glue calls these and names no version itself. (Who
// owns a GUC string is guc_memory.hpp's concern.) Include after
// PostgreSQL's headers, storage/proc.h and utils/backend_status.h among them.
#pragma once

#ifndef PG_VERSION_NUM
#error "include PostgreSQL's headers (pg.hpp) before pg_compat.hpp"
#endif

namespace pg_vip::pg_compat {

// The local copy of the i-th backend status entry, 1 <= i <=
// pgstat_fetch_stat_numbackends(), or nullptr. PostgreSQL 16 renamed
// pgstat_fetch_stat_local_beentry() to pgstat_get_local_beentry_by_index()
// (commit 8dfa37b797), with the same 1-based index.
inline LocalPgBackendStatus *local_backend_status(int i) {
#if PG_VERSION_NUM >= 160000
  return pgstat_get_local_beentry_by_index(i);
#else
  return pgstat_fetch_stat_local_beentry(i);
#endif
}

// Whether a live process is a regular backend (a client's session), as its
// PGPROC says. PostgreSQL 18 replaced PGPROC.isBackgroundWorker by its
// negation, isRegularBackend (commit 508a97ee); the current minor releases
// of 15 and 17 set isBackgroundWorker for every process that is not a
// regular backend, so both read the same.
inline bool is_regular_backend(const PGPROC *proc) {
#if PG_VERSION_NUM >= 180000
  return proc->isRegularBackend;
#else
  return !proc->isBackgroundWorker;
#endif
}

}  // namespace pg_vip::pg_compat
