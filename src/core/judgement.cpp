#include "judgement.hpp"

#include <algorithm>

namespace pg_vip {

using namespace std::chrono;

namespace {

// EC2 serves reads that may lag a write by a few seconds: a read this much
// older than a check interval may miss what the last check would have seen.
constexpr milliseconds kReadStaleness{5000};

bool holder_has_route(const TargetView &t) {
  return (t.state == TargetState::Ours || t.state == TargetState::Other) && t.holder &&
         t.points_at == t.holder->interface_id;
}

// A holder on this node's own timeline (a double promotion, or a late
// promotion onto a timeline in use) whose route does not point at it
// (blackhole: its instance is gone; missing; elsewhere, and it did not
// repair it), or whose tag it stopped renewing (rewound into a standby,
// say), no longer holds anything.
bool gone(const TargetView &t, const Ground &g) {
  return t.holder && t.holder->timeline == g.me.timeline && (!holder_has_route(t) || lapsed(t, g));
}

}  // namespace

milliseconds lease(milliseconds check_interval) { return std::max(check_interval * 6, milliseconds(60000)); }

milliseconds own_lease(const Ground &g) { return lease(std::max(g.check_interval, g.hold_interval)); }

milliseconds flap_window(milliseconds check_interval) { return std::max(check_interval * 10, milliseconds(60000)); }

// A newer timeline's tag written after the standby's read is missed by a
// promotion that acts on it: the read may be no older than one check (at
// most 5 s) plus EC2's staleness, so that a tag that has stood for that
// long (S1's horizon) is always seen. At the default check interval of
// 10 s or less the standby's read always serves; above it a promotion may
// read first.
milliseconds promotion_read_age(milliseconds check_interval) {
  return std::min(check_interval, milliseconds(5000)) + kReadStaleness;
}

milliseconds confirm_wait(TargetKind kind) {
  // A second: what a repair of a hand move waited before there were kinds.
  return kind == TargetKind::SecondaryIp ? kReadStaleness : milliseconds(1000);
}

TieContext tie_context(const Ground &g) { return TieContext{g.fence_key, g.since}; }

// Judged by how long this node has read the same value, on its own
// monotonic clock, against the longer of its own lease and the one the
// writer announced: a holder with a long check interval is not taken for
// gone by a reader with a short one.
bool lapsed(const TargetView &t, const Ground &g) {
  if (t.tag_unchanged_since == SteadyTime{}) return false;
  milliseconds l = own_lease(g);
  if (t.holder) l = std::max(l, t.holder->lease);
  return g.now - t.tag_unchanged_since > l;
}

Verdict verdict(const TargetView &t, const Ground &g) {
  if (!t.read_ok) return Verdict::Unread;
  if (t.raw_tag && !t.holder) return Verdict::Foreign;  // not a tag pg_vip wrote
  // Every tag gone from a target this node held or tagged in this term,
  // and the target elsewhere: only a node that outranks this one deletes
  // its tag (a promotion making room for its own, a holder forgetting
  // older timelines), and that node's own tag may not be written yet.
  // Hands off rather than take the target back from a newer primary
  // (adversary 7's H2); an operator's vip_claim() may.
  if (!t.holder && !t.raw_tag && t.state == TargetState::Other && (t.seen_ours || t.tagged_here) && !g.may_take)
    return Verdict::HandsOff;
  bool mine = false;
  if (t.holder) {
    Standing s = judge(g.me, *t.holder, tie_context(g));
    if (s == Standing::Foreign) return Verdict::Foreign;
    // A newer timeline's tag fences whatever its route says or however
    // old it is; one of this node's timeline only while its holder is there.
    if (s == Standing::Outranks && !gone(t, g)) return Verdict::Outranked;
    mine = s == Standing::Mine;
    // A node that did not see the route move away from it cannot tell a
    // failover (whose new primary could not write its tag) from a hand
    // move: it takes a route from another interface only on a tag that
    // shows that interface's holder older, or gone.
    bool shows_older = s == Standing::Yields && (t.holder->timeline < g.me.timeline || gone(t, g));
    if (t.state == TargetState::Other && !t.seen_ours && !t.tagged_here && !g.may_take && !shows_older)
      return Verdict::HandsOff;
  }
  if (t.state != TargetState::Ours) return Verdict::NeedsRoute;
  return mine ? Verdict::Held : Verdict::NeedsFence;
}

const TargetView *outranking(const std::vector<TargetView> &tables, const Ground &g) {
  const TargetView *best = nullptr;
  for (const auto &t : tables) {
    if (verdict(t, g) != Verdict::Outranked) continue;
    if (!best || t.holder->timeline > best->holder->timeline) best = &t;
  }
  return best;
}

bool rival_stands(const std::vector<TargetView> &tables, const Holder &rival, SteadyTime last_read, const Ground &g) {
  if (rival.timeline != g.me.timeline || rival.interface_id.empty() || last_read == SteadyTime{}) return false;
  if (g.now - last_read > std::max(own_lease(g), rival.lease)) return false;
  // Where the holder's own tag shows, lapse judges it (an unchanged tag is
  // let go after a lease, not two); over a route that is not its own, a
  // claim leaves the table to it as long (rival_claiming).
  return std::any_of(tables.begin(), tables.end(), [&](const TargetView &t) {
    if (!t.read_ok) return false;
    bool its_tag = t.holder && t.holder->timeline == rival.timeline && t.holder->interface_id == rival.interface_id;
    if (t.state == TargetState::Other && t.points_at == rival.interface_id && !its_tag) return true;
    // This node's own tag over a route back here is no news of the holder
    // either: a renewal sent on a stale read, then a repair (or a forced
    // claim) on the read that showed it, before the holder's tag was read.
    // Unfencing on it had this node take the VIP back from a slow winner
    // every flap window (tie-race-stale-reads, simulation seed 672).
    return t.state == TargetState::Ours && t.holder && judge(g.me, *t.holder, tie_context(g)) == Standing::Mine;
  });
}

Flap flap(const TargetView &t, const Ground &g) {
  // A pg_vip rival whose tag is on the table and whose route it is: it
  // reads this node's tag and steps back, however it came to write.
  auto within_window = [&](SteadyTime at) { return at != SteadyTime{} && g.now - at < flap_window(g.check_interval); };
  if (t.holder && !t.holder->interface_id.empty() && t.points_at == t.holder->interface_id) {
    Standing s = judge(g.me, *t.holder, tie_context(g));
    // The same rival back within the window did not step back: a replayed
    // or made-up tag with its route, or a rival that cannot read.
    if (s == Standing::Yields)
      return t.last_rival == t.points_at && within_window(t.rival_at) ? Flap::Again : Flap::Rival;
  }
  // The route went to an interface last seen holding under an older
  // timeline, with this node's tag left in place: a stale primary's
  // request that EC2 applied late. Undone without counting, a few times.
  if (g.interfaces) {
    auto it = g.interfaces->find(t.points_at);
    if (it != g.interfaces->end() && it->second < g.me.timeline && t.stale_repairs < kStaleRepairsPerTerm)
      return Flap::StaleWrite;
  }
  if (within_window(t.repaired_at)) return Flap::Again;
  return Flap::First;
}

bool stale_own_tag(const TargetView &t, const Ground &g) {
  if (!t.holder || judge(g.me, *t.holder, tie_context(g)) != Standing::Mine) return false;
  // Readers judge lapse by the lease the tag announces: after a reload or
  // a change of cadence that changes it, say so at once.
  if (t.holder->lease != ceil<seconds>(own_lease(g))) return true;
  return t.tag_unchanged_since != SteadyTime{} && g.now - t.tag_unchanged_since > own_lease(g) / 3;
}

bool retag_due(const TargetView &t, const Ground &g) {
  if (verdict(t, g) != Verdict::NeedsFence) return false;
  return !t.holder || judge(g.me, *t.holder, tie_context(g)) != Standing::Outranks;
}

bool rival_claiming(const TargetView &t, const Ground &g) {
  if (!t.holder || t.holder->timeline != g.me.timeline || t.state == TargetState::Dangling) return false;
  if (judge(g.me, *t.holder, tie_context(g)) != Standing::Outranks || lapsed(t, g)) return false;
  // A claim under way: its route follows within the rival's own check
  // interval (its next round; lease() is six of them) and a read's
  // staleness. A tag that stood longer without it is a claim that failed
  // or a holder that is gone, and waiting for its lease would keep the VIP
  // from this node for up to 30 min of a replicated cadence's lease
  // (adversary 35's replicated-winner-dies-route-at-loser).
  const milliseconds in_flight = std::max(t.holder->lease / 6, g.check_interval) + kReadStaleness;
  return t.tag_unchanged_since == SteadyTime{} || g.now - t.tag_unchanged_since <= in_flight;
}

bool renewal_due(const std::vector<TargetView> &tables, const Ground &g) {
  // Only what it holds: an old tag of its own on a table it leaves alone
  // is not renewed, so it must not make a renewal due at every check.
  return std::any_of(tables.begin(), tables.end(),
                     [&](const TargetView &t) { return verdict(t, g) == Verdict::Held && stale_own_tag(t, g); });
}

bool fresh_enough(const std::vector<TargetView> &tables, const Ground &g) {
  return std::all_of(tables.begin(), tables.end(), [&](const TargetView &t) {
    return t.read_ok && t.read_at != SteadyTime{} && g.now - t.read_at <= promotion_read_age(g.check_interval);
  });
}

}  // namespace pg_vip
