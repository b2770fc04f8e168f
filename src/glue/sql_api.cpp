// The SQL functions. Each copies what it needs from shared memory under the
// lock, then builds its result from the copy.
#include <cstddef>

#include "../core/settings.hpp"
#include "door.hpp"
#include "gucs.hpp"
#include "shared_state.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type_d.h"
#include "storage/latch.h"
#include "utils/array.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"
}

#ifndef PG_VIP_VERSION
#error "PG_VIP_VERSION must be defined by the build (it comes from pg_vip.control)"
#endif

namespace pg_vip {
namespace {

// A consistent copy of the status; static because it is large and one
// backend runs one function at a time.
struct StatusCopy {
  Status status;
  pid_t worker_pid;
};
StatusCopy snapshot;

const StatusCopy &take_snapshot() {
  SharedState *shared = shared_state_or_error();
  LWLockAcquire(shared->lock, LW_SHARED);
  // Only the route tables in use: the rest of the array is empty.
  int n = shared->status.n_targets;
  memcpy(&snapshot.status, &shared->status, offsetof(Status, tables) + sizeof(TargetStatus) * n);
  snapshot.worker_pid = shared->worker_pid;
  LWLockRelease(shared->lock);
  return snapshot;
}

// One result row, filled column by column; a column is NULL where the
// status says "none" (an empty text, a zero time or timeline).
template <int N>
struct Row {
  Datum values[N] = {};
  bool nulls[N] = {};
  int n = 0;

  void add(Datum value, bool isnull = false) {
    Assert(n < N);
    values[n] = isnull ? (Datum) 0 : value;
    nulls[n++] = isnull;
  }
  void text(const char *s) { add(s[0] ? CStringGetTextDatum(s) : (Datum) 0, s[0] == '\0'); }
  // The status keeps Unix microseconds (0: never); SQL shows timestamptz,
  // which counts from 2000-01-01.
  void time(int64 unix_micros) {
    add(TimestampTzGetDatum(unix_micros - (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY), unix_micros == 0);
  }
  bool complete() const { return n == N; }
};

// The columns every view of a target ends with: who holds it, when it was
// read, what went wrong.
template <int N>
void holder_columns(Row<N> &row, const TargetStatus &r) {
  row.text(r.holder);
  row.add(Int64GetDatum(r.holder_timeline), r.holder_timeline == 0);
  row.time(r.checked_at);
  row.text(r.last_error);
}

// vip_routes(): the route kind's view of vip_targets(), as it was before
// there were other kinds.
void routes_result(FunctionCallInfo fcinfo, const Status &s) {
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
  for (int i = 0; i < s.n_targets; ++i) {
    const TargetStatus &r = s.tables[i];
    if (r.kind != TargetKind::Route) continue;
    Row<8> row;
    row.add(CStringGetTextDatum(r.id));
    row.text(r.destination);
    row.text(r.target);
    row.add(CStringGetTextDatum(to_string(r.state)));
    holder_columns(row, r);
    Assert(row.complete());
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row.values, row.nulls);
  }
}

// The version of pg_vip's SQL objects in this database (pg_extension's
// extversion), or nullptr when pg_vip is not installed here. PostgreSQL 15
// has no syscache on pg_extension: one index scan, as ALTER EXTENSION does.
char *installed_sql_version() {
  Relation rel = table_open(ExtensionRelationId, AccessShareLock);
  ScanKeyData key;
  ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ, CStringGetDatum("pg_vip"));
  SysScanDesc scan = systable_beginscan(rel, ExtensionNameIndexId, true, nullptr, 1, &key);
  char *version = nullptr;
  HeapTuple tuple = systable_getnext(scan);
  if (HeapTupleIsValid(tuple)) {
    bool isnull = true;
    Datum datum = heap_getattr(tuple, Anum_pg_extension_extversion, RelationGetDescr(rel), &isnull);
    if (!isnull) version = text_to_cstring(DatumGetTextPP(datum));
  }
  systable_endscan(scan);
  table_close(rel, AccessShareLock);
  return version;
}

// Orders two dotted versions by their numbers (0.10.0 comes after 0.9.0).
int compare_versions(const char *a, const char *b) {
  for (;;) {
    char *a_end = nullptr;
    char *b_end = nullptr;
    long x = strtol(a, &a_end, 10);
    long y = strtol(b, &b_end, 10);
    if (x != y) return x < y ? -1 : 1;
    a = a_end;
    b = b_end;
    if (*a != '.' || *b != '.') return (*a == '.') - (*b == '.');
    ++a;
    ++b;
  }
}

// A library and SQL objects of different versions mostly work, until a
// function one side has and the other lacks is called: say so where a DBA
// looks first, with the step that brings them together.
void warn_on_version_mismatch() {
  const char *sql = installed_sql_version();
  if (sql == nullptr || strcmp(sql, PG_VIP_VERSION) == 0) return;
  // Once per session and version: a monitoring connection that calls
  // vip_status() every scrape must not fill the log with the same warning.
  static char warned_for[64] = "";
  if (strcmp(warned_for, sql) == 0) return;
  strlcpy(warned_for, sql, sizeof warned_for);
  bool library_newer = compare_versions(PG_VIP_VERSION, sql) > 0;
  ereport(WARNING,
          (errmsg("pg_vip's loaded library and its SQL objects in this database differ in version"),
           errdetail("The server has loaded the pg_vip library %s; this database has pg_vip's SQL objects at %s.",
                     PG_VIP_VERSION, sql),
           library_newer ? errhint("Run ALTER EXTENSION pg_vip UPDATE in this database.")
                         : errhint("Install pg_vip %s if it is not installed, then restart the server so that it "
                                   "loads that library.",
                                   sql)));
}

}  // namespace
}  // namespace pg_vip

using namespace pg_vip;

PG_VIP_FUNCTION(vip_status) {
  const StatusCopy &snap = take_snapshot();
  warn_on_version_mismatch();
  const Status &s = snap.status;
  TupleDesc tupdesc;
  if (get_call_result_type(fcinfo, nullptr, &tupdesc) != TYPEFUNC_COMPOSITE)
    elog(ERROR, "return type must be a row type");
  tupdesc = BlessTupleDesc(tupdesc);

  Row<16> row;
  row.text(s.node_name);
  row.add(CStringGetTextDatum(to_string(s.role)));
  row.add(CStringGetTextDatum(to_string(s.state)));
  row.text(s.vip);
  row.text(s.network_interface);
  row.add(Int64GetDatum(s.timeline), s.timeline == 0);
  row.time(s.promoted_at);
  row.add(CStringGetTextDatum(to_string(s.primary_by)), s.primary_by == PrimaryBy::None);
  Datum *ids = static_cast<Datum *>(palloc(sizeof(Datum) * (s.n_targets + 1)));
  for (int i = 0; i < s.n_targets; ++i) ids[i] = CStringGetTextDatum(s.tables[i].id);
  row.add(PointerGetDatum(construct_array(ids, s.n_targets, TEXTOID, -1, false, TYPALIGN_INT)));
  row.add(Int32GetDatum(s.targets_held));
  row.add(Float8GetDatum(s.last_claim_ms), s.last_claim_ms < 0);
  row.text(s.last_error);
  row.add(Int32GetDatum(snap.worker_pid), snap.worker_pid == 0);
  row.text(s.holder);
  row.add(Int64GetDatum(s.holder_timeline), s.holder_timeline == 0);
  row.add(BoolGetDatum(s.source_dest_check == 1), s.source_dest_check < 0);
  Assert(row.complete());
  PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, row.values, row.nulls)));
}

// One row per target of any kind.
PG_VIP_FUNCTION(vip_targets) {
  const Status &s = take_snapshot().status;
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
  for (int i = 0; i < s.n_targets; ++i) {
    const TargetStatus &r = s.tables[i];
    Row<9> row;
    row.add(CStringGetTextDatum(words(r.kind).name));
    row.add(CStringGetTextDatum(r.id));
    row.text(r.desired);
    row.text(r.target);
    row.add(CStringGetTextDatum(to_string(r.kind, r.state)));
    holder_columns(row, r);
    Assert(row.complete());
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row.values, row.nulls);
  }
  return (Datum) 0;
}

PG_VIP_FUNCTION(vip_routes) {
  routes_result(fcinfo, take_snapshot().status);
  return (Datum) 0;
}

PG_VIP_FUNCTION(vip_events) {
  SharedState *shared = shared_state_or_error();
  static EventRecord events[kEventSlots];
  LWLockAcquire(shared->lock, LW_SHARED);
  uint64 total = shared->events_total;
  uint64 first = total > kEventSlots ? total - kEventSlots : 0;
  int n = 0;
  for (uint64 i = first; i < total; ++i) events[n++] = shared->events[i % kEventSlots];
  LWLockRelease(shared->lock);

  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
  for (int i = 0; i < n; ++i) {
    Row<4> row;
    row.time(events[i].at);
    row.add(CStringGetTextDatum(events[i].event));
    row.add(BoolGetDatum(events[i].success));
    row.text(events[i].details);
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row.values, row.nulls);
  }
  return (Datum) 0;
}

// Asks the worker to claim the VIP now and waits (bounded) for its answer.
PG_VIP_FUNCTION(vip_claim) {
  SharedState *shared = shared_state_or_error();
  bool force = PG_ARGISNULL(0) ? false : PG_GETARG_BOOL(0);
  if (RecoveryInProgress())
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("vip_claim() can only run on a primary"),
                    errdetail("This node is a standby; a standby never changes the VIP's routes."),
                    errhint("Run vip_claim() on the primary, or promote this node first.")));
  const char *user = GetUserNameFromId(GetUserId(), false);
  LWLockAcquire(shared->lock, LW_EXCLUSIVE);
  if (shared->worker_pid == 0 || shared->worker_latch == nullptr) {
    LWLockRelease(shared->lock);
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("the pg_vip worker is not running"),
                    errhint("The postmaster restarts it within a second; try again, and look at the server log.")));
  }
  if (shared->claim_request - shared->status.claim_done >= static_cast<uint64>(kClaimSlots)) {
    LWLockRelease(shared->lock);
    ereport(ERROR, (errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED), errmsg("too many vip_claim() calls are waiting"),
                    errdetail("At most %d calls wait for the pg_vip worker at once.", kClaimSlots),
                    errhint("Wait for the calls under way to return, then try again.")));
  }
  uint64 request = ++shared->claim_request;
  ClaimSlot &mine = shared->claims[request % kClaimSlots];
  memset(&mine, 0, sizeof mine);
  mine.seq = request;
  mine.force = force;
  strlcpy(mine.requested_by, user, sizeof mine.requested_by);
  Latch *latch = shared->worker_latch;
  LWLockRelease(shared->lock);
  SetLatch(latch);
  if (force)
    ereport(WARNING, (errmsg("pg_vip: claim of the VIP forced by %s", user),
                      errdetail("The fence check is overridden: this node takes the VIP even from a newer timeline.")));

  // Bounded: the worker's own retries stop well before this.
  constexpr int kWaitSeconds = 60;
  TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), kWaitSeconds * 1000);
  static char error[512];
  bool ok = false;
  State state = State::Claiming;
  for (;;) {
    LWLockAcquire(shared->lock, LW_SHARED);
    const ClaimSlot &slot = shared->claims[request % kClaimSlots];
    // Answered in its slot; or the slot was taken by a later call before
    // this backend looked (eight more calls in between): the answer is lost.
    bool done = (slot.seq == request && slot.answered) || slot.seq != request;
    if (done && slot.seq == request) {
      ok = slot.ok;
      state = slot.state;  // as the claim ended, not as it is now
      strlcpy(error, slot.error, sizeof error);
    } else {
      ok = false;
      state = State::Claiming;
      strlcpy(error,
              "The answer to this call was lost: later vip_claim() calls took its slot before it was read. "
              "vip_status() and vip_routes() show where the VIP is now.",
              sizeof error);
    }
    LWLockRelease(shared->lock);
    if (done) break;
    if (GetCurrentTimestamp() >= deadline)
      ereport(ERROR, (errcode(ERRCODE_QUERY_CANCELED),
                      errmsg("the pg_vip worker did not finish the claim within %d seconds", kWaitSeconds),
                      errhint("The worker goes on trying; follow it in vip_status() and the server log.")));
    (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();
  }
  if (state == State::Disabled || state == State::Unconfigured)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("pg_vip did not claim the VIP: it is %s", to_string(state)), errdetail_internal("%s", error),
                    errhint("Set pg_vip.vip and pg_vip.route_tables, and pg_vip.enabled = on, then reload.")));
  if (state == State::Fenced && !ok)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("pg_vip did not claim the VIP: this node is fenced"), errdetail_internal("%s", error),
                    errhint("If this node really must take the VIP, run SELECT * FROM vip_claim(force => true).")));
  if (!ok && error[0])
    ereport(WARNING,
            (errmsg("pg_vip: the claim is not complete"), errdetail_internal("%s", error),
             errhint("The worker goes on retrying the pending route tables; vip_routes() shows each one's error.")));
  routes_result(fcinfo, take_snapshot().status);
  return (Datum) 0;
}

// Validates a setting value exactly as postgresql.conf would and returns its
// canonical form: lets a DBA check a value of any pg_vip setting before a
// reload.
PG_VIP_FUNCTION(vip_check_setting) {
  (void) shared_state_or_error();
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) PG_RETURN_NULL();
  char *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  char *value = text_to_cstring(PG_GETARG_TEXT_PP(1));
  PG_RETURN_TEXT_P(cstring_to_text(gucs::check_value(name, value)));
}

// The version of the loaded library, to compare with the installed SQL.
PG_VIP_FUNCTION(vip_version) {
  (void) shared_state_or_error();
  PG_RETURN_TEXT_P(cstring_to_text(PG_VIP_VERSION));
}
