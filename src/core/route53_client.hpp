// Route 53's REST XML API (2013-04-01): signed requests to the global
// endpoint (SigV4, service "route53", always region us-east-1), typed
// answers and errors, parallel calls, retries with backoff under Ec2Client's
// RetryPolicy. What pg_vip needs of it: read a target (its address record
// and fence TXT), change it in one compare-and-swap batch, and follow the
// change until Route 53's servers all have it.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "aws_error.hpp"
#include "aws_service.hpp"
#include "clock.hpp"
#include "credentials.hpp"
#include "ec2_client.hpp"
#include "http_client.hpp"
#include "route53_fence.hpp"
#include "route53_xml.hpp"
#include "cpp_only.hpp"

namespace pg_vip::aws {

// The public endpoint, and the region every Route 53 request is signed for
// (the service is global; its signing region is us-east-1 whatever the
// node's region).
constexpr const char *kRoute53Endpoint = "https://route53.amazonaws.com";
constexpr const char *kRoute53SigningRegion = "us-east-1";

struct Route53Call {
  std::string action;   // "ChangeResourceRecordSets", ...: what on_attempt and the metrics name
  std::string method;   // "GET" or "POST"
  std::string path;     // "/2013-04-01/hostedzone/Z1D633PJN98FT9/rrset/"
  std::string query;    // encoded, without '?': "name=db.example.com.&type=A&maxitems=1"
  std::string body;     // the XML document of a POST
  std::string subject;  // the hosted zone or change id
  // What the log and errors call it, e.g. "ChangeResourceRecordSets Z1D633PJN98FT9".
  std::string label() const { return action + " " + subject; }
};

// POST /2013-04-01/hostedzone/{Id}/rrset/ with change_batch_xml(batch).
Route53Call change_resource_record_sets(const std::string &hosted_zone, const ChangeBatch &batch);
// GET /2013-04-01/hostedzone/{Id}/rrset?name=&type=&maxitems=: the record
// sets from (name, type) on, in Route 53's order, at most max_items (1 to
// 300). An empty type starts at the name's first.
Route53Call list_resource_record_sets(const std::string &hosted_zone, const std::string &start_name,
                                      const std::string &start_type, int max_items);
// GET /2013-04-01/change/{Id}.
Route53Call get_change(const std::string &change_id);

// The answer to one call: the same shape as EC2's (error or body, date,
// elapsed, attempts), so that RetryPolicy and its on_attempt serve both.
using Route53Result = Ec2Result;
// A transport failure, a Route 53 error (parse_route53_error), or a 2xx
// whose body must be an XML document in Route 53's namespace.
Route53Result interpret_route53(const http::Response &response);

struct Route53Options {
  std::string endpoint = kRoute53Endpoint;  // or a test endpoint
  std::chrono::milliseconds timeout{2000};
  std::chrono::milliseconds connect_timeout{1000};
};

// pg_vip's setting, else AWS_ENDPOINT_URL_ROUTE_53, AWS_ENDPOINT_URL, else
// https://route53.amazonaws.com.
std::string resolve_route53_endpoint(const std::string &setting, const Environment &env);

// A read of the target: both records, or the error that kept them unread.
struct TargetReadResult {
  std::optional<AwsError> error;
  TargetRead target;
  int attempts = 0;
  bool ok() const noexcept { return !error; }
};

// A change sent, or the error that refused it.
struct ChangeResult {
  std::optional<AwsError> error;
  ChangeInfo change;  // on success
  int attempts = 0;
  // Some attempt went unanswered (transport failure, 5xx, an unreadable
  // answer): Route 53 may have applied the batch, so an error now (even
  // InvalidChangeBatch: the batch refusing to apply twice) says nothing
  // about the fence. Read the target again to know.
  bool maybe_applied = false;
  bool ok() const noexcept { return !error; }
  // Another node changed the fence first: refused as InvalidChangeBatch,
  // with no earlier attempt that might have been applied. When
  // maybe_applied, read the target again to know.
  bool lost_race() const noexcept { return error && aws::lost_race(*error) && !maybe_applied; }
};

// What read_target() reads: a record and its fence TXT.
struct RecordQuery {
  std::string zone, address_name, address_type, fence_name;
};

class Route53Client {
 public:
  Route53Client(http::Client &http, CredentialSource &credentials, Route53Options options, const Clock &clock);
  Route53Client(Transport transport, CredentialSource &credentials, Route53Options options, const Clock &clock);

  // One attempt each, all in parallel.
  std::vector<Route53Result> call_all(const std::vector<Route53Call> &calls);
  // Retryable failures (transport, throttling and PriorRequestNotComplete,
  // 5xx, unreadable answers, an expired token after invalidating the
  // credentials) retried with backoff, within the policy's attempts and
  // deadline. Credentials that cannot be had fail every call with
  // NoCredentials (kind Authentication).
  // `first`: the first attempt's answers when the caller sent it
  // (build_all(), round_trip.hpp), one per call; empty: sent here.
  // `unanswered`, when given: for each call, whether some attempt of it
  // went unanswered (transport, 5xx, unreadable), so that Route 53 may
  // have applied it whatever the last answer says.
  std::vector<Route53Result> call_all(const std::vector<Route53Call> &calls, const RetryPolicy &policy,
                                      const std::vector<http::Response> &first = {},
                                      std::vector<bool> *unanswered = nullptr);
  Route53Result call(const Route53Call &c, const RetryPolicy &policy) { return call_all({c}, policy).front(); }

  // Several records' read_target() at once: every listing in parallel.
  std::vector<TargetReadResult> read_targets(const std::vector<RecordQuery> &queries, const RetryPolicy &policy);
  // The address record set (address_type at address_name) and the fence
  // TXT at fence_name: two one-item listings, in parallel.
  TargetReadResult read_target(const std::string &hosted_zone, const std::string &address_name,
                               const std::string &address_type, const std::string &fence_name,
                               const RetryPolicy &policy);
  // Sends a batch (compare_and_swap()'s).
  ChangeResult change(const std::string &hosted_zone, const ChangeBatch &batch, const RetryPolicy &policy);
  // Several batches (change_resource_record_sets calls) at once, each
  // judged alone; `first` as for call_all().
  std::vector<ChangeResult> change_all(const std::vector<Route53Call> &calls, const RetryPolicy &policy,
                                       const std::vector<http::Response> &first = {});
  // Where a change stands (PENDING, then INSYNC).
  ChangeResult change_status(const std::string &change_id, const RetryPolicy &policy);

  // The signed HTTP request for a call (exposed for tests).
  http::Request build(const Route53Call &call);
  // Each call's, to be sent by the caller; empty when they cannot be signed
  // (no credentials), which call_all() then reports.
  std::vector<http::Request> build_all(const std::vector<Route53Call> &calls);
  const Route53Options &options() const noexcept { return options_; }

 private:
  Transport transport_;
  CredentialSource &credentials_;
  Route53Options options_;
  const Clock &clock_;
  Endpoint endpoint_;
  std::mt19937_64 rng_;
};

}  // namespace pg_vip::aws
