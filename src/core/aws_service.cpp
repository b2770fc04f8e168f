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
