// The events pg_vip reports (vip_events(), notifications). Named as repmgr
// users expect: one word per thing that happened to the VIP.
#pragma once

#include <array>
#include <stdexcept>
#include <string_view>

#include "cpp_only.hpp"

namespace pg_vip {

// vip_preflight_failed: a check of vip_preflight() failed when the worker
// started or reloaded its settings.
constexpr std::array<std::string_view, 7> kEventNames = {
    "vip_claim", "vip_claim_failed", "vip_held", "vip_fenced", "vip_repaired", "vip_conflict", "vip_preflight_failed"};

constexpr bool is_event_name(std::string_view name) {
  for (auto e : kEventNames)
    if (e == name) return true;
  return false;
}

// An event's name, checked against kEventNames where it is made: the
// constants below are constant expressions, so a name missing from the
// list (a typo, an event added in one place only) does not compile. The
// controller raises events only through these.
class EventName {
 public:
  constexpr explicit EventName(std::string_view name) : name_(checked(name)) {}
  constexpr std::string_view text() const { return name_; }

 private:
  static constexpr std::string_view checked(std::string_view name) {
    return is_event_name(name) ? name : throw std::invalid_argument("not in kEventNames");
  }
  std::string_view name_;
};

namespace event {
inline constexpr EventName kClaim{"vip_claim"};
inline constexpr EventName kClaimFailed{"vip_claim_failed"};
inline constexpr EventName kHeld{"vip_held"};
inline constexpr EventName kFenced{"vip_fenced"};
inline constexpr EventName kRepaired{"vip_repaired"};
inline constexpr EventName kConflict{"vip_conflict"};
inline constexpr EventName kPreflightFailed{"vip_preflight_failed"};
}  // namespace event

}  // namespace pg_vip
