#include "../core/fence_file.hpp"
#include "gucs.hpp"

#include "door.hpp"
#include "fence_action.hpp"
#include "shared_state.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <csignal>
#include <cstdio>

extern "C" {
// Debian's server headers are configured with GSSAPI, but libkrb5-dev is not
// among their dependencies, so libpq-be.h could not find gssapi.h. Port keeps
// the same layout without it (libpq-be.h stores its gss member as a pointer
// either way, for extensions' sake), and this file reads no GSSAPI field.
#undef ENABLE_GSS
#include "access/xact.h"
#include "libpq/auth.h"
#include "replication/walsender.h"
#include "storage/fd.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/acl.h"
#include "utils/backend_status.h"
#include "utils/varlena.h"
}

#include "pg_compat.hpp"

namespace pg_vip::fence_action {
namespace {

ClientAuthentication_hook_type prev_client_authentication_hook = nullptr;

// What a connection check or a termination needs of the status, copied under
// the lock so that nothing is raised while it is held.
struct Fence {
  bool fenced = false;
  bool remembered = false;  // fenced before this server started; not (yet) seen again
  char holder[sizeof Status::holder] = {};
  uint32 holder_timeline = 0;
  uint32 timeline = 0;
  char vip[sizeof Status::vip] = {};
};

// The holder's name comes from a fence tag, which anyone allowed
// ec2:CreateTags can write: no control character reaches a client or the log.
void scrub(char *text) {
  for (char *c = text; *c; ++c)
    if (iscntrl(static_cast<unsigned char>(*c))) *c = '?';
}

Fence read_fence(SharedState *shared) {
  Fence f;
  LWLockAcquire(shared->lock, LW_SHARED);
  // Another cluster's tag is a misconfiguration, not a sign that this node
  // is stale: its clients are left alone (the VIP stays fenced all the same).
  f.fenced = shared->status.state == State::Fenced && !shared->status.holder_foreign;
  if (f.fenced) {
    memcpy(f.holder, shared->status.holder, sizeof f.holder);
    f.holder_timeline = shared->status.holder_timeline;
  } else if (shared->fence_remembered) {
    f.fenced = f.remembered = true;
    memcpy(f.holder, shared->remembered_holder, sizeof f.holder);
    f.holder_timeline = shared->remembered_holder_timeline;
  }
  f.timeline = shared->status.timeline;
  memcpy(f.vip, shared->status.vip, sizeof f.vip);
  LWLockRelease(shared->lock);
  f.holder[sizeof f.holder - 1] = '\0';
  f.vip[sizeof f.vip - 1] = '\0';
  scrub(f.holder);
  return f;
}

// The roles pg_vip.fence_allow_roles names that exist, as a list of OIDs in
// the current memory context; with `warn_missing`, a WARNING for each name
// that matches no role. Reads pg_authid: call it inside a transaction.
List *allowed_roles(bool warn_missing) {
  char *copy = pstrdup(gucs::fence_allow_roles ? gucs::fence_allow_roles : "");
  List *names = NIL;
  List *roles = NIL;
  if (!SplitIdentifierString(copy, ',', &names)) return NIL;  // refused at reload: cannot be
  ListCell *cell;
  foreach (cell, names) {
    const char *name = static_cast<const char *>(lfirst(cell));
    Oid role = get_role_oid(name, true);
    if (OidIsValid(role)) roles = lappend_oid(roles, role);
    else if (warn_missing)
      ereport(WARNING,
              (errcode(ERRCODE_UNDEFINED_OBJECT),
               errmsg("pg_vip: role \"%s\" in pg_vip.fence_allow_roles does not exist", name),
               errdetail("It lets no one connect to this fenced node."),
               errhint("Create the role, or correct its name in pg_vip.fence_allow_roles (a name with upper-case "
                       "letters is written in double quotes).")));
  }
  return roles;
}

// Whether `role` may still open an ordinary session on a fenced node: it has
// the privileges of a role in pg_vip.fence_allow_roles, as PostgreSQL judges
// a role's right to what pg_monitor grants (has_privs_of_role: itself, or a
// member that inherits). A NOINHERIT member would have to SET ROLE first,
// which it can do only once connected: it is refused, as it gets nothing of
// the listed role's rights until then either.
bool allowed(Oid role, List *allowed_roles) {
  ListCell *cell;
  foreach (cell, allowed_roles)
    if (has_privs_of_role(role, lfirst_oid(cell))) return true;
  return false;
}

constexpr const char *kFenceFile = "pg_vip.fence";
constexpr const char *kFenceFileTemp = "pg_vip.fence.tmp";

bool remembered(SharedState *shared) {
  LWLockAcquire(shared->lock, LW_SHARED);
  bool r = shared->fence_remembered;
  LWLockRelease(shared->lock);
  return r;
}

// Writes the fence file (durably: a crash leaves the old file or the new
// one; fence_file.hpp says how nothing at its names is written through) and
// marks the fence remembered; WARNING and carries on when the disk refuses,
// since the fence in shared memory still holds for this server life.
void remember_fence(SharedState *shared, const Status &s) {
  char failed[512] = {};
  door::Failure failure;
  if (!door::run(
          [&] {
            fence_file::Fence fence{std::string(s.holder, strnlen(s.holder, sizeof s.holder)), s.holder_timeline};
            strlcpy(failed, fence_file::write(kFenceFileTemp, kFenceFile, fence_file::format(fence)).c_str(),
                    sizeof failed);
          },
          failure))
    strlcpy(failed, failure.message, sizeof failed);
  if (failed[0])
    ereport(WARNING, (errmsg("pg_vip: could not write the fence to \"%s\"", kFenceFile),
                      errdetail("%s Should this server restart, it will accept connections until its worker reads "
                                "the route tables again.",
                                failed)));
  LWLockAcquire(shared->lock, LW_EXCLUSIVE);
  shared->fence_remembered = true;
  memcpy(shared->remembered_holder, s.holder, sizeof shared->remembered_holder);
  shared->remembered_holder_timeline = s.holder_timeline;
  LWLockRelease(shared->lock);
}

void forget_fence(SharedState *shared) {
  LWLockAcquire(shared->lock, LW_EXCLUSIVE);
  shared->fence_remembered = false;
  LWLockRelease(shared->lock);
  struct stat st;  // lstat: whatever stands there goes, a dangling symlink too
  if (lstat(kFenceFile, &st) == 0) (void) durable_unlink(kFenceFile, WARNING);
}

// What ends a remembered fence: this node holds the VIP (the fence was lifted,
// by a forced claim or because the holder is gone), is a standby, or pg_vip
// no longer acts here (disabled or unconfigured: the operator's call).
bool fence_over(const Status &s) {
  return s.state == State::Held || s.state == State::Standby || s.state == State::Disabled ||
         s.state == State::Unconfigured || s.role == Role::Standby;
}

// "node \"node-b\" on timeline 2", as much of it as the fence tag told.
void describe_holder(const Fence &f, char *out, size_t size) {
  if (f.holder[0] && f.holder_timeline) snprintf(out, size, "node \"%s\" on timeline %u", f.holder, f.holder_timeline);
  else if (f.holder[0]) snprintf(out, size, "node \"%s\"", f.holder);
  else if (f.holder_timeline) snprintf(out, size, "a primary on timeline %u", f.holder_timeline);
  else snprintf(out, size, "another primary");
}

// Who may still connect to a fenced node: physical replication (a standby,
// pg_rewind, pg_basebackup) and superusers, who repair and rewind it, and
// ordinary sessions of the roles pg_vip.fence_allow_roles allows (monitoring:
// a fenced node its exporter cannot read looks like a quiet one). A logical
// replication connection (replication=database) can run SQL and would
// stream the stale primary's writes to subscribers, so it is let in only
// for a superuser. Runs in every backend at connection time, inside
// InitPostgres's transaction: the role lookups may read the catalogs.
void check_connection(Port *port, int status) {
  if (prev_client_authentication_hook) prev_client_authentication_hook(port, status);
  if (status != STATUS_OK) return;  // failed authentication says nothing more, fenced or not
  // Physical replication only: a replication=database connection runs SQL
  // too, so a logical walsender is judged as any other login.
  if (gucs::fence_action == kNone || (am_walsender && !am_db_walsender)) return;
  SharedState *shared = shared_state();
  if (shared == nullptr) return;  // not preloaded: no worker, no fence
  Fence f = read_fence(shared);
  if (!f.fenced) return;
  Oid role = port->user_name ? get_role_oid(port->user_name, true) : InvalidOid;
  if (OidIsValid(role) && superuser_arg(role)) return;
  // A name that matches no role says so once per fence, in the worker, not
  // at every refused login.
  if (OidIsValid(role) && !am_walsender && allowed(role, allowed_roles(false))) return;

  char holder[sizeof f.holder + 64];
  describe_holder(f, holder, sizeof holder);
  // 57P03, as a server that is starting up or shutting down answers: a
  // client with several hosts in its connection string tries the next one,
  // and a pooler retries, which is what a client of a stale primary should do.
  if (f.remembered)
    ereport(FATAL, (errcode(ERRCODE_CANNOT_CONNECT_NOW), errmsg("this node is fenced and refuses connections"),
                    errdetail("pg_vip moved the virtual IP to %s before this server restarted, and this node has "
                              "not held it since; writes to it would be lost.",
                              holder),
                    errhint("Connect through the virtual IP or to the holder. The fence lasts until this node "
                            "holds the virtual IP or is a standby, even while AWS cannot be reached; a superuser "
                            "can still log in, and setting pg_vip.fence_action to none lifts it.")));
  ereport(FATAL, (errcode(ERRCODE_CANNOT_CONNECT_NOW), errmsg("this node is fenced and refuses connections"),
                  errdetail("pg_vip moved the virtual IP %s to %s; this node, on timeline %u, is a stale primary, "
                            "and writes to it would be lost.",
                            f.vip, holder, f.timeline),
                  errhint("Connect through the virtual IP or to the holder. To repair this node, rejoin it as a "
                          "standby (for example with repmgr node rejoin or pg_rewind); if it really should be the "
                          "primary, a superuser can run SELECT vip_claim(force => true).")));
}

const char *action_name(Action a) {
  switch (a) {
    case kNone: return "none";
    case kReject: return "reject";
    case kTerminate: return "terminate";
  }
  return "?";
}

// Sends SIGTERM to every client session the connection check would now
// refuse, as pg_terminate_backend() does (to the process group where
// backends lead one): ordinary backends but superusers' and those of roles
// pg_vip.fence_allow_roles allows, and logical replication walsenders
// (replication=database, attached to a database) but superusers'. Physical
// walsenders, background workers (this one among them, logical replication
// apply workers, other extensions' workers) and the other auxiliary
// processes are left alone. `sweep`: a later pass, which says nothing when
// it found no one.
void terminate_client_sessions(const char *holder, bool sweep) {
  SetCurrentStatementStartTimestamp();
  StartTransactionCommand();  // superuser_arg(), the allowed roles and the role's name read pg_authid
  pgstat_clear_snapshot();    // a fresh view of the backends, not one cached earlier
  List *allowed_list = allowed_roles(false);
  int n = pgstat_fetch_stat_numbackends();
  int ended = 0;
  for (int i = 1; i <= n; ++i) {
    LocalPgBackendStatus *local = pg_compat::local_backend_status(i);
    if (local == nullptr) continue;
    const PgBackendStatus &be = local->backendStatus;
    if (be.st_backendType != B_BACKEND && be.st_backendType != B_WAL_SENDER) continue;
    if (be.st_procpid <= 0 || be.st_procpid == MyProcPid) continue;
    // The role as pg_signal_backend() judges it: the live process's, which
    // also tells that it is still there.
    PGPROC *proc = BackendPidGetProc(be.st_procpid);
    if (proc == nullptr) continue;
    // A walsender attached to a database is a replication=database session.
    // (Its PGPROC says it is not a regular backend, as for every process
    // that is not one: the backend type decides.)
    bool logical = be.st_backendType == B_WAL_SENDER;
    if (logical ? !OidIsValid(proc->databaseId) : !pg_compat::is_regular_backend(proc)) continue;
    Oid role = proc->roleId;
    if (!OidIsValid(role) || superuser_arg(role)) continue;
    if (!logical && allowed(role, allowed_list)) continue;
    const char *name = GetUserNameFromId(role, true);
#ifdef HAVE_SETSID
    int rc = kill(-be.st_procpid, SIGTERM);
#else
    int rc = kill(be.st_procpid, SIGTERM);
#endif
    if (rc != 0) {
      ereport(WARNING, (errmsg("pg_vip: could not terminate the session of process %d: %m", be.st_procpid)));
      continue;
    }
    ++ended;
    ereport(LOG, (errmsg("pg_vip: terminating the session of role \"%s\" (process %d) because this node is fenced",
                         name ? name : "?", be.st_procpid),
                  errdetail("The virtual IP is held by %s.", holder)));
  }
  pgstat_clear_snapshot();
  CommitTransactionCommand();
  if (sweep && ended == 0) return;
  ereport(LOG, (errmsg("pg_vip: this node is fenced; %d client session%s terminated", ended, ended == 1 ? "" : "s"),
                errdetail("Sessions of superusers and of the roles pg_vip.fence_allow_roles allows, physical "
                          "replication and background workers were left running.")));
}

bool stale(const Status &s) { return s.state == State::Fenced && !s.holder_foreign; }

Action action_for(const Status &s, bool remembered_fence) {
  if (!stale(s) && !remembered_fence) return kNone;
  return static_cast<Action>(gucs::fence_action);
}

}  // namespace

void load_remembered(SharedState *shared) noexcept {
  if (shared->started_as_standby) {
    (void) unlink(kFenceFile);  // a standby is fenced by nothing
    return;
  }
  fence_file::Found found = fence_file::Found::kNone;
  char refused[256] = {};
  door::Failure failure;
  if (!door::run(
          [&] {
            fence_file::Contents file = fence_file::read(kFenceFile);
            found = file.found;
            std::optional<fence_file::Fence> fence;
            if (found == fence_file::Found::kFile && !(fence = fence_file::parse(file.text))) {
              found = fence_file::Found::kRefused;
              file.why = "Its text is not the fields pg_vip writes.";
            }
            strlcpy(refused, file.why.c_str(), sizeof refused);
            if (!fence) return;
            strlcpy(shared->remembered_holder, fence->holder.c_str(), sizeof shared->remembered_holder);
            shared->remembered_holder_timeline = fence->holder_timeline;
          },
          failure)) {
    found = fence_file::Found::kRefused;
    strlcpy(refused, failure.message, sizeof refused);
  }
  if (found == fence_file::Found::kNone) return;
  // Fail closed: something at that name that cannot be read as a fence
  // still fences, with no holder named. Only pg_vip's worker writes there,
  // so it is a damaged file or someone else's doing.
  shared->fence_remembered = true;
  if (found == fence_file::Found::kRefused)
    ereport(WARNING,
            (errmsg("pg_vip: \"%s\" is not a fence file pg_vip wrote; this node counts as fenced", kFenceFile),
             errdetail("%s", refused),
             errhint("Only pg_vip writes there, a small regular file of the server's user. With "
                     "pg_vip.fence_action reject or terminate, ordinary connections are refused until this node "
                     "holds the virtual IP or is a standby, as under a remembered fence.")));
}

bool check_allow_roles(char **newval, void **, GucSource) {
  // SplitIdentifierString writes into its input and lists pointers into it.
  char *copy = pstrdup(*newval ? *newval : "");
  List *names = NIL;
  bool ok = SplitIdentifierString(copy, ',', &names);
  bool names_public = false;
  ListCell *cell;
  foreach (cell, names) names_public |= strcmp(static_cast<const char *>(lfirst(cell)), "public") == 0;
  list_free(names);
  pfree(copy);
  if (!ok) {
    GUC_check_errdetail("List syntax is invalid.");
    GUC_check_errhint("Separate role names with commas, and double-quote a name that has upper-case letters, "
                      "spaces or commas, as in SQL: exporter, \"Monitoring Team\".");
    return false;
  }
  if (names_public) {
    GUC_check_errdetail("public stands for every role: all of them would connect to a fenced node.");
    GUC_check_errhint("List the monitoring roles themselves, such as the one postgres_exporter connects as.");
    return false;
  }
  return true;
}

void install_hook() {
  prev_client_authentication_hook = ClientAuthentication_hook;
  ClientAuthentication_hook = check_connection;
}

void Enforcer::resume(const Status &published) noexcept {
  in_force_ = action_for(published, shared_state() && remembered(shared_state()));
}

void Enforcer::check_allowed_roles(Action now) {
  if (now == kNone) {  // the next fence checks them again
    free(checked_roles_);
    checked_roles_ = nullptr;
    return;
  }
  const char *list = gucs::fence_allow_roles ? gucs::fence_allow_roles : "";
  if (checked_roles_ && strcmp(checked_roles_, list) == 0) return;
  free(checked_roles_);
  checked_roles_ = strdup(list);  // out of memory: checked again on the next turn
  SetCurrentStatementStartTimestamp();
  StartTransactionCommand();
  list_free(allowed_roles(true));
  CommitTransactionCommand();
}

void Enforcer::after_publish(const Status &published) {
  SharedState *shared = shared_state();
  // The file first: from here on a restart keeps refusing connections.
  // The worker alone writes the remembered fence after start, so it reads
  // its own writes without the lock.
  bool remembers = remembered(shared);
  if (stale(published)) {
    if (!remembers || strcmp(shared->remembered_holder, published.holder) != 0 ||
        shared->remembered_holder_timeline != published.holder_timeline)
      remember_fence(shared, published);
    remembers = true;
  } else if (remembers && fence_over(published)) {
    forget_fence(shared);
    remembers = false;
  }
  Action now = action_for(published, remembers);
  check_allowed_roles(now);
  // While terminate stays in force each turn sweeps again: a login that
  // passed the door the instant before the fence was published joins the
  // backends only afterwards (any ordinary session now is such a one).
  if (now == in_force_ && now != kTerminate) return;
  Action before = in_force_;
  in_force_ = now;
  if (now == kNone) {
    ereport(LOG, (errmsg("pg_vip: connections are accepted again"),
                  errdetail(gucs::fence_action == kNone ? "pg_vip.fence_action is now none."
                                                        : "This node is no longer fenced.")));
    return;
  }
  Fence f = read_fence(shared);
  char holder[sizeof f.holder + 64];
  describe_holder(f, holder, sizeof holder);
  if (before == kNone)
    ereport(LOG, (errmsg("pg_vip: this node is fenced; refusing new connections but those of superusers, physical "
                         "replication and pg_vip.fence_allow_roles"),
                  errdetail("The virtual IP is held by %s, and pg_vip.fence_action is %s.", holder, action_name(now))));
  // The sessions there when the fence began (or when terminate was chosen
  // for it) are ended and reported; a later sweep speaks only when it ends one.
  if (now == kTerminate) terminate_client_sessions(holder, before == kTerminate);
}

}  // namespace pg_vip::fence_action
