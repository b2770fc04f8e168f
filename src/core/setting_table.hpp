// Every pg_vip.* setting, one row each: what the glue registers as a GUC
// (src/glue/gucs.cpp loops over it), what vip_check_setting() knows, and what
// README.md's settings table must say (test/unit/setting_table_test.cpp holds
// the README to it). A new setting is one row here and one variable in the
// glue; nothing else lists the settings.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "cpp_only.hpp"
#include "settings.hpp"

namespace pg_vip::settings {

enum class Type { Bool, Int, Real, Enum, String, List };

// When a new value takes effect: PostgreSQL's PGC_SIGHUP, PGC_POSTMASTER
// and PGC_SUSET, without PostgreSQL's headers.
enum class Context { Reload, Restart, Superuser };

// The base unit of an integer setting (GUC_UNIT_MS, GUC_UNIT_S).
enum class Unit { None, Ms, S };

struct EnumValue {
  const char *name;
  int value;
};

// A string setting's parser: the canonical form of a good value; throws
// ConfigError (naming the setting and the value) for a bad one.
using Normalizer = std::string (*)(std::string_view value);

struct Setting {
  const char *name;  // with the "pg_vip." prefix
  Type type;
  Context context;
  Unit unit;
  // Bool: 0 or 1; Int and Enum: the value; String and List: unused.
  int boot_int;
  int min_int;
  int max_int;
  double boot_real;
  double min_real;
  double max_real;
  const char *boot_text;  // String and List
  const EnumValue *enum_values;
  std::size_t n_enum_values;
  // String and List: the core's parser; nullptr: checked in the glue (the
  // glue names the check hook, and a test there holds it).
  Normalizer normalize;
  // A value that is a credential of sorts: error messages never show it whole.
  bool secret;
  const char *values;  // README's "values" cell for a String or List
  const char *short_desc;
  const char *long_desc;  // nullptr: none
};

// Row builders, so that each row says only what its type needs.
constexpr Setting text_setting(const char *name, Type type, const char *boot, Normalizer normalize, const char *values,
                               const char *short_desc, const char *long_desc = nullptr, bool secret = false,
                               Context context = Context::Reload) {
  return Setting{name, type, context, Unit::None, 0,         0,      0,      0,          0,
                 0,    boot, nullptr, 0,          normalize, secret, values, short_desc, long_desc};
}

constexpr Setting bool_setting(const char *name, bool boot, const char *short_desc, const char *long_desc = nullptr,
                               Context context = Context::Reload) {
  return Setting{name, Type::Bool, context, Unit::None, boot ? 1 : 0, 0,     1,       0,          0,
                 0,    nullptr,    nullptr, 0,          nullptr,      false, nullptr, short_desc, long_desc};
}

constexpr Setting int_setting(const char *name, int boot, int min, int max, Unit unit, const char *short_desc,
                              const char *long_desc = nullptr, Context context = Context::Reload) {
  return Setting{name, Type::Int, context, unit, boot,    min,   max,     0,          0,
                 0,    nullptr,   nullptr, 0,    nullptr, false, nullptr, short_desc, long_desc};
}

template <std::size_t N>
constexpr Setting enum_setting(const char *name, int boot, const EnumValue (&values)[N], const char *short_desc,
                               const char *long_desc = nullptr, Context context = Context::Reload) {
  return Setting{name, Type::Enum, context, Unit::None, boot,    0,     0,       0,          0,
                 0,    nullptr,    values,  N,          nullptr, false, nullptr, short_desc, long_desc};
}

// pg_vip.fence_action's values; the glue's fence_action::Action has the same
// numbers (a static_assert there holds them together).
inline constexpr EnumValue kFenceActions[] = {
    {"none", 0},       // the VIP is moved, nothing else changes
    {"reject", 1},     // new connections refused while fenced
    {"terminate", 2},  // reject, and the sessions already there ended once
};

// Registered settings, in README order. Every one is superuser-only: they
// steer a process that changes the network, and the notification command
// may carry credentials of its own.
inline constexpr Setting kSettings[] = {
    text_setting("pg_vip.vip", Type::String, "", normalize_vip, "IPv4 `/32` or IPv6 `/128`; empty: not configured",
                 "The virtual IP, as a /32 (IPv4) or /128 (IPv6) CIDR; empty: not configured."),
    text_setting("pg_vip.route_tables", Type::List, "", normalize_route_tables,
                 "`rtb-` + 8 or 17 hex digits, comma-separated, at most 200, no duplicates",
                 "Comma-separated ids of the VPC route tables that carry the virtual IP."),
    text_setting("pg_vip.elastic_ips", Type::List, "", normalize_elastic_ips,
                 "one allocation id: `eipalloc-` + 8 or 17 hex digits; or empty",
                 "The allocation id of the Elastic IP associated with the primary; empty: none."),
    text_setting("pg_vip.elastic_ip_private_address", Type::String, "", parse_elastic_ip_private_address,
                 "one IPv4 address; or empty",
                 "The private address of the network interface the Elastic IPs are associated with; empty: its "
                 "primary private address."),
    text_setting("pg_vip.secondary_ips", Type::List, "", normalize_secondary_ips,
                 "IPv4 addresses, comma-separated, at most 50, no duplicates; or empty",
                 "Secondary private IPv4 addresses moved to the primary's network interface, fenced by a tag per "
                 "address on their subnet; empty: none."),
    text_setting("pg_vip.dns_records", Type::List, "", normalize_dns_records,
                 "`<hosted zone id>:<record name>`, comma-separated, at most 20, no duplicates; or empty",
                 "Route 53 records pointed at the primary, each as hosted zone id:record name; empty: none."),
    int_setting("pg_vip.dns_ttl", 10, 0, kMaxDnsTtlSeconds, Unit::S, "The TTL of the Route 53 records pg_vip writes."),
    text_setting("pg_vip.dns_value", Type::String, "private", parse_dns_value,
                 "`private`, `public`, `elastic`, or an IPv4 or IPv6 address",
                 "What the Route 53 records point at: the primary's private or public address (from instance "
                 "metadata), the first Elastic IP's public address, or this node's own fixed address."),
    text_setting("pg_vip.route53_endpoint", Type::String, "", normalize_route53_endpoint,
                 "an `http` or `https` URL: scheme, host, optional port; or empty",
                 "The Route 53 API endpoint URL; empty: AWS_ENDPOINT_URL_ROUTE_53, AWS_ENDPOINT_URL, then the "
                 "partition's endpoint."),
    text_setting("pg_vip.network_interface", Type::String, "auto", parse_network_interface,
                 "`auto`, or `eni-` + 8 or 17 hex digits",
                 "The network interface the VIP routes point at: an eni- id, or auto for this instance's primary "
                 "interface."),
    text_setting("pg_vip.region", Type::String, "", parse_region, "an AWS region name such as `us-east-1`, or empty",
                 "The AWS region; empty: AWS_REGION, AWS_DEFAULT_REGION, then instance metadata."),
    text_setting("pg_vip.ec2_endpoint", Type::String, "", normalize_ec2_endpoint,
                 "an `http` or `https` URL: scheme, host, optional port; or empty",
                 "The EC2 API endpoint URL; empty: AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL, then the regional "
                 "endpoint."),
    text_setting("pg_vip.imds_endpoint", Type::String, "http://169.254.169.254", normalize_imds_endpoint,
                 "an `http` or `https` URL: scheme, host, optional port",
                 "The instance metadata service endpoint URL."),
    text_setting("pg_vip.aws_profile", Type::String, "", parse_aws_profile,
                 "at most 64 letters, digits or `_ . - + @ /`; or empty",
                 "The profile of the shared AWS credentials files; empty: AWS_PROFILE, then default."),
    // The role the targets are reached through when they live in another
    // account (issue 20), assumed with the credentials the rows above find.
    text_setting("pg_vip.role_arn", Type::String, "", parse_role_arn,
                 "`arn:aws:iam::<12 digits>:role/<path/name>`; or empty",
                 "An IAM role, possibly in another account, whose credentials (from STS AssumeRole) read and change "
                 "the targets; empty: the node's own credentials."),
    text_setting("pg_vip.role_external_id", Type::String, "", parse_role_external_id,
                 "2 to 1224 letters, digits or `_ + = , . @ : / -`; or empty",
                 "The external id the role's trust policy asks for; empty: none.", nullptr, true),
    text_setting("pg_vip.role_session_name", Type::String, "", parse_role_session_name,
                 "2 to 64 letters, digits or `_ + = , . @ -`; or empty",
                 "The session name of the assumed role, shown in CloudTrail; empty: pg_vip- and the node name (else "
                 "the instance id)."),
    text_setting("pg_vip.sts_endpoint", Type::String, "", normalize_sts_endpoint,
                 "an `http` or `https` URL: scheme, host, optional port; or empty",
                 "The STS endpoint URL the role is assumed at; empty: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, then "
                 "the regional endpoint."),
    text_setting("pg_vip.node_name", Type::String, "", parse_node_name, "at most 63 printable ASCII bytes; or empty",
                 "This node's name in status, tags and events; empty: cluster_name, then the host name."),
    bool_setting("pg_vip.enabled", true, "Whether pg_vip moves the virtual IP."),
    bool_setting("pg_vip.dry_run", false, "Decide and report, but send no request that changes AWS."),
    int_setting("pg_vip.check_interval", 10000, 100, 3600 * 1000, Unit::Ms,
                "How often a primary re-verifies its routes."),
    // A fleet's reads are its nodes' checks. A primary whose standbys all
    // stream from it has had none promoted, and a standby that streams
    // from a live primary is not about to be: both read less often, and
    // go back to check_interval the moment streaming stops.
    int_setting("pg_vip.replicated_check_interval", 300000, 100, 3600 * 1000, Unit::Ms,
                "How often a primary that holds the VIP reads its targets while its standbys all stream from it.",
                "When a standby stops streaming the primary reads at once, then every check_interval for a lease "
                "(one minute at the default check_interval); the longer of the two settings applies."),
    int_setting("pg_vip.standby_check_interval", 600000, 100, 3600 * 1000, Unit::Ms,
                "How often a standby that streams from its primary reads the VIP's targets.",
                "A standby whose WAL receiver is not streaming reads every check_interval, and at once when "
                "streaming stops, so that a promotion acts on a fresh read; the longer of the two settings applies."),
    int_setting("pg_vip.request_timeout", 2000, 100, 60 * 1000, Unit::Ms, "The bound on one HTTP request to AWS."),
    text_setting("pg_vip.ca_file", Type::String, "", normalize_ca_file,
                 "an absolute path to a readable regular file; or empty",
                 "A CA bundle to verify the endpoints' TLS certificates; empty: the system's store."),
    text_setting("pg_vip.fence_key_file", Type::String, "", normalize_fence_key_file,
                 "an absolute path to a file of 16 to 4096 bytes, mode `600`; or empty",
                 "A file (mode 600, the same on every node) whose key MACs the fence tags; a tag without a valid MAC "
                 "is not this cluster's. Empty: no key."),
    text_setting("pg_vip.event_notification_command", Type::String, "", parse_notification_command,
                 "a shell command whose placeholders are unquoted words (see below); or empty",
                 "A shell command run on each event: %n %e %s %t %d %v %r as unquoted words, also in PG_VIP_* "
                 "variables."),
    text_setting("pg_vip.event_notifications", Type::List, "", normalize_event_list,
                 "event names, comma-separated; or empty", "The events that run the notification command; empty: all."),
    // vip_preflight() sends about three DryRun requests per route table; they
    // draw on the account's request buckets as a failover's ReplaceRoute does.
    int_setting("pg_vip.preflight_min_interval", 60000, 1000, 24 * 3600 * 1000, Unit::Ms,
                "The least time between two runs of vip_preflight()'s checks; a call sooner gets the last run's rows.",
                "Superusers may ask for a fresh run at any time: vip_preflight(fresh => true)."),
    text_setting("pg_vip.preflight_probe_table", Type::String, "", parse_probe_table,
                 "`rtb-` + 8 or 17 hex digits; or empty",
                 "A route table pg_vip does not manage, on which vip_preflight() proves each changing action "
                 "refused; empty: not checked."),
    enum_setting("pg_vip.fence_action", 0, kFenceActions, "What a fenced node does about its own clients.",
                 "reject refuses new connections while this node is fenced, but superusers' and replication's; "
                 "terminate also ends the ordinary sessions already there, once each time the node becomes fenced."),
    // Role names are SQL identifiers: the glue splits them as PostgreSQL does.
    text_setting("pg_vip.fence_allow_roles", Type::List, "", nullptr,
                 "SQL identifiers, comma-separated, not `public`; or empty",
                 "Roles that may still open ordinary sessions on a fenced node, with the members that inherit their "
                 "privileges (for monitoring); comma-separated SQL identifiers. Empty: none."),
};

// The row for `name`, with or without the "pg_vip." prefix, among the
// registered settings; nullptr if there is none. Never throws.
const Setting *find_setting(std::string_view name) noexcept;

// How PostgreSQL shows an integer of this unit (SHOW, README): the largest
// unit that divides it exactly, as "10s", "1min", "1d"; 0 and below bare.
std::string show_int(const Setting &s, long long value);

// README's cells for a row: the default as SHOW gives it, the values it
// takes, and when a change takes effect.
std::string readme_default(const Setting &s);
std::string readme_values(const Setting &s);
std::string readme_applies(const Setting &s);

}  // namespace pg_vip::settings
