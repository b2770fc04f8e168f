// The counters vip_metrics() shows: the histogram's buckets, the outcome of
// every kind of AWS error, the bounded table of actions.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "core/metrics.hpp"
#include "core/status.hpp"

using namespace pg_vip;

namespace {

std::optional<aws::AwsError> error(aws::ErrorKind kind, std::string code = "SomeCode") {
  aws::AwsError e;
  e.kind = kind;
  e.code = std::move(code);
  return e;
}

}  // namespace

TEST(Metrics, StartAtZeroWithNoClaimAndNoPreflight) {
  Metrics m;
  EXPECT_EQ(m.claims(), 0u);
  EXPECT_EQ(m.claim_failures, 0u);
  EXPECT_EQ(m.repairs, 0u);
  EXPECT_EQ(m.fences, 0u);
  EXPECT_LT(m.last_claim_seconds, 0) << "no claim yet";
  EXPECT_EQ(m.preflight_failed_checks, -1) << "no preflight yet";
  EXPECT_EQ(m.n_actions, 0);
  EXPECT_EQ(m.find("ReplaceRoute"), nullptr);
  // Shared memory is zeroed, then given a Status{}: the same thing.
  Status s;
  EXPECT_EQ(s.metrics.claims(), 0u);
  EXPECT_LT(s.metrics.last_claim_seconds, 0);
}

TEST(Metrics, ABucketCountsDurationsUpToItsBoundIncluded) {
  Metrics m;
  m.count_claim(0.05);  // on the edge: le="0.05"
  m.count_claim(0.0500001);
  m.count_claim(1.0);
  m.count_claim(60);
  m.count_claim(61);  // beyond the last bound: +Inf only
  EXPECT_EQ(m.claim_buckets[0], 1u);
  EXPECT_EQ(m.claim_buckets[1], 1u) << "just above 0.05 falls in le=0.1";
  EXPECT_EQ(m.claim_buckets[4], 1u) << "1 s in le=1";
  EXPECT_EQ(m.claim_buckets[kClaimBucketBounds - 1], 1u) << "60 s in le=60";
  EXPECT_EQ(m.claim_buckets[kClaimBucketBounds], 1u) << "61 s in +Inf";
  EXPECT_DOUBLE_EQ(m.last_claim_seconds, 61);
  EXPECT_DOUBLE_EQ(m.claim_seconds_sum, 0.05 + 0.0500001 + 1.0 + 60 + 61);
}

TEST(Metrics, BucketsAreCumulativeAndTheLastCountsEveryClaim) {
  Metrics m;
  for (double s : {0.01, 0.2, 0.2, 3.0, 100.0}) m.count_claim(s);
  EXPECT_EQ(m.claims_within(0), 1u);                   // le 0.05
  EXPECT_EQ(m.claims_within(1), 1u);                   // le 0.1
  EXPECT_EQ(m.claims_within(2), 3u);                   // le 0.25
  EXPECT_EQ(m.claims_within(6), 4u);                   // le 5
  EXPECT_EQ(m.claims_within(kClaimBucketBounds), 5u);  // +Inf
  EXPECT_EQ(m.claims(), 5u) << "claims_total is the histogram's count";
  for (int b = 1; b <= kClaimBucketBounds; ++b) EXPECT_GE(m.claims_within(b), m.claims_within(b - 1));
  EXPECT_EQ(m.claims_within(kClaimBucketBounds + 5), 5u) << "past the end: every claim, no read beyond the array";
}

TEST(Metrics, ADurationTheClockCouldNotGiveCountsAsZero) {
  Metrics m;
  m.count_claim(-3);
  m.count_claim(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(m.claim_buckets[0], 2u);
  EXPECT_EQ(m.claim_seconds_sum, 0);
  EXPECT_FALSE(std::isnan(m.last_claim_seconds));
  m.count_claim(std::numeric_limits<double>::infinity());
  EXPECT_EQ(m.claim_buckets[kClaimBucketBounds], 1u);
}

TEST(Metrics, EachAwsErrorKindHasItsOutcome) {
  using K = aws::ErrorKind;
  EXPECT_EQ(outcome_of(std::nullopt), CallOutcome::Ok);
  EXPECT_EQ(outcome_of(error(K::Invalid, "DryRunOperation")), CallOutcome::Ok) << "a DryRun that would succeed";
  EXPECT_EQ(outcome_of(error(K::Throttled, "RequestLimitExceeded")), CallOutcome::Throttled);
  EXPECT_EQ(outcome_of(error(K::ServerError, "InternalError")), CallOutcome::ServerError);
  EXPECT_EQ(outcome_of(error(K::Malformed)), CallOutcome::ServerError);
  EXPECT_EQ(outcome_of(error(K::Transport, "ConnectionRefused")), CallOutcome::Timeout) << "no answer at all";
  EXPECT_EQ(outcome_of(error(K::Transport, "Timeout")), CallOutcome::Timeout);
  EXPECT_EQ(outcome_of(error(K::ExpiredToken)), CallOutcome::ClientError);
  EXPECT_EQ(outcome_of(error(K::Authentication, "NoCredentials")), CallOutcome::ClientError);
  EXPECT_EQ(outcome_of(error(K::Authorization, "UnauthorizedOperation")), CallOutcome::ClientError);
  EXPECT_EQ(outcome_of(error(K::NotFound, "InvalidRouteTableID.NotFound")), CallOutcome::ClientError);
  EXPECT_EQ(outcome_of(error(K::Invalid, "InvalidParameterValue")), CallOutcome::ClientError);
  EXPECT_STREQ(to_string(CallOutcome::Ok), "ok");
  EXPECT_STREQ(to_string(CallOutcome::Throttled), "throttled");
  EXPECT_STREQ(to_string(CallOutcome::ClientError), "client_error");
  EXPECT_STREQ(to_string(CallOutcome::ServerError), "server_error");
  EXPECT_STREQ(to_string(CallOutcome::Timeout), "timeout");
}

TEST(Metrics, AttemptsCountByActionAndOutcomeAndRetriesBeyondTheFirst) {
  Metrics m;
  m.count_attempt("ReplaceRoute", error(aws::ErrorKind::Throttled), 1);
  m.count_attempt("ReplaceRoute", error(aws::ErrorKind::Throttled), 2);
  m.count_attempt("ReplaceRoute", std::nullopt, 3);
  m.count_attempt("CreateTags", std::nullopt, 1);
  const ActionCounters *r = m.find("ReplaceRoute");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->calls[static_cast<int>(CallOutcome::Throttled)], 2u);
  EXPECT_EQ(r->calls[static_cast<int>(CallOutcome::Ok)], 1u);
  EXPECT_EQ(r->retries, 2u);
  const ActionCounters *t = m.find("CreateTags");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->calls[static_cast<int>(CallOutcome::Ok)], 1u);
  EXPECT_EQ(t->retries, 0u);
  EXPECT_EQ(m.n_actions, 2);
}

TEST(Metrics, ActionsBeyondTheTableCountAsOther) {
  Metrics m;
  for (int i = 0; i < kActionSlots + 10; ++i) m.count_attempt("Action" + std::to_string(i), std::nullopt, 1);
  EXPECT_EQ(m.n_actions, kActionSlots - 1);
  EXPECT_NE(m.find("Action0"), nullptr);
  EXPECT_NE(m.find("Action" + std::to_string(kActionSlots - 2)), nullptr);
  EXPECT_EQ(m.find("Action" + std::to_string(kActionSlots - 1)), nullptr) << "no slot left: counted as other";
  const ActionCounters *other = m.find(kOtherAction);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->calls[0], 11u);
  // A known action still counts under its own name once the table is full.
  m.count_attempt("Action3", std::nullopt, 2);
  EXPECT_EQ(m.find("Action3")->calls[0], 2u);
  EXPECT_EQ(m.find("Action3")->retries, 1u);
  uint64_t total = 0;
  for (const auto &a : m.actions) total += a.calls[0];
  EXPECT_EQ(total, static_cast<uint64_t>(kActionSlots + 11)) << "every attempt counted somewhere";
}

TEST(Metrics, ANameTooLongOrEmptyIsOtherNeverCut) {
  Metrics m;
  std::string longer(sizeof(ActionCounters::action), 'X');
  m.count_attempt(longer, std::nullopt, 1);
  m.count_attempt("", std::nullopt, 1);
  EXPECT_EQ(m.n_actions, 0);
  ASSERT_NE(m.find(kOtherAction), nullptr);
  EXPECT_EQ(m.find(kOtherAction)->calls[0], 2u);
  std::string fits(sizeof(ActionCounters::action) - 1, 'Y');
  m.count_attempt(fits, std::nullopt, 1);
  ASSERT_NE(m.find(fits), nullptr);
}

TEST(Metrics, ACorruptSlotCountDoesNotWriteOutOfBounds) {
  Metrics m;
  m.n_actions = 1000;
  m.count_attempt("ReplaceRoute", std::nullopt, 1);
  EXPECT_EQ(m.n_actions, kActionSlots - 1);
  m.n_actions = -4;
  m.count_attempt("ReplaceRoute", std::nullopt, 1);
  EXPECT_GE(m.n_actions, 0);
}

TEST(Metrics, CountersWrapRatherThanOverflowIntoUndefinedBehaviour) {
  Metrics m;
  m.count_attempt("CreateTags", std::nullopt, 2);
  ActionCounters &a = m.actions[0];
  a.calls[0] = std::numeric_limits<uint64_t>::max();
  a.retries = std::numeric_limits<uint64_t>::max();
  m.count_attempt("CreateTags", std::nullopt, 2);  // unsigned: wraps, defined
  EXPECT_EQ(a.calls[0], 0u);
  EXPECT_EQ(a.retries, 0u);
}

TEST(Metrics, APreflightRecordsItsChecksAndFailures) {
  Metrics m;
  m.record_preflight(9, 2);
  EXPECT_EQ(m.preflight_checks, 9);
  EXPECT_EQ(m.preflight_failed_checks, 2);
  m.record_preflight(9, 0);
  EXPECT_EQ(m.preflight_failed_checks, 0);
  m.record_preflight(-1, -1);
  EXPECT_EQ(m.preflight_failed_checks, 0) << "a negative count is not 'no preflight yet'";
}

TEST(Metrics, ARequestPgVipCancelledItselfIsNotCounted) {
  Metrics m;
  aws::AwsError cancelled;
  cancelled.kind = aws::ErrorKind::Transport;
  cancelled.code = "Cancelled";
  m.count_attempt("DescribeRouteTables", cancelled, 1);
  EXPECT_EQ(m.n_actions, 0);
  aws::AwsError refused;
  refused.kind = aws::ErrorKind::Transport;
  refused.code = "ConnectionFailed";
  m.count_attempt("DescribeRouteTables", refused, 1);
  ASSERT_EQ(m.n_actions, 1);
  EXPECT_EQ(m.actions[0].calls[static_cast<int>(CallOutcome::Timeout)], 1u);
}
