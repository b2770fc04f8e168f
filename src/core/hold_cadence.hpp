// How often a primary that holds the VIP reads its targets.
//
// A holder reads to learn three things: that a newer primary took the VIP
// (it is fenced), that something moved a target away (it repairs it), and
// that its tag still stands (it renews it). The first needs a promotion
// elsewhere, and a standby that is promoted stops streaming from this
// primary: its WAL sender ends when the promoted node closes the
// connection, or after wal_sender_timeout if the network went first. So
// while at least one standby streams from the holder and none has stopped
// for a while, no standby it serves has been promoted, and the holder reads
// every replicated_check_interval instead of every check_interval (a
// fleet's reads are mostly its primaries' checks). A standby that stops
// streaming brings the holder back to check_interval at once, for a lease,
// which a promotion's claim needs far less than.
//
// What it costs: a target moved by hand is repaired within
// replicated_check_interval; a node promoted without ever streaming from
// this holder (an operator's pg_promote() on a node that was down) fences
// it within replicated_check_interval, not check_interval; its tag
// announces the longer lease (lease() of the longer interval), which a
// rival promoted onto the same timeline waits out if this holder is later
// demoted with its route still in place. The VIP itself follows a
// promotion at once either way: the claim does not wait for the old
// primary.
#pragma once

#include <chrono>
#include <random>
#include <string>

#include "cpp_only.hpp"

namespace pg_vip {

class HoldCadence {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;
  // What the worker saw at a step as primary: the physical standbys whose
  // WAL senders stream from this node.
  void observe(int standbys, SteadyTime now) noexcept;
  // Not primary (or a new term): nothing is known of its standbys.
  void reset() noexcept { *this = HoldCadence(); }
  // Whether no standby stopped streaming for a window of `quiet_after`,
  // with at least one streaming now.
  bool intact(SteadyTime now, std::chrono::milliseconds quiet_after) const noexcept;
  // The interval a holder's check waits: replicated while intact (and
  // longer than check_interval), else check_interval.
  std::chrono::milliseconds interval(SteadyTime now, std::chrono::milliseconds check_interval,
                                     std::chrono::milliseconds replicated) const noexcept;
  int standbys() const noexcept { return standbys_; }
  // When the worker last looked (zero: never). A step judges its cadence
  // as of this look: the lease its renewal writes and the interval its
  // check returns must agree, though the window ends during the step.
  SteadyTime seen_at() const noexcept { return seen_at_; }

 private:
  int standbys_ = 0;
  SteadyTime steady_since_{};  // since when no standby stopped; zero: never looked
  SteadyTime seen_at_{};
};

// "5 min", "10 s", "1500 ms": an interval as the log says it.
std::string cadence_text(std::chrono::milliseconds d);

// A long cadence (a holder's replicated_check_interval, a streaming
// standby's standby_check_interval) drawn in its last quarter: nodes that
// started together (a zone's return) do not keep reading in the same
// second, against the account's one bucket, every cycle after.
std::chrono::milliseconds spread_out(std::chrono::milliseconds d, std::mt19937_64 &rng);

}  // namespace pg_vip
