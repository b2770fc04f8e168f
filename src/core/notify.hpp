// Event notifications, as repmgr users know them: a shell command with
// %n (node), %e (event), %s (success 1/0), %t (time), %d (details), %v (VIP)
// and %r (route tables) replaced. Run in the background under a time bound,
// never delaying the claim.
//
// The details carry text from AWS (a fence tag's node name, EC2's error
// messages), which anyone allowed ec2:CreateTags can write. So no value may
// ever be read as code, whatever the template looks like:
//   - the value itself is never part of the command's text: a placeholder
//     becomes "${PG_VIP_DETAILS}" (and the like), a quoted reference to the
//     variable that holds it, so the shell parses only what the template's
//     author wrote;
//   - a template is accepted only where that reference stays one argument of
//     data: each placeholder a whole, unquoted argument word, never in a
//     place where the shell evaluates it (eval, (( )), sh -c) or a
//     well-known program reads code (ssh's command words, perl -e, awk's
//     program, a pipe into sh: code_readers.hpp), and no value put into a
//     variable that such a place then expands (set -- %d; eval "$1"). No
//     list of such programs is complete: check_notification_template says
//     why it refuses, and points to the environment variables;
//   - every value is also in the command's environment (PG_VIP_*), so a hook
//     needs no placeholder at all;
//   - the command's environment is built, not inherited: none of the
//     worker's AWS credentials or other secrets reach it.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "cpp_only.hpp"

namespace pg_vip {

struct EventFields {
  std::string node_name;
  std::string event;
  bool success = false;
  std::string timestamp;
  std::string details;
  std::string vip;
  std::string route_tables;
};

// The longest details a notification carries (a claim over many tables can
// say a lot; a hook's arguments and environment need not hold all of it).
constexpr std::size_t kMaxNotificationDetails = 1024;

// 'text' with every ' written as '\'' : a single shell word, whatever it holds.
std::string shell_quote(const std::string &text);

// Why a template could let the shell read a substituted value as something
// other than one literal argument, and what to write instead; full sentences.
struct TemplateProblem {
  std::string detail;
  std::string hint;
};

// nullopt when every placeholder of `templ` is a whole, unquoted word in
// argument position of a command that does not run its arguments as code
// (as far as pg_vip knows the program: code_readers.hpp); the problem with
// the first one that is not, otherwise. Refused as well: control characters
// (a newline would allow a here-document, whose body the shell expands), a
// pipe from a command with a placeholder into a program that runs its input
// as code, a shell function, a value put into a variable that an evaluating
// place then expands, and an expansion of a PG_VIP_* variable in such a
// place (eval "$PG_VIP_DETAILS").
std::optional<TemplateProblem> check_notification_template(std::string_view templ);

// The command with each placeholder replaced by a double-quoted reference to
// its PG_VIP_* variable ("${PG_VIP_DETAILS}"; %s by 1 or 0), never by the
// value; an empty string when check_notification_template() refuses the
// template, so that nothing unsafe runs even if a setting skipped the check.
std::string build_notification_command(const std::string &templ, const EventFields &f);

// Text from outside (AWS error messages, tag values) fit for a log line, an
// argument and an environment variable: valid UTF-8, tabs and line breaks
// turned into spaces, other control characters into '?', cut at a
// character boundary to at most `max_bytes`.
std::string sanitize_event_text(std::string_view text, std::size_t max_bytes = kMaxNotificationDetails);

// The notification command's whole environment, "NAME=value" each: from
// `parent` (the worker's, usually `environ`) only PATH (a default if
// absent), HOME, USER, LOGNAME, the locale (LANG, LANGUAGE, LC_*), TZ, TMPDIR
// and libpq's connection defaults that are no secret (PGDATA, PGHOST, PGPORT,
// PGUSER, PGDATABASE); then PG_VIP_NODE_NAME, PG_VIP_EVENT, PG_VIP_SUCCESS,
// PG_VIP_TIMESTAMP, PG_VIP_DETAILS, PG_VIP_VIP and PG_VIP_ROUTE_TABLES. No
// AWS_* variable (keys, session and container tokens), no PGPASSWORD, no
// BASH_ENV or exported shell function ever passes.
std::vector<std::string> notification_environment(const EventFields &f, const char *const *parent);
// The same, from this process's environment.
std::vector<std::string> notification_environment(const EventFields &f);

class NotificationRunner {
 public:
  explicit NotificationRunner(std::chrono::seconds time_bound = std::chrono::seconds(30)) : bound_(time_bound) {}
  ~NotificationRunner();
  // Starts `/bin/sh -c command` in its own process group, with exactly the
  // given environment, stdin from /dev/null and no other descriptor of the
  // worker's than stdout and stderr; returns an error message, or empty on
  // success. An empty command is refused.
  std::string start(const std::string &command, const std::vector<std::string> &environment);
  // Reaps finished commands and kills those past the time bound. Returns
  // one message per command that failed or was killed.
  std::vector<std::string> reap();
  bool busy() const noexcept { return !running_.empty(); }

 private:
  struct Running {
    pid_t pid;
    std::chrono::steady_clock::time_point started;
    bool killed;
  };
  std::chrono::seconds bound_;
  std::vector<Running> running_;
};

}  // namespace pg_vip
