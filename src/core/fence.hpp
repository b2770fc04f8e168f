// The fence tag. Every route table a node claims carries the tag
// pg_vip:<vip>:tl<timeline> whose value names the holder: its timeline, its cluster's
// system identifier, its network interface (unique per node: the very
// thing the route points at), how long a reader waits for a renewal before
// it counts the tag as lapsed, how long the holder has held the VIP, when,
// optionally a MAC, and its node name (informative only).
//
// This file writes and reads the tag; who outranks whom is judge() here,
// and everything else the fence decides is in judgement.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <map>
#include <string_view>
#include <vector>

#include "clock.hpp"
#include "cpp_only.hpp"

namespace pg_vip {

struct Holder {
  uint32_t timeline = 0;
  std::string system_identifier;
  std::string interface_id;  // empty in tags written by pg_vip 0.1
  std::string node_name;     // as written: show it only through safe_node_name()
  std::string at;            // ISO 8601, informative
  // The writer's lease (lease=, seconds): a reader counts the tag lapsed
  // after it stood unchanged this long (never less than its own lease).
  // 0: not said (pg_vip 0.2).
  std::chrono::milliseconds lease{0};
  // When the writer's term as primary began (since=, Unix seconds by its
  // clock, fixed for the term); -1: not said. Two nodes of one timeline
  // compare the same two values, so they agree on who came first.
  int64_t since = -1;
  // mac= was present and verified with the configured fence key.
  bool authentic = false;
  bool has_mac = false;
};

struct Identity {
  std::string node_name;
  std::string system_identifier;
  uint32_t timeline = 0;
  std::string interface_id;
};

// What a node says of its own hold when it writes its tag.
struct Tenure {
  std::chrono::milliseconds lease{0};
  int64_t since = -1;  // Unix seconds; -1: not known
};

// One key per timeline: a node writes only its own timeline's key, so no
// node on an older timeline can overwrite a newer fence, whatever it read;
// and a holder deletes only keys of timelines older than its own. Readers
// take the newest (choose_fence_tag). pg_vip 0.2 wrote the one key
// pg_vip:<vip> (legacy_fence_tag_key), which is still read, and deleted
// once a newer timeline holds.
std::string fence_tag_key(const std::string &vip_cidr, uint32_t timeline);
std::string legacy_fence_tag_key(const std::string &vip_cidr);
// The timeline a key of this VIP's names: 0 for the legacy key, nullopt for
// a key that is not one of this VIP's fence tags.
std::optional<uint32_t> fence_tag_key_timeline(const std::string &vip_cidr, const std::string &key);
// "tl=2;sysid=7311...;id=eni-0b1c;lease=60;since=1795000000;at=2026-11-25T19:00:00Z;mac=…;node=db-b"
// (node last: it may hold any printable character). With a fence key the
// value carries mac=, an HMAC-SHA256 over the value without it.
std::string fence_tag_value(const Identity &me, Clock::time_point at, const Tenure &tenure = {},
                            std::string_view fence_key = {});
// nullopt: not a tag pg_vip can read. With a fence key, `authentic` says
// whether its MAC is right.
std::optional<Holder> parse_fence_tag(const std::string &value, std::string_view fence_key = {});

// A node name as it may be shown anywhere (logs, status, events): letters,
// digits and -_.:@/ as they are, any other byte as \xNN. A tag is anyone's
// to write; its node name must not pass for something else.
std::string safe_node_name(std::string_view name);

// How a tag's holder stands against this node.
enum class Standing {
  Mine,      // the tag names this node: same cluster, timeline and interface
  Yields,    // this node outranks the holder: it may take the VIP
  Outranks,  // the holder outranks this node: hands off
  Foreign,   // not this cluster's tag (another or no system identifier, or
             // no valid MAC where a fence key is set): never a fence, never
             // claimed over
};

// What a tie on one timeline is decided by, besides the two tags.
struct TieContext {
  bool fence_key = false;  // a fence key is configured: a tag needs its MAC
  int64_t my_since = -1;   // when this node's term as primary began (Unix seconds; -1: none)
};

// Who may hold the VIP is a total order over holders, so that two nodes
// reading the same tags agree on who steps back:
//   1. a tag that is not this cluster's (Foreign) is never taken over and
//      never fences, short of vip_claim(force => true);
//   2. the newer timeline wins;
//   3. on one timeline, the incumbent: the node whose term as primary
//      (since=) began first, so a standby promoted late onto a timeline
//      already in use (with less data) does not take the VIP from it;
//   4. terms begun in the same second (or tags that do not say): the
//      interface id that sorts first; a tag without an interface id
//      (pg_vip 0.1) ranks after any that has one.
Standing judge(const Identity &me, const Holder &holder, const TieContext &tie = {});

// The tag a reader goes by among a table's tags (key to value; keys of
// other VIPs are passed over): the newest timeline's among this cluster's
// (a value that parses, names this cluster, carries a valid MAC where a
// fence key is set, and says the timeline its key says). A foreign one
// instead, so that the table is reported and not claimed over, when there
// is no tag of this cluster, or when the route points at the interface
// another cluster's tag (a system identifier not ours) names and not at
// the one this cluster's names: another cluster given the same VIP took it
// (with one key, its tag would have replaced ours; with a key per timeline
// it stands beside). A tag with no system identifier or ours without a
// valid MAC never does; nor does any foreign tag naming an interface the
// route does not point at. `route_interface`: where the VIP's route points (empty:
// nowhere). nullopt: no fence tag of this VIP at all.
struct FenceTagRef {
  std::string key;
  std::string value;
};
std::optional<FenceTagRef> choose_fence_tag(const std::map<std::string, std::string> &tags, const std::string &vip_cidr,
                                            const Identity &me, std::string_view fence_key,
                                            const std::string &route_interface = {});

// The keys a node on `timeline` deletes once it holds a table: this VIP's
// keys of older timelines, and the legacy key when its value is this
// cluster's and older. `all_but_mine`: a forced claim, where the operator
// overrides every other tag, newer ones too.
std::vector<std::string> fence_tag_keys_to_forget(const std::map<std::string, std::string> &tags,
                                                  const std::string &vip_cidr, const Identity &me,
                                                  bool all_but_mine = false);

// A sentence saying why `holder` fences `me` (Outranks) or is not this
// cluster's (Foreign).
std::string fence_reason(const Identity &me, const Holder &holder, const TieContext &tie = {});

std::string describe(const Holder &h);

// Why a tag is Foreign, in a few words ("no system identifier", "another
// cluster's, system identifier 7399…", "no valid MAC", "not in pg_vip's
// format" for nullopt).
std::string foreign_kind(const Identity &me, const std::optional<Holder> &holder);

}  // namespace pg_vip
