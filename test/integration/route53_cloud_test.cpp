// The DNS kind's Cloud (Route53Cloud) and the set of Clouds (CloudSet)
// against the local endpoint over real HTTP, every request signed and
// checked by botocore: a record and its fence TXT read as one target; a
// claim as one compare-and-swap batch; two nodes racing from the same read
// (exactly one wins, the other's batch is refused and changes nothing);
// Route 53's throttling retried; route tables and a record in one claim.
#include <gtest/gtest.h>

#include <thread>

#include <algorithm>
#include <set>

#include <rapidjson/document.h>

#include "core/cloud_set.hpp"
#include "core/ec2_cloud.hpp"
#include "core/elastic_ip_lookup.hpp"
#include "core/fence.hpp"
#include "core/route53_cloud.hpp"
#include "integration/fake_aws.hpp"

using namespace pg_vip;
using namespace std::chrono;

namespace {

constexpr const char *kVip = "10.0.99.10/32";
const std::string kRecord = "Z0A00000000000000000A:primary.db.example.internal.";

class Route53CloudTest : public testing::Test {
 protected:
  fake::FakeAws aws;
  RealTime time{nullptr, nullptr};

  Route53CloudOptions options(const std::string &address, bool metadata = false, fake::FakeAws *at = nullptr) {
    fake::FakeAws &endpoint = at ? *at : aws;
    Route53CloudOptions o;
    o.vip = kVip;
    o.route53_endpoint = endpoint.ec2_url();  // the endpoint serves Route 53 on the same port
    o.imds_endpoint = endpoint.imds_url_a();
    o.dns_value = address;
    o.dns_ttl = 10;
    o.request_timeout = milliseconds(2000);
    o.env = fake::static_key_env(metadata);
    return o;
  }
  // EC2's Cloud beside it (route tables), on the same endpoint.
  Ec2CloudOptions ec2_options() {
    Ec2CloudOptions eo;
    eo.vip = kVip;
    eo.region = "us-east-1";
    eo.ec2_endpoint = aws.ec2_url();
    eo.imds_endpoint = aws.imds_url_a();
    eo.env = fake::static_key_env(false);
    return eo;
  }
  std::unique_ptr<Route53Cloud> node(const std::string &address, const std::string &eni) {
    auto c = std::make_unique<Route53Cloud>(options(address), time);
    c->prepare(eni);
    return c;
  }
  static Cloud::FenceWrite tag(const std::string &node, const std::string &eni, uint32_t tl) {
    return {{kRecord}, fence_tag_key(kVip, tl), fence_tag_value({node, "7311", tl, eni}, system_clock::now())};
  }
  // What a resolver would be told now (the endpoint's control API).
  std::string zone_state(const std::string &zone) {
    http::Client c({});
    http::Request r;
    r.url = aws.ec2_url() + "/_fake/route53/zone/" + zone;
    return c.perform(r).body;
  }
  int route53_count(const std::string &action, int status = -1) {
    auto d = aws.log();
    int n = 0;
    for (auto &e : d.GetArray()) {
      if (std::string(e["service"].GetString()) != "route53" || action != e["action"].GetString()) continue;
      if (status >= 0 && !(e["status"].IsInt() && e["status"].GetInt() == status)) continue;
      ++n;
    }
    return n;
  }
};

}  // namespace

TEST_F(Route53CloudTest, ARecordOfAnotherAddressIsOtherAndAClaimMakesItOursWithItsFence) {
  auto b = node("10.0.1.11", "eni-0b00000b");
  auto r = b->read({kRecord}, 2);
  ASSERT_EQ(r.size(), 1u);
  ASSERT_FALSE(r[0].error) << r[0].error->describe();
  EXPECT_EQ(r[0].state, TargetState::Other);
  EXPECT_EQ(r[0].points_at, "10.0.1.10") << "an address no fence names is shown as the address";
  EXPECT_TRUE(r[0].fence_tags.empty());
  auto w = tag("node-b", "eni-0b00000b", 2);
  auto a = b->apply({{kRecord, false}}, "eni-0b00000b", w, 4);
  ASSERT_EQ(a.points.size(), 1u);
  EXPECT_TRUE(a.points[0].ok()) << a.points[0].error->describe();
  EXPECT_TRUE(a.fence_of(kRecord).ok());
  EXPECT_EQ(route53_count("ChangeResourceRecordSets", 200), 1) << "the record and its fence in one batch";
  r = b->read({kRecord}, 2);
  ASSERT_FALSE(r[0].error);
  EXPECT_EQ(r[0].state, TargetState::Ours);
  EXPECT_EQ(r[0].points_at, "eni-0b00000b");
  ASSERT_EQ(r[0].fence_tags.count(w.key), 1u);
  EXPECT_EQ(r[0].fence_tags.at(w.key), w.value);
  // What a resolver would be told, once in sync: the address and the fence's text.
  std::string zone = zone_state("Z0A00000000000000000A");
  EXPECT_NE(zone.find("10.0.1.11"), std::string::npos) << zone;
  EXPECT_NE(zone.find("_pg_vip.primary.db.example.internal."), std::string::npos) << zone;
}

TEST_F(Route53CloudTest, TwoNodesClaimingFromTheSameReadExactlyOneWins) {
  auto a = node("10.0.1.10", "eni-0a00000a");
  auto b = node("10.0.1.11", "eni-0b00000b");
  ASSERT_FALSE(a->read({kRecord}, 2)[0].error);
  ASSERT_FALSE(b->read({kRecord}, 2)[0].error);
  auto first = a->apply({{kRecord, false}}, "eni-0a00000a", tag("node-a", "eni-0a00000a", 2), 4);
  ASSERT_TRUE(first.points[0].ok()) << first.points[0].error->describe();
  auto second = b->apply({{kRecord, false}}, "eni-0b00000b", tag("node-b", "eni-0b00000b", 2), 4);
  ASSERT_TRUE(second.points[0].error) << "the second batch compared a fence that is gone";
  EXPECT_EQ(second.points[0].error->kind, aws::ErrorKind::Conflict);
  EXPECT_FALSE(second.points[0].error->permanent()) << "a lost race is not a configuration error";
  EXPECT_TRUE(second.fence_of(kRecord).error);
  // Nothing of the loser's landed: the record and its fence are the winner's.
  auto seen = b->read({kRecord}, 2);
  ASSERT_FALSE(seen[0].error);
  EXPECT_EQ(seen[0].state, TargetState::Other);
  EXPECT_EQ(seen[0].interface_id, "eni-0a00000a") << "the fence says whose address the record holds";
  EXPECT_EQ(seen[0].points_at, "eni-0a00000a");
  auto h = parse_fence_tag(seen[0].fence_tags.at(fence_tag_key(kVip, 2)));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->node_name, "node-a");
  // The loser may go again from what it read now: its batch compares the winner's fence.
  auto again = b->apply({{kRecord, false}}, "eni-0b00000b", tag("node-b", "eni-0b00000b", 3), 4);
  EXPECT_TRUE(again.points[0].ok()) << again.points[0].error->describe();
}

TEST_F(Route53CloudTest, NothingIsSentToARecordNotReadSinceItsLastBatchFailed) {
  auto a = node("10.0.1.10", "eni-0a00000a");
  auto b = node("10.0.1.11", "eni-0b00000b");
  a->read({kRecord}, 2);
  b->read({kRecord}, 2);
  a->apply({{kRecord, false}}, "eni-0a00000a", tag("node-a", "eni-0a00000a", 2), 4);
  b->apply({{kRecord, false}}, "eni-0b00000b", tag("node-b", "eni-0b00000b", 2), 4);  // lost
  int sent = route53_count("ChangeResourceRecordSets");
  // A point without a tag (as after a failed tag write) must not go unguarded.
  auto o = b->apply({{kRecord, false}}, "eni-0b00000b", {}, 4);
  ASSERT_TRUE(o.points[0].error);
  EXPECT_EQ(o.points[0].error->code, "NotReadSinceLastChange");
  EXPECT_EQ(route53_count("ChangeResourceRecordSets"), sent) << "no request";
}

TEST_F(Route53CloudTest, ThrottlingAndPriorRequestNotCompleteAreRetried) {
  auto b = node("10.0.1.11", "eni-0b00000b");
  b->read({kRecord}, 2);
  aws.control("faults", R"({"fail_next": {"count": 2, "status": 400, "code": "PriorRequestNotComplete",
                 "message": "The request was rejected because Route 53 was still processing a prior request.",
                 "service": "route53", "actions": ["ChangeResourceRecordSets"]}})");
  auto a = b->apply({{kRecord, false}}, "eni-0b00000b", tag("node-b", "eni-0b00000b", 2), 4);
  EXPECT_TRUE(a.points[0].ok()) << a.points[0].error->describe();
  EXPECT_EQ(route53_count("ChangeResourceRecordSets", 400), 2);
  EXPECT_EQ(route53_count("ChangeResourceRecordSets", 200), 1);
}

TEST_F(Route53CloudTest, ATxtRecordPgVipDidNotWriteIsAForeignFence) {
  // Someone else's TXT where the fence would be.
  fake::FakeAws other({}, {}, {R"(hosted_zones.Z0A00000000000000000A.records=[{"name": "primary.db.example.internal.",
                          "type": "A", "ttl": 60, "values": ["10.0.1.10"]}, {"name":
                          "_pg_vip.primary.db.example.internal.", "type": "TXT", "ttl": 60,
                          "values": ["\"v=spf1 -all\""]}])"});
  Route53Cloud b(options("10.0.1.11", false, &other), time);
  b.prepare("eni-0b00000b");
  auto r = b.read({kRecord}, 2);
  ASSERT_FALSE(r[0].error) << r[0].error->describe();
  ASSERT_EQ(r[0].fence_tags.size(), 1u);
  EXPECT_EQ(r[0].fence_tags.begin()->first, legacy_fence_tag_key(kVip));
  EXPECT_FALSE(parse_fence_tag(r[0].fence_tags.begin()->second)) << "not a tag: the controller keeps off";
}

TEST_F(Route53CloudTest, PrivateTakesThisInstancesAddressFromInstanceMetadata) {
  auto c = std::make_unique<Route53Cloud>(options("private", true), time);
  c->prepare("auto");
  EXPECT_EQ(c->address(), "10.0.1.10");
  auto r = c->read({kRecord}, 2);
  ASSERT_FALSE(r[0].error);
  EXPECT_EQ(r[0].state, TargetState::Ours) << "the record holds node a's private address";
  // No public address: a clear error naming the setting.
  auto p = std::make_unique<Route53Cloud>(options("public", true), time);
  try {
    p->prepare("auto");
    ADD_FAILURE() << "no public address, yet prepared";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.hint()).find("pg_vip.dns_value"), std::string::npos) << e.hint();
  }
}

TEST_F(Route53CloudTest, RouteTablesAndARecordMoveInOneClaim) {
  CloudSet set(std::make_unique<Ec2Cloud>(ec2_options(), time),
               std::make_unique<Route53Cloud>(options("10.0.1.11"), time));
  set.prepare("eni-0b00000b");
  std::vector<std::string> ids = {"rtb-0a000001", kRecord, "rtb-0a000002"};
  auto r = set.read(ids, 2);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].id, "rtb-0a000001");
  EXPECT_EQ(r[1].id, kRecord);
  EXPECT_EQ(r[2].id, "rtb-0a000002");
  for (const auto &t : r) EXPECT_FALSE(t.error) << t.id;
  Cloud::FenceWrite w = tag("node-b", "eni-0b00000b", 2);
  w.ids = ids;
  auto a = set.apply({{ids[0], false}, {ids[1], false}, {ids[2], false}}, "eni-0b00000b", w, 4);
  ASSERT_EQ(a.points.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(a.points[i].ok()) << ids[i];
  EXPECT_EQ(a.points[1].action, "ChangeResourceRecordSets");
  EXPECT_EQ(a.points[0].action, "ReplaceRoute");
  for (const auto &id : ids) EXPECT_TRUE(a.fence_of(id).ok()) << id;
  r = set.read(ids, 2);
  for (const auto &t : r) EXPECT_EQ(t.state, TargetState::Ours) << t.id;
}

// As the worker builds them (ec2_cloud_factory.cpp): the two Clouds share
// EC2's client, and a claim's record batch leaves in the same round trip as
// the routes' requests. Every answer takes 300 ms, so a batch sent after
// EC2's answers would arrive 300 ms after them. A throttled first attempt
// of the batch (an answer complete() handed over) is retried by the Cloud.
TEST_F(Route53CloudTest, ARecordsBatchLeavesWithTheRoutesInOneRoundTripAndIsRetriedWhenThrottled) {
  auto ec2 = std::make_unique<Ec2Cloud>(ec2_options(), time);
  Route53CloudOptions ro = options("10.0.1.11");
  Ec2Cloud *owner = ec2.get();
  int shared = 0;
  ro.http = [owner, &shared] {
    ++shared;
    return owner->http_client();
  };
  CloudSet set(std::move(ec2), std::make_unique<Route53Cloud>(ro, time));
  set.prepare("eni-0b00000b");
  EXPECT_EQ(shared, 1) << "Route 53's Cloud asked for EC2's client once, at prepare()";
  std::vector<std::string> ids = {"rtb-0a000001", kRecord, "rtb-0a000002"};
  for (const auto &t : set.read(ids, 2)) ASSERT_FALSE(t.error) << t.id;
  aws.control("faults", R"({"delay_ms": 300, "fail_next": {"count": 1, "service": "route53",
                            "actions": ["ChangeResourceRecordSets"], "status": 400, "code": "Throttling"}})");
  std::size_t before = aws.log().GetArray().Size();
  Cloud::FenceWrite w = tag("node-b", "eni-0b00000b", 2);
  w.ids = ids;
  auto a = set.apply({{ids[0], false}, {ids[1], false}, {ids[2], false}}, "eni-0b00000b", w, 4);
  aws.control("faults", R"({"clear": true})");
  for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(a.points[i].ok()) << ids[i];
  for (const auto &id : ids) EXPECT_TRUE(a.fence_of(id).ok()) << id;
  auto log = aws.log();
  std::vector<double> first;  // the receive times of each request's first attempt
  int batches = 0, throttled = 0;
  std::set<std::string> seen;
  for (rapidjson::SizeType i = static_cast<rapidjson::SizeType>(before); i < log.GetArray().Size(); ++i) {
    const auto &e = log[i];
    std::string action = e["action"].GetString();
    if (action != "ReplaceRoute" && action != "CreateTags" && action != "ChangeResourceRecordSets") continue;
    if (action == "ChangeResourceRecordSets") {
      ++batches;
      if (e["code"].IsString() && std::string(e["code"].GetString()) == "Throttling") ++throttled;
    }
    if (seen.insert(action + (e["params"].HasMember("RouteTableId") ? e["params"]["RouteTableId"].GetString() : ""))
            .second)
      first.push_back(e["t"].GetDouble());
  }
  EXPECT_EQ(first.size(), 4u) << "two ReplaceRoutes, a CreateTags and the batch";
  EXPECT_EQ(batches, 2) << "the throttled batch, then its retry";
  EXPECT_EQ(throttled, 1);
  ASSERT_FALSE(first.empty());
  auto [lo, hi] = std::minmax_element(first.begin(), first.end());
  EXPECT_LT(*hi - *lo, 0.25) << "every first attempt arrived within one answer's time";
  // Route 53 throttled this node: a read right after gives way to its send
  // rate (nothing sent), EC2's go on; once the rate allows, the record reads.
  for (const auto &t : set.read(ids, kCheckAttempts)) {
    if (t.id == kRecord) {
      ASSERT_TRUE(t.error) << "a check sent at once after a throttle";
      EXPECT_EQ(t.error->code, "ClientThrottled");
    } else {
      EXPECT_EQ(t.state, TargetState::Ours) << t.id;
    }
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  for (const auto &t : set.read(ids, kCheckAttempts)) EXPECT_EQ(t.state, TargetState::Ours) << t.id;
}

// Several records are read in one round trip: every record's two
// listings at once (every answer takes 300 ms: one record after another
// would take 300 ms each). A record that does not exist is missing, the
// others unaffected.
TEST_F(Route53CloudTest, SeveralRecordsAreReadInOneRoundTrip) {
  auto b = node("10.0.1.11", "eni-0b00000b");
  const std::string absent = "Z0A00000000000000000A:replica.db.example.internal.";
  std::size_t before = aws.log().GetArray().Size();
  aws.control("faults", R"({"delay_ms": 300})");
  auto r = b->read({kRecord, absent}, 2);
  aws.control("faults", R"({"clear": true})");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].id, kRecord);
  EXPECT_FALSE(r[0].error);
  EXPECT_EQ(r[0].state, TargetState::Other);
  EXPECT_EQ(r[1].id, absent);
  EXPECT_FALSE(r[1].error);
  EXPECT_EQ(r[1].state, TargetState::Missing);
  auto log = aws.log();
  std::vector<double> t;
  for (rapidjson::SizeType i = static_cast<rapidjson::SizeType>(before); i < log.GetArray().Size(); ++i)
    if (std::string(log[i]["action"].GetString()) == "ListResourceRecordSets") t.push_back(log[i]["t"].GetDouble());
  ASSERT_EQ(t.size(), 4u) << "two listings per record";
  auto [lo, hi] = std::minmax_element(t.begin(), t.end());
  EXPECT_LT(*hi - *lo, 0.25) << "every listing arrived within one answer's time";
}

TEST_F(Route53CloudTest, ABatchWhoseAnswerWasLostIsNeitherAConfigurationErrorNorALostRace) {
  auto b = node("10.0.1.11", "eni-0b00000b");
  b->read({kRecord}, 2);
  // Route 53 applies the batch and its answer is lost; the retry of the same
  // batch (the client's, or libcurl's own on the dead connection) is refused:
  // the fence it would create exists, its own.
  aws.control("faults",
              R"({"lose_answer_next": {"count": 1, "service": "route53", "actions": ["ChangeResourceRecordSets"]}})");
  auto a = b->apply({{kRecord, false}}, "eni-0b00000b", tag("node-b", "eni-0b00000b", 2), 4);
  ASSERT_TRUE(a.points[0].error) << "a refused retry is no success";
  EXPECT_FALSE(a.points[0].error->permanent())
      << "perhaps applied: the next read tells, and no slow pace for a configuration error: "
      << a.points[0].error->describe();
  EXPECT_EQ(a.points[0].error->kind, aws::ErrorKind::Conflict) << a.points[0].error->describe();
  auto r = b->read({kRecord}, 2);
  ASSERT_FALSE(r[0].error);
  EXPECT_EQ(r[0].state, TargetState::Ours) << "the first attempt was applied";
}

TEST_F(Route53CloudTest, ARecordAlreadyHereGetsTheSettingsTtlWithTheFence) {
  // The world's record holds node a's address with TTL 60 (made before pg_vip).
  auto a = node("10.0.1.10", "eni-0a00000a");
  auto r = a->read({kRecord}, 2);
  ASSERT_EQ(r[0].state, TargetState::Ours);
  auto w = a->apply({}, "eni-0a00000a", tag("node-a", "eni-0a00000a", 1), 4);
  ASSERT_TRUE(w.fence_of(kRecord).ok());
  std::string zone = zone_state("Z0A00000000000000000A");
  EXPECT_NE(zone.find(R"("name": "primary.db.example.internal.", "type": "A", "ttl": 10)"), std::string::npos) << zone;
  // A renewal then writes the fence alone: the address is as this node writes it.
  a->read({kRecord}, 2);
  int before = route53_count("ChangeResourceRecordSets", 200);
  a->apply({}, "eni-0a00000a", tag("node-a", "eni-0a00000a", 1), 4);
  EXPECT_EQ(route53_count("ChangeResourceRecordSets", 200), before + 1);
}

// Credentials another Cloud owns (the role's) and cannot make ready: every
// record's read and batch carries that error, as AssumeRole's, and nothing
// is sent to Route 53; once they are ready again the record is read. The
// readiness is asked before each read and batch, so a reload's role
// reaches the records even when no other kind's request would ask.
TEST_F(Route53CloudTest, CredentialsThatCannotBeMadeReadyAreEveryRecordsErrorAndNothingIsSent) {
  Clock clock;
  aws::CredentialProvider shared(aws::CredentialOptions{}, fake::static_key_env(false), nullptr, clock);
  std::optional<aws::AwsError> problem =
      aws::AwsError{aws::ErrorKind::Authorization, 403, "AccessDenied", "the role cannot be assumed", ""};
  int asked = 0;
  Route53CloudOptions o = options("10.0.1.11");
  o.credentials = [&shared]() -> aws::CredentialSource * { return &shared; };
  o.credentials_ready = [&] {
    ++asked;
    return problem;
  };
  Route53Cloud b(o, time);
  b.prepare("eni-0b00000b");
  int reads = route53_count("ListResourceRecordSets"), changes = route53_count("ChangeResourceRecordSets");
  auto r = b.read({kRecord}, 2);
  ASSERT_TRUE(r[0].error);
  EXPECT_EQ(r[0].error->code, "AccessDenied");
  EXPECT_EQ(r[0].failed_action, "AssumeRole");
  auto a = b.apply({{kRecord, false}}, "eni-0b00000b", tag("node-b", "eni-0b00000b", 2), 4);
  ASSERT_TRUE(a.points[0].error);
  EXPECT_EQ(a.points[0].action, "AssumeRole");
  EXPECT_TRUE(a.fence_of(kRecord).error);
  EXPECT_EQ(route53_count("ListResourceRecordSets"), reads) << "no read was sent";
  EXPECT_EQ(route53_count("ChangeResourceRecordSets"), changes) << "no batch was sent";
  problem.reset();
  r = b.read({kRecord}, 2);
  EXPECT_FALSE(r[0].error) << r[0].error->describe();
  EXPECT_EQ(asked, 3) << "asked before each read and batch";
}

// pg_vip.dns_value = elastic: the record takes the first Elastic IP's
// public address, read once with DescribeAddresses by allocation id.
TEST_F(Route53CloudTest, ElasticTakesTheFirstElasticIpsPublicAddressReadOnce) {
  Clock clock;
  aws::CredentialProvider keys(aws::CredentialOptions{}, fake::static_key_env(false), nullptr, clock);
  aws::ElasticIpLookupOptions lookup;
  lookup.region = "us-east-1";
  lookup.ec2_endpoint = aws.ec2_url();
  lookup.env = fake::static_key_env(false);
  EXPECT_EQ(aws::elastic_ip_public_address(lookup, "eipalloc-0a000002", keys, time), "198.51.100.11");
  try {
    aws::elastic_ip_public_address(lookup, "eipalloc-0a0000ff", keys, time);
    ADD_FAILURE() << "an allocation that does not exist has no address";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("eipalloc-0a0000ff"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.hint()).find("pg_vip.elastic_ips"), std::string::npos) << e.hint();
  }

  int lookups = 0;
  Route53CloudOptions o = options("elastic");
  o.elastic_ip = "eipalloc-0a000002";
  o.elastic_ip_address = [&](const std::string &id) {
    ++lookups;
    return aws::elastic_ip_public_address(lookup, id, keys, time);
  };
  Route53Cloud b(o, time);
  b.prepare("eni-0b00000b");
  EXPECT_EQ(b.address(), "198.51.100.11");
  ASSERT_FALSE(b.read({kRecord}, 2)[0].error);
  auto a = b.apply({{kRecord, false}}, "eni-0b00000b", tag("node-b", "eni-0b00000b", 2), 4);
  ASSERT_TRUE(a.points[0].ok()) << a.points[0].error->describe();
  EXPECT_NE(zone_state("Z0A00000000000000000A").find("198.51.100.11"), std::string::npos);
  auto r = b.read({kRecord}, 2);
  EXPECT_EQ(r[0].state, TargetState::Ours) << "the record holds the Elastic IP's address: this node's";
  b.prepare("eni-0b00000b");
  EXPECT_EQ(lookups, 1) << "an allocation's public address is read once";
}

TEST_F(Route53CloudTest, ElasticWithoutAnElasticIpSaysWhatToSet) {
  Route53CloudOptions o = options("elastic");
  o.elastic_ip_address = [](const std::string &) -> std::string { return "198.51.100.11"; };
  Route53Cloud b(o, time);
  try {
    b.prepare("eni-0b00000b");
    ADD_FAILURE() << "elastic needs pg_vip.elastic_ips";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("pg_vip.elastic_ips is empty"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.hint()).find("Set pg_vip.elastic_ips"), std::string::npos) << e.hint();
  }
}
