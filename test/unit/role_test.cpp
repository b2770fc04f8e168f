// How the worker's view of its instance changes, and the state it reports.
#include <gtest/gtest.h>

#include <string>

#include "core/role.hpp"

using namespace pg_vip;

TEST(RoleTracker, StandbyThenPromotion) {
  RoleTracker t(/*server_started_as_standby=*/true, Role::Unknown, PrimaryBy::None);
  EXPECT_FALSE(t.observe(true).became_primary);
  EXPECT_EQ(t.role(), Role::Standby);
  EXPECT_FALSE(t.observe(true).became_primary);
  auto c = t.observe(false);
  EXPECT_TRUE(c.became_primary);
  EXPECT_EQ(c.by, PrimaryBy::Promotion);
  EXPECT_EQ(t.role(), Role::Primary);
  // Reported once only.
  EXPECT_FALSE(t.observe(false).became_primary);
  EXPECT_EQ(t.primary_by(), PrimaryBy::Promotion);
}

TEST(RoleTracker, PlainStartIsNotAPromotion) {
  RoleTracker t(false, Role::Unknown, PrimaryBy::None);
  auto c = t.observe(false);
  EXPECT_TRUE(c.became_primary);
  EXPECT_EQ(c.by, PrimaryBy::Start);
}

TEST(RoleTracker, HotStandbyOffFirstSeenAfterRecoveryIsPromotion) {
  // The worker only starts once recovery ended, but the server began as a standby.
  RoleTracker t(true, Role::Unknown, PrimaryBy::None);
  auto c = t.observe(false);
  EXPECT_TRUE(c.became_primary);
  EXPECT_EQ(c.by, PrimaryBy::Promotion);
}

TEST(RoleTracker, RecoveryWithoutStandbySignalIsStart) {
  // Archive recovery (a restore) can be watched "in recovery" too, but the
  // server was no standby: it must not count as promoted.
  RoleTracker t(false, Role::Unknown, PrimaryBy::None);
  EXPECT_FALSE(t.observe(true).became_primary);
  auto c = t.observe(false);
  EXPECT_TRUE(c.became_primary);
  EXPECT_EQ(c.by, PrimaryBy::Start);
}

TEST(RoleTracker, RestartedWorkerKeepsWhatSharedMemoryKnows) {
  RoleTracker promoted(true, Role::Primary, PrimaryBy::Promotion);
  EXPECT_FALSE(promoted.observe(false).became_primary);
  EXPECT_EQ(promoted.primary_by(), PrimaryBy::Promotion);

  RoleTracker standby(true, Role::Standby, PrimaryBy::None);
  EXPECT_FALSE(standby.observe(true).became_primary);
  EXPECT_EQ(standby.observe(false).by, PrimaryBy::Promotion);
}

TEST(BaseState, DisabledWinsThenUnconfigured) {
  EXPECT_EQ(base_state({false, true, Role::Primary}), State::Disabled);
  EXPECT_EQ(base_state({false, false, Role::Standby}), State::Disabled);
  EXPECT_EQ(base_state({true, false, Role::Primary}), State::Unconfigured);
  EXPECT_EQ(base_state({true, true, Role::Standby}), State::Standby);
  EXPECT_EQ(base_state({true, true, Role::Unknown}), State::Standby);
  EXPECT_EQ(base_state({true, true, Role::Primary}), State::Primary);
}

TEST(Names, EveryStateHasItsSqlName) {
  EXPECT_STREQ(to_string(State::Unconfigured), "unconfigured");
  EXPECT_STREQ(to_string(State::Disabled), "disabled");
  EXPECT_STREQ(to_string(State::Standby), "standby");
  EXPECT_STREQ(to_string(State::Primary), "primary");
  EXPECT_STREQ(to_string(State::Claiming), "claiming");
  EXPECT_STREQ(to_string(State::Held), "held");
  EXPECT_STREQ(to_string(State::Fenced), "fenced");
  EXPECT_STREQ(to_string(State::DryRun), "dry_run");
  EXPECT_STREQ(to_string(Role::Standby), "standby");
  EXPECT_STREQ(to_string(Role::Primary), "primary");
  EXPECT_STREQ(to_string(PrimaryBy::Promotion), "promotion");
  EXPECT_STREQ(to_string(PrimaryBy::Start), "start");
}
