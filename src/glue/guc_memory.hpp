// Who owns a GUC string. Up to PostgreSQL 15 the server keeps string
// settings in malloc()'d memory, so a check hook that replaces *newval frees
// the old value with free() and hands over a strdup()'d one. From 16 they
// live in GUC's own memory context: the hook must use guc_strdup() and
// guc_free() (utils/guc.h), and free() on such a string aborts the server.
// The choice is made here, once, by PG_VERSION_NUM; test/compile checks
// that 15 and 16+ each take their branch.
//
// Includes no header itself: the glue includes PostgreSQL's before it, and
// the compile test supplies stand-ins for the functions it names.
#pragma once

#ifndef PG_VERSION_NUM
#error "include PostgreSQL's headers (pg.hpp) before guc_memory.hpp"
#endif

namespace pg_vip::gucs {

constexpr bool kStringsInGucContext = PG_VERSION_NUM >= 160000;

// A copy of `s` that the server may keep as a setting's value, or nullptr
// when out of memory.
inline char *guc_string_copy(const char *s) {
#if PG_VERSION_NUM >= 160000
  return guc_strdup(LOG, s);
#else
  return strdup(s);
#endif
}

// Frees a setting's value the server handed to a check hook.
inline void guc_string_free(char *s) {
#if PG_VERSION_NUM >= 160000
  guc_free(s);
#else
  free(s);
#endif
}

}  // namespace pg_vip::gucs
