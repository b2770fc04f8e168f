// How long the worker sleeps between looks, and the watch that wakes it when
// a promotion begins. Glue, but free of PostgreSQL headers, so that the unit
// tests can run the policy and the watch alone.
//
// PostgreSQL has no hook at the end of recovery, so a standby's worker
// watches for it. The data directory tells first: pg_promote() creates
// "promote" and the startup process removes standby.signal just before
// recovery ends. An inotify watch on the directory wakes the worker at once;
// it then polls RecoveryInProgress() every millisecond until recovery ends
// (or a few seconds pass), and otherwise sleeps a second at a time. Where
// inotify is not available it polls every 10 ms, which keeps the time to
// notice well under the 20 ms aim at the cost of 100 cheap wake-ups a second.
#pragma once

#include <chrono>

namespace pg_vip {

constexpr std::chrono::milliseconds kStandbyPoll{10};    // a standby without the watch
constexpr std::chrono::milliseconds kWatchedIdle{1000};  // a standby with the watch, nothing seen
constexpr std::chrono::milliseconds kFastPoll{1};        // after the watch saw a change
constexpr std::chrono::seconds kFastPollFor{5};
constexpr std::chrono::milliseconds kReapPoll{100};  // while notification commands run
// A primary looks at its WAL senders this often: a standby that stops
// streaming may have been promoted, and a holder reading at the replicated
// cadence goes back to check_interval at once (hold_cadence.hpp).
constexpr std::chrono::milliseconds kPrimaryPoll{1000};

struct WaitInputs {
  std::chrono::milliseconds until_step{0};  // until the controller's next step is due
  bool primary = false;                     // no longer watching for the end of recovery
  bool watching = false;                    // the promotion watch is open
  bool fast_polling = false;                // the watch saw the data directory change lately
  bool notifications_running = false;       // commands to reap
};

// The worker's next sleep: never longer than the next step, short while a
// promotion may be under way or commands wait to be reaped, never zero (a
// loop must not spin).
std::chrono::milliseconds next_wait(const WaitInputs &in) noexcept;

// An inotify watch on the data directory.
class PromotionWatch {
 public:
  PromotionWatch() = default;
  PromotionWatch(const PromotionWatch &) = delete;
  PromotionWatch &operator=(const PromotionWatch &) = delete;
  ~PromotionWatch() { close(); }

  // False (and no watch) where inotify is not available.
  bool open(const char *data_directory) noexcept;
  void close() noexcept;
  bool is_open() const noexcept { return fd_ >= 0; }
  int fd() const noexcept { return fd_; }  // readable when something changed

  // Reads what changed, if anything; a change starts a spell of fast polling.
  void drain(std::chrono::steady_clock::time_point now) noexcept;
  bool fast_polling(std::chrono::steady_clock::time_point now) const noexcept { return now < fast_until_; }

 private:
  int fd_ = -1;
  std::chrono::steady_clock::time_point fast_until_{};
};

}  // namespace pg_vip
