// The controller's state machine, through the seam: a fake Cloud that holds
// route tables and tags and records every request, and a manual clock.
#include "controller_rig.hpp"

using namespace pg_vip;
using namespace std::chrono;

using namespace pg_vip::test;

TEST(Controller, APromotionClaimsEveryTableInOneRoundTrip) {
  Rig r(two_tables_at_a());
  r.step(Role::Standby, 1);
  EXPECT_EQ(r.ctl->state(), State::Standby);
  EXPECT_EQ(r.cloud->changes(), 0) << "a standby never writes";
  r.cloud->log.clear();
  r.step(Role::Primary, 2);
  EXPECT_EQ(r.ctl->state(), State::Held) << r.ctl->last_error();
  ASSERT_GE(r.cloud->log.size(), 1u);
  EXPECT_EQ(r.cloud->log[0], "apply point:rtb-1 point:rtb-2 fence:rtb-1 fence:rtb-2") << "routes and tag at once";
  EXPECT_EQ(r.cloud->changes(), 1);
  EXPECT_EQ(r.events(), (std::vector<std::string>{"vip_claim", "vip_held"}));
  EXPECT_EQ(r.cloud->tables["rtb-1"].tag->rfind("tl=2;sysid=7311;id=eni-0b;", 0), 0u);
}

// Issue item 1: a failed CreateTags never ends in held.
TEST(Controller, WithoutItsFenceTagANodeIsNotHeld) {
  Rig r(two_tables_at_a());
  r.step(Role::Standby, 1);
  r.cloud->deny.insert("CreateTags");
  auto d = r.step(Role::Primary, 2);
  EXPECT_EQ(r.ctl->state(), State::Claiming);
  EXPECT_NE(r.ctl->last_error().find("fence tag not written: UnauthorizedOperation"), std::string::npos)
      << r.ctl->last_error();
  EXPECT_NE(r.ctl->last_error().find("the IAM policy must allow ec2:CreateTags"), std::string::npos);
  EXPECT_NE(r.ctl->tables()[0].last_error.find("ec2:CreateTags"), std::string::npos) << "vip_routes() says it too";
  EXPECT_EQ(d, milliseconds(10000)) << "a permission error is retried at the slow pace";
  auto ev = r.events();
  EXPECT_EQ(std::count(ev.begin(), ev.end(), "vip_claim_failed"), 1);
  // The next round: tag first, so no route is touched again; the same cause raises no second event.
  r.cloud->log.clear();
  r.step(Role::Primary, 2);
  EXPECT_EQ(r.ctl->state(), State::Claiming);
  for (const auto &l : r.cloud->log) EXPECT_EQ(l.find("point:"), std::string::npos) << l;
  ev = r.events();
  EXPECT_EQ(std::count(ev.begin(), ev.end(), "vip_claim_failed"), 0);
  // Permission granted: held.
  r.cloud->deny.clear();
  r.step(Role::Primary, 2);
  EXPECT_EQ(r.ctl->state(), State::Held) << r.ctl->last_error();
}

// Issue item 3: a node that starts as primary fails closed.
TEST(Controller, AStartAsPrimaryChangesNothingItCouldNotRead) {
  Rig r({{"rtb-1", {true, false, "eni-0c", std::nullopt}}});
  r.step(Role::Standby, 1);  // builds the cloud
  r.cloud->deny.insert("DescribeRouteTables");
  r.cloud->log.clear();
  r.step(Role::Primary, 1, PrimaryBy::Start);
  EXPECT_EQ(r.cloud->changes(), 0) << "no read, no change";
  EXPECT_EQ(r.ctl->state(), State::Claiming);
  EXPECT_NE(r.ctl->last_error().find("cannot read: UnauthorizedOperation"), std::string::npos) << r.ctl->last_error();
  EXPECT_NE(r.ctl->last_error().find("ec2:DescribeRouteTables"), std::string::npos);
  // Readable again: claimed.
  r.cloud->deny.clear();
  r.step(Role::Primary, 1, PrimaryBy::Start);
  EXPECT_EQ(r.ctl->state(), State::Held) << r.ctl->last_error();
}

TEST(Controller, AStartAsPrimaryUnderANewerTagIsFencedAndSendsNothing) {
  Rig r({{"rtb-1", {true, false, "eni-0c", tag(3, "eni-0c", "node-c")}}});
  r.step(Role::Primary, 2, PrimaryBy::Start);
  EXPECT_EQ(r.ctl->state(), State::Fenced);
  EXPECT_EQ(r.cloud->changes(), 0);
  ASSERT_TRUE(r.ctl->holder());
  EXPECT_EQ(r.ctl->holder()->interface_id, "eni-0c");
  EXPECT_NE(r.ctl->last_error().find("a newer timeline holds the VIP"), std::string::npos);
  EXPECT_EQ(r.events(), (std::vector<std::string>{"vip_fenced"}));
}

// Issue item 2: repair never fights.
TEST(Controller, ARepairNeedsItsOwnTagAConfirmationAndStopsAtTheSecondReversal) {
  Rig r({{"rtb-1", {true, false, "eni-0a", std::nullopt}}});
  r.step(Role::Primary, 1, PrimaryBy::Start);
  ASSERT_EQ(r.ctl->state(), State::Held);
  r.events();
  // Someone moves the route; our tag is still there: confirmed, then repaired, tag first.
  r.cloud->tables["rtb-1"].eni = "eni-0z";
  r.cloud->log.clear();
  r.step(Role::Primary, 1);
  EXPECT_EQ(r.ctl->state(), State::Held);
  // Its tag is still on the table: only the route is written, after the confirming read.
  EXPECT_EQ(r.cloud->log, (std::vector<std::string>{"read", "read", "apply point:rtb-1", "read"}));
  EXPECT_EQ(r.events(), (std::vector<std::string>{"vip_claim", "vip_repaired"}));
  // Moved again within the flap window: conflict, nothing sent.
  r.cloud->tables["rtb-1"].eni = "eni-0z";
  r.cloud->log.clear();
  r.step(Role::Primary, 1);
  EXPECT_EQ(r.ctl->state(), State::Conflict);
  EXPECT_EQ(r.cloud->changes(), 0);
  EXPECT_EQ(r.events(), (std::vector<std::string>{"vip_conflict"}));
  EXPECT_NE(r.ctl->last_error().find("moved away again"), std::string::npos);
  // It stays hands-off on the next checks.
  r.step(Role::Primary, 1);
  EXPECT_EQ(r.ctl->state(), State::Conflict);
  EXPECT_EQ(r.cloud->changes(), 0);
}

TEST(Controller, ARouteMovedByANewerTimelineFencesInsteadOfRepairing) {
  Rig r({{"rtb-1", {true, false, "eni-0b", tag(1, "eni-0b")}}});
  r.step(Role::Primary, 1, PrimaryBy::Start);
  ASSERT_EQ(r.ctl->state(), State::Held);
  r.cloud->tables["rtb-1"] = {true, false, "eni-0c", tag(2, "eni-0c", "node-c")};
  r.cloud->log.clear();
  r.step(Role::Primary, 1);
  EXPECT_EQ(r.ctl->state(), State::Fenced);
  EXPECT_EQ(r.cloud->changes(), 0);
}

// Issue item 4: two nodes of one name, and a rename.
TEST(Controller, ARenamedHolderKeepsTheVipAndNamesakesDoNotShareIt) {
  Rig r({{"rtb-1", {true, false, "eni-0a", std::nullopt}}}, {}, "15/main");
  r.step(Role::Primary, 2, PrimaryBy::Start);
  ASSERT_EQ(r.ctl->state(), State::Held);
  r.configure("renamed");
  r.cloud->log.clear();
  r.step(Role::Primary, 2);
  EXPECT_EQ(r.ctl->state(), State::Held) << r.ctl->last_error();
  EXPECT_EQ(r.cloud->changes(), 0);
  // A namesake on the same timeline, primary since the same second, with an
  // interface that sorts first outranks it.
  r.cloud->tables["rtb-1"] = {true, false, "eni-0a", tag(2, "eni-0a", "15/main", "since=1795000000;")};
  r.step(Role::Primary, 2);
  EXPECT_EQ(r.ctl->state(), State::Fenced);
  EXPECT_NE(r.ctl->last_error().find("eni-0a before eni-0b"), std::string::npos) << r.ctl->last_error();
}

// Issue item 5: each request once, with its own force flag.
TEST(Controller, EachClaimRequestIsAnsweredOnceWithItsOwnForce) {
  Rig r({{"rtb-1", {true, false, "eni-0c", tag(3, "eni-0c")}}});
  r.step(Role::Primary, 2, PrimaryBy::Start);
  ASSERT_EQ(r.ctl->state(), State::Fenced);
  std::vector<ClaimRequest> reqs = {{1, false, "alice"}, {2, true, "bob"}};
  r.cloud->log.clear();
  r.step(Role::Primary, 2, PrimaryBy::Start, reqs);
  auto a = r.ctl->take_answers();
  ASSERT_EQ(a.size(), 1u) << "one request per step, oldest first";
  EXPECT_EQ(a[0].seq, 1u);
  EXPECT_FALSE(a[0].ok) << "alice did not force: still fenced";
  EXPECT_EQ(r.cloud->changes(), 0);
  r.step(Role::Primary, 2, PrimaryBy::Start, reqs);
  a = r.ctl->take_answers();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].seq, 2u);
  EXPECT_TRUE(a[0].ok) << a[0].error;
  EXPECT_EQ(r.ctl->state(), State::Held);
  EXPECT_EQ(r.ctl->claim_request_done(), 2u);
  // Asked again (the glue has not caught up): not answered twice.
  r.step(Role::Primary, 2, PrimaryBy::Start, reqs);
  EXPECT_TRUE(r.ctl->take_answers().empty());
}

TEST(Controller, ARestartedWorkerDoesNotReplayAnsweredRequests) {
  Rig r({{"rtb-1", {true, false, "eni-0c", tag(3, "eni-0c")}}}, resume(State::Fenced, 5));
  std::vector<ClaimRequest> reqs = {{5, true, "bob"}};
  r.step(Role::Primary, 2, PrimaryBy::Start, reqs);
  EXPECT_TRUE(r.ctl->take_answers().empty());
  EXPECT_EQ(r.ctl->state(), State::Fenced);
  EXPECT_EQ(r.cloud->changes(), 0) << "request 5 was answered before the restart";
}

TEST(Controller, AnUnreadableTagIsNotActedOn) {
  Rig r({{"rtb-1", {true, false, "eni-0z", std::string("garbage")}}});
  r.step(Role::Primary, 2, PrimaryBy::Start);
  EXPECT_EQ(r.ctl->state(), State::Claiming);
  EXPECT_EQ(r.cloud->changes(), 0);
  EXPECT_NE(r.ctl->last_error().find("fence tag not this cluster's (not in pg_vip's format)"), std::string::npos)
      << r.ctl->last_error();
}

// Issue item 6: fenced is not a dead end.
TEST(Controller, ADoublePromotionsLoserTakesOverWhenTheWinnersTagLapses) {
  // Both promoted in the same second.
  Rig r({{"rtb-1", {true, false, "eni-0a", tag(2, "eni-0a", "node-a", "since=1795000000;")}}});
  r.step(Role::Primary, 2, PrimaryBy::Start);
  ASSERT_EQ(r.ctl->state(), State::Fenced) << "eni-0a sorts first on timeline 2";
  // The winner was rewound into a standby: its tag is never renewed.
  r.time.now += minutes(5);
  r.step(Role::Primary, 2);
  r.step(Role::Primary, 2);
  EXPECT_EQ(r.ctl->state(), State::Held) << r.ctl->last_error();
  EXPECT_EQ(r.cloud->tables["rtb-1"].eni, "eni-0b");
}

TEST(Controller, ANewerTimelinesTagFencesForeverHoweverOld) {
  Rig r({{"rtb-1", {true, true, "eni-0c", tag(3, "eni-0c")}}});
  r.step(Role::Primary, 2, PrimaryBy::Start);
  r.time.now += hours(5);
  for (int i = 0; i < 5; ++i) r.step(Role::Primary, 2);
  EXPECT_EQ(r.ctl->state(), State::Fenced);
  EXPECT_EQ(r.cloud->changes(), 0);
}

TEST(Controller, AHolderRenewsItsTag) {
  Rig r({{"rtb-1", {true, false, "eni-0a", std::nullopt}}});
  r.step(Role::Primary, 1, PrimaryBy::Start);
  std::string first = *r.cloud->tables["rtb-1"].tag;
  r.time.now += minutes(1);
  r.step(Role::Primary, 1);
  EXPECT_NE(*r.cloud->tables["rtb-1"].tag, first);
  EXPECT_EQ(r.ctl->state(), State::Held);
}

TEST(Controller, ANewerTimelineOnceSeenFencesEvenAfterItsTagIsGone) {
  Rig r({{"rtb-1", {true, false, "eni-0c", tag(3, "eni-0c", "node-c")}}});
  r.step(Role::Primary, 2, PrimaryBy::Start);
  ASSERT_EQ(r.ctl->state(), State::Fenced);
  EXPECT_EQ(r.ctl->newest_seen(), 3u);
  // The tl 3 tag is overwritten (a stale-read claim elsewhere, a hand edit).
  r.cloud->tables["rtb-1"].tag = tag(2, "eni-0b", "node-b");
  for (int i = 0; i < 5; ++i) r.step(Role::Primary, 2);
  EXPECT_EQ(r.ctl->state(), State::Fenced) << r.ctl->last_error();
  EXPECT_EQ(r.cloud->changes(), 0);
  EXPECT_NE(r.ctl->last_error().find("timeline 3 was seen holding the VIP"), std::string::npos) << r.ctl->last_error();
  // A restarted worker remembers it.
  Rig again({{"rtb-1", {true, false, "eni-0c", tag(2, "eni-0b", "node-b")}}}, resume(State::Fenced, 0, 3));
  again.step(Role::Primary, 2, PrimaryBy::Start);
  again.step(Role::Primary, 2);
  EXPECT_EQ(again.ctl->state(), State::Fenced);
  EXPECT_EQ(again.cloud->changes(), 0);
  // Only a forced claim overrides it.
  again.step(Role::Primary, 2, PrimaryBy::Start, {{1, true, "dba"}});
  EXPECT_EQ(again.ctl->state(), State::Held) << again.ctl->last_error();
  EXPECT_EQ(again.ctl->newest_seen(), 0u);
}

TEST(Controller, ARogueThatKeepsMovingARouteIsNotFoughtFromTheRetryPathEither) {
  Rig r({{"rtb-1", {true, false, "eni-0a", std::nullopt}}});
  r.step(Role::Primary, 1, PrimaryBy::Start);
  ASSERT_EQ(r.ctl->state(), State::Held);
  r.cloud->tables["rtb-1"].eni = "eni-0rogue";
  r.step(Role::Primary, 1);  // first reversal: repaired
  ASSERT_EQ(r.ctl->state(), State::Held);
  // A failed read makes the next check a retry claim; the rogue moves again.
  r.cloud->deny.insert("DescribeRouteTables");
  r.step(Role::Primary, 1);
  ASSERT_EQ(r.ctl->state(), State::Claiming);
  r.cloud->deny.clear();
  r.cloud->tables["rtb-1"].eni = "eni-0rogue";
  r.cloud->log.clear();
  r.step(Role::Primary, 1);
  EXPECT_EQ(r.ctl->state(), State::Conflict) << r.ctl->last_error();
  EXPECT_EQ(r.cloud->changes(), 0);
}

TEST(Controller, ANewerTimelineWithoutTagPermissionStillTakesTablesAnOlderTimelineTagged) {
  // node-a (tl 1) repaired the routes back; node-b (tl 2) cannot write its tag.
  Rig r({{"rtb-1", {true, false, "eni-0a", tag(1, "eni-0a", "node-a")}}});
  r.step(Role::Standby, 1);
  r.cloud->deny.insert("CreateTags");
  r.cloud->log.clear();
  r.step(Role::Primary, 2, PrimaryBy::Start);  // a claim that reads first (not the promotion's)
  EXPECT_EQ(r.cloud->tables["rtb-1"].eni, "eni-0b") << "an older timeline's tag does not hold the route back";
  EXPECT_EQ(r.ctl->state(), State::Claiming) << "but without its tag this node does not hold";
  // A table with no tag at all is not taken without the tag.
  Rig bare({{"rtb-1", {true, false, "eni-0a", std::nullopt}}});
  bare.step(Role::Standby, 1);
  bare.cloud->deny.insert("CreateTags");
  bare.step(Role::Primary, 2, PrimaryBy::Start);
  EXPECT_EQ(bare.cloud->tables["rtb-1"].eni, "eni-0a");
}

TEST(Controller, AWorkerRestartedBeforeItsFirstPrimaryStepReadsBeforeClaiming) {
  // Shared memory says standby; the node was promoted meanwhile; this worker read nothing yet.
  Rig r({{"rtb-1", {true, false, "eni-0c", tag(3, "eni-0c", "node-c")}}}, resume(State::Standby, 0));
  r.step(Role::Primary, 2, PrimaryBy::Promotion);
  EXPECT_EQ(r.ctl->state(), State::Fenced) << "it read the newer tag first";
  EXPECT_EQ(r.cloud->changes(), 0);
}

// The status: the controller alone fills it, and a restarted worker resumes
// from what it published.
TEST(ControllerStatus, ShowsTheSettingsAtOnceAndTheRoleBeforeTheFirstStep) {
  Rig r(two_tables_at_a());
  auto s = std::make_unique<Status>();
  r.ctl->write_status(*s);
  EXPECT_EQ(s->state, State::Standby) << "configured, never stepped, role not known yet";
  EXPECT_TRUE(s->enabled);
  EXPECT_TRUE(s->configured);
  EXPECT_STREQ(s->vip, "10.0.99.10/32");
  EXPECT_STREQ(s->node_name, "node-b");
  EXPECT_STREQ(s->network_interface, "auto") << "the interface is not known before the first step";
  ASSERT_EQ(s->n_targets, 2);
  EXPECT_STREQ(s->tables[0].id, "rtb-1");
  EXPECT_STREQ(s->tables[0].destination, "10.0.99.10/32");
  EXPECT_EQ(s->last_claim_ms, -1);
  EXPECT_EQ(s->source_dest_check, -1);

  r.step(Role::Standby, 1);
  r.ctl->write_status(*s);
  EXPECT_EQ(s->tables[0].kind, TargetKind::Route);
  EXPECT_STREQ(s->tables[0].target, "eni-0a");
  EXPECT_STREQ(s->tables[0].desired, "eni-0a") << "a standby's desired is where the holder's tag says";
  r.ctl->observe_role(Role::Primary, PrimaryBy::Promotion, 2, true);
  r.ctl->write_status(*s);
  EXPECT_EQ(s->state, State::Claiming) << "seen leaving recovery: the claim starts now";
  EXPECT_EQ(s->role, Role::Primary);
  EXPECT_EQ(s->primary_by, PrimaryBy::Promotion);
  EXPECT_EQ(s->timeline, 2u);
  EXPECT_EQ(s->promoted_at, unix_micros(r.time.wall()));

  r.step(Role::Primary, 2);
  r.ctl->write_status(*s);
  EXPECT_EQ(s->state, State::Held);
  EXPECT_EQ(s->targets_held, 2);
  EXPECT_STREQ(s->network_interface, "eni-0b");
  EXPECT_STREQ(s->tables[1].target, "eni-0b");
  EXPECT_EQ(s->tables[1].state, TargetState::Ours);
  EXPECT_STREQ(s->tables[1].desired, "eni-0b") << "a primary that is not fenced wants it here";
  EXPECT_STREQ(s->tables[1].holder, "node-b");
  EXPECT_EQ(s->tables[1].holder_timeline, 2u);
  EXPECT_GT(s->tables[1].checked_at, 0) << "read back in this step";
  EXPECT_LE(s->tables[1].checked_at, unix_micros(r.time.wall()));
  EXPECT_GE(s->last_claim_ms, 0);

  ControllerConfig off;
  off.enabled = false;
  r.ctl->configure(off);
  r.ctl->write_status(*s);
  EXPECT_EQ(s->state, State::Disabled) << "a reload shows at once, before the next step";
  EXPECT_FALSE(s->enabled);
}

TEST(ControllerStatus, AStartedPrimaryShowsPrimaryUntilItsFirstStepWhenNotSeenLeavingRecovery) {
  Rig r(two_tables_at_a());
  r.ctl->observe_role(Role::Primary, PrimaryBy::Start, 1, false);
  auto s = std::make_unique<Status>();
  r.ctl->write_status(*s);
  EXPECT_EQ(s->state, State::Primary);
  EXPECT_EQ(s->promoted_at, 0) << "a start is not a promotion";
}

TEST(ControllerStatus, ARestartedControllerResumesFromThePublishedStatus) {
  Rig r({{"rtb-1", {true, false, "eni-0c", tag(3, "eni-0c", "node-c")}}});
  r.step(Role::Standby, 2);
  r.step(Role::Primary, 2, PrimaryBy::Start, {{4, false, "dba"}});
  ASSERT_EQ(r.ctl->state(), State::Fenced);
  auto s = std::make_unique<Status>();
  r.ctl->write_status(*s);
  EXPECT_EQ(s->claim_done, 4u);
  EXPECT_EQ(s->newest_seen, 3u);
  EXPECT_STREQ(s->holder, "node-c");
  EXPECT_EQ(s->holder_timeline, 3u);

  Resume again = resume_from(*s);
  EXPECT_EQ(again.state, State::Fenced);
  EXPECT_EQ(again.role, Role::Primary);
  EXPECT_EQ(again.by, PrimaryBy::Start);
  EXPECT_EQ(again.timeline, 2u);
  EXPECT_EQ(again.claim_done, 4u);
  EXPECT_EQ(again.newest_seen, 3u);

  // A second controller on the same tables, resumed: still fenced, and the
  // request already answered is not answered again.
  Rig restarted({{"rtb-1", {true, false, "eni-0c", tag(3, "eni-0c", "node-c")}}}, again);
  restarted.step(Role::Primary, 2, PrimaryBy::Start, {{4, false, "dba"}});
  EXPECT_EQ(restarted.ctl->state(), State::Fenced);
  EXPECT_TRUE(restarted.ctl->take_answers().empty());
  EXPECT_EQ(restarted.cloud->changes(), 0);
}

TEST(ControllerStatus, TheFlapMemoryAndConflictSurviveThroughTheStatus) {
  Status s;
  s.state = State::Conflict;
  s.conflict_since = 1795000000000000;
  s.conflict_since_steady = 360000000000000;
  s.n_targets = 2;
  copy_text(s.tables[0].id, "rtb-1");
  s.tables[0].repaired_at = 1795000001000000;
  s.tables[0].repaired_at_steady = 360001000000000;
  copy_text(s.tables[1].id, "rtb-2");
  Resume r = resume_from(s);
  EXPECT_EQ(r.conflict_wall, from_unix_micros(1795000000000000));
  EXPECT_EQ(steady_nanos(r.conflict_since), 360000000000000) << "the flap window runs on the monotonic clock";
  ASSERT_EQ(r.repaired.size(), 1u) << "a table never repaired carries no memory";
  EXPECT_EQ(r.repaired[0].id, "rtb-1");
  EXPECT_EQ(steady_nanos(r.repaired[0].at), 360001000000000);
  EXPECT_EQ(unix_micros(r.repaired[0].wall), 1795000001000000);
}

TEST(ControllerStatus, MessagesTooManyForOneTakeWaitForTheNext) {
  Rig r(two_tables_at_a());
  std::vector<ClaimRequest> many;
  for (uint64_t i = 1; i <= 20; ++i) many.push_back({i, false, "dba"});
  r.step(Role::Standby, 1, PrimaryBy::None, many);  // a standby refuses them all
  auto m = std::make_unique<Messages>();
  r.ctl->take_messages(*m);
  EXPECT_EQ(m->n_answers, 16);
  EXPECT_TRUE(m->more);
  EXPECT_EQ(m->answers[0].seq, 1u);
  EXPECT_FALSE(m->answers[0].ok);
  EXPECT_STREQ(m->answers[0].error, "this node is a standby.");
  r.ctl->take_messages(*m);
  EXPECT_EQ(m->n_answers, 4);
  EXPECT_EQ(m->answers[3].seq, 20u);
  EXPECT_FALSE(m->more);
}

TEST(ControllerStatus, TextLongerThanItsFieldIsCutAndTerminated) {
  char field[8];
  copy_text(field, "0123456789");
  EXPECT_STREQ(field, "0123456");
  copy_text(field, "");
  EXPECT_STREQ(field, "");
  copy_text(field, "abcdef\xc3\xa9");  // é would straddle the cut
  EXPECT_STREQ(field, "abcdef");
}

// The counters (vip_metrics()): the controller counts what it did, and a
// restarted worker counts on from what the previous one published.
namespace {

uint64_t calls(const Metrics &m, const char *action, CallOutcome o) {
  const ActionCounters *a = m.find(action);
  return a ? a->calls[static_cast<int>(o)] : 0;
}

}  // namespace

TEST(ControllerMetrics, APromotionCountsOneClaimItsDurationAndItsCalls) {
  Rig r(two_tables_at_a());
  r.step(Role::Standby, 1);
  EXPECT_EQ(r.ctl->metrics().claims(), 0u) << "a standby claims nothing";
  EXPECT_EQ(calls(r.ctl->metrics(), "DescribeRouteTables", CallOutcome::Ok), 1u) << "but its reads are counted";
  r.step(Role::Primary, 2);
  ASSERT_EQ(r.ctl->state(), State::Held);
  const Metrics &m = r.ctl->metrics();
  EXPECT_EQ(m.claims(), 1u);
  EXPECT_EQ(m.claim_failures, 0u);
  EXPECT_EQ(m.repairs, 0u);
  EXPECT_EQ(m.fences, 0u);
  EXPECT_EQ(calls(m, "ReplaceRoute", CallOutcome::Ok), 2u) << "one per table";
  EXPECT_EQ(calls(m, "CreateTags", CallOutcome::Ok), 1u);
  EXPECT_GE(m.last_claim_seconds, 0);
  EXPECT_DOUBLE_EQ(m.claim_seconds_sum, m.last_claim_seconds);
  // Checks that find it still held are not claims.
  r.step(Role::Primary, 2);
  r.step(Role::Primary, 2);
  EXPECT_EQ(r.ctl->metrics().claims(), 1u);
  // The status carries them (the worker publishes it), and vip_status()'s last_claim_ms agrees.
  auto s = std::make_unique<Status>();
  r.ctl->write_status(*s);
  EXPECT_EQ(s->metrics.claims(), 1u);
  EXPECT_EQ(calls(s->metrics, "ReplaceRoute", CallOutcome::Ok), 2u);
  EXPECT_DOUBLE_EQ(s->last_claim_ms, m.last_claim_seconds * 1000);
}

TEST(ControllerMetrics, EachFailedRoundCountsAndTheClaimThatEndsHeldCountsOnce) {
  Rig r(two_tables_at_a());
  r.step(Role::Standby, 1);
  r.cloud->deny.insert("CreateTags");
  r.step(Role::Primary, 2);
  r.step(Role::Primary, 2);
  ASSERT_EQ(r.ctl->state(), State::Claiming);
  EXPECT_EQ(r.ctl->metrics().claim_failures, 2u) << "two rounds, neither held";
  EXPECT_EQ(r.ctl->metrics().claims(), 0u);
  EXPECT_EQ(calls(r.ctl->metrics(), "CreateTags", CallOutcome::ClientError), 2u) << "UnauthorizedOperation";
  r.cloud->deny.clear();
  r.step(Role::Primary, 2);
  ASSERT_EQ(r.ctl->state(), State::Held);
  EXPECT_EQ(r.ctl->metrics().claims(), 1u);
  EXPECT_EQ(r.ctl->metrics().claim_failures, 2u);
  EXPECT_GT(r.ctl->metrics().last_claim_seconds, 0) << "from the promotion's first round, retries included";
}

TEST(ControllerMetrics, ARepairCountsAsARepairAndAClaimAndAConflictIsNotARepair) {
  Rig r({{"rtb-1", {true, false, "eni-0a", std::nullopt}}});
  r.step(Role::Primary, 1, PrimaryBy::Start);
  ASSERT_EQ(r.ctl->state(), State::Held);
  EXPECT_EQ(r.ctl->metrics().claims(), 1u) << "a start as primary claims";
  r.cloud->tables["rtb-1"].eni = "eni-0z";
  r.step(Role::Primary, 1);
  ASSERT_EQ(r.ctl->state(), State::Held);
  EXPECT_EQ(r.ctl->metrics().repairs, 1u);
  EXPECT_EQ(r.ctl->metrics().claims(), 2u);
  EXPECT_GE(r.ctl->metrics().last_claim_seconds, 0);
  r.cloud->tables["rtb-1"].eni = "eni-0z";
  r.step(Role::Primary, 1);
  ASSERT_EQ(r.ctl->state(), State::Conflict);
  EXPECT_EQ(r.ctl->metrics().repairs, 1u);
  EXPECT_EQ(r.ctl->metrics().claims(), 2u);
}

TEST(ControllerMetrics, EnteringFencedCountsOnceHoweverLongItLasts) {
  Rig r({{"rtb-1", {true, false, "eni-0c", tag(3, "eni-0c", "node-c")}}});
  r.step(Role::Primary, 2, PrimaryBy::Start);
  ASSERT_EQ(r.ctl->state(), State::Fenced);
  for (int i = 0; i < 4; ++i) r.step(Role::Primary, 2);
  EXPECT_EQ(r.ctl->metrics().fences, 1u);
  EXPECT_EQ(r.ctl->metrics().claim_failures, 0u) << "a fenced claim is not a failure: fences counts it";
  // A claim refused because still fenced is not a second fence.
  r.step(Role::Primary, 2, PrimaryBy::Start, {{1, false, "dba"}});
  EXPECT_EQ(r.ctl->metrics().fences, 1u);
  // Forced: held; fenced again by a newer tag: a second fence.
  r.step(Role::Primary, 2, PrimaryBy::Start, {{2, true, "dba"}});
  ASSERT_EQ(r.ctl->state(), State::Held);
  r.cloud->tables["rtb-1"] = {true, false, "eni-0d", tag(4, "eni-0d", "node-d")};
  r.step(Role::Primary, 2);
  ASSERT_EQ(r.ctl->state(), State::Fenced);
  EXPECT_EQ(r.ctl->metrics().fences, 2u);
}

TEST(ControllerMetrics, ARestartedWorkerCountsOnFromThePublishedCounters) {
  Rig r({{"rtb-1", {true, false, "eni-0a", std::nullopt}}});
  r.step(Role::Primary, 1, PrimaryBy::Start);
  r.cloud->tables["rtb-1"].eni = "eni-0z";
  r.step(Role::Primary, 1);
  r.ctl->record_preflight(9, 1, "vip_bound");
  auto s = std::make_unique<Status>();
  r.ctl->write_status(*s);
  ASSERT_EQ(s->metrics.claims(), 2u);
  ASSERT_EQ(s->metrics.repairs, 1u);
  EXPECT_EQ(s->metrics.preflight_failed_checks, 1);
  uint64_t reads = calls(s->metrics, "DescribeRouteTables", CallOutcome::Ok);
  ASSERT_GT(reads, 0u);

  // The worker restarts (shared memory kept): the counters go on from there.
  Rig restarted(r.cloud->tables, resume_from(*s));
  EXPECT_EQ(restarted.ctl->metrics().claims(), 2u);
  EXPECT_EQ(restarted.ctl->metrics().repairs, 1u);
  EXPECT_DOUBLE_EQ(restarted.ctl->metrics().last_claim_seconds, s->metrics.last_claim_seconds);
  EXPECT_EQ(restarted.ctl->metrics().preflight_failed_checks, 1);
  restarted.step(Role::Primary, 1, PrimaryBy::Start);
  EXPECT_EQ(calls(restarted.ctl->metrics(), "DescribeRouteTables", CallOutcome::Ok), reads + 1);
  restarted.step(Role::Primary, 1, PrimaryBy::Start, {{1, false, "dba"}});
  ASSERT_EQ(restarted.ctl->state(), State::Held);
  EXPECT_EQ(restarted.ctl->metrics().claims(), 3u) << "vip_claim() ended held: one more";
  // A server restart makes shared memory anew: zero again.
  Rig fresh({{"rtb-1", {true, false, "eni-0b", std::nullopt}}}, resume_from(Status{}));
  EXPECT_EQ(fresh.ctl->metrics().claims(), 0u);
  EXPECT_EQ(fresh.ctl->metrics().preflight_failed_checks, -1);
}

TEST(ControllerMetrics, AFailedPreflightIsAnEventAndAPassingOneIsNot) {
  Rig r({{"rtb-1", {true, false, "eni-0a", std::nullopt}}});
  r.ctl->take_events();
  r.ctl->record_preflight(12, 0, "");
  EXPECT_TRUE(r.ctl->take_events().empty());
  EXPECT_EQ(r.ctl->metrics().preflight_failed_checks, 0);
  r.ctl->record_preflight(12, 2, "vip_bound, clock_skew");
  auto events = r.ctl->take_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].name, "vip_preflight_failed");
  EXPECT_FALSE(events[0].success);
  EXPECT_EQ(events[0].details, "2 of 12 preflight checks failed: vip_bound, clock_skew");
  EXPECT_EQ(r.ctl->metrics().preflight_failed_checks, 2);
}

// Another cluster's tag is a misconfiguration to report, not a fence: the
// table is left alone and the node is not fenced (so fence_action never
// touches its clients).
TEST(ControllerFence, AnotherClustersTagIsReportedPerTableAndFencesNothing) {
  Rig r({{"rtb-1", {true, false, "eni-0z", "tl=9;sysid=999;id=eni-0z;at=2026-11-18T11:06:40Z;node=other-cluster"}}});
  r.step(Role::Primary, 1, PrimaryBy::Start);
  EXPECT_EQ(r.ctl->state(), State::Claiming);
  EXPECT_EQ(r.cloud->changes(), 0) << "not claimed over";
  auto s = std::make_unique<Status>();
  r.ctl->write_status(*s);
  EXPECT_FALSE(s->holder_foreign);
  EXPECT_STREQ(s->holder, "");
  EXPECT_STREQ(s->tables[0].holder, "other-cluster");
  EXPECT_NE(std::string(s->tables[0].last_error).find("another cluster's, system identifier 999"), std::string::npos)
      << s->tables[0].last_error;

  // The same cluster's newer timeline: a stale primary, not a foreign one.
  Rig same({{"rtb-1", {true, false, "eni-0b", tag(2, "eni-0b", "node-b")}}});
  same.step(Role::Primary, 1, PrimaryBy::Start);
  ASSERT_EQ(same.ctl->state(), State::Fenced);
  same.ctl->write_status(*s);
  EXPECT_FALSE(s->holder_foreign);
}
