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
  EXPECT_TRUE(reads[0].route_present);
  EXPECT_EQ(reads[0].interface_id, "eni-0a00000a");
  EXPECT_FALSE(reads[2].route_present);
  EXPECT_FALSE(reads[0].fence_tag);
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
  // The third table has no route: its "replace" turns into a create.
  auto a = c->apply({{"rtb-0a000001", false}, {"rtb-0a000002", false}, {"rtb-0a000003", false}}, "eni-0b00000b",
                    kTables, tag, 4);
  for (const auto &p : a.points) EXPECT_TRUE(p.ok()) << p.error->describe();
  EXPECT_TRUE(a.fence.ok());
  auto reads = c->read(kTables, 2);
  for (const auto &r : reads) {
    EXPECT_EQ(r.interface_id, "eni-0b00000b") << r.id;
    ASSERT_TRUE(r.fence_tag) << r.id;
    EXPECT_EQ(*r.fence_tag, tag);
  }
  EXPECT_EQ(aws.count("CreateTags", 200), 1) << "one CreateTags for every table";
  EXPECT_EQ(aws.count("CreateRoute", 200), 1);
}

TEST_F(CloudTest, ADeniedTagWriteIsNamedWithThePermission) {
  aws.control("deny", R"({"rules": [{"actions": ["CreateTags"]}]})");
  auto c = cloud();
  c->prepare("eni-0b00000b");
  auto a = c->apply({}, "eni-0b00000b", kTables, "tl=2;sysid=1;id=eni-0b00000b;at=x;node=b", 4);
  ASSERT_TRUE(a.fence.error);
  EXPECT_FALSE(a.fence.error->retryable());
  EXPECT_NE(a.fence.error->describe_for("CreateTags").find("the IAM policy must allow ec2:CreateTags"),
            std::string::npos);
  EXPECT_EQ(aws.count("CreateTags"), 1) << "a permission error is not retried within the round";
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
