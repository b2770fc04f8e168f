// Time as the controller sees it: the clocks it reads, how it waits, and the
// randomness of its backoff. The worker's is real time with a latch-aware
// sleep; the simulation's is a simulated clock that a sleep advances, and a
// seeded generator, so that a seed replays a run exactly.
#pragma once

#include <chrono>
#include <functional>
#include <random>

#include "cpp_only.hpp"

namespace pg_vip {

class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual std::chrono::steady_clock::time_point steady() = 0;
  virtual std::chrono::system_clock::time_point wall() = 0;
  // Waits, returning early when cancelled() turns true.
  virtual void sleep(std::chrono::milliseconds ms) = 0;
  // Shutdown or postmaster death: stop what is under way.
  virtual bool cancelled() = 0;
  virtual std::mt19937_64 &random() = 0;
};

// Real clocks; waiting and cancellation from the glue's hooks.
class RealTime : public TimeSource {
 public:
  RealTime(std::function<bool()> cancelled, std::function<void(std::chrono::milliseconds)> sleep)
      : cancelled_(std::move(cancelled)), sleep_(std::move(sleep)), rng_(std::random_device{}()) {}
  std::chrono::steady_clock::time_point steady() override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wall() override { return std::chrono::system_clock::now(); }
  void sleep(std::chrono::milliseconds ms) override;
  bool cancelled() override { return cancelled_ && cancelled_(); }
  std::mt19937_64 &random() override { return rng_; }

 private:
  std::function<bool()> cancelled_;
  std::function<void(std::chrono::milliseconds)> sleep_;
  std::mt19937_64 rng_;
};

}  // namespace pg_vip
