#include "time_source.hpp"

#include <thread>

namespace pg_vip {

void RealTime::sleep(std::chrono::milliseconds ms) {
  if (sleep_) return sleep_(ms);
  // Without a hook (unit and integration tests): sleep in short slices so
  // that cancellation is noticed.
  auto until = std::chrono::steady_clock::now() + ms;
  while (!cancelled() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(10), until - std::chrono::steady_clock::now()));
}

}  // namespace pg_vip
