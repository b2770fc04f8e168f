// vip_preflight()'s checks, for the SQL function and for the worker (at
// start and after each reload). The rows leave the door as plain malloc'd
// copies, so the caller can report them with no C++ object alive.
#pragma once

#include "door.hpp"

namespace pg_vip {

struct PreflightRow {
  char *check;
  bool ok;
  char *detail;
  char *hint;
};

struct PreflightRows {
  PreflightRow *rows = nullptr;
  int n = 0;
  int failed = 0;
  char *failed_names = nullptr;  // "vip_bound, clock_skew": the vip_preflight_failed event's details
  int throttled = 0;             // answers AWS throttled during the run
};

// Runs every check with the pg_vip.* settings as they are now, each request
// bounded by pg_vip.request_timeout and stopped early when `cancelled`
// (may be null) says so, or, with `stop_when_throttled` (the worker's
// run), once AWS throttled one of them: what is left would only draw on
// the account's buckets again. False with `failure` filled when the door
// caught an error (out of memory; a failed check is a row, not a failure).
// Frees nothing: call preflight_rows_free() in any case.
bool preflight_run(bool (*cancelled)(), bool stop_when_throttled, PreflightRows &out, door::Failure &failure) noexcept;
void preflight_rows_free(PreflightRows &rows) noexcept;

}  // namespace pg_vip
