// A standby's reads (Controller::standby_interval): every
// pg_vip.standby_check_interval while its WAL receiver streams from a live
// primary, every check_interval while it does not (a promotion may be near),
// and a promotion that finds its standby read too old reads before it
// points anything (judgement.hpp, fresh_enough).
#include "controller_rig.hpp"

namespace pg_vip::test {
namespace {

int first(const FakeCloud &c, const std::string &prefix) {
  for (std::size_t i = 0; i < c.log.size(); ++i)
    if (c.log[i].rfind(prefix, 0) == 0) return static_cast<int>(i);
  return -1;
}

TEST(StandbyCadence, AStreamingStandbyReadsEveryStandbyCheckInterval) {
  Rig r(two_tables_at_a());
  r.streaming = true;
  EXPECT_TRUE(spread_within(r.step(Role::Standby, 1), seconds(60)));
  EXPECT_TRUE(spread_within(r.step(Role::Standby, 1), seconds(60)));
  // Streaming stopped: its primary may be gone.
  r.streaming = false;
  EXPECT_EQ(r.step(Role::Standby, 1), seconds(10));
}

// A standby that has not yet read every target has no view to show or to
// claim on: it keeps reading every check_interval (backed off while AWS
// throttles it) until it has, streaming or not. The fleet simulation found
// restarted standbys whose first read was throttled waiting 10 to 20 min.
TEST(StandbyCadence, UntilItHasReadEveryTargetAStandbyReadsEveryCheckInterval) {
  Rig r(two_tables_at_a());
  r.throttle_reads_at_start = true;
  r.streaming = true;
  EXPECT_LE(r.step(Role::Standby, 1), seconds(20))
      << "its first read refused: again within check_interval (backed off), not in 10 min";
  r.cloud->throttle_reads = false;
  EXPECT_TRUE(spread_within(r.step(Role::Standby, 1), seconds(60))) << "read: then at its own cadence";
}

TEST(StandbyCadence, TheLongerOfTheTwoSettingsApplies) {
  Rig r(two_tables_at_a());
  r.check_interval = seconds(120);
  r.configure();
  r.streaming = true;
  EXPECT_EQ(r.step(Role::Standby, 1), seconds(120));
  r.check_interval = seconds(10);
  r.standby_check_interval = seconds(10);
  r.configure();
  EXPECT_EQ(r.step(Role::Standby, 1), seconds(10)) << "set equal, a streaming standby reads as before";
}

TEST(StandbyCadence, APromotionOnAnOldStreamingReadReadsFirst) {
  Rig r(two_tables_at_a());
  r.streaming = true;
  r.step(Role::Standby, 1);  // read, then 60 s pass
  r.cloud->log.clear();
  r.step(Role::Primary, 2);
  int read = first(*r.cloud, "read"), apply = first(*r.cloud, "apply");
  ASSERT_GE(apply, 0) << join(r.cloud->log, " | ");
  ASSERT_GE(read, 0) << join(r.cloud->log, " | ");
  EXPECT_LT(read, apply) << "a 60 s old read is no promotion's to act on: " << join(r.cloud->log, " | ");
  EXPECT_EQ(r.ctl->state(), State::Held) << r.ctl->last_error();
}

// The worker cuts a standby's read short when the node is promoted: the
// claim must not wait behind it. What was cut short was no failure to read
// (CI saw "cannot read: Cancelled" in vip_status().last_error while the
// claim ran), and what it did not read is no ground for the claim.
TEST(StandbyCadence, APromotionDuringAStandbysReadIsNoErrorAndNoRead) {
  Rig r(two_tables_at_a());
  r.step(Role::Standby, 1);
  r.time.cancel = true;  // promoted while the next read is under way
  r.cloud->cancel_reads = true;
  EXPECT_EQ(r.step(Role::Standby, 1), milliseconds(0)) << "the promotion is stepped at once";
  EXPECT_EQ(r.ctl->last_error(), "");
  for (const auto &t : r.ctl->tables()) {
    EXPECT_EQ(t.last_error, "") << t.id;
    EXPECT_FALSE(t.read_ok) << t.id << ": a read cut short is no read";
  }
  r.time.cancel = false;
  r.cloud->cancel_reads = false;
  r.cloud->log.clear();
  r.step(Role::Primary, 2);
  int read = first(*r.cloud, "read"), apply = first(*r.cloud, "apply");
  ASSERT_GE(read, 0) << join(r.cloud->log, " | ");
  EXPECT_LT(read, apply) << join(r.cloud->log, " | ");
  EXPECT_EQ(r.ctl->state(), State::Held) << r.ctl->last_error();
}

TEST(StandbyCadence, APromotionOnAFreshReadStaysOneRoundTrip) {
  Rig r(two_tables_at_a());
  r.streaming = true;
  r.step(Role::Standby, 1);
  r.streaming = false;  // the primary went away: the worker steps at once
  r.time.now -= seconds(60);
  r.step(Role::Standby, 1);  // reads now, next in 10 s
  r.time.now -= seconds(10) - seconds(2);
  r.cloud->log.clear();
  r.step(Role::Primary, 2);  // promoted 2 s after that read
  int read = first(*r.cloud, "read"), apply = first(*r.cloud, "apply");
  ASSERT_GE(apply, 0) << join(r.cloud->log, " | ");
  EXPECT_TRUE(read < 0 || read > apply) << "the claim's first request is its change: " << join(r.cloud->log, " | ");
  EXPECT_EQ(r.ctl->state(), State::Held) << r.ctl->last_error();
}

}  // namespace
}  // namespace pg_vip::test
