#include "iam_policy_source.hpp"

#include "region.hpp"
#include "error.hpp"
#include "http_client.hpp"
#include "iam_policy.hpp"
#include "imds.hpp"
#include "ec2_addresses.hpp"
#include "text.hpp"

namespace pg_vip {

using namespace std::chrono;

std::string iam_policy_for(const ControllerConfig &config, const aws::Environment &env, std::function<bool()> cancelled,
                           const std::string &role_arn) {
  if (config.vip.empty() || config.targets().empty())
    throw ConfigError("pg_vip is not configured",
                      "pg_vip.vip and the targets (pg_vip.route_tables, pg_vip.elastic_ips, pg_vip.dns_records) name "
                      "what the policy "
                      "allows.",
                      "Set pg_vip.vip and at least one kind of target, reload, and call vip_iam_policy() again.");
  IamPolicyInput in;
  in.vip = config.vip;
  in.route_tables = config.route_tables;
  in.elastic_ips = config.elastic_ips;
  in.secondary_ips = config.secondary_ips;
  for (const auto &id : config.dns_records) {
    auto colon = id.find(':');
    // The address record's type follows pg_vip.dns_value: AAAA for an IPv6 address.
    in.dns_records.push_back(
        {id.substr(0, colon), id.substr(colon + 1), config.dns_value.find(':') != std::string::npos ? "AAAA" : "A"});
  }
  in.region = aws::find_region(config.region, env, nullptr).region;

  if (aws::metadata_disabled(env))
    throw Error("the AWS account is not known",
                "Instance metadata is turned off (AWS_EC2_METADATA_DISABLED), and the policy's route table ARNs "
                "name the account.",
                "Call vip_iam_policy() on a node whose metadata is reachable, or take the policy in docs/iam.md "
                "and write your account id in it.");
  http::ClientOptions ho;
  ho.ca_file = config.ca_file;
  ho.cancelled = std::move(cancelled);
  http::Client http(ho);
  aws::ImdsOptions io;
  io.endpoint = config.imds_endpoint;
  io.timeout = std::min(config.request_timeout, milliseconds(1000));
  Clock clock;
  aws::ImdsClient imds(http, io, clock);
  try {
    in.account = imds.account_id();
    if (in.region.empty()) in.region = aws::find_region({}, env, &imds).region;
    // This node's policy moves its Elastic IPs to its own interface only:
    // each node's policy names its own (the policy is per node).
    if (!in.elastic_ips.empty() || !in.secondary_ips.empty())
      in.network_interfaces = {config.network_interface != "auto" ? config.network_interface
                                                                  : imds.primary_interface_id()};
    // The secondary IPs' fence is on this node's subnet: named when
    // metadata says it (the primary interface's), else every subnet, the
    // tag keys still only the addresses'.
    if (!in.secondary_ips.empty() && config.network_interface == "auto") try {
        std::string mac(trim(imds.get("meta-data/mac")));
        std::string subnet(trim(imds.get("meta-data/network/interfaces/macs/" + mac + "/subnet-id")));
        if (aws::is_subnet_id(subnet)) in.subnets = {subnet};
      } catch (const aws::AwsFailure &) {
      }
  } catch (const aws::AwsFailure &e) {
    throw Error("the AWS account is not known",
                "Instance metadata (IMDSv2) at " + config.imds_endpoint +
                    " did not give the instance identity document: " + e.error().describe() + ".",
                "Check pg_vip.imds_endpoint, or take the policy in docs/iam.md and write your account id in it.");
  }
  if (role_arn.empty()) return iam_policy_json(in);
  in.role_arn = role_arn;
  IamPolicyDocuments docs = iam_policy_documents(in);
  // Each document indented one level more, inside the object.
  auto nested = [](const std::string &doc) {
    std::string out;
    for (char c : doc) out += c == '\n' ? std::string("\n  ") : std::string(1, c);
    return out;
  };
  return "{\n  \"node\": " + nested(docs.node) + ",\n  \"role\": " + nested(docs.role) + "\n}";
}

}  // namespace pg_vip
