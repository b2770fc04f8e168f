// What a fenced node does about its own clients (pg_vip.fence_action). Moving
// the VIP away from a stale primary does not stop applications or tools that
// connect to its own address from writing to it: a split brain only a tool
// inside PostgreSQL can close. Two halves: a ClientAuthentication_hook that
// refuses new connections while the published status is fenced, and a step
// the worker runs after each publish that ends the sessions already there.
// Both spare the same sessions: superusers', physical replication's, and
// ordinary sessions of the roles pg_vip.fence_allow_roles allows (monitoring).
#pragma once

#include "../core/status.hpp"
#include "pg.hpp"
#include "shared_state.hpp"

namespace pg_vip::fence_action {

// The values of pg_vip.fence_action, in order of force: each does what the
// one before it does, and more.
enum Action : int {
  kNone = 0,   // the VIP is moved, nothing else changes
  kReject,     // new connections are refused while fenced, but superusers', physical replication's and
               // ordinary sessions of the roles pg_vip.fence_allow_roles allows
  kTerminate,  // kReject, and the client sessions already there are ended once per fence
};

// The check hook of pg_vip.fence_allow_roles: a comma-separated list of
// role names, written as SQL identifiers (SplitIdentifierString), public
// refused. Whether each role exists is not checked here, as a GUC check may
// run where the catalogs cannot be read (the postmaster, at reload): a name
// that matches no role is a WARNING when a fence begins, and lets no one in.
bool check_allow_roles(char **newval, void **extra, GucSource source);

// Chains the connection check behind the ClientAuthentication_hook installed
// before; called from _PG_init in the postmaster, once.
void install_hook();

// The fence is remembered in $PGDATA/pg_vip.fence while this node is fenced:
// a stale primary that restarts knows nothing of the fence until its worker
// has read a route table, which while AWS is unreachable (the partition that
// made it stale) may be never. So the file is read when shared memory is
// made, and the node refuses connections from its first one, until it holds
// the VIP or is a standby. A server that starts as a standby forgets it.
// Called by the postmaster, in the data directory, with nothing locked;
// raises nothing.
void load_remembered(SharedState *shared) noexcept;

// The worker's half. Remembers what the fence action last did, so that it
// acts once per entry into the fenced state and not on every turn of the loop.
class Enforcer {
 public:
  // A restarted worker resumes from the status it found published: a fence
  // that already ended the sessions of its time does not end them again.
  void resume(const Status &published) noexcept;

  // After the worker published `published`: when the action in force for
  // this node newly became reject or terminate, logs it (and, for
  // terminate, ends the ordinary client sessions); when it ended, logs that
  // connections are accepted again. Calls PostgreSQL: run it outside
  // door::run().
  void after_publish(const Status &published);

 private:
  // While a fence is in force, names each role of pg_vip.fence_allow_roles
  // that does not exist in a WARNING: once per fence and per value of the
  // setting, not on every turn.
  void check_allowed_roles(Action now);

  Action in_force_ = kNone;
  char *checked_roles_ = nullptr;  // the value last checked while fenced (malloc'd), or none
};

}  // namespace pg_vip::fence_action
