// Notification commands: placeholders, quoting, the runner's bound.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/notify.hpp"

using namespace pg_vip;

TEST(Notify, PlaceholdersAreQuoted) {
  EventFields f{"db-b", "vip_held", true, "2026-11-25T19:00:00Z", "3 route tables", "10.0.99.10/32", "rtb-1,rtb-2"};
  EXPECT_EQ(build_notification_command("/bin/n %n %e %s %t %d %v %r 100%% %x", f),
            "/bin/n 'db-b' 'vip_held' 1 '2026-11-25T19:00:00Z' '3 route tables' '10.0.99.10/32' 'rtb-1,rtb-2' 100% %x");
  f.success = false;
  EXPECT_EQ(build_notification_command("%s", f), "0");
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
  ASSERT_EQ(runner.start(build_notification_command("printf '%%s' %d > " + dir + "/out", f)), "");
  ASSERT_EQ(runner.start("sleep 30"), "");
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
