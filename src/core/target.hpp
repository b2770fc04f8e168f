// What pg_vip moves: targets of several kinds (a route in a route table
// today; an Elastic IP's association, a secondary private IP, a DNS record
// are further kinds), and what a read of one says, in words that fit every
// kind. Each kind's own wording (what its targets are called, what its
// states read as) is in its row of target_kind.cpp: the controller, the
// status and SQL speak of targets and ask the kind for its words.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cpp_only.hpp"

namespace pg_vip {

enum class TargetKind : uint8_t {
  Route = 0,    // the VIP's /32 (or /128) route in a VPC route table
  ElasticIp,    // an Elastic IP's association with a network interface
  SecondaryIp,  // a secondary private IPv4 address of a network interface
  Dns,          // a Route 53 address record (A or AAAA) with its fence TXT record
};

// What a target's last read said, as this node sees it.
enum class TargetState : uint8_t {
  Unknown = 0,  // not read yet, or the read failed
  Ours,         // it points at this node
  Other,        // it points at something else
  Missing,      // the target exists, but the VIP is not on it (no route)
  Dangling,     // it points at something that is gone (a route's blackhole)
};

// One kind's words. Plain text, for messages, the status and SQL.
struct KindWords {
  const char *name;         // as vip_targets() shows it: "route"
  const char *noun;         // one target: "route table"
  const char *nouns;        // several: "route tables"
  const char *read;         // the request that reads them: "DescribeRouteTables"
  const char *thing;        // what of the VIP lives on one: "route" (the VIP's route)
  const char *not_pointed;  // a point request that failed: "route not switched"
};
const KindWords &words(TargetKind kind) noexcept;

// How long a claim reads a target of this kind back before it counts it
// not pointed here: as long as the kind's reads may lag its writes. A route
// table's 700 ms; an Elastic IP's 3.1 s (DescribeAddresses shows an
// association seconds after AssociateAddress answered); a secondary IP's
// 6.3 s (AssignPrivateIpAddresses answers before the address moves).
std::chrono::milliseconds verify_patience(TargetKind kind) noexcept;

// A state in the kind's words: a route's Dangling is "blackhole", as EC2
// calls it.
const char *to_string(TargetKind kind, TargetState state) noexcept;
const char *to_string(TargetState state) noexcept;  // the route kind's words

// "Route tables", or "Targets" for a mix of kinds: what heads a list of ids.
std::string list_label(const std::vector<TargetKind> &kinds);
// "route table", or "target" for a mix of kinds.
std::string noun(const std::vector<TargetKind> &kinds);
std::string nouns(const std::vector<TargetKind> &kinds);

// "1 route table", "3 route tables": a count of targets of one kind.
std::string count_text(TargetKind kind, std::size_t n);

// One configured target.
struct TargetId {
  TargetKind kind = TargetKind::Route;
  std::string id;
  bool operator==(const TargetId &o) const { return kind == o.kind && id == o.id; }
  bool operator!=(const TargetId &o) const { return !(*this == o); }
};

// A count of targets that may mix kinds: "2 route tables", or "2 route
// tables and 1 Elastic IP".
std::string count_text(const std::vector<TargetKind> &kinds);

}  // namespace pg_vip
