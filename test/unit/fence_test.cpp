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
  Identity me{"db b; node=x", "7311234567890", 12, "eni-0b1c"};
  std::string v = fence_tag_value(me, parse_iso8601("2026-11-25T19:00:00Z"));
  EXPECT_EQ(v, "tl=12;sysid=7311234567890;id=eni-0b1c;at=2026-11-25T19:00:00Z;node=db b; node=x");
  auto h = parse_fence_tag(v);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->timeline, 12u);
  EXPECT_EQ(h->system_identifier, "7311234567890");
  EXPECT_EQ(h->interface_id, "eni-0b1c");
  EXPECT_EQ(h->node_name, "db b; node=x");
  EXPECT_EQ(h->at, "2026-11-25T19:00:00Z");
  EXPECT_EQ(fence_tag_key("10.0.99.10/32"), "pg_vip:10.0.99.10/32");
  EXPECT_LE(
      fence_tag_value(Identity{std::string(300, 'n'), "1", 1, "eni-1"}, parse_iso8601("2026-11-25T19:00:00Z")).size(),
      256u);
}

TEST(FenceTag, ReadsTheTagsOfVersion0_1) {
  auto h = parse_fence_tag("tl=2;sysid=7311;at=2026-11-25T19:00:00Z;node=db-b");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->interface_id, "");
  EXPECT_EQ(h->node_name, "db-b");
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

namespace {
Holder tagged(uint32_t tl, const std::string &eni, const std::string &sysid = "7311", const std::string &node = "x") {
  Holder h = holder(tl, node, sysid);
  h.interface_id = eni;
  return h;
}
}  // namespace

TEST(Judge, TheSameNodeIsMineWhateverItsName) {
  // The interface names the holder; renaming pg_vip.node_name does not fence.
  EXPECT_EQ(judge({"new-name", "7311", 2, "eni-0b"}, tagged(2, "eni-0b", "7311", "old-name")), Standing::Mine);
}

TEST(Judge, TwoNodesWithOneNameAreStillTwoNodes) {
  // Debian's cluster_name '15/main' on every node must not make them one holder.
  EXPECT_NE(judge({"15/main", "7311", 2, "eni-0c"}, tagged(2, "eni-0b", "7311", "15/main")), Standing::Mine);
}

TEST(Judge, NewerTimelineOutranksOlderYields) {
  EXPECT_EQ(judge({"a", "7311", 1, "eni-0a"}, tagged(2, "eni-0b")), Standing::Outranks);
  EXPECT_EQ(judge({"b", "7311", 2, "eni-0b"}, tagged(1, "eni-0a")), Standing::Yields);
  // Whatever the interface ids: the timeline comes first.
  EXPECT_EQ(judge({"a", "7311", 3, "eni-0f"}, tagged(2, "eni-00")), Standing::Yields);
}

TEST(Judge, OnOneTimelineTheFirstInterfaceIdWinsBothWays) {
  Identity b{"b", "7311", 2, "eni-0b"}, c{"c", "7311", 2, "eni-0c"};
  Holder hb = tagged(2, "eni-0b"), hc = tagged(2, "eni-0c");
  // Deterministic: each node reaches the same answer from the other's tag.
  EXPECT_EQ(judge(c, hb), Standing::Outranks);
  EXPECT_EQ(judge(b, hc), Standing::Yields);
  auto reason = fence_reason(c, hb);
  EXPECT_NE(reason.find("same timeline"), std::string::npos);
  EXPECT_NE(reason.find("eni-0b before eni-0c"), std::string::npos);
}

TEST(Judge, AnOldTagWithoutInterfaceRanksLast) {
  EXPECT_EQ(judge({"a", "7311", 2, "eni-0a"}, holder(2, "a")), Standing::Mine);  // its own 0.1 tag
  EXPECT_EQ(judge({"a", "7311", 2, "eni-0a"}, holder(2, "b")), Standing::Yields);
  EXPECT_EQ(judge({"a", "7311", 1, "eni-0a"}, holder(2, "b")), Standing::Outranks);
}

TEST(Judge, AnotherClusterIsForeign) {
  Identity me{"a", "7311", 9, "eni-0a"};
  EXPECT_EQ(judge(me, tagged(1, "eni-0x", "9999")), Standing::Foreign);
  EXPECT_NE(fence_reason(me, tagged(1, "eni-0x", "9999")).find("another cluster"), std::string::npos);
  // A tag without a system identifier is judged by timeline alone.
  EXPECT_EQ(judge(me, tagged(1, "eni-0x", "")), Standing::Yields);
}

TEST(Judge, ReasonsSayWhatFences) {
  auto r = fence_reason({"a", "7311", 1, "eni-0a"}, tagged(2, "eni-0b", "7311", "db-b"));
  EXPECT_NE(r.find("a newer timeline holds the VIP: node \"db-b\" (eni-0b) on timeline 2"), std::string::npos) << r;
  EXPECT_NE(r.find("this node is on timeline 1"), std::string::npos);
  EXPECT_EQ(fence_reason({"b", "7311", 2, "eni-0b"}, tagged(1, "eni-0a")), "");
}
