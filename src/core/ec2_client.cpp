#include "ec2_client.hpp"

#include <algorithm>

#include "aws_service.hpp"
#include "settings.hpp"
#include "sigv4.hpp"

namespace pg_vip::aws {
namespace {

constexpr const char *kVersion = "2016-11-15";

void destination(Ec2Call &c, const std::string &cidr) {
  bool v6 = cidr.find(':') != std::string::npos;
  c.params.emplace_back(v6 ? "DestinationIpv6CidrBlock" : "DestinationCidrBlock", cidr);
}

AwsError transport_error(const http::Response &r) {
  AwsError e;
  e.kind = ErrorKind::Transport;
  e.code = r.failure == http::Failure::Timeout     ? "RequestTimeout"
           : r.failure == http::Failure::Tls       ? "TLSFailure"
           : r.failure == http::Failure::Connect   ? "ConnectionFailed"
           : r.failure == http::Failure::Cancelled ? "Cancelled"
           : r.failure == http::Failure::TooLarge  ? "ResponseTooLarge"
                                                   : "TransportError";
  e.message = r.error;
  return e;
}

}  // namespace

Ec2Result interpret(const http::Response &r) {
  Ec2Result out;
  out.elapsed_ms = r.elapsed_ms;
  out.date = r.date;
  if (!r.ok()) {
    out.error = transport_error(r);
  } else if (r.status < 200 || r.status >= 300) {
    out.error = parse_error(r.body, r.status);
  } else {
    // A 200 whose body is not a readable EC2 answer is an error too: a
    // proxy's page must not count as "the route was replaced".
    try {
      (void) parse_request_id(r.body);
      out.body = r.body;
    } catch (const AwsFailure &f) {
      out.error = f.error();
      out.error->http_status = r.status;
    }
  }
  return out;
}

std::string Ec2Call::label() const {
  std::string out = action;
  for (const auto &p : params)
    if (p.first == "RouteTableId" || p.first == "RouteTableId.1" || p.first == "InstanceId" ||
        p.first == "ResourceId.1" || p.first == "NetworkInterfaceId.1" ||
        // A route's target is not what the call is about; an interface's attribute is.
        (p.first == "NetworkInterfaceId" && action.rfind("DescribeNetworkInterface", 0) == 0))
      out += " " + p.second;
  for (const auto &p : params)
    if (p.first == "DryRun" && p.second == "true") out += " (dry run)";
  return out;
}

std::string form_body(const Ec2Call &call) {
  std::string body = "Action=" + http::uri_encode(call.action) + "&Version=" + kVersion;
  for (const auto &p : call.params) body += "&" + http::uri_encode(p.first) + "=" + http::uri_encode(p.second);
  return body;
}

Ec2Call replace_route(const std::string &rtb, const std::string &cidr, const std::string &eni) {
  Ec2Call c{"ReplaceRoute", {}};
  destination(c, cidr);
  c.params.emplace_back("NetworkInterfaceId", eni);
  c.params.emplace_back("RouteTableId", rtb);
  return c;
}

Ec2Call create_route(const std::string &rtb, const std::string &cidr, const std::string &eni) {
  Ec2Call c = replace_route(rtb, cidr, eni);
  c.action = "CreateRoute";
  return c;
}

Ec2Call describe_route_tables(const std::vector<std::string> &ids, const std::string &next_token) {
  Ec2Call c{"DescribeRouteTables", {}};
  for (std::size_t i = 0; i < ids.size(); ++i) c.params.emplace_back("RouteTableId." + std::to_string(i + 1), ids[i]);
  if (!next_token.empty()) c.params.emplace_back("NextToken", next_token);
  return c;
}

Ec2Call with_dry_run(Ec2Call c) {
  auto is_dry_run = [](const std::pair<std::string, std::string> &p) { return p.first == "DryRun"; };
  c.params.erase(std::remove_if(c.params.begin(), c.params.end(), is_dry_run), c.params.end());
  c.params.emplace_back("DryRun", "true");
  return c;
}

Ec2Call create_tags(const std::vector<std::string> &ids, const std::map<std::string, std::string> &tags) {
  Ec2Call c{"CreateTags", {}};
  for (std::size_t i = 0; i < ids.size(); ++i) c.params.emplace_back("ResourceId." + std::to_string(i + 1), ids[i]);
  int n = 1;
  for (const auto &t : tags) {
    c.params.emplace_back("Tag." + std::to_string(n) + ".Key", t.first);
    c.params.emplace_back("Tag." + std::to_string(n) + ".Value", t.second);
    ++n;
  }
  return c;
}

Ec2Call delete_tags(const std::vector<std::string> &ids, const std::vector<std::string> &keys) {
  Ec2Call c{"DeleteTags", {}};
  for (std::size_t i = 0; i < ids.size(); ++i) c.params.emplace_back("ResourceId." + std::to_string(i + 1), ids[i]);
  for (std::size_t i = 0; i < keys.size(); ++i) c.params.emplace_back("Tag." + std::to_string(i + 1) + ".Key", keys[i]);
  return c;
}

Ec2Call delete_tags(const std::vector<std::string> &ids, const std::vector<std::pair<std::string, std::string>> &tags) {
  Ec2Call c{"DeleteTags", {}};
  for (std::size_t i = 0; i < ids.size(); ++i) c.params.emplace_back("ResourceId." + std::to_string(i + 1), ids[i]);
  for (std::size_t i = 0; i < tags.size(); ++i) {
    c.params.emplace_back("Tag." + std::to_string(i + 1) + ".Key", tags[i].first);
    // An empty value is no condition: Tag.N.Value="" would delete the tag
    // only if its value were empty, and fence tags never are.
    if (!tags[i].second.empty()) c.params.emplace_back("Tag." + std::to_string(i + 1) + ".Value", tags[i].second);
  }
  return c;
}

Ec2Call describe_network_interfaces(const std::vector<std::string> &ids) {
  Ec2Call c{"DescribeNetworkInterfaces", {}};
  for (std::size_t i = 0; i < ids.size(); ++i)
    c.params.emplace_back("NetworkInterfaceId." + std::to_string(i + 1), ids[i]);
  return c;
}

Ec2Call describe_network_interface_attribute(const std::string &interface_id, const std::string &attribute) {
  return Ec2Call{"DescribeNetworkInterfaceAttribute", {{"Attribute", attribute}, {"NetworkInterfaceId", interface_id}}};
}

std::string resolve_ec2_endpoint(const std::string &setting, const Environment &env, const std::string &region) {
  if (!setting.empty()) return setting;
  for (const char *name : {"AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL"}) {
    if (auto v = env(name); v && !v->empty()) return settings::parse_url(name, *v).text;
  }
  if (region.empty())
    throw Error("no AWS region configured", "pg_vip needs a region to find the EC2 endpoint.",
                "Set pg_vip.region, or AWS_REGION in the server's environment.");
  std::string suffix = region.rfind("cn-", 0) == 0 ? ".amazonaws.com.cn" : ".amazonaws.com";
  return "https://ec2." + region + suffix;
}

Ec2Client::Ec2Client(http::Client &http, CredentialSource &credentials, Ec2Options options, const Clock &clock)
    : http_(http), credentials_(credentials), options_(std::move(options)), clock_(clock),
      rng_(std::random_device{}()) {
  settings::Url url = settings::parse_url("ec2_endpoint", options_.endpoint);
  options_.endpoint = url.text;
  host_ = url.host + (url.port ? ":" + std::to_string(url.port) : "");
  if (options_.region.empty())
    throw Error("no AWS region configured", {}, "Set pg_vip.region, or AWS_REGION in the server's environment.");
}

http::Request Ec2Client::build(const Ec2Call &call) {
  SignableRequest s;
  s.method = "POST";
  s.path = "/";
  s.body = form_body(call);
  s.headers = {{"Host", host_}, {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  SigningParams p;
  p.region = options_.region;
  p.service = "ec2";
  p.time = clock_.now();
  sign(s, credentials_.get(), p);
  http::Request r;
  r.method = "POST";
  r.url = options_.endpoint + "/";
  r.headers = std::move(s.headers);
  r.body = std::move(s.body);
  r.timeout = options_.timeout;
  r.connect_timeout = options_.connect_timeout;
  // bypass_proxy stays false: EC2 requests take the proxy HTTPS_PROXY names,
  // as the AWS SDKs' do (a VPC without a NAT may reach EC2 only so), inside
  // TLS verified end to end. Only the plaintext IMDS bypasses proxies.
  return r;
}

std::vector<Ec2Result> Ec2Client::call_all(const std::vector<Ec2Call> &calls) {
  std::vector<http::Request> requests;
  requests.reserve(calls.size());
  for (const auto &c : calls) requests.push_back(build(c));
  return interpret_all(http_.perform_all(requests));
}

std::vector<Ec2Result> interpret_all(const std::vector<http::Response> &responses) {
  std::vector<Ec2Result> out;
  out.reserve(responses.size());
  for (const auto &r : responses) {
    out.push_back(interpret(r));
    out.back().attempts = 1;
  }
  return out;
}

std::vector<Ec2Result> Ec2Client::call_all(const std::vector<Ec2Call> &calls, const RetryPolicy &policy,
                                           const std::vector<http::Response> &first) {
  RetriedCalls retried;
  retried.count = calls.size();
  retried.attempt = [&](const std::vector<std::size_t> &which, int attempt) {
    // The first attempt's answers, when the caller sent it (round_trip.hpp).
    if (attempt == 1 && first.size() == calls.size()) return interpret_all(first);
    std::vector<Ec2Call> batch;
    for (std::size_t i : which) batch.push_back(calls[i]);
    return call_all(batch);
  };
  retried.name = [&](std::size_t i) { return calls[i]; };
  retried.label = [&](std::size_t i) { return calls[i].label(); };
  return retry_calls(retried, policy, credentials_, rng_);
}

std::vector<http::Request> Ec2Client::build_all(const std::vector<Ec2Call> &calls) {
  return build_each(calls, [this](const Ec2Call &c) { return build(c); });
}

}  // namespace pg_vip::aws
