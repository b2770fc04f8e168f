// The fence against a third adversary (adversary2 branch). Each test states
// what the fence promises and fails where the fence as it stands gives way.
#include "controller_rig.hpp"

using namespace pg_vip;
using namespace pg_vip::test;

namespace {

const std::string kLegacy = legacy_fence_tag_key(kVip);

// node-b (eni-0b) takes the VIP from node-a (eni-0a, timeline 2) by a
// promotion to timeline 3 over `tables` (each at eni-0a with node-a's tag),
// with `extra` tags besides on each table.
std::unique_ptr<Rig> promoted(const std::vector<std::string> &ids,
                              std::map<std::string, std::map<std::string, std::string>> extra,
                              const std::string &key = "", std::set<std::string> deny_at_promotion = {}) {
  Identity a{"node-a", kSys, 2, "eni-0a"};
  std::string a2 = fence_tag_value(a, system_clock::time_point(seconds(1794990000)), {seconds(60), 3600}, key);
  std::map<std::string, FakeTable> tables;
  for (const auto &id : ids) tables[id] = {true, false, "eni-0a", a2};
  auto r = std::make_unique<Rig>(tables);
  r->fence_key = key;
  r->configure();
  r->step(Role::Standby, 2);  // the cloud comes with the first step
  r->cloud->other_tags = std::move(extra);
  r->step(Role::Standby, 2);  // the standby's read
  r->cloud->deny = std::move(deny_at_promotion);
  r->step(Role::Primary, 3);  // the promotion
  return r;
}

}  // namespace

// C1. fence_tag_keys_to_forget keeps the legacy key when its value is not
// this cluster's older tag ("the legacy key may still be written by a
// pg_vip 0.2 node of a newer timeline, or by someone else: only this
// cluster's older tag goes"). But forget_tags sends one DeleteTags for the
// union of every table's keys over every table that has any: a legacy key
// that is this cluster's older tag on rtb-1 is deleted from rtb-2 too,
// where it is another cluster's tag (here: a second cluster given the
// same VIP, on its timeline 7). EC2's DeleteTags takes a value
// (Tag.N.Value: deleted only if it matches); pg_vip sends keys only.
TEST(Adversary3, DeletesAnotherTablesLegacyTagThatIsNotThisClustersOlderTag) {
  std::string theirs = "tl=7;sysid=9999;id=eni-0z;at=2026-11-18T11:06:40Z;node=other";
  auto r = promoted({"rtb-1", "rtb-2"},
                    {{"rtb-1", {{kLegacy, tag(1, "eni-0a", "node-a")}}},
                     {"rtb-2", {{fence_tag_key(kVip, 1), tag(1, "eni-0a", "node-a")}, {kLegacy, theirs}}}});
  ASSERT_EQ(r->ctl->state(), State::Held) << r->ctl->last_error();
  // What the function says for rtb-2 alone: its legacy tag stays.
  std::map<std::string, std::string> rtb2 = r->cloud->other_tags["rtb-2"];
  rtb2[fence_tag_key(kVip, 3)] = *r->cloud->tables["rtb-2"].tag;
  Identity me{"node-b", kSys, 3, "eni-0b"};
  auto keys = fence_tag_keys_to_forget(rtb2, kVip, me);
  ASSERT_EQ(std::count(keys.begin(), keys.end(), kLegacy), 0);
  r->time.now += minutes(1);
  r->step(Role::Primary, 3);  // a holder's check: it deletes older tags
  ASSERT_EQ(r->ctl->state(), State::Held) << r->ctl->last_error();
  EXPECT_EQ(r->cloud->other_tags["rtb-1"].count(kLegacy), 0u) << "this cluster's older legacy tag goes";
  ASSERT_TRUE(r->cloud->other_tags["rtb-2"].count(kLegacy))
      << "rtb-2's legacy tag (another cluster's, timeline 7) was deleted by a node that only meant rtb-1's; log: "
      << join(r->cloud->log, " | ");
  EXPECT_EQ(r->cloud->other_tags["rtb-2"][kLegacy], theirs);
}

// C1b. The same with the legacy tag of a pg_vip 0.2 node of this cluster
// on a newer timeline (5), which a fence key makes not this cluster's (0.2
// wrote no MAC, so it does not fence node-b on timeline 3 either): S1 says
// no node on a timeline below 5 deletes timeline 5's tag.
TEST(Adversary3, OlderTimelineDeletesANewerLegacyTagThroughAnotherTablesKey) {
  Identity a{"node-a", kSys, 1, "eni-0a"};
  std::string newer = tag(5, "eni-0c", "node-c-0.2");
  auto r = promoted({"rtb-1", "rtb-2"},
                    {{"rtb-1", {{kLegacy, tag(1, "eni-0a", "node-a")}}},
                     {"rtb-2",
                      {{fence_tag_key(kVip, 1), fence_tag_value(a, system_clock::time_point(seconds(1794000000)),
                                                                {seconds(60), 1794000000}, "k3y")},
                       {kLegacy, newer}}}},
                    "k3y");
  ASSERT_EQ(r->ctl->state(), State::Held) << r->ctl->last_error();
  r->time.now += minutes(1);
  r->step(Role::Primary, 3);
  ASSERT_TRUE(r->cloud->other_tags["rtb-2"].count(kLegacy))
      << "timeline 5's legacy tag on rtb-2 deleted by a node on timeline 3; log: " << join(r->cloud->log, " | ");
}

// C2. The "taker" rule lets a tag that is not this cluster's hide a newer
// timeline's tag from every reader. Setting: a fence key is configured,
// and rtb-1 still carries the legacy tag pg_vip 0.2 wrote for node-a
// (eni-0a) on timeline 1 (no MAC: not this cluster's under the key;
// ec2:DeleteTags never granted, which the log calls harmless). node-b's
// promotion to timeline 3 writes its tag, but its ReplaceRoute fails once
// (throttled, denied for a moment). From then on every reader goes by the
// legacy tag (it names eni-0a, where the route points, and node-b's tag
// does not): node-b, the newest primary, sees a foreign table and never
// takes the route; node-a, the old primary of timeline 2, is not fenced.
// The VIP stays on the old primary with no forged tag and no fault left.
TEST(Adversary3, LeftoverLegacyTagKeepsTheVipOnTheOldPrimaryAfterOneFailedRouteWrite) {
  std::string legacy = "tl=1;sysid=" + kSys + ";id=eni-0a;at=2026-01-01T00:00:00Z;node=node-a";
  auto r = promoted({"rtb-1"}, {{"rtb-1", {{kLegacy, legacy}}}}, "k3y", {"ReplaceRoute"});
  ASSERT_TRUE(r->cloud->tables["rtb-1"].tag);
  ASSERT_NE(r->cloud->tables["rtb-1"].tag->find("tl=3;"), std::string::npos) << "node-b's tag landed";
  ASSERT_EQ(r->cloud->tables["rtb-1"].eni, "eni-0a") << "its route write did not";
  r->cloud->deny.clear();                                  // the fault is over
  for (int i = 0; i < 60; ++i) r->step(Role::Primary, 3);  // ten minutes
  EXPECT_EQ(r->cloud->tables["rtb-1"].eni, "eni-0b") << "the newest primary never took the route; state "
                                                     << to_string(r->ctl->state()) << ": " << r->ctl->last_error();
  EXPECT_EQ(r->ctl->state(), State::Held);
}

// C2b. The old primary's side of C2: node-a (eni-0a) on timeline 2 holds;
// node-c's timeline 3 tag (authentic) is on the table, the route not yet
// moved, and a tag that is not this cluster's names eni-0a (the 0.2
// leftover, or anyone with only ec2:CreateTags). node-a is not fenced by
// timeline 3: the only thing that tells it a newer primary exists is hidden.
TEST(Adversary3, ATagNamingTheOldPrimaryHidesTheNewerTimelineFromIt) {
  const std::string key = "k3y";
  Identity c{"node-c", kSys, 3, "eni-0c"};
  std::string c3 = fence_tag_value(c, system_clock::time_point(seconds(1795000000)), {seconds(60), 1795000000}, key);
  Identity x{"node-x", kSys, 1, "eni-0x"};
  std::string x1 = fence_tag_value(x, system_clock::time_point(seconds(1794000000)), {seconds(60), 1794000000}, key);
  Rig ra({{"rtb-1", {true, false, "eni-0x", x1}}}, {}, "node-a");
  ra.my_eni = "eni-0a";
  ra.fence_key = key;
  ra.configure();
  ra.step(Role::Standby, 1);
  ra.step(Role::Primary, 2);
  // The promotion held (its own tag, its own route).
  ASSERT_EQ(ra.ctl->state(), State::Held) << ra.ctl->last_error();
  ra.time.now += seconds(10);
  ra.step(Role::Primary, 2);
  ASSERT_EQ(ra.ctl->state(), State::Held) << ra.ctl->last_error();
  // node-c's timeline 3 tag lands (its route write is late), and a tag not
  // of this cluster names eni-0a.
  ra.cloud->other_tags["rtb-1"][fence_tag_key(kVip, 3)] = c3;
  ra.cloud->other_tags["rtb-1"][kLegacy] = "tl=1;sysid=" + kSys + ";id=eni-0a;at=2026-01-01T00:00:00Z;node=node-a";
  for (int i = 0; i < 3; ++i) ra.step(Role::Primary, 2);
  EXPECT_EQ(ra.ctl->state(), State::Fenced) << "timeline 3's tag stands on the table, yet node-a (timeline 2) is "
                                            << to_string(ra.ctl->state()) << ": " << ra.ctl->last_error();
}

namespace {

// A FakeCloud whose reads can lag: while `stale` is set, every read shows
// the route and the legacy tag as they were (EC2 is eventually consistent).
class StaleCloud : public FakeCloud {
 public:
  bool stale = false;
  std::string shown_eni;
  std::optional<std::string> shown_legacy;
  std::vector<TargetRead> read(const std::vector<std::string> &ids, int attempts) override {
    auto out = FakeCloud::read(ids, attempts);
    if (stale)
      for (auto &r : out) {
        r.interface_id = r.points_at = shown_eni;
        r.state = state_of(r.state != TargetState::Missing, r.state == TargetState::Dangling, shown_eni);
        if (shown_legacy) r.fence_tags[kLegacy] = *shown_legacy;
        else r.fence_tags.erase(kLegacy);
      }
    return out;
  }
};

// Rebuilds the rig's controller over a StaleCloud.
StaleCloud *over_stale_cloud(Rig &r) {
  Controller::Hooks hooks;
  hooks.time = &r.time;
  hooks.cloud = [&r](const ControllerConfig &, TimeSource &, CloudReports reports) {
    auto c = std::make_unique<StaleCloud>();
    c->tables = r.initial;
    c->my_eni = r.my_eni;
    c->reports = std::move(reports);
    r.cloud = c.get();
    return std::unique_ptr<Cloud>(std::move(c));
  };
  r.ctl = std::make_unique<Controller>(std::move(hooks), Resume{});
  r.configure();
  r.step(Role::Standby, 2);
  return static_cast<StaleCloud *>(r.cloud);
}

}  // namespace

// C3. S1 "whatever it read (counted where EC2 applies it)". During a
// rolling upgrade a pg_vip 0.2 node (node-c, eni-0c) is promoted to
// timeline 5: it writes the legacy key pg_vip:<vip> and moves the route.
// node-b (0.3, timeline 3) holds; its next check reads a stale view (the
// route still here, the legacy key still node-a's timeline 2 tag) and
// deletes the legacy key by key alone: timeline 5's tag is gone. On its
// next (fresh) read nothing outranks it any more, the route points
// elsewhere, and it "repairs": timeline 3 takes the VIP back from
// timeline 5's primary. DeleteTags can be made conditional on the value
// it read (Tag.N.Value); pg_vip sends keys only.
TEST(Adversary3, AStaleReadLetsAnOlderTimelineDeleteANewerLegacyTagAndTakeTheVipBack) {
  Rig r({{"rtb-1", {true, false, "eni-0a", tag(2, "eni-0a", "node-a", "lease=60;since=1794990000;")}}});
  StaleCloud *c = over_stale_cloud(r);
  r.step(Role::Primary, 3);  // node-b's promotion
  ASSERT_EQ(r.ctl->state(), State::Held) << r.ctl->last_error();
  r.step(Role::Primary, 3);  // a check: node-a's timeline 2 tag is deleted
  // node-a's 0.2-era legacy tag of timeline 2 is on the table...
  c->other_tags["rtb-1"][kLegacy] = tag(2, "eni-0a", "node-a");
  // ... and node-b reads it so, with the route here, while node-c (0.2,
  // timeline 5) has meanwhile written the legacy key and moved the route.
  c->stale = true;
  c->shown_eni = "eni-0b";
  c->shown_legacy = tag(2, "eni-0a", "node-a");
  std::string newer = tag(5, "eni-0c", "node-c");
  c->other_tags["rtb-1"][kLegacy] = newer;
  c->tables["rtb-1"].eni = "eni-0c";
  r.step(Role::Primary, 3);
  EXPECT_EQ(c->other_tags["rtb-1"].count(kLegacy), 1u)
      << "timeline 5's tag deleted by a node on timeline 3; log: " << join(c->log, " | ");
  c->stale = false;  // EC2 catches up
  for (int i = 0; i < 6; ++i) r.step(Role::Primary, 3);
  EXPECT_EQ(c->tables["rtb-1"].eni, "eni-0c") << "timeline 3 took the route back from timeline 5's primary";
  EXPECT_NE(r.ctl->state(), State::Held) << r.ctl->last_error();
}

// C2c. C2 by an outsider with only ec2:CreateTags, no fence key: node-b's
// promotion to timeline 3 writes its tag but its ReplaceRoute fails once;
// meanwhile anyone writes a tag without a system identifier (S6: a tag no
// pg_vip node wrote) that names the old primary's interface, where the
// route still points. node-b never takes the route: E1 bounds the time the
// newest live primary goes without it (about 3 minutes) and names no
// forged tag among what excuses it. The simulation's outsider always names
// eni-0forged, never a real node's interface, so it cannot meet this.
TEST(Adversary3, AnOutsidersTagNamingTheOldPrimaryKeepsTheNewestPrimaryFromTheRoute) {
  auto r = promoted({"rtb-1"}, {}, "", {"ReplaceRoute"});
  ASSERT_EQ(r->cloud->tables["rtb-1"].eni, "eni-0a");
  r->cloud->other_tags["rtb-1"][fence_tag_key(kVip, 9)] = "tl=9;id=eni-0a;at=2026-11-20T00:00:00Z;node=forged";
  r->cloud->deny.clear();
  for (int i = 0; i < 30; ++i) r->step(Role::Primary, 3);  // five minutes
  EXPECT_EQ(r->cloud->tables["rtb-1"].eni, "eni-0b")
      << "state " << to_string(r->ctl->state()) << ": " << r->ctl->last_error();
}
