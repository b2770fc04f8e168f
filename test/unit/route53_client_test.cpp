// The Route 53 client without a network: the exact signed requests it
// builds, and what it does with each kind of answer (retries, lost races,
// unknown outcomes, expired tokens), through a scripted transport.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <tuple>

#include "core/crypto.hpp"
#include "core/route53_client.hpp"
#include "core/route53_names.hpp"
#include "unit/scripted_aws.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;

namespace {

const Clock::time_point kWhen = parse_iso8601("2015-08-30T12:36:00Z");
const char *kNs = "https://route53.amazonaws.com/doc/2013-04-01/";

std::string header(const http::Request &r, const char *name) {
  const http::Header *h = http::find_header(r.headers, name);
  return h ? h->value : "(none)";
}

std::string change_info(const char *root, const char *status = "PENDING") {
  return std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<") + root + " xmlns=\"" + kNs +
         "\"><ChangeInfo><Id>/change/C2682N5HXP0BZ4</Id><Status>" + status +
         "</Status><SubmittedAt>2015-08-30T12:36:00.123Z</SubmittedAt></ChangeInfo></" + root + ">";
}

std::string error(const char *code, const char *message = "m") {
  return std::string("<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"") + kNs + "\"><Error><Type>Sender</Type><Code>" +
         code + "</Code><Message>" + message + "</Message></Error><RequestId>req-1</RequestId></ErrorResponse>";
}

std::string listing(const std::string &sets) {
  return std::string("<ListResourceRecordSetsResponse xmlns=\"") + kNs + "\"><ResourceRecordSets>" + sets +
         "</ResourceRecordSets><IsTruncated>true</IsTruncated><NextRecordName>zz.example.com.</NextRecordName>"
         "<NextRecordType>A</NextRecordType><MaxItems>1</MaxItems></ListResourceRecordSetsResponse>";
}

std::string record_set(const char *name, const char *type, const char *value, int ttl) {
  return std::string("<ResourceRecordSet><Name>") + name + "</Name><Type>" + type + "</Type><TTL>" +
         std::to_string(ttl) + "</TTL><ResourceRecords><ResourceRecord><Value>" + value +
         "</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>";
}

ChangeBatch cas_batch() {
  return compare_and_swap({"db.example.com", "A", 60, {"10.0.0.5"}}, "_fence.example.com",
                          RecordSet{"_fence.example.com.", "TXT", 30, {"\"tl=2\""}, {}, {}}, "tl=3", 30);
}

struct Rig {
  FixedClock clock{kWhen};
  scripted::Transport transport;
  scripted::Credentials credentials;
  Route53Client client{transport.function(), credentials, Route53Options{}, clock};
};

}  // namespace

TEST(Route53Requests, ListIsASignedGetWithTheQueryInTheUrl) {
  Rig rig;
  http::Request r = rig.client.build(list_resource_record_sets("/hostedzone/Z1D633PJN98FT9", "DB.example.com", "A", 1));
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(
      r.url,
      "https://route53.amazonaws.com/2013-04-01/hostedzone/Z1D633PJN98FT9/rrset?maxitems=1&name=db.example.com.&type=A");
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(header(r, "Host"), "route53.amazonaws.com");
  EXPECT_EQ(header(r, "Content-Type"), "(none)");
  EXPECT_EQ(header(r, "X-Amz-Date"), "20150830T123600Z");
  EXPECT_EQ(header(r, "X-Amz-Security-Token"), "TOKEN");
  EXPECT_EQ(scripted::canonical_request_of(r, "/2013-04-01/hostedzone/Z1D633PJN98FT9/rrset",
                                           "maxitems=1&name=db.example.com.&type=A"),
            "GET\n/2013-04-01/hostedzone/Z1D633PJN98FT9/rrset\nmaxitems=1&name=db.example.com.&type=A\n"
            "host:route53.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:TOKEN\n\n"
            "host;x-amz-date;x-amz-security-token\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // Global: signed for us-east-1 and route53, whatever the node's region.
  std::string auth = header(r, "Authorization");
  EXPECT_EQ(auth.rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/route53/aws4_request, "
                       "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=",
                       0),
            0u)
      << auth;
  EXPECT_EQ(auth.size() - auth.rfind('=') - 1, 64u);
}

TEST(Route53Requests, ChangeIsASignedPostOfTheBatchDocument) {
  Rig rig;
  ChangeBatch batch = cas_batch();
  http::Request r = rig.client.build(change_resource_record_sets("Z1D633PJN98FT9", batch));
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://route53.amazonaws.com/2013-04-01/hostedzone/Z1D633PJN98FT9/rrset/");
  EXPECT_EQ(r.body, change_batch_xml(batch));
  EXPECT_EQ(header(r, "Content-Type"), "application/xml");
  EXPECT_EQ(scripted::canonical_request_of(r, "/2013-04-01/hostedzone/Z1D633PJN98FT9/rrset/", ""),
            "POST\n/2013-04-01/hostedzone/Z1D633PJN98FT9/rrset/\n\n"
            "content-type:application/xml\nhost:route53.amazonaws.com\nx-amz-date:20150830T123600Z\n"
            "x-amz-security-token:TOKEN\n\ncontent-type;host;x-amz-date;x-amz-security-token\n" +
                crypto::sha256_hex(r.body));
  EXPECT_NE(header(r, "Authorization").find("/us-east-1/route53/aws4_request"), std::string::npos);
}

TEST(Route53Requests, GetChangeAndATestEndpoint) {
  FixedClock clock(kWhen);
  scripted::Transport transport;
  scripted::Credentials credentials("");  // long-term keys: no token header
  Route53Client client(transport.function(), credentials, {"http://127.0.0.1:8443", {}, {}}, clock);
  http::Request r = client.build(get_change("/change/C2682N5HXP0BZ4"));
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url, "http://127.0.0.1:8443/2013-04-01/change/C2682N5HXP0BZ4");
  EXPECT_EQ(header(r, "Host"), "127.0.0.1:8443");
  EXPECT_EQ(header(r, "X-Amz-Security-Token"), "(none)");
  EXPECT_NE(header(r, "Authorization").find("SignedHeaders=host;x-amz-date, "), std::string::npos);
}

TEST(Route53Requests, CallsCheckTheirIdsAndNames) {
  EXPECT_THROW(list_resource_record_sets("Z1/../x", "db.example.com", "A", 1), ConfigError);
  EXPECT_THROW(list_resource_record_sets("Z1", "db.example.com&type=TXT", "A", 1), ConfigError);
  EXPECT_THROW(get_change("C1?x"), ConfigError);
  EXPECT_EQ(list_resource_record_sets("Z1", "a.b", "", 9999).query, "maxitems=300&name=a.b.");
  EXPECT_EQ(list_resource_record_sets("Z1", "a.b", "TXT", 0).query, "maxitems=1&name=a.b.&type=TXT");
  EXPECT_EQ(get_change("C1").label(), "GetChange C1");
  scripted::Transport transport;
  scripted::Credentials credentials;
  Clock clock;
  EXPECT_THROW(Route53Client(transport.function(), credentials, {"ftp://x", {}, {}}, clock), ConfigError);
}

TEST(Route53Calls, ThrottlingAndPriorRequestNotCompleteAreRetried) {
  Rig rig;
  rig.transport.script.push_back(scripted::answer(400, error("Throttling", "Rate exceeded")));
  rig.transport.script.push_back(scripted::answer(400, error("PriorRequestNotComplete")));
  rig.transport.script.push_back(scripted::answer(200, change_info("ChangeResourceRecordSetsResponse")));
  std::vector<long> waits;
  std::vector<std::string> attempts;
  RetryPolicy p = scripted::no_sleep(&waits);
  p.on_attempt = [&](const Ec2Call &c, const Ec2Result &r) {
    attempts.push_back(c.action + ":" + (r.error ? r.error->code : "ok"));
  };
  std::vector<std::string> logged;
  p.log = [&](const std::string &line) { logged.push_back(line); };
  ChangeResult r = rig.client.change("Z1D633PJN98FT9", cas_batch(), p);
  ASSERT_TRUE(r.ok()) << r.error->describe();
  EXPECT_EQ(r.attempts, 3);
  EXPECT_FALSE(r.maybe_applied);  // refusals say nothing was applied
  EXPECT_EQ(r.change.id, "C2682N5HXP0BZ4");
  EXPECT_EQ(r.change.status, "PENDING");
  EXPECT_EQ(waits.size(), 2u);
  EXPECT_EQ(attempts, (std::vector<std::string>{"ChangeResourceRecordSets:Throttling",
                                                "ChangeResourceRecordSets:PriorRequestNotComplete",
                                                "ChangeResourceRecordSets:ok"}));
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_NE(logged[0].find("retrying ChangeResourceRecordSets Z1D633PJN98FT9"), std::string::npos);
  EXPECT_EQ(rig.transport.sent.size(), 3u);
}

TEST(Route53Calls, ALostRaceIsOneAttemptAndSaysSo) {
  Rig rig;
  rig.transport.script.push_back(scripted::answer(
      400, error("InvalidChangeBatch", "[Tried to delete resource record set [name='_fence.example.com.', "
                                       "type='TXT'] but the values provided do not match the current values]")));
  ChangeResult r = rig.client.change("Z1D633PJN98FT9", cas_batch(), scripted::no_sleep());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.attempts, 1);
  EXPECT_TRUE(r.lost_race());
  EXPECT_FALSE(r.maybe_applied);
  EXPECT_EQ(rig.transport.sent.size(), 1u);
}

TEST(Route53Calls, AnUnansweredAttemptMakesALaterRefusalNoVerdict) {
  for (auto first : {scripted::failure(http::Failure::Timeout), scripted::answer(500, error("InternalFailure")),
                     scripted::answer(200, "<html>proxy</html>")}) {
    Rig rig;
    rig.transport.script.push_back(first);
    rig.transport.script.push_back(scripted::answer(400, error("InvalidChangeBatch")));
    ChangeResult r = rig.client.change("Z1D633PJN98FT9", cas_batch(), scripted::no_sleep());
    EXPECT_EQ(r.attempts, 2);
    ASSERT_TRUE(r.error.has_value());
    EXPECT_EQ(r.error->code, "InvalidChangeBatch");
    EXPECT_TRUE(r.maybe_applied);
    EXPECT_FALSE(r.lost_race());  // perhaps our own first attempt: read again
  }
}

TEST(Route53Calls, PermanentErrorsAreNotRetried) {
  for (auto [status, code, kind] : {std::tuple{404L, "NoSuchHostedZone", ErrorKind::NotFound},
                                    std::tuple{403L, "AccessDenied", ErrorKind::Authorization},
                                    std::tuple{400L, "InvalidInput", ErrorKind::Invalid}}) {
    Rig rig;
    rig.transport.script.push_back(scripted::answer(status, error(code)));
    ChangeResult r = rig.client.change("Z1D633PJN98FT9", cas_batch(), scripted::no_sleep());
    ASSERT_TRUE(r.error.has_value());
    EXPECT_EQ(r.error->kind, kind) << code;
    EXPECT_EQ(r.attempts, 1) << code;
    EXPECT_FALSE(r.lost_race()) << code;
  }
}

TEST(Route53Calls, AttemptsAndDeadlineBoundTheRetries) {
  Rig rig;
  for (int i = 0; i < 10; ++i) rig.transport.script.push_back(scripted::failure(http::Failure::Connect));
  Route53Result r = rig.client.call(get_change("C1"), scripted::no_sleep(nullptr, 3));
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(r.error->kind, ErrorKind::Transport);
  EXPECT_EQ(r.error->code, "ConnectionFailed");

  Rig late;
  for (int i = 0; i < 10; ++i) late.transport.script.push_back(scripted::answer(503, "<html/>"));
  RetryPolicy p = scripted::no_sleep();
  p.deadline = std::chrono::milliseconds(0);
  EXPECT_EQ(late.client.call(get_change("C1"), p).attempts, 1);

  Rig cancelled;
  for (int i = 0; i < 10; ++i) cancelled.transport.script.push_back(scripted::answer(503, "<html/>"));
  RetryPolicy c = scripted::no_sleep();
  c.cancelled = [] { return true; };
  EXPECT_EQ(cancelled.client.call(get_change("C1"), c).attempts, 1);
}

TEST(Route53Calls, AnExpiredTokenRenewsTheCredentialsOnce) {
  Rig rig;
  rig.transport.script.push_back(scripted::answer(403, error("ExpiredToken", "The security token included in "
                                                                             "the request is expired")));
  rig.transport.script.push_back(scripted::answer(200, change_info("GetChangeResponse", "INSYNC")));
  ChangeResult r = rig.client.change_status("C2682N5HXP0BZ4", scripted::no_sleep());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.change.insync());
  EXPECT_EQ(rig.credentials.invalidations, 1);
  EXPECT_EQ(rig.credentials.gets, 2);  // one per signed request
}

TEST(Route53Calls, NoCredentialsFailsEveryCallWithoutSending) {
  Rig rig;
  rig.credentials.fail = true;
  TargetReadResult r = rig.client.read_target("Z1", "db.example.com", "A", "_f.example.com", scripted::no_sleep());
  ASSERT_TRUE(r.error.has_value());
  EXPECT_EQ(r.error->code, "NoCredentials");
  EXPECT_EQ(r.error->kind, ErrorKind::Authentication);
  EXPECT_FALSE(r.error->retryable());
  EXPECT_NE(r.error->message.find("no AWS credentials found"), std::string::npos);
  EXPECT_TRUE(rig.transport.sent.empty());
}

TEST(Route53Calls, ReadTargetListsBothRecordsInParallel) {
  Rig rig;
  rig.transport.script.push_back(scripted::answer(200, listing(record_set("db.example.com.", "A", "10.0.0.5", 60))));
  rig.transport.script.push_back(
      scripted::answer(200, listing(record_set("_fence.example.com.", "TXT", "\"tl=3;node=a\"", 30))));
  TargetReadResult r =
      rig.client.read_target("Z1D633PJN98FT9", "db.example.com", "A", "_fence.example.com", scripted::no_sleep());
  ASSERT_TRUE(r.ok()) << r.error->describe();
  ASSERT_EQ(rig.transport.sent.size(), 2u);
  EXPECT_NE(rig.transport.sent[0].url.find("?maxitems=1&name=db.example.com.&type=A"), std::string::npos);
  EXPECT_NE(rig.transport.sent[1].url.find("?maxitems=1&name=_fence.example.com.&type=TXT"), std::string::npos);
  ASSERT_TRUE(r.target.address.has_value());
  EXPECT_EQ(r.target.address->values, std::vector<std::string>{"10.0.0.5"});
  ASSERT_TRUE(r.target.fence.has_value());
  EXPECT_EQ(r.target.fence->text, "tl=3;node=a");
  EXPECT_EQ(r.target.fence->record.ttl, 30);
}

TEST(Route53Calls, ReadTargetWithoutTheRecordsAndWithABrokenAnswer) {
  Rig rig;
  // Neither exists: Route 53 lists what comes next.
  rig.transport.script.push_back(scripted::answer(200, listing(record_set("dc.example.com.", "A", "10.0.0.9", 60))));
  rig.transport.script.push_back(scripted::answer(200, listing("")));
  TargetReadResult r = rig.client.read_target("Z1", "db.example.com", "A", "_f.example.com", scripted::no_sleep());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.target.address.has_value());
  EXPECT_FALSE(r.target.fence.has_value());

  Rig broken;
  broken.transport.script.push_back(scripted::answer(200, listing("")));
  broken.transport.script.push_back(scripted::answer(200, std::string("<ListResourceRecordSetsResponse xmlns=\"") +
                                                              kNs +
                                                              "\"><ResourceRecordSets/>"
                                                              "</ListResourceRecordSetsResponse>"));
  TargetReadResult b = broken.client.read_target("Z1", "db.example.com", "A", "_f.example.com", scripted::no_sleep());
  ASSERT_TRUE(b.error.has_value());
  EXPECT_EQ(b.error->kind, ErrorKind::Malformed);
}

TEST(Route53Calls, AnswersThatAreNotRoute53sAreRetriedThenMalformed) {
  Rig rig;
  for (const char *body : {"", "<html>ok</html>", "<GetChangeResponse xmlns=\"https://example.com/\"/>"})
    rig.transport.script.push_back(scripted::answer(200, body));
  Route53Result r = rig.client.call(get_change("C1"), scripted::no_sleep(nullptr, 3));
  EXPECT_EQ(r.attempts, 3);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_EQ(r.error->kind, ErrorKind::Malformed);
  EXPECT_EQ(r.error->http_status, 200);
}

TEST(Route53Endpoint, SettingThenEnvironmentThenGlobal) {
  auto env = [](std::map<std::string, std::string> vars) -> Environment {
    return [vars](const char *name) -> std::optional<std::string> {
      auto it = vars.find(name);
      return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
  };
  EXPECT_EQ(resolve_route53_endpoint("", env({})), "https://route53.amazonaws.com");
  EXPECT_EQ(resolve_route53_endpoint("http://127.0.0.1:9", env({{"AWS_ENDPOINT_URL_ROUTE_53", "http://x:1"}})),
            "http://127.0.0.1:9");
  EXPECT_EQ(resolve_route53_endpoint(
                "", env({{"AWS_ENDPOINT_URL_ROUTE_53", "http://x:1/"}, {"AWS_ENDPOINT_URL", "http://y:2"}})),
            "http://x:1");
  EXPECT_EQ(resolve_route53_endpoint("", env({{"AWS_ENDPOINT_URL", "http://y:2"}})), "http://y:2");
  EXPECT_THROW(resolve_route53_endpoint("", env({{"AWS_ENDPOINT_URL", "not a url"}})), ConfigError);
}
