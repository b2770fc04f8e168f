#include "role.hpp"

namespace pg_vip {

const char *to_string(Role role) noexcept {
  switch (role) {
    case Role::Standby: return "standby";
    case Role::Primary: return "primary";
    case Role::Unknown: break;
  }
  return "unknown";
}

const char *to_string(PrimaryBy by) noexcept {
  switch (by) {
    case PrimaryBy::Promotion: return "promotion";
    case PrimaryBy::Start: return "start";
    case PrimaryBy::None: break;
  }
  return "none";
}

const char *to_string(State state) noexcept {
  switch (state) {
    case State::Unconfigured: return "unconfigured";
    case State::Disabled: return "disabled";
    case State::Standby: return "standby";
    case State::Primary: return "primary";
    case State::Claiming: return "claiming";
    case State::Held: return "held";
    case State::Fenced: return "fenced";
    case State::DryRun: return "dry_run";
    case State::Conflict: return "conflict";
  }
  return "unknown";
}

RoleTracker::RoleTracker(bool server_started_as_standby, Role prior_role, PrimaryBy prior_by) noexcept
    : started_as_standby_(server_started_as_standby), role_(prior_role), by_(prior_by) {}

RoleTracker::Change RoleTracker::observe(bool in_recovery) noexcept {
  Change change;
  if (in_recovery) {
    // Recovery never resumes once it has ended, short of a server restart,
    // which re-creates shared memory and this tracker with it.
    if (role_ == Role::Unknown) role_ = Role::Standby;
    return change;
  }
  if (role_ == Role::Primary) return change;
  // Only a server that began this life as a standby (standby.signal) can have
  // been promoted, whether the worker watched recovery end or was started
  // after it (hot_standby = off). Crash recovery and archive recovery
  // (recovery.signal, a restore) end as a start: such a node must check the
  // fence before it claims.
  by_ = started_as_standby_ ? PrimaryBy::Promotion : PrimaryBy::Start;
  role_ = Role::Primary;
  change.became_primary = true;
  change.by = by_;
  return change;
}

State base_state(const StateInputs &in) noexcept {
  if (!in.enabled) return State::Disabled;
  if (!in.configured) return State::Unconfigured;
  return in.role == Role::Primary ? State::Primary : State::Standby;
}

}  // namespace pg_vip
