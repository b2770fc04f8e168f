// What the clients of Route 53 and STS share: where a service's endpoint
// is, how their requests are sent, and how they wait between attempts.
#pragma once

#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "aws_error.hpp"
#include "clock.hpp"
#include "credentials.hpp"
#include "ec2_client.hpp"
#include "error.hpp"
#include "http_client.hpp"
#include "sigv4.hpp"
#include "time_source.hpp"
#include "cpp_only.hpp"

namespace pg_vip::aws {

// Sends requests, all at once; answers in the order asked. A client built
// on an http::Client sends through perform_all; tests give a function.
using Transport = std::function<std::vector<http::Response>(const std::vector<http::Request> &)>;
Transport transport_of(http::Client &http);

// A response that never came (timeout, refused, TLS...) as an AwsError of
// kind Transport, its code naming the failure ("RequestTimeout").
AwsError transport_failure(const http::Response &response);

// The retry loop of the clients whose calls go in parallel (EC2's, Route
// 53's): every call attempted at once; those that failed retryably again,
// after the policy's backoff, until each succeeded or failed for good or
// the policy's attempts or deadline ran out. An expired token invalidates
// the credentials before the next attempt. An attempt that throws Error
// (no credentials to sign with) fails every call it was for with
// NoCredentials, and ends the loop.
struct RetriedCalls {
  std::size_t count = 0;
  // One attempt of the calls `which` names (indices, ascending), their
  // answers in that order; `attempt` counts from 1.
  std::function<std::vector<Ec2Result>(const std::vector<std::size_t> &which, int attempt)> attempt;
  std::function<Ec2Call(std::size_t)> name;       // what on_attempt is told of call i
  std::function<std::string(std::size_t)> label;  // what the log calls call i
};
std::vector<Ec2Result> retry_calls(const RetriedCalls &calls, const RetryPolicy &policy, CredentialSource &credentials,
                                   std::mt19937_64 &rng);

// The policy a Cloud's calls run under: `attempts` tries within a deadline
// of three request time-outs (at least 3 s), waiting on the Cloud's time
// source (so a shutdown cuts a wait short), drawing on the node's budget
// for the service (null: none) with the urgency of what asked.
RetryPolicy cloud_policy(Urgency urgency, int attempts, std::chrono::milliseconds request_timeout, Backoff backoff,
                         TimeSource &time, ApiBudget *budget);

// Each call's signed request (`build`), for a caller that sends them
// itself (round_trip.hpp); none when they cannot be signed (no
// credentials), which the client's call_all() then reports for each call.
template <class Call, class Build>
std::vector<http::Request> build_each(const std::vector<Call> &calls, Build build) {
  std::vector<http::Request> out;
  try {
    for (const auto &c : calls) out.push_back(build(c));
  } catch (const Error &) {
    return {};
  }
  return out;
}

// Waits between attempts: the policy's sleep, or a sleep that ends early
// when the policy's cancelled() turns true.
void pause(const RetryPolicy &policy, std::chrono::milliseconds wait);

// Where a service's endpoint comes from, as the AWS SDKs resolve it: the
// setting, then the service's own AWS_ENDPOINT_URL_<SERVICE>, then
// AWS_ENDPOINT_URL, then the service's public endpoint.

// `service_variable` is the SDKs' name ("AWS_ENDPOINT_URL_STS",
// "AWS_ENDPOINT_URL_ROUTE_53"). The variables' values are checked URLs
// (settings::parse_url); `public_endpoint` is asked only when neither is set
// (it may throw: a regional endpoint without a region).
std::string resolve_endpoint(const std::string &setting, const Environment &env, const char *service_variable,
                             const std::function<std::string()> &public_endpoint);

// The host and port a signed request's Host header names ("host[:port]").
struct Endpoint {
  std::string url;   // canonical, without a trailing slash
  std::string host;  // the Host header
};
Endpoint parse_endpoint(const char *what, const std::string &url);

// How a request is signed and bounded.
struct Signing {
  std::string region;   // the signing region: us-east-1 for Route 53, the endpoint's for STS
  std::string service;  // "route53", "sts"
  Clock::time_point time;
  std::chrono::milliseconds timeout{2000};
  std::chrono::milliseconds connect_timeout{1000};
};

// `request` (method, path, query, body, headers but Host) sent to
// `endpoint`, with its Host header, signed with SigV4. Through the proxy the
// environment names, as the SDKs' requests to service endpoints are.
http::Request signed_request(const Endpoint &endpoint, SignableRequest request, const Credentials &credentials,
                             const Signing &how);

}  // namespace pg_vip::aws
