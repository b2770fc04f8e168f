// What went wrong talking to AWS, typed, and whether trying again can help.
#pragma once

#include <chrono>
#include <random>
#include <string>

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
};
const char *to_string(ErrorKind kind) noexcept;

struct AwsError {
  ErrorKind kind = ErrorKind::Transport;
  long http_status = 0;
  std::string code;        // AWS error code, or the transport failure
  std::string message;     // AWS's message, or curl's
  std::string request_id;  // for AWS support
  bool retryable() const noexcept;
  // "RequestLimitExceeded: Request limit exceeded. (HTTP 503, request id ...)"
  std::string describe() const;
  // What a DBA should do about it, or empty.
  std::string hint() const;
};

// Classifies an AWS error code and HTTP status as the AWS SDKs' standard
// retry mode does.
ErrorKind classify(const std::string &code, long http_status);

// Thrown where a call cannot go on (e.g. by the credential chain or IMDS).
class AwsFailure : public Error {
 public:
  explicit AwsFailure(AwsError error)
      : Error(error.describe(), {}, error.hint()), error_(std::move(error)) {}
  const AwsError &error() const noexcept { return error_; }

 private:
  AwsError error_;
};

// Exponential backoff with full jitter: attempt n (from 0) waits a uniform
// random time in [0, min(cap, base * 2^n)].
struct Backoff {
  std::chrono::milliseconds base{50};
  std::chrono::milliseconds cap{2000};
  std::chrono::milliseconds ceiling(int attempt) const noexcept;
  std::chrono::milliseconds delay(int attempt, std::mt19937_64 &rng) const;
};

}  // namespace pg_vip::aws
