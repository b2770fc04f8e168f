// A node fenced by a holder of its own timeline (the winner of a double
// promotion) keeps the fence while that holder's route stands, even when
// the table shows the fenced node's own tag in the holder's place: only it
// writes that tag, so it is one of its own writes that EC2 applied late, or
// a renewal it sent on a stale read (the simulation's late-tag-after-fence,
// and seed 1263 of --world wide --kinds any, where the loser took the route
// back again and again). A holder gone for a lease is let go.
#include <gtest/gtest.h>

#include "core/controller.hpp"
#include "core/judgement.hpp"
#include "unit/controller_rig.hpp"

using namespace pg_vip;
using namespace std::chrono;

namespace {

const SteadyTime kT0 = SteadyTime{} + hours(1);

Holder holder(const std::string &eni, uint32_t tl, milliseconds lease, int64_t since) {
  Holder h;
  h.timeline = tl;
  h.system_identifier = "7311000000000000001";
  h.interface_id = eni;
  h.node_name = eni;
  h.lease = lease;
  h.since = since;
  return h;
}

// A table read just now, pointing at `at`, under `tag` (or none).
TargetView table(const std::string &at, std::optional<Holder> tag) {
  TargetView t;
  t.id = "rtb-1";
  t.read_ok = true;
  t.state = TargetState::Other;
  t.points_at = at;
  t.holder = std::move(tag);
  if (t.holder) t.raw_tag = "tl=...";
  return t;
}

Ground loser_at(SteadyTime now) {
  Ground g;
  g.me = Identity{"loser", "7311000000000000001", 2, "eni-0b"};
  g.now = now;
  g.check_interval = seconds(10);
  g.since = 1795000060;
  return g;
}

const Holder kWinner = holder("eni-0a", 2, seconds(360), 1795000060);
const Holder kLoser = holder("eni-0b", 2, seconds(60), 1795000060);

}  // namespace

TEST(RivalStands, ItsRouteUnderThisNodesOwnLateTagKeepsTheFence) {
  std::vector<TargetView> tables{table("eni-0a", kLoser)};
  EXPECT_TRUE(rival_stands(tables, kWinner, kT0, loser_at(kT0 + seconds(20))));
  // Up to the winner's lease, which is longer than the loser's own.
  EXPECT_TRUE(rival_stands(tables, kWinner, kT0, loser_at(kT0 + seconds(359))));
}

TEST(RivalStands, AHolderUnreadForItsLeaseIsLetGo) {
  std::vector<TargetView> tables{table("eni-0a", kLoser)};
  EXPECT_FALSE(rival_stands(tables, kWinner, kT0, loser_at(kT0 + seconds(361))));
  // With no lease said (pg_vip 0.2's tag), this node's own lease counts.
  Holder old = kWinner;
  old.lease = milliseconds(0);
  EXPECT_TRUE(rival_stands(tables, old, kT0, loser_at(kT0 + seconds(59))));
  EXPECT_FALSE(rival_stands(tables, old, kT0, loser_at(kT0 + seconds(61))));
}

TEST(RivalStands, ARouteElsewhereOrUnreadLetsGo) {
  EXPECT_FALSE(rival_stands({table("eni-0c", kLoser)}, kWinner, kT0, loser_at(kT0 + seconds(20))));
  TargetView unread = table("eni-0a", kLoser);
  unread.read_ok = false;
  EXPECT_FALSE(rival_stands({unread}, kWinner, kT0, loser_at(kT0 + seconds(20))));
  TargetView blackhole = table("eni-0a", kLoser);
  blackhole.state = TargetState::Dangling;
  EXPECT_FALSE(rival_stands({blackhole}, kWinner, kT0, loser_at(kT0 + seconds(20))));
}

TEST(RivalStands, ItsOwnTagIsJudgedByLapseAlone) {
  // Where the holder's tag shows, an unchanged one lapses after one lease:
  // the memory must not add a second.
  EXPECT_FALSE(rival_stands({table("eni-0a", kWinner)}, kWinner, kT0, loser_at(kT0 + seconds(20))));
}

TEST(RivalStands, OnlyAHolderOfThisNodesTimeline) {
  Holder newer = holder("eni-0a", 3, seconds(60), 1795000100);
  EXPECT_FALSE(rival_stands({table("eni-0a", kLoser)}, newer, kT0, loser_at(kT0 + seconds(20))));
  EXPECT_FALSE(rival_stands({table("eni-0a", kLoser)}, kWinner, SteadyTime{}, loser_at(kT0 + seconds(20))));
}

// The route back here (this node's own repair or forced claim, sent
// before it read the holder's tag) under its own tag: no news of the
// holder, so the fence stands for the holder's lease after its tag was
// last read (the simulation's tie-race-stale-reads and seed 672, where
// the loser unfenced 5 s later and the two took turns every flap window).
TEST(RivalStands, ItsRouteBackHereUnderThisNodesOwnTagKeepsTheFenceForALease) {
  TargetView here = table("eni-0b", kLoser);
  here.state = TargetState::Ours;
  EXPECT_TRUE(rival_stands({here}, kWinner, kT0, loser_at(kT0 + seconds(20))));
  EXPECT_TRUE(rival_stands({here}, kWinner, kT0, loser_at(kT0 + seconds(359))));
  EXPECT_FALSE(rival_stands({here}, kWinner, kT0, loser_at(kT0 + seconds(361))));
}

// What a worker restart keeps: the holder and when its tag was last read,
// from shared memory (late-tag-worker-restart in the simulation).
TEST(RivalStands, AWorkerRestartKeepsTheMemory) {
  Status s;
  s.state = State::Fenced;
  copy_text(s.holder, "winner");
  copy_text(s.rival_interface, "eni-0a");
  copy_text(s.rival_system_identifier, "7311000000000000001");
  s.rival_since = 1795000060;
  s.rival_timeline = 2;
  s.rival_lease_ms = 360000;
  s.rival_read_steady = steady_nanos(kT0);
  Resume r = resume_from(s);
  ASSERT_TRUE(r.rival.has_value());
  EXPECT_EQ(r.rival->interface_id, "eni-0a");
  EXPECT_EQ(r.rival->system_identifier, "7311000000000000001");
  EXPECT_EQ(r.rival->since, 1795000060);
  EXPECT_EQ(r.rival->timeline, 2u);
  EXPECT_EQ(r.rival->lease, seconds(360));
  EXPECT_EQ(r.rival_read, kT0);
  EXPECT_TRUE(rival_stands({table("eni-0a", kLoser)}, *r.rival, r.rival_read, loser_at(kT0 + seconds(200))));
  // None remembered: nothing resumed.
  Status none;
  EXPECT_FALSE(resume_from(none).rival.has_value());
}

// A node in conflict puts its tag back where its route is under the tag of
// a rival it outranks, never over one that outranks it, even one whose
// route has not followed its tag yet (retag-tag-first).
TEST(RivalStands, RetagOnlyOverARivalThisNodeOutranks) {
  Ground winner = loser_at(kT0);
  winner.me = Identity{"winner", "7311000000000000001", 2, "eni-0a"};
  TargetView late = table("eni-0a", kLoser);  // the winner's route, the loser's late tag
  late.state = TargetState::Ours;
  EXPECT_TRUE(retag_due(late, winner));
  TargetView fresh = table("eni-0b", kWinner);  // the loser's route, the winner's tag written first
  fresh.state = TargetState::Ours;
  EXPECT_FALSE(retag_due(fresh, loser_at(kT0)));
  TargetView untagged = table("eni-0a", std::nullopt);
  untagged.state = TargetState::Ours;
  EXPECT_TRUE(retag_due(untagged, winner));
}

// A claim leaves a table to a rival of its timeline that outranks it while
// the rival's tag stands without its route: the rival's claim writes the
// tag first, and a secondary IP's assignment shows seconds after EC2
// answered it (simulation seed 474, secondary-retry-over-rival-tag). Not
// over a rival it outranks, an older timeline, a blackhole (the rival's
// instance gone), or a tag that lapsed.
TEST(RivalStands, AClaimLeavesATableToAnOutrankingRivalWhoseRouteHasNotFollowed) {
  TargetView fresh = table("eni-0b", kWinner);  // the loser's route, the winner's tag written first
  fresh.state = TargetState::Ours;
  fresh.tag_unchanged_since = kT0;
  EXPECT_TRUE(rival_claiming(fresh, loser_at(kT0 + seconds(3))));
  TargetView elsewhere = table("eni-0old", kWinner);
  EXPECT_TRUE(rival_claiming(elsewhere, loser_at(kT0)));
  Ground winner = loser_at(kT0);
  winner.me = Identity{"winner", "7311000000000000001", 2, "eni-0a"};
  TargetView late = table("eni-0a", kLoser);
  late.state = TargetState::Ours;
  EXPECT_FALSE(rival_claiming(late, winner));
  EXPECT_FALSE(rival_claiming(table("eni-0b", holder("eni-0a", 1, seconds(60), 1795000000)), loser_at(kT0)));
  TargetView blackhole = table("eni-0a", kWinner);
  blackhole.state = TargetState::Dangling;
  EXPECT_FALSE(rival_claiming(blackhole, loser_at(kT0)));
  EXPECT_FALSE(rival_claiming(fresh, loser_at(kT0 + seconds(361)))) << "lapsed after the rival's lease";
}

// A claim under way moves its route within the rival's own check interval
// (a sixth of its lease) and a read's staleness; a tag that stood longer
// without it is a claim that failed or a holder that is gone: the table is
// not left to it for the rest of its lease (30 min at a replicated
// cadence: adversary 35's replicated-winner-dies-route-at-loser).
TEST(RivalStands, ARivalsClaimIsUnderWayForOneOfItsChecksNotItsLease) {
  TargetView t = table("eni-0b", kWinner);  // lease 360 s: checks every 60 s
  t.state = TargetState::Ours;
  t.tag_unchanged_since = kT0;
  EXPECT_TRUE(rival_claiming(t, loser_at(kT0 + seconds(65))));
  EXPECT_FALSE(rival_claiming(t, loser_at(kT0 + seconds(66))));
  Holder replicated = kWinner;
  replicated.lease = minutes(30);
  t.holder = replicated;
  EXPECT_TRUE(rival_claiming(t, loser_at(kT0 + seconds(305))));
  EXPECT_FALSE(rival_claiming(t, loser_at(kT0 + seconds(306))));
}

// How long a target's fence tag has stood unchanged (what lapse and a
// rival's claim under way are judged by) survives a worker restart when
// the first read after it shows the same tag, and starts over when it
// shows another (adversary 36's replicated-winner-dies-route-at-loser-
// restarts: a restart every 50 s made a dead winner's tag young again and
// held the VIP from the loser 857 s).
TEST(RivalStands, AWorkerRestartKeepsHowLongATagHasStood) {
  using test::Rig;
  std::map<std::string, test::FakeTable> tables{{"rtb-1", {true, false, "eni-0a", test::tag(2, "eni-0a", "winner")}}};
  Rig first(tables);
  first.step(Role::Standby, 2);
  Status published;
  first.ctl->write_status(published);
  ASSERT_EQ(published.n_targets, 1);
  EXPECT_EQ(published.tables[0].tag_digest, tag_digest(test::tag(2, "eni-0a", "winner")));
  const int64_t since = published.tables[0].tag_unchanged_steady;
  ASSERT_NE(since, 0);

  Rig second(tables, resume_from(published));
  second.time.now = first.time.now + seconds(50);
  second.step(Role::Standby, 2);
  Status again;
  second.ctl->write_status(again);
  EXPECT_EQ(again.tables[0].tag_unchanged_steady, since) << "the same tag: its clock goes on";

  tables["rtb-1"].tag = test::tag(2, "eni-0a", "winner", "lease=60;");
  Rig third(tables, resume_from(again));
  third.time.now = second.time.now + seconds(50);
  const int64_t restarted = steady_nanos(third.time.steady());
  third.step(Role::Standby, 2);
  Status other;
  third.ctl->write_status(other);
  EXPECT_GE(other.tables[0].tag_unchanged_steady, restarted) << "another tag: from its first read";
}
