// The preflight's observations: instance metadata, credentials, the
// interface, the route tables and every permission a claim needs (each
// proved with EC2's DryRun=true, so nothing changes), the addresses bound
// here and AWS's clock. Each step is bounded by pg_vip.request_timeout and
// its failure recorded, never thrown: the next steps still run, and
// preflight.hpp turns it all into rows.
#pragma once

#include <functional>
#include <vector>

#include "clock.hpp"
#include "controller.hpp"
#include "credentials.hpp"
#include "sts.hpp"
#include "local_addresses.hpp"
#include "preflight.hpp"
#include "cpp_only.hpp"

namespace pg_vip::preflight {

struct ProbeHooks {
  aws::Environment env;             // empty: the process environment
  std::function<bool()> cancelled;  // polled while requests run: a query cancel
  // Empty: getifaddrs(); tests give their own.
  std::function<std::vector<LocalAddress>()> local_addresses;
  const Clock *clock = nullptr;  // signatures and this host's time; null: the system clock
  // pg_vip.role_arn and its companions (empty arn: no role): the targets'
  // permissions and reads are probed with the role's credentials.
  aws::RoleSettings role;
  // Told of each answer AWS throttled (RequestLimitExceeded and kin): the
  // worker then keeps the run's rows to itself and tries later
  // (preflight_pacing.hpp). Must not throw.
  std::function<void()> throttled;
};

// At most this many requests at once: a check of 200 route tables must not
// open hundreds of connections, nor draw an account's whole request bucket.
constexpr std::size_t kMaxParallel = 16;

// How each of the probe's requests is retried: twice at most, within
// three request time-outs; `hooks` must outlive it (its throttled hook).
aws::RetryPolicy probe_policy(const ControllerConfig &config, const ProbeHooks &hooks);

Observed observe(const ControllerConfig &config, const ProbeHooks &hooks);

// observe() then evaluate().
std::vector<CheckResult> run(const ControllerConfig &config, const ProbeHooks &hooks);

}  // namespace pg_vip::preflight
