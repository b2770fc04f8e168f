// What this node is (standby or primary), how it became primary, and the
// state pg_vip reports for it. Kept apart from PostgreSQL so that every
// transition can be unit-tested.
#pragma once

#include <cstdint>

#include "cpp_only.hpp"

namespace pg_vip {

enum class Role : uint8_t { Unknown = 0, Standby, Primary };

// How the node came to be primary. A promotion (it started as a standby, then
// left recovery) entitles it to take the VIP from an older timeline; a start
// as primary (restart, crash recovery) must first check that no newer
// timeline holds the VIP.
enum class PrimaryBy : uint8_t { None = 0, Promotion, Start };

enum class State : uint8_t {
  Unconfigured = 0,  // pg_vip.vip or pg_vip.route_tables is empty
  Disabled,          // pg_vip.enabled = off
  Standby,           // in recovery: never changes AWS
  Primary,           // primary, no claim made yet
  Claiming,          // pointing the routes here
  Held,              // every route table verified to point here
  Fenced,            // a newer timeline holds the VIP: hands off
  DryRun,            // the decision was made, nothing was sent
  Conflict,          // something keeps moving a route away: repairs stopped
};

const char *to_string(Role role) noexcept;
const char *to_string(PrimaryBy by) noexcept;
const char *to_string(State state) noexcept;

// Follows RecoveryInProgress() as the worker observes it.
class RoleTracker {
 public:
  struct Change {
    bool became_primary = false;  // true exactly once, on the observation that saw it
    PrimaryBy by = PrimaryBy::None;
  };

  // server_started_as_standby: standby.signal was present when the server
  // (re)initialised shared memory. prior_role/prior_by: what shared memory
  // already records, so that a restarted worker neither reports a second
  // promotion nor forgets the first.
  RoleTracker(bool server_started_as_standby, Role prior_role, PrimaryBy prior_by) noexcept;

  Change observe(bool in_recovery) noexcept;

  Role role() const noexcept { return role_; }
  PrimaryBy primary_by() const noexcept { return by_; }

 private:
  bool started_as_standby_;
  Role role_;
  PrimaryBy by_;
};

struct StateInputs {
  bool enabled = true;
  bool configured = false;
  Role role = Role::Unknown;
};

// The state shown in vip_status() before any claim activity.
State base_state(const StateInputs &in) noexcept;

}  // namespace pg_vip
