// The DNS kind of target as the claim sees it, without the network: a
// Route 53 address record and its fence TXT record turned into the neutral
// read every kind gives (cloud.hpp's TargetRead), and the controller's point
// and fence requests turned into one compare-and-swap batch per record
// (route53_fence.hpp says why such a batch is a true compare-and-swap). The
// worker's Route53Cloud and the simulation's Route 53 both use these, so
// the claim's DNS logic is the same over libcurl and over a simulated clock.
//
// The fence record is a TXT record beside the address record, at
// "_pg_vip.<name>", holding one text: "<tag key> <address> <tag value>":
// the fence tag the controller wrote (its key and value, as a route table
// carries them as an EC2 tag) and the address the writer pointed the record
// at in the same batch. A route table says which interface its route points
// at; an address record only says an address. The fence's address tells
// which holder an address belongs to, so the controller's rules (is the
// holder's route still its own? did a rival take it?) read a DNS record as
// they read a route table.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include "cloud.hpp"
#include "route53_fence.hpp"
#include "cpp_only.hpp"

namespace pg_vip {

// A DNS target as pg_vip.dns_records lists it: "<hosted zone>:<name>".
struct DnsTarget {
  std::string zone;  // bare hosted zone id
  std::string name;  // dns_name() form, with the final dot
};
// "Z1D633PJN98FT9:db.example.com." to its parts; nullopt for anything that
// is not a hosted zone id, one colon and a DNS name (the id of another kind).
std::optional<DnsTarget> parse_dns_target(std::string_view id);
std::string dns_target_id(const DnsTarget &t);
// "_pg_vip.db.example.com.": where the fence record of a name lives.
std::string dns_fence_name(const std::string &name);

// The fence record's text, parsed.
struct DnsFence {
  std::string key;      // a fence tag key of this VIP (fence_tag_key())
  std::string address;  // what its writer pointed the address record at
  std::string value;    // the fence tag value (fence_tag_value())
};
std::string dns_fence_text(const DnsFence &f);
// nullopt for a text that is not "<key> <address> <value>" with a key of
// this VIP and an IP address: not a fence pg_vip wrote for it.
std::optional<DnsFence> parse_dns_fence_text(std::string_view text, const std::string &vip_cidr);

// What this node writes into a DNS record.
struct DnsSelf {
  std::string address;       // pg_vip.dns_value resolved: an IPv4 or IPv6 address
  std::string interface_id;  // the interface the claim points the other kinds at
  long ttl = 10;             // pg_vip.dns_ttl, for the address and the fence record
};
bool is_ip_address(const std::string &address);  // IPv4 or IPv6, as text
// "A" for an IPv4 address, "AAAA" for IPv6.
std::string address_type(const std::string &address);

// A read of a DNS target in every kind's words. The address record holding
// exactly this node's address is Ours, unless the fence names that address
// with another interface (an address every node writes: the Elastic IP's,
// for dns_value = elastic), which is Other at that interface; the address the fence record names,
// Other at the interface in the fence's tag (so that the controller sees the
// holder's own record); any other address, Other at that address; none,
// Missing. The fence record's tag is the fence tag; a fence record pg_vip
// cannot read is shown under the VIP's legacy key, so that the controller
// counts it foreign and keeps its hands off.
TargetRead dns_target_read(const std::string &id, const aws::TargetRead &records, const DnsSelf &me,
                           const std::string &vip_cidr);

// The fence record a batch builds on: the record set exactly as last read
// (or as this node last wrote it), and its parsed text when pg_vip's.
struct DnsLastRead {
  std::optional<aws::RecordSet> record;
  std::optional<DnsFence> fence;
  std::optional<aws::RecordSet> address;  // the address record as last read
};
// The address record holds this node's address, but not as this node
// writes it (another TTL: the record made by hand before pg_vip, or a
// pg_vip.dns_ttl changed since): a batch that writes the fence rewrites it
// too, so that the setting takes effect without a failover.
bool stale_own_address(const DnsLastRead &last, const DnsSelf &me);
// The one batch for a target: point (UPSERT the address record at this
// node's address) and/or fence (the fence record's tag becomes `tag`, with
// this node's address), guarded by the fence record as last read: DELETE it
// exactly as read and CREATE the new one, or CREATE alone when none was read.
// A point without a new tag keeps the fence record as read (DELETE and
// CREATE the same set), so it too succeeds only if no one wrote the fence
// since; with no fence record read it is a plain UPSERT (the controller
// points without a tag only where this node's own tag stands). Throws
// ConfigError for a name or text Route 53 would refuse; Error when neither
// point nor a tag is asked.
aws::ChangeBatch dns_claim_batch(const DnsTarget &target, const DnsSelf &me, const DnsLastRead &last, bool point,
                                 const std::optional<std::pair<std::string, std::string>> &tag);

}  // namespace pg_vip
