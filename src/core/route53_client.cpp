#include "route53_client.hpp"

#include <algorithm>

#include "aws_service.hpp"
#include "aws_xml.hpp"
#include "route53_names.hpp"

namespace pg_vip::aws {
namespace {

constexpr const char *kApi = "/2013-04-01";

// An attempt whose batch Route 53 may have applied: no answer, or one that
// does not say the batch was refused.
bool outcome_unknown(const AwsError &e) {
  return e.kind == ErrorKind::Transport || e.kind == ErrorKind::ServerError || e.kind == ErrorKind::Malformed;
}

Ec2Call attempt_name(const Route53Call &c) { return Ec2Call{c.action, {}}; }

// The answer's ChangeInfo into `out`; false when a success answer cannot be read.
bool take_change_info(const Route53Result &r, ChangeResult &out) {
  out.attempts = r.attempts;
  out.error = r.error;
  if (r.error) return true;
  try {
    out.change = parse_change_info(r.body);
  } catch (const AwsFailure &f) {
    out.error = f.error();
    return false;
  }
  return true;
}

}  // namespace

Route53Call change_resource_record_sets(const std::string &hosted_zone, const ChangeBatch &batch) {
  std::string zone = hosted_zone_id(hosted_zone);
  return {"ChangeResourceRecordSets", "POST", std::string(kApi) + "/hostedzone/" + zone + "/rrset/", "",
          change_batch_xml(batch),    zone};
}

Route53Call list_resource_record_sets(const std::string &hosted_zone, const std::string &start_name,
                                      const std::string &start_type, int max_items) {
  std::string zone = hosted_zone_id(hosted_zone);
  max_items = std::clamp(max_items, 1, 300);
  std::string query = "maxitems=" + std::to_string(max_items) + "&name=" + http::uri_encode(dns_name(start_name));
  if (!start_type.empty()) query += "&type=" + http::uri_encode(start_type);
  return {"ListResourceRecordSets", "GET", std::string(kApi) + "/hostedzone/" + zone + "/rrset", query, "", zone};
}

Route53Call get_change(const std::string &id) {
  std::string change = change_id(id);
  return {"GetChange", "GET", std::string(kApi) + "/change/" + change, "", "", change};
}

Route53Result interpret_route53(const http::Response &r) {
  Route53Result out;
  out.elapsed_ms = r.elapsed_ms;
  out.date = r.date;
  if (!r.ok()) {
    out.error = transport_failure(r);
  } else if (r.status < 200 || r.status >= 300) {
    out.error = parse_route53_error(r.body, r.status);
  } else {
    // A 200 that is not Route 53's XML (a proxy's page) is no answer.
    try {
      (void) xml::read(r.body, kRoute53Namespace);
      out.body = r.body;
    } catch (const AwsFailure &f) {
      out.error = f.error();
      out.error->http_status = r.status;
    }
  }
  return out;
}

std::string resolve_route53_endpoint(const std::string &setting, const Environment &env) {
  return resolve_endpoint(setting, env, "AWS_ENDPOINT_URL_ROUTE_53", [] { return std::string(kRoute53Endpoint); });
}

Route53Client::Route53Client(http::Client &http, CredentialSource &credentials, Route53Options options,
                             const Clock &clock)
    : Route53Client(transport_of(http), credentials, std::move(options), clock) {}

Route53Client::Route53Client(Transport transport, CredentialSource &credentials, Route53Options options,
                             const Clock &clock)
    : transport_(std::move(transport)), credentials_(credentials), options_(std::move(options)), clock_(clock),
      rng_(std::random_device{}()) {
  endpoint_ = parse_endpoint("route53_endpoint", options_.endpoint);
  options_.endpoint = endpoint_.url;
}

http::Request Route53Client::build(const Route53Call &call) {
  SignableRequest s;
  s.method = call.method;
  s.path = call.path;
  s.query = call.query;
  s.body = call.body;
  if (!call.body.empty()) s.headers.push_back({"Content-Type", "application/xml"});
  return signed_request(endpoint_, std::move(s), credentials_.get(),
                        {kRoute53SigningRegion, "route53", clock_.now(), options_.timeout, options_.connect_timeout});
}

std::vector<Route53Result> Route53Client::call_all(const std::vector<Route53Call> &calls) {
  std::vector<http::Request> requests;
  for (const auto &c : calls) requests.push_back(build(c));
  std::vector<http::Response> responses = transport_(requests);
  std::vector<Route53Result> out;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    if (i < responses.size()) {
      out.push_back(interpret_route53(responses[i]));
    } else {  // a transport that answered fewer than asked
      http::Response none;
      none.failure = http::Failure::Transport;
      none.error = "no response";
      out.push_back(interpret_route53(none));
    }
    out.back().attempts = 1;
  }
  return out;
}

std::vector<Route53Result> Route53Client::call_all(const std::vector<Route53Call> &calls, const RetryPolicy &policy,
                                                   const std::vector<http::Response> &first,
                                                   std::vector<bool> *unanswered) {
  if (unanswered) unanswered->assign(calls.size(), false);
  RetriedCalls retried;
  retried.count = calls.size();
  retried.attempt = [&](const std::vector<std::size_t> &which, int attempt) {
    std::vector<Route53Result> answers;
    if (attempt == 1 && first.size() == calls.size()) {
      // The first attempt's answers, when the caller sent it (round_trip.hpp).
      for (const auto &r : first) answers.push_back(interpret_route53(r));
    } else {
      std::vector<Route53Call> round;
      for (std::size_t i : which) round.push_back(calls[i]);
      answers = call_all(round);
    }
    for (std::size_t k = 0; k < answers.size() && k < which.size(); ++k) {
      answers[k].attempts = attempt;
      if (unanswered && answers[k].error && outcome_unknown(*answers[k].error)) (*unanswered)[which[k]] = true;
    }
    return answers;
  };
  retried.name = [&](std::size_t i) { return attempt_name(calls[i]); };
  retried.label = [&](std::size_t i) { return calls[i].label(); };
  return retry_calls(retried, policy, credentials_, rng_);
}

std::vector<http::Request> Route53Client::build_all(const std::vector<Route53Call> &calls) {
  return build_each(calls, [this](const Route53Call &c) { return build(c); });
}

TargetReadResult Route53Client::read_target(const std::string &hosted_zone, const std::string &address_name,
                                            const std::string &address_type, const std::string &fence_name,
                                            const RetryPolicy &policy) {
  return read_targets({{hosted_zone, address_name, address_type, fence_name}}, policy).front();
}

std::vector<TargetReadResult> Route53Client::read_targets(const std::vector<RecordQuery> &queries,
                                                          const RetryPolicy &policy) {
  // One item from each start: the record itself when it exists, otherwise
  // the next one in Route 53's order, which find_target does not take.
  // Every record's two listings in one call_all: one round trip for all.
  std::vector<Route53Call> calls;
  for (const auto &q : queries) {
    calls.push_back(list_resource_record_sets(q.zone, q.address_name, q.address_type, 1));
    calls.push_back(list_resource_record_sets(q.zone, q.fence_name, "TXT", 1));
  }
  std::vector<Route53Result> answers = call_all(calls, policy);
  std::vector<TargetReadResult> out(queries.size());
  for (std::size_t i = 0; i < queries.size(); ++i) {
    TargetReadResult &r = out[i];
    std::vector<RecordSet> found;
    for (std::size_t k = 2 * i; k < 2 * i + 2 && k < answers.size(); ++k) {
      Route53Result &a = answers[k];
      r.attempts = std::max(r.attempts, a.attempts);
      if (a.error) {
        if (!r.error) r.error = a.error;
        continue;
      }
      try {
        RecordSetPage page = parse_record_set_page(a.body);
        for (auto &rs : page.record_sets) found.push_back(std::move(rs));
      } catch (const AwsFailure &f) {
        if (!r.error) r.error = f.error();
      }
    }
    const RecordQuery &q = queries[i];
    if (!r.error) r.target = find_target(found, q.address_name, q.address_type, q.fence_name);
  }
  return out;
}

std::vector<ChangeResult> Route53Client::change_all(const std::vector<Route53Call> &calls, const RetryPolicy &policy,
                                                    const std::vector<http::Response> &first) {
  std::vector<bool> unanswered;
  std::vector<Route53Result> answers = call_all(calls, policy, first, &unanswered);
  std::vector<ChangeResult> out(calls.size());
  for (std::size_t i = 0; i < calls.size(); ++i) {
    out[i].maybe_applied = unanswered[i];
    // An unreadable success answer still says the batch was applied.
    if (!take_change_info(answers[i], out[i])) out[i].maybe_applied = true;
  }
  return out;
}

ChangeResult Route53Client::change(const std::string &hosted_zone, const ChangeBatch &batch,
                                   const RetryPolicy &policy) {
  return change_all({change_resource_record_sets(hosted_zone, batch)}, policy).front();
}

ChangeResult Route53Client::change_status(const std::string &id, const RetryPolicy &policy) {
  ChangeResult out;
  take_change_info(call(get_change(id), policy), out);
  return out;
}

}  // namespace pg_vip::aws
