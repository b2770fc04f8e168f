// The events pg_vip reports (vip_events(), notifications). Named as repmgr
// users expect: one word per thing that happened to the VIP.
#pragma once

#include <array>
#include <string_view>

#include "cpp_only.hpp"

namespace pg_vip {

// vip_preflight_failed: a check of vip_preflight() failed when the worker
// started or reloaded its settings.
constexpr std::array<std::string_view, 7> kEventNames = {
    "vip_claim", "vip_claim_failed", "vip_held", "vip_fenced", "vip_repaired", "vip_conflict", "vip_preflight_failed"};

inline bool is_event_name(std::string_view name) {
  for (auto e : kEventNames)
    if (e == name) return true;
  return false;
}

}  // namespace pg_vip
