#include "ec2_cloud_factory.hpp"

#include "cloud_set.hpp"
#include "elastic_ip_lookup.hpp"
#include "error.hpp"
#include "ec2_cloud.hpp"
#include "route53_cloud.hpp"
#include "settings.hpp"

namespace pg_vip {

Controller::CloudFactory ec2_cloud_factory(aws::Environment env, std::function<aws::RoleSettings()> role) {
  if (!env) env = aws::process_environment();
  return [env = std::move(env), role = std::move(role)](const ControllerConfig &c, TimeSource &time,
                                                        CloudReports reports) {
    std::function<void(const aws::Ec2Call &, const aws::Ec2Result &)> on_attempt;
    if (reports.attempt)
      on_attempt = [attempt = std::move(reports.attempt)](const aws::Ec2Call &call, const aws::Ec2Result &r) {
        attempt(call.action, r.error, r.attempts);
      };
    Ec2CloudOptions o;
    o.vip = c.vip;
    o.region = c.region;
    o.ec2_endpoint = c.ec2_endpoint;
    o.imds_endpoint = c.imds_endpoint;
    o.aws_profile = c.aws_profile;
    o.ca_file = c.ca_file;
    o.request_timeout = c.request_timeout;
    o.elastic_ip_private_address = c.elastic_ip_private_address;
    o.env = env;
    o.node_name = c.node_name;
    o.role = role;
    o.log = reports.log;
    o.on_attempt = on_attempt;
    auto ec2 = std::make_unique<Ec2Cloud>(std::move(o), time);
    // Route tables and Elastic IPs alone: EC2's Cloud, as before Route 53.
    if (c.dns_records.empty()) return std::unique_ptr<Cloud>(std::move(ec2));
    Route53CloudOptions r;
    r.vip = c.vip;
    r.route53_endpoint = c.route53_endpoint;
    r.imds_endpoint = c.imds_endpoint;
    r.aws_profile = c.aws_profile;
    r.ca_file = c.ca_file;
    r.request_timeout = c.request_timeout;
    r.dns_value = c.dns_value;
    if (c.dns_value == "elastic" && !c.elastic_ips.empty()) {
      r.elastic_ip = c.elastic_ips.front();
      aws::ElasticIpLookupOptions lookup;
      lookup.region = c.region;
      lookup.ec2_endpoint = c.ec2_endpoint;
      lookup.imds_endpoint = c.imds_endpoint;
      lookup.ca_file = c.ca_file;
      lookup.request_timeout = c.request_timeout;
      lookup.env = env;
      TimeSource *ts = &time;
      Ec2Cloud *owner = ec2.get();
      // With the targets' credentials: the allocation is a target, in the
      // role's account when a role is set.
      r.elastic_ip_address = [lookup, ts, owner](const std::string &id) {
        aws::CredentialSource *credentials = owner->target_credentials();
        if (!credentials)
          throw Error("cannot read the public address of Elastic IP " + id, "EC2's Cloud is not ready.");
        return aws::elastic_ip_public_address(lookup, id, *credentials, *ts);
      };
    }
    r.dns_ttl = c.dns_ttl;
    r.env = env;
    r.log = reports.log;
    r.on_attempt = on_attempt;
    // The records sign with the targets' credentials: the role's when
    // pg_vip.role_arn is set, so one AssumeRole serves every kind. CloudSet
    // prepares EC2's Cloud first, which makes them.
    Ec2Cloud *targets = ec2.get();
    r.credentials = [targets]() -> aws::CredentialSource * { return targets->target_credentials(); };
    // One client for both: a claim's batches leave with EC2's requests.
    r.http = [targets] { return targets->http_client(); };
    // EC2's Cloud configures the role before its own requests only: with
    // records alone (or between EC2's reads) a reload's role reaches Route
    // 53 through this. The default session name is EC2's Cloud's: the node
    // name, else (kept from its prepare()) the instance id.
    r.credentials_ready = [targets, role, node = c.node_name]() -> std::optional<aws::AwsError> {
      aws::TargetCredentials *tc = targets->target_credentials();
      if (!tc) return std::nullopt;
      aws::RoleSettings settings = role ? role() : aws::RoleSettings{};
      if (settings.session_name.empty())
        settings.session_name = node.empty() ? tc->settings().session_name : settings::default_role_session_name(node);
      return aws::ready_target_credentials(*tc, settings);
    };
    return std::unique_ptr<Cloud>(
        std::make_unique<CloudSet>(std::move(ec2), std::make_unique<Route53Cloud>(std::move(r), time)));
  };
}

}  // namespace pg_vip
