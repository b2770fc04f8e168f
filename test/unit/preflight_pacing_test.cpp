// PreflightPacing (preflight_pacing.hpp): the worker's preflight spread
// after a start, held while AWS throttles the node, and backed off when it
// was throttled itself.
#include <gtest/gtest.h>

#include <set>

#include "core/preflight_pacing.hpp"

namespace pg_vip {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

SteadyTime at(long long s) { return SteadyTime{} + seconds(3600 + s); }

TEST(PreflightPacing, NodesStartingTogetherSpreadTheirPreflights) {
  std::set<long long> moments;
  for (int node = 0; node < 200; ++node) {
    std::mt19937_64 rng(node);
    PreflightPacing p;
    p.ask(at(0), seconds(10), rng);
    ASSERT_TRUE(p.asked());
    milliseconds w = p.wait(at(0), {});
    EXPECT_LE(w, seconds(30));
    moments.insert(w.count() / 1000);
    EXPECT_TRUE(p.due(at(0) + w, {}));
  }
  EXPECT_GT(moments.size(), 25u) << "spread over the 30 s, not in one burst";
}

TEST(PreflightPacing, TheSpreadIsThreeChecksAtMostAMinute) {
  EXPECT_EQ(PreflightPacing::spread(seconds(1)), seconds(3));
  EXPECT_EQ(PreflightPacing::spread(seconds(10)), seconds(30));
  EXPECT_EQ(PreflightPacing::spread(seconds(300)), seconds(60));
}

TEST(PreflightPacing, WaitsWhileAwsThrottlesTheNode) {
  std::mt19937_64 rng(1);
  PreflightPacing p;
  p.ask(at(0), seconds(10), rng);
  // Throttled at 25 s: not before 45 s (two checks), whatever the spread said.
  EXPECT_FALSE(p.due(at(44), at(25)));
  EXPECT_TRUE(p.due(at(45), at(25)));
  // A node never throttled, or throttled long ago, runs at its moment.
  EXPECT_TRUE(p.due(at(31), {}));
  EXPECT_TRUE(p.due(at(31), at(-100)));
}

TEST(PreflightPacing, AThrottledPreflightBacksOffDoublingToTenMinutes) {
  std::mt19937_64 rng(2);
  PreflightPacing p;
  p.ask(at(0), seconds(10), rng);
  milliseconds last{0};
  for (int i = 1; i <= 12; ++i) {
    p.throttled(at(0), rng);
    milliseconds w = p.wait(at(0), {});
    EXPECT_GE(w, PreflightPacing::quiet(seconds(10)));
    EXPECT_LE(w, PreflightPacing::kMaxBackoff);
    last = std::max(last, w);
  }
  EXPECT_GT(last, seconds(120)) << "the backoff grew";
  EXPECT_EQ(p.backoffs(), 12);
  p.done();
  EXPECT_FALSE(p.asked());
  EXPECT_EQ(p.backoffs(), 0);
}

TEST(PreflightPacing, AReloadDuringABackoffDoesNotRunItSooner) {
  std::mt19937_64 rng(3);
  PreflightPacing p;
  p.ask(at(0), seconds(10), rng);
  for (int i = 0; i < 6; ++i) p.throttled(at(0), rng);
  milliseconds before = p.wait(at(0), {});
  p.ask(at(0), seconds(10), rng);
  EXPECT_EQ(p.wait(at(0), {}), before);
}

}  // namespace
}  // namespace pg_vip
