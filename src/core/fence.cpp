#include "fence.hpp"

#include <cstdlib>

namespace pg_vip {

std::string fence_tag_key(const std::string &vip_cidr) { return "pg_vip:" + vip_cidr; }

std::string fence_tag_value(const Identity &me, Clock::time_point at) {
  std::string value = "tl=" + std::to_string(me.timeline) + ";sysid=" + me.system_identifier + ";at=" + iso8601(at) +
                      ";node=" + me.node_name;
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
      if (v.empty() || *end || tl == 0 || tl > UINT32_MAX) return std::nullopt;
      h.timeline = static_cast<uint32_t>(tl);
      have_tl = true;
    } else if (k == "sysid") {
      h.system_identifier = v;
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
  return "node \"" + h.node_name + "\" on timeline " + std::to_string(h.timeline) +
         (h.at.empty() ? "" : " (since " + h.at + ")");
}

FenceDecision decide(const Identity &me, const std::vector<Holder> &holders, bool force) {
  FenceDecision d;
  if (force) {
    d.reason = "forced";
    return d;
  }
  const Holder *newest = nullptr;
  for (const auto &h : holders) {
    if (!h.system_identifier.empty() && !me.system_identifier.empty() && h.system_identifier != me.system_identifier) {
      d.verdict = Verdict::Fence;
      d.holder = h;
      d.reason = "the VIP is held by another cluster (system identifier " + h.system_identifier + "), " + describe(h);
      return d;
    }
    if (!newest || h.timeline > newest->timeline) newest = &h;
  }
  if (!newest) return d;
  d.holder = *newest;
  if (newest->timeline > me.timeline) {
    d.verdict = Verdict::Fence;
    d.reason = "a newer timeline holds the VIP: " + describe(*newest) + ", this node is on timeline " +
               std::to_string(me.timeline);
  } else if (newest->timeline == me.timeline && newest->node_name != me.node_name) {
    d.verdict = Verdict::Fence;
    d.reason = "another node on the same timeline holds the VIP: " + describe(*newest);
  }
  return d;
}

}  // namespace pg_vip
