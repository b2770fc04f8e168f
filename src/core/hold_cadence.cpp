#include "hold_cadence.hpp"

#include "judgement.hpp"

namespace pg_vip {

using namespace std::chrono;

void HoldCadence::observe(int standbys, SteadyTime now) noexcept {
  if (standbys < 0) standbys = 0;
  // A standby gone: it may have been promoted. The first look starts the
  // window too: a worker that just started does not know what came before.
  if (steady_since_ == SteadyTime{} || standbys < standbys_) steady_since_ = now;
  standbys_ = standbys;
  seen_at_ = now;
}

bool HoldCadence::intact(SteadyTime now, milliseconds quiet_after) const noexcept {
  return standbys_ > 0 && steady_since_ != SteadyTime{} && now - steady_since_ >= quiet_after;
}

milliseconds HoldCadence::interval(SteadyTime now, milliseconds check_interval,
                                   milliseconds replicated) const noexcept {
  // A lease of the short cadence: long enough for a standby that stopped
  // streaming to be promoted and claim, so its tag is read at the short
  // cadence.
  if (replicated <= check_interval || !intact(now, lease(check_interval))) return check_interval;
  return replicated;
}

std::string cadence_text(milliseconds d) {
  if (d.count() > 0 && d.count() % 60000 == 0) return std::to_string(d.count() / 60000) + " min";
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

milliseconds spread_out(milliseconds d, std::mt19937_64 &rng) {
  if (d.count() < 4) return d;
  std::uniform_int_distribution<long long> pick(d.count() - d.count() / 4, d.count());
  return milliseconds(pick(rng));
}

}  // namespace pg_vip
