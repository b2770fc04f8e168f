// Route 53's documents: the change batch pg_vip sends, to the letter, and
// every answer shape it reads, real-shaped and hostile.
#include <gtest/gtest.h>

#include <string>

#include "core/aws_error.hpp"
#include "core/error.hpp"
#include "core/route53_xml.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;

namespace {

const char *kNs = "https://route53.amazonaws.com/doc/2013-04-01/";

AwsError malformed_from(const std::function<void()> &fn) {
  try {
    fn();
  } catch (const AwsFailure &f) {
    return f.error();
  }
  ADD_FAILURE() << "expected AwsFailure";
  return {};
}

const char *kList = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">
  <ResourceRecordSets>
    <ResourceRecordSet>
      <Name>db.example.com.</Name><Type>A</Type><TTL>60</TTL>
      <ResourceRecords><ResourceRecord><Value>10.0.0.5</Value></ResourceRecord>
                       <ResourceRecord><Value>10.0.0.6</Value></ResourceRecord></ResourceRecords>
    </ResourceRecordSet>
    <ResourceRecordSet>
      <Name>db.example.com.</Name><Type>TXT</Type><TTL>30</TTL>
      <ResourceRecords><ResourceRecord><Value>"tl=3;node=a &amp; b"</Value></ResourceRecord></ResourceRecords>
    </ResourceRecordSet>
    <ResourceRecordSet>
      <Name>\052.example.com.</Name><Type>A</Type>
      <AliasTarget><HostedZoneId>Z2FDTNDATAQYW2</HostedZoneId><DNSName>d1.cloudfront.net.</DNSName>
        <EvaluateTargetHealth>false</EvaluateTargetHealth></AliasTarget>
    </ResourceRecordSet>
    <ResourceRecordSet>
      <Name>w.example.com.</Name><Type>A</Type><SetIdentifier>blue</SetIdentifier><Weight>10</Weight><TTL>0</TTL>
      <ResourceRecords><ResourceRecord><Value>10.0.0.9</Value></ResourceRecord></ResourceRecords>
    </ResourceRecordSet>
  </ResourceRecordSets>
  <IsTruncated>true</IsTruncated>
  <NextRecordName>x.example.com.</NextRecordName>
  <NextRecordType>A</NextRecordType>
  <MaxItems>4</MaxItems>
</ListResourceRecordSetsResponse>)";

}  // namespace

TEST(Route53Batch, TheCompareAndSwapDocumentToTheLetter) {
  ChangeBatch b;
  b.comment = "pg_vip";
  b.changes.push_back({ChangeAction::Delete, {"_f.example.com.", "TXT", 30, {"\"tl=2\""}, {}, {}}});
  b.changes.push_back({ChangeAction::Create, {"_f.example.com.", "TXT", 30, {"\"tl=3\""}, {}, {}}});
  b.changes.push_back({ChangeAction::Upsert, {"db.example.com.", "A", 60, {"10.0.0.5"}, {}, {}}});
  EXPECT_EQ(change_batch_xml(b),
            std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") +
                "<ChangeResourceRecordSetsRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">"
                "<ChangeBatch><Comment>pg_vip</Comment><Changes>"
                "<Change><Action>DELETE</Action><ResourceRecordSet><Name>_f.example.com.</Name><Type>TXT</Type>"
                "<TTL>30</TTL><ResourceRecords><ResourceRecord><Value>&quot;tl=2&quot;</Value></ResourceRecord>"
                "</ResourceRecords></ResourceRecordSet></Change>"
                "<Change><Action>CREATE</Action><ResourceRecordSet><Name>_f.example.com.</Name><Type>TXT</Type>"
                "<TTL>30</TTL><ResourceRecords><ResourceRecord><Value>&quot;tl=3&quot;</Value></ResourceRecord>"
                "</ResourceRecords></ResourceRecordSet></Change>"
                "<Change><Action>UPSERT</Action><ResourceRecordSet><Name>db.example.com.</Name><Type>A</Type>"
                "<TTL>60</TTL><ResourceRecords><ResourceRecord><Value>10.0.0.5</Value></ResourceRecord>"
                "</ResourceRecords></ResourceRecordSet></Change>"
                "</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>");
}

TEST(Route53Batch, EveryValueIsEscaped) {
  ChangeBatch b;
  b.comment = "a<b>&'\"";
  b.changes.push_back({ChangeAction::Upsert, {"x.", "TXT", 1, {"\"</Value><Action>DELETE</Action>\""}, {}, {}}});
  std::string xml = change_batch_xml(b);
  EXPECT_NE(xml.find("<Comment>a&lt;b&gt;&amp;&apos;&quot;</Comment>"), std::string::npos);
  EXPECT_NE(xml.find("<Value>&quot;&lt;/Value&gt;&lt;Action&gt;DELETE&lt;/Action&gt;&quot;</Value>"),
            std::string::npos);
  EXPECT_EQ(xml.find("<Action>DELETE"), std::string::npos);
}

TEST(Route53Batch, BatchesRoute53WouldRefuseAreNeverSent) {
  RecordSet ok{"x.", "A", 60, {"10.0.0.1"}, {}, {}};
  auto with = [&](auto change) {
    ChangeBatch b;
    RecordSet r = ok;
    change(r);
    b.changes.push_back({ChangeAction::Upsert, r});
    return b;
  };
  EXPECT_NO_THROW(change_batch_xml(with([](RecordSet &) {})));
  EXPECT_THROW(change_batch_xml(ChangeBatch{}), Error);
  EXPECT_THROW(change_batch_xml(with([](RecordSet &r) { r.name.clear(); })), Error);
  EXPECT_THROW(change_batch_xml(with([](RecordSet &r) { r.type = "a"; })), Error);
  EXPECT_THROW(change_batch_xml(with([](RecordSet &r) { r.type = "A></Type>"; })), Error);
  EXPECT_THROW(change_batch_xml(with([](RecordSet &r) { r.ttl.reset(); })), Error);
  EXPECT_THROW(change_batch_xml(with([](RecordSet &r) { r.ttl = -1; })), Error);
  EXPECT_THROW(change_batch_xml(with([](RecordSet &r) { r.values.clear(); })), Error);
  EXPECT_THROW(change_batch_xml(with([](RecordSet &r) { r.values = {""}; })), Error);
  EXPECT_THROW(change_batch_xml(with([](RecordSet &r) { r.values = {"a\x01"}; })), Error);
  EXPECT_THROW(change_batch_xml(with([](RecordSet &r) { r.values = {"caf\xc3\xa9"}; })), Error);
  EXPECT_THROW(change_batch_xml(with([](RecordSet &r) { r.set_identifier = "blue"; })), Error);
  EXPECT_THROW(change_batch_xml(with([](RecordSet &r) { r.alias_dns_name = "x."; })), Error);
  ChangeBatch long_comment = with([](RecordSet &) {});
  long_comment.comment = std::string(257, 'c');
  EXPECT_THROW(change_batch_xml(long_comment), Error);
}

TEST(Route53Answers, ChangeInfoOfBothAnswers) {
  for (const char *root : {"ChangeResourceRecordSetsResponse", "GetChangeResponse"}) {
    ChangeInfo c = parse_change_info(std::string("<?xml version=\"1.0\"?>\n<") + root + " xmlns=\"" + kNs +
                                     "\"><ChangeInfo><Id>/change/C2682N5HXP0BZ4</Id><Status>PENDING</Status>"
                                     "<SubmittedAt>2017-03-10T01:36:41.958Z</SubmittedAt><Comment>pg_vip</Comment>"
                                     "</ChangeInfo></" +
                                     root + ">");
    EXPECT_EQ(c.id, "C2682N5HXP0BZ4");
    EXPECT_EQ(c.status, "PENDING");
    EXPECT_FALSE(c.insync());
    EXPECT_EQ(iso8601(c.submitted_at), "2017-03-10T01:36:41Z");
    EXPECT_EQ(c.comment, "pg_vip");
  }
  ChangeInfo in_sync = parse_change_info(std::string("<GetChangeResponse xmlns=\"") + kNs +
                                         "\"><ChangeInfo><Id>C1</Id><Status>INSYNC</Status>"
                                         "<SubmittedAt>2017-03-10T01:36:41Z</SubmittedAt></ChangeInfo>"
                                         "</GetChangeResponse>");
  EXPECT_TRUE(in_sync.insync());
}

TEST(Route53Answers, BrokenChangeInfoIsMalformed) {
  auto doc = [](const std::string &info) {
    return std::string("<GetChangeResponse xmlns=\"") + kNs + "\">" + info + "</GetChangeResponse>";
  };
  const std::string good_time = "<SubmittedAt>2017-03-10T01:36:41Z</SubmittedAt>";
  for (const std::string &body :
       {doc(""), doc("<ChangeInfo><Status>INSYNC</Status>" + good_time + "</ChangeInfo>"),
        doc("<ChangeInfo><Id>/change/../x</Id><Status>INSYNC</Status>" + good_time + "</ChangeInfo>"),
        doc("<ChangeInfo><Id>C1</Id><Status>DONE</Status>" + good_time + "</ChangeInfo>"),
        doc("<ChangeInfo><Id>C1</Id><Status>INSYNC</Status></ChangeInfo>"),
        doc("<ChangeInfo><Id>C1</Id><Status>INSYNC</Status><SubmittedAt>yesterday</SubmittedAt></ChangeInfo>"),
        std::string("<ListHostedZonesResponse xmlns=\"") + kNs + "\"/>"}) {
    AwsError e = malformed_from([&] { parse_change_info(body); });
    EXPECT_EQ(e.kind, ErrorKind::Malformed) << body;
    EXPECT_EQ(e.code, "MalformedResponse");
  }
}

TEST(Route53Answers, ListResourceRecordSetsPage) {
  RecordSetPage page = parse_record_set_page(kList);
  ASSERT_EQ(page.record_sets.size(), 4u);
  const RecordSet &a = page.record_sets[0];
  EXPECT_EQ(a.name, "db.example.com.");
  EXPECT_EQ(a.type, "A");
  EXPECT_EQ(a.ttl, 60);
  EXPECT_EQ(a.values, (std::vector<std::string>{"10.0.0.5", "10.0.0.6"}));
  EXPECT_EQ(page.record_sets[1].values, std::vector<std::string>{"\"tl=3;node=a & b\""});
  const RecordSet &alias = page.record_sets[2];
  EXPECT_EQ(alias.name, "\\052.example.com.");
  EXPECT_FALSE(alias.ttl.has_value());
  EXPECT_TRUE(alias.values.empty());
  EXPECT_EQ(alias.alias_dns_name, "d1.cloudfront.net.");
  EXPECT_EQ(page.record_sets[3].set_identifier, "blue");
  EXPECT_EQ(page.record_sets[3].ttl, 0);
  EXPECT_TRUE(page.truncated);
  EXPECT_EQ(page.next_name, "x.example.com.");
  EXPECT_EQ(page.next_type, "A");

  RecordSetPage empty = parse_record_set_page(std::string("<ListResourceRecordSetsResponse xmlns=\"") + kNs +
                                              "\"><ResourceRecordSets/><IsTruncated>false</IsTruncated>"
                                              "<MaxItems>1</MaxItems></ListResourceRecordSetsResponse>");
  EXPECT_TRUE(empty.record_sets.empty());
  EXPECT_FALSE(empty.truncated);
}

TEST(Route53Answers, HostileListAnswersAreMalformed) {
  auto doc = [](const std::string &inside, const char *ns = kNs) {
    return std::string("<ListResourceRecordSetsResponse xmlns=\"") + ns + "\">" + inside +
           "</ListResourceRecordSetsResponse>";
  };
  const std::string tail = "<IsTruncated>false</IsTruncated><MaxItems>1</MaxItems>";
  auto set = [](const std::string &inside) {
    return "<ResourceRecordSets><ResourceRecordSet>" + inside + "</ResourceRecordSet></ResourceRecordSets>";
  };
  std::string huge = doc("<ResourceRecordSets>" + std::string(9u << 20, ' ') + "</ResourceRecordSets>" + tail);
  const std::string cases[] = {
      "",
      "not xml at all",
      std::string(kList).substr(0, 400),  // truncated
      huge,
      doc("<ResourceRecordSets/>" + tail, "https://route53.amazonaws.com/doc/2012-12-12/"),
      "<ListResourceRecordSetsResponse><ResourceRecordSets/>" + tail + "</ListResourceRecordSetsResponse>",
      doc(tail),                                           // no ResourceRecordSets
      doc("<ResourceRecordSets/><MaxItems>1</MaxItems>"),  // no IsTruncated
      doc("<ResourceRecordSets/><IsTruncated>yes</IsTruncated>"),
      doc("<ResourceRecordSets/><IsTruncated>true</IsTruncated>"),  // truncated without a next name
      doc(set("<Type>A</Type><TTL>1</TTL>") + tail),                // no name
      doc(set("<Name>a.</Name><TTL>1</TTL>") + tail),               // no type
      doc(set("<Name>a.</Name><Type>A</Type><TTL>-1</TTL>") + tail),
      doc(set("<Name>a.</Name><Type>A</Type><TTL>99999999999</TTL>") + tail),
      doc(set("<Name>a.</Name><Type>A</Type><TTL>1</TTL><ResourceRecords><ResourceRecord/></ResourceRecords>") + tail),
      "<!DOCTYPE x [<!ENTITY a \"aaaa\">]>" + doc("<ResourceRecordSets/>" + tail),
      "<?xml version=\"1.0\"?><!DOCTYPE x SYSTEM \"file:///etc/passwd\">" + doc("<ResourceRecordSets/>" + tail),
      std::string("<ErrorResponse xmlns=\"") + kNs + "\"/>",
  };
  for (const auto &body : cases) {
    AwsError e = malformed_from([&] { parse_record_set_page(body); });
    EXPECT_EQ(e.kind, ErrorKind::Malformed) << body.substr(0, 200);
    EXPECT_TRUE(e.retryable());
  }
}

TEST(Route53Errors, EveryErrorFormIsClassified) {
  struct Case {
    const char *code;
    long status;
    ErrorKind kind;
    bool retryable;
  };
  const Case cases[] = {
      {"Throttling", 400, ErrorKind::Throttled, true},
      {"PriorRequestNotComplete", 400, ErrorKind::Throttled, true},
      {"InvalidChangeBatch", 400, ErrorKind::Invalid, false},
      {"NoSuchHostedZone", 404, ErrorKind::NotFound, false},
      {"NoSuchChange", 404, ErrorKind::NotFound, false},
      {"AccessDenied", 403, ErrorKind::Authorization, false},
      {"InvalidInput", 400, ErrorKind::Invalid, false},
      {"MalformedInput", 400, ErrorKind::Invalid, false},
      {"SignatureDoesNotMatch", 403, ErrorKind::Authentication, false},
      {"ExpiredToken", 403, ErrorKind::ExpiredToken, true},
      {"InternalFailure", 500, ErrorKind::ServerError, true},
      {"ServiceUnavailable", 503, ErrorKind::ServerError, true},
  };
  for (const auto &c : cases) {
    AwsError e = parse_route53_error(std::string("<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"") + kNs +
                                         "\"><Error><Type>Sender</Type><Code>" + c.code +
                                         "</Code><Message>m &amp; n</Message></Error>"
                                         "<RequestId>b25f48e8-84fd-11e6-80d9-574e0c4664cb</RequestId></ErrorResponse>",
                                     c.status);
    EXPECT_EQ(e.code, c.code);
    EXPECT_EQ(e.message, "m & n");
    EXPECT_EQ(e.request_id, "b25f48e8-84fd-11e6-80d9-574e0c4664cb");
    EXPECT_EQ(e.http_status, c.status);
    EXPECT_EQ(e.kind, c.kind) << c.code;
    EXPECT_EQ(e.retryable(), c.retryable) << c.code;
  }
}

TEST(Route53Errors, TheOlderInvalidChangeBatchForm) {
  AwsError e = parse_route53_error(
      std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InvalidChangeBatch xmlns=\"") + kNs +
          "\"><Messages><Message>Tried to delete resource record set [name='_f.example.com.', type='TXT'] but it "
          "was not found</Message><Message>Tried to create resource record set [name='_f.example.com.', "
          "type='TXT'] but it already exists</Message></Messages><RequestId>r-1</RequestId></InvalidChangeBatch>",
      400);
  EXPECT_EQ(e.code, "InvalidChangeBatch");
  EXPECT_EQ(e.kind, ErrorKind::Invalid);
  EXPECT_EQ(e.request_id, "r-1");
  EXPECT_EQ(e.http_status, 400);
  EXPECT_NE(e.message.find("but it was not found; Tried to create"), std::string::npos);
  EXPECT_FALSE(e.retryable());
}

TEST(Route53Errors, UnreadableErrorsGoByStatus) {
  EXPECT_EQ(parse_route53_error("<html>502 Bad Gateway</html>", 502).kind, ErrorKind::ServerError);
  EXPECT_EQ(parse_route53_error("", 503).kind, ErrorKind::ServerError);
  EXPECT_EQ(parse_route53_error("<ErrorResponse><Error><Code>Throttl", 400).kind, ErrorKind::Malformed);
  EXPECT_EQ(parse_route53_error("nope", 403).kind, ErrorKind::Authorization);
  EXPECT_EQ(parse_route53_error("nope", 429).kind, ErrorKind::Throttled);
  AwsError dtd = parse_route53_error(
      "<!DOCTYPE x [<!ENTITY e \"InvalidChangeBatch\">]><InvalidChangeBatch><Message>&e;</Message></InvalidChangeBatch>",
      400);
  EXPECT_EQ(dtd.code, "HTTP400");  // not believed
  EXPECT_EQ(dtd.kind, ErrorKind::Malformed);
}
