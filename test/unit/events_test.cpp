// Event names: the controller raises events only through EventName
// constants, which are checked against kEventNames when they are made.
#include <gtest/gtest.h>

#include <string>

#include "core/events.hpp"

namespace pg_vip {
namespace {

// Each constant is a constant expression: one whose name were missing from
// kEventNames would not compile. These pin that they name what they say.
static_assert(event::kClaim.text() == "vip_claim");
static_assert(event::kClaimFailed.text() == "vip_claim_failed");
static_assert(event::kHeld.text() == "vip_held");
static_assert(event::kFenced.text() == "vip_fenced");
static_assert(event::kRepaired.text() == "vip_repaired");
static_assert(event::kConflict.text() == "vip_conflict");
static_assert(event::kPreflightFailed.text() == "vip_preflight_failed");

TEST(EventName, ANameOutsideTheListIsRefusedWhereItIsMade) {
  // Made at run time (a name from outside), the same check throws.
  std::string typo = "vip_fence";
  EXPECT_THROW(EventName{typo}, std::invalid_argument);
  std::string fine = "vip_fenced";
  EXPECT_EQ(EventName{fine}.text(), "vip_fenced");
}

TEST(EventName, EveryListedNameHasAConstant) {
  const EventName all[] = {event::kClaim,    event::kClaimFailed, event::kHeld,           event::kFenced,
                           event::kRepaired, event::kConflict,    event::kPreflightFailed};
  ASSERT_EQ(std::size(all), kEventNames.size());
  for (std::size_t i = 0; i < kEventNames.size(); ++i) EXPECT_EQ(all[i].text(), kEventNames[i]);
}

}  // namespace
}  // namespace pg_vip
