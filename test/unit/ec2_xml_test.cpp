// Every EC2 answer shape pg_vip reads, and the broken ones it must survive.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <functional>
#include <string>

#include "core/aws_error.hpp"
#include "core/ec2_client.hpp"
#include "core/ec2_xml.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;

namespace {

const char *kDescribe = R"(<?xml version="1.0" encoding="UTF-8"?>
<DescribeRouteTablesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>7b5a3f7e-0000-4000-8000-000000000001</requestId>
  <routeTableSet>
    <item>
      <routeTableId>rtb-0a000001</routeTableId>
      <vpcId>vpc-0a0b0c0d</vpcId>
      <ownerId>123456789012</ownerId>
      <routeSet>
        <item><destinationCidrBlock>10.0.0.0/16</destinationCidrBlock><gatewayId>local</gatewayId>
              <state>active</state><origin>CreateRouteTable</origin></item>
        <item><destinationCidrBlock>10.0.99.10/32</destinationCidrBlock><instanceId>i-0a000001</instanceId>
              <networkInterfaceId>eni-0a00000a</networkInterfaceId><state>blackhole</state><origin>CreateRoute</origin></item>
        <item><destinationIpv6CidrBlock>2001:db8::10/128</destinationIpv6CidrBlock>
              <networkInterfaceId>eni-0b00000b</networkInterfaceId><state>active</state><origin>CreateRoute</origin></item>
      </routeSet>
      <associationSet/>
      <tagSet><item><key>pg_vip:10.0.99.10/32</key><value>tl=3;node=a</value></item>
              <item><key>Name</key><value>private &amp; main</value></item></tagSet>
    </item>
    <item><routeTableId>rtb-0a000002</routeTableId><routeSet/><tagSet/></item>
  </routeTableSet>
</DescribeRouteTablesResponse>)";

AwsError malformed_of(void (*fn)()) {
  try {
    fn();
  } catch (const AwsFailure &f) {
    return f.error();
  }
  ADD_FAILURE() << "expected AwsFailure";
  return {};
}

}  // namespace

TEST(Ec2Xml, DescribeRouteTables) {
  auto tables = parse_route_tables(kDescribe);
  ASSERT_EQ(tables.size(), 2u);
  const RouteTable &t = tables[0];
  EXPECT_EQ(t.id, "rtb-0a000001");
  EXPECT_EQ(t.vpc_id, "vpc-0a0b0c0d");
  ASSERT_EQ(t.routes.size(), 3u);
  const Route *vip = t.find_route("10.0.99.10/32");
  ASSERT_NE(vip, nullptr);
  EXPECT_EQ(vip->network_interface_id, "eni-0a00000a");
  EXPECT_EQ(vip->instance_id, "i-0a000001");
  EXPECT_EQ(vip->state, "blackhole");
  EXPECT_EQ(t.find_route("10.0.0.0/16")->gateway_id, "local");
  EXPECT_EQ(t.find_route("2001:db8::10/128")->network_interface_id, "eni-0b00000b");
  EXPECT_EQ(t.find_route("10.9.9.9/32"), nullptr);
  EXPECT_EQ(t.tags.at("pg_vip:10.0.99.10/32"), "tl=3;node=a");
  EXPECT_EQ(t.tags.at("Name"), "private & main");
  EXPECT_TRUE(tables[1].routes.empty());
}

TEST(Ec2Xml, ReturnAndAttribute) {
  EXPECT_TRUE(parse_return(R"(<ReplaceRouteResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
      <requestId>r-1</requestId><return>true</return></ReplaceRouteResponse>)"));
  EXPECT_FALSE(parse_return("<CreateTagsResponse><requestId>r</requestId><return>false</return></CreateTagsResponse>"));
  EXPECT_EQ(
      parse_request_id("<CreateRouteResponse><requestId>abc</requestId><return>true</return></CreateRouteResponse>"),
      "abc");
}

TEST(Ec2Xml, ErrorDocuments) {
  AwsError e = parse_error(R"(<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors>
<RequestID>req-42</RequestID></Response>)",
                           503);
  EXPECT_EQ(e.code, "RequestLimitExceeded");
  EXPECT_EQ(e.message, "Request limit exceeded.");
  EXPECT_EQ(e.request_id, "req-42");
  EXPECT_EQ(e.http_status, 503);
  EXPECT_EQ(e.kind, ErrorKind::Throttled);
  EXPECT_TRUE(e.retryable());
  EXPECT_EQ(e.describe(), "RequestLimitExceeded: Request limit exceeded. (HTTP 503, request id req-42)");

  AwsError q = parse_error("<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error>"
                           "<RequestId>x</RequestId></ErrorResponse>",
                           403);
  EXPECT_EQ(q.kind, ErrorKind::Authorization);
  EXPECT_EQ(q.request_id, "x");
  EXPECT_FALSE(q.retryable());
  EXPECT_NE(q.hint().find("ec2:ReplaceRoute"), std::string::npos);

  // A load balancer's HTML page, an empty body, a truncated document.
  AwsError html = parse_error("<html><body>502 Bad Gateway</body></html>", 502);
  EXPECT_EQ(html.kind, ErrorKind::ServerError);
  EXPECT_EQ(html.code, "HTTP502");
  EXPECT_TRUE(html.retryable());
  EXPECT_EQ(parse_error("", 400).kind, ErrorKind::Malformed);
  EXPECT_EQ(parse_error("<Response><Errors><Error><Code>AuthFai", 401).code, "HTTP401");
  EXPECT_EQ(parse_error("<Response><Errors/></Response>", 400).code, "HTTP400");
}

TEST(Ec2Xml, ErrorDocumentsInEveryFormAndNamespace) {
  struct Case {
    const char *what;
    const char *body;
  };
  const Case cases[] = {
      {"ErrorResponse with EC2's default namespace",
       R"(<?xml version="1.0" encoding="UTF-8"?>
<ErrorResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><Error><Type>Sender</Type>
<Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error>
<RequestId>req-e1</RequestId></ErrorResponse>)"},
      {"ErrorResponse without a namespace",
       R"(<ErrorResponse><Error><Type>Sender</Type><Code>UnauthorizedOperation</Code>)"
       R"(<Message>You are not authorized to perform this operation.</Message></Error>)"
       R"(<RequestId>req-e1</RequestId></ErrorResponse>)"},
      {"ErrorResponse with a prefixed namespace",
       R"(<e:ErrorResponse xmlns:e="https://iam.amazonaws.com/doc/2010-05-08/"><e:Error><e:Type>Sender</e:Type>)"
       R"(<e:Code>UnauthorizedOperation</e:Code><e:Message>You are not authorized to perform this operation.</e:Message>)"
       R"(</e:Error><e:RequestId>req-e1</e:RequestId></e:ErrorResponse>)"},
      {"Response/Errors with EC2's namespace",
       R"(<?xml version="1.0" encoding="UTF-8"?>
<Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><Errors><Error><Code>UnauthorizedOperation</Code>
<Message>You are not authorized to perform this operation.</Message></Error></Errors>
<RequestID>req-e1</RequestID></Response>)"},
      {"Response/Errors without a namespace, RequestId spelled the other way",
       R"(<Response><Errors><Error><Code>UnauthorizedOperation</Code>)"
       R"(<Message>You are not authorized to perform this operation.</Message></Error></Errors>)"
       R"(<RequestId>req-e1</RequestId></Response>)"},
  };
  for (const Case &c : cases) {
    AwsError e = parse_error(c.body, 403);
    EXPECT_EQ(e.code, "UnauthorizedOperation") << c.what;
    EXPECT_EQ(e.message, "You are not authorized to perform this operation.") << c.what;
    EXPECT_EQ(e.request_id, "req-e1") << c.what;
    EXPECT_EQ(e.http_status, 403) << c.what;
    EXPECT_EQ(e.kind, ErrorKind::Authorization) << c.what;
    EXPECT_FALSE(e.retryable()) << c.what;
  }
  // The first error counts where EC2 lists several.
  AwsError two = parse_error("<Response><Errors><Error><Code>InvalidRouteTableID.NotFound</Code><Message>a</Message>"
                             "</Error><Error><Code>Other</Code><Message>b</Message></Error></Errors></Response>",
                             400);
  EXPECT_EQ(two.code, "InvalidRouteTableID.NotFound");
  EXPECT_EQ(two.kind, ErrorKind::NotFound);
  // A throttle in the ErrorResponse form is still a throttle.
  AwsError slow = parse_error(R"(<ErrorResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><Error>)"
                              R"(<Type>Sender</Type><Code>RequestLimitExceeded</Code><Message>slow down</Message>)"
                              R"(</Error><RequestId>r</RequestId></ErrorResponse>)",
                              503);
  EXPECT_EQ(slow.kind, ErrorKind::Throttled);
  EXPECT_TRUE(slow.retryable());
}

TEST(Ec2Xml, DescribeRouteTablesPages) {
  // Without <nextToken>: the last (or only) page.
  RouteTablePage last = parse_route_table_page(kDescribe);
  EXPECT_EQ(last.tables.size(), 2u);
  EXPECT_EQ(last.next_token, "");
  EXPECT_EQ(last.tables[0].id, "rtb-0a000001");

  const char *first_page = R"(<?xml version="1.0" encoding="UTF-8"?>
<DescribeRouteTablesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>p-1</requestId>
  <routeTableSet><item><routeTableId>rtb-0a000001</routeTableId><routeSet/><tagSet/></item></routeTableSet>
  <nextToken>eyJ2IjoiMiIsImMiOiJ0b2tlbiJ9+/=</nextToken>
</DescribeRouteTablesResponse>)";
  RouteTablePage page = parse_route_table_page(first_page);
  ASSERT_EQ(page.tables.size(), 1u);
  EXPECT_EQ(page.tables[0].id, "rtb-0a000001");
  EXPECT_EQ(page.next_token, "eyJ2IjoiMiIsImMiOiJ0b2tlbiJ9+/=");
  // parse_route_tables still returns just the tables.
  ASSERT_EQ(parse_route_tables(first_page).size(), 1u);
  EXPECT_EQ(parse_route_tables(kDescribe).size(), 2u);

  // An empty <nextToken/> or a page with no tables but a token.
  EXPECT_EQ(parse_route_table_page("<DescribeRouteTablesResponse><routeTableSet/><nextToken/>"
                                   "</DescribeRouteTablesResponse>")
                .next_token,
            "");
  RouteTablePage empty = parse_route_table_page(
      "<DescribeRouteTablesResponse><routeTableSet/><nextToken>t2</nextToken></DescribeRouteTablesResponse>");
  EXPECT_TRUE(empty.tables.empty());
  EXPECT_EQ(empty.next_token, "t2");
  EXPECT_EQ(malformed_of([] {
              parse_route_table_page("<DescribeRouteTablesResponse><nextToken>t</nextToken>"
                                     "</DescribeRouteTablesResponse>");
            }).kind,
            ErrorKind::Malformed);
}

TEST(Ec2Calls, DescribeRouteTablesContinuesWithNextToken) {
  EXPECT_EQ(form_body(describe_route_tables({"rtb-1"}, "")),
            "Action=DescribeRouteTables&Version=2016-11-15&RouteTableId.1=rtb-1");
  EXPECT_EQ(form_body(describe_route_tables({"rtb-1", "rtb-2"}, "tok/en+=")),
            "Action=DescribeRouteTables&Version=2016-11-15&RouteTableId.1=rtb-1&RouteTableId.2=rtb-2"
            "&NextToken=tok%2Fen%2B%3D");
  Ec2Call c = describe_route_tables({}, "abc");
  EXPECT_EQ(form_body(c), "Action=DescribeRouteTables&Version=2016-11-15&NextToken=abc");
  for (const auto &p : describe_route_tables({"rtb-1"}, "abc").params) EXPECT_NE(p.first, "MaxResults");
}

TEST(Ec2Xml, MalformedBodiesThrowMalformed) {
  EXPECT_EQ(malformed_of([] { parse_return(""); }).kind, ErrorKind::Malformed);
  EXPECT_EQ(malformed_of([] { parse_return("not xml at all"); }).kind, ErrorKind::Malformed);
  EXPECT_EQ(malformed_of([] { parse_return("<ReplaceRouteResponse><return>tr"); }).kind, ErrorKind::Malformed);
  EXPECT_EQ(malformed_of([] { parse_return("<ReplaceRouteResponse><requestId/></ReplaceRouteResponse>"); }).kind,
            ErrorKind::Malformed);
  EXPECT_EQ(
      malformed_of([] { parse_return("<ReplaceRouteResponse><return>yes</return></ReplaceRouteResponse>"); }).kind,
      ErrorKind::Malformed);
  EXPECT_EQ(malformed_of([] { parse_return("<Other><return>true</return></Other>"); }).kind, ErrorKind::Malformed);
  EXPECT_EQ(malformed_of([] { parse_route_tables("<DescribeRouteTablesResponse/>"); }).kind, ErrorKind::Malformed);
  EXPECT_EQ(malformed_of([] { parse_route_tables(std::string(kDescribe).substr(0, 400)); }).kind, ErrorKind::Malformed);
  EXPECT_EQ(malformed_of([] {
              parse_route_tables("<DescribeRouteTablesResponse><routeTableSet><item><vpcId>v</vpcId></item>"
                                 "</routeTableSet></DescribeRouteTablesResponse>");
            }).kind,
            ErrorKind::Malformed);
  EXPECT_EQ(malformed_of([] { parse_return(std::string("<a>\0\xff</a>", 9)); }).kind, ErrorKind::Malformed);
}

TEST(Ec2Xml, EntitiesAreNotExpandedFromOutside) {
  // An external entity must not be fetched or expanded.
  const char *xxe = R"(<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<DescribeRouteTablesResponse><routeTableSet><item><routeTableId>&x;</routeTableId></item></routeTableSet>
</DescribeRouteTablesResponse>)";
  try {
    auto t = parse_route_tables(xxe);
    for (const auto &table : t) EXPECT_EQ(table.id.find("root:"), std::string::npos);
  } catch (const AwsFailure &f) {
    EXPECT_EQ(f.error().kind, ErrorKind::Malformed);
  }
}

namespace {

// A refused document: the typed error, named for what was refused, in well
// under a second and without the process growing (libxml2 never saw it).
struct Refusal {
  AwsError error;
  double ms = 0;
  long grown_kb = 0;
};

long max_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

Refusal refusal_of(const std::function<void()> &fn) {
  Refusal r;
  long before = max_rss_kb();
  auto start = std::chrono::steady_clock::now();
  try {
    fn();
    ADD_FAILURE() << "the document was accepted";
  } catch (const AwsFailure &f) {
    r.error = f.error();
  }
  r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  r.grown_kb = max_rss_kb() - before;
  return r;
}

void expect_dtd_refused(const Refusal &r) {
  EXPECT_EQ(r.error.kind, ErrorKind::Malformed);
  EXPECT_EQ(r.error.code, "MalformedResponse");
  EXPECT_NE(r.error.message.find("DTD"), std::string::npos) << r.error.message;
  EXPECT_TRUE(r.error.retryable());  // as every other unreadable answer: see ec2_xml.cpp
  EXPECT_LT(r.ms, 500.0);
  EXPECT_LT(r.grown_kb, 16 * 1024);
}

// Each is otherwise a well-formed answer that a parser ignoring its DTD
// would accept: only the refusal of the DTD itself makes them fail.
const char *kBillionLaughs = R"(<?xml version="1.0"?>
<!DOCTYPE ReplaceRouteResponse [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<ReplaceRouteResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>&lol9;</requestId><return>true</return></ReplaceRouteResponse>)";

const char *kExternalEntity = R"(<?xml version="1.0"?>
<!DOCTYPE DescribeRouteTablesResponse [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<DescribeRouteTablesResponse><requestId>r</requestId><routeTableSet><item><routeTableId>rtb-0a000001</routeTableId>
<tagSet><item><key>Name</key><value>&x;</value></item></tagSet></item></routeTableSet></DescribeRouteTablesResponse>)";

const char *kParameterEntity = R"(<?xml version="1.0"?>
<!DOCTYPE ReplaceRouteResponse [
  <!ENTITY % remote SYSTEM "file:///etc/passwd">
  <!ENTITY % local "<!ENTITY y 'z'>">
  %remote; %local;
]>
<ReplaceRouteResponse><requestId>r</requestId><return>true</return></ReplaceRouteResponse>)";

// No internal subset: only an external DTD, by URL.
const char *kExternalDtd = R"(<?xml version="1.0"?>
<!DOCTYPE ReplaceRouteResponse SYSTEM "http://127.0.0.1:9/evil.dtd">
<ReplaceRouteResponse><requestId>r</requestId><return>true</return></ReplaceRouteResponse>)";

}  // namespace

TEST(Ec2XmlDtd, BillionLaughsIsRefusedUnparsed) {
  expect_dtd_refused(refusal_of([] { parse_return(kBillionLaughs); }));
  expect_dtd_refused(refusal_of([] { parse_request_id(kBillionLaughs); }));
}

TEST(Ec2XmlDtd, ExternalEntityIsRefusedUnparsed) {
  expect_dtd_refused(refusal_of([] { parse_route_table_page(kExternalEntity); }));
}

TEST(Ec2XmlDtd, ParameterEntityIsRefusedUnparsed) {
  expect_dtd_refused(refusal_of([] { parse_return(kParameterEntity); }));
}

TEST(Ec2XmlDtd, ExternalDtdIsRefusedUnparsed) {
  expect_dtd_refused(refusal_of([] { parse_return(kExternalDtd); }));
}

TEST(Ec2XmlDtd, AnEntityDeclarationAnywhereIsRefused) {
  // Not well-formed without a DOCTYPE, but refused for what it is, before libxml2 sees it.
  expect_dtd_refused(refusal_of(
      [] { parse_return("<ReplaceRouteResponse><!ENTITY a 'b'><return>true</return></ReplaceRouteResponse>"); }));
}

TEST(Ec2XmlDtd, AnErrorDocumentWithADtdIsUnreadableNotBelieved) {
  // parse_error never throws: a DTD makes the body unreadable, classified by
  // its HTTP status alone, so a crafted <Code> inside it is not believed.
  const std::string body = std::string("<?xml version=\"1.0\"?><!DOCTYPE Response [<!ENTITY c \"AuthFailure\">]>") +
                           "<Response><Errors><Error><Code>InvalidRouteTableID.NotFound</Code><Message>&c;</Message>" +
                           "</Error></Errors><RequestID>x</RequestID></Response>";
  auto start = std::chrono::steady_clock::now();
  AwsError e = parse_error(body, 400);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(ms, 500.0);
  EXPECT_EQ(e.code, "HTTP400");
  EXPECT_EQ(e.kind, ErrorKind::Malformed);
  EXPECT_EQ(parse_error(body, 503).kind, ErrorKind::ServerError);
}

TEST(Ec2XmlDtd, AUtf16DocumentCannotHideADtdFromTheCheck) {
  // The check reads bytes; libxml2 would decode UTF-16 (by its byte order
  // mark) and find the DOCTYPE the byte scan cannot see. The parser is told
  // UTF-8 whatever the document says, so this is unreadable, and refused.
  std::string utf8 = kParameterEntity;
  std::string utf16 = "\xff\xfe";
  for (char c : utf8) {
    utf16 += c;
    utf16 += '\0';
  }
  AwsError e = refusal_of([&] { parse_return(utf16); }).error;
  EXPECT_EQ(e.kind, ErrorKind::Malformed);
}

TEST(Ec2XmlDtd, TextThatMentionsADoctypeIsStillRead) {
  // EC2 escapes '<' in values, so a tag may say "<!DOCTYPE" as &lt;!DOCTYPE.
  auto tables = parse_route_tables(
      "<DescribeRouteTablesResponse><routeTableSet><item><routeTableId>rtb-1</routeTableId><tagSet><item>"
      "<key>k</key><value>&lt;!DOCTYPE x [&lt;!ENTITY y 'z'&gt;]&gt;</value></item></tagSet></item></routeTableSet>"
      "</DescribeRouteTablesResponse>");
  ASSERT_EQ(tables.size(), 1u);
  EXPECT_EQ(tables[0].tags.at("k"), "<!DOCTYPE x [<!ENTITY y 'z'>]>");
}

TEST(Ec2XmlDtd, AnOversizedBodyIsRefusedUnparsed) {
  std::string big = "<ReplaceRouteResponse><requestId>r</requestId><return>true</return>";
  big += std::string(17 << 20, ' ');
  big += "</ReplaceRouteResponse>";
  AwsError e = refusal_of([&] { parse_return(big); }).error;
  EXPECT_EQ(e.kind, ErrorKind::Malformed);
  EXPECT_NE(e.message.find("too large"), std::string::npos) << e.message;
}

TEST(Classify, AsTheSdksStandardRetryMode) {
  EXPECT_EQ(classify("RequestLimitExceeded", 503), ErrorKind::Throttled);
  EXPECT_EQ(classify("Throttling", 400), ErrorKind::Throttled);
  EXPECT_EQ(classify("", 429), ErrorKind::Throttled);
  EXPECT_EQ(classify("InternalError", 500), ErrorKind::ServerError);
  EXPECT_EQ(classify("Unavailable", 503), ErrorKind::ServerError);
  EXPECT_EQ(classify("ExpiredToken", 400), ErrorKind::ExpiredToken);
  EXPECT_EQ(classify("AuthFailure", 401), ErrorKind::Authentication);
  EXPECT_EQ(classify("SignatureDoesNotMatch", 403), ErrorKind::Authentication);
  EXPECT_EQ(classify("RequestExpired", 400), ErrorKind::Authentication);
  EXPECT_EQ(classify("UnauthorizedOperation", 403), ErrorKind::Authorization);
  EXPECT_EQ(classify("InvalidRouteTableID.NotFound", 400), ErrorKind::NotFound);
  EXPECT_EQ(classify("InvalidNetworkInterfaceID.NotFound", 400), ErrorKind::NotFound);
  EXPECT_EQ(classify("InvalidParameterValue", 400), ErrorKind::Invalid);
  EXPECT_EQ(classify("RouteAlreadyExists", 400), ErrorKind::Invalid);

  auto retryable = [](ErrorKind k) {
    AwsError e;
    e.kind = k;
    return e.retryable();
  };
  EXPECT_TRUE(retryable(ErrorKind::Transport));
  EXPECT_TRUE(retryable(ErrorKind::Throttled));
  EXPECT_TRUE(retryable(ErrorKind::ServerError));
  EXPECT_TRUE(retryable(ErrorKind::ExpiredToken));
  EXPECT_FALSE(retryable(ErrorKind::Authentication));
  EXPECT_FALSE(retryable(ErrorKind::Authorization));
  EXPECT_FALSE(retryable(ErrorKind::NotFound));
  EXPECT_FALSE(retryable(ErrorKind::Invalid));

  AwsError skew;
  skew.kind = ErrorKind::Authentication;
  skew.code = "RequestExpired";
  EXPECT_NE(skew.hint().find("clock"), std::string::npos);
}

TEST(Backoff, FullJitterWithinExponentialCeilingAndCap) {
  Backoff b{std::chrono::milliseconds(50), std::chrono::milliseconds(2000)};
  std::mt19937_64 rng(42);
  EXPECT_EQ(b.ceiling(0).count(), 50);
  EXPECT_EQ(b.ceiling(1).count(), 100);
  EXPECT_EQ(b.ceiling(5).count(), 1600);
  EXPECT_EQ(b.ceiling(6).count(), 2000);
  EXPECT_EQ(b.ceiling(1000).count(), 2000);
  for (int attempt = 0; attempt < 12; ++attempt) {
    long long lo = 1 << 30, hi = 0;
    for (int i = 0; i < 500; ++i) {
      long long d = b.delay(attempt, rng).count();
      ASSERT_GE(d, 0);
      ASSERT_LE(d, b.ceiling(attempt).count());
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    // Full jitter: the whole range is used, not just the top.
    EXPECT_LT(lo, b.ceiling(attempt).count() / 4);
    EXPECT_GT(hi, b.ceiling(attempt).count() * 3 / 4);
  }
}

TEST(Ec2Calls, FormBodiesAreEncodedAsTheCliSendsThem) {
  EXPECT_EQ(form_body(replace_route("rtb-0a000001", "10.0.99.10/32", "eni-0b00000b")),
            "Action=ReplaceRoute&Version=2016-11-15&DestinationCidrBlock=10.0.99.10%2F32"
            "&NetworkInterfaceId=eni-0b00000b&RouteTableId=rtb-0a000001");
  EXPECT_EQ(form_body(create_route("rtb-1", "2001:db8::1/128", "eni-1")),
            "Action=CreateRoute&Version=2016-11-15&DestinationIpv6CidrBlock=2001%3Adb8%3A%3A1%2F128"
            "&NetworkInterfaceId=eni-1&RouteTableId=rtb-1");
  EXPECT_EQ(form_body(describe_route_tables({"rtb-1", "rtb-2"})),
            "Action=DescribeRouteTables&Version=2016-11-15&RouteTableId.1=rtb-1&RouteTableId.2=rtb-2");
  EXPECT_EQ(form_body(create_tags({"rtb-1"}, {{"pg_vip:10.0.0.1/32", "tl=2 node=a&b"}})),
            "Action=CreateTags&Version=2016-11-15&ResourceId.1=rtb-1&Tag.1.Key=pg_vip%3A10.0.0.1%2F32"
            "&Tag.1.Value=tl%3D2%20node%3Da%26b");
  EXPECT_EQ(replace_route("rtb-0a000001", "10.0.99.10/32", "eni-1").label(), "ReplaceRoute rtb-0a000001");
}

TEST(Ec2Endpoint, SettingThenEnvironmentThenRegion) {
  auto none = [](const char *) -> std::optional<std::string> { return std::nullopt; };
  auto env = [](const char *n) -> std::optional<std::string> {
    if (std::string(n) == "AWS_ENDPOINT_URL") return std::string("http://127.0.0.1:4566/");
    return std::nullopt;
  };
  EXPECT_EQ(resolve_ec2_endpoint("http://127.0.0.1:1", env, "us-east-1"), "http://127.0.0.1:1");
  EXPECT_EQ(resolve_ec2_endpoint("", env, "us-east-1"), "http://127.0.0.1:4566");
  EXPECT_EQ(resolve_ec2_endpoint("", none, "eu-west-1"), "https://ec2.eu-west-1.amazonaws.com");
  EXPECT_EQ(resolve_ec2_endpoint("", none, "cn-north-1"), "https://ec2.cn-north-1.amazonaws.com.cn");
  EXPECT_THROW(resolve_ec2_endpoint("", none, ""), Error);
}

namespace {

const char *kInterfaces = R"(<?xml version="1.0" encoding="UTF-8"?>
<DescribeNetworkInterfacesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>r</requestId>
  <networkInterfaceSet>
    <item><networkInterfaceId>eni-0a00000a</networkInterfaceId><subnetId>subnet-1</subnetId>
      <vpcId>vpc-0a0b0c0d</vpcId><status>in-use</status><sourceDestCheck>false</sourceDestCheck>
      <attachment><instanceId>i-0a000001</instanceId><deviceIndex>1</deviceIndex></attachment>
      <groupSet><item><groupId>sg-1</groupId></item></groupSet><tagSet/></item>
    <item><networkInterfaceId>eni-detached</networkInterfaceId><vpcId>vpc-2</vpcId><status>available</status></item>
  </networkInterfaceSet>
</DescribeNetworkInterfacesResponse>)";

}  // namespace

TEST(Ec2Xml, DescribeNetworkInterfaces) {
  auto all = parse_network_interfaces(kInterfaces);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, "eni-0a00000a");
  EXPECT_EQ(all[0].vpc_id, "vpc-0a0b0c0d");
  EXPECT_EQ(all[0].subnet_id, "subnet-1");
  EXPECT_EQ(all[0].instance_id, "i-0a000001");
  EXPECT_EQ(all[0].status, "in-use");
  ASSERT_TRUE(all[0].source_dest_check.has_value());
  EXPECT_FALSE(*all[0].source_dest_check);
  EXPECT_EQ(all[1].instance_id, "");  // detached: no attachment
  EXPECT_FALSE(all[1].source_dest_check.has_value());
}

TEST(Ec2Xml, NetworkInterfaceAttribute) {
  auto answer = [](const std::string &value) {
    return R"(<DescribeNetworkInterfaceAttributeResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">)"
           R"(<requestId>r</requestId><networkInterfaceId>eni-1</networkInterfaceId><sourceDestCheck><value>)" +
           value + "</value></sourceDestCheck></DescribeNetworkInterfaceAttributeResponse>";
  };
  EXPECT_TRUE(parse_network_interface_attribute_bool(answer("true"), "sourceDestCheck"));
  EXPECT_FALSE(parse_network_interface_attribute_bool(answer("false"), "sourceDestCheck"));
  EXPECT_THROW(parse_network_interface_attribute_bool(answer("yes"), "sourceDestCheck"), AwsFailure);
  EXPECT_THROW(parse_network_interface_attribute_bool(answer("true"), "description"), AwsFailure);
  // The instance's answer is not the interface's.
  EXPECT_THROW(parse_network_interface_attribute_bool(
                   R"(<DescribeInstanceAttributeResponse><sourceDestCheck><value>true</value></sourceDestCheck>)"
                   R"(</DescribeInstanceAttributeResponse>)",
                   "sourceDestCheck"),
               AwsFailure);
}

TEST(Ec2Xml, HostileNetworkInterfaceAnswers) {
  const std::vector<std::string> hostile = {
      "",
      "<DescribeNetworkInterfacesResponse>",   // truncated
      "<DescribeNetworkInterfacesResponse/>",  // no set
      "<DescribeNetworkInterfacesResponse><networkInterfaceSet><item><vpcId>v</vpcId></item>"
      "</networkInterfaceSet></DescribeNetworkInterfacesResponse>",  // an item without id
      "<DescribeNetworkInterfacesResponse><networkInterfaceSet><item><networkInterfaceId>e</networkInterfaceId>"
      "<sourceDestCheck>maybe</sourceDestCheck></item></networkInterfaceSet></DescribeNetworkInterfacesResponse>",
      "<!DOCTYPE x [<!ENTITY a 'b'>]><DescribeNetworkInterfacesResponse><networkInterfaceSet/>"
      "</DescribeNetworkInterfacesResponse>",
      std::string("<DescribeNetworkInterfacesResponse>\0\xff", 38),
      "<Response><Errors><Error><Code>AuthFailure</Code></Error></Errors></Response>",
  };
  for (const auto &body : hostile) {
    try {
      (void) parse_network_interfaces(body);
      ADD_FAILURE() << "read as an answer: " << body;
    } catch (const AwsFailure &f) {
      EXPECT_EQ(f.error().kind, ErrorKind::Malformed) << body;
    }
    EXPECT_THROW(parse_network_interface_attribute_bool(body, "sourceDestCheck"), AwsFailure) << body;
  }
}

TEST(Ec2Calls, InterfaceCallsNameTheInterface) {
  Ec2Call d = describe_network_interfaces({"eni-1", "eni-2"});
  EXPECT_EQ(form_body(d), "Action=DescribeNetworkInterfaces&Version=2016-11-15&NetworkInterfaceId.1=eni-1&"
                          "NetworkInterfaceId.2=eni-2");
  Ec2Call a = describe_network_interface_attribute("eni-1", "sourceDestCheck");
  EXPECT_EQ(
      form_body(a),
      "Action=DescribeNetworkInterfaceAttribute&Version=2016-11-15&Attribute=sourceDestCheck&NetworkInterfaceId=eni-1");
  EXPECT_EQ(a.label(), "DescribeNetworkInterfaceAttribute eni-1");
  EXPECT_EQ(with_dry_run(d).label(), "DescribeNetworkInterfaces eni-1 (dry run)");
}
