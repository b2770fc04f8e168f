// The events pg_vip reports (vip_events(), notifications). Named as repmgr
// users expect: one word per thing that happened to the VIP.
#pragma once

#include <array>
#include <string_view>

#include "cpp_only.hpp"

namespace pg_vip {

constexpr std::array<std::string_view, 6> kEventNames = {"vip_claim",  "vip_claim_failed", "vip_held",
                                                         "vip_fenced", "vip_repaired",     "vip_conflict"};

inline bool is_event_name(std::string_view name) {
  for (auto e : kEventNames)
    if (e == name) return true;
  return false;
}

}  // namespace pg_vip
