// What went wrong talking to AWS, typed, and whether trying again can help.
#pragma once

#include <chrono>
#include <optional>
#include <random>
#include <string>

#include "actions.hpp"
#include "error.hpp"
#include "http_client.hpp"
#include "cpp_only.hpp"

namespace pg_vip::aws {

enum class ErrorKind {
  Transport,       // no usable HTTP answer: connect, timeout, TLS, dropped, too large
  Throttled,       // RequestLimitExceeded and kin
  ServerError,     // 5xx
  ExpiredToken,    // temporary credentials expired: refresh, then retry
  Authentication,  // AuthFailure, SignatureDoesNotMatch, RequestExpired, unknown key
  Authorization,   // UnauthorizedOperation: the IAM policy lacks an action
  NotFound,        // *.NotFound
  Invalid,         // validation: InvalidParameterValue, RouteAlreadyExists, ...
  Malformed,       // an answer we cannot read
  // A compare-and-swap that found the value it compared changed (Route 53's
  // batch refused on its DELETE): someone else wrote first. Nothing changed;
  // read again and decide again, never retry the same request.
  Conflict,
};
const char *to_string(ErrorKind kind) noexcept;

struct AwsError {
  ErrorKind kind = ErrorKind::Transport;
  long http_status = 0;
  std::string code;        // AWS error code, or the transport failure
  std::string message;     // AWS's message, or curl's
  std::string request_id;  // for AWS support
  bool retryable() const noexcept;
  // Retrying cannot fix it: Authentication, Authorization, NotFound, Invalid.
  // (A DryRunOperation answer is kind Invalid too: check dry_run_ok() first.)
  bool permanent() const noexcept;
  // The answer to a DryRun=true request that would have succeeded (HTTP 412
  // DryRunOperation): not a failure.
  bool dry_run_ok() const noexcept { return code == "DryRunOperation"; }
  // A request pg_vip cut short itself (a promotion, a shutdown): it says
  // nothing of AWS.
  bool cut_short() const noexcept { return kind == ErrorKind::Transport && code == "Cancelled"; }
  // "RequestLimitExceeded: Request limit exceeded. (HTTP 503, request id ...)"
  std::string describe() const;
  // describe() of a failure of `action` ("CreateTags", or
  // "route53:ChangeResourceRecordSets"): an authorization failure also names
  // the permission the IAM policy lacks, "... (the IAM policy must allow
  // ec2:CreateTags)", its service from the action table (actions.hpp).
  std::string describe_for(const std::string &action) const;
  // What a DBA should do about it, or empty.
  std::string hint() const;
  // hint() of a failure of `action` for `target`: an authorization failure
  // gets the action table's hint, naming the permission, the resources and
  // the statement of vip_iam_policy() that allows them.
  std::string hint_for(const std::string &action, std::optional<Kind> target = std::nullopt) const;
};

// Classifies an AWS error code and HTTP status as the AWS SDKs' standard
// retry mode does. A code it does not know on HTTP 401 is Authentication, on
// 403 Authorization: permanent, never retried.
ErrorKind classify(const std::string &code, long http_status);

// The IAM permission an action needs, by the action table: "ec2:CreateTags",
// "route53:GetChange", "sts:AssumeRole"; an action pg_vip does not call is
// taken for EC2's ("ec2:" + action). A permission given whole is kept.
std::string required_permission(const std::string &action);

// Thrown where a call cannot go on (e.g. by the credential chain or IMDS).
class AwsFailure : public Error {
 public:
  explicit AwsFailure(AwsError error) : Error(error.describe(), {}, error.hint()), error_(std::move(error)) {}
  const AwsError &error() const noexcept { return error_; }

 private:
  AwsError error_;
};

// Exponential backoff with full jitter: attempt n (from 0) waits a uniform
// random time in [0, min(cap, base * 2^n)].
// EC2's refusal of a tag for want of room: it keeps 50 tags per resource
// (a subnet's shared by every cluster and tool in it).
bool no_tag_room(const AwsError &e) noexcept;

struct Backoff {
  std::chrono::milliseconds base{50};
  std::chrono::milliseconds cap{2000};
  std::chrono::milliseconds ceiling(int attempt) const noexcept;
  std::chrono::milliseconds delay(int attempt, std::mt19937_64 &rng) const;
};

}  // namespace pg_vip::aws
