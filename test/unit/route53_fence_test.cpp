// The compare-and-swap batch of a Route 53 target, and the read it starts
// from: a DELETE that gives back exactly what was read, and only exact
// matches taken from what ListResourceRecordSets returns.
#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"
#include "core/route53_fence.hpp"
#include "core/route53_names.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;

namespace {

AddressRecord address() { return {"DB.example.com", "A", 60, {"10.0.0.5"}}; }

RecordSet txt(std::string name, std::string value, long ttl = 30) {
  return RecordSet{std::move(name), "TXT", ttl, {std::move(value)}, {}, {}};
}

}  // namespace

TEST(Route53Cas, WithAFenceReadTheBatchDeletesExactlyWhatWasRead) {
  // As read: a TTL and a quoting pg_vip would not write itself.
  RecordSet read = txt("_fence.example.com.", "\"tl=2;\" \"node=b\"", 17);
  ChangeBatch b = compare_and_swap(address(), "_Fence.Example.com", read, "tl=3;node=a", 30);
  EXPECT_EQ(b.comment, "pg_vip");
  ASSERT_EQ(b.changes.size(), 3u);
  EXPECT_EQ(b.changes[0].action, ChangeAction::Delete);
  EXPECT_EQ(b.changes[0].record, read);
  EXPECT_EQ(b.changes[1].action, ChangeAction::Create);
  EXPECT_EQ(b.changes[1].record, txt("_fence.example.com.", "\"tl=3;node=a\"", 30));
  EXPECT_EQ(b.changes[2].action, ChangeAction::Upsert);
  EXPECT_EQ(b.changes[2].record, (RecordSet{"db.example.com.", "A", 60, {"10.0.0.5"}, {}, {}}));
  // And as the document says it, in this order.
  std::string xml = change_batch_xml(b);
  auto del = xml.find("<Action>DELETE</Action>");
  auto create = xml.find("<Action>CREATE</Action>");
  auto upsert = xml.find("<Action>UPSERT</Action>");
  ASSERT_NE(del, std::string::npos);
  EXPECT_LT(del, create);
  EXPECT_LT(create, upsert);
  EXPECT_NE(xml.find("<TTL>17</TTL><ResourceRecords><ResourceRecord><Value>&quot;tl=2;&quot; "
                     "&quot;node=b&quot;</Value>"),
            std::string::npos);
}

TEST(Route53Cas, WithoutAFenceTheBatchCreatesIt) {
  ChangeBatch b = compare_and_swap({"db.example.com", "AAAA", 10, {"2001:db8::5"}}, "_fence.example.com", std::nullopt,
                                   "tl=1", 30, "first");
  ASSERT_EQ(b.changes.size(), 2u);
  EXPECT_EQ(b.comment, "first");
  EXPECT_EQ(b.changes[0].action, ChangeAction::Create);
  EXPECT_EQ(b.changes[0].record, txt("_fence.example.com.", "\"tl=1\"", 30));
  EXPECT_EQ(b.changes[1].action, ChangeAction::Upsert);
  EXPECT_EQ(b.changes[1].record.type, "AAAA");
}

TEST(Route53Cas, TheFenceMayShareTheAddressName) {
  ChangeBatch b = compare_and_swap(address(), "db.example.com", txt("db.example.com.", "\"tl=1\""), "tl=2", 30);
  ASSERT_EQ(b.changes.size(), 3u);
  EXPECT_EQ(b.changes[1].record.name, b.changes[2].record.name);
}

TEST(Route53Cas, BadInputsAreRefused) {
  EXPECT_THROW(compare_and_swap({"db.example.com", "CNAME", 60, {"x."}}, "_f.example.com", std::nullopt, "t", 30),
               ConfigError);
  EXPECT_THROW(compare_and_swap({"db.example.com", "A", 60, {}}, "_f.example.com", std::nullopt, "t", 30), ConfigError);
  EXPECT_THROW(compare_and_swap({"db example", "A", 60, {"10.0.0.1"}}, "_f.example.com", std::nullopt, "t", 30),
               ConfigError);
  EXPECT_THROW(compare_and_swap(address(), "_f.example.com\"/>", std::nullopt, "t", 30), ConfigError);
  EXPECT_THROW(compare_and_swap(address(), "_f.example.com", std::nullopt, std::string(5000, 'x'), 30), ConfigError);
  // A "last read" that is not the fence record: the caller's mistake.
  EXPECT_THROW(compare_and_swap(address(), "_f.example.com", txt("_g.example.com.", "\"t\""), "t", 30), Error);
  RecordSet a_record{"_f.example.com.", "A", 30, {"10.0.0.1"}, {}, {}};
  EXPECT_THROW(compare_and_swap(address(), "_f.example.com", a_record, "t", 30), Error);
  RecordSet weighted = txt("_f.example.com.", "\"t\"");
  weighted.set_identifier = "blue";
  EXPECT_THROW(compare_and_swap(address(), "_f.example.com", weighted, "t", 30), Error);
}

TEST(Route53Read, OnlyExactPlainRecordsAreTheTarget) {
  RecordSet weighted{"db.example.com.", "A", 60, {"10.9.9.9"}, "blue", {}};
  RecordSet alias{"db.example.com.", "A", {}, {}, {}, "elb.amazonaws.com."};
  RecordSet mine{"DB.example.com.", "A", 60, {"10.0.0.5"}, {}, {}};
  RecordSet next{"db2.example.com.", "A", 60, {"10.0.0.7"}, {}, {}};
  RecordSet fence = txt("_fence.example.com.", "\"tl=3;node=a\"");
  RecordSet other_txt = txt("_fence2.example.com.", "\"tl=9\"");
  TargetRead t =
      find_target({weighted, alias, next, other_txt, mine, fence}, "db.example.com", "A", "_fence.example.com");
  ASSERT_TRUE(t.address.has_value());
  EXPECT_EQ(*t.address, mine);
  ASSERT_TRUE(t.fence.has_value());
  EXPECT_EQ(t.fence->record, fence);
  EXPECT_EQ(t.fence->text, "tl=3;node=a");

  // What ListResourceRecordSets gives when neither exists: the next ones.
  TargetRead none = find_target({next, other_txt}, "db.example.com", "A", "_fence.example.com");
  EXPECT_FALSE(none.address.has_value());
  EXPECT_FALSE(none.fence.has_value());
  // An address of the other family is not the target's.
  EXPECT_FALSE(find_target({mine}, "db.example.com", "AAAA", "_fence.example.com").address.has_value());
}

TEST(Route53Read, AFenceThatIsNotOursHasNoText) {
  RecordSet two{"_f.example.com.", "TXT", 30, {"\"a\"", "\"b\""}, {}, {}};
  TargetRead t = find_target({two}, "db.example.com", "A", "_f.example.com");
  ASSERT_TRUE(t.fence.has_value());
  EXPECT_FALSE(t.fence->text.has_value());
  EXPECT_EQ(t.fence->record, two);  // still given back whole: the DELETE needs it
  TargetRead broken = find_target({txt("_f.example.com.", "\"open")}, "db.example.com", "A", "_f.example.com");
  ASSERT_TRUE(broken.fence.has_value());
  EXPECT_FALSE(broken.fence->text.has_value());
}

TEST(Route53Read, TheReadFeedsTheNextBatch) {
  RecordSet fence = txt("_f.example.com.", "\"tl=3\"", 45);
  TargetRead t = find_target({fence}, "db.example.com", "A", "_f.example.com");
  ASSERT_TRUE(t.fence.has_value());
  ChangeBatch b = compare_and_swap(address(), "_f.example.com", t.fence->record, "tl=4", 30);
  EXPECT_EQ(b.changes[0].record, fence);
}

TEST(Route53Race, LostOnlyOnInvalidChangeBatch) {
  AwsError e;
  e.code = "InvalidChangeBatch";
  e.kind = ErrorKind::Invalid;
  EXPECT_TRUE(lost_race(e));
  for (const char *other : {"InvalidInput", "NoSuchHostedZone", "AccessDenied", "Throttling", "PriorRequestNotComplete",
                            "RequestTimeout", ""}) {
    e.code = other;
    EXPECT_FALSE(lost_race(e)) << other;
  }
}
