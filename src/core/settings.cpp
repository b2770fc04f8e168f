#include "settings.hpp"

#include "setting_table.hpp"

#include "fence_key.hpp"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <set>

#include "error.hpp"
#include "events.hpp"
#include "notify.hpp"
#include "text.hpp"

namespace pg_vip::settings {
namespace {

// Shows a value in a message without letting control characters or a huge
// paste make the message unreadable.
std::string shown(std::string_view value) {
  std::string out;
  for (char c : value.substr(0, 100)) out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  if (value.size() > 100) out += "...";
  return out;
}

[[noreturn]] void reject(std::string_view setting, std::string_view value, std::string detail, std::string hint = {}) {
  throw ConfigError("invalid value for parameter \"pg_vip." + std::string(setting) + "\": \"" + shown(value) + "\"",
                    std::move(detail), std::move(hint));
}

bool all_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// AWS resource ids: a prefix, a dash, then 8 (older) or 17 (current) hex digits.
bool is_resource_id(std::string_view s, std::string_view prefix) {
  if (s.size() <= prefix.size() || s.substr(0, prefix.size()) != prefix) return false;
  auto digits = s.substr(prefix.size());
  return (digits.size() == 8 || digits.size() == 17) && all_lower_hex(digits);
}

std::vector<std::string_view> split_list(std::string_view value) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    auto comma = value.find(',', start);
    out.push_back(trim(value.substr(start, comma == std::string_view::npos ? comma : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

// A comma-separated list of AWS resource ids of one kind: no empty entry,
// no id twice, at most `max`.
struct IdList {
  std::string_view setting;
  std::string_view prefix;  // "rtb-"
  std::string noun;         // "route table"
  std::string id_noun;      // "route table id"
  std::string ids_noun;     // "route table ids", in the hint
  std::string example;      // a good list, quoted
  std::string bad_id_hint;  // "" for none
  std::size_t max;
};

std::vector<std::string> parse_id_list(std::string_view raw, const IdList &kind) {
  std::vector<std::string> ids;
  if (trim(raw).empty()) return ids;
  std::set<std::string_view> seen;
  for (auto item : split_list(raw)) {
    if (item.empty())
      reject(kind.setting, raw, "The list has an empty entry.",
             "Separate " + kind.ids_noun + " with single commas, for example " + kind.example + ".");
    if (!is_resource_id(item, kind.prefix))
      reject(kind.setting, raw,
             "\"" + shown(item) + "\" is not " + (kind.id_noun[0] == 'E' ? "an " : "a ") + kind.id_noun +
                 ": expected \"" + std::string(kind.prefix) + "\" followed by 8 or 17 lower-case hex digits.",
             kind.bad_id_hint);
    if (!seen.insert(item).second) {
      std::string noun = kind.noun;
      noun[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(noun[0])));
      reject(kind.setting, raw, noun + " \"" + std::string(item) + "\" is listed twice.");
    }
    ids.emplace_back(item);
  }
  if (ids.size() > kind.max)
    reject(kind.setting, raw,
           "The list has " + std::to_string(ids.size()) + " " + kind.noun + "s; at most " + std::to_string(kind.max) +
               " are supported.");
  return ids;
}

}  // namespace

Vip parse_vip(std::string_view raw) {
  auto value = trim(raw);
  const std::string expected = "The virtual IP must be an IPv4 address with prefix /32 or an IPv6 address with prefix "
                               "/128, for example 10.0.0.10/32.";
  auto slash = value.find('/');
  if (slash == std::string_view::npos)
    reject("vip", raw, expected, "Write the address with its prefix, for example \"" + shown(value) + "/32\".");
  std::string address(value.substr(0, slash));
  std::string prefix(value.substr(slash + 1));
  unsigned char buf[16];
  Vip vip;
  char text[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, address.c_str(), buf) == 1) {
    if (prefix != "32") reject("vip", raw, expected, "A virtual IP is a single address: use /32.");
    inet_ntop(AF_INET, buf, text, sizeof text);
    vip.ipv6 = false;
    vip.address = text;
    vip.cidr = vip.address + "/32";
  } else if (inet_pton(AF_INET6, address.c_str(), buf) == 1) {
    if (prefix != "128") reject("vip", raw, expected, "A virtual IP is a single address: use /128.");
    inet_ntop(AF_INET6, buf, text, sizeof text);
    vip.ipv6 = true;
    vip.address = text;
    vip.cidr = vip.address + "/128";
  } else {
    reject("vip", raw, expected);
  }
  return vip;
}

std::vector<std::string> parse_route_tables(std::string_view raw) {
  return parse_id_list(raw, {"route_tables", "rtb-", "route table", "route table id", "route table ids",
                             "\"rtb-0123abcd,rtb-4567ef01\"", "", kMaxRouteTables});
}

std::string parse_probe_table(std::string_view raw) {
  auto value = trim(raw);
  if (value.empty()) return std::string();
  if (!is_resource_id(value, "rtb-"))
    reject("preflight_probe_table", raw,
           "\"" + shown(value) +
               "\" is not a route table id: expected one \"rtb-\" followed by 8 or 17 lower-case hex digits, or "
               "nothing.",
           "Name one route table in this region that pg_vip does not manage, or leave it empty.");
  return std::string(value);
}

std::string parse_network_interface(std::string_view raw) {
  auto value = trim(raw);
  if (value == "auto") return "auto";
  if (!is_resource_id(value, "eni-"))
    reject("network_interface", raw,
           "Expected \"auto\" or a network interface id: \"eni-\" followed by 8 or 17 lower-case hex digits.");
  return std::string(value);
}

std::string parse_region(std::string_view raw) {
  auto value = trim(raw);
  if (value.empty()) return {};
  // partition-area-number, e.g. us-east-1, us-gov-west-1, ap-southeast-3, us-isob-east-1
  bool ok = value.size() <= 32;
  std::size_t parts = 0;
  std::size_t start = 0;
  while (ok) {
    auto dash = value.find('-', start);
    auto part = value.substr(start, dash == std::string_view::npos ? dash : dash - start);
    bool last = dash == std::string_view::npos;
    if (part.empty()) ok = false;
    else if (last) ok = std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    else ok = std::all_of(part.begin(), part.end(), [](char c) { return c >= 'a' && c <= 'z'; });
    ++parts;
    if (last) break;
    start = dash + 1;
  }
  if (!ok || parts < 3) reject("region", raw, "Expected an AWS region name such as \"us-east-1\", or an empty string.");
  return std::string(value);
}

Url parse_url(std::string_view setting, std::string_view raw) {
  auto value = trim(raw);
  const std::string expected = "Expected an http or https URL with a host and an optional port, such as "
                               "\"https://ec2.us-east-1.amazonaws.com\" or \"http://127.0.0.1:8080\".";
  Url url;
  std::string_view rest;
  if (value.substr(0, 7) == "http://") {
    url.scheme = "http";
    rest = value.substr(7);
  } else if (value.substr(0, 8) == "https://") {
    url.scheme = "https";
    rest = value.substr(8);
  } else {
    reject(setting, raw, expected);
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  for (char c : rest)
    if (!std::isgraph(static_cast<unsigned char>(c)) || c == '/' || c == '?' || c == '#' || c == '@')
      reject(setting, raw, expected, "Give only the scheme, host and port: no path, query or user name.");
  std::string_view hostport = rest;
  std::string_view port;
  bool has_port = false;
  if (!hostport.empty() && hostport.front() == '[') {
    auto close = hostport.find(']');
    if (close == std::string_view::npos) reject(setting, raw, expected);
    url.host = std::string(hostport.substr(0, close + 1));
    auto after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') reject(setting, raw, expected);
      port = after.substr(1);
      has_port = true;
    }
    unsigned char buf[16];
    if (inet_pton(AF_INET6, url.host.substr(1, url.host.size() - 2).c_str(), buf) != 1) reject(setting, raw, expected);
  } else {
    auto colon = hostport.find(':');
    url.host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = hostport.substr(colon + 1);
      has_port = true;
    }
    for (char c : url.host)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_'))
        reject(setting, raw, expected);
  }
  if (url.host.empty()) reject(setting, raw, expected);
  if (has_port) {
    unsigned long n = 0;
    bool ok = !port.empty() && port.size() <= 5 &&
              std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (ok) n = std::stoul(std::string(port));
    if (!ok || n == 0 || n > 65535) reject(setting, raw, "The port must be a number from 1 to 65535.");
    url.port = static_cast<uint16_t>(n);
  }
  url.text = url.scheme + "://" + url.host + (url.port ? ":" + std::to_string(url.port) : "");
  return url;
}

std::string parse_aws_profile(std::string_view raw) {
  auto value = trim(raw);
  bool ok = value.size() <= 64 && std::all_of(value.begin(), value.end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("_.-+@/", c) != nullptr;
            });
  if (!ok) reject("aws_profile", raw, "A profile name has at most 64 letters, digits or the characters _ . - + @ /.");
  return std::string(value);
}

std::string parse_node_name(std::string_view raw) {
  auto value = trim(raw);
  if (value.size() > kMaxNodeName)
    reject("node_name", raw, "A node name has at most " + std::to_string(kMaxNodeName) + " bytes.");
  for (char c : value)
    if (!std::isprint(static_cast<unsigned char>(c)))
      reject("node_name", raw, "A node name has printable ASCII characters only.");
  return std::string(value);
}

std::vector<std::string> parse_event_list(std::string_view raw) {
  std::vector<std::string> events;
  if (trim(raw).empty()) return events;
  std::string known = join(kEventNames, ", ");
  for (auto item : split_list(raw)) {
    if (!is_event_name(item))
      reject("event_notifications", raw, "\"" + shown(item) + "\" is not an event name. Known events: " + known + ".",
             "Leave the list empty to be notified of every event.");
    if (std::find(events.begin(), events.end(), item) == events.end()) events.emplace_back(item);
  }
  return events;
}

std::string parse_notification_command(std::string_view raw) {
  if (auto problem = check_notification_template(raw))
    reject("event_notification_command", raw, std::move(problem->detail), std::move(problem->hint));
  return std::string(raw);
}

void check_ca_file(std::string_view raw) {
  std::string value(trim(raw));
  if (value.empty()) return;
  if (value.front() != '/') reject("ca_file", raw, "The CA file must be given as an absolute path.");
  struct stat st;
  if (stat(value.c_str(), &st) != 0)
    reject("ca_file", raw, "The file cannot be read: " + std::string(std::strerror(errno)) + ".");
  if (!S_ISREG(st.st_mode)) reject("ca_file", raw, "The path is not a regular file.");
  if (access(value.c_str(), R_OK) != 0)
    reject("ca_file", raw, "The file cannot be read: " + std::string(std::strerror(errno)) + ".",
           "Make the file readable by the operating system user running PostgreSQL.");
}

std::string normalize_vip(std::string_view value) {
  return trim(value).empty() ? std::string() : parse_vip(value).cidr;
}
std::string normalize_route_tables(std::string_view value) { return join(parse_route_tables(value), ","); }
std::string normalize_ec2_endpoint(std::string_view value) {
  return trim(value).empty() ? std::string() : parse_url("ec2_endpoint", value).text;
}
std::string normalize_imds_endpoint(std::string_view value) { return parse_url("imds_endpoint", value).text; }
std::string normalize_event_list(std::string_view value) { return join(parse_event_list(value), ","); }
std::string normalize_ca_file(std::string_view value) {
  check_ca_file(value);
  return std::string(trim(value));
}
std::string normalize_fence_key_file(std::string_view value) {
  check_fence_key_file(trim(value));
  return std::string(trim(value));
}

std::string normalize(std::string_view name, std::string_view value) {
  const Setting *s = find_setting(name);
  if (s == nullptr) {
    std::string names;
    for (const auto &row : kSettings) names += (names.empty() ? "" : ", ") + std::string(row.name + 7);
    throw ConfigError("unrecognized pg_vip setting \"" + shown(name) + "\"", "pg_vip's settings are " + names + ".");
  }
  // A ConfigError, as for any name it does not parse: the glue never asks,
  // and the fuzz target (test/fuzz/settings.cpp) holds normalize() to
  // refusing with ConfigError only.
  if (s->normalize == nullptr)
    throw ConfigError("pg_vip setting \"" + std::string(s->name) + "\" is not checked here",
                      "Its value is checked by PostgreSQL or by pg_vip's glue, as vip_check_setting() does.");
  return s->normalize(value);
}

// --- The kinds of target under way (issue 20) ---

namespace {

// An IPv4 address a VPC interface can hold: not unspecified, loopback,
// link-local (169.254/16: instance metadata lives there), multicast or
// broadcast. Returns its canonical form, or "" if it is none.
std::string interface_ipv4(std::string_view text) {
  unsigned char b[4];
  if (inet_pton(AF_INET, std::string(text).c_str(), b) != 1) return {};
  bool usable = b[0] != 0 && b[0] != 127 && !(b[0] == 169 && b[1] == 254) && b[0] < 224;
  if (!usable) return {};
  char out[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, b, out, sizeof out);
  return out;
}

bool is_word_char(char c, const char *extra) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || (c != '\0' && std::strchr(extra, c) != nullptr);
}

// A DNS name as Route 53 stores it: lower case, with its trailing dot;
// labels of 1 to 63 letters, digits and hyphens, not starting or ending
// with a hyphen; at most 253 characters without the final dot. Wildcards
// are refused: a failover record answers for one name.
std::string dns_name(std::string_view setting, std::string_view raw, std::string_view name) {
  std::string out;
  for (char c : name) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!out.empty() && out.back() == '.') out.pop_back();
  auto bad = [&](const std::string &why) {
    reject(setting, raw, "\"" + shown(name) + "\" is not a DNS record name: " + why,
           "Write the record's full name, such as db.example.com.");
  };
  if (out.empty()) bad("it is empty.");
  if (out.size() > 253) bad("a name has at most 253 characters.");
  std::size_t start = 0;
  while (true) {
    auto dot = out.find('.', start);
    auto label = std::string_view(out).substr(start, dot == std::string::npos ? dot : dot - start);
    if (label == "*") bad("wildcard records are not supported.");
    if (label.empty() || label.size() > 63) bad("each label has 1 to 63 characters.");
    for (char c : label)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-'))
        bad("a label has letters, digits and hyphens only.");
    if (label.front() == '-' || label.back() == '-') bad("a label neither starts nor ends with a hyphen.");
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out + ".";
}

}  // namespace

std::vector<std::string> parse_elastic_ips(std::string_view raw) {
  auto ids = parse_id_list(
      raw, {"elastic_ips", "eipalloc-", "Elastic IP", "Elastic IP allocation id", "allocation ids",
            "\"eipalloc-0123abcd\"", "An Elastic IP is named by its allocation id, not by its address.", 32});
  // EC2 maps one Elastic IP to one private address: associating a second
  // with the address takes the first away, so two would take turns.
  if (ids.size() > kMaxElasticIps)
    reject("elastic_ips", raw,
           "The list has " + std::to_string(ids.size()) +
               " Elastic IPs, but they would all be associated with the one private address "
               "pg_vip.elastic_ip_private_address names, and EC2 maps one Elastic IP to a private address: each "
               "association would take the one before away.",
           "List one Elastic IP.");
  return ids;
}

std::string normalize_elastic_ips(std::string_view value) { return join(parse_elastic_ips(value), ","); }

std::string parse_elastic_ip_private_address(std::string_view raw) {
  auto value = trim(raw);
  if (value.empty()) return {};
  auto address = interface_ipv4(value);
  if (address.empty())
    reject("elastic_ip_private_address", raw,
           "Expected one private IPv4 address of the network interface, such as \"10.0.1.25\", or nothing.");
  return address;
}

std::vector<std::string> parse_secondary_ips(std::string_view raw) {
  std::vector<std::string> addresses;
  if (trim(raw).empty()) return addresses;
  for (auto item : split_list(raw)) {
    if (item.empty())
      reject("secondary_ips", raw, "The list has an empty entry.",
             "Separate addresses with single commas, for example \"10.0.1.25,10.0.1.26\".");
    auto address = interface_ipv4(item);
    if (address.empty())
      reject("secondary_ips", raw,
             "\"" + shown(item) + "\" is not a private IPv4 address a network interface can hold.",
             "Write each address without a prefix, such as 10.0.1.25.");
    if (std::find(addresses.begin(), addresses.end(), address) != addresses.end())
      reject("secondary_ips", raw, "Address " + address + " is listed twice.");
    addresses.push_back(address);
  }
  if (addresses.size() > kMaxSecondaryIps)
    reject("secondary_ips", raw,
           "The list has " + std::to_string(addresses.size()) + " addresses; at most " +
               std::to_string(kMaxSecondaryIps) + " are supported.");
  return addresses;
}

std::string normalize_secondary_ips(std::string_view value) { return join(parse_secondary_ips(value), ","); }

std::vector<DnsRecord> parse_dns_records(std::string_view raw) {
  std::vector<DnsRecord> records;
  if (trim(raw).empty()) return records;
  const std::string form = "Write each record as <hosted zone id>:<record name>, such as "
                           "\"Z0123456789ABCDEFGHIJ:db.example.com\".";
  for (auto item : split_list(raw)) {
    if (item.empty()) reject("dns_records", raw, "The list has an empty entry.", form);
    auto colon = item.find(':');
    if (colon == std::string_view::npos)
      reject("dns_records", raw, "\"" + shown(item) + "\" names no hosted zone.", form);
    auto zone = trim(item.substr(0, colon));
    bool zone_ok =
        zone.size() >= 2 && zone.size() <= 32 && zone.front() == 'Z' &&
        std::all_of(zone.begin(), zone.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
    if (!zone_ok)
      reject("dns_records", raw,
             "\"" + shown(zone) +
                 "\" is not a hosted zone id: expected \"Z\" followed by upper-case letters and digits, at most 32 "
                 "characters in all.",
             form);
    DnsRecord record{std::string(zone), dns_name("dns_records", raw, trim(item.substr(colon + 1)))};
    for (const auto &r : records)
      if (r.zone_id == record.zone_id && r.name == record.name)
        reject("dns_records", raw, "Record " + record.zone_id + ":" + record.name + " is listed twice.");
    records.push_back(std::move(record));
  }
  if (records.size() > kMaxDnsRecords)
    reject("dns_records", raw,
           "The list has " + std::to_string(records.size()) + " records; at most " + std::to_string(kMaxDnsRecords) +
               " are supported.");
  return records;
}

std::string normalize_dns_records(std::string_view value) {
  std::string out;
  for (const auto &r : parse_dns_records(value)) out += (out.empty() ? "" : ",") + r.zone_id + ":" + r.name;
  return out;
}

std::string parse_dns_value(std::string_view raw) {
  auto value = trim(raw);
  std::string lower;
  for (char c : value) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // "elastic" needs pg_vip.elastic_ips too: that is checked where both
  // settings are known (the Route 53 Cloud, the preflight's configuration
  // row), not here, where another setting's value may not be loaded yet.
  if (lower == "private" || lower == "public" || lower == "elastic") return lower;
  std::string text(value);
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) return inet_ntop(AF_INET, buf, out, sizeof out);
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) return inet_ntop(AF_INET6, buf, out, sizeof out);
  reject("dns_value", raw,
         "Expected \"private\" (the primary's private address), \"public\" (its public address), \"elastic\" (its "
         "Elastic IP), or an IPv4 or IPv6 address.");
}

std::string normalize_route53_endpoint(std::string_view value) {
  return trim(value).empty() ? std::string() : parse_url("route53_endpoint", value).text;
}

std::string normalize_sts_endpoint(std::string_view value) {
  return trim(value).empty() ? std::string() : parse_url("sts_endpoint", value).text;
}

std::string parse_role_arn(std::string_view raw) {
  auto value = trim(raw);
  if (value.empty()) return {};
  const std::string expected = "Expected an IAM role ARN, arn:aws:iam::<12-digit account id>:role/<name> (the "
                               "name may have a path, such as role/pg_vip/failover), or nothing.";
  auto fail = [&](std::string why = {}) { reject("role_arn", raw, why.empty() ? expected : why + " " + expected); };
  std::string_view rest = value;
  if (rest.substr(0, 7) != "arn:aws") fail();
  rest.remove_prefix(7);
  auto colon = rest.find(':');
  if (colon == std::string_view::npos) fail();
  auto partition_tail = rest.substr(0, colon);  // "", or "-cn", "-us-gov", "-iso-b"
  if (!partition_tail.empty() && (partition_tail.front() != '-' || partition_tail.back() == '-' ||
                                  !std::all_of(partition_tail.begin(), partition_tail.end(),
                                               [](char c) { return (c >= 'a' && c <= 'z') || c == '-'; })))
    fail("\"arn:aws" + shown(partition_tail) + "\" is not an AWS partition.");
  rest.remove_prefix(colon + 1);
  if (rest.substr(0, 5) != "iam::") fail();
  rest.remove_prefix(5);
  auto account = rest.substr(0, 12);
  if (account.size() != 12 ||
      !std::all_of(account.begin(), account.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      rest.substr(12, 6) != ":role/")
    fail();
  rest.remove_prefix(18);
  auto slash = rest.rfind('/');
  auto path = slash == std::string_view::npos ? std::string_view() : rest.substr(0, slash + 1);
  auto name = slash == std::string_view::npos ? rest : rest.substr(slash + 1);
  bool name_ok = !name.empty() && name.size() <= 64 &&
                 std::all_of(name.begin(), name.end(), [](char c) { return is_word_char(c, "+=,.@-"); });
  bool path_ok = path.size() <= 511 && (path.empty() || path.front() != '/') &&
                 path.find("//") == std::string_view::npos &&
                 std::all_of(path.begin(), path.end(), [](char c) { return is_word_char(c, "+=,.@-/"); });
  if (!name_ok || !path_ok)
    fail("A role name has 1 to 64 letters, digits or the characters _ + = , . @ -; its path, those and /.");
  return std::string(value);
}

std::string parse_role_external_id(std::string_view raw) {
  auto value = trim(raw);
  if (value.empty()) return {};
  // The value is not shown: the message says how long it is and where it
  // goes wrong, which is enough to find the mistake in one's own copy.
  auto fail = [&](const std::string &why) {
    throw ConfigError("invalid value for parameter \"pg_vip.role_external_id\": a value of " +
                          std::to_string(value.size()) + " characters (not shown)",
                      why + " An external id has 2 to 1224 letters, digits or the characters _ + = , . @ : / -.",
                      "The value is not shown because an external id is a shared secret of sorts.");
  };
  if (value.size() < 2 || value.size() > 1224) fail("The value has " + std::to_string(value.size()) + " characters.");
  for (std::size_t i = 0; i < value.size(); ++i)
    if (!is_word_char(value[i], "+=,.@:/-"))
      fail("Character " + std::to_string(i + 1) + " is not one an external id may have.");
  return std::string(value);
}

std::string parse_role_session_name(std::string_view raw) {
  auto value = trim(raw);
  if (value.empty()) return {};
  bool ok = value.size() >= 2 && value.size() <= 64 &&
            std::all_of(value.begin(), value.end(), [](char c) { return is_word_char(c, "+=,.@-"); });
  if (!ok)
    reject("role_session_name", raw, "A role session name has 2 to 64 letters, digits or the characters _ + = , . @ -.",
           "Leave it empty for pg_vip- followed by the node name.");
  return std::string(value);
}

std::string default_role_session_name(std::string_view node_name) {
  std::string out = "pg_vip-";
  for (char c : node_name) {
    if (out.size() == 64) break;
    out += is_word_char(c, "+=,.@-") ? c : '-';
  }
  return out;
}

std::string sanitize_node_name(std::string_view text) {
  std::string out;
  for (char c : text)
    if (std::isprint(static_cast<unsigned char>(c)) && out.size() < kMaxNodeName) out += c;
  return std::string(trim(out));
}

}  // namespace pg_vip::settings
