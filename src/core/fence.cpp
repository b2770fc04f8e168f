#include "fence.hpp"

#include <algorithm>
#include <cstdlib>

#include "crypto.hpp"

namespace pg_vip {

namespace {

constexpr std::size_t kMaxTagValue = 256;  // EC2's limit for tag values

std::string mac_of(std::string_view key, std::string_view unsigned_value) {
  return crypto::hex(crypto::hmac_sha256(key, unsigned_value));
}

// Compares without an early exit: how long a comparison takes must not say
// how much of a forged MAC was right.
bool same_mac(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

bool parse_number(const std::string &v, uint64_t max, uint64_t &out) {
  if (v.empty() || v.size() > 20 || v[0] == '-' || v[0] == '+') return false;
  char *end = nullptr;
  unsigned long long n = std::strtoull(v.c_str(), &end, 10);
  if (*end || n > max) return false;
  out = n;
  return true;
}

}  // namespace

std::string fence_tag_key(const std::string &vip_cidr, uint32_t timeline) {
  return "pg_vip:" + vip_cidr + ":tl" + std::to_string(timeline);
}

std::string legacy_fence_tag_key(const std::string &vip_cidr) { return "pg_vip:" + vip_cidr; }

std::optional<uint32_t> fence_tag_key_timeline(const std::string &vip_cidr, const std::string &key) {
  std::string legacy = legacy_fence_tag_key(vip_cidr);
  if (key == legacy) return 0;
  if (key.compare(0, legacy.size(), legacy) != 0 || key.compare(legacy.size(), 3, ":tl") != 0) return std::nullopt;
  uint64_t n = 0;
  // Digits only, no leading zero: one timeline, one key.
  std::string digits = key.substr(legacy.size() + 3);
  if (digits.empty() || digits[0] == '0' || !parse_number(digits, UINT32_MAX, n)) return std::nullopt;
  return static_cast<uint32_t>(n);
}

std::string fence_tag_value(const Identity &me, Clock::time_point at, const Tenure &tenure,
                            std::string_view fence_key) {
  std::string head = "tl=" + std::to_string(me.timeline) + ";sysid=" + me.system_identifier + ";id=" + me.interface_id +
                     ";lease=" + std::to_string(std::chrono::ceil<std::chrono::seconds>(tenure.lease).count()) +
                     (tenure.since < 0 ? std::string() : ";since=" + std::to_string(tenure.since)) +
                     ";at=" + iso8601(at);
  std::string node = ";node=" + me.node_name;
  if (fence_key.empty()) return (head + node).substr(0, kMaxTagValue);
  // The MAC covers the value as stored, node name included: cut it to fit
  // first (mac= takes 69 bytes).
  std::size_t room = kMaxTagValue - head.size() - 69;
  if (node.size() > room) node.resize(room);
  return head + ";mac=" + mac_of(fence_key, head + node) + node;
}

std::optional<Holder> parse_fence_tag(const std::string &value, std::string_view fence_key) {
  Holder h;
  bool have_tl = false;
  std::string mac;
  std::size_t mac_start = std::string::npos, mac_end = 0;
  std::size_t start = 0;
  while (start < value.size()) {
    if (value.compare(start, 5, "node=") == 0) {
      h.node_name = value.substr(start + 5);
      break;
    }
    auto semi = value.find(';', start);
    std::string field = value.substr(start, semi == std::string::npos ? std::string::npos : semi - start);
    auto eq = field.find('=');
    if (eq == std::string::npos) return std::nullopt;
    std::string k = field.substr(0, eq), v = field.substr(eq + 1);
    uint64_t n = 0;
    if (k == "tl") {
      if (!parse_number(v, UINT32_MAX, n) || n == 0) return std::nullopt;
      h.timeline = static_cast<uint32_t>(n);
      have_tl = true;
    } else if (k == "sysid") {
      h.system_identifier = v;
    } else if (k == "id") {
      h.interface_id = v;
    } else if (k == "at") {
      h.at = v;
    } else if (k == "lease") {
      // A week at most: a tag cannot make its holder unlapsable.
      if (!parse_number(v, 7 * 24 * 3600, n)) return std::nullopt;
      h.lease = std::chrono::seconds(n);
    } else if (k == "since") {
      if (!parse_number(v, uint64_t(7258118400), n)) return std::nullopt;  // 2200-01-01
      h.since = static_cast<int64_t>(n);
    } else if (k == "mac") {
      mac = v;
      h.has_mac = true;
      mac_start = start - (start > 0 ? 1 : 0);  // with the ';' before it
      mac_end = semi == std::string::npos ? value.size() : semi;
    }
    if (semi == std::string::npos) break;
    start = semi + 1;
  }
  if (!have_tl) return std::nullopt;
  if (!fence_key.empty() && h.has_mac && mac_start != std::string::npos) {
    std::string unsigned_value = value.substr(0, mac_start) + value.substr(mac_end);
    h.authentic = same_mac(mac, mac_of(fence_key, unsigned_value));
  }
  return h;
}

std::string safe_node_name(std::string_view name) {
  static const char *hexdigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : name) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                 c == '.' || c == ':' || c == '@' || c == '/';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hexdigits[c >> 4];
      out += hexdigits[c & 15];
    }
  }
  return out;
}

std::string describe(const Holder &h) {
  return "node \"" + safe_node_name(h.node_name) + "\"" +
         (h.interface_id.empty() ? "" : " (" + safe_node_name(h.interface_id) + ")") + " on timeline " +
         std::to_string(h.timeline) + (h.at.empty() ? "" : " since " + safe_node_name(h.at));
}

std::string foreign_kind(const Identity &me, const std::optional<Holder> &h) {
  if (!h) return "not in pg_vip's format";
  if (h->system_identifier.empty()) return "no system identifier";
  if (h->system_identifier != me.system_identifier)
    return "another cluster's, system identifier " + safe_node_name(h->system_identifier);
  return "no valid MAC";
}

namespace {

bool foreign(const Identity &me, const Holder &h, const TieContext &tie) {
  if (h.system_identifier.empty() || h.system_identifier != me.system_identifier) return true;
  return tie.fence_key && !h.authentic;
}

// On one timeline: +1 when the holder is the incumbent (its term began
// first), -1 when this node is, 0 when both began in the same second (or
// neither says). Both nodes compare the same two values (each its own
// since= and the other's tag), so they agree whatever their clocks say; and
// it is a plain order, so among three or more nodes of one timeline there
// is no cycle (a tolerance band, "within a lease is a tie", would make one:
// A ties B, B ties C, C outranks A). A tag that does not say (pg_vip 0.2)
// ranks after one that does.
int incumbency(const Holder &h, const TieContext &tie) {
  constexpr int64_t kUnknown = INT64_MAX;
  int64_t theirs = h.since < 0 ? kUnknown : h.since, mine = tie.my_since < 0 ? kUnknown : tie.my_since;
  if (theirs < mine) return 1;
  if (mine < theirs) return -1;
  return 0;
}

}  // namespace

std::optional<FenceTagRef> choose_fence_tag(const std::map<std::string, std::string> &tags, const std::string &vip_cidr,
                                            const Identity &me, std::string_view fence_key,
                                            const std::string &route_interface) {
  std::optional<FenceTagRef> ours, stranger, taker;
  std::string ours_id;
  uint32_t ours_tl = 0, stranger_tl = 0;
  TieContext tie{!fence_key.empty(), -1};
  for (const auto &[key, value] : tags) {
    std::optional<uint32_t> key_tl = fence_tag_key_timeline(vip_cidr, key);
    if (!key_tl) continue;
    std::optional<Holder> h = parse_fence_tag(value, fence_key);
    bool cluster = h && !foreign(me, *h, tie) && (*key_tl == 0 || *key_tl == h->timeline);
    if (cluster) {
      // On one timeline the per-timeline key wins over the legacy one
      // (ties keep the first, and the legacy key sorts first).
      if (!ours || h->timeline >= ours_tl) {
        ours = FenceTagRef{key, value};
        ours_tl = h->timeline;
        ours_id = h->interface_id;
      }
      continue;
    }
    if (!stranger || *key_tl >= stranger_tl) {
      stranger = FenceTagRef{key, value};
      stranger_tl = *key_tl;
    }
    // Only another cluster's tag (a system identifier, not ours) can have
    // taken the table: a tag with none, or ours without a valid MAC (a
    // forgery, a leftover of pg_vip 0.2 once a fence key is set) must not
    // hide this cluster's newest tag because the route points where it says.
    if (h && !route_interface.empty() && h->interface_id == route_interface && !h->system_identifier.empty() &&
        h->system_identifier != me.system_identifier)
      taker = FenceTagRef{key, value};
  }
  if (!ours) return stranger;
  if (taker && ours_id != route_interface) return taker;
  return ours;
}

std::vector<std::string> fence_tag_keys_to_forget(const std::map<std::string, std::string> &tags,
                                                  const std::string &vip_cidr, const Identity &me, bool all_but_mine) {
  std::vector<std::string> out;
  std::string mine = fence_tag_key(vip_cidr, me.timeline);
  for (const auto &[key, value] : tags) {
    std::optional<uint32_t> key_tl = fence_tag_key_timeline(vip_cidr, key);
    if (!key_tl || key == mine) continue;
    if (all_but_mine) {
      out.push_back(key);
    } else if (*key_tl > 0) {
      if (*key_tl < me.timeline) out.push_back(key);
    } else {
      // The legacy key may still be written by a pg_vip 0.2 node of a newer
      // timeline, or by someone else: only this cluster's older tag goes.
      std::optional<Holder> h = parse_fence_tag(value);
      if (h && h->system_identifier == me.system_identifier && h->timeline < me.timeline) out.push_back(key);
    }
  }
  return out;
}

Standing judge(const Identity &me, const Holder &h, const TieContext &tie) {
  if (foreign(me, h, tie)) return Standing::Foreign;
  if (h.timeline > me.timeline) return Standing::Outranks;
  if (h.timeline < me.timeline) return Standing::Yields;
  if (h.interface_id.empty()) {
    // pg_vip 0.1 named the holder by node name only: this node's own old
    // tag, or one it outranks.
    return h.node_name == me.node_name ? Standing::Mine : Standing::Yields;
  }
  if (h.interface_id == me.interface_id) return Standing::Mine;
  if (int i = incumbency(h, tie)) return i > 0 ? Standing::Outranks : Standing::Yields;
  return h.interface_id < me.interface_id ? Standing::Outranks : Standing::Yields;
}

std::string fence_reason(const Identity &me, const Holder &h, const TieContext &tie) {
  switch (judge(me, h, tie)) {
    case Standing::Foreign:
      if (h.system_identifier.empty())
        return "a fence tag without a system identifier, which pg_vip never writes, names " + describe(h);
      if (h.system_identifier != me.system_identifier)
        return "the VIP is tagged by another cluster (system identifier " + safe_node_name(h.system_identifier) +
               "), " + describe(h);
      return "a fence tag without a valid MAC for pg_vip.fence_key_file names " + describe(h);
    case Standing::Outranks:
      if (h.timeline > me.timeline)
        return "a newer timeline holds the VIP: " + describe(h) + ", this node is on timeline " +
               std::to_string(me.timeline);
      if (incumbency(h, tie) > 0)
        return "another node on the same timeline has been primary since " + std::to_string(h.since) +
               " (Unix time), before this node: " + describe(h) +
               "; the node whose term began first keeps the VIP (a node promoted later onto a timeline already "
               "in use has less data)";
      return "another node on the same timeline holds the VIP: " + describe(h) +
             "; their terms as primary began in the same second, so the interface id that sorts first (" +
             safe_node_name(h.interface_id) + " before " + me.interface_id + ") keeps it";
    default: return {};
  }
}

}  // namespace pg_vip
