#include "fence.hpp"

#include <cstdlib>

namespace pg_vip {

std::string fence_tag_key(const std::string &vip_cidr) { return "pg_vip:" + vip_cidr; }

std::string fence_tag_value(const Identity &me, Clock::time_point at) {
  std::string value = "tl=" + std::to_string(me.timeline) + ";sysid=" + me.system_identifier +
                      ";id=" + me.interface_id + ";at=" + iso8601(at) + ";node=" + me.node_name;
  return value.substr(0, 256);  // EC2's limit for tag values
}

std::optional<Holder> parse_fence_tag(const std::string &value) {
  Holder h;
  bool have_tl = false;
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
    if (k == "tl") {
      char *end = nullptr;
      unsigned long tl = std::strtoul(v.c_str(), &end, 10);
      if (v.empty() || *end || v[0] == '-' || v[0] == '+' || tl == 0 || tl > UINT32_MAX) return std::nullopt;
      h.timeline = static_cast<uint32_t>(tl);
      have_tl = true;
    } else if (k == "sysid") {
      h.system_identifier = v;
    } else if (k == "id") {
      h.interface_id = v;
    } else if (k == "at") {
      h.at = v;
    }
    if (semi == std::string::npos) break;
    start = semi + 1;
  }
  if (!have_tl) return std::nullopt;
  return h;
}

std::string describe(const Holder &h) {
  return "node \"" + h.node_name + "\"" + (h.interface_id.empty() ? "" : " (" + h.interface_id + ")") +
         " on timeline " + std::to_string(h.timeline) + (h.at.empty() ? "" : " since " + h.at);
}

Standing judge(const Identity &me, const Holder &h) {
  if (!h.system_identifier.empty() && !me.system_identifier.empty() && h.system_identifier != me.system_identifier)
    return Standing::Foreign;
  if (h.timeline > me.timeline) return Standing::Outranks;
  if (h.timeline < me.timeline) return Standing::Yields;
  if (h.interface_id.empty()) {
    // pg_vip 0.1 named the holder by node name only: this node's own old
    // tag, or one it outranks.
    return h.node_name == me.node_name ? Standing::Mine : Standing::Yields;
  }
  if (h.interface_id == me.interface_id) return Standing::Mine;
  return h.interface_id < me.interface_id ? Standing::Outranks : Standing::Yields;
}

std::string fence_reason(const Identity &me, const Holder &h) {
  switch (judge(me, h)) {
    case Standing::Foreign:
      return "the VIP is held by another cluster (system identifier " + h.system_identifier + "), " + describe(h);
    case Standing::Outranks:
      if (h.timeline > me.timeline)
        return "a newer timeline holds the VIP: " + describe(h) + ", this node is on timeline " +
               std::to_string(me.timeline);
      return "another node on the same timeline holds the VIP: " + describe(h) +
             "; on one timeline the interface id that sorts first (" + h.interface_id + " before " + me.interface_id +
             ") keeps it";
    default: return {};
  }
}

}  // namespace pg_vip
