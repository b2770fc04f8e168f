// The DNS kind without the network: ids, the fence record's text, a read in
// every kind's words, and the compare-and-swap batch the claim sends.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/fence.hpp"
#include "core/route53_names.hpp"
#include "core/route53_target.hpp"

using namespace pg_vip;

namespace {

constexpr const char *kVip = "10.0.99.10/32";
const std::string kId = "Z0A00000000000000000A:db.example.com.";

aws::RecordSet a_record(std::string value, long ttl = 10) {
  return {"db.example.com.", "A", ttl, {std::move(value)}, {}, {}};
}

aws::TargetRead records(std::optional<aws::RecordSet> address, std::optional<std::string> fence_text) {
  aws::TargetRead r;
  r.address = std::move(address);
  if (fence_text) {
    aws::FenceRecord f;
    f.record = {"_pg_vip.db.example.com.", "TXT", 10, {aws::txt_value(*fence_text)}, {}, {}};
    f.text = fence_text;
    r.fence = f;
  }
  return r;
}

std::string tag_of(const std::string &node, const std::string &eni, uint32_t tl) {
  return fence_tag_value({node, "7311", tl, eni}, std::chrono::system_clock::now());
}

const DnsSelf kMe{"10.0.1.11", "eni-0b00000b", 10};

}  // namespace

TEST(Route53Target, IdsAreAZoneAndAName) {
  auto t = parse_dns_target("Z0A00000000000000000A:DB.Example.com");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->zone, "Z0A00000000000000000A");
  EXPECT_EQ(t->name, "db.example.com.");
  EXPECT_EQ(dns_target_id(*t), "Z0A00000000000000000A:db.example.com.");
  for (const char *bad : {"rtb-0a000001", "eipalloc-0a000001", "z0a:db.example.com", "Z0A:", ":db.example.com",
                          "Z0A:db.example.com:x", "Z0A:db example.com"})
    EXPECT_FALSE(parse_dns_target(bad)) << bad;
  EXPECT_EQ(dns_fence_name("db.example.com."), "_pg_vip.db.example.com.");
}

TEST(Route53Target, TheFenceTextCarriesTheTagAndTheWritersAddress) {
  std::string key = fence_tag_key(kVip, 2);
  std::string value = tag_of("node-b", "eni-0b00000b", 2) + ";node=with spaces too";
  std::string text = dns_fence_text({key, "10.0.1.11", value});
  auto f = parse_dns_fence_text(text, kVip);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->key, key);
  EXPECT_EQ(f->address, "10.0.1.11");
  EXPECT_EQ(f->value, value);
  EXPECT_EQ(parse_dns_fence_text(dns_fence_text({key, "2001:DB8::1", "tl=2"}), kVip)->address, "2001:db8::1");
  // Not pg_vip's, or not this VIP's: no fence.
  for (const std::string &bad : {std::string("v=spf1 -all"), key + " not-an-address " + value, key + " 10.0.1.11",
                                 fence_tag_key("10.0.99.11/32", 2) + " 10.0.1.11 " + value, key + " 10.0.1.11 "})
    EXPECT_FALSE(parse_dns_fence_text(bad, kVip)) << bad;
}

TEST(Route53Target, AReadIsOursOtherOrMissingInEveryKindsWords) {
  std::string key = fence_tag_key(kVip, 2);
  std::string a_tag = tag_of("node-a", "eni-0a00000a", 2);
  // Here: this node's address alone.
  auto r = dns_target_read(kId, records(a_record("10.0.1.11"), std::nullopt), kMe, kVip);
  EXPECT_EQ(r.state, TargetState::Ours);
  EXPECT_EQ(r.points_at, "eni-0b00000b");
  EXPECT_TRUE(r.fence_tags.empty());
  // The holder's own address, as its fence says: Other at the holder's interface.
  r = dns_target_read(kId, records(a_record("10.0.1.10"), dns_fence_text({key, "10.0.1.10", a_tag})), kMe, kVip);
  EXPECT_EQ(r.state, TargetState::Other);
  EXPECT_EQ(r.interface_id, "eni-0a00000a");
  EXPECT_EQ(r.points_at, "eni-0a00000a");
  EXPECT_EQ(r.fence_tags.at(key), a_tag);
  // Another address than the fence's: Other at that address (not the holder's route).
  r = dns_target_read(kId, records(a_record("10.0.1.99"), dns_fence_text({key, "10.0.1.10", a_tag})), kMe, kVip);
  EXPECT_EQ(r.state, TargetState::Other);
  EXPECT_EQ(r.interface_id, "");
  EXPECT_EQ(r.points_at, "10.0.1.99");
  // Two addresses, one of them this node's: not only here.
  aws::RecordSet two{"db.example.com.", "A", 10, {"10.0.1.11", "10.0.1.10"}, {}, {}};
  r = dns_target_read(kId, records(two, std::nullopt), kMe, kVip);
  EXPECT_EQ(r.state, TargetState::Other);
  EXPECT_EQ(r.points_at, "10.0.1.10,10.0.1.11");
  // An address every node writes (dns_value = elastic): whose it is, the
  // fence says. Another node's fence on it: Other at that node's interface;
  // this node's own: Ours.
  r = dns_target_read(kId, records(a_record("10.0.1.11"), dns_fence_text({key, "10.0.1.11", a_tag})), kMe, kVip);
  EXPECT_EQ(r.state, TargetState::Other);
  EXPECT_EQ(r.interface_id, "eni-0a00000a");
  EXPECT_EQ(r.points_at, "eni-0a00000a");
  r = dns_target_read(
      kId, records(a_record("10.0.1.11"), dns_fence_text({key, "10.0.1.11", tag_of("node-b", "eni-0b00000b", 2)})), kMe,
      kVip);
  EXPECT_EQ(r.state, TargetState::Ours);
  // No address record: Missing.
  r = dns_target_read(kId, records(std::nullopt, std::nullopt), kMe, kVip);
  EXPECT_EQ(r.state, TargetState::Missing);
  // A TXT pg_vip cannot read: shown under the legacy key, which no holder parses from.
  r = dns_target_read(kId, records(a_record("10.0.1.10"), std::string("v=spf1 -all")), kMe, kVip);
  ASSERT_EQ(r.fence_tags.count(legacy_fence_tag_key(kVip)), 1u);
  EXPECT_FALSE(parse_fence_tag(r.fence_tags.at(legacy_fence_tag_key(kVip))));
}

TEST(Route53Target, TheBatchComparesTheFenceAsReadAndSwapsItWithTheAddress) {
  auto t = *parse_dns_target(kId);
  std::string key = fence_tag_key(kVip, 3);
  std::string value = tag_of("node-b", "eni-0b00000b", 3);
  DnsLastRead last;
  last.record = aws::RecordSet{"_pg_vip.db.example.com.", "TXT", 60, {"\"old\""}, {}, {}};
  auto b = dns_claim_batch(t, kMe, last, true, std::make_pair(key, value));
  ASSERT_EQ(b.changes.size(), 3u);
  EXPECT_EQ(b.changes[0].action, aws::ChangeAction::Delete);
  EXPECT_EQ(b.changes[0].record, *last.record) << "given back exactly as read";
  EXPECT_EQ(b.changes[1].action, aws::ChangeAction::Create);
  EXPECT_EQ(b.changes[1].record.name, "_pg_vip.db.example.com.");
  EXPECT_EQ(aws::txt_text(b.changes[1].record.values.at(0)), dns_fence_text({key, "10.0.1.11", value}));
  EXPECT_EQ(b.changes[2].action, aws::ChangeAction::Upsert);
  EXPECT_EQ(b.changes[2].record, a_record("10.0.1.11"));
  // No fence read: CREATE alone guards (it fails if one exists).
  b = dns_claim_batch(t, kMe, {}, true, std::make_pair(key, value));
  ASSERT_EQ(b.changes.size(), 2u);
  EXPECT_EQ(b.changes[0].action, aws::ChangeAction::Create);
  // A point without a new tag: the fence as read, deleted and created again.
  b = dns_claim_batch(t, kMe, last, true, std::nullopt);
  ASSERT_EQ(b.changes.size(), 3u);
  EXPECT_EQ(b.changes[1].record, *last.record);
  // A renewal: the fence alone.
  b = dns_claim_batch(t, kMe, last, false, std::make_pair(key, value));
  ASSERT_EQ(b.changes.size(), 2u);
  EXPECT_EQ(b.changes[1].action, aws::ChangeAction::Create);
  // An IPv6 address is an AAAA record.
  DnsSelf v6{"2001:db8::11", "eni-0b00000b", 10};
  b = dns_claim_batch(t, v6, {}, true, std::make_pair(key, value));
  EXPECT_EQ(b.changes.back().record.type, "AAAA");
  EXPECT_THROW(dns_claim_batch(t, kMe, last, false, std::nullopt), Error);
  EXPECT_THROW(dns_claim_batch(t, DnsSelf{"db.example.com", "eni-0b00000b", 10}, {}, true, std::nullopt), ConfigError);
}

TEST(Route53Target, AnOwnAddressOfAnotherTtlIsStale) {
  DnsLastRead last;
  EXPECT_FALSE(stale_own_address(last, kMe));
  last.address = a_record("10.0.1.11", 60);
  EXPECT_TRUE(stale_own_address(last, kMe));
  last.address = a_record("10.0.1.11", 10);
  EXPECT_FALSE(stale_own_address(last, kMe));
  last.address = a_record("10.0.1.10", 60);
  EXPECT_FALSE(stale_own_address(last, kMe)) << "another node's record is not rewritten by a fence write";
}
