// The worker's way to AWS: a Controller::CloudFactory that builds an
// Ec2Cloud (libcurl, SigV4) for each configuration. The controller knows
// only the Cloud seam; the worker hands it this factory, the tests and the
// simulation hand it theirs.
#pragma once

#include "controller.hpp"
#include "cpp_only.hpp"
#include "credentials.hpp"
#include "sts.hpp"

namespace pg_vip {

// env: the process environment the credentials chain reads (AWS_*).
// role: pg_vip.role_arn and its companions as they are now, asked by each
// Cloud before its targets' requests (empty: no role). It goes beside the
// ControllerConfig, not in it, so that a reload that changes only the role
// keeps the Cloud (its connections, the node's own credentials) and
// changes only what the targets are signed with.
Controller::CloudFactory ec2_cloud_factory(aws::Environment env, std::function<aws::RoleSettings()> role = {});

}  // namespace pg_vip
