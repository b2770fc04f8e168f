// Simulated time for thousands of workers that share one AWS account. Each
// node's controller runs on a fiber of its own; a request or a sleep yields
// until the simulated time it ends, and the scheduler always resumes the
// fiber due first. So the account's token buckets are drawn in the order
// the requests reach AWS, however long any one step takes: a step that
// retries for a minute does not get to spend the account's tokens ahead of
// the other nodes' requests of that minute. Single-threaded and
// deterministic: a seed replays a run.
#pragma once

#include <ucontext.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <vector>

namespace pg_vip::fleet {

using Millis = int64_t;  // simulated time since the run began

class Fibers {
 public:
  explicit Fibers(std::size_t stack_bytes = 256 * 1024) : stack_bytes_(stack_bytes) {}
  ~Fibers();
  Fibers(const Fibers &) = delete;
  Fibers &operator=(const Fibers &) = delete;

  // A fiber that starts running `body` at `at`; its index.
  std::size_t spawn(Millis at, std::function<void()> body);
  // From inside a fiber: waits until `at` (at once when it has come).
  // An interruptible wait (a worker between steps, on its latch) may be
  // ended early by wake(); a request's never is.
  void yield_until(Millis at, bool interruptible = false);
  // Ends fiber `f`'s interruptible wait at `at` (if it waits so, and later).
  void wake(std::size_t f, Millis at);
  void sleep(Millis ms) { yield_until(now_ + ms); }
  // Runs fibers, the one due first each time, until none is due by `until`
  // (or none is left); time stands at `until` afterwards.
  void run(Millis until);
  Millis now() const noexcept { return now_; }
  std::size_t running() const noexcept { return current_; }

 private:
  struct Fiber {
    ucontext_t context;
    std::unique_ptr<char[]> stack;
    std::function<void()> body;
    bool done = false;
    uint64_t waiting = 0;  // the entry of due_ its current wait is
    Millis until = 0;
    bool interruptible = false;
  };
  struct Due {
    Millis at;
    uint64_t seq;
    std::size_t fiber;
    bool operator>(const Due &o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  static void entry(unsigned hi, unsigned lo);

  std::size_t stack_bytes_;
  std::vector<std::unique_ptr<Fiber>> fibers_;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;
  uint64_t seq_ = 0;
  Millis now_ = 0;
  std::size_t current_ = SIZE_MAX;
  ucontext_t main_;
};

}  // namespace pg_vip::fleet
