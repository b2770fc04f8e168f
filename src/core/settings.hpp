// Parsing and validation of every pg_vip.* setting. The GUC check hooks and
// vip_check_setting() call these, so postgresql.conf, ALTER SYSTEM and SQL
// all reject the same values with the same words.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cpp_only.hpp"

namespace pg_vip::settings {

// Most route tables one VIP may live in: bounds shared memory and one claim's fan-out.
constexpr std::size_t kMaxRouteTables = 200;
// Longest node name: it goes into route table tags and notification commands.
constexpr std::size_t kMaxNodeName = 63;

struct Vip {
  bool ipv6 = false;
  std::string address;  // canonical text form, without the prefix
  std::string cidr;     // canonical "address/32" or "address/128"
};

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // as written; IPv6 literals keep their brackets
  uint16_t port = 0;   // 0: the scheme's default
  std::string text;    // canonical form, without a trailing slash
};

// Each parse_* throws ConfigError whose message names the setting and the
// value and whose detail says what was expected.
Vip parse_vip(std::string_view value);
std::vector<std::string> parse_route_tables(std::string_view value);
std::string parse_network_interface(std::string_view value);  // "auto" or an eni id
std::string parse_probe_table(std::string_view value);        // one rtb id, or ""

std::string parse_region(std::string_view value);  // "" allowed
Url parse_url(std::string_view setting, std::string_view value);
std::string parse_aws_profile(std::string_view value);  // "" allowed
std::string parse_node_name(std::string_view value);    // "" allowed
std::vector<std::string> parse_event_list(std::string_view value);
// The event notification command, as written, once no placeholder in it
// could let the shell read a value (text from AWS among them) as code.
std::string parse_notification_command(std::string_view value);  // "" allowed
void check_ca_file(std::string_view value);                      // "" allowed

// Each setting's canonical form as a single string, as the GUC keeps it
// (setting_table.hpp names one of these, or a parse_* above, per row).
std::string normalize_vip(std::string_view value);  // "" allowed
std::string normalize_route_tables(std::string_view value);
std::string normalize_ec2_endpoint(std::string_view value);  // "" allowed
std::string normalize_imds_endpoint(std::string_view value);
std::string normalize_event_list(std::string_view value);
std::string normalize_ca_file(std::string_view value);
std::string normalize_fence_key_file(std::string_view value);

// One private address takes one Elastic IP (EC2 disassociates the one
// before), and the Elastic IPs all go to pg_vip.elastic_ip_private_address.
constexpr std::size_t kMaxElasticIps = 1;
// Most targets of every registered kind: what the status (shared memory) holds.
constexpr std::size_t kMaxSecondaryIps = 50;  // the most private IPv4 addresses any interface type takes
constexpr std::size_t kMaxTargets = kMaxRouteTables + kMaxElasticIps + kMaxSecondaryIps;

constexpr std::size_t kMaxDnsRecords = 20;    // one ChangeResourceRecordSets per zone: bounds a claim's requests
constexpr int kMaxDnsTtlSeconds = 24 * 3600;  // a failover record cached for longer defeats the failover
std::vector<std::string> parse_elastic_ips(std::string_view value);  // allocation ids; "" allowed
std::string normalize_elastic_ips(std::string_view value);
std::string parse_elastic_ip_private_address(std::string_view value);  // one IPv4 address, or ""
std::vector<std::string> parse_secondary_ips(std::string_view value);  // canonical IPv4 addresses
std::string normalize_secondary_ips(std::string_view value);

struct DnsRecord {
  std::string zone_id;  // "Z" and upper-case letters and digits
  std::string name;     // lower case, with its trailing dot
};
std::vector<DnsRecord> parse_dns_records(std::string_view value);  // "" allowed
std::string normalize_dns_records(std::string_view value);         // "zone:name.,zone:name."
// "private", "public", "elastic", or an IPv4 or IPv6 address (canonical form).
std::string parse_dns_value(std::string_view value);
std::string normalize_route53_endpoint(std::string_view value);  // "" allowed
std::string parse_role_arn(std::string_view value);              // "" allowed
// A secret of sorts: a refusal says where the value is wrong, never what it is.
std::string parse_role_external_id(std::string_view value);   // "" allowed
std::string parse_role_session_name(std::string_view value);  // "" allowed: default_role_session_name()
std::string normalize_sts_endpoint(std::string_view value);   // "" allowed
// "pg_vip-" and the node name, its characters outside the allowed ones as
// "-", cut to the 64 characters STS takes.
std::string default_role_session_name(std::string_view node_name);

// Validates `value` for the string setting `name` (with or without the
// "pg_vip." prefix) and returns its canonical form. Unknown names are a
// ConfigError; a setting of another type, or checked in the glue, an Error.
std::string normalize(std::string_view name, std::string_view value);

// Turns any text (a cluster_name, a host name) into a usable node name: the
// printable ASCII characters, cut to kMaxNodeName bytes.
std::string sanitize_node_name(std::string_view text);
}  // namespace pg_vip::settings
