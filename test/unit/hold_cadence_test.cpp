// A holder's cadence (hold_cadence.hpp): every check_interval, or every
// replicated_check_interval while its standbys all stream from it; the
// lease its tag announces follows, so that a rival of its timeline does not
// count it gone between two reads.
#include "controller_rig.hpp"

namespace pg_vip::test {
namespace {

// node-b, promoted onto timeline 2, holds both tables.
Rig promoted_holder() {
  Rig r(two_tables_at_a());
  r.step(Role::Standby, 1);
  r.step(Role::Primary, 2);
  EXPECT_EQ(r.ctl->state(), State::Held) << r.ctl->last_error();
  return r;
}

// A promoted holder whose two standbys have streamed long enough that it
// reads at the replicated cadence.
Rig replicated_holder() {
  Rig r = promoted_holder();
  r.standbys = 2;
  for (int i = 0; i < 10; ++i) r.step(Role::Primary, 2);
  return r;
}

std::chrono::seconds announced_lease(Rig &r, const std::string &table = "rtb-1") {
  auto h = parse_fence_tag(*r.cloud->tables[table].tag);
  EXPECT_TRUE(h.has_value());
  return h ? duration_cast<std::chrono::seconds>(h->lease) : std::chrono::seconds(0);
}

int tag_writes(const FakeCloud &c) {
  int n = 0;
  for (const auto &l : c.log) n += l.find("fence:") != std::string::npos;
  return n;
}

TEST(HoldCadence, WithoutStandbysAHolderReadsEveryCheckInterval) {
  Rig r = promoted_holder();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(r.step(Role::Primary, 2), seconds(10));
  EXPECT_EQ(announced_lease(r), seconds(60));
}

TEST(HoldCadence, StandbysThatStreamForALeaseSlowItDownAndLengthenItsLease) {
  Rig r = promoted_holder();
  const milliseconds term_began = r.time.now - seconds(10);  // the promotion's step
  r.standbys = 2;
  // A lease (60 s) into its term before it slows: a standby that stopped
  // just before may have been promoted, and its claim is read at 10 s.
  int checks = 0;
  milliseconds slowed_at{0};
  for (;;) {
    milliseconds at = r.time.now;
    if (r.step(Role::Primary, 2) != seconds(10)) {
      slowed_at = at;
      break;
    }
    ASSERT_LT(++checks, 20);
  }
  EXPECT_GE(slowed_at - term_began, seconds(60));
  EXPECT_LT(slowed_at - term_began, seconds(70));
  EXPECT_EQ(announced_lease(r), seconds(1800)) << "the check that slows down announces the longer lease";
  EXPECT_EQ(announced_lease(r, "rtb-2"), seconds(1800));
  // Then one read per 5 minutes (spread over the last quarter), and a
  // renewal per third of the lease.
  r.cloud->log.clear();
  for (int i = 0; i < 12; ++i) EXPECT_TRUE(spread_within(r.step(Role::Primary, 2), minutes(5)));
  int reads = 0;
  for (const auto &l : r.cloud->log) reads += l == "read";
  EXPECT_EQ(reads, 12);
  EXPECT_GE(tag_writes(*r.cloud), 3) << join(r.cloud->log, " | ");
  EXPECT_LE(tag_writes(*r.cloud), 6) << "renewed when a third of 30 min passed, not at every read";
  EXPECT_EQ(r.ctl->state(), State::Held);
}

TEST(HoldCadence, AStandbyThatStopsStreamingBringsItBackAtOnceWithTheShortLease) {
  Rig r = replicated_holder();
  ASSERT_EQ(announced_lease(r), seconds(1800));
  r.standbys = 1;  // one stopped: promoted, perhaps
  EXPECT_EQ(r.step(Role::Primary, 2), seconds(10));
  EXPECT_EQ(announced_lease(r), seconds(60)) << "a rival reads the short lease again from this check on";
  // It stays at 10 s for a lease, though one standby still streams.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.step(Role::Primary, 2), seconds(10));
  milliseconds back{0};
  while (r.step(Role::Primary, 2) == seconds(10)) back += seconds(10);
  EXPECT_LE(back, seconds(20));
  // None left: every check_interval.
  r.standbys = 0;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(r.step(Role::Primary, 2), seconds(10));
}

TEST(HoldCadence, EachChangeOfCadenceIsLoggedOnce) {
  Rig r = promoted_holder();
  r.standbys = 2;
  auto logged = [&](const std::string &what) {
    int n = 0;
    for (const auto &l : r.ctl->take_logs()) n += l.message.find(what) != std::string::npos;
    return n;
  };
  (void) r.ctl->take_logs();
  for (int i = 0; i < 12; ++i) r.step(Role::Primary, 2);
  EXPECT_EQ(logged("every standby streams from this primary; it checks the VIP's targets every 5 min"), 1);
  r.standbys = 1;
  for (int i = 0; i < 3; ++i) r.step(Role::Primary, 2);
  EXPECT_EQ(logged("a standby stopped streaming from this primary; it checks the VIP's targets every 10 s"), 1);
}

// A holder whose check AWS throttles knows nothing new: it retries as it
// checked, not within a fraction of a second (the fleet simulation's AZ
// outage: 801 of 1000 primaries claiming a minute in, the promotions
// starved behind their retries).
TEST(HoldCadence, AHolderThatCannotReadRetriesAsItChecked) {
  Rig r = promoted_holder();
  r.cloud->throttle_reads = true;
  EXPECT_GE(r.step(Role::Primary, 2), seconds(10));
  EXPECT_EQ(r.ctl->state(), State::Claiming);
  EXPECT_GE(r.step(Role::Primary, 2), seconds(10)) << "its retries too";
  r.cloud->throttle_reads = false;
  r.step(Role::Primary, 2);
  EXPECT_EQ(r.ctl->state(), State::Held);
  // At the replicated cadence: as seldom.
  r.standbys = 2;
  for (int i = 0; i < 10; ++i) r.step(Role::Primary, 2);
  r.cloud->throttle_reads = true;
  EXPECT_GE(r.step(Role::Primary, 2), minutes(5) - minutes(5) / 4);
  EXPECT_EQ(r.ctl->state(), State::Claiming);
}

// A worker restarted while its holder's throttled check waits for its
// retry resumes as the holder it was: it checks again, and the hold it
// finds is no new claim (TAP 042: claims_total went from 1 to 2 across
// such a restart, with a vip_held "6 ms after this node became primary").
TEST(HoldCadence, AWorkerRestartedWhileAThrottledCheckWaitsResumesAsTheHolder) {
  Rig r = promoted_holder();
  r.cloud->throttle_reads = true;
  r.step(Role::Primary, 2);
  ASSERT_EQ(r.ctl->state(), State::Claiming);
  Status published;
  r.ctl->write_status(published);
  EXPECT_TRUE(published.unsure_only);
  const uint64_t claims = published.metrics.claims();

  Rig again(two_tables_at_a(), resume_from(published));
  again.initial = r.cloud->tables;
  again.configure();
  again.time.now = r.time.now + seconds(1);
  EXPECT_EQ(again.ctl->state(), State::Held);
  again.step(Role::Primary, 2);
  EXPECT_EQ(again.ctl->state(), State::Held);
  Status after;
  again.ctl->write_status(after);
  EXPECT_EQ(after.metrics.claims(), claims) << "no new claim";
  EXPECT_FALSE(after.unsure_only);
}

// Any other failed read (a 500, a timeout) says nothing of the account:
// the holder retries within a fraction of a check, as it always did.
TEST(HoldCadence, AHolderWhoseReadFailedOtherwiseRetriesSoon) {
  Rig r = replicated_holder();
  r.cloud->fail_reads = true;
  EXPECT_LT(r.step(Role::Primary, 2), seconds(1));
  EXPECT_EQ(r.ctl->state(), State::Claiming);
  r.cloud->fail_reads = false;
  r.step(Role::Primary, 2);
  EXPECT_EQ(r.ctl->state(), State::Held);
}

// Its check could not read at the replicated cadence, and then a standby
// stopped streaming (it may be being promoted): its retries come back to
// check_interval, as a holder's check does, or a newer timeline fences it
// only a replicated interval later (adversary 33).
TEST(HoldCadence, AHolderThatCannotReadRetriesSoonerOnceAStandbyStops) {
  Rig r = replicated_holder();
  r.cloud->throttle_reads = true;
  EXPECT_GE(r.step(Role::Primary, 2), minutes(5) - minutes(5) / 4);
  EXPECT_EQ(r.ctl->state(), State::Claiming);
  r.standbys = 1;
  EXPECT_LE(r.step(Role::Primary, 2), seconds(40)) << "check_interval, at most twice as late while throttled";
  EXPECT_EQ(r.ctl->state(), State::Claiming);
}

TEST(HoldCadence, ANewStandbyDoesNotRestartTheWindow) {
  Rig r = promoted_holder();
  r.standbys = 1;
  for (int i = 0; i < 10; ++i) r.step(Role::Primary, 2);
  r.standbys = 2;
  EXPECT_TRUE(spread_within(r.step(Role::Primary, 2), minutes(5)));
}

TEST(HoldCadence, SetNoLongerThanCheckIntervalItChangesNothing) {
  Rig r = promoted_holder();
  r.replicated_check_interval = seconds(10);
  r.configure();
  r.standbys = 2;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(r.step(Role::Primary, 2), seconds(10));
  EXPECT_EQ(announced_lease(r), seconds(60));
}

// Fenced by a newer timeline, nothing it reads can lift the fence (only
// vip_claim(force => true)): it reads as a streaming standby does. The
// fleet simulation's zone return found 334 such stale primaries reading
// every check_interval, keeping the account's read bucket empty.
TEST(HoldCadence, APrimaryFencedByANewerTimelineReadsAsAStreamingStandby) {
  Rig r = replicated_holder();
  // A newer timeline takes both tables.
  for (auto id : {"rtb-1", "rtb-2"}) r.cloud->tables[id] = {true, false, "eni-0c", tag(3, "eni-0c", "node-c")};
  EXPECT_EQ(r.step(Role::Primary, 2), seconds(10));
  EXPECT_EQ(r.ctl->state(), State::Fenced);
  EXPECT_TRUE(spread_within(r.step(Role::Primary, 2), seconds(60)));
  EXPECT_EQ(r.ctl->state(), State::Fenced);
  // Its tag gone, the fence stands all the same, read as seldom.
  for (auto id : {"rtb-1", "rtb-2"}) r.cloud->tables[id].tag.reset();
  EXPECT_TRUE(spread_within(r.step(Role::Primary, 2), seconds(60)));
  EXPECT_EQ(r.ctl->state(), State::Fenced);
}

TEST(HoldCadence, ALongCadenceIsSpreadOverItsLastQuarter) {
  std::mt19937_64 rng(11);
  milliseconds lo = minutes(10), hi{0};
  for (int i = 0; i < 200; ++i) {
    milliseconds d = spread_out(minutes(5), rng);
    EXPECT_TRUE(spread_within(d, minutes(5)));
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_LT(lo, seconds(240)) << "nodes that started together drift apart";
  EXPECT_GT(hi, seconds(290));
  EXPECT_EQ(spread_out(milliseconds(3), rng), milliseconds(3));
}

// Found by adversary 32 (the simulation's replicated-window-ends-in-renewal):
// the window may end while a check's renewal is under way. The lease the
// renewal writes and the interval the check returns must be judged alike,
// or the tag announces lease(check_interval) for a replicated interval.
TEST(HoldCadence, TheLeaseItAnnouncesCoversTheIntervalItWaitsWhenTheWindowEndsInARenewal) {
  Rig r = promoted_holder();  // its first look as primary at 10 s: the window ends at 70 s
  r.cloud->clock = &r.time;
  r.cloud->write_latency = milliseconds(1500);  // a slow CreateTags, under the request timeout
  r.standbys = 1;
  r.time.now = milliseconds(69500);  // a renewal due (its tag read unchanged since 20 s) as the window ends
  milliseconds d = r.step(Role::Primary, 2);
  EXPECT_GE(duration_cast<milliseconds>(announced_lease(r)), lease(d)) << "the next check in " << d.count() << " ms";
  // The next check goes quiet, and says so.
  d = r.step(Role::Primary, 2);
  EXPECT_TRUE(spread_within(d, minutes(5)));
  EXPECT_EQ(announced_lease(r), seconds(1800));
}

TEST(HoldCadence, ARestartedWorkerStartsAtCheckInterval) {
  HoldCadence c;
  auto t0 = steady_clock::time_point(hours(1));
  EXPECT_EQ(c.interval(t0, seconds(10), minutes(5)), seconds(10)) << "never looked";
  c.observe(2, t0);
  EXPECT_EQ(c.interval(t0 + seconds(59), seconds(10), minutes(5)), seconds(10));
  EXPECT_EQ(c.interval(t0 + seconds(60), seconds(10), minutes(5)), minutes(5));
  c.observe(1, t0 + seconds(61));
  EXPECT_EQ(c.interval(t0 + seconds(62), seconds(10), minutes(5)), seconds(10));
  c.reset();
  c.observe(-3, t0 + hours(1));  // nonsense from the glue: none
  EXPECT_EQ(c.standbys(), 0);
  EXPECT_EQ(c.interval(t0 + hours(2), seconds(10), minutes(5)), seconds(10));
}

}  // namespace
}  // namespace pg_vip::test
