// The worker's Cloud (Ec2Cloud) against the local endpoint over real HTTP:
// one DescribeRouteTables per read, following nextToken; the promotion's
// one round trip; the interface checked against instance metadata. Then
// the three kinds of target together (route tables, Elastic IPs, secondary
// IPs): one request per kind and all at once, each kind's errors its own,
// and answers of the wrong shape from a canned endpoint.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <map>
#include <set>
#include <thread>

#include "core/ec2_addresses.hpp"
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

// The three kinds of target side by side: route tables (rtb-), Elastic IPs
// (eipalloc-) and secondary private IPs (an IPv4 address), told apart by
// the id alone. The shared world plus, for these tests only:
//   node-a's interface eni-0a00000a holds 10.0.1.50 and 10.0.1.51, and
//     the subnet carries node-a's fence tag (timeline 3) for each;
//   node-b's interface eni-0b00000b (this node) holds 10.0.1.60, and the
//     subnet carries node-b's older fence tag (timeline 2) for it;
//   the interfaces carry the VIP's fence tags too (where pg_vip once kept
//     a secondary IP's fence): a reader of an address passes them over;
//   a third Elastic IP, eipalloc-0b000001, associated with node-b, with
//     node-b's timeline 2 tag and a Name tag.
// eipalloc-0a000001 is node-a's, eipalloc-0a000002 associated with nothing;
// 10.0.1.70 is on no interface.
namespace {

const std::string kVip = "10.0.99.10/32";
const std::string kNodeATag = "tl=3;sysid=7311;id=eni-0a00000a;node=a";
const std::string kNodeBTag = "tl=2;sysid=7311;id=eni-0b00000b;node=b";

std::vector<std::string> kinds_world() {
  std::string a3 = "\"" + fence_tag_key(kVip, 3) + "\": \"" + kNodeATag + "\"";
  std::string b2 = "\"" + fence_tag_key(kVip, 2) + "\": \"" + kNodeBTag + "\"";
  auto on_subnet = [](const char *address, uint32_t tl, const std::string &value) {
    return "\"" + aws::subnet_fence_key(kVip, address, fence_tag_key(kVip, tl)).value() + "\": \"" + value + "\"";
  };
  return {"subnets.subnet-0a0b0c0d.tags={" + on_subnet("10.0.1.50", 3, kNodeATag) + ", " +
              on_subnet("10.0.1.51", 3, kNodeATag) + ", " + on_subnet("10.0.1.60", 2, kNodeBTag) + R"(, "Name": "db"})",
          R"(instances.i-0a000001.secondary_ips=["10.0.1.50", "10.0.1.51"])",
          "instances.i-0a000001.tags={" + a3 + R"(, "Name": "node-a"})",
          R"(instances.i-0b000001.secondary_ips=["10.0.1.60"])",
          "instances.i-0b000001.tags={" + b2 + "}",
          R"(addresses.eipalloc-0b000001={"allocation_id": "eipalloc-0b000001", "public_ip": "198.51.100.12", )"
          R"("eni": "eni-0b00000b", "tags": {)" +
              b2 + R"(, "Name": "vip"}})"};
}

// One EC2 request as the endpoint logged it.
struct Logged {
  std::string action;
  int status = 0;  // 0: no HTTP status (dropped)
  std::string code;
  double received = 0;  // seconds, the endpoint's clock
  std::map<std::string, std::string> params;

  std::string param(const std::string &name) const {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  }
  // The values of PREFIX1, PREFIX2, ... (ResourceId.1, ...), in their order.
  std::vector<std::string> list(const std::string &prefix) const {
    std::vector<std::string> out;
    for (int n = 1; params.count(prefix + std::to_string(n)); ++n) out.push_back(params.at(prefix + std::to_string(n)));
    return out;
  }
};

std::vector<Logged> ec2_log(const fake::FakeAws &aws) {
  std::vector<Logged> out;
  auto d = aws.log();
  for (auto &e : d.GetArray()) {
    if (std::string(e["service"].GetString()) != "ec2") continue;
    Logged l;
    l.action = e["action"].GetString();
    if (e["status"].IsInt()) l.status = e["status"].GetInt();
    if (e["code"].IsString()) l.code = e["code"].GetString();
    l.received = e["t"].GetDouble();
    for (auto &p : e["params"].GetObject()) l.params[p.name.GetString()] = p.value.GetString();
    out.push_back(std::move(l));
  }
  return out;
}

// The requests logged since `mark` (an earlier ec2_log's size).
std::vector<Logged> since(const fake::FakeAws &aws, std::size_t mark) {
  auto all = ec2_log(aws);
  return std::vector<Logged>(all.begin() + std::min(mark, all.size()), all.end());
}

std::vector<Logged> with_action(const std::vector<Logged> &log, const std::string &action) {
  std::vector<Logged> out;
  for (const auto &l : log)
    if (l.action == action) out.push_back(l);
  return out;
}

std::multiset<std::string> actions_of(const std::vector<Logged> &log) {
  std::multiset<std::string> out;
  for (const auto &l : log) out.insert(l.action);
  return out;
}

// How far apart the first and the last request arrived, in ms.
double spread_ms(const std::vector<Logged> &log) {
  double lo = 1e300, hi = -1e300;
  for (const auto &l : log) lo = std::min(lo, l.received), hi = std::max(hi, l.received);
  return log.empty() ? 0 : (hi - lo) * 1000;
}

std::set<std::string> as_set(const std::vector<std::string> &v) { return {v.begin(), v.end()}; }

const TargetRead &find_read(const std::vector<TargetRead> &reads, const std::string &id) {
  for (const auto &r : reads)
    if (r.id == id) return r;
  throw std::runtime_error("no read of " + id);
}

// Every endpoint request waits this long before it is answered: requests
// sent together arrive together, requests sent one after another at least
// this far apart.
constexpr int kDelayMs = 400;
constexpr double kTogetherMs = 200;

class CloudKindTest : public testing::Test {
 protected:
  fake::FakeAws aws{{}, {}, kinds_world()};
  RealTime time{nullptr, nullptr};

  std::unique_ptr<Ec2Cloud> cloud(const std::string &elastic_ip_private_address = {}) {
    Ec2CloudOptions o;
    o.vip = kVip;
    o.region = "us-east-1";
    o.ec2_endpoint = aws.ec2_url();
    o.request_timeout = milliseconds(3000);
    o.elastic_ip_private_address = elastic_ip_private_address;
    o.env = fake::static_key_env(false);
    return std::make_unique<Ec2Cloud>(std::move(o), time);
  }
  std::size_t mark() const { return ec2_log(aws).size(); }
};

}  // namespace

// read(): one request per kind, all three sent together, and each target's
// state, interface and fence tags right for every kind (this node is
// node-b; the ids interleaved, so that an answer given to the wrong
// target shows).
TEST_F(CloudKindTest, AReadOfEveryKindSendsOneRequestPerKindAtOnce) {
  aws.control("route", R"({"route_table_id": "rtb-0a000002", "destination": "10.0.99.10/32", "eni": "eni-0b00000b"})");
  aws.control("tag", R"({"route_table_id": "rtb-0a000001", "key": ")" + fence_tag_key(kVip, 3) + R"(", "value": ")" +
                         kNodeATag + R"("})");
  auto c = cloud();
  c->prepare("eni-0b00000b");
  // The first read of a secondary IP looks up this node's subnet, once.
  std::size_t first = mark();
  (void) c->read({"10.0.1.70"}, 2);
  EXPECT_EQ(actions_of(since(aws, first)),
            (std::multiset<std::string>{"DescribeNetworkInterfaces", "DescribeNetworkInterfaces", "DescribeSubnets"}));
  aws.control("faults", R"({"delay_ms": )" + std::to_string(kDelayMs) + "}");
  const std::vector<std::string> ids = {"rtb-0a000001", "eipalloc-0a000001", "10.0.1.50",
                                        "rtb-0a000002", "eipalloc-0b000001", "10.0.1.60",
                                        "rtb-0a000003", "eipalloc-0a000002", "10.0.1.70"};
  std::size_t before = mark();
  auto reads = c->read(ids, 2);
  auto log = since(aws, before);

  ASSERT_EQ(log.size(), 4u) << "one request per kind, and the secondary IPs' subnet";
  EXPECT_EQ(actions_of(log), (std::multiset<std::string>{"DescribeRouteTables", "DescribeAddresses",
                                                         "DescribeNetworkInterfaces", "DescribeSubnets"}));
  EXPECT_LT(spread_ms(log), kTogetherMs) << "the four were sent together (each is answered " << kDelayMs << " ms late)";
  auto tables = with_action(log, "DescribeRouteTables");
  auto addresses = with_action(log, "DescribeAddresses");
  auto interfaces = with_action(log, "DescribeNetworkInterfaces");
  ASSERT_EQ(tables.size(), 1u);
  ASSERT_EQ(addresses.size(), 1u);
  ASSERT_EQ(interfaces.size(), 1u);
  EXPECT_EQ(tables[0].list("RouteTableId."),
            (std::vector<std::string>{"rtb-0a000001", "rtb-0a000002", "rtb-0a000003"}));
  EXPECT_EQ(addresses[0].list("AllocationId."),
            (std::vector<std::string>{"eipalloc-0a000001", "eipalloc-0b000001", "eipalloc-0a000002"}));
  EXPECT_EQ(interfaces[0].param("Filter.1.Name"), "addresses.private-ip-address");
  EXPECT_EQ(interfaces[0].list("Filter.1.Value."), (std::vector<std::string>{"10.0.1.50", "10.0.1.60", "10.0.1.70"}));
  EXPECT_EQ(interfaces[0].param("Filter.2.Name"), "subnet-id") << "in this node's subnet only";
  EXPECT_EQ(interfaces[0].param("Filter.2.Value.1"), "subnet-0a0b0c0d");
  auto subnets = with_action(log, "DescribeSubnets");
  ASSERT_EQ(subnets.size(), 1u);
  EXPECT_EQ(subnets[0].list("SubnetId."), (std::vector<std::string>{"subnet-0a0b0c0d"}));
  for (const auto &l : log) EXPECT_EQ(l.status, 200) << l.action;

  ASSERT_EQ(reads.size(), ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(reads[i].id, ids[i]) << "in the order asked";
    EXPECT_FALSE(reads[i].error) << ids[i] << ": " << reads[i].error->describe();
    EXPECT_TRUE(reads[i].failed_action.empty()) << ids[i];
  }
  struct Expected {
    std::string id;
    TargetState state;
    std::string interface;
    std::map<std::string, std::string> fence_tags;
  };
  const std::vector<Expected> expected = {
      {"rtb-0a000001", TargetState::Other, "eni-0a00000a", {{fence_tag_key(kVip, 3), kNodeATag}}},
      {"rtb-0a000002", TargetState::Ours, "eni-0b00000b", {}},
      {"rtb-0a000003", TargetState::Missing, "", {}},
      {"eipalloc-0a000001", TargetState::Other, "eni-0a00000a", {}},
      // Its own tags, fence tags only (not Name).
      {"eipalloc-0b000001", TargetState::Ours, "eni-0b00000b", {{fence_tag_key(kVip, 2), kNodeBTag}}},
      {"eipalloc-0a000002", TargetState::Missing, "", {}},
      // An address has no tags: its subnet's fence tags for it (not Name,
      // not another address's, not the interface's).
      {"10.0.1.50", TargetState::Other, "eni-0a00000a", {{fence_tag_key(kVip, 3), kNodeATag}}},
      {"10.0.1.60", TargetState::Ours, "eni-0b00000b", {{fence_tag_key(kVip, 2), kNodeBTag}}},
      {"10.0.1.70", TargetState::Missing, "", {}},
  };
  for (const auto &e : expected) {
    const TargetRead &r = find_read(reads, e.id);
    EXPECT_EQ(r.state, e.state) << e.id;
    EXPECT_EQ(r.interface_id, e.interface) << e.id;
    EXPECT_EQ(r.points_at, e.interface) << e.id;
    EXPECT_EQ(r.fence_tags, e.fence_tags) << e.id;
  }
}

// An Elastic IP on this node's interface but on another of its private
// addresses than pg_vip.elastic_ip_private_address is not where it
// belongs; pointing it sends that address, and then it is ours.
TEST_F(CloudKindTest, AnElasticIpOnAnotherAddressOfThisInterfaceIsNotOursUntilMoved) {
  auto c = cloud("10.0.1.60");
  c->prepare("eni-0b00000b");
  auto before = c->read({"eipalloc-0b000001"}, 2);
  ASSERT_FALSE(before[0].error) << before[0].error->describe();
  EXPECT_EQ(before[0].interface_id, "eni-0b00000b");
  EXPECT_EQ(before[0].state, TargetState::Other) << "associated with 10.0.1.11, not 10.0.1.60";
  std::size_t m = mark();
  auto a = c->apply({{"eipalloc-0b000001", false}}, "eni-0b00000b", {}, 2);
  ASSERT_EQ(a.points.size(), 1u);
  EXPECT_TRUE(a.points[0].ok()) << a.points[0].error->describe();
  EXPECT_FALSE(a.fence.sent) << "no fence asked";
  auto log = since(aws, m);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].action, "AssociateAddress");
  EXPECT_EQ(log[0].param("PrivateIpAddress"), "10.0.1.60");
  EXPECT_EQ(c->read({"eipalloc-0b000001"}, 2)[0].state, TargetState::Ours);
}

// DescribeAddresses fails whole for one allocation id that does not exist
// (or is another account's): that Elastic IP alone has the error, every
// other target reads fine. With two Elastic IPs each is read again alone.
TEST_F(CloudKindTest, AnUnknownAllocationIsThatElasticIpsErrorAlone) {
  auto c = cloud();
  c->prepare("eni-0b00000b");
  auto expect_not_found = [](const TargetRead &r) {
    ASSERT_TRUE(r.error) << r.id << " read without error";
    EXPECT_EQ(r.error->code, "InvalidAllocationID.NotFound");
    EXPECT_EQ(r.error->kind, aws::ErrorKind::NotFound);
    EXPECT_EQ(r.failed_action, "DescribeAddresses");
    EXPECT_TRUE(r.fence_tags.empty());
  };
  auto expect_fine = [](const TargetRead &r, TargetState state, const std::string &interface) {
    EXPECT_FALSE(r.error) << r.id << ": " << r.error->describe();
    EXPECT_EQ(r.state, state) << r.id;
    EXPECT_EQ(r.interface_id, interface) << r.id;
  };
  (void) c->read({"10.0.1.70"}, 2);  // the subnet is known
  // Never allocated, and another account's (which EC2 answers alike).
  for (const std::string unknown : {"eipalloc-0f00000f", "eipalloc-0c000001"}) {
    SCOPED_TRACE(unknown);
    // One Elastic IP (what the settings allow): its one request's error.
    std::size_t m = mark();
    auto one = c->read({"rtb-0a000001", unknown, "10.0.1.50"}, 2);
    expect_not_found(one[1]);
    expect_fine(one[0], TargetState::Other, "eni-0a00000a");
    expect_fine(one[2], TargetState::Other, "eni-0a00000a");
    auto log = since(aws, m);
    EXPECT_EQ(with_action(log, "DescribeAddresses").size(), 1u) << "a permanent error is not retried";
    EXPECT_EQ(log.size(), 4u) << "each kind's read, and the secondary IP's subnet";

    // Two: the batch fails, then each is read alone, together.
    aws.control("faults", R"({"delay_ms": )" + std::to_string(kDelayMs) + "}");
    m = mark();
    auto two = c->read({"rtb-0a000001", unknown, "eipalloc-0b000001", "rtb-0a000003", "10.0.1.60"}, 2);
    aws.control("faults", R"({"delay_ms": 0})");
    expect_not_found(two[1]);
    expect_fine(two[0], TargetState::Other, "eni-0a00000a");
    expect_fine(two[2], TargetState::Ours, "eni-0b00000b");
    EXPECT_EQ(two[2].fence_tags, (std::map<std::string, std::string>{{fence_tag_key(kVip, 2), kNodeBTag}}));
    expect_fine(two[3], TargetState::Missing, "");
    expect_fine(two[4], TargetState::Ours, "eni-0b00000b");
    auto describes = with_action(since(aws, m), "DescribeAddresses");
    ASSERT_EQ(describes.size(), 3u) << "the batch, then each alone";
    EXPECT_EQ(describes[0].list("AllocationId.").size(), 2u);
    EXPECT_EQ(describes[0].code, "InvalidAllocationID.NotFound");
    std::set<std::string> alone;
    for (std::size_t k = 1; k < describes.size(); ++k) {
      ASSERT_EQ(describes[k].list("AllocationId.").size(), 1u);
      alone.insert(describes[k].param("AllocationId.1"));
    }
    EXPECT_EQ(alone, (std::set<std::string>{unknown, "eipalloc-0b000001"}));
    EXPECT_LT(spread_ms({describes[1], describes[2]}), kTogetherMs) << "the two alone were sent together";
  }
}

// apply(): every kind's point and the fence tag in one round trip: one
// AssociateAddress, ONE AssignPrivateIpAddresses for every address, a
// ReplaceRoute (CreateRoute where missing) per table, ONE CreateTags on
// the tables and the allocation, and ONE on this node's subnet with each
// address's own key (an address cannot be tagged).
TEST_F(CloudKindTest, TheClaimsRoundTripPointsEveryKindAndTagsTheSubnet) {
  auto c = cloud();
  c->prepare("eni-0b00000b");
  (void) c->read({"10.0.1.70"}, 2);  // a standby's reads: the subnet is known
  const std::string key = fence_tag_key(kVip, 4);
  const std::string value = "tl=4;sysid=7311;id=eni-0b00000b;node=b";
  const std::vector<PointRequest> points = {{"rtb-0a000001", false}, {"eipalloc-0a000001", false}, {"10.0.1.50", false},
                                            {"rtb-0a000003", true},  {"10.0.1.51", false},         {"10.0.1.70", true}};
  std::vector<std::string> ids;
  for (const auto &p : points) ids.push_back(p.id);
  aws.control("faults", R"({"delay_ms": )" + std::to_string(kDelayMs) + "}");
  std::size_t m = mark();
  auto a = c->apply(points, "eni-0b00000b", {ids, key, value}, 2);
  auto log = since(aws, m);

  ASSERT_EQ(a.points.size(), points.size());
  const std::vector<std::string> actions = {"ReplaceRoute", "AssociateAddress",         "AssignPrivateIpAddresses",
                                            "CreateRoute",  "AssignPrivateIpAddresses", "AssignPrivateIpAddresses"};
  for (std::size_t i = 0; i < points.size(); ++i) {
    EXPECT_TRUE(a.points[i].ok()) << points[i].id << ": " << a.points[i].error->describe();
    EXPECT_EQ(a.points[i].action, actions[i]) << points[i].id;
  }
  EXPECT_TRUE(a.fence.ok()) << a.fence.error->describe();
  EXPECT_EQ(a.fence.action, "CreateTags");

  EXPECT_EQ(actions_of(log), (std::multiset<std::string>{"ReplaceRoute", "CreateRoute", "AssociateAddress",
                                                         "AssignPrivateIpAddresses", "CreateTags", "CreateTags"}));
  EXPECT_LT(spread_ms(log), kTogetherMs) << "all sent together (each is answered " << kDelayMs << " ms late)";
  for (const auto &l : log) EXPECT_EQ(l.status, 200) << l.action << " " << l.code;
  auto assign = with_action(log, "AssignPrivateIpAddresses");
  ASSERT_EQ(assign.size(), 1u);
  EXPECT_EQ(assign[0].param("NetworkInterfaceId"), "eni-0b00000b");
  EXPECT_EQ(assign[0].param("AllowReassignment"), "true");
  EXPECT_EQ(assign[0].list("PrivateIpAddress."), (std::vector<std::string>{"10.0.1.50", "10.0.1.51", "10.0.1.70"}));
  auto associate = with_action(log, "AssociateAddress");
  ASSERT_EQ(associate.size(), 1u);
  EXPECT_EQ(associate[0].param("AllocationId"), "eipalloc-0a000001");
  EXPECT_EQ(associate[0].param("NetworkInterfaceId"), "eni-0b00000b");
  EXPECT_EQ(associate[0].param("AllowReassociation"), "true");
  EXPECT_EQ(associate[0].param("PrivateIpAddress"), "") << "the interface's primary: none configured";
  auto replace = with_action(log, "ReplaceRoute");
  ASSERT_EQ(replace.size(), 1u);
  EXPECT_EQ(replace[0].param("RouteTableId"), "rtb-0a000001");
  EXPECT_EQ(replace[0].param("NetworkInterfaceId"), "eni-0b00000b");
  auto create = with_action(log, "CreateRoute");
  ASSERT_EQ(create.size(), 1u);
  EXPECT_EQ(create[0].param("RouteTableId"), "rtb-0a000003");
  auto tags = with_action(log, "CreateTags");
  ASSERT_EQ(tags.size(), 2u);
  if (tags[0].param("ResourceId.1") == "subnet-0a0b0c0d") std::swap(tags[0], tags[1]);
  EXPECT_EQ(as_set(tags[0].list("ResourceId.")),
            (std::set<std::string>{"rtb-0a000001", "eipalloc-0a000001", "rtb-0a000003"}));
  EXPECT_EQ(tags[0].param("Tag.1.Key"), key);
  EXPECT_EQ(tags[0].param("Tag.1.Value"), value);
  EXPECT_EQ(tags[1].list("ResourceId."), (std::vector<std::string>{"subnet-0a0b0c0d"}));
  std::set<std::string> keys;
  for (int n = 1; !tags[1].param("Tag." + std::to_string(n) + ".Key").empty(); ++n) {
    keys.insert(tags[1].param("Tag." + std::to_string(n) + ".Key"));
    EXPECT_EQ(tags[1].param("Tag." + std::to_string(n) + ".Value"), value);
  }
  EXPECT_EQ(keys,
            (std::set<std::string>{"pg_vip:10.0.1.50/32:tl4", "pg_vip:10.0.1.51/32:tl4", "pg_vip:10.0.1.70/32:tl4"}))
      << "one key per address, on the subnet";
  EXPECT_TRUE(a.fence_of("10.0.1.50").ok());

  aws.control("faults", R"({"delay_ms": 0})");
  for (const auto &r : c->read(ids, 2)) {
    EXPECT_FALSE(r.error) << r.id << ": " << r.error->describe();
    EXPECT_EQ(r.state, TargetState::Ours) << r.id;
    EXPECT_EQ(r.interface_id, "eni-0b00000b") << r.id;
    EXPECT_EQ(r.fence_tags.count(key) ? r.fence_tags.at(key) : "(none)", value) << r.id;
  }
}

// A refused AssociateAddress (or AssignPrivateIpAddresses) is that point's
// error alone: the other points and the fence tag go through.
TEST_F(CloudKindTest, ARefusedPointIsThatPointsErrorAlone) {
  auto c = cloud();
  c->prepare("eni-0b00000b");
  const std::string key = fence_tag_key(kVip, 4);
  const std::vector<PointRequest> points = {
      {"rtb-0a000001", false}, {"eipalloc-0a000001", false}, {"10.0.1.50", false}, {"10.0.1.51", false}};
  const std::vector<std::string> ids = {"rtb-0a000001", "eipalloc-0a000001", "10.0.1.50", "10.0.1.51"};
  for (const std::string refused : {"AssociateAddress", "AssignPrivateIpAddresses"}) {
    SCOPED_TRACE(refused);
    aws.control("deny", R"({"rules": [{"actions": [")" + refused + R"("]}]})");
    std::size_t m = mark();
    auto a = c->apply(points, "eni-0b00000b", {ids, key, "tl=4;sysid=7311;id=eni-0b00000b;node=b"}, 4);
    ASSERT_EQ(a.points.size(), points.size());
    for (std::size_t i = 0; i < points.size(); ++i) {
      if (a.points[i].action == refused) {
        ASSERT_TRUE(a.points[i].error) << points[i].id << " was not refused";
        EXPECT_EQ(a.points[i].error->code, "UnauthorizedOperation") << points[i].id;
        EXPECT_NE(a.points[i].error->describe_for(refused).find("ec2:" + refused), std::string::npos)
            << a.points[i].error->describe_for(refused);
      } else {
        EXPECT_TRUE(a.points[i].ok()) << points[i].id << ": " << a.points[i].error->describe();
      }
    }
    EXPECT_EQ(a.points[1].action, "AssociateAddress");
    EXPECT_EQ(a.points[2].action, "AssignPrivateIpAddresses");
    EXPECT_TRUE(a.fence.ok()) << a.fence.error->describe();
    EXPECT_EQ(with_action(since(aws, m), refused).size(), 1u) << "a refusal is not retried";
    aws.control("deny", R"({"rules": []})");
    aws.control("reset_addresses", "{}");
  }
  // Nothing moved by the refused requests.
  aws.control("deny", R"({"rules": [{"actions": ["AssociateAddress", "AssignPrivateIpAddresses"]}]})");
  (void) c->apply(points, "eni-0b00000b", {}, 2);
  auto reads = c->read(ids, 2);
  EXPECT_EQ(reads[0].state, TargetState::Ours);
  for (std::size_t i = 1; i < reads.size(); ++i) {
    EXPECT_EQ(reads[i].state, TargetState::Other) << reads[i].id;
    EXPECT_EQ(reads[i].interface_id, "eni-0a00000a") << reads[i].id;
  }
}

// forget(): one DeleteTags on the tables and the allocations, and one on
// this node's subnet with each address's key (never an interface), each
// tag only with the value given; both sent together.
TEST_F(CloudKindTest, ForgettingDeletesTheTagsOfAddressesOnTheSubnet) {
  aws.control("tag", R"({"route_table_id": "rtb-0a000001", "key": ")" + fence_tag_key(kVip, 2) + R"(", "value": ")" +
                         kNodeBTag + R"("})");
  auto c = cloud();
  c->prepare("eni-0b00000b");
  (void) c->read({"10.0.1.70"}, 2);
  const std::vector<std::string> ids = {"rtb-0a000001", "10.0.1.60", "eipalloc-0b000001", "10.0.1.50", "10.0.1.70"};
  std::size_t m = mark();
  // node-a's timeline-3 tag with another value than it has: it stays.
  Outcome gone = c->forget(ids, {{fence_tag_key(kVip, 2), kNodeBTag}, {fence_tag_key(kVip, 3), "tl=3;other"}}, 2);
  EXPECT_TRUE(gone.ok()) << gone.error->describe();
  EXPECT_EQ(gone.action, "DeleteTags");
  auto log = since(aws, m);
  ASSERT_EQ(log.size(), 2u) << "two requests";
  EXPECT_EQ(actions_of(log), (std::multiset<std::string>{"DeleteTags", "DeleteTags"}));
  if (log[0].param("ResourceId.1") == "subnet-0a0b0c0d") std::swap(log[0], log[1]);
  EXPECT_EQ(as_set(log[0].list("ResourceId.")), (std::set<std::string>{"rtb-0a000001", "eipalloc-0b000001"}));
  EXPECT_EQ(log[0].param("Tag.1.Key"), fence_tag_key(kVip, 2));
  EXPECT_EQ(log[0].param("Tag.1.Value"), kNodeBTag);
  EXPECT_EQ(log[1].list("ResourceId."), (std::vector<std::string>{"subnet-0a0b0c0d"})) << "never an interface";
  EXPECT_EQ(log[1].param("Tag.1.Key"), "pg_vip:10.0.1.60/32:tl2");
  EXPECT_EQ(log[1].param("Tag.1.Value"), kNodeBTag);

  auto reads = c->read(ids, 2);
  for (const auto &r : reads) EXPECT_FALSE(r.error) << r.id << ": " << r.error->describe();
  EXPECT_TRUE(find_read(reads, "rtb-0a000001").fence_tags.empty());
  EXPECT_TRUE(find_read(reads, "10.0.1.60").fence_tags.empty());
  EXPECT_TRUE(find_read(reads, "eipalloc-0b000001").fence_tags.empty());
  // node-a's tag for 10.0.1.50 stays: another value than the one given.
  EXPECT_EQ(find_read(reads, "10.0.1.50").fence_tags,
            (std::map<std::string, std::string>{{fence_tag_key(kVip, 3), kNodeATag}}));

  // Addresses only: the subnet alone.
  m = mark();
  EXPECT_TRUE(c->forget({"10.0.1.60", "10.0.1.61"}, {{fence_tag_key(kVip, 2), kNodeBTag}}, 2).ok());
  log = since(aws, m);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].list("ResourceId."), (std::vector<std::string>{"subnet-0a0b0c0d"}));
}

// A garbled DescribeAddresses or DescribeNetworkInterfaces answer is an
// error on the targets that request was for, and on no other; one garbled
// answer among the attempts is retried away.
TEST_F(CloudKindTest, AGarbledAnswerIsAnErrorOnItsKindsTargetsOnly) {
  auto c = cloud();
  c->prepare("eni-0b00000b");
  const std::vector<std::string> ids = {"rtb-0a000001",      "eipalloc-0a000001", "10.0.1.50",
                                        "eipalloc-0b000001", "10.0.1.60",         "rtb-0a000003"};
  auto is_kind = [](const std::string &id, const std::string &action) {
    return action == "DescribeAddresses" ? id.rfind("eipalloc-", 0) == 0 : id.rfind("10.", 0) == 0;
  };
  const std::vector<std::vector<std::string>> garbled = {
      {"DescribeAddresses"}, {"DescribeNetworkInterfaces"}, {"DescribeAddresses", "DescribeNetworkInterfaces"}};
  for (const auto &actions : garbled) {
    std::string list;
    for (const auto &a : actions) list += (list.empty() ? "\"" : ", \"") + a + "\"";
    SCOPED_TRACE(list);
    // Every attempt garbled.
    aws.control("faults", R"({"garbage_next": {"count": )" + std::to_string(2 * actions.size()) +
                              R"(, "service": "ec2", )"
                              R"("actions": [)" +
                              list + "]}}");
    std::size_t m = mark();
    auto reads = c->read(ids, 2);
    ASSERT_EQ(reads.size(), ids.size());
    for (const auto &r : reads) {
      auto bad = std::find_if(actions.begin(), actions.end(), [&](const std::string &a) { return is_kind(r.id, a); });
      if (bad != actions.end()) {
        ASSERT_TRUE(r.error) << r.id << " read from a garbled answer";
        EXPECT_EQ(r.error->kind, aws::ErrorKind::Malformed) << r.id;
        EXPECT_EQ(r.failed_action, *bad) << r.id;
        EXPECT_EQ(r.state, TargetState::Missing) << r.id;
        EXPECT_TRUE(r.interface_id.empty() && r.fence_tags.empty()) << r.id;
      } else {
        EXPECT_FALSE(r.error) << r.id << ": " << r.error->describe();
      }
    }
    EXPECT_EQ(reads[0].state, TargetState::Other);
    bool interfaces_garbled = std::count(actions.begin(), actions.end(), "DescribeNetworkInterfaces") > 0;
    EXPECT_EQ(reads[4].state, interfaces_garbled ? TargetState::Missing : TargetState::Ours) << reads[4].id;
    auto log = since(aws, m);
    for (const auto &a : actions) {
      auto sent = with_action(log, a);
      EXPECT_EQ(sent.size(), 2u) << a << ": retried once, then given up";
      for (const auto &s : sent) EXPECT_EQ(s.code, "Garbage") << a;
    }
    aws.control("faults", R"({"clear": true})");

    // One garbled answer: the retry reads it.
    aws.control("faults", R"({"garbage_next": {"count": 1, "service": "ec2", "actions": [)" + list + "]}}");
    for (const auto &r : c->read(ids, 2)) EXPECT_FALSE(r.error) << r.id << ": " << r.error->describe();
    aws.control("faults", R"({"clear": true})");
  }
  // A refused read likewise: the kind it was for.
  for (const std::string refused : {"DescribeAddresses", "DescribeNetworkInterfaces"}) {
    SCOPED_TRACE(refused);
    aws.control("deny", R"({"rules": [{"actions": [")" + refused + R"("]}]})");
    for (const auto &r : c->read(ids, 2)) {
      if (is_kind(r.id, refused)) {
        ASSERT_TRUE(r.error) << r.id << " read through a refusal";
        EXPECT_EQ(r.error->code, "UnauthorizedOperation") << r.id;
        EXPECT_EQ(r.failed_action, refused) << r.id;
      } else {
        EXPECT_FALSE(r.error) << r.id << ": " << r.error->describe();
      }
    }
    aws.control("deny", R"({"rules": []})");
  }
  // Garbled answers to the claim's requests: those points' errors alone.
  aws.control("faults",
              R"({"garbage_next": {"count": 4, "actions": ["AssociateAddress", "AssignPrivateIpAddresses"]}})");
  auto a =
      c->apply({{"rtb-0a000001", false}, {"eipalloc-0a000001", false}, {"10.0.1.50", false}}, "eni-0b00000b",
               {{"rtb-0a000001", "10.0.1.50"}, fence_tag_key(kVip, 4), "tl=4;sysid=7311;id=eni-0b00000b;node=b"}, 2);
  EXPECT_TRUE(a.points[0].ok()) << a.points[0].error->describe();
  for (std::size_t i = 1; i < 3; ++i) {
    ASSERT_TRUE(a.points[i].error) << i;
    EXPECT_EQ(a.points[i].error->kind, aws::ErrorKind::Malformed) << a.points[i].action;
  }
  EXPECT_TRUE(a.fence.ok()) << a.fence.error->describe();
}

// The read shows what EC2 shows: an Elastic IP's new association and a
// secondary IP's move are not ours until DescribeAddresses and
// DescribeNetworkInterfaces show them.
TEST_F(CloudKindTest, AMoveIsOursOnlyOnceEc2ShowsIt) {
  aws.control("faults", R"({"eip_visible_after_ms": 800, "secondary_ip_delay_ms": 800})");
  auto c = cloud();
  c->prepare("eni-0b00000b");
  const std::vector<std::string> ids = {"eipalloc-0a000001", "10.0.1.50"};
  auto a = c->apply({{"eipalloc-0a000001", false}, {"10.0.1.50", false}}, "eni-0b00000b", {}, 2);
  for (const auto &p : a.points) EXPECT_TRUE(p.ok()) << p.error->describe();
  for (const auto &r : c->read(ids, 2)) {
    EXPECT_FALSE(r.error) << r.id << ": " << r.error->describe();
    EXPECT_EQ(r.state, TargetState::Other) << r.id << ": EC2 still shows it on node-a";
    EXPECT_EQ(r.interface_id, "eni-0a00000a") << r.id;
  }
  auto deadline = steady_clock::now() + seconds(5);
  std::vector<TargetRead> reads;
  do {
    std::this_thread::sleep_for(milliseconds(100));
    reads = c->read(ids, 2);
  } while ((reads[0].state != TargetState::Ours || reads[1].state != TargetState::Ours) &&
           steady_clock::now() < deadline);
  for (const auto &r : reads) EXPECT_EQ(r.state, TargetState::Ours) << r.id;
}

// Answers the fake endpoint never gives: well-formed EC2 XML of the wrong
// shape, from a loopback endpoint of this test that answers each action
// with a canned body (and checks no signature). What cannot be read is
// an error on the targets that request was for, never a crash, and the
// other kinds read fine.
namespace {

const char *kNs = R"( xmlns="http://ec2.amazonaws.com/doc/2016-11-15/")";

std::string answer(const std::string &action, const std::string &inside) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><" + action + "Response" + kNs + "><requestId>" + action +
         "-1</requestId>" + inside + "</" + action + "Response>";
}

// An address item; an empty `eni` is an Elastic IP associated with nothing.
std::string address_item(const std::string &allocation, const std::string &eni) {
  std::string out =
      "<item><publicIp>198.51.100.10</publicIp><allocationId>" + allocation + "</allocationId><domain>vpc</domain>";
  if (!eni.empty())
    out += "<associationId>eipassoc-0a000001</associationId><networkInterfaceId>" + eni +
           "</networkInterfaceId><privateIpAddress>10.0.1.10</privateIpAddress>";
  return out + "<tagSet/></item>";
}

std::string interface_item(const std::string &eni, const std::string &addresses, const std::string &tags = "") {
  return "<item><networkInterfaceId>" + eni +
         "</networkInterfaceId><subnetId>subnet-0a0b0c0d</subnetId><privateIpAddressesSet>" + addresses +
         "</privateIpAddressesSet><tagSet>" + tags + "</tagSet></item>";
}

std::string private_ip(const std::string &address, const char *primary) {
  return "<item><privateIpAddress>" + address + "</privateIpAddress><primary>" + primary + "</primary></item>";
}

// One body per action; an action it has no body for is answered 400.
class CannedEc2 {
 public:
  std::map<std::string, std::string> bodies;

  CannedEc2() {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (listener_ < 0 || bind(listener_, reinterpret_cast<sockaddr *>(&a), len) != 0 || listen(listener_, 64) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr *>(&a), &len) != 0)
      throw std::runtime_error("cannot listen on loopback");
    url_ = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    server_ = std::thread([this] { serve(); });
  }
  ~CannedEc2() {
    shutdown(listener_, SHUT_RDWR);  // wakes accept()
    server_.join();
    close(listener_);
  }
  const std::string &url() const { return url_; }
  std::vector<std::string> actions() {
    std::lock_guard<std::mutex> g(mutex_);
    return actions_;
  }

 private:
  int listener_ = -1;
  std::string url_;
  std::thread server_;
  std::mutex mutex_;
  std::vector<std::string> actions_;

  // One request a connection, answered and closed.
  void serve() {
    for (;;) {
      int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      timeval two_s{2, 0};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &two_s, sizeof two_s);
      std::string in;
      char buf[4096];
      std::size_t end = std::string::npos, length = 0;
      for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) {
        in.append(buf, static_cast<std::size_t>(n));
        if (end == std::string::npos && (end = in.find("\r\n\r\n")) != std::string::npos) {
          std::string head = in.substr(0, end);
          std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
          auto at = head.find("content-length:");
          length = at == std::string::npos ? 0 : std::stoul(head.substr(at + 15));
          if (head.find("expect: 100-continue") != std::string::npos)
            (void) !write(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
        }
        if (end != std::string::npos && in.size() >= end + 4 + length) break;
      }
      std::string body = end == std::string::npos ? "" : in.substr(end + 4);
      auto from = body.find("Action=");
      std::string action = from == std::string::npos ? "" : body.substr(from + 7, body.find('&', from) - from - 7);
      // The lookup of this node's own interface (its subnet) apart from
      // the read of where the addresses are.
      if (body.find("NetworkInterfaceId.1=") != std::string::npos) action += "#own";
      std::string reply;
      int status = 200;
      {
        std::lock_guard<std::mutex> g(mutex_);
        actions_.push_back(action);
        auto it = bodies.find(action);
        if (it != bodies.end()) {
          reply = it->second;
        } else {
          status = 400;
          reply = "<Response><Errors><Error><Code>InvalidAction</Code><Message>not canned</Message></Error></Errors>"
                  "<RequestID>x</RequestID></Response>";
        }
      }
      std::string out = "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Bad Request") +
                        "\r\nContent-Type: text/xml\r\nContent-Length: " + std::to_string(reply.size()) +
                        "\r\nConnection: close\r\n\r\n" + reply;
      for (std::size_t sent = 0; sent < out.size();) {
        ssize_t n = write(fd, out.data() + sent, out.size() - sent);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
      }
      close(fd);
    }
  }
};

}  // namespace

TEST(CloudKindMalformedAnswers, AnAnswerOfTheWrongShapeIsAnErrorOnItsKindsTargetsOnly) {
  const std::string routes = answer(
      "DescribeRouteTables",
      "<routeTableSet><item><routeTableId>rtb-0a000001</routeTableId><routeSet><item><destinationCidrBlock>"
      "10.0.99.10/32</destinationCidrBlock><networkInterfaceId>eni-0a00000a</networkInterfaceId><state>active</state>"
      "</item></routeSet><tagSet/></item></routeTableSet>");
  const std::string addresses =
      answer("DescribeAddresses", "<addressesSet>" + address_item("eipalloc-0a000001", "eni-0a00000a") +
                                      address_item("eipalloc-0a000002", "") + "</addressesSet>");
  const std::string interfaces =
      answer("DescribeNetworkInterfaces",
             "<networkInterfaceSet>" +
                 interface_item("eni-0a00000a", private_ip("10.0.1.10", "true") + private_ip("10.0.1.50", "false")) +
                 "</networkInterfaceSet>");
  const std::string own =
      answer("DescribeNetworkInterfaces", "<networkInterfaceSet>" +
                                              interface_item("eni-0b00000b", private_ip("10.0.1.11", "true")) +
                                              "</networkInterfaceSet>");
  const std::string subnets =
      answer("DescribeSubnets", "<subnetSet><item><subnetId>subnet-0a0b0c0d</subnetId><cidrBlock>10.0.1.0/24"
                                "</cidrBlock><tagSet/></item></subnetSet>");
  struct Case {
    std::string what, action, body;
    std::vector<std::string> failing;  // the targets that must have the error
  };
  const std::vector<Case> cases = {
      {"another action's answer",
       "DescribeAddresses",
       answer("AssociateAddress", "<return>true</return><associationId>eipassoc-1</associationId>"),
       {"eipalloc-0a000001", "eipalloc-0a000002"}},
      {"no addressesSet",
       "DescribeAddresses",
       answer("DescribeAddresses", ""),
       {"eipalloc-0a000001", "eipalloc-0a000002"}},
      {"an address without its allocation id",
       "DescribeAddresses",
       answer("DescribeAddresses", "<addressesSet>" + address_item("eipalloc-0a000001", "eni-0a00000a") +
                                       "<item><publicIp>198.51.100.11</publicIp></item></addressesSet>"),
       {"eipalloc-0a000001", "eipalloc-0a000002"}},
      {"an allocation listed twice",
       "DescribeAddresses",
       answer("DescribeAddresses", "<addressesSet>" + address_item("eipalloc-0a000001", "eni-0a00000a") +
                                       address_item("eipalloc-0a000001", "") + "</addressesSet>"),
       {"eipalloc-0a000001", "eipalloc-0a000002"}},
      {"an allocation left out",
       "DescribeAddresses",
       answer("DescribeAddresses",
              "<addressesSet>" + address_item("eipalloc-0a000001", "eni-0a00000a") + "</addressesSet>"),
       {"eipalloc-0a000002"}},
      {"another action's answer", "DescribeNetworkInterfaces", addresses, {"10.0.1.50", "10.0.1.70"}},
      {"no networkInterfaceSet",
       "DescribeNetworkInterfaces",
       answer("DescribeNetworkInterfaces", ""),
       {"10.0.1.50", "10.0.1.70"}},
      {"two primary addresses",
       "DescribeNetworkInterfaces",
       answer("DescribeNetworkInterfaces",
              "<networkInterfaceSet>" +
                  interface_item("eni-0a00000a", private_ip("10.0.1.10", "true") + private_ip("10.0.1.50", "true")) +
                  "</networkInterfaceSet>"),
       {"10.0.1.50", "10.0.1.70"}},
      {"an address without <primary>",
       "DescribeNetworkInterfaces",
       answer("DescribeNetworkInterfaces",
              "<networkInterfaceSet>" +
                  interface_item("eni-0a00000a", "<item><privateIpAddress>10.0.1.50</privateIpAddress>"
                                                 "</item>") +
                  "</networkInterfaceSet>"),
       {"10.0.1.50", "10.0.1.70"}},
      {"an interface without its id",
       "DescribeNetworkInterfaces",
       answer("DescribeNetworkInterfaces", "<networkInterfaceSet><item><privateIpAddressesSet>" +
                                               private_ip("10.0.1.50", "false") +
                                               "</privateIpAddressesSet></item></networkInterfaceSet>"),
       {"10.0.1.50", "10.0.1.70"}},
      {"a tag key twice",
       "DescribeNetworkInterfaces",
       answer("DescribeNetworkInterfaces",
              "<networkInterfaceSet>" +
                  interface_item("eni-0a00000a", private_ip("10.0.1.50", "false"),
                                 "<item><key>k</key><value>1</value></item><item><key>k</key><value>2</value></item>") +
                  "</networkInterfaceSet>"),
       {"10.0.1.50", "10.0.1.70"}},
      {"another action's answer", "DescribeSubnets", addresses, {"10.0.1.50", "10.0.1.70"}},
      {"no subnetSet", "DescribeSubnets", answer("DescribeSubnets", ""), {"10.0.1.50", "10.0.1.70"}},
      {"another subnet",
       "DescribeSubnets",
       answer("DescribeSubnets", "<subnetSet><item><subnetId>subnet-0f0f0f0f</subnetId><cidrBlock>10.0.1.0/24"
                                 "</cidrBlock></item></subnetSet>"),
       {"10.0.1.50", "10.0.1.70"}},
      {"a subnet listed twice",
       "DescribeSubnets",
       answer("DescribeSubnets", "<subnetSet><item><subnetId>subnet-0a0b0c0d</subnetId></item><item><subnetId>"
                                 "subnet-0a0b0c0d</subnetId></item></subnetSet>"),
       {"10.0.1.50", "10.0.1.70"}},
  };
  const std::vector<std::string> ids = {"rtb-0a000001", "eipalloc-0a000001", "eipalloc-0a000002", "10.0.1.50",
                                        "10.0.1.70"};
  RealTime time{nullptr, nullptr};
  for (const auto &c : cases) {
    SCOPED_TRACE(c.action + ": " + c.what);
    CannedEc2 ec2;
    ec2.bodies = {{"DescribeRouteTables", routes},
                  {"DescribeAddresses", addresses},
                  {"DescribeNetworkInterfaces", interfaces},
                  {"DescribeNetworkInterfaces#own", own},
                  {"DescribeSubnets", subnets}};
    ec2.bodies[c.action] = c.body;
    Ec2CloudOptions o;
    o.vip = kVip;
    o.region = "us-east-1";
    o.ec2_endpoint = ec2.url();
    o.env = fake::static_key_env(false);
    Ec2Cloud cloud(std::move(o), time);
    cloud.prepare("eni-0b00000b");
    std::vector<TargetRead> reads;
    ASSERT_NO_THROW(reads = cloud.read(ids, 2));
    ASSERT_EQ(reads.size(), ids.size());
    for (const auto &r : reads) {
      if (std::find(c.failing.begin(), c.failing.end(), r.id) != c.failing.end()) {
        ASSERT_TRUE(r.error) << r.id << " read from a wrong answer";
        EXPECT_EQ(r.error->kind, aws::ErrorKind::Malformed) << r.id << ": " << r.error->describe();
        EXPECT_EQ(r.failed_action, c.action) << r.id;
        EXPECT_TRUE(r.interface_id.empty() && r.fence_tags.empty()) << r.id;
      } else {
        EXPECT_FALSE(r.error) << r.id << ": " << r.error->describe();
      }
    }
    // What the good answers say, read right beside the bad one.
    const std::map<std::string, TargetState> fine = {{"rtb-0a000001", TargetState::Other},
                                                     {"eipalloc-0a000001", TargetState::Other},
                                                     {"eipalloc-0a000002", TargetState::Missing},
                                                     {"10.0.1.50", TargetState::Other},
                                                     {"10.0.1.70", TargetState::Missing}};
    for (const auto &r : reads) {
      if (!r.error) {
        EXPECT_EQ(r.state, fine.at(r.id)) << r.id;
      }
    }
    auto sent = ec2.actions();
    EXPECT_EQ(std::count(sent.begin(), sent.end(), c.action), 1) << "an answer read whole is not asked again";
  }
}
