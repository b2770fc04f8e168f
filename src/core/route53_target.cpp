#include "route53_target.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include "error.hpp"
#include "fence.hpp"
#include "route53_names.hpp"

namespace pg_vip {

namespace {

bool is_ipv4(const std::string &a) {
  unsigned char buf[4];
  return inet_pton(AF_INET, a.c_str(), buf) == 1;
}

bool is_ipv6(const std::string &a) {
  unsigned char buf[16];
  return inet_pton(AF_INET6, a.c_str(), buf) == 1;
}

// The same address however it is written ("2001:DB8::1", "2001:db8::1").
std::string canonical_address(const std::string &a) {
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, a.c_str(), buf) == 1) return inet_ntop(AF_INET, buf, out, sizeof out);
  if (inet_pton(AF_INET6, a.c_str(), buf) == 1) return inet_ntop(AF_INET6, buf, out, sizeof out);
  return a;
}

// The interface a fence tag value names (its id= field), read without the
// fence key: it only says which holder an address belongs to; whether the
// holder counts is the controller's judgement, with the key.
std::string tag_interface(const std::string &value) {
  std::size_t at = 0;
  while (at <= value.size()) {
    std::size_t end = value.find(';', at);
    std::string field = value.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (field.compare(0, 5, "node=") == 0) break;  // node is last and may hold anything
    if (field.compare(0, 3, "id=") == 0) return field.substr(3);
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return {};
}

}  // namespace

std::optional<DnsTarget> parse_dns_target(std::string_view id) {
  std::size_t colon = id.find(':');
  if (colon == std::string_view::npos || id.find(':', colon + 1) != std::string_view::npos) return std::nullopt;
  try {
    return DnsTarget{aws::hosted_zone_id(id.substr(0, colon)), aws::dns_name(id.substr(colon + 1))};
  } catch (const ConfigError &) {
    return std::nullopt;
  }
}

std::string dns_target_id(const DnsTarget &t) { return t.zone + ":" + t.name; }

std::string dns_fence_name(const std::string &name) { return aws::dns_name("_pg_vip." + name); }

std::string dns_fence_text(const DnsFence &f) { return f.key + " " + f.address + " " + f.value; }

std::optional<DnsFence> parse_dns_fence_text(std::string_view text, const std::string &vip_cidr) {
  std::size_t a = text.find(' ');
  if (a == std::string_view::npos) return std::nullopt;
  std::size_t b = text.find(' ', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  DnsFence f{std::string(text.substr(0, a)), std::string(text.substr(a + 1, b - a - 1)),
             std::string(text.substr(b + 1))};
  if (!fence_tag_key_timeline(vip_cidr, f.key) || !(is_ipv4(f.address) || is_ipv6(f.address)) || f.value.empty())
    return std::nullopt;
  f.address = canonical_address(f.address);
  return f;
}

bool is_ip_address(const std::string &address) { return is_ipv4(address) || is_ipv6(address); }

std::string address_type(const std::string &address) { return is_ipv6(address) ? "AAAA" : "A"; }

TargetRead dns_target_read(const std::string &id, const aws::TargetRead &records, const DnsSelf &me,
                           const std::string &vip_cidr) {
  TargetRead r;
  r.id = id;
  std::optional<DnsFence> fence;
  if (records.fence) {
    if (records.fence->text) fence = parse_dns_fence_text(*records.fence->text, vip_cidr);
    if (fence) r.fence_tags[fence->key] = fence->value;
    else
      // Not pg_vip's (or not this VIP's): a tag the controller cannot read
      // is a foreign holder, and it keeps its hands off.
      r.fence_tags[legacy_fence_tag_key(vip_cidr)] = records.fence->text.value_or("(not a readable TXT record)");
  }
  if (!records.address || records.address->values.empty()) {
    r.state = TargetState::Missing;
    return r;
  }
  std::vector<std::string> values;
  for (const auto &v : records.address->values) values.push_back(canonical_address(v));
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  std::string shown;
  for (const auto &v : values) shown += (shown.empty() ? "" : ",") + v;
  bool one = values.size() == 1;
  // An address every node writes (dns_value = elastic: the Elastic IP's)
  // does not say whose the record is; the fence does, when it names that
  // address with another interface.
  bool shared = one && fence && fence->address == values.front() && !tag_interface(fence->value).empty() &&
                tag_interface(fence->value) != me.interface_id;
  if (one && !shared && values.front() == canonical_address(me.address)) {
    r.state = TargetState::Ours;
    r.interface_id = me.interface_id;
    r.points_at = me.interface_id;
    return r;
  }
  r.state = TargetState::Other;
  if (one && fence && values.front() == fence->address) {
    // The holder's own record: what it pointed there under its fence.
    r.interface_id = tag_interface(fence->value);
    r.points_at = r.interface_id.empty() ? shown : r.interface_id;
  } else {
    r.points_at = shown;
  }
  return r;
}

bool stale_own_address(const DnsLastRead &last, const DnsSelf &me) {
  if (!last.address || last.address->values.size() != 1) return false;
  if (canonical_address(last.address->values.front()) != canonical_address(me.address)) return false;
  return last.address->ttl != me.ttl;
}

aws::ChangeBatch dns_claim_batch(const DnsTarget &target, const DnsSelf &me, const DnsLastRead &last, bool point,
                                 const std::optional<std::pair<std::string, std::string>> &tag) {
  if (!point && !tag) throw Error("a Route 53 batch asked to change nothing");
  if (!(is_ipv4(me.address) || is_ipv6(me.address)))
    throw ConfigError("this node's address for Route 53 is \"" + me.address.substr(0, 64) + "\", not an IP address");
  const std::string fence_name = dns_fence_name(target.name);
  aws::ChangeBatch batch;
  batch.comment = "pg_vip";
  if (tag || last.record) {
    if (last.record) batch.changes.push_back({aws::ChangeAction::Delete, *last.record});
    aws::RecordSet fence;
    if (tag) {
      fence = aws::RecordSet{
          fence_name, "TXT",
          me.ttl,     {aws::txt_value(dns_fence_text({tag->first, canonical_address(me.address), tag->second}))},
          {},         {}};
    } else {
      fence = *last.record;  // the same set back: the compare alone
    }
    batch.changes.push_back({aws::ChangeAction::Create, std::move(fence)});
  }
  if (point)
    batch.changes.push_back({aws::ChangeAction::Upsert,
                             aws::RecordSet{target.name, address_type(me.address), me.ttl, {me.address}, {}, {}}});
  return batch;
}

}  // namespace pg_vip
