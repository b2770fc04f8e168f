// STS AssumeRole: the checked request, the signed POST, the answer read
// without leaking its secrets into messages, every error form, and the
// cache's renewal timing on a fixed clock.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "core/crypto.hpp"
#include "core/sts.hpp"
#include "unit/scripted_aws.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;
using namespace std::chrono;

namespace {

const Clock::time_point kWhen = parse_iso8601("2015-08-30T12:36:00Z");
const char *kArn = "arn:aws:iam::123456789012:role/dns/pg_vip-route53";
const char *kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
const char *kToken = "FwoGZXIvYXdzEBYaDCuc+Yl/3lZ3r9vQyiLAASW9eD1l1y5Z0T0k==";

std::string answer_body(const std::string &expiration, const char *ns = "https://sts.amazonaws.com/doc/2011-06-15/") {
  return std::string("<AssumeRoleResponse xmlns=\"") + ns +
         "\">\n  <AssumeRoleResult>\n    <SourceIdentity>DevUser123</SourceIdentity>\n"
         "    <AssumedRoleUser>\n      <Arn>arn:aws:sts::123456789012:assumed-role/pg_vip-route53/db-a</Arn>\n"
         "      <AssumedRoleId>ARO123EXAMPLE123:db-a</AssumedRoleId>\n    </AssumedRoleUser>\n"
         "    <Credentials>\n      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>\n"
         "      <SecretAccessKey>" +
         kSecret + "</SecretAccessKey>\n      <SessionToken>\n       " + kToken +
         "\n      </SessionToken>\n      <Expiration>" + expiration +
         "</Expiration>\n    </Credentials>\n    <PackedPolicySize>6</PackedPolicySize>\n  </AssumeRoleResult>\n"
         "  <ResponseMetadata>\n    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n"
         "  </ResponseMetadata>\n</AssumeRoleResponse>";
}

std::string sts_error(const char *code, const char *message) {
  return std::string("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
                     "<Code>") +
         code + "</Code><Message>" + message + "</Message></Error><RequestId>r-9</RequestId></ErrorResponse>";
}

AssumeRoleOptions options() {
  AssumeRoleOptions o;
  o.request = {kArn, "db-a", "", seconds(3600)};
  o.endpoint = "https://sts.eu-west-1.amazonaws.com";
  o.region = "eu-west-1";
  o.retry = scripted::no_sleep(nullptr, 3);
  return o;
}

std::string replaced(std::string s, const std::string &what, const std::string &with) {
  auto at = s.find(what);
  if (at != std::string::npos) s.replace(at, what.size(), with);
  return s;
}

AwsError malformed_from(const std::string &body) {
  try {
    parse_assume_role(body, kArn);
  } catch (const AwsFailure &f) {
    return f.error();
  }
  ADD_FAILURE() << "expected AwsFailure for " << body.substr(0, 120);
  return {};
}

struct Rig {
  FixedClock clock{kWhen};
  scripted::Transport transport;
  scripted::Credentials base;
  AssumeRoleProvider provider;
  explicit Rig(AssumeRoleOptions o = options()) : provider(transport.function(), base, std::move(o), clock) {}
  void answers_expiring_at(Clock::time_point t) {
    transport.script.push_back(scripted::answer(200, answer_body(iso8601(t))));
  }
};

}  // namespace

TEST(StsChecks, RoleArns) {
  for (const char *good : {"arn:aws:iam::123456789012:role/pg_vip", "arn:aws-cn:iam::123456789012:role/a/b/c",
                           "arn:aws-us-gov:iam::123456789012:role/x+=,.@-_", kArn}) {
    EXPECT_NO_THROW(check_role_arn(good)) << good;
  }
  for (const std::string &bad :
       {std::string(""), std::string("arn:aws:iam::123456789012:user/pg_vip"),
        std::string("arn:aws:iam::12345678901:role/x"), std::string("arn:aws:iam::1234567890123:role/x"),
        std::string("arn:aws:iam:eu-west-1:123456789012:role/x"), std::string("arn:aws:sts::123456789012:role/x"),
        std::string("arn:AWS:iam::123456789012:role/x"), std::string("arn:aws:iam::123456789012:role/"),
        std::string("arn:aws:iam::123456789012:role/a//b"), std::string("arn:aws:iam::123456789012:role//a"),
        std::string("arn:aws:iam::123456789012:role/a b"),
        std::string("arn:aws:iam::123456789012:role/") + std::string(65, 'n'),
        std::string("arn:aws:iam::123456789012:role/x&Action=GetSessionToken"),
        std::string("arn:aws:iam::12345678901a:role/x"), std::string("arn:aws:iam::123456789012:role/x\n")}) {
    EXPECT_THROW(check_role_arn(bad), ConfigError) << bad;
  }
}

TEST(StsChecks, SessionNamesExternalIdsDurations) {
  EXPECT_NO_THROW(check_role_session_name("db-a"));
  EXPECT_NO_THROW(check_role_session_name(std::string(64, 'a')));
  for (const std::string &bad : {std::string("a"), std::string(65, 'a'), std::string("db a"), std::string("db/a")})
    EXPECT_THROW(check_role_session_name(bad), ConfigError) << bad;
  EXPECT_NO_THROW(check_external_id(""));
  EXPECT_NO_THROW(check_external_id("Unique:ID/1234"));
  EXPECT_NO_THROW(check_external_id(std::string(1224, 'x')));
  for (const std::string &bad :
       {std::string("Z"), std::string(1225, 'Z'), std::string("Zq Zq"), std::string("Zq&Zq")}) {
    try {
      check_external_id(bad);
      ADD_FAILURE() << bad;
    } catch (const ConfigError &e) {
      EXPECT_EQ((std::string(e.what()) + e.detail()).find(bad), std::string::npos);  // never shown
    }
  }
  EXPECT_NO_THROW(check_duration(seconds(900)));
  EXPECT_NO_THROW(check_duration(seconds(43200)));
  EXPECT_THROW(check_duration(seconds(899)), ConfigError);
  EXPECT_THROW(check_duration(seconds(43201)), ConfigError);
  EXPECT_EQ(AssumeRoleRequest{}.duration, seconds(3600));
}

TEST(StsRequests, TheFormBody) {
  EXPECT_EQ(assume_role_form({kArn, "db-a", "", seconds(3600)}),
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdns%2F"
            "pg_vip-route53&RoleSessionName=db-a&DurationSeconds=3600");
  EXPECT_EQ(assume_role_form({kArn, "db+a@x", "ext:1/2", seconds(900)}),
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdns%2F"
            "pg_vip-route53&RoleSessionName=db%2Ba%40x&DurationSeconds=900&ExternalId=ext%3A1%2F2");
  EXPECT_THROW(assume_role_form({"arn:aws:iam::1:role/x", "db-a", "", seconds(3600)}), ConfigError);
}

TEST(StsRequests, TheSignedPost) {
  Rig rig;
  http::Request r = rig.provider.build();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://sts.eu-west-1.amazonaws.com/");
  EXPECT_EQ(r.body, assume_role_form(options().request));
  EXPECT_EQ(scripted::canonical_request_of(r, "/", ""),
            "POST\n/\n\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\n"
            "host:sts.eu-west-1.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:TOKEN\n\n"
            "content-type;host;x-amz-date;x-amz-security-token\n" +
                crypto::sha256_hex(r.body));
  const http::Header *auth = http::find_header(r.headers, "Authorization");
  ASSERT_NE(auth, nullptr);
  EXPECT_EQ(auth->value.rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/sts/aws4_request, ", 0), 0u);
  EXPECT_EQ(rig.base.gets, 1);
}

TEST(StsRequests, ConstructionChecksEverything) {
  FixedClock clock(kWhen);
  scripted::Transport t;
  scripted::Credentials base;
  AssumeRoleOptions no_region = options();
  no_region.region.clear();
  EXPECT_THROW(AssumeRoleProvider(t.function(), base, no_region, clock), Error);
  AssumeRoleOptions bad_url = options();
  bad_url.endpoint = "sts.amazonaws.com";
  EXPECT_THROW(AssumeRoleProvider(t.function(), base, bad_url, clock), ConfigError);
  AssumeRoleOptions bad_arn = options();
  bad_arn.request.role_arn = "arn:aws:iam::123456789012:user/x";
  EXPECT_THROW(AssumeRoleProvider(t.function(), base, bad_arn, clock), ConfigError);
}

TEST(StsAnswers, ARealAnswer) {
  Credentials c = parse_assume_role(answer_body("2015-08-30T13:36:00Z"), kArn);
  EXPECT_EQ(c.access_key_id, "ASIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(c.secret_access_key.reveal(), kSecret);
  // The token without the white space around it (STS sends none).
  EXPECT_EQ(c.session_token.reveal(), kToken);
  ASSERT_TRUE(c.expiration.has_value());
  EXPECT_EQ(iso8601(*c.expiration), "2015-08-30T13:36:00Z");
  EXPECT_EQ(c.source, std::string("assume-role ") + kArn);

  // STS's element order does not matter, nor a long token.
  std::string reordered = answer_body("2015-08-30T13:36:00Z");
  auto ak = reordered.find("<AccessKeyId>");
  std::string ak_element = reordered.substr(ak, reordered.find("</AccessKeyId>") + 14 - ak);
  reordered.erase(ak, ak_element.size());
  reordered.insert(reordered.find("</Credentials>"), ak_element);
  EXPECT_EQ(parse_assume_role(reordered, kArn).access_key_id, "ASIAIOSFODNN7EXAMPLE");
  std::string big_token(20000, 'T');
  std::string big = answer_body("2015-08-30T13:36:00Z");
  big.replace(big.find(kToken), std::strlen(kToken), big_token);
  EXPECT_EQ(parse_assume_role(big, kArn).session_token.reveal(), big_token);
}

TEST(StsAnswers, HostileAnswersAreMalformedAndNeverShowTheSecret) {
  std::string good = answer_body("2015-08-30T13:36:00Z");
  auto without = [&](const char *element) {
    std::string s = good;
    auto open = s.find(std::string("<") + element + ">");
    auto close = s.find(std::string("</") + element + ">");
    return s.erase(open, close + std::strlen(element) + 3 - open);
  };
  std::string moved = good;  // credentials outside AssumeRoleResult
  moved.replace(moved.find("<AssumeRoleResult>"), 18, "<Other>");
  moved.replace(moved.find("</AssumeRoleResult>"), 19, "</Other>");
  const std::string cases[] = {
      "",
      "not xml",
      good.substr(0, good.size() / 2),
      answer_body("2015-08-30T13:36:00Z", "https://sts.amazonaws.com/doc/2011-06-14/"),
      without("SecretAccessKey"),
      without("SessionToken"),
      without("AccessKeyId"),
      without("Expiration"),
      answer_body("tomorrow"),
      answer_body("1969-12-31T23:59:59Z"),
      moved,
      "<!DOCTYPE x [<!ENTITY s \"secret\">]>" + good,
      good + "<!-- trailing -->" + std::string(9u << 20, ' '),
      std::string("\xff\xfe<\0A\0", 6) + good,
      "<?xml version=\"1.0\" encoding=\"UTF-16\"?>" + good + "\xc3\xa9",
      good.substr(0, good.find("</SecretAccessKey>")) + "<![CDATA[x]]>" + good.substr(good.find("</SecretAccessKey>")),
      replaced(good, kSecret, "a&amp;b"),   // an entity: not base64
      replaced(good, kSecret, "ab<x/>cd"),  // markup inside
      replaced(good, "<SecretAccessKey>", "<SecretAccessKey a=\"1\">"),
      replaced(good, "<Expiration>", "<SecretAccessKey>x</SecretAccessKey><Expiration>"),  // two
      replaced(good, "<Credentials>", "<Credentials><!-- <SessionToken>x</SessionToken> -->"),
      // The secret moved out of Credentials: the marks are not where STS puts them.
      replaced(replaced(good, "<SourceIdentity>DevUser123</SourceIdentity>", ""), "<SecretAccessKey>", "<Other>"),
      sts_error("AccessDenied", "no"),
  };
  for (const auto &body : cases) {
    AwsError e = malformed_from(body);
    EXPECT_EQ(e.kind, ErrorKind::Malformed) << body.substr(0, 200);
    EXPECT_EQ(e.message.find(kSecret), std::string::npos);
    EXPECT_EQ(e.message.find(kToken), std::string::npos);
  }
}

TEST(StsProvider, CachedThenRenewedRefreshAheadBeforeExpiry) {
  Rig rig;
  rig.answers_expiring_at(kWhen + hours(1));
  rig.answers_expiring_at(kWhen + hours(2));
  const Credentials &first = rig.provider.get();
  EXPECT_EQ(first.secret_access_key.reveal(), kSecret);
  EXPECT_EQ(rig.transport.sent.size(), 1u);
  rig.clock.advance(seconds(3600 - 300 - 1));  // one second before the renewal
  rig.provider.get();
  EXPECT_EQ(rig.transport.sent.size(), 1u);
  rig.clock.advance(seconds(1));
  const Credentials &second = rig.provider.get();
  EXPECT_EQ(rig.transport.sent.size(), 2u);
  EXPECT_EQ(iso8601(*second.expiration), iso8601(kWhen + hours(2)));
  EXPECT_EQ(rig.base.gets, 2);  // the chain signed both requests
}

TEST(StsProvider, ShortLivedCredentialsAreRenewedHalfWay) {
  AssumeRoleOptions o = options();
  o.refresh_ahead = seconds(900);
  Rig rig(o);
  rig.answers_expiring_at(kWhen + seconds(900));
  rig.answers_expiring_at(kWhen + seconds(2000));
  rig.provider.get();
  rig.clock.advance(seconds(449));
  rig.provider.get();
  EXPECT_EQ(rig.transport.sent.size(), 1u);
  rig.clock.advance(seconds(1));
  rig.provider.get();
  EXPECT_EQ(rig.transport.sent.size(), 2u);
}

TEST(StsProvider, AFailedRenewalKeepsValidCredentialsAndWaitsBeforeAskingAgain) {
  Rig rig;
  rig.answers_expiring_at(kWhen + hours(1));
  rig.provider.get();
  rig.clock.advance(seconds(3600 - 200));  // in the renewal window, still valid
  for (int i = 0; i < 3; ++i) rig.transport.script.push_back(scripted::answer(503, "<html/>"));
  EXPECT_EQ(rig.provider.get().access_key_id, "ASIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(rig.transport.sent.size(), 4u);  // 1 + the 3 attempts of the renewal
  EXPECT_NE(rig.provider.last_failure().find("HTTP503"), std::string::npos);
  rig.clock.advance(seconds(29));
  rig.provider.get();
  EXPECT_EQ(rig.transport.sent.size(), 4u);  // not asked again yet
  rig.clock.advance(seconds(1));
  rig.answers_expiring_at(kWhen + hours(2));
  rig.provider.get();
  EXPECT_EQ(rig.transport.sent.size(), 5u);
  EXPECT_TRUE(rig.provider.last_failure().empty());
}

TEST(StsProvider, ExpiredCredentialsAreNeverServed) {
  Rig rig;
  rig.answers_expiring_at(kWhen + hours(1));
  rig.provider.get();
  rig.clock.advance(hours(1));
  rig.transport.script.push_back(scripted::answer(403, sts_error("AccessDenied", "User: x is not authorized")));
  try {
    rig.provider.get();
    FAIL() << "expected Error";
  } catch (const Error &e) {
    std::string all = std::string(e.what()) + e.detail() + e.hint();
    EXPECT_NE(all.find("cannot assume role arn:aws:iam::123456789012:role/dns/pg_vip-route53"), std::string::npos);
    EXPECT_NE(all.find("AccessDenied"), std::string::npos);
    EXPECT_NE(all.find("sts:AssumeRole"), std::string::npos);
    EXPECT_NE(all.find("scripted"), std::string::npos);  // where the signing credentials came from
    EXPECT_EQ(all.find(kSecret), std::string::npos);
    EXPECT_EQ(all.find("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), std::string::npos);
  }
  EXPECT_EQ(rig.transport.sent.size(), 2u);  // AccessDenied is not retried
}

TEST(StsProvider, InvalidateForgetsTheRole) {
  Rig rig;
  rig.answers_expiring_at(kWhen + hours(1));
  rig.answers_expiring_at(kWhen + hours(1));
  rig.provider.get();
  rig.provider.invalidate();
  rig.provider.get();
  EXPECT_EQ(rig.transport.sent.size(), 2u);
}

TEST(StsProvider, AnExpiredSigningTokenRenewsTheChainAndRetries) {
  Rig rig;
  rig.transport.script.push_back(scripted::answer(400, sts_error("ExpiredToken", "The security token included in "
                                                                                 "the request is expired")));
  rig.answers_expiring_at(kWhen + hours(1));
  EXPECT_EQ(rig.provider.get().access_key_id, "ASIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(rig.base.invalidations, 1);
  EXPECT_EQ(rig.transport.sent.size(), 2u);
}

TEST(StsProvider, NoBaseCredentialsIsAnError) {
  Rig rig;
  rig.base.fail = true;
  EXPECT_THROW(rig.provider.get(), Error);
  EXPECT_TRUE(rig.transport.sent.empty());
}

TEST(StsProvider, CredentialsInThePastAreRefused) {
  Rig rig;
  rig.answers_expiring_at(kWhen - seconds(1));
  try {
    rig.provider.get();
    FAIL();
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("before this host's time"), std::string::npos);
  }
}

TEST(StsProvider, SignsRoute53ThroughTheSeam) {
  // The provider is a CredentialSource: what Ec2Client and Route53Client take.
  Rig rig;
  rig.answers_expiring_at(kWhen + hours(1));
  CredentialSource &source = rig.provider;
  EXPECT_EQ(source.get().source, std::string("assume-role ") + kArn);
}

TEST(StsEndpoint, RegionalUnlessSet) {
  Environment none = [](const char *) -> std::optional<std::string> { return std::nullopt; };
  EXPECT_EQ(resolve_sts_endpoint("", none, "eu-west-1"), "https://sts.eu-west-1.amazonaws.com");
  EXPECT_EQ(resolve_sts_endpoint("", none, "cn-north-1"), "https://sts.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(resolve_sts_endpoint("http://127.0.0.1:7", none, ""), "http://127.0.0.1:7");
  Environment sts = [](const char *n) -> std::optional<std::string> {
    return std::string(n) == "AWS_ENDPOINT_URL_STS" ? std::optional<std::string>("http://s:1") : std::nullopt;
  };
  EXPECT_EQ(resolve_sts_endpoint("", sts, ""), "http://s:1");
  EXPECT_THROW(resolve_sts_endpoint("", none, ""), Error);
}
