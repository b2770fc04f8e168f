// The retry quota and the adaptive send rate (api_budget.hpp) on a clock
// the test moves: what a node sends after it was throttled, how fast it
// recovers, and that a claim is never refused where a check gives way.
#include <gtest/gtest.h>

#include "core/api_budget.hpp"
#include "core/aws_service.hpp"

namespace pg_vip::aws {
namespace {

using std::chrono::milliseconds;
using Time = SendRate::Time;

AwsError throttled() {
  return AwsError{ErrorKind::Throttled, 503, "RequestLimitExceeded", "Request limit exceeded.", ""};
}
AwsError timed_out() { return AwsError{ErrorKind::Transport, 0, "RequestTimeout", "no answer", ""}; }

Time at(double seconds) {
  return Time{} + std::chrono::duration_cast<Time::duration>(std::chrono::duration<double>(seconds));
}

TEST(RetryQuota, ChecksStopRetryingOnceFailuresDrainedIt) {
  RetryQuota q;
  int retries = 0;
  while (q.take(throttled(), Urgency::Check) >= 0) ++retries;
  EXPECT_EQ(retries, RetryQuota::kCapacity / RetryQuota::kRetryCost);
  EXPECT_EQ(q.available(), 0);
  EXPECT_EQ(q.refused(), 1u);
}

TEST(RetryQuota, TimeoutsCostTwiceAsMuch) {
  RetryQuota q;
  EXPECT_EQ(q.take(timed_out(), Urgency::Check), RetryQuota::kTimeoutCost);
  EXPECT_EQ(q.take(throttled(), Urgency::Check), RetryQuota::kRetryCost);
  EXPECT_EQ(q.available(), RetryQuota::kCapacity - RetryQuota::kTimeoutCost - RetryQuota::kRetryCost);
}

TEST(RetryQuota, AClaimRetriesOnAnEmptyQuotaAndChecksStillGiveWay) {
  RetryQuota q;
  while (q.take(throttled(), Urgency::Check) >= 0) {
  }
  EXPECT_EQ(q.take(throttled(), Urgency::Claim), 0);  // goes, takes nothing: there is nothing
  EXPECT_EQ(q.take(throttled(), Urgency::Check), -1);
}

TEST(RetryQuota, SuccessesRefillIt) {
  RetryQuota q;
  for (int i = 0; i < 10; ++i) q.take(throttled(), Urgency::Check);
  EXPECT_EQ(q.available(), RetryQuota::kCapacity - 50);
  q.succeeded(RetryQuota::kRetryCost);  // a retried call: gives back its retry's cost
  q.succeeded(0);                       // a first attempt: one token
  EXPECT_EQ(q.available(), RetryQuota::kCapacity - 50 + RetryQuota::kRetryCost + RetryQuota::kSuccessRefund);
  for (int i = 0; i < 1000; ++i) q.succeeded(0);
  EXPECT_EQ(q.available(), RetryQuota::kCapacity);  // never above capacity
}

TEST(SendRate, NoWaitUntilThrottled) {
  SendRate r;
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(r.reserve(at(i * 0.01), 10).count(), 0);
    r.answered(at(i * 0.01), false);
  }
  EXPECT_FALSE(r.engaged());
}

TEST(SendRate, AThrottleCutsTheRateToSeventyPercentOfWhatWasSent) {
  SendRate r;
  // 20 answers a second for two seconds, then a throttle.
  for (int i = 0; i < 40; ++i) r.answered(at(i * 0.05), false);
  const double sent = r.measured();
  EXPECT_NEAR(sent, 20, 2);
  r.answered(at(2.0), true);
  EXPECT_TRUE(r.engaged());
  EXPECT_NEAR(r.rate(), SendRate::kBeta * r.measured(), 1.5);
  EXPECT_LT(r.rate(), sent);
}

TEST(SendRate, RequestsWaitForTheRateAndDebtsCarryOver) {
  SendRate r;
  for (int i = 0; i < 5; ++i) r.answered(at(i * 2.0), false);  // one request every 2 s
  r.answered(at(10.0), true);
  EXPECT_DOUBLE_EQ(r.rate(), SendRate::kMinRate);  // 0.7 of 0.5 a second: the floor
  // At 0.5 a second: one request waits 2 s, and its debt makes the next
  // two wait for it too.
  EXPECT_EQ(r.reserve(at(10.0), 1).count(), 2000);
  EXPECT_EQ(r.reserve(at(10.0), 2).count(), 6000);  // two, after the first one's debt
  // The debt stops at a second's worth (one token at least): a claim that
  // keeps sending does not make the checks after it wait for minutes.
  for (int i = 0; i < 100; ++i) r.reserve(at(10.0), 11);
  EXPECT_EQ(r.wait(at(10.0), 1).count(), 4000);
  EXPECT_EQ(r.wait(at(14.0), 1).count(), 0);
}

TEST(SendRate, OneBurstOfThrottledAnswersIsOneCut) {
  SendRate r;
  for (int i = 0; i < 40; ++i) r.answered(at(i * 0.05), false);
  r.answered(at(2.0), true);
  const double after_one = r.rate();
  for (int i = 0; i < 9; ++i) r.answered(at(2.0 + i * 0.01), true);
  EXPECT_DOUBLE_EQ(r.rate(), after_one);
  r.answered(at(3.0), true);  // a new event: cut again
  EXPECT_LT(r.rate(), after_one);
}

TEST(SendRate, RecoversAlongTheCurveWhileAnswersComeBack) {
  SendRate r;
  for (int i = 0; i < 40; ++i) r.answered(at(i * 0.05), false);
  r.answered(at(2.0), true);
  const double cut = r.rate();
  // Keeps sending 20 a second, unthrottled: back to what it sent within
  // seconds, never past twice what it sends.
  double t = 2.0;
  for (int i = 0; i < 200; ++i) {
    t += 0.05;
    r.answered(at(t), false);
    EXPECT_LE(r.rate(), 2 * std::max(r.measured(), SendRate::kMinRate) + 1e-9);
  }
  EXPECT_GT(r.rate(), cut);
  EXPECT_GT(r.rate(), 19.0);
}

// A held primary's check is a read and, every third of its lease, a
// renewal of its tag right after it: the rate, once engaged, must let a
// whole check through after a quiet check interval, or the renewal is held
// back at every check and the tag lapses (the fleet simulation found 9 of
// 20 held primaries with tags older than their lease).
TEST(SendRate, AWholeCheckGoesAfterAQuietInterval) {
  SendRate r;
  r.answered(at(0), true);  // engaged once, long ago
  ASSERT_TRUE(r.engaged());
  ASSERT_LT(r.rate(), 2.0);
  for (double t = 10; t <= 60; t += 10) {
    EXPECT_EQ(r.wait(at(t), 1).count(), 0) << "the read at " << t << " s";
    r.reserve(at(t), 1);
    r.answered(at(t), false);
    EXPECT_EQ(r.wait(at(t), 1).count(), 0) << "the renewal at " << t << " s";
    r.reserve(at(t), 1);
    r.answered(at(t), false);
  }
}

TEST(SendRate, NeverBelowItsFloor) {
  SendRate r;
  for (int i = 0; i < 1000; ++i) r.answered(at(i * 0.6), true);
  EXPECT_DOUBLE_EQ(r.rate(), SendRate::kMinRate);
}

}  // namespace
}  // namespace pg_vip::aws

// retry_calls (aws_service.hpp) with a budget, on a clock the sleeps move:
// a service that throttles everything, as EC2 does to an account in a storm.
namespace pg_vip::aws {
namespace {

struct NoCredentials : CredentialSource {
  Credentials c;
  const Credentials &get() override { return c; }
  void invalidate() noexcept override {}
};

struct Storm {
  Time clock = at(100);
  int sent = 0, told = 0;
  bool throttle = true;
  std::mt19937_64 rng{7};
  NoCredentials credentials;

  std::vector<Ec2Result> run(std::size_t calls, Urgency urgency, ApiBudget &budget, int attempts = 50,
                             milliseconds deadline = milliseconds(60000)) {
    RetryPolicy p;
    p.max_attempts = attempts;
    p.deadline = deadline;
    p.backoff = Backoff{milliseconds(50), milliseconds(1000)};
    p.budget = &budget;
    p.urgency = urgency;
    p.now = [this] { return clock; };
    p.sleep = [this](milliseconds ms) { clock += ms; };
    p.on_attempt = [this](const Ec2Call &, const Ec2Result &) { ++told; };
    RetriedCalls c;
    c.count = calls;
    c.attempt = [this](const std::vector<std::size_t> &which, int) {
      sent += static_cast<int>(which.size());
      clock += milliseconds(20);  // the round trip
      std::vector<Ec2Result> out(which.size());
      if (throttle)
        for (auto &r : out) r.error = AwsError{ErrorKind::Throttled, 503, "RequestLimitExceeded", "", ""};
      return out;
    };
    c.name = [](std::size_t) { return Ec2Call{"ReplaceRoute", {}}; };
    c.label = [](std::size_t) { return std::string("ReplaceRoute"); };
    return retry_calls(c, p, credentials, rng);
  }
};

TEST(RetryBudget, ChecksStopRetryingWhenTheQuotaIsSpentAndThenGiveWayToTheRate) {
  Storm s;
  ApiBudget b;
  int checks = 0;
  // A check every 10 s, throttled every time: retries stop once the quota
  // is spent (100 retries of 5 tokens), and the send rate spaces them.
  for (; checks < 200; ++checks) {
    s.clock += std::chrono::seconds(10);
    s.run(1, Urgency::Check, b, 3);
  }
  EXPECT_EQ(b.quota.available(), 0);
  EXPECT_LE(s.sent, checks + RetryQuota::kCapacity / RetryQuota::kRetryCost);
  EXPECT_GT(b.quota.refused(), 0u);
  EXPECT_EQ(s.sent, s.told) << "on_attempt hears of what was sent, and only that";
  // A burst of checks right after: the rate holds them back, nothing sent.
  const int before = s.sent;
  auto r = s.run(5, Urgency::Check, b);
  auto r2 = s.run(5, Urgency::Check, b);
  EXPECT_EQ(r2[0].error->code, "ClientThrottled");
  EXPECT_LE(s.sent - before, 5);
  EXPECT_EQ(s.sent, s.told);
}

TEST(RetryBudget, AClaimRetriesOnAnEmptyQuotaSpacedByTheRateWithinItsRound) {
  Storm s;
  ApiBudget b;
  while (b.quota.take(AwsError{ErrorKind::Throttled, 503, "x", "", ""}, Urgency::Check) >= 0) {
  }
  // Rounds of a claim as the controller runs them (4 attempts within 3 s,
  // 5 s apart), AWS throttling everything.
  Time round_start{};
  milliseconds longest{0};
  for (int round = 0; round < 10; ++round) {
    round_start = s.clock;
    auto r = s.run(10, Urgency::Claim, b, 4, milliseconds(3000));
    ASSERT_EQ(r.size(), 10u);
    // Every attempt went, whatever the quota said...
    EXPECT_EQ(r[0].attempts, 4) << "round " << round;
    longest = std::max(longest, std::chrono::duration_cast<milliseconds>(s.clock - round_start));
    s.clock += std::chrono::seconds(5);
  }
  EXPECT_TRUE(b.rate.engaged());
  // ...spaced by the rate, which the node was cut to: the round spreads its
  // retries over its deadline, where the backoff alone (50 to 400 ms) ends
  // it in well under a second; and never past the deadline.
  EXPECT_GT(longest, milliseconds(2000));
  EXPECT_LT(longest, milliseconds(3000) + milliseconds(100));
  EXPECT_EQ(s.sent, 10 * 10 * 4);
}

TEST(RetryBudget, TheRateNeverEndsAClaimsRoundBeforeItsDeadline) {
  // Throttled twice, then answered: within a 3 s round of four attempts the
  // claim gets its answer, however slow the rate it was cut to.
  Storm s;
  ApiBudget b;
  for (int i = 0; i < 5; ++i) s.run(10, Urgency::Claim, b, 1);  // the rate is engaged, cut hard
  ASSERT_TRUE(b.rate.engaged());
  int answered = 0;
  RetryPolicy p;
  p.max_attempts = 4;
  p.deadline = milliseconds(3000);
  p.backoff = Backoff{milliseconds(50), milliseconds(1000)};
  p.budget = &b;
  p.urgency = Urgency::Claim;
  p.now = [&] { return s.clock; };
  p.sleep = [&](milliseconds ms) { s.clock += ms; };
  RetriedCalls c;
  c.count = 3;
  c.attempt = [&](const std::vector<std::size_t> &which, int attempt) {
    s.clock += milliseconds(20);
    std::vector<Ec2Result> out(which.size());
    for (auto &r : out)
      if (attempt <= 2) r.error = AwsError{ErrorKind::Throttled, 503, "RequestLimitExceeded", "", ""};
      else ++answered;
    return out;
  };
  c.name = [](std::size_t) { return Ec2Call{"ReplaceRoute", {}}; };
  c.label = [](std::size_t) { return std::string("ReplaceRoute"); };
  const Time start = s.clock;
  auto r = retry_calls(c, p, s.credentials, s.rng);
  for (const auto &x : r) EXPECT_TRUE(x.ok()) << x.error->code;
  EXPECT_EQ(answered, 3);
  EXPECT_LT(s.clock - start, std::chrono::seconds(3) + milliseconds(100));
}

TEST(RetryBudget, AClaimFirstRoundTripGoesAtOnceEvenInDebt) {
  Storm s;
  ApiBudget b;
  s.run(10, Urgency::Claim, b, 2);  // throttled: the rate engages, in debt
  ASSERT_GT(b.rate.wait(s.clock, 1).count(), 0);
  s.throttle = false;
  const int before = s.sent;
  auto r = s.run(10, Urgency::Claim, b, 1);
  EXPECT_EQ(s.sent - before, 10) << "a claim's first round trip is not held back";
  for (const auto &x : r) EXPECT_TRUE(x.ok());
}

TEST(RetryBudget, WithoutABudgetEveryRetryGoes) {
  ApiBudget unused;
  // The naive policy the simulation compares against: no quota, no rate.
  Storm naive;
  RetryPolicy q;
  q.max_attempts = 20;
  q.deadline = milliseconds(600000);
  q.backoff = Backoff{milliseconds(1000), milliseconds(1000)};
  q.now = [&] { return naive.clock; };
  q.sleep = [&](milliseconds ms) { naive.clock += ms; };
  RetriedCalls c;
  c.count = 3;
  c.attempt = [&](const std::vector<std::size_t> &which, int) {
    naive.sent += static_cast<int>(which.size());
    std::vector<Ec2Result> out(which.size());
    for (auto &r : out) r.error = AwsError{ErrorKind::Throttled, 503, "RequestLimitExceeded", "", ""};
    return out;
  };
  c.name = [](std::size_t) { return Ec2Call{"ReplaceRoute", {}}; };
  c.label = [](std::size_t) { return std::string("ReplaceRoute"); };
  retry_calls(c, q, naive.credentials, naive.rng);
  EXPECT_EQ(naive.sent, 60);
  EXPECT_EQ(unused.quota.available(), RetryQuota::kCapacity);
}

}  // namespace
}  // namespace pg_vip::aws
