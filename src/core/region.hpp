// Which AWS region pg_vip works in: the one place it is decided, for the
// claim (Ec2Cloud), the preflight and vip_iam_policy() alike.
#pragma once

#include <string>

#include "credentials.hpp"
#include "cpp_only.hpp"

namespace pg_vip::aws {

class ImdsClient;

struct RegionChoice {
  std::string region;  // empty: no source gave one
  std::string source;  // where it came from, for the preflight's row
};

// In the AWS SDKs' order: pg_vip.region, AWS_REGION, AWS_DEFAULT_REGION in
// the server's environment, then instance metadata (asked only when the
// others are empty, and only when `imds` is given). Throws AwsFailure when
// instance metadata was asked and did not answer.
RegionChoice find_region(const std::string &configured, const Environment &env, ImdsClient *imds);

}  // namespace pg_vip::aws
