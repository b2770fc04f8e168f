// The fence: tags written and read back, and who may claim.
#include <gtest/gtest.h>

#include "core/fence.hpp"

using namespace pg_vip;

namespace {
Holder holder(uint32_t tl, const std::string &node, const std::string &sysid = "7311") {
  Holder h;
  h.timeline = tl;
  h.node_name = node;
  h.system_identifier = sysid;
  return h;
}
}  // namespace

TEST(FenceTag, RoundTripsEvenWithOddNodeNames) {
  Identity me{"db b; node=x", "7311234567890", 12};
  std::string v = fence_tag_value(me, parse_iso8601("2026-11-25T19:00:00Z"));
  EXPECT_EQ(v, "tl=12;sysid=7311234567890;at=2026-11-25T19:00:00Z;node=db b; node=x");
  auto h = parse_fence_tag(v);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->timeline, 12u);
  EXPECT_EQ(h->system_identifier, "7311234567890");
  EXPECT_EQ(h->node_name, "db b; node=x");
  EXPECT_EQ(h->at, "2026-11-25T19:00:00Z");
  EXPECT_EQ(fence_tag_key("10.0.99.10/32"), "pg_vip:10.0.99.10/32");
  EXPECT_LE(fence_tag_value(Identity{std::string(300, 'n'), "1", 1}, parse_iso8601("2026-11-25T19:00:00Z")).size(), 256u);
}

TEST(FenceTag, RejectsWhatItCannotTrust) {
  EXPECT_FALSE(parse_fence_tag(""));
  EXPECT_FALSE(parse_fence_tag("node=a"));
  EXPECT_FALSE(parse_fence_tag("tl=;node=a"));
  EXPECT_FALSE(parse_fence_tag("tl=0;node=a"));
  EXPECT_FALSE(parse_fence_tag("tl=2x;node=a"));
  EXPECT_FALSE(parse_fence_tag("tl=99999999999;node=a"));
  EXPECT_FALSE(parse_fence_tag("garbage"));
  EXPECT_TRUE(parse_fence_tag("tl=3"));
}

TEST(Decide, NoTagMeansClaim) {
  EXPECT_EQ(decide({"a", "7311", 1}, {}, false).verdict, Verdict::Claim);
}

TEST(Decide, NewerTimelineFences) {
  auto d = decide({"a", "7311", 1}, {holder(2, "b")}, false);
  EXPECT_EQ(d.verdict, Verdict::Fence);
  ASSERT_TRUE(d.holder);
  EXPECT_EQ(d.holder->node_name, "b");
  EXPECT_NE(d.reason.find("newer timeline"), std::string::npos);
}

TEST(Decide, APromotionsNewTimelineWinsOverTheOldPrimary) {
  EXPECT_EQ(decide({"b", "7311", 2}, {holder(1, "a")}, false).verdict, Verdict::Claim);
}

TEST(Decide, SameTimelineTheHolderKeepsIt) {
  EXPECT_EQ(decide({"a", "7311", 2}, {holder(2, "a")}, false).verdict, Verdict::Claim);
  auto d = decide({"c", "7311", 2}, {holder(2, "b")}, false);
  EXPECT_EQ(d.verdict, Verdict::Fence);
  EXPECT_NE(d.reason.find("same timeline"), std::string::npos);
}

TEST(Decide, TheNewestOfSeveralTagsDecides) {
  EXPECT_EQ(decide({"c", "7311", 3}, {holder(1, "a"), holder(3, "c"), holder(2, "b")}, false).verdict, Verdict::Claim);
  EXPECT_EQ(decide({"b", "7311", 2}, {holder(1, "a"), holder(3, "c")}, false).verdict, Verdict::Fence);
}

TEST(Decide, AnotherClusterFences) {
  auto d = decide({"a", "7311", 9}, {holder(1, "x", "9999")}, false);
  EXPECT_EQ(d.verdict, Verdict::Fence);
  EXPECT_NE(d.reason.find("another cluster"), std::string::npos);
}

TEST(Decide, ForceOverridesEverything) {
  EXPECT_EQ(decide({"a", "7311", 1}, {holder(5, "b"), holder(1, "x", "9999")}, true).verdict, Verdict::Claim);
}
