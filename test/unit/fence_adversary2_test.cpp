// The fence against a second adversary (adversary branch). Each test states
// what the fence promises and fails where the fence as it stands gives way.
#include "controller_rig.hpp"

using namespace pg_vip;
using namespace pg_vip::test;

namespace {

// The requests that moved a route.
int moves_of(const FakeCloud &c) {
  int n = 0;
  for (const auto &l : c.log) n += l.find("point:") != std::string::npos;
  return n;
}

int tag_writes_of(const FakeCloud &c) {
  int n = 0;
  for (const auto &l : c.log) n += l.rfind("apply", 0) == 0 && l.find("fence:") != std::string::npos;
  return n;
}

// node-b (eni-0b) takes the VIP from node-a (eni-0a, timeline 2) by a
// promotion to timeline 3, with or without a fence key.
std::unique_ptr<Rig> promoted_over_node_a(const std::string &key, std::string *a_tag = nullptr) {
  Identity a{"node-a", kSys, 2, "eni-0a"};
  std::string a2 = fence_tag_value(a, system_clock::time_point(seconds(1794990000)), {seconds(60), 3600}, key);
  if (a_tag) *a_tag = a2;
  auto r = std::make_unique<Rig>(std::map<std::string, FakeTable>{{"rtb-1", {true, false, "eni-0a", a2}}});
  r->fence_key = key;
  r->configure();
  r->step(Role::Standby, 2);  // reads node-a's timeline 2 tag: eni-0a is a timeline 2 interface
  r->step(Role::Primary, 3);  // the promotion
  return r;
}

// A script that, every check, points the route back at `eni` (and, when
// given, writes `tag` too), for `checks` checks. Returns how many times
// node-b moved the route back, and whether it ever reported conflict.
struct War {
  int repairs = 0;
  bool conflict = false;
  int conflicts_entered = 0;
};
War rogue(Rig &r, const std::string &eni, const std::optional<std::string> &tag, int checks) {
  War w;
  int before = moves_of(*r.cloud);
  State last = r.ctl->state();
  for (int i = 0; i < checks; ++i) {
    r.cloud->tables["rtb-1"].eni = eni;
    if (tag) r.cloud->tables["rtb-1"].tag = *tag;
    r.step(Role::Primary, 3);
    if (r.ctl->state() == State::Conflict) {
      w.conflict = true;
      if (last != State::Conflict) ++w.conflicts_entered;
    }
    last = r.ctl->state();
  }
  w.repairs = moves_of(*r.cloud) - before;
  return w;
}

}  // namespace

// B1. The Rival exemption ("a pg_vip rival whose tag is on the table with
// its route steps back once it reads this node's tag") is granted to any
// tag this node outranks, with no count. An authentic tag of an older
// timeline is anyone's to copy (EC2 shows it to every reader, and
// infrastructure as code that snapshotted the table restores it): written
// back with the route to its interface, every time, it is a route war that
// never becomes a conflict, fence key or not. A real rival on an older
// timeline reads the newer tag and is fenced: it does not come back.
TEST(FenceAdversary2, AReplayedOlderTagWithItsRouteIsStillARouteWar) {
  std::string a2;
  auto r = promoted_over_node_a("k3y", &a2);
  ASSERT_EQ(r->ctl->state(), State::Held) << r->ctl->last_error();
  ASSERT_NE(a2.find(";mac="), std::string::npos);
  // Ten minutes of a script restoring node-a's old (authentic) tag and route every check.
  War w = rogue(*r, "eni-0a", a2, 60);
  EXPECT_TRUE(w.conflict) << "repaired " << w.repairs << " times in 10 minutes and never reported conflict";
  EXPECT_LE(w.repairs, 12) << "a war this node fought " << w.repairs << " times in 10 minutes (flap window 100 s)";
}

// B1b. Without a fence key the same, with a made-up tag: the script names
// its own interface on an old timeline and is taken for a rival that steps back.
TEST(FenceAdversary2, AMadeUpOlderTagWithItsRouteIsStillARouteWar) {
  auto r = promoted_over_node_a("");
  ASSERT_EQ(r->ctl->state(), State::Held) << r->ctl->last_error();
  War w = rogue(*r, "eni-0evil", tag(1, "eni-0evil", "evil"), 60);
  EXPECT_TRUE(w.conflict) << "repaired " << w.repairs << " times in 10 minutes and never reported conflict";
  EXPECT_LE(w.repairs, 12);
}

// B2. The stale-write exemption ("at most 4 per window: one claim's
// retries at most") renews itself every window, conflict or not: a script
// that keeps pointing the route at an old primary's interface (Terraform's
// remembered target, say) gets four uncounted reversals per window on top
// of the one any rogue gets, forever, instead of one late claim's worth.
TEST(FenceAdversary2, TheStaleWriteAllowanceIsNotRenewedForeverForOneRogue) {
  auto old_if = promoted_over_node_a("");
  ASSERT_EQ(old_if->ctl->state(), State::Held);
  auto unknown = promoted_over_node_a("");
  ASSERT_EQ(unknown->ctl->state(), State::Held);
  // 30 minutes of a script pointing the route away at every check.
  War at_old = rogue(*old_if, "eni-0a", std::nullopt, 180);
  War at_unknown = rogue(*unknown, "eni-0rogue", std::nullopt, 180);
  EXPECT_TRUE(at_old.conflict);
  // One claim's late copies (4) at most, once: not 4 more every window.
  EXPECT_LE(at_old.repairs, at_unknown.repairs + kStaleRepairsPerTerm)
      << "against a script pointing at the old primary's interface: " << at_old.repairs
      << " repairs; against one pointing at an unknown interface: " << at_unknown.repairs;
}

// B3. Renewal storm: a holder renews when a third of its lease has passed,
// or at once when a tag of its own announces another lease. A tag of its
// own that it cannot rewrite (its table points elsewhere: hands off) keeps
// announcing the old lease, so the node rewrites its other tables' tags at
// every check, forever.
TEST(FenceAdversary2, AnOldTagOfItsOwnThatItCannotRewriteCausesNoRenewalStorm) {
  // node-b held both tables under lease=60; it restarts as primary with a
  // 20 s check interval (lease 120 s). rtb-2 was moved by hand meanwhile.
  std::string old_b = tag(1, "eni-0b", "node-b", "lease=60;");
  Rig r({{"rtb-1", {true, false, "eni-0b", old_b}}, {"rtb-2", {true, false, "eni-0c", old_b}}});
  r.check_interval = seconds(20);
  r.configure();
  r.step(Role::Primary, 1, PrimaryBy::Start);
  ASSERT_NE(r.ctl->last_error().find("did not see it move to"), std::string::npos) << r.ctl->last_error();
  int before = tag_writes_of(*r.cloud);
  milliseconds start = r.time.now;
  while (r.time.now - start < minutes(10)) r.step(Role::Primary, 1);
  int writes = tag_writes_of(*r.cloud) - before;
  // Renewal every lease/3 = 40 s: 15 in 10 minutes, give or take one.
  EXPECT_LE(writes, 16) << writes << " CreateTags in 10 minutes at a 20 s check interval";
}

namespace {

// A node in conflict over one table still holds the others: their tags
// must be renewed, or, once they lapse, a fenced rival of its timeline
// takes them and the two take turns (simulation seed 1742 of 20000: node 0
// in conflict over rtb-2, its rtb-3 tag lapsed, node 2 took the tables).
TEST(FenceAdversary2, ANodeInConflictRenewsTheTagsOfTheTablesItHolds) {
  Rig r({{"rtb-1", {true, false, "eni-0b", std::nullopt}}, {"rtb-2", {true, false, "eni-0b", std::nullopt}}});
  r.step(Role::Primary, 1, PrimaryBy::Promotion);
  ASSERT_EQ(r.ctl->state(), State::Held);
  // Something keeps moving rtb-1 away: repaired once, then conflict.
  for (int i = 0; i < 6 && r.ctl->state() != State::Conflict; ++i) {
    r.cloud->tables["rtb-1"].eni = "eni-0rogue";
    r.step(Role::Primary, 1, PrimaryBy::Promotion);
  }
  ASSERT_EQ(r.ctl->state(), State::Conflict);
  r.cloud->log.clear();
  // Within the flap window (100 s at 10 s checks), past a third of the lease.
  for (int i = 0; i < 5; ++i) r.step(Role::Primary, 1, PrimaryBy::Promotion);
  ASSERT_EQ(r.ctl->state(), State::Conflict);
  int renewed = 0;
  for (const auto &l : r.cloud->log)
    if (l.rfind("apply", 0) == 0) {
      EXPECT_EQ(l.find("point:"), std::string::npos) << "in conflict, no route moves: " << l;
      renewed += l.find("fence:rtb-2") != std::string::npos;
      EXPECT_EQ(l.find("fence:rtb-1"), std::string::npos) << "the table in conflict is not tagged: " << l;
    }
  EXPECT_GE(renewed, 1) << "rtb-2's tag was never renewed while in conflict";
}

}  // namespace
