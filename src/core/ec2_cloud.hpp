// The Cloud the worker uses: EC2's Query API over libcurl, instance metadata
// through IMDSv2, credentials in the AWS SDKs' order. Built once per set of
// AWS settings and kept: credentials cached, connections warm.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "cloud.hpp"
#include "credentials.hpp"
#include "ec2_client.hpp"
#include "time_source.hpp"
#include "cpp_only.hpp"

namespace pg_vip {

struct Ec2CloudOptions {
  std::string vip;  // canonical CIDR: the route looked for and the fence tag's key
  std::string region;
  std::string ec2_endpoint;
  std::string imds_endpoint = "http://169.254.169.254";
  std::string aws_profile;
  std::string ca_file;
  std::chrono::milliseconds request_timeout{2000};
  // AssociateAddress's PrivateIpAddress; empty: the interface's primary.
  std::string elastic_ip_private_address;
  aws::Environment env;
  std::function<void(const std::string &)> log;  // one line per retry
  // Every EC2 attempt's result (aws::RetryPolicy::on_attempt); must not throw.
  std::function<void(const aws::Ec2Call &, const aws::Ec2Result &)> on_attempt;
};

class Ec2Cloud : public Cloud {
 public:
  Ec2Cloud(Ec2CloudOptions options, TimeSource &time);
  ~Ec2Cloud() override;

  Placement prepare(const std::string &configured_interface) override;
  std::vector<TargetRead> read(const std::vector<std::string> &ids, int attempts) override;
  Applied apply(const std::vector<PointRequest> &points, const std::string &interface_id, const FenceWrite &fence,
                int attempts) override;
  Outcome forget(const std::vector<std::string> &ids, const TagList &tags, int attempts) override;
  std::optional<bool> source_dest_check() override;
  void warm(std::size_t connections) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pg_vip
