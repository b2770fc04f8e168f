// The fence's judgement: what one read of the route tables means for this
// node. Pure: no I/O, no clock of its own, no state beyond what it is
// handed. The controller reads, claims and remembers; every rule about
// what a read means lives here, one function per rule:
//   verdict      what one table's last read asks of this node;
//   outranking   which tag, if any, fences this node;
//   lapsed       a holder on this node's timeline that stopped renewing;
//   flap         whether pointing a table here again is a repair, the
//                undoing of a stale primary's late write, or a route war;
//   renewal_due  when a holder rewrites its tag (stale_own_tag: which);
//   fresh_enough whether a promotion may act on what its standby read.
// Durations are on the monotonic clock (`now`, steady): a wall-clock step
// must not stretch or shorten any of them. The wall clock only goes into
// the tag, for display.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "clock.hpp"
#include "cpp_only.hpp"
#include "fence.hpp"
#include "target.hpp"

namespace pg_vip {

using SteadyTime = std::chrono::steady_clock::time_point;

// What this node knows of one route table: its last read, and what it
// remembers of it across reads.
struct TargetView {
  TargetKind kind = TargetKind::Route;
  std::string id;
  TargetState state = TargetState::Unknown;
  std::string points_at;  // what the target points at: an interface, a gateway, an instance
  std::optional<Holder> holder;
  Clock::time_point checked_at{};  // wall, for display
  SteadyTime read_at{};            // the last successful read
  std::string last_error;
  bool permanent = false;  // last_error is one that retrying cannot fix
  std::string cause;       // "CreateTags:UnauthorizedOperation": what failed, without AWS's changing text
  // What the last read said of the fence tag.
  bool read_ok = false;
  std::optional<std::string> raw_tag;             // the tag a reader goes by (choose_fence_tag)
  std::map<std::string, std::string> fence_tags;  // every fence tag of this VIP, key to value
  // Since when this node has read the same tag value, by its own clock: a
  // holder renews its tag, so one that stays unchanged for a lease has
  // lapsed (judged without trusting the writer's clock).
  SteadyTime tag_unchanged_since{};
  // When this node last pointed the table here again after it was moved
  // away (a second move within the flap window is a conflict, not a
  // repair). Kept in shared memory: a worker restart must not buy another
  // repair. The wall time is for display only.
  SteadyTime repaired_at{};
  Clock::time_point repaired_wall{};
  // Late writes of a stale primary undone in this term (a claim's retries
  // are few: more is something else at work).
  int stale_repairs = 0;
  // The last pg_vip rival the route was taken back from, and when: one that
  // comes back within the flap window did not step back, and it is a war.
  std::string last_rival;
  SteadyTime rival_at{};
  // This node has seen the route point here in this term: pointing it here
  // again is a reversal, not a first claim, and a move away is one it saw.
  bool seen_ours = false;
  // This node wrote its own tag on the table in this term: the claim under
  // way is its own, whatever an earlier route write did.
  bool tagged_here = false;
};

// What a table's last read asks of this node.
enum class Verdict {
  Unread,      // the read failed: nothing is known
  Foreign,     // its tag is not this cluster's (fence.hpp): left alone, not a fence
  Held,        // route and tag name this node
  NeedsFence,  // the route points here, the tag does not name this node
  NeedsRoute,  // the route points elsewhere (or nowhere); this node may take it
  Outranked,   // a tag that outranks this node: hands off, fenced
  HandsOff,    // the route points at another interface that this node
               // never saw it hold in this term, under a tag that does not
               // show a failover this node outranks: a failover it did not
               // see looks the same, so only an operator or a promotion moves it
};

// Everything besides the table that the judgement depends on.
struct Ground {
  Identity me;
  SteadyTime now{};
  std::chrono::milliseconds check_interval{10000};  // this node's own
  // How often this node reads as holder now: check_interval, or
  // replicated_check_interval while its standbys all stream from it
  // (hold_cadence.hpp). Its lease follows: own_lease. Zero: check_interval.
  std::chrono::milliseconds hold_interval{0};
  bool fence_key = false;  // tags must carry a valid MAC
  int64_t since = -1;      // when this node's term as primary began (Unix s; -1: none)
  // This claim may move a route away from another interface: a promotion,
  // an operator's vip_claim(), or a fence lifted on a lapsed holder. A
  // node that started as primary may not (HandsOff).
  bool may_take = false;
  // The newest timeline each interface was seen holding under (authentic
  // tags only): a route moved to an interface of an older timeline is a
  // stale primary's late write.
  const std::map<std::string, uint32_t> *interfaces = nullptr;
};

// How long a holder waits, after a read shows a target of this kind moved
// away, before the read that confirms it. One read of a route table, an
// Elastic IP or a DNS record brings the target and its fence together, one
// snapshot; a secondary IP's position (DescribeNetworkInterfaces) and its
// fence (DescribeSubnets) are two answers, each as stale as EC2 makes it,
// so a move can be seen before the promotion's tag written with it. A
// confirming read that much later shows every tag written before the move
// was first seen: the old primary reads the newer tag, and does not take
// the address back.
std::chrono::milliseconds confirm_wait(TargetKind kind);

// A holder renews its tag when a third of its lease has passed.
std::chrono::milliseconds lease(std::chrono::milliseconds check_interval);
// The lease this node announces in its tag now: lease() of the longer of
// its check_interval and the interval its holds are checked at.
std::chrono::milliseconds own_lease(const Ground &g);
// A table pointed here twice within this window is in a route war.
std::chrono::milliseconds flap_window(std::chrono::milliseconds check_interval);
// How old a standby's read may be for the promotion to act on it alone
// (at most 10 s).
std::chrono::milliseconds promotion_read_age(std::chrono::milliseconds check_interval);

TieContext tie_context(const Ground &g);
bool lapsed(const TargetView &t, const Ground &g);
Verdict verdict(const TargetView &t, const Ground &g);
// The table whose tag outranks this node the most, or null.
const TargetView *outranking(const std::vector<TargetView> &tables, const Ground &g);

// Whether a holder of this node's own timeline that fenced it still
// stands, though no tag outranks this node now: a route still points at
// its interface, and its tag was last read (outranking this node) less
// than a lease ago. Only this node writes its own tag, so a table showing
// it under the holder's route holds a write of this node's own that EC2
// applied late, or a renewal it sent on a stale read: the holder is still
// there, and renews or repairs its tag at its next check, however long its
// check interval. So does a table showing this node's own tag over a
// route back at this node (its own repair or forced claim, sent before it
// read the holder's tag). A holder that stopped (died, rewound) is let go
// after its lease, as a tag that stands unchanged is (lapsed).
bool rival_stands(const std::vector<TargetView> &tables, const Holder &rival, SteadyTime last_read, const Ground &g);

// A table this node held, found pointed elsewhere, about to be pointed here again.
enum class Flap {
  First,       // the first reversal in the window: repair, and remember it
  Rival,       // moved to a pg_vip rival whose tag is on it (it steps back
               // once it reads this node's tag): not a war, once per rival
               // and window
  StaleWrite,  // moved to an interface last seen under an older timeline:
               // a stale primary's write applied late; repair, not counted
  Again,       // moved away again within the window: a route war, stop
};
Flap flap(const TargetView &t, const Ground &g);
// At most this many stale writes are undone per table and term without
// counting: one claim's retries at most. More is something else at work.
constexpr int kStaleRepairsPerTerm = 4;

// Whether the tag on this table names this node but is due to be
// rewritten: it announces another lease than this node's, or has stood
// unchanged for a third of it. Readers judge lapse by how long a tag stays
// unchanged, so a route pointed here under such a tag may be taken back at
// once by a rival of this timeline that counts it lapsed.
bool stale_own_tag(const TargetView &t, const Ground &g);

// Whether a node in conflict puts its tag back on this table: its route
// points here under a tag that does not name this node, and that tag's
// holder is one this node outranks (or there is none). Never over a rival
// that outranks it, even one taken for gone because its route is not yet
// its own: a claim writes its tag before its route (adversary 9's
// retag-tag-first).
bool retag_due(const TargetView &t, const Ground &g);

// Whether a claim leaves this table alone for now: its tag names a rival
// of this node's timeline that outranks it, whose route is not (or not
// yet) there, and which has not lapsed. verdict() takes that rival for
// gone, but a claim writes its tag before its route, and a secondary IP's
// assignment shows seconds after EC2 answered it: a claim that tagged over
// it on one read would overwrite the rival's fresh tag and take the target
// back once its move lands, never fenced (simulation seed 474's
// secondary-retry-over-rival-tag). Its next read shows the rival's route
// (fenced); a tag that stands without it for longer than the rival's own
// check interval and a read's staleness, or a blackhole (the rival's
// instance gone), is no claim under way.
bool rival_claiming(const TargetView &t, const Ground &g);

// Whether this node, holding every table, rewrites its tag now.
bool renewal_due(const std::vector<TargetView> &tables, const Ground &g);

// Whether what the standby last read is enough for the promotion's single
// round trip: every table read successfully, recently.
bool fresh_enough(const std::vector<TargetView> &tables, const Ground &g);

}  // namespace pg_vip
