// Instance metadata through IMDSv2: a session token (PUT, 6 hours) reused
// until close to its expiry and fetched again after a 401; short timeouts,
// the service being on the host.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clock.hpp"
#include "credentials.hpp"
#include "http_client.hpp"
#include "secret.hpp"
#include "cpp_only.hpp"

namespace pg_vip::aws {

struct ImdsOptions {
  std::string endpoint = "http://169.254.169.254";
  std::chrono::milliseconds timeout{1000};
  std::chrono::seconds token_ttl{21600};
};

class ImdsClient {
 public:
  ImdsClient(http::Client &http, ImdsOptions options, const Clock &clock);

  // GET /latest/<path>; throws AwsFailure (NotFound for a 404).
  std::string get(const std::string &path);
  // The same, for an answer that is key material: it goes from the HTTP
  // client's buffer into a Secret, with no plain copy on the way.
  Secret get_secret(const std::string &path);

  std::string instance_id();
  std::string region();
  // The AWS account the instance runs in (accountId of the instance
  // identity document): what an IAM policy's resource ARNs name.
  std::string account_id();
  // The interface id of the instance's primary interface (its first MAC).
  std::string primary_interface_id();
  // Every interface attached to the instance (one per MAC under
  // network/interfaces/macs/).
  std::vector<std::string> interface_ids();
  // The instance role's temporary credentials.
  Credentials role_credentials();

  int tokens_fetched() const noexcept { return tokens_fetched_; }

 private:
  void fetch_token();
  http::Response send(const std::string &path);
  // get()'s checks; the answer, when it is one, is resp.body.
  http::Response fetch(const std::string &path);

  http::Client &http_;
  ImdsOptions options_;
  const Clock &clock_;
  Secret token_;
  Clock::time_point token_expiry_{};
  int tokens_fetched_ = 0;
};

// {"Code":"Success","AccessKeyId":...,"SecretAccessKey":...,"Token":...,"Expiration":...}
// Parsed in place in a wiped copy of `json` (rapidjson would otherwise copy
// every string into its own pool and free it unwiped); wiping `json` itself is
// the caller's part.
Credentials parse_role_credentials(std::string_view json, const std::string &role);

}  // namespace pg_vip::aws
