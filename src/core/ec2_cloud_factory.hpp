// The worker's way to AWS: a Controller::CloudFactory that builds an
// Ec2Cloud (libcurl, SigV4) for each configuration. The controller knows
// only the Cloud seam; the worker hands it this factory, the tests and the
// simulation hand it theirs.
#pragma once

#include "controller.hpp"
#include "cpp_only.hpp"
#include "credentials.hpp"

namespace pg_vip {

// env: the process environment the credentials chain reads (AWS_*).
Controller::CloudFactory ec2_cloud_factory(aws::Environment env);

}  // namespace pg_vip
