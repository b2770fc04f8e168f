// The fence against the world an adversary found (issue 18): leases that
// disagree, late writes, clock steps, lagging promotions, unread tables,
// forged tags, and a primary restarted into a failover it did not see. One
// scenario each, through the controller and its seam.
#include "controller_rig.hpp"

using namespace pg_vip;
using namespace pg_vip::test;

namespace {

std::vector<std::string> changes_of(const FakeCloud &c) {
  std::vector<std::string> out;
  for (const auto &l : c.log)
    if (l.rfind("apply", 0) == 0) out.push_back(l);
  return out;
}

// The requests that moved a route (a tag renewal on a held table is not one).
std::vector<std::string> moves_of(const FakeCloud &c) {
  std::vector<std::string> out;
  for (const auto &l : c.log)
    if (l.find("point:") != std::string::npos) out.push_back(l);
  return out;
}

}  // namespace

// 1. The loser of a double promotion checks every 10 s, the winner every
// 60 s and renews every 120 s. The loser must judge the winner's tag by
// the winner's lease, or it takes the VIP between renewals, forever.
TEST(FenceAdversary, ALoserWithAShortIntervalWaitsForTheWinnersLease) {
  Rig r({{"rtb-1", {true, false, "eni-0a", tag(2, "eni-0a", "node-a", "lease=360;since=1795000000;")}}});
  r.step(Role::Primary, 2, PrimaryBy::Start);
  ASSERT_EQ(r.ctl->state(), State::Fenced) << "eni-0a sorts first on timeline 2";
  // 119 s without a renewal: within the winner's lease (360 s), not within the loser's (60 s).
  for (int i = 0; i < 12; ++i) r.step(Role::Primary, 2);
  ASSERT_GE(r.time.now, seconds(119));
  EXPECT_EQ(r.ctl->state(), State::Fenced) << r.ctl->last_error();
  EXPECT_TRUE(changes_of(*r.cloud).empty());
  // The winner really stopped: past its own lease the tag has lapsed.
  r.time.now += seconds(300);
  r.step(Role::Primary, 2);
  r.step(Role::Primary, 2);
  EXPECT_EQ(r.ctl->state(), State::Held) << r.ctl->last_error();
}

// 1b. A holder that lengthens its check interval by a reload says so at
// once: its next check rewrites the tag with the new lease.
TEST(FenceAdversary, AReloadThatLengthensTheLeaseIsAnnouncedAtOnce) {
  Rig r({{"rtb-1", {true, false, "eni-0b", std::nullopt}}});
  r.step(Role::Primary, 1, PrimaryBy::Start);
  ASSERT_EQ(r.ctl->state(), State::Held);
  EXPECT_NE(r.cloud->tables["rtb-1"].tag->find(";lease=60;"), std::string::npos) << *r.cloud->tables["rtb-1"].tag;
  r.check_interval = seconds(60);
  r.configure();
  r.step(Role::Primary, 1);
  EXPECT_NE(r.cloud->tables["rtb-1"].tag->find(";lease=360;"), std::string::npos) << *r.cloud->tables["rtb-1"].tag;
}

// 2. The old primary's ReplaceRoute, retried after a client-side timeout,
// is applied by EC2 twice, seconds after the new primary's claim. Undoing
// a stale primary's late write is not a route war.
TEST(FenceAdversary, AStalePrimarysLateWritesAreUndoneWithoutAConflict) {
  Rig r({{"rtb-1", {true, false, "eni-0a", tag(2, "eni-0a", "node-a")}}});
  r.step(Role::Standby, 2);  // reads node-a's timeline 2 tag
  r.step(Role::Primary, 3);  // promotion
  ASSERT_EQ(r.ctl->state(), State::Held);
  for (int copy = 0; copy < 2; ++copy) {
    r.cloud->tables["rtb-1"].eni = "eni-0a";  // the late copy lands; node-b's tag stays
    r.step(Role::Primary, 3);
    EXPECT_EQ(r.ctl->state(), State::Held) << "copy " << copy << ": " << r.ctl->last_error();
    EXPECT_EQ(r.cloud->tables["rtb-1"].eni, "eni-0b");
  }
  // Something else that keeps moving the route is still a conflict.
  r.cloud->tables["rtb-1"].eni = "eni-0rogue";
  r.step(Role::Primary, 3);
  ASSERT_EQ(r.ctl->state(), State::Held);
  r.cloud->tables["rtb-1"].eni = "eni-0rogue";
  r.step(Role::Primary, 3);
  EXPECT_EQ(r.ctl->state(), State::Conflict);
}

// 3. An NTP step back of 270 s while in conflict: the flap window runs on
// the monotonic clock and ends on time.
TEST(FenceAdversary, AWallClockStepDoesNotStretchTheConflict) {
  Rig r({{"rtb-1", {true, false, "eni-0a", std::nullopt}}});
  r.step(Role::Primary, 1, PrimaryBy::Start);
  r.cloud->tables["rtb-1"].eni = "eni-0z";
  r.step(Role::Primary, 1);
  r.cloud->tables["rtb-1"].eni = "eni-0z";
  r.step(Role::Primary, 1);
  ASSERT_EQ(r.ctl->state(), State::Conflict);
  milliseconds entered = r.time.now;
  r.time.wall_step = -seconds(270);
  while (r.ctl->state() == State::Conflict && r.time.now - entered < seconds(400)) r.step(Role::Primary, 1);
  EXPECT_NE(r.ctl->state(), State::Conflict);
  EXPECT_LE(r.time.now - entered, flap_window(r.check_interval) + r.check_interval)
      << "one flap window (100 s) and a check, not 270 s more";
}

// 4. A standby that never followed timeline 2 is promoted to timeline 2
// an hour later. Its interface sorts first; the incumbent keeps the VIP.
TEST(FenceAdversary, ALatePromotionOntoATimelineInUseIsFenced) {
  Rig late({{"rtb-1", {true, false, "eni-0c", tag(2, "eni-0c", "node-c", "lease=60;since=1794996400;")}}}, {},
           "node-a");
  late.my_eni = "eni-0a";
  late.step(Role::Standby, 1);
  late.step(Role::Primary, 2);
  EXPECT_EQ(late.ctl->state(), State::Fenced) << late.ctl->last_error();
  EXPECT_TRUE(changes_of(*late.cloud).empty());
  EXPECT_NE(late.ctl->last_error().find("has been primary since 1794996400"), std::string::npos)
      << late.ctl->last_error();

  // The incumbent's view of the same fork, should the newcomer have written anyway.
  Rig inc({{"rtb-1", {true, false, "eni-0b", std::nullopt}}});
  inc.step(Role::Primary, 2, PrimaryBy::Start);
  ASSERT_EQ(inc.ctl->state(), State::Held);
  for (int i = 0; i < 10; ++i) {
    inc.time.now += minutes(1);
    inc.step(Role::Primary, 2);
  }
  inc.cloud->tables["rtb-1"] = {
      true, false, "eni-0a",
      tag(2, "eni-0a", "node-a", "lease=60;since=" + std::to_string(system_clock::to_time_t(inc.time.wall())) + ";")};
  inc.step(Role::Primary, 2);
  EXPECT_EQ(inc.ctl->state(), State::Held) << inc.ctl->last_error();
  EXPECT_EQ(inc.cloud->tables["rtb-1"].eni, "eni-0b");
}

// 5. A promotion whose standby could not read the tables (denied, then
// allowed again) must read before it claims: timeline 3 holds them.
TEST(FenceAdversary, APromotionReadsFirstWhenItsStandbyCouldNotRead) {
  Rig r({{"rtb-1", {true, false, "eni-0a", tag(1, "eni-0a", "node-a")}}});
  r.step(Role::Standby, 1);  // read: timeline 1
  r.cloud->tables["rtb-1"] = {true, false, "eni-0c", tag(3, "eni-0c", "node-c")};
  r.cloud->deny.insert("DescribeRouteTables");
  r.step(Role::Standby, 1);  // the next read fails
  r.cloud->deny.clear();
  r.cloud->log.clear();
  r.step(Role::Primary, 2);
  EXPECT_EQ(r.ctl->state(), State::Fenced) << r.ctl->last_error();
  EXPECT_TRUE(changes_of(*r.cloud).empty());
  EXPECT_EQ(r.cloud->log.front(), "read");
}

TEST(FenceAdversary, APromotionReadsFirstWhenItsStandbysReadIsOld) {
  Rig r({{"rtb-1", {true, false, "eni-0a", tag(1, "eni-0a", "node-a")}}});
  r.check_interval = seconds(60);
  r.configure();
  r.step(Role::Standby, 1);  // now + 60 s: the next check
  // Timeline 3 claimed the table since; the standby's read is 60 s old when
  // the promotion comes 10 s past its next check.
  r.cloud->tables["rtb-1"] = {true, false, "eni-0c", tag(3, "eni-0c", "node-c")};
  r.time.now += seconds(10);
  r.step(Role::Primary, 2);
  EXPECT_EQ(r.ctl->state(), State::Fenced) << r.ctl->last_error();
  EXPECT_TRUE(changes_of(*r.cloud).empty());
  // A fresh read keeps the single round trip.
  Rig fresh({{"rtb-1", {true, false, "eni-0a", tag(1, "eni-0a", "node-a")}}});
  fresh.step(Role::Standby, 1);
  fresh.time.now -= seconds(9);  // the promotion comes a second after the read
  fresh.cloud->log.clear();
  fresh.step(Role::Primary, 2);
  EXPECT_EQ(fresh.cloud->log.front(), "apply point:rtb-1 fence:rtb-1");
}

// 6. A forged tag (no sysid, the highest timeline) on a healthy primary's
// table: not a fence, the routes stay, and nothing of the tag's text
// reaches the status unescaped.
TEST(FenceAdversary, AForgedTagNeverFencesAHealthyPrimary) {
  Rig r({{"rtb-1", {true, false, "eni-0a", std::nullopt}}});
  r.step(Role::Primary, 1, PrimaryBy::Start);
  ASSERT_EQ(r.ctl->state(), State::Held);
  r.cloud->tables["rtb-1"].tag = "tl=4000000000;id=eni-x;node=x\nLOG:  all is well";
  r.cloud->log.clear();
  for (int i = 0; i < 3; ++i) r.step(Role::Primary, 1);
  EXPECT_NE(r.ctl->state(), State::Fenced) << r.ctl->last_error();
  EXPECT_FALSE(r.ctl->holder());
  EXPECT_EQ(r.cloud->tables["rtb-1"].eni, "eni-0b") << "the route stays";
  EXPECT_TRUE(changes_of(*r.cloud).empty()) << "the forged tag is not claimed over either";
  auto s = std::make_unique<Status>();
  r.ctl->write_status(*s);
  EXPECT_NE(std::string(s->tables[0].last_error).find("(no system identifier)"), std::string::npos)
      << s->tables[0].last_error;
  EXPECT_EQ(std::string(s->tables[0].holder), "x\\x0aLOG:\\x20\\x20all\\x20is\\x20well");
  EXPECT_EQ(std::string(s->tables[0].last_error).find('\n'), std::string::npos);
  // Removed, the node holds again: nothing was remembered.
  r.cloud->tables["rtb-1"].tag.reset();
  r.step(Role::Primary, 1);
  r.step(Role::Primary, 1);
  EXPECT_EQ(r.ctl->state(), State::Held) << r.ctl->last_error();
}

TEST(FenceAdversary, WithAFenceKeyACopiedSysidForgesNothing) {
  Rig r({{"rtb-1", {true, false, "eni-0a", std::nullopt}}});
  r.fence_key = "k3y";
  r.configure();
  r.step(Role::Primary, 1, PrimaryBy::Start);
  ASSERT_EQ(r.ctl->state(), State::Held);
  ASSERT_NE(r.cloud->tables["rtb-1"].tag->find(";mac="), std::string::npos);
  r.cloud->tables["rtb-1"].tag = tag(4000000000u, "eni-x", "x");  // the right sysid, no MAC
  for (int i = 0; i < 3; ++i) r.step(Role::Primary, 1);
  EXPECT_NE(r.ctl->state(), State::Fenced) << r.ctl->last_error();
  EXPECT_EQ(r.ctl->newest_seen(), 0u);
  // A tag MACed with the cluster's key fences as always.
  Identity c{"node-c", kSys, 2, "eni-0c"};
  r.cloud->tables["rtb-1"] = {true, false, "eni-0c", fence_tag_value(c, r.time.wall(), {seconds(60), 0}, "k3y")};
  r.step(Role::Primary, 1);
  EXPECT_EQ(r.ctl->state(), State::Fenced) << r.ctl->last_error();
}

// 8. The new primary could not write its tag; the old primary restarts as
// primary, reads its own older tag on tables that point elsewhere, and
// must not move them back on its own.
TEST(FenceAdversary, APrimaryThatRestartedTakesNoRouteFromAnotherInterface) {
  Rig r({{"rtb-1", {true, false, "eni-0c", tag(1, "eni-0b", "node-b")}},
         {"rtb-2", {true, false, "eni-0b", tag(1, "eni-0b", "node-b")}}});
  r.step(Role::Primary, 1, PrimaryBy::Start);
  EXPECT_EQ(r.cloud->tables["rtb-1"].eni, "eni-0c");
  EXPECT_TRUE(moves_of(*r.cloud).empty());
  EXPECT_EQ(r.ctl->state(), State::Claiming);
  EXPECT_NE(r.ctl->last_error().find("did not see it move to"), std::string::npos) << r.ctl->last_error();
  EXPECT_NE(r.ctl->last_error().find("vip_claim()"), std::string::npos);
  auto d = r.step(Role::Primary, 1);
  EXPECT_EQ(d, r.check_interval) << "at the slow pace: retrying cannot fix it";
  EXPECT_TRUE(moves_of(*r.cloud).empty());
  EXPECT_EQ(r.cloud->tables["rtb-1"].tag, tag(1, "eni-0b", "node-b")) << "nor renews a tag where the route is not its";
  // The operator decides.
  r.step(Role::Primary, 1, PrimaryBy::Start, {{1, false, "dba"}});
  EXPECT_EQ(r.ctl->state(), State::Held) << r.ctl->last_error();
  EXPECT_EQ(r.cloud->tables["rtb-1"].eni, "eni-0b");
  // A first start, no tag anywhere: claimed as before.
  Rig first({{"rtb-1", {true, false, "eni-0c", std::nullopt}}});
  first.step(Role::Primary, 1, PrimaryBy::Start);
  EXPECT_EQ(first.ctl->state(), State::Held);
}

// Found by the simulation's cancellation: a shutdown during the 1 s wait
// before the confirming read must not leave the node reporting held on a
// read that showed the route moved (a restarted worker resumes from it).
TEST(FenceAdversary, AShutdownDuringTheConfirmingReadLeavesTheNodeNotHeld) {
  Rig r({{"rtb-1", {true, false, "eni-0a", std::nullopt}}});
  r.step(Role::Primary, 1, PrimaryBy::Start);
  ASSERT_EQ(r.ctl->state(), State::Held);
  r.cloud->tables["rtb-1"].eni = "eni-0z";
  r.time.cancel_at_sleep = true;
  r.step(Role::Primary, 1);
  EXPECT_NE(r.ctl->state(), State::Held);
  auto s = std::make_unique<Status>();
  r.ctl->write_status(*s);
  EXPECT_NE(s->state, State::Held) << "what a restarted worker resumes from";
}

// Found by TAP 028: a first start writes its tag, its route write fails;
// the retry must not take its own fresh tag for a failover it did not see.
TEST(FenceAdversary, AFirstStartWhoseRouteWriteFailedRetriesItsOwnClaim) {
  Rig r({{"rtb-1", {true, false, "eni-0c", std::nullopt}}});
  r.step(Role::Standby, 1);  // builds the cloud
  r.cloud->deny.insert("ReplaceRoute");
  r.step(Role::Primary, 1, PrimaryBy::Start);
  ASSERT_TRUE(r.cloud->tables["rtb-1"].tag) << "its tag landed";
  EXPECT_EQ(r.cloud->tables["rtb-1"].eni, "eni-0c");
  r.step(Role::Primary, 1, PrimaryBy::Start);
  EXPECT_NE(r.ctl->last_error().find("ec2:ReplaceRoute"), std::string::npos) << r.ctl->last_error();
  EXPECT_EQ(r.ctl->last_error().find("did not see it move to"), std::string::npos) << r.ctl->last_error();
  r.cloud->deny.clear();
  r.step(Role::Primary, 1, PrimaryBy::Start);
  EXPECT_EQ(r.ctl->state(), State::Held) << r.ctl->last_error();
  EXPECT_EQ(r.cloud->tables["rtb-1"].eni, "eni-0b");
}
