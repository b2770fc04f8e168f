// One fence tag key per timeline (issue 18, item 7): no node on an older
// timeline can overwrite a newer fence, whatever it read, because it never
// writes that key; readers take the newest of this cluster's tags; a
// holder deletes only older timelines' keys.
#include <gtest/gtest.h>

#include "controller_rig.hpp"
#include "core/ec2_client.hpp"
#include "core/fence.hpp"

namespace pg_vip::test {
namespace {

const std::string kV = "10.0.99.10/32";

Identity node(uint32_t tl, const std::string &eni = "eni-0b") { return Identity{"node-b", kSys, tl, eni}; }

// A forget() pair with an empty value deletes the key whatever its value
// (make_room's older timelines): DeleteTags then carries no Tag.N.Value,
// which EC2 would read as "only if the value is empty".
TEST(FenceTagKeys, AnEmptyValueDeletesTheKeyWhateverItsValue) {
  std::string body = aws::form_body(
      aws::delete_tags({"rtb-1"}, std::vector<std::pair<std::string, std::string>>{
                                      {"pg_vip:10.0.99.10/32:tl1", ""}, {"pg_vip:10.0.99.10/32", "node-a;tl=1"}}));
  EXPECT_NE(body.find("Tag.1.Key=pg_vip%3A10.0.99.10%2F32%3Atl1"), std::string::npos) << body;
  EXPECT_EQ(body.find("Tag.1.Value"), std::string::npos) << body;
  EXPECT_NE(body.find("Tag.2.Value=node-a%3Btl%3D1"), std::string::npos) << body;
}

TEST(FenceTagKeys, OneKeyPerTimelineAndTheLegacyKey) {
  EXPECT_EQ(fence_tag_key(kV, 3), "pg_vip:10.0.99.10/32:tl3");
  EXPECT_EQ(legacy_fence_tag_key(kV), "pg_vip:10.0.99.10/32");
  EXPECT_EQ(fence_tag_key_timeline(kV, "pg_vip:10.0.99.10/32:tl3"), 3u);
  EXPECT_EQ(fence_tag_key_timeline(kV, "pg_vip:10.0.99.10/32:tl4294967295"), 4294967295u);
  EXPECT_EQ(fence_tag_key_timeline(kV, "pg_vip:10.0.99.10/32"), 0u);
  // Not this VIP's, or not one key per timeline: passed over.
  for (const char *k : {"pg_vip:10.0.99.11/32:tl3", "pg_vip:10.0.99.10/32:tl", "pg_vip:10.0.99.10/32:tl03",
                        "pg_vip:10.0.99.10/32:tl0", "pg_vip:10.0.99.10/32:tl3x", "pg_vip:10.0.99.10/32:tl4294967296",
                        "pg_vip:10.0.99.10/32:3", "Name", "pg_vip:10.0.99.10/3"})
    EXPECT_FALSE(fence_tag_key_timeline(kV, k)) << k;
}

TEST(FenceTagKeys, ReadersTakeTheNewestOfThisClustersTags) {
  std::map<std::string, std::string> tags{{fence_tag_key(kV, 2), tag(2, "eni-0a")},
                                          {fence_tag_key(kV, 3), tag(3, "eni-0c")},
                                          {legacy_fence_tag_key(kV), tag(1, "eni-0a")},
                                          {"Name", "prod"}};
  auto c = choose_fence_tag(tags, kV, node(2), {});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->key, fence_tag_key(kV, 3));
  // The legacy key of pg_vip 0.2 still counts, and wins when newest.
  tags[legacy_fence_tag_key(kV)] = tag(5, "eni-0d");
  EXPECT_EQ(choose_fence_tag(tags, kV, node(2), {})->key, legacy_fence_tag_key(kV));
  // Nothing of this VIP's: no tag.
  EXPECT_FALSE(choose_fence_tag({{"Name", "prod"}, {"pg_vip:10.0.99.11/32:tl9", tag(9, "eni-0x")}}, kV, node(2), {}));
}

TEST(FenceTagKeys, AForgedTagBesideTheHoldersDoesNotHideIt) {
  // A higher key with no system identifier, another cluster's, one whose
  // value says another timeline than its key, garbage: none is this
  // cluster's, so the holder's own tag is the one read.
  std::map<std::string, std::string> tags{
      {fence_tag_key(kV, 3), tag(3, "eni-0b")},
      {fence_tag_key(kV, 4000000000), "tl=4000000000;id=eni-x;node=x"},
      {fence_tag_key(kV, 7), "tl=7;sysid=9999;id=eni-x;at=2026-11-18T11:06:40Z;node=x"},
      {fence_tag_key(kV, 8), tag(9, "eni-x")},
      {fence_tag_key(kV, 9), "garbage"},
  };
  auto c = choose_fence_tag(tags, kV, node(3), {});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->value, tag(3, "eni-0b"));
  // Only foreign tags: the newest-keyed one is read, and is Foreign.
  tags.erase(fence_tag_key(kV, 3));
  c = choose_fence_tag(tags, kV, node(3), {});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->key, fence_tag_key(kV, 4000000000));
  // With a fence key, a same-cluster tag without a valid MAC is foreign too.
  std::string key = "0123456789abcdef0123456789abcdef";
  std::map<std::string, std::string> keyed{
      {fence_tag_key(kV, 3), fence_tag_value(node(3), Clock::time_point{}, {}, key)},
      {fence_tag_key(kV, 5), tag(5, "eni-x")},
  };
  EXPECT_EQ(choose_fence_tag(keyed, kV, node(3), key)->key, fence_tag_key(kV, 3));
  EXPECT_EQ(choose_fence_tag(keyed, kV, node(3), {})->key, fence_tag_key(kV, 5));
}

TEST(FenceTagKeys, AHolderForgetsOnlyOlderTimelines) {
  std::map<std::string, std::string> tags{
      {fence_tag_key(kV, 1), tag(1, "eni-0a")}, {fence_tag_key(kV, 2), tag(2, "eni-0b")},
      {fence_tag_key(kV, 3), tag(3, "eni-0c")}, {legacy_fence_tag_key(kV), tag(1, "eni-0a")},
      {fence_tag_key(kV, 4), "garbage"},        {"Name", "prod"},
  };
  auto keys = fence_tag_keys_to_forget(tags, kV, node(2));
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{legacy_fence_tag_key(kV), fence_tag_key(kV, 1)}));
  // The legacy key of a newer timeline, or not this cluster's, stays.
  tags[legacy_fence_tag_key(kV)] = tag(9, "eni-0a");
  EXPECT_EQ(fence_tag_keys_to_forget(tags, kV, node(2)), (std::vector<std::string>{fence_tag_key(kV, 1)}));
  tags[legacy_fence_tag_key(kV)] = "tl=1;id=eni-x;node=x";
  EXPECT_EQ(fence_tag_keys_to_forget(tags, kV, node(2)), (std::vector<std::string>{fence_tag_key(kV, 1)}));
  // A forced claim: every other key of this VIP, newer ones too.
  auto all = fence_tag_keys_to_forget(tags, kV, node(2), true);
  EXPECT_EQ(all.size(), 4u);
  EXPECT_EQ(std::count(all.begin(), all.end(), fence_tag_key(kV, 2)), 0);
  EXPECT_EQ(std::count(all.begin(), all.end(), "Name"), 0);
}

// The situation of S1's old caveat: a node on timeline 2 acting on a stale
// read (it saw its own tag, the route moved away) repairs. Its tag write
// goes to timeline 2's key: timeline 3's tag stands, and the next read
// fences it.
TEST(FenceTagKeys, AnOlderTimelineNeverOverwritesANewerFence) {
  Rig r({{"rtb-1", {true, false, "eni-0b", tag(2, "eni-0b", "node-b")}}});
  r.step(Role::Primary, 2, PrimaryBy::Promotion);  // holds on timeline 2
  ASSERT_EQ(r.ctl->state(), State::Held);
  // Timeline 3 claims: its own key, its route.
  r.cloud->other_tags["rtb-1"][fence_tag_key(kV, 3)] = tag(3, "eni-0c", "node-c");
  r.cloud->tables["rtb-1"].eni = "eni-0c";
  // Whatever node-b does from here on, timeline 3's tag stays as written.
  for (int i = 0; i < 5; ++i) r.step(Role::Primary, 2, PrimaryBy::Promotion);
  EXPECT_EQ(r.ctl->state(), State::Fenced);
  EXPECT_EQ(r.cloud->other_tags["rtb-1"][fence_tag_key(kV, 3)], tag(3, "eni-0c", "node-c"));
  for (const auto &k : r.cloud->written_keys) EXPECT_EQ(k, fence_tag_key(kV, 2));
}

TEST(FenceTagKeys, TheHolderDeletesOlderTagsOnceItHolds) {
  Rig r({{"rtb-1", {true, false, "eni-0a", tag(1, "eni-0a", "node-a")}},
         {"rtb-2", {true, false, "eni-0a", tag(1, "eni-0a", "node-a")}}});
  r.step(Role::Standby, 1);
  r.step(Role::Primary, 2, PrimaryBy::Promotion);
  ASSERT_EQ(r.ctl->state(), State::Held);
  EXPECT_EQ(r.cloud->written_keys.back(), fence_tag_key(kV, 2));
  r.step(Role::Primary, 2, PrimaryBy::Promotion);  // a check: held, older tags go
  EXPECT_TRUE(r.cloud->other_tags["rtb-1"].empty());
  EXPECT_TRUE(r.cloud->other_tags["rtb-2"].empty());
  EXPECT_EQ(std::count(r.cloud->log.begin(), r.cloud->log.end(), "forget rtb-1,rtb-2 " + fence_tag_key(kV, 1)), 1);
  // Nothing left to delete: no further request.
  r.step(Role::Primary, 2, PrimaryBy::Promotion);
  EXPECT_EQ(std::count_if(r.cloud->log.begin(), r.cloud->log.end(),
                          [](const std::string &l) { return l.rfind("forget", 0) == 0; }),
            1);
}

TEST(FenceTagKeys, DeleteTagsRefusedWarnsOnceAndStopsTrying) {
  Rig r({{"rtb-1", {true, false, "eni-0a", tag(1, "eni-0a", "node-a")}}});
  r.step(Role::Standby, 1);
  r.cloud->deny.insert("DeleteTags");
  r.step(Role::Primary, 2, PrimaryBy::Promotion);
  for (int i = 0; i < 4; ++i) r.step(Role::Primary, 2, PrimaryBy::Promotion);
  EXPECT_EQ(r.ctl->state(), State::Held);  // old tags are harmless
  EXPECT_EQ(std::count_if(r.cloud->log.begin(), r.cloud->log.end(),
                          [](const std::string &l) { return l.rfind("forget", 0) == 0; }),
            1);
  int warned = 0;
  for (const auto &l : r.ctl->take_logs())
    if (l.message.find("could not delete older fence tags") != std::string::npos) {
      ++warned;
      EXPECT_NE(l.detail.find("ec2:DeleteTags"), std::string::npos) << l.detail;
    }
  EXPECT_EQ(warned, 1);
}

TEST(FenceTagKeys, AForcedClaimDeletesNewerTagsAndHolds) {
  Rig r({{"rtb-1", {true, false, "eni-0c", tag(3, "eni-0c", "node-c")}}});
  r.step(Role::Primary, 2, PrimaryBy::Promotion);
  ASSERT_EQ(r.ctl->state(), State::Fenced);
  ClaimRequest req;
  req.force = true;
  req.by = "dba";
  req.seq = 1;
  r.step(Role::Primary, 2, PrimaryBy::Promotion, {req});
  EXPECT_EQ(r.ctl->state(), State::Held);
  EXPECT_EQ(r.cloud->tables["rtb-1"].eni, "eni-0b");
  EXPECT_TRUE(r.cloud->other_tags["rtb-1"].empty());
  auto h = parse_fence_tag(*r.cloud->tables["rtb-1"].tag);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->timeline, 2u);
}

}  // namespace
}  // namespace pg_vip::test

namespace pg_vip::test {
namespace {

// Two clusters given one VIP (a misconfiguration): each writes its own
// keys. Where the route points at the interface another cluster's tag
// names, that tag is the one read (Foreign: not claimed over), as it was
// when one key held one tag; a forged tag naming an interface the route
// does not point at changes nothing.
TEST(FenceTagKeys, ATableAnotherClusterTookReadsAsItsTag) {
  std::string other = "tl=1;sysid=7322;id=eni-0z;at=2026-11-18T11:06:40Z;node=other";
  std::map<std::string, std::string> tags{{fence_tag_key(kV, 3), tag(3, "eni-0b")}, {fence_tag_key(kV, 1), other}};
  EXPECT_EQ(choose_fence_tag(tags, kV, node(3), {}, "eni-0z")->value, other);
  EXPECT_EQ(choose_fence_tag(tags, kV, node(3), {}, "eni-0b")->value, tag(3, "eni-0b"));
  EXPECT_EQ(choose_fence_tag(tags, kV, node(3), {}, "")->value, tag(3, "eni-0b"));
  // The route at an interface nobody's tag names: this cluster's tag.
  EXPECT_EQ(choose_fence_tag(tags, kV, node(3), {}, "eni-0rogue")->value, tag(3, "eni-0b"));
}

}  // namespace
}  // namespace pg_vip::test
