#include "aws_error.hpp"

#include <algorithm>

#include "text.hpp"

namespace pg_vip::aws {

const char *to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::Transport: return "transport";
    case ErrorKind::Throttled: return "throttled";
    case ErrorKind::ServerError: return "server error";
    case ErrorKind::ExpiredToken: return "expired token";
    case ErrorKind::Authentication: return "authentication";
    case ErrorKind::Authorization: return "authorization";
    case ErrorKind::NotFound: return "not found";
    case ErrorKind::Invalid: return "invalid request";
    case ErrorKind::Malformed: return "malformed response";
    case ErrorKind::Conflict: return "changed by someone else first";
  }
  return "unknown";
}

ErrorKind classify(const std::string &code, long status) {
  auto ends_with = [&](const char *tail) {
    std::string t(tail);
    return code.size() >= t.size() && code.compare(code.size() - t.size(), t.size(), t) == 0;
  };
  if (code == "RequestLimitExceeded" || code == "Throttling" || code == "ThrottlingException" ||
      code == "RequestThrottled" || code == "RequestThrottledException" || code == "TooManyRequestsException" ||
      code == "SlowDown" || code == "EC2ThrottledException" || status == 429)
    return ErrorKind::Throttled;
  if (code == "ExpiredToken" || code == "ExpiredTokenException" || code == "RequestExpiredToken")
    return ErrorKind::ExpiredToken;
  if (code == "AuthFailure" || code == "SignatureDoesNotMatch" || code == "RequestExpired" ||
      code == "InvalidClientTokenId" || code == "IncompleteSignature" || code == "MissingAuthenticationToken" ||
      code == "InvalidToken")
    return ErrorKind::Authentication;
  if (code == "UnauthorizedOperation" || code == "AccessDenied" || code == "AccessDeniedException" ||
      code == "OptInRequired" || code == "Blocked")
    return ErrorKind::Authorization;
  // Not a failure: a DryRun=true request that would have succeeded (HTTP 412).
  // Never retried; AwsError::dry_run_ok() tells it apart.
  if (code == "DryRunOperation") return ErrorKind::Invalid;
  // Any other refusal of who the caller is (401) or of what it may do (403):
  // retrying with the same credentials and policy cannot succeed.
  if (status == 401) return ErrorKind::Authentication;
  if (status == 403) return ErrorKind::Authorization;
  if (ends_with(".NotFound")) return ErrorKind::NotFound;
  if (status >= 500 || code == "InternalError" || code == "InternalFailure" || code == "ServiceUnavailable" ||
      code == "Unavailable")
    return ErrorKind::ServerError;
  return ErrorKind::Invalid;
}

bool AwsError::retryable() const noexcept {
  switch (kind) {
    case ErrorKind::Transport:
    case ErrorKind::Throttled:
    case ErrorKind::ServerError:
    case ErrorKind::ExpiredToken:  // after refreshing the credentials
    // Every call pg_vip makes is idempotent, and a garbled answer (a proxy
    // cutting a body short) says nothing about whether the next one will be.
    case ErrorKind::Malformed: return true;
    default: return false;
  }
}

bool AwsError::permanent() const noexcept {
  switch (kind) {
    case ErrorKind::Authentication:
    case ErrorKind::Authorization:
    case ErrorKind::NotFound:
    case ErrorKind::Invalid: return true;
    default: return false;
  }
}

std::string required_permission(const std::string &action) {
  if (const Action *a = find_action(action)) return a->permission();
  if (action.find(':') != std::string::npos) return action;
  return "ec2:" + action;
}

namespace {

// AWS's message without EC2's "Encoded authorization failure message: ...":
// one to two kilobytes, different on every call, and only useful through
// `aws sts decode-authorization-message`; it would push what matters out of
// every bounded field that shows the error.
std::string short_message(const std::string &message) {
  auto at = message.find("Encoded authorization failure message:");
  if (at == std::string::npos) return message;
  std::string out = message.substr(0, at);
  while (!out.empty() && (out.back() == ' ' || out.back() == '.')) out.pop_back();
  return out + " (encoded authorization message left out)";
}

std::string describe_with(const AwsError &e, const std::string &permission) {
  std::string out = e.code.empty() ? std::string(to_string(e.kind)) : e.code;
  // The permission first: a bounded field that cuts the text keeps it.
  if (!permission.empty()) out += " (the IAM policy must allow " + permission + ")";
  if (!e.message.empty()) out += ": " + short_message(e.message);
  std::vector<std::string> extra;
  if (e.http_status) extra.push_back("HTTP " + std::to_string(e.http_status));
  if (!e.request_id.empty()) extra.push_back("request id " + e.request_id);
  if (!extra.empty()) out += " (" + join(extra, ", ") + ")";
  return out;
}

// The permissions of the route tables and the node's own reads, from the
// action table: "ec2:DescribeRouteTables, ... and ec2:DeleteTags".
std::string route_permissions() {
  std::vector<std::string> names;
  for (const auto &a : action_table()) {
    if (a.kind != Kind::Route && a.kind != Kind::Node) continue;
    std::string p = a.permission();
    if (std::find(names.begin(), names.end(), p) == names.end()) names.push_back(p);
  }
  std::string last = names.back();
  names.pop_back();
  return join(names, ", ") + " and " + last;
}

}  // namespace

std::string AwsError::describe_for(const std::string &action) const {
  return describe_with(*this, kind == ErrorKind::Authorization ? required_permission(action) : std::string());
}

std::string AwsError::describe() const { return describe_with(*this, {}); }

std::string AwsError::hint() const {
  switch (kind) {
    case ErrorKind::Authentication:
      if (code == "RequestExpired")
        return "The server's clock is more than 5 minutes off; synchronise it (chrony, NTP).";
      return "Check the credentials pg_vip uses (environment, shared files or the instance role).";
    case ErrorKind::Authorization:
      // Which action was refused is the caller's to say (hint_for); without
      // it, what route tables need, the kind every release has.
      return "Allow " + route_permissions() +
             " in the IAM policy of the credentials pg_vip uses; vip_iam_policy() prints the policy for every kind "
             "of target (docs/iam.md).";
    case ErrorKind::NotFound: return "Check pg_vip.route_tables, pg_vip.network_interface and pg_vip.region.";
    case ErrorKind::Transport:
      return "Check that the endpoint is reachable from this host (security groups, proxy, VPC endpoint).";
    default:
      if (no_tag_room(*this))
        return "EC2 keeps 50 tags per resource: delete tags this one no longer needs. pg_vip needs one free per VIP "
               "on a route table or Elastic IP, and one per secondary IP on its subnet, whose tags every cluster and "
               "tool in the subnet shares.";
      return {};
  }
}

std::string AwsError::hint_for(const std::string &action, std::optional<Kind> target) const {
  if (kind == ErrorKind::Authorization)
    if (const Action *a = find_action(action, target)) return a->hint();
  return hint();
}

bool no_tag_room(const AwsError &e) noexcept { return e.code == "TagLimitExceeded"; }

std::chrono::milliseconds Backoff::ceiling(int attempt) const noexcept {
  attempt = std::clamp(attempt, 0, 30);
  auto grown = base.count() << std::min(attempt, 20);
  return std::chrono::milliseconds(std::min<long long>(cap.count(), grown));
}

std::chrono::milliseconds Backoff::delay(int attempt, std::mt19937_64 &rng) const {
  std::uniform_int_distribution<long long> pick(0, ceiling(attempt).count());
  return std::chrono::milliseconds(pick(rng));
}

}  // namespace pg_vip::aws
