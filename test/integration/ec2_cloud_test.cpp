// The worker's Cloud (Ec2Cloud) against the local endpoint over real HTTP:
// one DescribeRouteTables per read, following nextToken; the promotion's
// one round trip; the interface checked against instance metadata.
#include <gtest/gtest.h>

#include "core/ec2_cloud.hpp"
#include "core/error.hpp"
#include "core/fence.hpp"
#include "integration/fake_aws.hpp"

using namespace pg_vip;
using namespace std::chrono;

namespace {

const std::vector<std::string> kTables = {"rtb-0a000001", "rtb-0a000002", "rtb-0a000003"};

class CloudTest : public testing::Test {
 protected:
  fake::FakeAws aws;
  RealTime time{nullptr, nullptr};

  std::unique_ptr<Ec2Cloud> cloud(bool metadata = false) {
    Ec2CloudOptions o;
    o.vip = "10.0.99.10/32";
    o.region = "us-east-1";
    o.ec2_endpoint = aws.ec2_url();
    o.imds_endpoint = aws.imds_url_a();
    o.request_timeout = milliseconds(2000);
    o.env = fake::static_key_env(metadata);
    return std::make_unique<Ec2Cloud>(std::move(o), time);
  }
};

}  // namespace

TEST_F(CloudTest, OneDescribeReadsEveryTableWithItsTag) {
  auto c = cloud();
  c->prepare("eni-0b00000b");
  auto reads = c->read(kTables, 2);
  ASSERT_EQ(reads.size(), 3u);
  for (const auto &r : reads) EXPECT_FALSE(r.error) << r.id << ": " << r.error->describe();
  EXPECT_EQ(reads[0].state, TargetState::Other) << "it points at another node's interface";
  EXPECT_EQ(reads[0].interface_id, "eni-0a00000a");
  EXPECT_EQ(reads[0].points_at, "eni-0a00000a");
  EXPECT_EQ(reads[2].state, TargetState::Missing);
  EXPECT_TRUE(reads[0].fence_tags.empty());
  EXPECT_EQ(aws.count("DescribeRouteTables"), 1) << "one request for three tables";
}

TEST_F(CloudTest, AReadFollowsNextTokenPastThePageSize) {
  aws.control("faults", R"({"describe_page_size": 1})");
  auto c = cloud();
  c->prepare("eni-0b00000b");
  auto reads = c->read(kTables, 2);
  for (const auto &r : reads) EXPECT_FALSE(r.error) << r.id << ": " << r.error->describe();
  EXPECT_EQ(reads[1].interface_id, "eni-0a00000a");
  EXPECT_EQ(aws.count("DescribeRouteTables", 200), 3) << "three pages of one table";
}

TEST_F(CloudTest, ThePromotionsRoundTripPointsEveryTableAndWritesTheTag) {
  auto c = cloud();
  c->prepare("eni-0b00000b");
  std::string tag = fence_tag_value({"node-b", "7311", 2, "eni-0b00000b"}, system_clock::now());
  std::string key = fence_tag_key("10.0.99.10/32", 2);
  // The third table has no route: its "replace" turns into a create.
  auto a = c->apply({{"rtb-0a000001", false}, {"rtb-0a000002", false}, {"rtb-0a000003", false}}, "eni-0b00000b",
                    {kTables, key, tag}, 4);
  for (const auto &p : a.points) EXPECT_TRUE(p.ok()) << p.error->describe();
  EXPECT_TRUE(a.fence.ok());
  EXPECT_EQ(a.points[0].action, "ReplaceRoute");
  EXPECT_EQ(a.points[2].action, "CreateRoute") << "the outcome names the request that was sent last";
  EXPECT_EQ(a.fence.action, "CreateTags");
  auto reads = c->read(kTables, 2);
  for (const auto &r : reads) {
    EXPECT_EQ(r.interface_id, "eni-0b00000b") << r.id;
    EXPECT_EQ(r.state, TargetState::Ours) << r.id;
    ASSERT_EQ(r.fence_tags.size(), 1u) << r.id;
    EXPECT_EQ(r.fence_tags.at(key), tag);
  }
  EXPECT_EQ(aws.count("CreateTags", 200), 1) << "one CreateTags for every table";
  EXPECT_EQ(aws.count("CreateRoute", 200), 1);
}

TEST_F(CloudTest, ADeniedTagWriteIsNamedWithThePermission) {
  aws.control("deny", R"({"rules": [{"actions": ["CreateTags"]}]})");
  auto c = cloud();
  c->prepare("eni-0b00000b");
  auto a = c->apply({}, "eni-0b00000b",
                    {kTables, "pg_vip:10.0.99.10/32:tl2", "tl=2;sysid=1;id=eni-0b00000b;at=x;node=b"}, 4);
  ASSERT_TRUE(a.fence.error);
  EXPECT_FALSE(a.fence.error->retryable());
  EXPECT_NE(a.fence.error->describe_for("CreateTags").find("the IAM policy must allow ec2:CreateTags"),
            std::string::npos);
  EXPECT_EQ(aws.count("CreateTags"), 1) << "a permission error is not retried within the round";
}

// One key per timeline: a read returns every fence tag of this VIP (and no
// other tag); forget() deletes the keys asked, on every table asked, in
// one DeleteTags, whatever their values, and leaves the others.
TEST_F(CloudTest, ReadsEveryFenceTagAndForgetsOlderOnesInOneRequest) {
  auto c = cloud();
  c->prepare("eni-0b00000b");
  const std::string vip = "10.0.99.10/32";
  auto one =
      c->apply({}, "eni-0b00000b", {kTables, fence_tag_key(vip, 1), "tl=1;sysid=7311;id=eni-0a00000a;node=a"}, 2);
  auto two =
      c->apply({}, "eni-0b00000b", {kTables, fence_tag_key(vip, 2), "tl=2;sysid=7311;id=eni-0b00000b;node=b"}, 2);
  ASSERT_TRUE(one.fence.ok() && two.fence.ok());
  aws.control("tag", R"({"route_table_id": "rtb-0a000001", "key": "Name", "value": "prod"})");  // not a fence tag
  auto reads = c->read(kTables, 2);
  ASSERT_EQ(reads[0].fence_tags.size(), 2u) << "both timelines' tags, and not Name";
  EXPECT_EQ(reads[0].fence_tags.at(fence_tag_key(vip, 1)), "tl=1;sysid=7311;id=eni-0a00000a;node=a");
  // With the value read: a value that changed since stays (checked below).
  Outcome stale = c->forget(kTables, {{fence_tag_key(vip, 1), "tl=1;sysid=7311;id=eni-0a00000a;node=another"}}, 2);
  EXPECT_TRUE(stale.ok()) << stale.error->describe();
  EXPECT_EQ(c->read(kTables, 2)[0].fence_tags.size(), 2u) << "a value that no longer matches is not deleted";
  Outcome gone = c->forget(
      kTables, {{fence_tag_key(vip, 1), "tl=1;sysid=7311;id=eni-0a00000a;node=a"}, {legacy_fence_tag_key(vip), "x"}},
      2);
  EXPECT_TRUE(gone.ok()) << gone.error->describe();
  EXPECT_EQ(aws.count("DeleteTags", 200), 2) << "one request for every table and key";
  for (const auto &r : c->read(kTables, 2)) {
    EXPECT_EQ(r.fence_tags.size(), 1u) << r.id;
    EXPECT_EQ(r.fence_tags.count(fence_tag_key(vip, 2)), 1u) << r.id;
  }
  // Refused: the error names the permission, and is not retried.
  aws.control("deny", R"({"rules": [{"actions": ["DeleteTags"]}]})");
  Outcome refused = c->forget(kTables, {{fence_tag_key(vip, 2), "tl=2;sysid=7311;id=eni-0b00000b;node=b"}}, 4);
  ASSERT_TRUE(refused.error);
  EXPECT_NE(refused.error->describe_for("DeleteTags").find("ec2:DeleteTags"), std::string::npos);
  EXPECT_EQ(aws.count("DeleteTags", 403), 1);
}

TEST_F(CloudTest, AnInterfaceThatIsNotThisInstancesIsRefused) {
  auto c = cloud(true);  // instance metadata of i-0a000001, whose interface is eni-0a00000a
  try {
    c->prepare("eni-0b00000b");
    FAIL() << "another instance's interface was accepted";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("eni-0b00000b is not attached to this instance"), std::string::npos)
        << e.what();
    EXPECT_NE(e.detail().find("eni-0a00000a"), std::string::npos) << e.detail();
  }
  auto ok = cloud(true);
  Placement p = ok->prepare("eni-0a00000a");
  EXPECT_EQ(p.interface_id, "eni-0a00000a");
  EXPECT_EQ(p.instance_id, "i-0a000001");
  EXPECT_EQ(ok->prepare("auto").interface_id, "eni-0a00000a");
}
