#include "aws_service.hpp"

#include <algorithm>
#include <thread>

#include "settings.hpp"

namespace pg_vip::aws {

Transport transport_of(http::Client &http) {
  return [&http](const std::vector<http::Request> &requests) { return http.perform_all(requests); };
}

AwsError transport_failure(const http::Response &r) {
  AwsError e;
  e.kind = ErrorKind::Transport;
  switch (r.failure) {
    case http::Failure::Timeout: e.code = "RequestTimeout"; break;
    case http::Failure::Connect: e.code = "ConnectionFailed"; break;
    case http::Failure::Tls: e.code = "TLSFailure"; break;
    case http::Failure::Cancelled: e.code = "Cancelled"; break;
    case http::Failure::TooLarge: e.code = "ResponseTooLarge"; break;
    default: e.code = "TransportError";
  }
  e.message = r.error;
  return e;
}

void pause(const RetryPolicy &policy, std::chrono::milliseconds wait) {
  using namespace std::chrono;
  if (policy.sleep) return policy.sleep(wait);
  const auto until = steady_clock::now() + wait;
  while (steady_clock::now() < until && !(policy.cancelled && policy.cancelled()))
    std::this_thread::sleep_for(std::min<steady_clock::duration>(milliseconds(10), until - steady_clock::now()));
}

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

// A call the node's send rate held back: nothing was sent, so nothing is
// told to on_attempt (the metrics count what AWS answered).
Ec2Result held_back(milliseconds wait) {
  Ec2Result r;
  r.error = AwsError{ErrorKind::Throttled, 0, "ClientThrottled",
                     "not sent: AWS has been throttling this account's requests, and this node's send rate allows "
                     "its next request in " +
                         std::to_string(wait.count()) + " ms",
                     ""};
  return r;
}

}  // namespace

std::vector<Ec2Result> retry_calls(const RetriedCalls &calls, const RetryPolicy &policy, CredentialSource &credentials,
                                   std::mt19937_64 &rng) {
  auto now = [&] { return policy.now ? policy.now() : steady_clock::now(); };
  ApiBudget *budget = policy.budget;
  const bool claim = policy.urgency == Urgency::Claim;
  const auto started = now();
  std::vector<Ec2Result> results(calls.count);
  std::vector<int> taken(calls.count, 0);  // what each call's retries took from the quota
  std::vector<std::size_t> todo(calls.count);
  for (std::size_t i = 0; i < todo.size(); ++i) todo[i] = i;
  const int n = static_cast<int>(todo.size());
  // A check sends nothing the send rate does not allow yet: it gives way
  // (its caller tries again at its next check). A claim's first round trip
  // goes at once, its cost a debt that later requests wait for.
  if (budget && !claim) {
    if (milliseconds w = budget->rate.wait(now(), n); w.count() > 0) {
      for (std::size_t i : todo) results[i] = held_back(w);
      return results;
    }
  }
  if (budget) budget->rate.reserve(now(), n);
  for (int attempt = 1; !todo.empty(); ++attempt) {
    std::vector<Ec2Result> answers;
    try {
      answers = calls.attempt(todo, attempt);
    } catch (const Error &e) {
      // No credentials (or none that sign): no call can be made.
      for (std::size_t i : todo) {
        results[i] = Ec2Result{};
        results[i].error = AwsError{ErrorKind::Authentication, 0, "NoCredentials",
                                    std::string(e.what()) + (e.detail().empty() ? "" : ". " + e.detail()), ""};
        results[i].attempts = attempt;
        if (policy.on_attempt) policy.on_attempt(calls.name(i), results[i]);
      }
      break;
    }
    const auto answered = now();
    std::vector<std::size_t> again;
    bool expired = false;
    for (std::size_t k = 0; k < todo.size(); ++k) {
      std::size_t i = todo[k];
      if (k < answers.size()) {
        results[i] = std::move(answers[k]);
      } else {  // an attempt that answered short: that call unanswered
        results[i] = Ec2Result{};
        results[i].error = AwsError{ErrorKind::Transport, 0, "TransportError", "no response", ""};
      }
      results[i].attempts = attempt;
      if (policy.on_attempt) policy.on_attempt(calls.name(i), results[i]);
      const std::optional<AwsError> &err = results[i].error;
      if (budget) {
        budget->rate.answered(answered, err && err->kind == ErrorKind::Throttled);
        if (!err) budget->quota.succeeded(taken[i]);
      }
      if (err && err->retryable()) {
        // The retry quota: a check stops retrying once the node's failures
        // drained it; a claim's retry always goes.
        if (budget) {
          int t = budget->quota.take(*err, policy.urgency);
          if (t < 0) continue;
          taken[i] += t;
        }
        again.push_back(i);
        expired |= err->kind == ErrorKind::ExpiredToken;
      }
    }
    if (again.empty()) break;
    if (expired) credentials.invalidate();
    milliseconds wait = policy.backoff.delay(attempt - 1, rng);
    const auto spent = duration_cast<milliseconds>(answered - started);
    if (budget) {
      milliseconds paced = std::max(wait, budget->rate.wait(answered, static_cast<int>(again.size())));
      // A claim's retries are spaced by the rate, but the rate never ends
      // its round early: what is left of the deadline is shared among the
      // attempts left, each waiting at most its share.
      if (claim) {
        const int attempts_left = std::max(1, policy.max_attempts - attempt);
        const milliseconds share = (policy.deadline - spent - milliseconds(1)) / attempts_left;
        paced = std::min(paced, std::max(wait, share));
      }
      wait = paced;
    }
    if (attempt >= policy.max_attempts || spent + wait >= policy.deadline || (policy.cancelled && policy.cancelled()))
      break;
    if (policy.log)
      for (std::size_t i : again)
        policy.log("retrying " + calls.label(i) + " in " + std::to_string(wait.count()) + " ms after " +
                   results[i].error->describe() + " (attempt " + std::to_string(attempt) + ")");
    pause(policy, wait);
    if (policy.cancelled && policy.cancelled()) break;
    if (budget) budget->rate.reserve(now(), static_cast<int>(again.size()));
    todo = std::move(again);
  }
  return results;
}

RetryPolicy cloud_policy(Urgency urgency, int attempts, milliseconds request_timeout, Backoff backoff, TimeSource &time,
                         ApiBudget *budget) {
  RetryPolicy p;
  p.max_attempts = attempts;
  p.deadline = std::max<milliseconds>(request_timeout * 3, milliseconds(3000));
  p.backoff = backoff;
  TimeSource *ts = &time;
  p.cancelled = [ts] { return ts->cancelled(); };
  p.sleep = [ts](milliseconds ms) { ts->sleep(ms); };
  p.now = [ts] { return ts->steady(); };
  p.budget = budget;
  p.urgency = urgency;
  return p;
}

std::string resolve_endpoint(const std::string &setting, const Environment &env, const char *service_variable,
                             const std::function<std::string()> &public_endpoint) {
  if (!setting.empty()) return setting;
  for (const char *name : {service_variable, "AWS_ENDPOINT_URL"})
    if (auto value = env(name); value && !value->empty()) return settings::parse_url(name, *value).text;
  return public_endpoint();
}

Endpoint parse_endpoint(const char *what, const std::string &url) {
  settings::Url u = settings::parse_url(what, url);
  return {u.text, u.host + (u.port ? ":" + std::to_string(u.port) : "")};
}

http::Request signed_request(const Endpoint &endpoint, SignableRequest request, const Credentials &credentials,
                             const Signing &how) {
  request.headers.insert(request.headers.begin(), http::Header{"Host", endpoint.host});
  SigningParams p;
  p.region = how.region;
  p.service = how.service;
  p.time = how.time;
  sign(request, credentials, p);
  http::Request r;
  r.method = request.method;
  r.url = endpoint.url + request.path + (request.query.empty() ? "" : "?" + request.query);
  r.headers = std::move(request.headers);
  r.body = std::move(request.body);
  r.timeout = how.timeout;
  r.connect_timeout = how.connect_timeout;
  return r;
}

}  // namespace pg_vip::aws
