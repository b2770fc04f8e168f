// The EC2 Query API (Version 2016-11-15): signed POST forms, typed answers,
// typed errors, parallel calls, retries with backoff.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "api_budget.hpp"
#include "aws_error.hpp"
#include "clock.hpp"
#include "credentials.hpp"
#include "ec2_xml.hpp"
#include "http_client.hpp"
#include "cpp_only.hpp"

namespace pg_vip::aws {

struct Ec2Call {
  std::string action;
  std::vector<std::pair<std::string, std::string>> params;  // in the order sent
  // What the log and errors call it, e.g. "ReplaceRoute rtb-0123abcd".
  std::string label() const;
};

struct Ec2Result {
  std::optional<AwsError> error;
  std::string body;  // the XML answer on success
  std::string date;  // the answer's Date header (error answers too), or empty
  double elapsed_ms = 0;
  int attempts = 0;
  bool ok() const noexcept { return !error; }
};

struct Ec2Options {
  std::string endpoint;  // "https://ec2.us-east-1.amazonaws.com" or a test endpoint
  std::string region;
  std::chrono::milliseconds timeout{2000};
  std::chrono::milliseconds connect_timeout{1000};
};

// How long to keep trying is the caller's choice.
struct RetryPolicy {
  int max_attempts = 5;
  std::chrono::milliseconds deadline{15000};
  Backoff backoff;
  std::function<bool()> cancelled;                       // stop early
  std::function<void(std::chrono::milliseconds)> sleep;  // default: sleeps, polling `cancelled`
  std::function<void(const std::string &)> log;          // one line per retry
  // Told of every attempt's result, retried or not (the metrics count them).
  // Must not throw.
  std::function<void(const Ec2Call &, const Ec2Result &)> on_attempt;
  // The node's budget for this service (api_budget.hpp), kept across calls;
  // null: no quota, no send rate (every retry goes as the backoff says).
  ApiBudget *budget = nullptr;
  Urgency urgency = Urgency::Check;
  // The clock the deadline and the send rate are read on; empty: steady_clock.
  std::function<std::chrono::steady_clock::time_point()> now;
};

class Ec2Client {
 public:
  Ec2Client(http::Client &http, CredentialSource &credentials, Ec2Options options, const Clock &clock);

  // One attempt each, all in parallel; answers in the order asked.
  std::vector<Ec2Result> call_all(const std::vector<Ec2Call> &calls);
  // Retryable failures retried with backoff until each call succeeded or
  // failed for good, or the policy's attempts or deadline ran out.
  // `first`: the first attempt's answers when the caller sent it
  // (build_all(), round_trip.hpp), one per call; empty: sent here.
  std::vector<Ec2Result> call_all(const std::vector<Ec2Call> &calls, const RetryPolicy &policy,
                                  const std::vector<http::Response> &first = {});
  Ec2Result call(const Ec2Call &c, const RetryPolicy &policy) { return call_all({c}, policy).front(); }

  // The signed HTTP request for a call (exposed for tests).
  http::Request build(const Ec2Call &call);
  // Each call's, to be sent by the caller; empty when they cannot be signed
  // (no credentials), which call_all() then reports.
  std::vector<http::Request> build_all(const std::vector<Ec2Call> &calls);
  http::Client &http() noexcept { return http_; }

  const Ec2Options &options() const noexcept { return options_; }

 private:
  http::Client &http_;
  CredentialSource &credentials_;
  Ec2Options options_;
  const Clock &clock_;
  std::string host_;  // the Host header: host[:port] as in the URL
  std::mt19937_64 rng_;
};

// The calls pg_vip makes. `cidr` is "a.b.c.d/32" or an IPv6 "/128".
Ec2Call replace_route(const std::string &route_table_id, const std::string &cidr, const std::string &eni);
Ec2Call create_route(const std::string &route_table_id, const std::string &cidr, const std::string &eni);
// A next_token (from RouteTablePage) asks for the page after it. MaxResults
// is never sent: EC2 then answers in one page unless it must page.
Ec2Call describe_route_tables(const std::vector<std::string> &route_table_ids, const std::string &next_token = "");
Ec2Call create_tags(const std::vector<std::string> &resource_ids, const std::map<std::string, std::string> &tags);
// Tag.N.Key without a Value: EC2 deletes the key whatever its value; with
// Tag.N.Value, only where the tag still has that value. A pair whose value
// is empty is sent without one.
Ec2Call delete_tags(const std::vector<std::string> &resource_ids, const std::vector<std::string> &keys);
Ec2Call delete_tags(const std::vector<std::string> &resource_ids,
                    const std::vector<std::pair<std::string, std::string>> &tags);
Ec2Call describe_network_interfaces(const std::vector<std::string> &interface_ids);
// The interface's own attribute: a secondary interface has its own
// source/destination check, which the instance's attribute does not show.
Ec2Call describe_network_interface_attribute(const std::string &interface_id, const std::string &attribute);

// The call with DryRun=true (once): EC2 checks the caller's permission and the
// parameters and changes nothing. Allowed, it answers HTTP 412
// DryRunOperation (Ec2Result::error->dry_run_ok()); refused, the usual error
// (UnauthorizedOperation).
Ec2Call with_dry_run(Ec2Call call);

// Each answer interpreted, as one attempt.
std::vector<Ec2Result> interpret_all(const std::vector<http::Response> &responses);

// What one HTTP answer means for a call: a transport failure, an AWS error
// (parse_error), or a 2xx whose body must be a readable EC2 answer.
Ec2Result interpret(const http::Response &response);

// The form body: Action, Version, then the parameters, RFC 3986-encoded.
std::string form_body(const Ec2Call &call);

// pg_vip.ec2_endpoint, else AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL, else the
// regional endpoint.
std::string resolve_ec2_endpoint(const std::string &setting, const Environment &env, const std::string &region);

}  // namespace pg_vip::aws
