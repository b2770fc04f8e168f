#include "notify.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fcntl.h>

#include <cerrno>
#include <cstring>

extern char **environ;

namespace pg_vip {

std::string shell_quote(const std::string &text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += "'\\''";
    else if (c != '\0') out += c;
  }
  return out + "'";
}

std::string build_notification_command(const std::string &templ, const EventFields &f) {
  std::string out;
  for (std::size_t i = 0; i < templ.size(); ++i) {
    if (templ[i] != '%' || i + 1 == templ.size()) {
      out += templ[i];
      continue;
    }
    char k = templ[++i];
    switch (k) {
      case 'n': out += shell_quote(f.node_name); break;
      case 'e': out += shell_quote(f.event); break;
      case 's': out += f.success ? "1" : "0"; break;
      case 't': out += shell_quote(f.timestamp); break;
      case 'd': out += shell_quote(f.details); break;
      case 'v': out += shell_quote(f.vip); break;
      case 'r': out += shell_quote(f.route_tables); break;
      case '%': out += '%'; break;
      default:
        out += '%';
        out += k;
        break;  // unknown: left as written
    }
  }
  return out;
}

NotificationRunner::~NotificationRunner() {
  for (auto &r : running_) {
    kill(-r.pid, SIGKILL);
    waitpid(r.pid, nullptr, 0);
  }
}

std::string NotificationRunner::start(const std::string &command) {
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group (to kill it whole), default signal dispositions
  // and an empty mask: nothing of PostgreSQL's signal setup leaks into it.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::string cmd = command;
  char sh[] = "/bin/sh", dash_c[] = "-c";
  char *argv[] = {sh, dash_c, cmd.data(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return std::string("could not start the event notification command: ") + std::strerror(rc);
  running_.push_back({pid, std::chrono::steady_clock::now(), false});
  return {};
}

std::vector<std::string> NotificationRunner::reap() {
  std::vector<std::string> problems;
  auto now = std::chrono::steady_clock::now();
  for (auto it = running_.begin(); it != running_.end();) {
    int status = 0;
    pid_t done = waitpid(it->pid, &status, WNOHANG);
    if (done == it->pid || (done < 0 && errno == ECHILD)) {
      if (it->killed)
        problems.push_back("the event notification command was killed after " + std::to_string(bound_.count()) + " s");
      else if (done == it->pid && WIFEXITED(status) && WEXITSTATUS(status) != 0)
        problems.push_back("the event notification command exited with status " + std::to_string(WEXITSTATUS(status)));
      else if (done == it->pid && WIFSIGNALED(status))
        problems.push_back("the event notification command was terminated by signal " +
                           std::to_string(WTERMSIG(status)));
      it = running_.erase(it);
      continue;
    }
    if (!it->killed && now - it->started > bound_) {
      kill(-it->pid, SIGKILL);
      it->killed = true;
    }
    ++it;
  }
  return problems;
}

}  // namespace pg_vip
