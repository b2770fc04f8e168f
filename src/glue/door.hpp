// The one door between the C++ core and PostgreSQL.
//
// PostgreSQL reports errors with longjmp; C++ with exceptions. Neither may
// cross into the other: a C++ exception reaching PostgreSQL terminates the
// process (and the postmaster then restarts the whole server), and an
// ereport(ERROR) unwinding over live C++ objects skips their destructors.
// So core code runs only inside door::run(), which catches everything and
// copies the error into a plain struct; the glue raises it with door::raise()
// once the C++ scope has closed.
//
// SQL entry points are declared with PG_VIP_FUNCTION, whose body is
// PostgreSQL code run inside sql_entry's last catch-all. Such a body may
// ereport(ERROR), on purpose (vip_claim() on a standby) or not (any palloc
// can run out of memory, CHECK_FOR_INTERRUPTS() raises a cancel): forbidding
// it could not be kept. What makes it safe is the rule the C++ standard
// gives for longjmp ([csetjmp.syn]): it is defined when throwing in its
// place would run no non-trivial destructor. The frames a body's longjmp
// leaves are sql_entry's (a Failure and a Datum: trivial), run()'s try block
// (the unwinder's tables, nothing registered at run time) and the body's own
// with the glue functions it calls. So the rule, for every PG_VIP_FUNCTION
// body and every glue function it calls: no object with a non-trivial
// destructor (std::string, std::vector, a unique_ptr, a lambda capturing one
// by value...) is alive outside a door::run() callable. C++ objects live only
// inside run(); what leaves it is malloc'd or fixed-size and freed by hand.
//
// test/door_frames.pl holds it on the compiled code: a function with such an
// object has cleanup code in its unwind tables (an LSDA), and in the SQL
// entry points' files only door::run's instances may have one (run is never
// inlined, so that its callables' objects stay in its own frame).
#pragma once

#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "../core/error.hpp"
#include "pg.hpp"

namespace pg_vip::door {

// A caught error, in fixed buffers: copying it out allocates nothing, so
// nothing can fail between the catch and the ereport.
struct Failure {
  bool failed = false;
  int sqlstate = 0;
  char message[512] = {};
  char detail[1024] = {};
  char hint[512] = {};
};

void fill(Failure &f, int sqlstate, const char *message, const char *detail = "", const char *hint = "") noexcept;

// Runs fn, a callable that uses the core. Returns true when it finished;
// false with `f` filled when it threw. Never throws, never longjmps, as long
// as fn calls no PostgreSQL function that can ereport(ERROR).
template <typename Fn>
__attribute__((noinline)) bool run(Fn &&fn, Failure &f) noexcept {
  try {
    fn();
    return true;
  } catch (const ConfigError &e) {
    fill(f, ERRCODE_INVALID_PARAMETER_VALUE, e.what(), e.detail().c_str(), e.hint().c_str());
  } catch (const Error &e) {
    fill(f, ERRCODE_EXTERNAL_ROUTINE_EXCEPTION, e.what(), e.detail().c_str(), e.hint().c_str());
  } catch (const std::bad_alloc &) {
    fill(f, ERRCODE_OUT_OF_MEMORY, "out of memory in pg_vip");
  } catch (const std::exception &e) {
    fill(f, ERRCODE_INTERNAL_ERROR, "unexpected error in pg_vip", e.what(),
         "This is a bug in pg_vip; please report it.");
  } catch (...) {
    fill(f, ERRCODE_INTERNAL_ERROR, "unexpected error in pg_vip", "An exception of unknown type was thrown.",
         "This is a bug in pg_vip; please report it.");
  }
  return false;
}

// Copies a std::string the core made into malloc'd memory, so that it can
// leave the C++ scope; the caller pstrdup()s it and frees it.
char *copy_out(const std::string &s) noexcept;

// Raises `f` as ereport(elevel). Call it only from a frame with no live C++
// object: with ERROR it does not return.
void raise(const Failure &f, int elevel);
[[noreturn]] void raise_error(const Failure &f);

// The last catch-all behind every SQL entry point, should an exception slip
// out of glue code that was meant not to throw. `impl` may ereport(ERROR):
// the longjmp leaves this frame and run()'s, which hold nothing to destroy
// (see the top of this file for the rule the body keeps).
template <typename Impl>
Datum sql_entry(Impl impl, FunctionCallInfo fcinfo) {
  Failure f;
  Datum result = 0;
  if (run([&] { result = impl(fcinfo); }, f)) return result;
  raise_error(f);
}

}  // namespace pg_vip::door

// Declares an SQL-callable function NAME whose body is NAME_impl.
#define PG_VIP_FUNCTION(NAME)                                                           \
  static Datum NAME##_impl(FunctionCallInfo fcinfo);                                    \
  extern "C" {                                                                          \
  PG_FUNCTION_INFO_V1(NAME);                                                            \
  Datum NAME(PG_FUNCTION_ARGS) { return pg_vip::door::sql_entry(NAME##_impl, fcinfo); } \
  }                                                                                     \
  static Datum NAME##_impl([[maybe_unused]] FunctionCallInfo fcinfo)
