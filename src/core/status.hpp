// What pg_vip reports, as one plain record. The controller alone fills it
// (Controller::write_status); the worker publishes it into shared memory
// with one copy under the lock, and the SQL functions copy it out the same
// way. Fixed-size and trivially copyable because it lives in shared memory
// and is copied with a lock held: nothing in it allocates, so nothing can
// fail while the lock is taken. Times are Unix microseconds (0: never); the
// SQL layer converts them to timestamptz.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "clock.hpp"
#include "metrics.hpp"
#include "cpp_only.hpp"
#include "role.hpp"
#include "target.hpp"
#include "settings.hpp"

namespace pg_vip {

struct TargetStatus {
  TargetKind kind = TargetKind::Route;
  char id[32] = {};
  char destination[64] = {};
  char target[32] = {};  // what it points at: an interface (or a route's gateway)
  // What it should point at: this node's interface on a primary that is
  // not fenced, else the interface the holder's fence tag names (empty:
  // not known).
  char desired[32] = {};
  TargetState state = TargetState::Unknown;
  char holder[128] = {};         // the fence tag's node name
  uint32_t holder_timeline = 0;  // 0: none known
  int64_t checked_at = 0;
  int64_t repaired_at = 0;         // when this node last pointed it here again (the flap memory), for display
  int64_t repaired_at_steady = 0;  // the same on the monotonic clock: what the flap rule measures from
  // Since when (monotonic clock) the fence tag read here has stood
  // unchanged, and which tag that was (tag_digest; 0: none): what lapse
  // and a rival's claim under way are judged by, so that a worker restart
  // does not start them over.
  uint64_t tag_digest = 0;
  int64_t tag_unchanged_steady = 0;
  char last_error[256] = {};
};

// A fence tag's text reduced to 64 bits (FNV-1a), to tell after a worker
// restart whether a target still shows the tag the previous worker timed;
// never 0, which stands for no tag.
inline uint64_t tag_digest(std::string_view tag) noexcept {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : tag) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h ? h : 1;
}

struct Status {
  bool enabled = true;
  bool configured = false;
  bool dry_run = false;
  Role role = Role::Unknown;
  PrimaryBy primary_by = PrimaryBy::None;
  State state = State::Unconfigured;
  uint32_t timeline = 0;    // 0: not yet known
  int64_t promoted_at = 0;  // when the worker noticed the end of recovery
  char node_name[settings::kMaxNodeName + 1] = {};
  char vip[64] = {};
  char network_interface[32] = {};
  int targets_held = 0;
  double last_claim_ms = -1;  // < 0: no claim yet
  char last_error[512] = {};
  int64_t conflict_since = 0;         // when the state became conflict, for display
  int64_t conflict_since_steady = 0;  // the same on the monotonic clock: what the flap window runs on
  int64_t term_since = 0;             // when this node's term as primary began (the fence tag's since=)
  uint32_t newest_seen = 0;           // the newest timeline seen holding the VIP (a sticky fence)
  char holder[128] = {};              // who fenced this node, when fenced
  uint32_t holder_timeline = 0;
  // The holder is another cluster's (another system identifier): a
  // misconfiguration, not a stale primary, so pg_vip.fence_action leaves
  // this node's clients alone.
  bool holder_foreign = false;
  // The holder of this node's own timeline that fenced it, for a restarted
  // worker's rival_stands (judgement.hpp): its interface, the lease its tag
  // announced, and when that tag was last read outranking this node (on
  // the monotonic clock). Empty interface: none.
  char rival_interface[32] = {};
  char rival_system_identifier[32] = {};
  int64_t rival_since = -1;  // its tag's since= (Unix seconds)
  uint32_t rival_timeline = 0;
  int64_t rival_lease_ms = 0;
  int64_t rival_read_steady = 0;
  int8_t source_dest_check = -1;  // -1 unknown, 0 off, 1 on (traffic to the VIP dropped)
  uint64_t claim_done = 0;        // the last vip_claim() call answered
  // Claiming only because a holder's check could not read: a restarted
  // worker resumes it as the holder it was, not as a new claim.
  bool unsure_only = false;
  bool notifications_running = false;
  // The counters since the server started (vip_metrics()). Before `tables`:
  // a copy of the status up to the route tables in use carries them too.
  Metrics metrics;
  int n_targets = 0;
  TargetStatus tables[settings::kMaxTargets];
};

// One entry of the recent events (vip_events()).
struct EventRecord {
  int64_t at = 0;
  char event[24] = {};
  bool success = false;
  char details[480] = {};
};

// The answer to one vip_claim() call.
struct AnswerRecord {
  uint64_t seq = 0;
  bool ok = false;
  State state = State::Unconfigured;  // the state the claim ended in
  char error[512] = {};
};

struct LogRecord {
  bool warning = false;
  char message[512] = {};
  char detail[1024] = {};
};

// What a step has to say once: events, answers and log lines, taken out of
// the controller in fixed buffers (Controller::take_messages) so that the
// worker can write them to shared memory and the log with no C++ object live.
struct Messages {
  int n_events = 0;
  EventRecord events[16];
  int n_answers = 0;
  AnswerRecord answers[16];
  int n_logs = 0;
  LogRecord logs[32];
  bool more = false;  // some did not fit: take again
};

static_assert(std::is_trivially_copyable_v<Status> && std::is_trivially_copyable_v<Messages>,
              "copied into shared memory under a lock");

// Copies text into a fixed buffer, cut to fit and always terminated; a cut
// never splits a UTF-8 character (SQL shows these as text).
template <std::size_t N>
void copy_text(char (&dst)[N], std::string_view src) noexcept {
  std::size_t n = src.size() < N - 1 ? src.size() : N - 1;
  while (n > 0 && n < src.size() && (static_cast<unsigned char>(src[n]) & 0xC0) == 0x80) --n;
  if (n) std::memcpy(dst, src.data(), n);  // an empty view's data() may be null
  dst[n] = '\0';
}

inline int64_t unix_micros(Clock::time_point t) noexcept {
  if (t == Clock::time_point{}) return 0;
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// The monotonic clock (steady_clock: CLOCK_MONOTONIC, the same for every
// process on one boot, so a restarted worker measures on from it; shared
// memory does not outlive the boot) as nanoseconds, 0 for never.
inline int64_t steady_nanos(std::chrono::steady_clock::time_point t) noexcept {
  if (t == std::chrono::steady_clock::time_point{}) return 0;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

inline std::chrono::steady_clock::time_point from_steady_nanos(int64_t ns) noexcept {
  if (ns == 0) return {};
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::nanoseconds(ns)));
}

inline Clock::time_point from_unix_micros(int64_t us) noexcept {
  if (us == 0) return {};
  return Clock::time_point(std::chrono::duration_cast<Clock::time_point::duration>(std::chrono::microseconds(us)));
}

}  // namespace pg_vip
