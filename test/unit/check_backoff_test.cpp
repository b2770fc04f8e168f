// A node's regular checks while AWS throttles its reads (controller.cpp,
// Controller::step): later and later on a standby, at most twice as late on
// a primary, and back by halves once reads go through; the claim's own
// retries wait up to two check intervals.
#include "controller_rig.hpp"

namespace pg_vip::test {
namespace {

TEST(CheckBackoff, AThrottledStandbyReadsLaterAndComesBackByHalves) {
  Rig r(two_tables_at_a());
  EXPECT_EQ(r.step(Role::Standby, 1), seconds(10));
  EXPECT_EQ(r.ctl->throttled_at(), SteadyTime{});
  r.cloud->throttle_reads = true;
  std::vector<milliseconds> waits;
  for (int i = 0; i < 8; ++i) waits.push_back(r.step(Role::Standby, 1));
  EXPECT_NE(r.ctl->throttled_at(), SteadyTime{}) << "the worker's preflight waits on it";
  int warnings = 0;
  for (const auto &l : r.ctl->take_logs())
    if (l.warning && l.message.find("keeps throttling this node's DescribeRouteTables") != std::string::npos) {
      ++warnings;
      EXPECT_NE(l.detail.find("raise pg_vip.check_interval"), std::string::npos) << l.detail;
    }
  EXPECT_EQ(warnings, 1) << "once per episode, after three throttled reads in a row";
  for (int k = 1; k <= 8; ++k) {
    const int e = std::min(k, 5);
    EXPECT_GE(waits[k - 1], seconds(10) * (1 << (e - 1))) << "after " << k << " throttled reads";
    EXPECT_LE(waits[k - 1], seconds(10) * (1 << e)) << "after " << k << " throttled reads";
  }
  // Reads go through again: each success halves the wait.
  r.cloud->throttle_reads = false;
  std::vector<milliseconds> back;
  for (int i = 0; i < 6; ++i) back.push_back(r.step(Role::Standby, 1));
  EXPECT_LE(back[0], seconds(160));
  EXPECT_LE(back[3], seconds(20));
  EXPECT_EQ(back[5], seconds(10));
}

TEST(CheckBackoff, AThrottledPrimaryChecksAtMostTwiceAsLate) {
  Rig r(two_tables_at_a());
  r.step(Role::Standby, 1);
  r.step(Role::Primary, 2);
  ASSERT_EQ(r.ctl->state(), State::Held) << r.ctl->last_error();
  r.cloud->throttle_reads = true;
  for (int i = 0; i < 10; ++i) {
    milliseconds w = r.step(Role::Primary, 2);
    EXPECT_LE(w, seconds(20)) << "its tag must still be renewed within its lease";
  }
}

TEST(CheckBackoff, WithoutThrottlingNothingChanges) {
  Rig r(two_tables_at_a());
  r.step(Role::Standby, 1);                     // the Cloud is made at the first step
  r.cloud->deny.insert("DescribeRouteTables");  // refused, not throttled: no reason to wait longer
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.step(Role::Standby, 1), seconds(10));
}

}  // namespace
}  // namespace pg_vip::test
