#include "settings.hpp"

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
  std::vector<std::string> tables;
  if (trim(raw).empty()) return tables;
  std::set<std::string_view> seen;
  for (auto item : split_list(raw)) {
    if (item.empty())
      reject("route_tables", raw, "The list has an empty entry.",
             "Separate route table ids with single commas, for example \"rtb-0123abcd,rtb-4567ef01\".");
    if (!is_resource_id(item, "rtb-"))
      reject("route_tables", raw,
             "\"" + shown(item) +
                 "\" is not a route table id: expected \"rtb-\" followed by 8 or 17 lower-case hex digits.");
    if (!seen.insert(item).second)
      reject("route_tables", raw, "Route table \"" + std::string(item) + "\" is listed twice.");
    tables.emplace_back(item);
  }
  if (tables.size() > kMaxRouteTables)
    reject("route_tables", raw,
           "The list has " + std::to_string(tables.size()) + " route tables; at most " +
               std::to_string(kMaxRouteTables) + " are supported.");
  return tables;
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

std::string normalize(std::string_view raw_name, std::string_view value) {
  std::string_view name = raw_name;
  if (name.substr(0, 7) == "pg_vip.") name.remove_prefix(7);
  if (name == "vip") return trim(value).empty() ? std::string() : parse_vip(value).cidr;
  if (name == "route_tables") return join(parse_route_tables(value), ",");
  if (name == "preflight_probe_table") return parse_probe_table(value);
  if (name == "network_interface") return parse_network_interface(value);
  if (name == "region") return parse_region(value);
  if (name == "ec2_endpoint") return trim(value).empty() ? std::string() : parse_url(name, value).text;
  if (name == "imds_endpoint") return parse_url(name, value).text;
  if (name == "aws_profile") return parse_aws_profile(value);
  if (name == "node_name") return parse_node_name(value);
  if (name == "event_notifications") return join(parse_event_list(value), ",");
  if (name == "event_notification_command") return parse_notification_command(value);
  if (name == "ca_file") {
    check_ca_file(value);
    return std::string(trim(value));
  }
  if (name == "fence_key_file") {
    check_fence_key_file(trim(value));
    return std::string(trim(value));
  }
  throw ConfigError("unrecognized pg_vip setting \"" + shown(raw_name) + "\"",
                    "Settings that take a text value: vip, route_tables, network_interface, region, "
                    "ec2_endpoint, imds_endpoint, aws_profile, node_name, event_notification_command, "
                    "event_notifications, ca_file, fence_key_file, preflight_probe_table.");
}

std::string sanitize_node_name(std::string_view text) {
  std::string out;
  for (char c : text)
    if (std::isprint(static_cast<unsigned char>(c)) && out.size() < kMaxNodeName) out += c;
  return std::string(trim(out));
}

}  // namespace pg_vip::settings
