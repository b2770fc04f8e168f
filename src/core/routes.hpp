// What a route table says about the VIP, as pg_vip last saw it.
#pragma once

#include <cstdint>

#include "cpp_only.hpp"

namespace pg_vip {

enum class RouteState : uint8_t {
  Unknown = 0,  // not read yet, or the read failed
  Ours,         // active, targets this node's interface
  Other,        // active, targets another interface or gateway
  Missing,      // no route for the VIP in the table
  Blackhole,    // its target is gone (stopped or terminated instance)
};

inline const char *to_string(RouteState s) noexcept {
  switch (s) {
    case RouteState::Ours: return "ours";
    case RouteState::Other: return "other";
    case RouteState::Missing: return "missing";
    case RouteState::Blackhole: return "blackhole";
    case RouteState::Unknown: break;
  }
  return "unknown";
}

}  // namespace pg_vip
