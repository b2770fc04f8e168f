// Where vip_iam_policy() finds what its policy names besides the settings:
// the region (as a claim finds it: pg_vip.region, AWS_REGION,
// AWS_DEFAULT_REGION, then instance metadata) and the account (the
// accountId of the instance identity document, from instance metadata: no
// STS call, so no permission beyond the ones the policy grants).
#pragma once

#include <functional>
#include <string>

#include "controller.hpp"
#include "credentials.hpp"

namespace pg_vip {

// The policy for `config` (iam_policy.hpp). Throws Error, with a hint, when
// the VIP or the route tables are not set, or the region or the account
// cannot be found. With `role_arn` (pg_vip.role_arn) the two documents, as
// one JSON object {"node": the node's own credentials' policy, "role": the
// role's, naming the targets in its account}: each goes to its principal.
std::string iam_policy_for(const ControllerConfig &config, const aws::Environment &env, std::function<bool()> cancelled,
                           const std::string &role_arn = {});

}  // namespace pg_vip
