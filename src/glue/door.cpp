#include "door.hpp"

namespace pg_vip::door {

void fill(Failure &f, int sqlstate, const char *message, const char *detail, const char *hint) noexcept {
  f.failed = true;
  f.sqlstate = sqlstate;
  strlcpy(f.message, message ? message : "", sizeof f.message);
  strlcpy(f.detail, detail ? detail : "", sizeof f.detail);
  strlcpy(f.hint, hint ? hint : "", sizeof f.hint);
}

char *copy_out(const std::string &s) noexcept {
  char *out = static_cast<char *>(std::malloc(s.size() + 1));
  if (out) std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}

void raise(const Failure &f, int elevel) {
  ereport(elevel, (errcode(f.sqlstate), errmsg_internal("%s", f.message),
                   f.detail[0] ? errdetail_internal("%s", f.detail) : 0, f.hint[0] ? errhint("%s", f.hint) : 0));
}

void raise_error(const Failure &f) {
  raise(f, ERROR);
  pg_unreachable();
}

}  // namespace pg_vip::door
