// STS AssumeRole (Query API, Version 2011-06-15): the credentials of a role
// in another account, for the Route 53 (or EC2) client to sign with. The
// request is signed with the usual chain's credentials; the role's come
// back as Secrets, read from the answer without a copy that outlives it
// unwiped, and are cached and refreshed before they expire.
#pragma once

#include <chrono>
#include <memory>
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
  RetryPolicy retry{3, std::chrono::milliseconds(5000), {}, {}, {}, {}, {}, nullptr, Urgency::Check, {}};
};

// An AssumeRole that did not give credentials: STS's answer (or the
// transport's failure) typed, and the source of the credentials that asked,
// so that a caller can say which side has to change. Its message and
// detail never hold a secret (nor the external id).
class AssumeRoleFailure : public Error {
 public:
  AssumeRoleFailure(const std::string &message, std::string detail, std::string hint, AwsError error,
                    std::string signer)
      : Error(message, std::move(detail), std::move(hint)), error_(std::move(error)), signer_(std::move(signer)) {}
  const AwsError &error() const noexcept { return error_; }
  const std::string &signer() const noexcept { return signer_; }

 private:
  AwsError error_;
  std::string signer_;
};

class AssumeRoleProvider : public CredentialSource {
 public:
  // `base` signs the AssumeRole requests (the usual chain).
  AssumeRoleProvider(http::Client &http, CredentialSource &base, AssumeRoleOptions options, const Clock &clock);
  AssumeRoleProvider(Transport transport, CredentialSource &base, AssumeRoleOptions options, const Clock &clock);

  // The role's credentials: cached until refresh_ahead before they expire,
  // then assumed again. If that fails while the cached ones are still
  // valid, they serve (and STS is asked again after retry_after_failure);
  // otherwise throws Error saying why, with a hint (never a secret):
  // AssumeRoleFailure when STS refused or could not be reached.
  const Credentials &get() override;
  // Forgets the role's credentials (an ExpiredToken answer).
  void invalidate() noexcept override;

  // One AssumeRole, retried under options().retry; throws
  // AssumeRoleFailure. Every attempt is told to options().retry.on_attempt
  // as the action "AssumeRole" (the metrics count it), without its body.
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

// pg_vip.role_arn and its companions: the role the targets are reached
// through. Equal settings keep the role's cached credentials.
struct RoleSettings {
  std::string arn;           // empty: no role, the node's own credentials
  std::string external_id;   // empty: none; never shown
  std::string session_name;  // empty: Context::default_session_name
  std::string endpoint;      // pg_vip.sts_endpoint; empty: resolve_sts_endpoint()'s
  bool operator==(const RoleSettings &o) const {
    return arn == o.arn && external_id == o.external_id && session_name == o.session_name && endpoint == o.endpoint;
  }
  bool operator!=(const RoleSettings &o) const { return !(*this == o); }
};

// A short sentence on what to fix when AssumeRole failed, for a bounded
// field (a target's last_error): the role's trust policy, the external id,
// the node's sts:AssumeRole; or, for a failure that is not a refusal, STS's
// own words. Never a secret.
std::string assume_role_problem(const AssumeRoleFailure &failure, const std::string &role_arn);

class TargetCredentials;
// Makes `credentials` sign as `settings` say (the role as a reload left it;
// the caller fills in the default session name) and, with a role, has the
// role's credentials ready. nullopt, or the error every target it signs for
// then carries (its action AssumeRole), saying what to fix. Each Cloud
// whose targets sign with these calls it before its requests, so that a
// reload reaches every kind, whichever kinds are configured.
std::optional<AwsError> ready_target_credentials(TargetCredentials &credentials, const RoleSettings &settings);

// The credentials the targets' requests are signed with (issue 20's split,
// actions.hpp's Action::on_node): without a role the node's own (`own`,
// the usual chain), with one the role's, assumed with `own`. The node's
// own reads (its interface, instance metadata) never go through this. One
// instance serves every client that changes targets (EC2's and Route
// 53's): one AssumeRole an hour, one cache.
class TargetCredentials : public CredentialSource {
 public:
  struct Context {
    std::string region;  // where STS is asked, and what AssumeRole is signed for
    Environment env;     // AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL
    std::string default_session_name;
    std::chrono::milliseconds timeout{2000};
    RetryPolicy retry{2, std::chrono::milliseconds(6000), {}, {}, {}, {}, {}, nullptr, Urgency::Check, {}};
  };
  TargetCredentials(Transport transport, CredentialSource &own, Context context, const Clock &clock);

  // Takes the role's settings (from a reload): a change drops the role's
  // cached credentials; equal settings keep them. Throws ConfigError for a
  // setting AssumeRole cannot send (the GUC check hooks refuse them first).
  void configure(const RoleSettings &settings);

  const Credentials &get() override;
  void invalidate() noexcept override;

  bool uses_role() const noexcept { return role_ != nullptr; }
  const RoleSettings &settings() const noexcept { return settings_; }
  // The role's provider (null without a role): the preflight asks it once.
  AssumeRoleProvider *role() noexcept { return role_.get(); }

 private:
  Transport transport_;
  CredentialSource &own_;
  Context context_;
  const Clock &clock_;
  RoleSettings settings_;
  std::unique_ptr<AssumeRoleProvider> role_;
};

}  // namespace pg_vip::aws
