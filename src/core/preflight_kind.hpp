// One kind of target's part of the preflight: the DryRun requests that
// prove the permissions its claim needs (and, with
// pg_vip.preflight_probe_table, that they are narrow), and the reads that
// show its targets exist. What every kind shares (instance metadata,
// credentials, region, interface, AWS's clock) is preflight_probe.cpp's,
// which reads this node's interface first when a secondary IP needs its
// subnet to plan, and sends every kind's requests in one bounded batch. A further kind
// adds its own KindProbe and its row in kind_probes().
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controller.hpp"
#include "ec2_client.hpp"
#include "preflight.hpp"
#include "cpp_only.hpp"

namespace pg_vip::preflight {

// What a kind's probe plans with: the settings and what the common part
// learnt, and the two ways to add a request.
struct ProbePlan {
  const ControllerConfig &config;
  Observed &seen;
  std::string cidr;          // pg_vip.vip, canonical
  std::string interface_id;  // this node's interface; empty: not known
  // That interface's subnet, as the node's own read of it (sent before the
  // kinds plan, when a secondary IP is configured) saw it; empty: not known
  // or not read.
  std::string subnet_id;
  // A permission row proved by `call` with DryRun=true; without a call the
  // row says `skipped` (nothing could be asked). `expect_refused`: a narrow
  // check, which passes when AWS refuses.
  std::function<void(const std::string &action, const std::string &target, std::optional<aws::Ec2Call> call,
                     std::optional<Problem> skipped, bool expect_refused, const std::string &variant)>
      permission;
  // A plain request; `take` is given its answer once the batch is back.
  std::function<void(aws::Ec2Call call, std::function<void(const aws::Ec2Result &)> take)> read;
};

class KindProbe {
 public:
  virtual ~KindProbe() = default;
  virtual void plan(ProbePlan &p) = 0;
  // After the batch: follow-up requests, when an answer asked for them.
  virtual void finish(aws::Ec2Client &ec2, const aws::RetryPolicy &policy, Observed &seen) {
    (void) ec2;
    (void) policy;
    (void) seen;
  }
};

// Each kind's probe (preflight_route.cpp, preflight_elastic_ip.cpp,
// preflight_secondary_ip.cpp).
std::unique_ptr<KindProbe> elastic_ip_probe();
std::unique_ptr<KindProbe> secondary_ip_probe();

// One probe per configured kind, in the order the rows show them.
std::vector<std::unique_ptr<KindProbe>> kind_probes(const ControllerConfig &config);

// Shared by the kinds' probes.
std::vector<aws::Ec2Result> call_bounded(aws::Ec2Client &ec2, const std::vector<aws::Ec2Call> &calls,
                                         const aws::RetryPolicy &policy);
aws::AwsError not_found(const std::string &code, const std::string &message);

}  // namespace pg_vip::preflight
