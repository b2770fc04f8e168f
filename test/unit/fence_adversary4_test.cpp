// The fence against a fourth adversary (adversary4 branch), aimed at the
// rewrite of a holder's own tag when a claim points a route here again
// (stale_own_tag() in point(), commit 98c62f2). Its four findings failed
// before their fix (F1: a refused rewrite kept the route from going back;
// F2: failed route writes counted as a route war); the others pin what held.
#include "controller_rig.hpp"

using namespace pg_vip;
using namespace pg_vip::test;

namespace {

int count_in_log(const FakeCloud &c, const std::string &what) {
  int n = 0;
  for (const auto &l : c.log) n += l.rfind("apply", 0) == 0 && l.find(what) != std::string::npos;
  return n;
}

// node-b (eni-0b) holds both tables on timeline 2 after its promotion.
std::unique_ptr<Rig> holder(milliseconds check_interval = milliseconds(10000)) {
  auto r = std::make_unique<Rig>(two_tables_at_a());
  r->check_interval = check_interval;
  r->configure();
  r->step(Role::Standby, 1);
  r->step(Role::Standby, 1);
  r->step(Role::Primary, 2);
  return r;
}

// Steps the holder for `d` of its own time.
void run_for(Rig &r, milliseconds d, uint32_t tl = 2) {
  milliseconds start = r.time.now;
  while (r.time.now - start < d) r.step(Role::Primary, tl);
}

// A Cloud on which something happens between a read and what follows it:
// EC2 serves a read from before a write another node just made.
class AfterReadCloud : public FakeCloud {
 public:
  std::function<void(FakeCloud &)> after_read;
  std::vector<TargetRead> read(const std::vector<std::string> &ids, int n) override {
    auto out = FakeCloud::read(ids, n);
    if (after_read) {
      auto f = std::move(after_read);
      after_read = nullptr;
      f(*this);
    }
    return out;
  }
};

// Gives the rig an AfterReadCloud (before its first step).
AfterReadCloud *with_after_read_cloud(Rig &r, Resume resume = {}) {
  Controller::Hooks hooks;
  hooks.time = &r.time;
  hooks.cloud = [&r](const ControllerConfig &, TimeSource &, CloudReports reports) {
    auto c = std::make_unique<AfterReadCloud>();
    c->tables = r.initial;
    c->my_eni = r.my_eni;
    c->reports = std::move(reports);
    r.cloud = c.get();
    return std::unique_ptr<Cloud>(std::move(c));
  };
  r.ctl = std::make_unique<Controller>(std::move(hooks), resume);
  r.configure();
  r.step(Role::Standby, 1);  // the cloud comes with the first step
  return static_cast<AfterReadCloud *>(r.cloud);
}

}  // namespace

// F1. IAM starts denying ec2:CreateTags to the holder (an IAM change the
// README allows for: "the VIP still moves ... but the node stays
// claiming"). Its tag cannot be renewed, so a third of a lease later it is
// "stale" by stale_own_tag(). Then a stale primary's ReplaceRoute, sent
// before the failover and applied late by EC2, moves rtb-1 back to the old
// primary (eni-0a, timeline 1), with node-b's tag still on the table. The
// README: "a route moved away from it, with its own tag still on the
// table, is repaired", and a late write of a stale primary is undone
// without counting. Before 98c62f2 point() did not write a tag that names
// this node, so the repair pointed the route back. Now it tries the
// rewrite, CreateTags is refused, and point()'s rule for a failed tag
// ("a tag of this timeline is not taken") keeps the route at the old
// primary for as long as CreateTags is denied: clients are sent to a
// stale primary while the newest primary is alive (E1), and a vip_claim()
// cannot help either.
TEST(Adversary4, HolderWithoutCreateTagsStillRepairsALateWriteUnderItsOwnTag) {
  auto r = holder();
  ASSERT_EQ(r->ctl->state(), State::Held) << r->ctl->last_error();
  r->cloud->deny = {"CreateTags"};
  run_for(*r, seconds(40));  // renewals refused: the tag is older than lease/3 (20 s)
  ASSERT_EQ(r->ctl->state(), State::Held) << r->ctl->last_error();
  // The old primary's late ReplaceRoute lands; node-b's tag stays.
  r->cloud->tables["rtb-1"].eni = "eni-0a";
  r->cloud->log.clear();
  run_for(*r, minutes(2));
  EXPECT_EQ(r->cloud->tables["rtb-1"].eni, "eni-0b")
      << "rtb-1 left at the stale primary's interface for 2 minutes; state " << to_string(r->ctl->state()) << ": "
      << r->ctl->last_error() << "; log: " << join(r->cloud->log, " | ");
  EXPECT_EQ(r->ctl->state(), State::Held) << r->ctl->last_error();
}

// F1b. The same with an outsider's deletion of the route (the simulation's
// outsider deletes routes): the table stays without a route to the VIP.
TEST(Adversary4, HolderWithoutCreateTagsStillRecreatesADeletedRoute) {
  auto r = holder();
  r->cloud->deny = {"CreateTags"};
  run_for(*r, seconds(40));
  ASSERT_EQ(r->ctl->state(), State::Held) << r->ctl->last_error();
  r->cloud->tables["rtb-2"].route = false;
  r->cloud->tables["rtb-2"].eni.clear();
  r->cloud->log.clear();
  run_for(*r, minutes(2));
  EXPECT_TRUE(r->cloud->tables["rtb-2"].route && r->cloud->tables["rtb-2"].eni == "eni-0b")
      << "rtb-2 has had no route to the VIP for 2 minutes; state " << to_string(r->ctl->state()) << ": "
      << r->ctl->last_error() << "; log: " << join(r->cloud->log, " | ");
}

// F1c. Nor does an operator's vip_claim() put it back.
TEST(Adversary4, VipClaimWithoutCreateTagsRepointsAMovedRouteUnderItsOwnTag) {
  auto r = holder();
  r->cloud->deny = {"CreateTags"};
  run_for(*r, seconds(40));
  r->cloud->tables["rtb-1"].eni = "eni-0z";  // moved by hand
  r->cloud->log.clear();
  r->step(Role::Primary, 2, PrimaryBy::Promotion, {{1, false, "op"}});
  r->step(Role::Primary, 2, PrimaryBy::Promotion, {{1, false, "op"}});
  EXPECT_EQ(r->cloud->tables["rtb-1"].eni, "eni-0b")
      << "vip_claim() did not point rtb-1 back; " << r->ctl->last_error() << "; log: " << join(r->cloud->log, " | ");
}

// F2. Around the rewrite: a repair whose route write fails (ReplaceRoute
// throttled through all of the Cloud's attempts, a partition) is retried
// by the claim, and each retry asks may_repoint() again, as if the
// previous attempt had pointed the route here. Here a stale primary's
// late ReplaceRoute (timeline 1's eni-0a) lands during a short EC2 outage,
// which is when late writes happen: the four undos of a late write per
// term are spent on attempts that changed nothing, the fifth attempt is a
// "first reversal", the sixth "moved away again". The node goes to
// `conflict` ("was moved away again ... after this node pointed it here":
// it never did), raises vip_conflict, and leaves clients at the stale
// primary for a flap window. (F1's refused rewrite ends the same way.)
TEST(Adversary4, FailedRepairAttemptsAreNoRouteWar) {
  auto r = holder();
  ASSERT_EQ(r->ctl->state(), State::Held) << r->ctl->last_error();
  r->cloud->tables["rtb-1"].eni = "eni-0a";  // the stale primary's late write
  r->cloud->deny = {"ReplaceRoute"};
  for (int i = 0; i < 6; ++i) r->step(Role::Primary, 2);  // one minute of failed route writes
  r->cloud->deny.clear();                                 // EC2 takes writes again
  r->events();
  run_for(*r, seconds(30));
  auto events = r->events();
  EXPECT_EQ(std::count(events.begin(), events.end(), "vip_conflict"), 0) << r->ctl->last_error();
  EXPECT_EQ(r->cloud->tables["rtb-1"].eni, "eni-0b") << "failed route writes left rtb-1 at the stale primary; state "
                                                     << to_string(r->ctl->state()) << ": " << r->ctl->last_error();
}

// P1. A holder's CreateTags over 10 minutes of an undisturbed hold: one
// renewal per third of a lease at most, and at least one per third of a
// lease plus two checks (the value is first seen unchanged at the check
// after the write, and renewed at the first check past a third of the
// lease: with 10 s checks every 40 s, well inside a reader's 60 s).
TEST(Adversary4, HoldRenewsAtMostOncePerThirdOfALease) {
  for (milliseconds ci :
       {milliseconds(1000), milliseconds(7000), milliseconds(10000), milliseconds(10333), milliseconds(45500)}) {
    auto r = holder(ci);
    ASSERT_EQ(r->ctl->state(), State::Held) << r->ctl->last_error();
    r->cloud->log.clear();
    run_for(*r, minutes(10));
    int tags = count_in_log(*r->cloud, "fence:");
    milliseconds third = lease(ci) / 3;
    EXPECT_LE(tags, minutes(10) / third + 1) << "check_interval " << ci.count() << " ms";
    EXPECT_GE(tags, minutes(10) / (third + 2 * ci) - 1) << "check_interval " << ci.count() << " ms";
    EXPECT_EQ(r->ctl->state(), State::Held) << r->ctl->last_error();
  }
}

// P2. A repair loop that cannot point its route (ReplaceRoute refused) for
// 10 minutes: the claim retries (failed attempts are no route war: it does
// not stop in conflict), but its tag, rewritten once, is fresh again, so
// the rewrite is not sent at every retry: each table's tag at most once per
// third of a lease (rtb-1's with its repair, rtb-2's by the renewal beside
// it).
TEST(Adversary4, RetriedRepairDoesNotRewriteTheTagAtEveryRetry) {
  auto r = holder();
  run_for(*r, seconds(50));  // the tag is due for renewal at the next check
  r->cloud->tables["rtb-1"].eni = "eni-0z";
  r->cloud->deny = {"ReplaceRoute"};
  r->cloud->log.clear();
  run_for(*r, minutes(10));
  int tags = count_in_log(*r->cloud, "fence:");
  EXPECT_LE(tags, 2 * (minutes(10) / (lease(r->check_interval) / 3) + 1)) << join(r->cloud->log, " | ");
  EXPECT_NE(r->ctl->state(), State::Conflict) << r->ctl->last_error();
}

// P3. A reload that changes the lease rewrites the tag once (it announces
// another lease), then at the usual pace: no rewrite at every check.
TEST(Adversary4, ReloadThatChangesTheLeaseRewritesOnceThenAtThePace) {
  auto r = holder(milliseconds(30000));  // lease 180 s
  run_for(*r, seconds(30));
  r->check_interval = milliseconds(10000);  // lease 60 s
  r->configure();
  r->cloud->log.clear();
  run_for(*r, minutes(2));
  int tags = count_in_log(*r->cloud, "fence:");
  EXPECT_GE(tags, 1);
  EXPECT_LE(tags, 1 + minutes(2) / seconds(20)) << join(r->cloud->log, " | ");
  auto h = parse_fence_tag(*r->cloud->tables["rtb-1"].tag);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->lease, seconds(60));
}

// P4. A wall-clock step back of 10 minutes while holding: renewal runs on
// the monotonic clock, neither stopped nor sped up.
TEST(Adversary4, WallClockStepChangesNoRenewalPace) {
  auto r = holder();
  r->cloud->log.clear();
  run_for(*r, minutes(5));
  int before = count_in_log(*r->cloud, "fence:");
  r->time.wall_step = -minutes(10);
  r->cloud->log.clear();
  run_for(*r, minutes(5));
  int after = count_in_log(*r->cloud, "fence:");
  EXPECT_GE(after, before - 1);  // the phase of 40 s renewals in 5 minutes: 7 or 8
  EXPECT_LE(after, before + 1);
  EXPECT_EQ(r->ctl->state(), State::Held);
}

// P5. S1 on the rewrite: a holder that comes back from 5 minutes without
// reads, on a read that does not yet show timeline 3's tag (written just
// after it), rewrites only its own timeline's key: the newer tag stands,
// and the holder's next read fences it.
TEST(Adversary4, RewriteOnAStaleReadWritesOnlyItsOwnTimelinesKey) {
  Rig r(two_tables_at_a());
  AfterReadCloud *c = with_after_read_cloud(r);
  r.step(Role::Standby, 1);
  r.step(Role::Primary, 2);
  ASSERT_EQ(r.ctl->state(), State::Held) << r.ctl->last_error();
  c->deny = {"DescribeRouteTables"};
  run_for(r, minutes(5));
  c->deny.clear();
  c->tables["rtb-1"].route = false;  // deleted meanwhile: the returning holder repairs it
  c->tables["rtb-1"].eni.clear();
  std::string newer = tag(3, "eni-0c", "node-c", "lease=60;since=1795000200;");
  c->after_read = [&](FakeCloud &f) {  // timeline 3 writes just after the read
    for (auto id : {"rtb-1", "rtb-2"}) {
      f.other_tags[id][fence_tag_key(kVip, 3)] = newer;
      f.tables[id].route = true;
      f.tables[id].eni = "eni-0c";
    }
  };
  c->written_keys.clear();
  c->log.clear();
  for (int i = 0; i < 6; ++i) r.step(Role::Primary, 2);
  for (const auto &k : c->written_keys) EXPECT_EQ(k, fence_tag_key(kVip, 2));
  for (auto id : {"rtb-1", "rtb-2"}) {
    std::map<std::string, std::string> all = c->other_tags[id];
    if (c->tables[id].tag) all[key_of(*c->tables[id].tag)] = *c->tables[id].tag;
    EXPECT_EQ(all[fence_tag_key(kVip, 3)], newer) << id;
  }
  EXPECT_EQ(r.ctl->state(), State::Fenced) << r.ctl->last_error() << "; log: " << join(c->log, " | ");
}

// P6. The promotion's single round trip is unchanged: routes and tag in one
// request, whatever the tags said.
TEST(Adversary4, PromotionStillSendsRoutesAndTagInOneRoundTrip) {
  Rig r(two_tables_at_a());
  r.step(Role::Standby, 1);
  r.step(Role::Standby, 1);
  r.cloud->log.clear();
  r.step(Role::Primary, 2);
  ASSERT_EQ(r.ctl->state(), State::Held) << r.ctl->last_error();
  ASSERT_GE(r.cloud->log.size(), 1u);
  EXPECT_EQ(r.cloud->log[0], "apply point:rtb-1 point:rtb-2 fence:rtb-1 fence:rtb-2");
}
