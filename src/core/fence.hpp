// Fencing by timeline. Every route table a node claims carries the tag
// pg_vip:<vip> whose value names the claimer: its timeline, its cluster's
// system identifier, when, and its node name. A node never takes the VIP
// from a newer timeline; two nodes on one timeline (a double promotion):
// the holder keeps it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "clock.hpp"
#include "cpp_only.hpp"

namespace pg_vip {

struct Holder {
  uint32_t timeline = 0;
  std::string system_identifier;
  std::string node_name;
  std::string at;  // ISO 8601, informative
  bool operator==(const Holder &o) const {
    return timeline == o.timeline && system_identifier == o.system_identifier && node_name == o.node_name;
  }
};

struct Identity {
  std::string node_name;
  std::string system_identifier;
  uint32_t timeline = 0;
};

std::string fence_tag_key(const std::string &vip_cidr);
// "tl=2;sysid=7311...;at=2026-11-25T19:00:00Z;node=db-b" (node last: it may hold any printable character).
std::string fence_tag_value(const Identity &me, Clock::time_point at);
std::optional<Holder> parse_fence_tag(const std::string &value);

enum class Verdict { Claim, Fence };

struct FenceDecision {
  Verdict verdict = Verdict::Claim;
  std::optional<Holder> holder;  // the holder that decided it, if any
  std::string reason;            // a sentence for the log and last_error
};

// Decides from the holders seen on the route tables whether `me` may claim.
FenceDecision decide(const Identity &me, const std::vector<Holder> &holders, bool force);

std::string describe(const Holder &h);

}  // namespace pg_vip
