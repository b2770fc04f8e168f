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

std::vector<Ec2Result> retry_calls(const RetriedCalls &calls, const RetryPolicy &policy, CredentialSource &credentials,
                                   std::mt19937_64 &rng) {
  using namespace std::chrono;
  const auto started = steady_clock::now();
  std::vector<Ec2Result> results(calls.count);
  std::vector<std::size_t> todo(calls.count);
  for (std::size_t i = 0; i < todo.size(); ++i) todo[i] = i;
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
      if (results[i].error && results[i].error->retryable()) {
        again.push_back(i);
        expired |= results[i].error->kind == ErrorKind::ExpiredToken;
      }
    }
    if (again.empty()) break;
    if (expired) credentials.invalidate();
    const milliseconds wait = policy.backoff.delay(attempt - 1, rng);
    const auto spent = duration_cast<milliseconds>(steady_clock::now() - started);
    if (attempt >= policy.max_attempts || spent + wait >= policy.deadline || (policy.cancelled && policy.cancelled()))
      break;
    if (policy.log)
      for (std::size_t i : again)
        policy.log("retrying " + calls.label(i) + " in " + std::to_string(wait.count()) + " ms after " +
                   results[i].error->describe() + " (attempt " + std::to_string(attempt) + ")");
    pause(policy, wait);
    if (policy.cancelled && policy.cancelled()) break;
    todo = std::move(again);
  }
  return results;
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
