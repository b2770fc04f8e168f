// Notification commands: placeholders, quoting, the runner's bound.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "core/notify.hpp"

using namespace pg_vip;

extern char **environ;

TEST(Notify, PlaceholdersAreQuoted) {
  EventFields f{"db-b", "vip_held", true, "2026-11-25T19:00:00Z", "3 route tables", "10.0.99.10/32", "rtb-1,rtb-2"};
  // References to the PG_VIP_* variables, never the values: the shell
  // reads no value as source text.
  EXPECT_EQ(build_notification_command("/bin/n %n %e %s %t %d %v %r 100%% %x", f),
            "/bin/n \"${PG_VIP_NODE_NAME}\" \"${PG_VIP_EVENT}\" 1 \"${PG_VIP_TIMESTAMP}\" \"${PG_VIP_DETAILS}\" "
            "\"${PG_VIP_VIP}\" \"${PG_VIP_ROUTE_TABLES}\" 100% %x");
  f.success = false;
  EXPECT_EQ(build_notification_command(": %s", f), ": 0");
  EXPECT_EQ(build_notification_command("trailing %", f), "trailing %");
}

TEST(Notify, QuotingSurvivesHostileText) {
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(shell_quote("$(x) `y` \"z\" ;|&"), "'$(x) `y` \"z\" ;|&'");
}

TEST(Notify, RunsOnlyTheCommandAndBoundsIt) {
  char tmpl[] = "/tmp/pg_vip_notify_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::string hostile = "'; touch " + dir + "/pwned; echo '$(touch " + dir + "/pwned2)`touch " + dir + "/pwned3`";
  EventFields f{"n", "vip_claim_failed", false, "t", hostile, "v", "r"};
  NotificationRunner runner(std::chrono::seconds(1));
  ASSERT_EQ(runner.start(build_notification_command("printf '%%s' %d > " + dir + "/out", f),
                         notification_environment(f, environ)),
            "");
  ASSERT_EQ(runner.start("sleep 30", notification_environment(f, environ)), "");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::vector<std::string> problems;
  while (runner.busy() && std::chrono::steady_clock::now() < deadline) {
    for (auto &p : runner.reap()) problems.push_back(p);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(runner.busy());
  std::ifstream in(dir + "/out");
  std::stringstream got;
  got << in.rdbuf();
  EXPECT_EQ(got.str(), hostile);
  EXPECT_NE(access((dir + "/pwned").c_str(), F_OK), 0);
  EXPECT_NE(access((dir + "/pwned2").c_str(), F_OK), 0);
  EXPECT_NE(access((dir + "/pwned3").c_str(), F_OK), 0);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("killed after 1 s"), std::string::npos);
  (void) !system(("rm -rf '" + dir + "'").c_str());
}

// ---- Issue 10: text from AWS never runs as code, whatever the template -----

namespace {

// A fresh directory, removed when the test ends.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/pg_vip_notify_XXXXXX";
    if (mkdtemp(tmpl)) path = tmpl;
  }
  ~TempDir() {
    if (!path.empty()) (void) !system(("rm -rf '" + path + "'").c_str());
  }
};

bool exists(const std::string &path) { return access(path.c_str(), F_OK) == 0; }

std::string slurp(const std::string &path) {
  std::ifstream in(path);
  std::stringstream got;
  got << in.rdbuf();
  return got.str();
}

// Runs `shell -c command` in `cwd` with nothing on stdin and nothing shown,
// and waits for it (at most 10 s).
// Runs `command` as the worker would: in the environment it builds for the
// fields (the PG_VIP_* values the command refers to).
void run_in_shell(const std::string &shell, const std::string &command, const std::string &cwd, const EventFields &f) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  std::string sh = shell, c = "-c", cmd = command;
  char *argv[] = {sh.data(), c.data(), cmd.data(), nullptr};
  pid_t pid = 0;
  std::vector<std::string> env = notification_environment(f, environ);
  std::vector<char *> envp;
  for (auto &e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  int rc = posix_spawn(&pid, shell.c_str(), &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ASSERT_EQ(rc, 0) << shell;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (waitpid(pid, nullptr, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      ADD_FAILURE() << "did not finish: " << command;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

// What AWS may hand back in a tag's node name or an error message: each
// touches `marker` if any shell ever reads it as code.
std::vector<std::string> hostile_values(const std::string &marker) {
  return {"$(touch " + marker + ")", "\"; touch " + marker + "; \"", "'; touch " + marker + "; '",
          "`touch " + marker + "`", "x\ntouch " + marker + "\n", "\\'; touch " + marker + "; #",
          "\\\"; touch " + marker + "; #", "${x:-$(touch " + marker + ")}", "a[$(touch " + marker + ")]",
          "x' \"$(touch " + marker + ")\" '", "}; touch " + marker + "; {",
          // Code for the programs that read it (issue 19): a shell reading
          // the value as a command line, awk, sed, perl, python, node.
          "touch " + marker, "BEGIN { system(\"touch " + marker + "\") }", "1e touch " + marker,
          "system(\"touch " + marker + "\")", "__import__('os').system('touch " + marker + "')",
          "require('child_process').execSync('touch " + marker + "')"};
}

// Templates that quote, join or re-parse a placeholder, every way a shell
// allows, and some that do not.
const std::vector<std::string> kTemplates = {
    ": %n %e %s %t %d %v %r",
    // Found by review: a case pattern's ")" inside $(...), names spelled
    // with quotes, options before -c, bash's $[...], command positions.
    ": \"$(case x in x) echo \" %d \" ;; esac)\"",
    "\"eval\" %d",
    "\\eval %d",
    "ev''al %d",
    "x=eval; $x %d",
    "sh '-c' %d",
    "sh -c -- %d",
    "sh -c -e %d",
    "echo $[ %d ]",
    "set -- a; for x do %d; done",
    "function f { %d; }; f",
    ": \"%d\"",
    ": '%d'",
    ": $'%d'",
    ": $\"%d\"",
    ": `echo %d`",
    ": \"`echo %d`\"",
    ": $(echo %d)",
    ": \"$(echo %d)\"",
    ": x%dy",
    ": \\%d",
    ": %d%d",
    ": \"x\"%d",
    ": %d\"x\"",
    ": ${x:-%d}",
    ": \"${x:-%d}\"",
    ": $((%s)) %d",
    ": # %d",
    "eval : %d",
    "eval \": %d\"",
    "sh -c %d",
    "sh -c \": %d\"",
    "sh -c ': %d'",
    "bash -c %d",
    "trap %d EXIT",
    "let %d",
    "declare %d",
    "export %d",
    "unset %d",
    "test -v %d",
    "[ -v %d ]",
    "[[ %d -eq 1 ]]",
    "[[ 1 -eq 1 && 2 -eq %d ]]",
    "(( %d ))",
    "(( 1 + %d ))",
    "cat <<E\n%d\nE",
    "cat <<'E'\n%d\nE\n%d",
    ": \"%d",
    ": '%d",
    "printf '%%s\\n' \"%d\" %d",
    "/etc/repmgr/repmgr-hook.sh %n %e %s \"%t\" \"%d\"",
    // Issue 19: programs that run their arguments (or their input) as code,
    // and values that reach eval through a variable, a function or sh -c.
    "echo %d | sh",
    "echo %d | bash",
    "echo %d |sh -s",
    "printf '%%s\\n' %d | bash",
    "echo %d | env bash",
    "echo %d | xargs sh -c",
    "echo %d | . /dev/stdin",
    "set -- %d; eval \"$1\"",
    "set -- %d; sh -c \"$1\"",
    "for x in %d; do eval \"$x\"; done",
    "echo %d | { read -r x; eval \"$x\"; }",
    "f(){ eval \"$1\";}; f %d",
    "function f { eval \"$1\"; }; f %d",
    "sh -c 'eval \"$1\"' x %d",
    "bash -c 'eval \"$1\"' x %d",
    "bash <(echo %d)",
    "perl -e %d",
    "timeout 5 perl -e %d",
    "awk %d",
    "echo x | sed %d",
    "python3 -c %d",
    "node -e %d",
    "env bash -c %d",
    "xargs -a /dev/null sh -c %d",
};

}  // namespace

TEST(NotifySafety, NoTemplateLetsAValueRunAsCode) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  std::string marker = dir.path + "/pwned";
  std::vector<std::string> shells = {"/bin/sh"};
  if (exists("/bin/bash")) shells.push_back("/bin/bash");
  for (const auto &templ : kTemplates) {
    for (const auto &value : hostile_values(marker)) {
      // The hostile text in every field that may carry text from AWS.
      EventFields f{value, "vip_fenced", true, "2026-11-25T19:00:00Z", value, "10.0.99.10/32", "rtb-0a000001"};
      std::string command = build_notification_command(templ, f);
      if (command.empty()) continue;  // refused: nothing runs
      for (const auto &shell : shells) {
        run_in_shell(shell, command, dir.path, f);
        EXPECT_FALSE(exists(marker)) << "template " << templ << "\nvalue " << value << "\nran code under " << shell
                                     << " as\n"
                                     << command;
        unlink(marker.c_str());
      }
    }
  }
}

TEST(NotifySafety, TheChildGetsNoAwsSecrets) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  const std::vector<std::pair<const char *, const char *>> secrets = {
      {"AWS_ACCESS_KEY_ID", "AKIDNOTIFYTEST00001"},
      {"AWS_SECRET_ACCESS_KEY", "notify/secret+value-1"},
      {"AWS_SESSION_TOKEN", "notify-session-token-2"},
      {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "notify-container-token-3"},
      {"AWS_SHARED_CREDENTIALS_FILE", "/notify/credentials"},
      {"PGPASSWORD", "notify-pg-password-4"},
      {"BASH_ENV", "/notify/bash_env"},
  };
  for (auto &[name, value] : secrets) setenv(name, value, 1);
  EventFields f{"node-a",        "vip_fenced",  true, "2026-11-25T19:00:00Z", "held by \"$(x)\" 'y'",
                "10.0.99.10/32", "rtb-0a000001"};
  NotificationRunner runner(std::chrono::seconds(5));
  ASSERT_EQ(runner.start("env > " + dir.path + "/env", notification_environment(f, environ)), "");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (runner.busy() && std::chrono::steady_clock::now() < deadline) {
    runner.reap();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto &[name, value] : secrets) unsetenv(name);
  std::string env = slurp(dir.path + "/env");
  EXPECT_NE(env.find("PATH="), std::string::npos) << env;
  EXPECT_EQ(env.find("AWS_"), std::string::npos) << env;
  for (auto &[name, value] : secrets) {
    EXPECT_EQ(env.find(name + std::string("=")), std::string::npos) << name;
    EXPECT_EQ(env.find(value), std::string::npos) << name;
  }
  // Every value, verbatim, for hooks that need no quoting at all.
  EXPECT_NE(env.find("\nPG_VIP_DETAILS=held by \"$(x)\" 'y'\n"), std::string::npos) << env;
  EXPECT_NE(env.find("\nPG_VIP_EVENT=vip_fenced\n"), std::string::npos) << env;
}

TEST(NotifySafety, TheChildHasOnlyStdinStdoutAndStderr) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  // No O_CLOEXEC: as a library's socket may be.
  int leaked = open((dir.path + "/worker_file").c_str(), O_WRONLY | O_CREAT, 0600);
  ASSERT_GE(leaked, 3);
  EventFields f;
  NotificationRunner runner(std::chrono::seconds(5));
  ASSERT_EQ(runner.start("ls -l /proc/$$/fd > " + dir.path + "/fds", notification_environment(f, environ)), "");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (runner.busy() && std::chrono::steady_clock::now() < deadline) {
    runner.reap();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  close(leaked);
  std::string fds = slurp(dir.path + "/fds");
  EXPECT_NE(fds.find(" 1 -> " + dir.path + "/fds"), std::string::npos) << fds;
  EXPECT_EQ(fds.find("worker_file"), std::string::npos) << fds;
}

TEST(NotifyEnvironment, OnlyWhatHooksNeedAndTheValues) {
  const char *parent[] = {"PATH=/usr/bin:/bin",
                          "HOME=/var/lib/postgresql",
                          "LANG=C.UTF-8",
                          "LC_ALL=C.UTF-8",
                          "TZ=UTC",
                          "PGDATA=/var/lib/postgresql/15/main",
                          "PGPORT=5433",
                          "AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
                          "AWS_SECRET_ACCESS_KEY=secret",
                          "AWS_SESSION_TOKEN=token",
                          "AWS_CONTAINER_AUTHORIZATION_TOKEN=token",
                          "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.170.23/v1/credentials",
                          "AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/token",
                          "AWS_PROFILE=prod",
                          "AWS_REGION=us-east-1",
                          "PGPASSWORD=pw",
                          "PGPASSFILE=/var/lib/postgresql/.pgpass",
                          "BASH_ENV=/tmp/evil",
                          "ENV=/tmp/evil",
                          "BASH_FUNC_printf%%=() { touch /tmp/evil; }",
                          "LD_PRELOAD=/tmp/evil.so",
                          "IFS=x",
                          "PG_VIP_DETAILS=from the parent",
                          "PATH=/second/path",
                          "NOEQUALS",
                          nullptr};
  EventFields f{"node-a",
                "vip_claim",
                false,
                "2026-11-25T19:00:00Z",
                "it's \"$(x)\"",
                "10.0.99.10/32",
                "rtb-0a000001,rtb-0a000002"};
  auto env = notification_environment(f, parent);
  std::vector<std::string> want = {"PATH=/usr/bin:/bin",
                                   "HOME=/var/lib/postgresql",
                                   "LANG=C.UTF-8",
                                   "LC_ALL=C.UTF-8",
                                   "TZ=UTC",
                                   "PGDATA=/var/lib/postgresql/15/main",
                                   "PGPORT=5433",
                                   "PG_VIP_NODE_NAME=node-a",
                                   "PG_VIP_EVENT=vip_claim",
                                   "PG_VIP_SUCCESS=0",
                                   "PG_VIP_TIMESTAMP=2026-11-25T19:00:00Z",
                                   "PG_VIP_DETAILS=it's \"$(x)\"",
                                   "PG_VIP_VIP=10.0.99.10/32",
                                   "PG_VIP_ROUTE_TABLES=rtb-0a000001,rtb-0a000002"};
  EXPECT_EQ(env, want);
  const char *bare[] = {"AWS_SECRET_ACCESS_KEY=secret", nullptr};
  env = notification_environment(f, bare);
  EXPECT_EQ(env.front(), "PATH=/usr/local/bin:/usr/bin:/bin") << "a default PATH when the worker has none";
  EXPECT_EQ(notification_environment(f, nullptr).size(), 8u);
}

TEST(NotifyRunner, RefusesAnEmptyCommand) {
  NotificationRunner runner;
  EXPECT_NE(runner.start("", {}), "");
  EXPECT_FALSE(runner.busy());
}

namespace {

void expect_accepted(std::initializer_list<const char *> templates) {
  for (const char *templ : templates) {
    auto p = check_notification_template(templ);
    EXPECT_FALSE(p) << templ << "\n" << (p ? p->detail : "");
  }
}

}  // namespace

TEST(NotifyTemplate, AcceptsEachPlaceholderAsAWholeUnquotedArgument) {
  expect_accepted({
      "",
      "/usr/local/bin/vip-hook",
      "/etc/repmgr/repmgr-hook.sh %n %e %s %t %d %v %r",
      "/bin/n %n %e %s %t %d %v %r 100%% %x",
      "logger -t pg_vip %e %d",
      "hook %e %d >> /var/log/pg_vip.log 2>&1",
      "hook %e %d 2>/dev/null; other %n",
      "hook %e %d | logger -t pg_vip && echo done || echo failed",
      "hook\t%e\t%d",
      "X=1 hook %d",
      "env X=1 hook %d",
      "sudo -u postgres /usr/local/bin/hook %e %d",
      "if test %s = 1; then hook %e %d; fi",
      "case %e in vip_fenced) page %d;; *) log %d;; esac",
      "for e in %e; do hook $e %d; done",
      "(cd /tmp && hook %d)",
      "{ hook %d; }",
      "printf '%%s\\n' %d",
      "sh -c 'hook \"$PG_VIP_DETAILS\"'",
      "sh -c 'hook \"$1\" \"$2\"' hook %e %d",
      "hook \"$PG_VIP_EVENT\" \"$PG_VIP_DETAILS\"",
      "hook %d # a comment with no placeholder",
      "[ %s = 1 ] && hook %d",
      "hook %d 100%",
  });
}

TEST(NotifyTemplate, RefusesWhereAValueCouldBeReadAsCodeAndSaysWhy) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"hook \"%d\"", "The placeholder %d stands inside double quotes"},
      {"hook '%d'", "The placeholder %d stands inside single quotes"},
      {"hook \"x %d y\"", "inside double quotes"},
      {"hook `echo %d`", "inside backquotes"},
      {"hook $(echo %d)", "inside a command substitution"},
      {"hook \"$(echo %d)\"", "inside a command substitution"},
      {"hook ${x:-%d}", "inside a parameter expansion"},
      {"hook $((%s))", "inside an arithmetic expansion"},
      {"hook # %d", "in a comment"},
      {"hook x%dy", "is joined to other text in the shell word \"x%dy\""},
      {"hook \\%d", "is joined to other text"},
      {"hook %d%e", "is joined to other text"},
      {"hook \"x\"%d", "is joined to other text"},
      {"hook --details=%d", "is joined to other text"},
      {"hook 50%%%d", "is joined to other text"},
      {"hook %d%", "is joined to other text"},
      {"hook \\%d$(", "is joined to other text"},
      {"hook %d $(", "ends inside a quote"},
      {"hook %d '", "ends inside a quote"},
      {"%d", "where the shell expects a command name"},
      {"hook; %d", "where the shell expects a command name"},
      {"hook && %d", "where the shell expects a command name"},
      {"if %d; then :; fi", "where the shell expects a command name"},
      {"X=1 %d", "where the shell expects a command name"},
      {"exec %d", "where the shell expects a command name"},
      {">/dev/null %d", "where the shell expects a command name"},
      {"2>/dev/null %d", "where the shell expects a command name"},
      {"hook > %d", "the target of a redirection"},
      {"hook 2>> %d", "the target of a redirection"},
      {"hook < %d", "the target of a redirection"},
      {"eval hook %d", "an argument of \"eval\""},
      {"trap %d EXIT", "an argument of \"trap\""},
      {"let %d", "an argument of \"let\""},
      {"[ -v %d ]", "follows [ -v"},
      {"test -v %d", "follows test -v"},
      {"wait -p %d", "follows wait -p"},
      {"unset %d", "an argument of \"unset\""},
      {"read %d", "an argument of \"read\""},
      {"sh -c %d", "follows -c, the option with which shells"},
      {"su postgres -c %d", "follows -c"},
      {"bash -lc %d", "follows -lc"},
      {"time -p %d", "where the shell expects a command name"},
      {"env -i X=1 %d", "where the shell expects a command name"},
      {"sudo %d", "where the shell expects a command name"},
      {"printf -v %d x", "follows printf -v"},
      {"[[ %d == x ]]", "inside [[ ]]"},
      {"[[ 1 -eq 1 && 2 -eq %d ]]", "inside [[ ]]"},
      {"(( %d ))", "inside (( ))"},
      {"for ((i = 0; i < %s; i++)); do :; done", "inside (( ))"},
      {"hook $'x' %d", "$'...' quoting"},
      {"cat <<E\n%d\nE", "control character"},
      {"hook %d\nrm -rf /", "control character"},
  };
  for (const auto &[templ, why] : cases) {
    auto p = check_notification_template(templ);
    ASSERT_TRUE(p) << templ;
    EXPECT_NE(p->detail.find(why), std::string::npos) << templ << "\n" << p->detail;
    EXPECT_FALSE(p->hint.empty()) << templ;
    EXPECT_EQ(build_notification_command(templ, EventFields{}), "") << templ << ": nothing to run";
  }
}

TEST(NotifyTemplate, TheHintShowsTheSafeFormOfAQuotedTemplate) {
  auto p = check_notification_template("/etc/repmgr/repmgr-hook.sh %n %e %s \"%t\" \"%d\" '%v'");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->detail,
            "The placeholder %t stands inside double quotes, where the shell still expands $(...), `...` and "
            "$variables in the value.");
  EXPECT_NE(p->hint.find("as in \"/etc/repmgr/repmgr-hook.sh %n %e %s %t %d %v\""), std::string::npos) << p->hint;
  EXPECT_NE(p->hint.find("PG_VIP_DETAILS"), std::string::npos) << p->hint;
  // No suggestion when dropping the quotes would not be enough.
  p = check_notification_template("eval \"%d\"");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->hint.find("as in"), std::string::npos) << p->hint;
}

// ---- Issue 19: programs that run their arguments as code --------------------

namespace {

// What a refusal of a program that reads code must say: which program, and
// that the environment variables are the safe way (the list of programs can
// never be complete).
void expect_refused_naming(const std::string &templ, const std::string &program) {
  auto p = check_notification_template(templ);
  ASSERT_TRUE(p) << templ << ": accepted";
  EXPECT_NE(p->detail.find(program), std::string::npos) << templ << "\n" << p->detail;
  EXPECT_NE(p->hint.find("the safe way"), std::string::npos) << templ << "\n" << p->hint;
  EXPECT_NE(p->hint.find("PG_VIP_DETAILS"), std::string::npos) << templ << "\n" << p->hint;
  EXPECT_EQ(build_notification_command(templ, EventFields{}), "") << templ << ": nothing to run";
}

}  // namespace

TEST(NotifyTemplate, RefusesAPlaceholderWhereAWellKnownProgramReadsCode) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      // ssh joins its command words and hands them to the remote shell; a
      // value before them could be an option (-oProxyCommand=...).
      {"ssh host notify %e %d", "ssh"},
      {"ssh -p 2222 -i /etc/pg_vip/key admin@host notify %e %d", "ssh"},
      {"ssh -o BatchMode=yes -l admin host notify %d", "ssh"},
      {"ssh %d", "ssh"},
      {"/usr/bin/ssh host %d", "ssh"},
      {"timeout 10 ssh host notify %d", "ssh"},
      {"sshpass -p secret ssh host notify %d", "ssh"},
      // -e, -c, --eval and the like of interpreters; their script operand.
      {"perl -e %d", "perl"},
      {"perl -ne %d", "perl"},
      {"perl -E %d", "perl"},
      {"perl -Mstrict -e %d", "perl"},
      {"perl %d", "perl"},
      {"python -c %d", "python"},
      {"python3 -c %d", "python3"},
      {"python3 -Ic %d", "python3"},
      {"python3 -m %d", "python3"},
      {"python3 %d", "python3"},
      {"ruby -e %d", "ruby"},
      {"ruby -rjson -e %d", "ruby"},
      {"node -e %d", "node"},
      {"node --eval %d", "node"},
      {"node -p %d", "node"},
      {"nodejs --print %d", "nodejs"},
      {"php -r %d", "php"},
      {"lua -e %d", "lua"},
      {"Rscript -e %d", "Rscript"},
      {"julia -e %d", "julia"},
      {"pwsh -Command %d", "pwsh"},
      {"tclsh %d", "tclsh"},
      {"expect -c %d", "expect"},
      {"dc -e %d", "dc"},
      {"mysql -e %d", "mysql"},
      {"sqlite3 /tmp/db %d", "sqlite3"},
      {"gdb -batch -ex %d", "gdb"},
      {"emacs --batch --eval %d", "emacs"},
      {"vim --cmd %d", "vim"},
      {"rsync -e %d src host:dst", "rsync"},
      // awk's and sed's program.
      {"awk %d", "awk"},
      {"awk -F: %d /etc/passwd", "awk"},
      {"gawk -v x=1 %d", "gawk"},
      {"mawk %d", "mawk"},
      {"awk -f %d", "awk"},
      {"awk -- %d", "awk"},
      {"busybox awk %d", "awk"},
      {"sed %d", "sed"},
      {"sed -n %d /var/log/syslog", "sed"},
      {"sed -e %d", "sed"},
      {"sed -E -e s/a/b/ -e %d", "sed"},
      {"sed --expression %d", "sed"},
      // watch runs its arguments with sh -c.
      {"watch %d", "watch"},
      {"watch -n 5 hook %d", "watch"},
      {"watch -x hook %d", "watch"},
      // Shells, directly or through the programs that start them.
      {"sh %d", "sh"},
      {"bash -x %d", "bash"},
      {"bash -o pipefail -c %d", "bash"},
      {"zsh -c %d", "zsh"},
      {"fish --command %d", "fish"},
      {"env bash -c %d", "bash"},
      {"env -i PATH=/bin bash -c %d", "bash"},
      {"xargs sh -c %d", "sh"},
      {"busybox sh -c %d", "sh"},
      {"su -c %d", "su"},
      {"su - postgres -c %d", "su"},
      {"su postgres %d", "su"},
      {"runuser -u postgres -- sh -c %d", "sh"},
      {"runuser postgres -c %d", "runuser"},
      {"sudo sh -c %d", "sh"},
      {"sudo -u postgres bash -c %d", "bash"},
      {"sudo -s %d", "sudo"},
      {"sudo -iu postgres %d", "sudo"},
      {"doas sh -c %d", "sh"},
      {"find /tmp -exec sh -c %d \\;", "sh"},
      {"find . -execdir perl -e %d {} +", "perl"},
      {"timeout 5 sh -c %d", "sh"},
      {"nohup nice -n 5 perl -e %d", "perl"},
      {"flock /run/lock/pg_vip -c %d", "flock"},
      {"flock /run/lock/pg_vip sh -c %d", "sh"},
      {"setsid -f sh -c %d", "sh"},
      {"sg postgres %d", "sg"},
      {"tmux new-session -d %d", "tmux"},
      {"parallel hook ::: %d", "parallel"},
      {"script -qc %d /dev/null", "script"},
      // A value where a wrapper expects the command it runs.
      {"nice -n 5 %d", "nice"},
      {"timeout 10 %d", "timeout"},
      {"flock /run/lock/pg_vip %d", "flock"},
      // A pipe into a program that reads its input as code.
      {"echo %d | sh", "sh"},
      {"echo %d | bash", "bash"},
      {"echo %d |sh -s", "sh"},
      {"echo %d | /bin/sh", "sh"},
      {"echo %d |& bash", "bash"},
      {"hook %d | tee /tmp/x | sh", "sh"},
      {"echo %d | sudo sh", "sh"},
      {"echo %d | env -i bash -s", "bash"},
      {"echo %d | busybox sh", "sh"},
      {"echo %d | xargs sh -c", "xargs"},
      {"echo %d | perl", "perl"},
      {"echo %d | python3", "python3"},
      {"echo %d | python3 -", "python3"},
      {"echo %d | ssh host", "ssh"},
      {"echo %d | at now", "at"},
      {"echo %d | su postgres", "su"},
      {"echo %d | sqlite3 /tmp/db", "sqlite3"},
      {"echo %d | psql", "psql"},
      {"echo %d | crontab -", "crontab"},
      {"echo %d | . /dev/stdin", "pipes into ."},
      {"echo %d | source /dev/stdin", "source"},
      {"bash <(echo %d)", "process substitution"},
      {"hook %d > >(sh)", "process substitution"},
      // A shell function defined in the command: its body is out of sight.
      {"f(){ eval \"$1\";}; f %d", "shell function"},
      {"function f { eval \"$1\"; }; f %d", "shell function"},
      {"f () { logger \"$1\"; }; f %d", "shell function"},
      // A value put in a variable (set --, for, read, printf -v), then
      // evaluated.
      {"set -- %d; eval \"$1\"", "eval"},
      {"set -- %d; eval \"$@\"", "eval"},
      {"set -- %d; sh -c \"$1\"", "sh"},
      {"set -- %d; perl -e \"$1\"", "perl"},
      {"set -- %d; . \"$1\"", "\".\""},
      {"set -- %d; [[ $1 -eq 0 ]]", "[[ ]]"},
      {"set -- %d; (( $1 ))", "(( ))"},
      {"set -- %d; echo \"${x:$1}\"", "parameter expansion"},
      {"for x in %d; do eval \"$x\"; done", "eval"},
      {"echo %d | { read -r x; eval \"$x\"; }", "eval"},
      {"echo %d | while read -r l; do sh -c \"$l\"; done", "sh"},
      {"printf -v x '%%s' %d; eval \"$x\"", "eval"},
      // The code given to sh -c, whose arguments the value becomes.
      {"sh -c 'eval \"$1\"' x %d", "eval"},
      {"bash -c 'sh -c \"$1\"' x %d", "sh"},
      {"sh -c 'perl -e \"$1\"' x %d", "perl"},
      {"sudo -u postgres sh -c 'f() { :; }; f \"$1\"' x %d", "shell function"},
      // The environment variables are safe only as data.
      {"eval \"$PG_VIP_DETAILS\"", "eval"},
      {"sh -c \"$PG_VIP_DETAILS\"", "sh"},
      {"perl -e \"$PG_VIP_DETAILS\"", "perl"},
      {"printenv PG_VIP_DETAILS | sh", "sh"},
  };
  for (const auto &[templ, program] : cases) expect_refused_naming(templ, program);
}

TEST(NotifyTemplate, AcceptsProgramsThatTakeTheValuesAsData) {
  expect_accepted({
      // The README's.
      "/etc/repmgr/repmgr-hook.sh %n %e %s %t %d",
      "/usr/local/bin/vip-hook %e %s %d",
      "/usr/local/bin/vip-hook \"$PG_VIP_EVENT\" \"$PG_VIP_DETAILS\"",
      "logger -t pg_vip %d",
      "logger -t pg_vip -p daemon.notice %e %d",
      "curl --data %d https://hooks.example.com/pg_vip",
      "curl -fsS -m 5 --data-raw %d https://hooks.example.com/pg_vip",
      "timeout 5 curl --data %d https://hooks.example.com/pg_vip",
      "timeout 10 /usr/local/bin/vip-hook %e %d",
      "nice -n 10 /usr/local/bin/vip-hook %e %d",
      "sudo -u postgres /usr/local/bin/vip-hook %e %d",
      "env -i PATH=/usr/bin /usr/local/bin/vip-hook %e %d",
      "python3 /usr/local/bin/vip_hook.py %e %d",
      "perl /usr/local/bin/vip-hook.pl %e %d",
      "bash /usr/local/bin/vip-hook.sh %e %d",
      "sh -e /usr/local/bin/vip-hook.sh %e %d",
      "node /srv/hooks/vip.js %e %d",
      "/opt/awkward/bin/hook %d",
      "hook %e %d | logger -t pg_vip",
      "printf '%%s\\n' %d | logger -t pg_vip",
      "echo %d | mail -s pg_vip ops@example.com",
      "sh -c 'hook \"$1\" \"$2\"' hook %e %d",
      "sudo -u postgres sh -c 'logger -t pg_vip \"$1\"' hook %d",
      "set -- %e %d; logger -t pg_vip \"$1\" \"$2\"",
      "for x in %e %d; do logger -t pg_vip \"$x\"; done",
      "find /var/log/pg_vip -name '*.old' -delete; hook %d",
      "hook %d; sh -c 'logger -t pg_vip done'",
  });
}

// Templates built at random from the pieces of shell syntax: whatever the
// check accepts must never run a value as code, under dash or bash.
TEST(NotifySafety, RandomTemplatesTheCheckAcceptsNeverRunAValue) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  std::string marker = dir.path + "/pwned";
  std::vector<std::string> shells = {"/bin/sh"};
  if (exists("/bin/bash")) shells.push_back("/bin/bash");
  const std::vector<std::string> pieces = {
      ": ", " ",   " ",  " ",     "%d",    "%d",   "%d",    "%s",  "\"",   "'",    "`",   "$(",    "$((",
      "${", "(",   ")",  "}",     "{ ",    "\\",   "#",     ";",   "&&",   "|",    ">",   "<",     "2>",
      "x",  "=",   "$'", "$\"",   "eval ", "-c ",  "sh ",   "[[ ", " ]]",  "(( ",  " ))", "echo ", "%%",
      "%",  "-v ", "\t", "case ", " in ",  "esac", "then ", "!",   " %d ", " %d ", " %s "};
  const char *env_count = getenv("PG_VIP_TEMPLATE_FUZZ");  // more: PG_VIP_TEMPLATE_FUZZ=100000
  long count = env_count ? std::atol(env_count) : 2000;
  uint64_t seed = 0x9e3779b97f4a7c15ull;
  auto rnd = [&seed](std::size_t n) {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return static_cast<std::size_t>(seed % n);
  };
  auto values = hostile_values(marker);
  long accepted = 0, with_placeholder = 0;
  for (long i = 0; i < count; ++i) {
    std::string templ = ": ";
    for (std::size_t k = 0, n = 1 + rnd(8); k < n; ++k) templ += pieces[rnd(pieces.size())];
    if (check_notification_template(templ)) continue;
    ++accepted;
    if (templ.find("%d") == std::string::npos && templ.find("%s") == std::string::npos) continue;
    ++with_placeholder;
    const std::string &value = values[rnd(values.size())];
    EventFields f{value, "vip_fenced", true, "t", value, "v", "r"};
    std::string command = build_notification_command(templ, f);
    for (const auto &shell : shells) {
      run_in_shell(shell, command, dir.path, f);
      ASSERT_FALSE(exists(marker)) << "template " << templ << "\nvalue " << value << "\nran code under " << shell;
    }
  }
  EXPECT_GT(with_placeholder, 10) << "the sample exercised too few accepted templates";
  std::cout << "[ info ] " << count << " random templates, " << accepted << " accepted, " << with_placeholder
            << " with placeholders run under " << shells.size() << " shells\n";
}

TEST(NotifyText, ControlCharactersAndLength) {
  EXPECT_EQ(sanitize_event_text("plain text"), "plain text");
  EXPECT_EQ(sanitize_event_text("a\nb\r\nc\td"), "a b  c d");
  EXPECT_EQ(sanitize_event_text(std::string("a\0b\x1b[31mc\x7f", 10)), "a?b?[31mc?");
  EXPECT_EQ(sanitize_event_text("caf\xc3\xa9 \xe2\x9c\x93"), "caf\xc3\xa9 \xe2\x9c\x93") << "UTF-8 stays";
  EXPECT_EQ(sanitize_event_text("bad \xff\xc3 \xc0\xaf \xed\xa0\x80"), "bad ?? ?? ???") << "invalid UTF-8";
  EXPECT_EQ(sanitize_event_text("\xc2\x85 \xe2\x80\xae \xe2\x80\xa8"), "? ?  ") << "C1, bidi override, line sep";
  EXPECT_EQ(sanitize_event_text(std::string(2000, 'x')).size(), kMaxNotificationDetails);
  EXPECT_EQ(sanitize_event_text("abcdefghij", 8), "abcde...");
  EXPECT_EQ(sanitize_event_text("abc\xc3\xa9\xc3\xa9xyz", 8), "abc\xc3\xa9...") << "cut between characters";
  EXPECT_EQ(sanitize_event_text("abcdefgh", 8), "abcdefgh");
}
