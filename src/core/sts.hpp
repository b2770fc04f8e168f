// STS AssumeRole (Query API, Version 2011-06-15): the credentials of a role
// in another account, for the Route 53 (or EC2) client to sign with. The
// request is signed with the usual chain's credentials; the role's come
// back as Secrets, read from the answer without a copy that outlives it
// unwiped, and are cached and refreshed before they expire.
#pragma once

#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "aws_error.hpp"
#include "aws_service.hpp"
#include "clock.hpp"
#include "credentials.hpp"
#include "ec2_client.hpp"
#include "http_client.hpp"
#include "cpp_only.hpp"

namespace pg_vip::aws {

constexpr const char *kStsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/";

struct AssumeRoleRequest {
  std::string role_arn;      // arn:aws:iam::123456789012:role/path/name
  std::string session_name;  // 2 to 64 of [A-Za-z0-9_+=,.@-]; CloudTrail shows it
  std::string external_id;   // optional: 2 to 1224 of [A-Za-z0-9_+=,.@:/-]
  // 3600: the longest that works for every role. A role's default maximum
  // session is one hour, and a role assumed with temporary credentials (the
  // instance role's: role chaining) gets at most one hour whatever its
  // maximum; longer asks fail with ValidationError. An hour with
  // refresh_ahead's five minutes is one AssumeRole call an hour.
  std::chrono::seconds duration{3600};
};

// Each throws ConfigError naming the value and what was expected.
void check_role_arn(std::string_view arn);
void check_role_session_name(std::string_view name);
void check_external_id(std::string_view id);  // "" allowed: none
void check_duration(std::chrono::seconds d);  // 900 to 43200

// The form body: Action, Version, RoleArn, RoleSessionName,
// DurationSeconds, ExternalId (when set), RFC 3986-encoded. Checks the
// request first (ConfigError).
std::string assume_role_form(const AssumeRoleRequest &request);

// The AssumeRoleResponse's credentials, source "assume-role <role_arn>".
// The secret and the token are taken out of the body (into Secrets) before
// libxml2 reads it, so that its copies, freed unwiped, hold neither. Throws
// AwsFailure (Malformed) for a body that is not an AssumeRoleResponse in
// STS's namespace, has anything but printable ASCII, lacks a credential,
// has a secret or token that is not base64 or not in its place, or a bad
// Expiration.
Credentials parse_assume_role(std::string_view body, const std::string &role_arn);

// pg_vip's setting, else AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, else the
// regional endpoint https://sts.<region>.amazonaws.com (.com.cn in China).
std::string resolve_sts_endpoint(const std::string &setting, const Environment &env, const std::string &region);

struct AssumeRoleOptions {
  AssumeRoleRequest request;
  std::string endpoint;  // resolve_sts_endpoint()
  std::string region;    // what the request is signed for
  std::chrono::milliseconds timeout{2000};
  std::chrono::milliseconds connect_timeout{1000};
  // The role's credentials are renewed this long before they expire (at
  // most half their life before, for short ones).
  std::chrono::seconds refresh_ahead{300};
  // After a failed renewal, the cached credentials (still valid) serve this
  // long before STS is asked again: an STS outage must not cost every call
  // a timeout.
  std::chrono::seconds retry_after_failure{30};
  // AssumeRole's own retries (throttling, 5xx, transport).
  RetryPolicy retry{3, std::chrono::milliseconds(5000), {}, {}, {}, {}, {}};
};

class AssumeRoleProvider : public CredentialSource {
 public:
  // `base` signs the AssumeRole requests (the usual chain).
  AssumeRoleProvider(http::Client &http, CredentialSource &base, AssumeRoleOptions options, const Clock &clock);
  AssumeRoleProvider(Transport transport, CredentialSource &base, AssumeRoleOptions options, const Clock &clock);

  // The role's credentials: cached until refresh_ahead before they expire,
  // then assumed again. If that fails while the cached ones are still
  // valid, they serve (and STS is asked again after retry_after_failure);
  // otherwise throws Error saying why, with a hint (never a secret).
  const Credentials &get() override;
  // Forgets the role's credentials (an ExpiredToken answer).
  void invalidate() noexcept override;

  // One AssumeRole, retried under options().retry; throws Error.
  Credentials assume();
  // The signed request (exposed for tests).
  http::Request build();
  const AssumeRoleOptions &options() const noexcept { return options_; }
  // The last renewal's failure while cached credentials served, or empty.
  const std::string &last_failure() const noexcept { return last_failure_; }

 private:
  Transport transport_;
  CredentialSource &base_;
  AssumeRoleOptions options_;
  const Clock &clock_;
  Endpoint endpoint_;
  std::string body_;
  std::string signed_with_;  // the source of the credentials that signed the last request
  std::optional<Credentials> cached_;
  Clock::time_point refresh_at_{};
  std::optional<Clock::time_point> failed_at_;
  std::string last_failure_;
  std::mt19937_64 rng_;
};

}  // namespace pg_vip::aws
