// The SQL functions. Each copies what it needs from shared memory under the
// lock, then builds its result from the copy.
#include <cstddef>

#include "../core/settings.hpp"
#include "door.hpp"
#include "shared_state.hpp"

extern "C" {
#include "catalog/pg_type_d.h"
#include "utils/array.h"
#include "utils/tuplestore.h"
}

#ifndef PG_VIP_VERSION
#error "PG_VIP_VERSION must be defined by the build (it comes from pg_vip.control)"
#endif

namespace pg_vip {
namespace {

// A consistent copy of the shared state; static because it is large and one
// backend runs one function at a time.
SharedState snapshot;

const SharedState &take_snapshot() {
  SharedState *shared = shared_state_or_error();
  LWLockAcquire(shared->lock, LW_SHARED);
  int n = shared->n_route_tables;
  memcpy(&snapshot, shared, offsetof(SharedState, routes) + sizeof(RouteSlot) * n);
  LWLockRelease(shared->lock);
  return snapshot;
}

Datum text_or_null(const char *s, bool *isnull) {
  *isnull = s[0] == '\0';
  return *isnull ? (Datum) 0 : CStringGetTextDatum(s);
}

}  // namespace
}  // namespace pg_vip

using namespace pg_vip;

PG_VIP_FUNCTION(vip_status) {
  const SharedState &s = take_snapshot();
  TupleDesc tupdesc;
  if (get_call_result_type(fcinfo, nullptr, &tupdesc) != TYPEFUNC_COMPOSITE)
    elog(ERROR, "return type must be a row type");
  tupdesc = BlessTupleDesc(tupdesc);

  constexpr int kColumns = 13;
  Datum values[kColumns];
  bool nulls[kColumns] = {};
  int c = 0;
  values[c] = text_or_null(s.node_name, &nulls[c]); c++;
  values[c] = CStringGetTextDatum(to_string(s.role)); c++;
  values[c] = CStringGetTextDatum(to_string(s.state)); c++;
  values[c] = text_or_null(s.vip, &nulls[c]); c++;
  values[c] = text_or_null(s.network_interface, &nulls[c]); c++;
  values[c] = Int64GetDatum(s.timeline); nulls[c] = s.timeline == 0; c++;
  values[c] = TimestampTzGetDatum(s.promoted_at); nulls[c] = s.promoted_at == 0; c++;
  nulls[c] = s.primary_by == PrimaryBy::None;
  values[c] = nulls[c] ? (Datum) 0 : CStringGetTextDatum(to_string(s.primary_by)); c++;
  Datum *ids = static_cast<Datum *>(palloc(sizeof(Datum) * (s.n_route_tables + 1)));
  for (int i = 0; i < s.n_route_tables; ++i) ids[i] = CStringGetTextDatum(s.routes[i].route_table_id);
  values[c] = PointerGetDatum(construct_array(ids, s.n_route_tables, TEXTOID, -1, false, TYPALIGN_INT)); c++;
  values[c] = Int32GetDatum(s.routes_held); c++;
  values[c] = Float8GetDatum(s.last_claim_ms); nulls[c] = s.last_claim_ms < 0; c++;
  values[c] = text_or_null(s.last_error, &nulls[c]); c++;
  values[c] = Int32GetDatum(s.worker_pid); nulls[c] = s.worker_pid == 0; c++;
  Assert(c == kColumns);
  PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

PG_VIP_FUNCTION(vip_routes) {
  const SharedState &s = take_snapshot();
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
  for (int i = 0; i < s.n_route_tables; ++i) {
    const RouteSlot &r = s.routes[i];
    constexpr int kColumns = 8;
    Datum values[kColumns];
    bool nulls[kColumns] = {};
    int c = 0;
    values[c] = CStringGetTextDatum(r.route_table_id); c++;
    values[c] = text_or_null(r.destination, &nulls[c]); c++;
    values[c] = text_or_null(r.target, &nulls[c]); c++;
    values[c] = CStringGetTextDatum(to_string(r.state)); c++;
    values[c] = text_or_null(r.holder, &nulls[c]); c++;
    values[c] = Int64GetDatum(r.holder_timeline); nulls[c] = r.holder_timeline == 0; c++;
    values[c] = TimestampTzGetDatum(r.checked_at); nulls[c] = r.checked_at == 0; c++;
    values[c] = text_or_null(r.last_error, &nulls[c]); c++;
    Assert(c == kColumns);
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  return (Datum) 0;
}

// Validates a setting value exactly as postgresql.conf would and returns its
// canonical form: lets a DBA check a value before a reload.
PG_VIP_FUNCTION(vip_check_setting) {
  (void) shared_state_or_error();
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) PG_RETURN_NULL();
  char *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  char *value = text_to_cstring(PG_GETARG_TEXT_PP(1));
  door::Failure failure;
  char *canonical = nullptr;
  if (!door::run([&] { canonical = door::copy_out(settings::normalize(name, value)); }, failure))
    door::raise_error(failure);
  if (canonical == nullptr) ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
  text *result = cstring_to_text(canonical);
  free(canonical);
  PG_RETURN_TEXT_P(result);
}

// The version of the loaded library, to compare with the installed SQL.
PG_VIP_FUNCTION(vip_version) {
  (void) shared_state_or_error();
  PG_RETURN_TEXT_P(cstring_to_text(PG_VIP_VERSION));
}
