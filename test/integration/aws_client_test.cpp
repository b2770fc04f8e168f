// The core's AWS client against the local endpoint, over real HTTP through
// libcurl. The endpoint checks every signature with botocore.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "common/test_support.hpp"
#include "core/credentials.hpp"
#include "core/ec2_client.hpp"
#include "core/ec2_xml.hpp"
#include "core/imds.hpp"
#include "fake_aws.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;
using namespace std::chrono;

namespace {

using test_support::env_of;

// Static keys from the environment; nothing read from disk or IMDS.
Environment static_env(const std::string &secret = fake::kSecret) {
  return env_of({{"AWS_ACCESS_KEY_ID", fake::kAccessKey},
                 {"AWS_SECRET_ACCESS_KEY", secret},
                 {"AWS_EC2_METADATA_DISABLED", "true"}});
}

// Everything the client says: retry lines, errors, hints, warnings.
struct Transcript {
  std::vector<std::string> lines;
  void add(const std::string &s) { lines.push_back(s); }
  void add(const Ec2Result &r) {
    if (r.error) {
      add(r.error->describe());
      add(r.error->hint());
    }
  }
  bool mentions(const std::string &needle) const {
    for (const auto &l : lines)
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }
};

RetryPolicy fast_policy(Transcript *t = nullptr, int attempts = 6) {
  RetryPolicy p;
  p.max_attempts = attempts;
  p.deadline = milliseconds(20000);
  p.backoff = Backoff{milliseconds(10), milliseconds(100)};
  if (t) p.log = [t](const std::string &line) { t->add(line); };
  return p;
}

class AwsClient : public testing::Test {
 protected:
  fake::FakeAws aws;
  Clock clock;
  http::Client http{{}};

  Ec2Options options(milliseconds timeout = milliseconds(2000)) {
    Ec2Options o;
    o.endpoint = aws.ec2_url();
    o.region = "us-east-1";
    o.timeout = timeout;
    return o;
  }
};

}  // namespace

TEST_F(AwsClient, SignedReplaceRouteAndDescribeAreAccepted) {
  CredentialProvider creds({}, static_env(), nullptr, clock);
  Ec2Client ec2(http, creds, options(), clock);
  Ec2Result r = ec2.call(replace_route("rtb-0a000001", "10.0.99.10/32", "eni-0b00000b"), fast_policy());
  ASSERT_TRUE(r.ok()) << r.error->describe();
  EXPECT_TRUE(parse_return(r.body));
  Ec2Result d = ec2.call(describe_route_tables({"rtb-0a000001", "rtb-0a000002"}), fast_policy());
  ASSERT_TRUE(d.ok()) << d.error->describe();
  auto tables = parse_route_tables(d.body);
  ASSERT_EQ(tables.size(), 2u);
  EXPECT_EQ(tables[0].find_route("10.0.99.10/32")->network_interface_id, "eni-0b00000b");
  EXPECT_EQ(tables[1].find_route("10.0.99.10/32")->network_interface_id, "eni-0a00000a");
  EXPECT_EQ(aws.count("ReplaceRoute", 200), 1);
  EXPECT_EQ(aws.count("DescribeRouteTables", 200), 1);
  auto log = aws.log();
  for (auto &e : log.GetArray()) {
    if (std::string(e["service"].GetString()) == "ec2") {
      EXPECT_STREQ(e["access_key"].GetString(), fake::kAccessKey);
    }
  }
}

TEST_F(AwsClient, CreateRouteTagsAndAttribute) {
  CredentialProvider creds({}, static_env(), nullptr, clock);
  Ec2Client ec2(http, creds, options(), clock);
  // ReplaceRoute on a table without the route: EC2's InvalidParameterValue, not retried.
  Ec2Result missing = ec2.call(replace_route("rtb-0a000003", "10.0.99.10/32", "eni-0b00000b"), fast_policy());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error->code, "InvalidParameterValue");
  EXPECT_EQ(missing.attempts, 1);
  Ec2Result created = ec2.call(create_route("rtb-0a000003", "10.0.99.10/32", "eni-0b00000b"), fast_policy());
  ASSERT_TRUE(created.ok()) << created.error->describe();
  Ec2Result again = ec2.call(create_route("rtb-0a000003", "10.0.99.10/32", "eni-0b00000b"), fast_policy());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error->code, "RouteAlreadyExists");
  EXPECT_EQ(again.error->kind, ErrorKind::Invalid);

  Ec2Result tagged =
      ec2.call(create_tags({"rtb-0a000001", "rtb-0a000003"}, {{"pg_vip:10.0.99.10/32", "tl=2;node=b"}}), fast_policy());
  ASSERT_TRUE(tagged.ok()) << tagged.error->describe();
  auto tables = parse_route_tables(ec2.call(describe_route_tables({"rtb-0a000003"}), fast_policy()).body);
  EXPECT_EQ(tables.at(0).tags.at("pg_vip:10.0.99.10/32"), "tl=2;node=b");

  Ec2Result attr = ec2.call(describe_network_interface_attribute("eni-0b00000b", "sourceDestCheck"), fast_policy());
  ASSERT_TRUE(attr.ok()) << attr.error->describe();
  EXPECT_TRUE(parse_network_interface_attribute_bool(attr.body, "sourceDestCheck"));
  Ec2Result nf = ec2.call(describe_route_tables({"rtb-0fffffff"}), fast_policy());
  ASSERT_FALSE(nf.ok());
  EXPECT_EQ(nf.error->kind, ErrorKind::NotFound);
  EXPECT_NE(nf.error->hint().find("pg_vip.route_tables"), std::string::npos);
}

TEST_F(AwsClient, WrongSecretIsRejectedWithATypedErrorAndNotRetried) {
  const std::string wrong = "not-the/right+secret/000";
  CredentialProvider creds({}, static_env(wrong), nullptr, clock);
  Ec2Client ec2(http, creds, options(), clock);
  Ec2Result r = ec2.call(replace_route("rtb-0a000001", "10.0.99.10/32", "eni-0b00000b"), fast_policy());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, "SignatureDoesNotMatch");
  EXPECT_EQ(r.error->kind, ErrorKind::Authentication);
  EXPECT_EQ(r.error->http_status, 403);
  EXPECT_FALSE(r.error->request_id.empty());
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(aws.count("ReplaceRoute"), 1);
  EXPECT_EQ(r.error->describe().find(wrong), std::string::npos);

  auto unknown = env_of({{"AWS_ACCESS_KEY_ID", "AKIDUNKNOWN000000"}, {"AWS_SECRET_ACCESS_KEY", "x"}});
  CredentialProvider creds2({}, unknown, nullptr, clock);
  Ec2Client ec2b(http, creds2, options(), clock);
  Ec2Result u = ec2b.call(describe_route_tables({"rtb-0a000001"}), fast_policy());
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error->code, "AuthFailure");
}

TEST_F(AwsClient, ThrottlingIsRetriedUntilSuccess) {
  aws.control("faults", R"({"fail_next": {"count": 3, "status": 503, "code": "RequestLimitExceeded",
                                          "actions": ["ReplaceRoute"]}})");
  CredentialProvider creds({}, static_env(), nullptr, clock);
  Ec2Client ec2(http, creds, options(), clock);
  Transcript t;
  Ec2Result r = ec2.call(replace_route("rtb-0a000001", "10.0.99.10/32", "eni-0b00000b"), fast_policy(&t));
  ASSERT_TRUE(r.ok()) << r.error->describe();
  EXPECT_EQ(r.attempts, 4);
  EXPECT_EQ(aws.count("ReplaceRoute", 503), 3);
  EXPECT_EQ(aws.count("ReplaceRoute", 200), 1);
  ASSERT_EQ(t.lines.size(), 3u);
  EXPECT_NE(t.lines[0].find("retrying ReplaceRoute rtb-0a000001"), std::string::npos) << t.lines[0];
  EXPECT_NE(t.lines[0].find("RequestLimitExceeded"), std::string::npos);
}

TEST_F(AwsClient, RetriesStopAtTheCallersLimit) {
  aws.control("faults", R"({"fail_next": {"count": 50, "status": 500, "code": "InternalError"}})");
  CredentialProvider creds({}, static_env(), nullptr, clock);
  Ec2Client ec2(http, creds, options(), clock);
  Ec2Result r = ec2.call(describe_route_tables({"rtb-0a000001"}), fast_policy(nullptr, 3));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->kind, ErrorKind::ServerError);
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(aws.count("DescribeRouteTables"), 3);
}

TEST_F(AwsClient, DroppedConnectionAndGarbageAreRetried) {
  CredentialProvider creds({}, static_env(), nullptr, clock);
  Ec2Client ec2(http, creds, options(), clock);
  aws.control("faults", R"({"drop_next": 1})");
  Ec2Result dropped = ec2.call(replace_route("rtb-0a000001", "10.0.99.10/32", "eni-0b00000b"), fast_policy());
  ASSERT_TRUE(dropped.ok()) << dropped.error->describe();
  EXPECT_EQ(dropped.attempts, 2);
  aws.control("faults", R"({"garbage_next": 1})");
  std::vector<Ec2Result> once = ec2.call_all({replace_route("rtb-0a000001", "10.0.99.10/32", "eni-0b00000b")});
  ASSERT_FALSE(once[0].ok());
  EXPECT_EQ(once[0].error->kind, ErrorKind::Malformed);
  EXPECT_TRUE(once[0].error->retryable());
}

TEST_F(AwsClient, AStalledEndpointEndsInATimeoutNotAHang) {
  aws.control("faults", R"({"stall_next": {"count": 1, "seconds": 20}})");
  CredentialProvider creds({}, static_env(), nullptr, clock);
  Ec2Client ec2(http, creds, options(milliseconds(300)), clock);
  auto start = steady_clock::now();
  Ec2Result r = ec2.call(describe_route_tables({"rtb-0a000001"}), fast_policy(nullptr, 1));
  auto took = duration_cast<milliseconds>(steady_clock::now() - start);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, "RequestTimeout");
  EXPECT_EQ(r.error->kind, ErrorKind::Transport);
  EXPECT_LT(took.count(), 10000) << "bounded by the 300 ms timeout, far from the 20 s stall";
}

TEST_F(AwsClient, TheCancelHookAbortsATransfer) {
  aws.control("faults", R"({"stall_next": {"count": 1, "seconds": 20}})");
  std::atomic<bool> stop{false};
  http::ClientOptions o;
  o.cancelled = [&] { return stop.load(); };
  http::Client cancellable(o);
  CredentialProvider creds({}, static_env(), nullptr, clock);
  Ec2Client ec2(cancellable, creds, options(milliseconds(15000)), clock);
  std::thread stopper([&] {
    std::this_thread::sleep_for(milliseconds(200));
    stop = true;
  });
  auto start = steady_clock::now();
  RetryPolicy p = fast_policy();
  p.cancelled = [&] { return stop.load(); };
  Ec2Result r = ec2.call(describe_route_tables({"rtb-0a000001"}), p);
  stopper.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, "Cancelled");
  EXPECT_LT(duration_cast<milliseconds>(steady_clock::now() - start).count(), 10000);
}

TEST_F(AwsClient, ParallelCallsReuseTheirConnections) {
  CredentialProvider creds({}, static_env(), nullptr, clock);
  Ec2Client ec2(http, creds, options(), clock);
  std::vector<Ec2Call> calls = {replace_route("rtb-0a000001", "10.0.99.10/32", "eni-0b00000b"),
                                replace_route("rtb-0a000002", "10.0.99.10/32", "eni-0b00000b"),
                                create_route("rtb-0a000003", "10.0.99.10/32", "eni-0b00000b")};
  auto first = ec2.call_all(calls);
  for (auto &r : first) ASSERT_TRUE(r.ok()) << r.error->describe();
  long opened = http.connections_opened();
  EXPECT_EQ(opened, 3) << "three calls at once, three connections";
  auto second = ec2.call_all({describe_route_tables({"rtb-0a000001"}), describe_route_tables({"rtb-0a000002"}),
                              describe_route_tables({"rtb-0a000003"})});
  for (auto &r : second) ASSERT_TRUE(r.ok());
  EXPECT_EQ(http.connections_opened(), opened) << "the second round reuses the warm connections";
  for (auto &t : parse_route_tables(second[0].body))
    EXPECT_EQ(t.find_route("10.0.99.10/32")->network_interface_id, "eni-0b00000b");
}

TEST_F(AwsClient, ResponsesOverTheCapAreRefused) {
  http::ClientOptions o;
  o.max_response_bytes = 64;
  http::Client small(o);
  CredentialProvider creds({}, static_env(), nullptr, clock);
  Ec2Client ec2(small, creds, options(), clock);
  Ec2Result r = ec2.call(describe_route_tables({"rtb-0a000001"}), fast_policy(nullptr, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, "ResponseTooLarge");
}

TEST_F(AwsClient, ImdsV2TokenIsFetchedOnceAndReused) {
  ImdsClient imds(http, {aws.imds_url_a(), milliseconds(1000), seconds(21600)}, clock);
  EXPECT_EQ(imds.instance_id(), "i-0a000001");
  EXPECT_EQ(imds.region(), "us-east-1");
  EXPECT_EQ(imds.primary_interface_id(), "eni-0a00000a");
  EXPECT_EQ(imds.tokens_fetched(), 1);
  EXPECT_EQ(aws.count_imds("PUT", "/latest/api/token"), 1);
  EXPECT_EQ(aws.count_imds("GET"), 4);
  try {
    imds.get("meta-data/no/such/path");
    FAIL();
  } catch (const AwsFailure &f) {
    EXPECT_EQ(f.error().kind, ErrorKind::NotFound);
  }
}

TEST_F(AwsClient, ImdsTokenIsRenewedAfterA401) {
  // The client believes its 2-second token is fresh (its clock stands
  // still); the service lets it expire and answers 401.
  FixedClock frozen(system_clock::now());
  ImdsClient imds(http, {aws.imds_url_a(), milliseconds(1000), seconds(2)}, frozen);
  EXPECT_EQ(imds.instance_id(), "i-0a000001");
  std::this_thread::sleep_for(milliseconds(2300));
  EXPECT_EQ(imds.instance_id(), "i-0a000001");
  EXPECT_EQ(imds.tokens_fetched(), 2);
  int unauthorized = 0;
  auto log = aws.log();
  for (auto &e : log.GetArray())
    if (std::string(e["service"].GetString()) == "imds" && e["status"].IsInt() && e["status"].GetInt() == 401)
      ++unauthorized;
  EXPECT_EQ(unauthorized, 1);
}

TEST_F(AwsClient, ImdsWithoutRoleOrServiceFailsClearly) {
  ImdsClient no_role(http, {aws.imds_url_b(), milliseconds(1000), seconds(21600)}, clock);
  try {
    no_role.role_credentials();
    FAIL();
  } catch (const AwsFailure &f) {
    EXPECT_EQ(f.error().kind, ErrorKind::NotFound);
  }
  ImdsClient nobody(http, {"http://127.0.0.1:9", milliseconds(300), seconds(21600)}, clock);
  try {
    nobody.instance_id();
    FAIL();
  } catch (const AwsFailure &f) {
    EXPECT_EQ(f.error().kind, ErrorKind::Transport);
    EXPECT_NE(std::string(f.what()).find("instance metadata service at http://127.0.0.1:9"), std::string::npos);
  }
}

TEST_F(AwsClient, RoleCredentialsAreRefreshedAheadOfExpiryAndAfterExpiredToken) {
  FixedClock creds_clock(system_clock::now());
  ImdsClient imds(http, {aws.imds_url_a(), milliseconds(1000), seconds(21600)}, creds_clock);
  CredentialProvider creds({}, env_of({{"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}, {"AWS_CONFIG_FILE", "/dev/null"}}),
                           &imds, creds_clock);
  Ec2Client ec2(http, creds, options(), clock);
  Transcript t;
  Ec2Result r1 = ec2.call(describe_route_tables({"rtb-0a000001"}), fast_policy(&t));
  ASSERT_TRUE(r1.ok()) << r1.error->describe();
  std::string key1 = creds.get().access_key_id;
  EXPECT_EQ(key1.rfind("ASIA", 0), 0u);
  EXPECT_EQ(creds.get().source, "instance role pg-vip-role");
  std::string secret1(creds.get().secret_access_key.reveal());

  // 55 minutes later the one-hour credentials are inside the refresh window.
  creds_clock.advance(seconds(55 * 60));
  std::string key2 = creds.get().access_key_id;
  EXPECT_NE(key2, key1);
  EXPECT_EQ(aws.count_imds("GET", "/latest/meta-data/iam/security-credentials/pg-vip-role"), 2);

  // Back to the present, where key2 is fresh; then the service expires it
  // early: ExpiredToken, refresh, retry.
  creds_clock.set(system_clock::now());
  EXPECT_EQ(creds.get().access_key_id, key2);
  aws.control("expire_role_credentials", "{}");
  Ec2Result r2 = ec2.call(replace_route("rtb-0a000001", "10.0.99.10/32", "eni-0b00000b"), fast_policy(&t));
  ASSERT_TRUE(r2.ok()) << r2.error->describe();
  EXPECT_EQ(r2.attempts, 2);
  EXPECT_EQ(aws.count("ReplaceRoute", 400), 1);
  EXPECT_NE(creds.get().access_key_id, key2);
  EXPECT_TRUE(t.mentions("ExpiredToken")) << testing::PrintToString(t.lines);

  for (std::string_view secret :
       {std::string_view(secret1), creds.get().secret_access_key.reveal(), creds.get().session_token.reveal()})
    EXPECT_FALSE(t.mentions(std::string(secret)));
}

TEST_F(AwsClient, TheSecretAppearsInNothingTheClientSays) {
  Transcript t;
  // Throttling, a bad signature, a missing route, a timeout, the file chain's warnings.
  aws.control("faults", R"({"fail_next": {"count": 2, "status": 503, "code": "RequestLimitExceeded"}})");
  CredentialProvider good({}, static_env(), nullptr, clock);
  Ec2Client ec2(http, good, options(milliseconds(500)), clock);
  t.add(ec2.call(replace_route("rtb-0a000001", "10.0.99.10/32", "eni-0b00000b"), fast_policy(&t)));
  t.add(ec2.call(replace_route("rtb-0a000003", "10.0.99.11/32", "eni-0b00000b"), fast_policy(&t)));
  aws.control("faults", R"({"stall_next": {"count": 1, "seconds": 5}})");
  t.add(ec2.call(describe_route_tables({"rtb-0a000001"}), fast_policy(&t, 1)));
  t.add(good.get().source);
  for (auto &w : good.take_warnings()) t.add(w);
  const std::string almost = std::string(fake::kSecret) + "x";
  CredentialProvider bad({}, static_env(almost), nullptr, clock);
  Ec2Client ec2_bad(http, bad, options(), clock);
  t.add(ec2_bad.call(describe_route_tables({"rtb-0a000001"}), fast_policy(&t)));
  ASSERT_GE(t.lines.size(), 6u);
  EXPECT_TRUE(t.mentions("SignatureDoesNotMatch"));
  EXPECT_TRUE(t.mentions("RequestLimitExceeded"));
  EXPECT_FALSE(t.mentions(fake::kSecret));
  EXPECT_FALSE(t.mentions("SECRET/9f3c"));
}
