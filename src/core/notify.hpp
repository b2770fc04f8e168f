// Event notifications, as repmgr users know them: a shell command with
// %n (node), %e (event), %s (success 1/0), %t (time), %d (details), %v (VIP)
// and %r (route tables) replaced, each value single-quoted so that text
// from AWS cannot inject shell syntax. Run in the background under a time
// bound, never delaying the claim.
#pragma once

#include <chrono>
#include <string>
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

// 'text' with every ' written as '\'' : a single shell word, whatever it holds.
std::string shell_quote(const std::string &text);
std::string build_notification_command(const std::string &templ, const EventFields &f);

class NotificationRunner {
 public:
  explicit NotificationRunner(std::chrono::seconds time_bound = std::chrono::seconds(30)) : bound_(time_bound) {}
  ~NotificationRunner();
  // Starts `/bin/sh -c command` in its own process group; returns an error
  // message, or empty on success.
  std::string start(const std::string &command);
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
