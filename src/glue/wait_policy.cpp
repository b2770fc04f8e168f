#include "wait_policy.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>

namespace pg_vip {

using namespace std::chrono;

milliseconds next_wait(const WaitInputs &in) noexcept {
  milliseconds wait = in.until_step;
  if (!in.primary) wait = std::min(wait, in.fast_polling ? kFastPoll : in.watching ? kWatchedIdle : kStandbyPoll);
  else wait = std::min(wait, kPrimaryPoll);
  if (in.notifications_running) wait = std::min(wait, kReapPoll);
  return std::max(wait, milliseconds(1));
}

bool PromotionWatch::open(const char *data_directory) noexcept {
  close();
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return false;
  if (inotify_add_watch(fd, data_directory, IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO) < 0) {
    ::close(fd);
    return false;
  }
  fd_ = fd;
  return true;
}

void PromotionWatch::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void PromotionWatch::drain(steady_clock::time_point now) noexcept {
  if (fd_ < 0) return;
  char buf[4096];
  bool changed = false;
  while (read(fd_, buf, sizeof buf) > 0) changed = true;
  if (changed) fast_until_ = now + kFastPollFor;
}

}  // namespace pg_vip
