// Fencing by timeline. Every route table a node claims carries the tag
// pg_vip:<vip> whose value names the holder: its timeline, its cluster's
// system identifier, its network interface (unique per node: the very
// thing the route points at), when, and its node name (informative only).
//
// Who may hold the VIP is a total order over holders, so that two nodes
// reading the same tag always agree on who steps back:
//   1. a tag from another cluster (another system identifier) is never
//      taken over, short of vip_claim(force => true);
//   2. the newer timeline wins;
//   3. on one timeline (two standbys promoted at once), the node whose
//      interface id sorts first wins; a tag without an interface id (written
//      by pg_vip 0.1) ranks after any that has one.
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
  std::string interface_id;  // empty in tags written by pg_vip 0.1
  std::string node_name;
  std::string at;  // ISO 8601, informative
};

struct Identity {
  std::string node_name;
  std::string system_identifier;
  uint32_t timeline = 0;
  std::string interface_id;
};

std::string fence_tag_key(const std::string &vip_cidr);
// "tl=2;sysid=7311...;id=eni-0b1c;at=2026-11-25T19:00:00Z;node=db-b"
// (node last: it may hold any printable character).
std::string fence_tag_value(const Identity &me, Clock::time_point at);
std::optional<Holder> parse_fence_tag(const std::string &value);

// How a tag's holder stands against this node.
enum class Standing {
  Mine,      // the tag names this node: same cluster, timeline and interface
  Yields,    // this node outranks the holder: it may take the VIP
  Outranks,  // the holder outranks this node: hands off
  Foreign,   // another cluster's tag: hands off
};

Standing judge(const Identity &me, const Holder &holder);

// A sentence saying why `holder` fences `me` (Outranks or Foreign).
std::string fence_reason(const Identity &me, const Holder &holder);

std::string describe(const Holder &h);

}  // namespace pg_vip
