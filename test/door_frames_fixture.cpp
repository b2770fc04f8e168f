// A PG_VIP_FUNCTION that breaks door.hpp's rule: a std::string is alive when
// the body may ereport(ERROR). test/t/047_door_frames.pl expects
// test/door_frames.pl to name it; it is never built into pg_vip.
#include <string>

#include "glue/door.hpp"

extern "C" {
#include "utils/builtins.h"
}

PG_VIP_FUNCTION(door_frames_fixture) {
  std::string copy(text_to_cstring(PG_GETARG_TEXT_PP(0)));
  if (copy.empty()) ereport(ERROR, (errmsg("empty")));
  PG_RETURN_TEXT_P(cstring_to_text(copy.c_str()));
}
