// Compile-time (and run) check that guc_memory.hpp takes the branch meant
// for the PostgreSQL version it is built against. Built twice by
// `make check-guc-memory`: with PG_VERSION_NUM 150000 and 160000, each time
// with stand-ins for the allocators it may call, so a wrong branch either
// fails to compile, fails the static_assert, or calls the wrong stand-in.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#ifndef PG_VERSION_NUM
#error "build with -DPG_VERSION_NUM=..."
#endif

namespace {
int guc_calls = 0;
}
constexpr int LOG = 15;
char *guc_strdup(int elevel, const char *s) {
  ++guc_calls;
  return elevel == LOG ? strdup(s) : nullptr;
}
void guc_free(void *p) {
  ++guc_calls;
  free(p);
}

#include "glue/guc_memory.hpp"

static_assert(pg_vip::gucs::kStringsInGucContext == (PG_VERSION_NUM >= 160000),
              "guc_memory.hpp picked the wrong owner for GUC strings");

int main() {
  char *s = pg_vip::gucs::guc_string_copy("rtb-1,rtb-2");
  bool copied = s != nullptr && strcmp(s, "rtb-1,rtb-2") == 0;
  pg_vip::gucs::guc_string_free(s);
  int expected = PG_VERSION_NUM >= 160000 ? 2 : 0;
  if (!copied || guc_calls != expected) {
    fprintf(stderr, "PG_VERSION_NUM %d: guc_strdup/guc_free called %d times, expected %d\n", PG_VERSION_NUM, guc_calls,
            expected);
    return 1;
  }
  printf("PG_VERSION_NUM %d: GUC strings %s\n", PG_VERSION_NUM,
         PG_VERSION_NUM >= 160000 ? "from guc_strdup/guc_free" : "from strdup/free");
  return 0;
}
