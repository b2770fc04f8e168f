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
  std::string v =
      fence_tag_value(me, parse_iso8601("2026-11-25T19:00:00Z"), Tenure{std::chrono::seconds(60), 1795000000});
  EXPECT_EQ(
      v, "tl=12;sysid=7311234567890;id=eni-0b1c;lease=60;since=1795000000;at=2026-11-25T19:00:00Z;node=db b; node=x");
  auto h = parse_fence_tag(v);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->timeline, 12u);
  EXPECT_EQ(h->system_identifier, "7311234567890");
  EXPECT_EQ(h->interface_id, "eni-0b1c");
  EXPECT_EQ(h->node_name, "db b; node=x");
  EXPECT_EQ(h->at, "2026-11-25T19:00:00Z");
  EXPECT_EQ(h->lease, std::chrono::seconds(60));
  EXPECT_EQ(h->since, 1795000000);
  EXPECT_EQ(fence_tag_key("10.0.99.10/32", 12), "pg_vip:10.0.99.10/32:tl12");
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
  // pg_vip has always written sysid=: a tag without one was not written by
  // this cluster's pg_vip, whatever its timeline says.
  EXPECT_EQ(judge(me, tagged(4000000000u, "eni-0x", "")), Standing::Foreign);
  EXPECT_NE(fence_reason(me, tagged(1, "eni-0x", "")).find("without a system identifier"), std::string::npos);
}

TEST(Judge, ReasonsSayWhatFences) {
  auto r = fence_reason({"a", "7311", 1, "eni-0a"}, tagged(2, "eni-0b", "7311", "db-b"));
  EXPECT_NE(r.find("a newer timeline holds the VIP: node \"db-b\" (eni-0b) on timeline 2"), std::string::npos) << r;
  EXPECT_NE(r.find("this node is on timeline 1"), std::string::npos);
  EXPECT_EQ(fence_reason({"b", "7311", 2, "eni-0b"}, tagged(1, "eni-0a")), "");
}

TEST(FenceTag, AFenceKeyMacsTheTagAndOnlyTheKeyVerifiesIt) {
  Identity me{"db-b", "7311", 3, "eni-0b"};
  auto at = parse_iso8601("2026-11-25T19:00:00Z");
  std::string v = fence_tag_value(me, at, Tenure{std::chrono::seconds(60), 1795000000}, "the cluster's key");
  EXPECT_NE(v.find(";mac="), std::string::npos);
  EXPECT_EQ(v.substr(v.size() - 10), ";node=db-b") << "node stays last";
  auto good = parse_fence_tag(v, "the cluster's key");
  ASSERT_TRUE(good);
  EXPECT_TRUE(good->authentic);
  EXPECT_EQ(good->node_name, "db-b");
  EXPECT_FALSE(parse_fence_tag(v, "another key")->authentic);
  EXPECT_FALSE(parse_fence_tag(v)->authentic) << "nothing is authentic without a key to check";
  // Any field changed, the MAC no longer holds: a copied tag with a higher timeline is forged.
  std::string forged = v;
  forged.replace(0, 4, "tl=9");
  EXPECT_FALSE(parse_fence_tag(forged, "the cluster's key")->authentic);
  std::string renamed = v.substr(0, v.size() - 4) + "db-x";
  EXPECT_FALSE(parse_fence_tag(renamed, "the cluster's key")->authentic);
  // A long node name is cut before the MAC is made: the stored value verifies.
  std::string longer = fence_tag_value({std::string(300, 'n'), "7311", 3, "eni-0b"}, at, {}, "k");
  EXPECT_LE(longer.size(), 256u);
  EXPECT_TRUE(parse_fence_tag(longer, "k")->authentic);
}

TEST(FenceTag, LeaseAndSinceAreBounded) {
  EXPECT_FALSE(parse_fence_tag("tl=2;sysid=1;lease=-1;node=a"));
  EXPECT_FALSE(parse_fence_tag("tl=2;sysid=1;lease=99999999999;node=a")) << "a tag cannot make itself unlapsable";
  EXPECT_FALSE(parse_fence_tag("tl=2;sysid=1;since=x;node=a"));
  EXPECT_FALSE(parse_fence_tag("tl=2;sysid=1;since=99999999999;node=a")) << "past 2200";
  auto h = parse_fence_tag("tl=2;sysid=1;lease=360;since=1795000000;node=a");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->lease, std::chrono::seconds(360));
  EXPECT_EQ(h->since, 1795000000);
  EXPECT_EQ(parse_fence_tag("tl=2;sysid=1;node=a")->since, -1) << "pg_vip 0.2 did not say";
}

TEST(FenceTag, NodeNamesAreShownInASafeCharacterSet) {
  EXPECT_EQ(safe_node_name("db-b_1.prod:5432@eu/main"), "db-b_1.prod:5432@eu/main");
  EXPECT_EQ(safe_node_name("a\nLOG:  b"), "a\\x0aLOG:\\x20\\x20b");
  EXPECT_EQ(safe_node_name("\x1b[31m"), "\\x1b\\x5b31m");
  Holder h = holder(2, "x\"; DROP");
  EXPECT_EQ(describe(h).find('"', 6), describe(h).rfind('"')) << "no quote of the tag's own closes the name";
}

TEST(Judge, OnOneTimelineTheIncumbentKeepsTheVipFromALatePromotion) {
  const int64_t t0 = 1795000000;
  // eni-0a sorts first, but eni-0c has been primary for an hour.
  Identity late{"a", "7311", 2, "eni-0a"}, incumbent{"c", "7311", 2, "eni-0c"};
  Holder hc = tagged(2, "eni-0c");
  hc.since = t0 - 3600;
  EXPECT_EQ(judge(late, hc, TieContext{false, t0}), Standing::Outranks);
  EXPECT_NE(fence_reason(late, hc, TieContext{false, t0}).find("whose term began first keeps the VIP"),
            std::string::npos);
  // The incumbent compares the same two values the other way round.
  Holder ha = tagged(2, "eni-0a");
  ha.since = t0;
  EXPECT_EQ(judge(incumbent, ha, TieContext{false, t0 - 3600}), Standing::Yields);
  // Terms begun in the same second: the interface id decides.
  hc.since = t0;
  EXPECT_EQ(judge(late, hc, TieContext{false, t0}), Standing::Yields);
  // A tag that does not say (pg_vip 0.2) ranks after one that does.
  hc.since = -1;
  EXPECT_EQ(judge(late, hc, TieContext{false, t0}), Standing::Yields);
  EXPECT_EQ(judge(late, hc, TieContext{false, -1}), Standing::Yields) << "neither says: the interface id";
}

TEST(Judge, AmongThreeNodesOfOneTimelineThereIsNoCycle) {
  // Terms began 20 s and 42 s apart (one clock a minute off): with a band
  // of "within a lease is a tie" A beat B, B beat C and C beat A.
  Identity a{"a", "7311", 8, "eni-0af"}, b{"b", "7311", 8, "eni-0b8"}, c{"c", "7311", 8, "eni-0cd"};
  const int64_t sa = 1795001625, sb = 1795001583, sc = 1795001563;
  auto tag_of = [](const Identity &who, int64_t since) {
    Holder h = tagged(8, who.interface_id);
    h.since = since;
    return h;
  };
  EXPECT_EQ(judge(a, tag_of(b, sb), TieContext{false, sa}), Standing::Outranks);
  EXPECT_EQ(judge(b, tag_of(c, sc), TieContext{false, sb}), Standing::Outranks);
  EXPECT_EQ(judge(a, tag_of(c, sc), TieContext{false, sa}), Standing::Outranks) << "c began first: it wins both";
  EXPECT_EQ(judge(c, tag_of(a, sa), TieContext{false, sc}), Standing::Yields);
  EXPECT_EQ(judge(c, tag_of(b, sb), TieContext{false, sc}), Standing::Yields);
}

TEST(Judge, WithAFenceKeyATagWithoutAValidMacIsForeign) {
  Identity me{"a", "7311", 2, "eni-0a"};
  Holder copied = tagged(4000000000u, "eni-0x");  // the sysid is no secret
  EXPECT_EQ(judge(me, copied, TieContext{true, 0}), Standing::Foreign);
  EXPECT_NE(fence_reason(me, copied, TieContext{true, 0}).find("without a valid MAC"), std::string::npos);
  copied.authentic = true;
  EXPECT_EQ(judge(me, copied, TieContext{true, 0}), Standing::Outranks);
}
