#include "ec2_cloud_factory.hpp"

#include "ec2_cloud.hpp"

namespace pg_vip {

Controller::CloudFactory ec2_cloud_factory(aws::Environment env, std::function<aws::RoleSettings()> role) {
  if (!env) env = aws::process_environment();
  return [env = std::move(env), role = std::move(role)](const ControllerConfig &c, TimeSource &time,
                                                        CloudReports reports) {
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
    o.log = std::move(reports.log);
    if (reports.attempt)
      o.on_attempt = [attempt = std::move(reports.attempt)](const aws::Ec2Call &call, const aws::Ec2Result &r) {
        attempt(call.action, r.error, r.attempts);
      };
    return std::unique_ptr<Cloud>(std::make_unique<Ec2Cloud>(std::move(o), time));
  };
}

}  // namespace pg_vip
