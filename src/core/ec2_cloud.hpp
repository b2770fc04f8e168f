// The Cloud the worker uses: EC2's Query API over libcurl, instance metadata
// through IMDSv2, credentials in the AWS SDKs' order. Built once per set of
// AWS settings and kept: credentials cached, connections warm.
//
// Two signers, as vip_iam_policy()'s two documents say (actions.hpp's
// Action::on_node): the node's own reads (its interface's sourceDestCheck,
// instance metadata) with the node's own credentials; the targets' reads
// and changes with the targets' credentials, which are the node's own too
// unless pg_vip.role_arn names a role, whose credentials (STS AssumeRole
// with the node's own) they then are.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "cloud.hpp"
#include "credentials.hpp"
#include "sts.hpp"
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
  std::string node_name;  // the role session's default name: pg_vip-<node name>
  // The role the targets are reached through (pg_vip.role_arn and its
  // companions), asked before each read and change, so that a reload that
  // changes it takes effect at the next one; empty (or an empty arn): the
  // node's own credentials.
  std::function<aws::RoleSettings()> role;
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
  // Every route, association, assignment and fence tag signed and sent at
  // once; finish() retries and flips CreateRoute and ReplaceRoute.
  std::unique_ptr<RoundTrip<Applied>> begin_apply(const std::vector<PointRequest> &points,
                                                  const std::string &interface_id, const FenceWrite &fence,
                                                  int attempts) override;
  Outcome forget(const std::vector<std::string> &ids, const TagList &tags, int attempts) override;
  std::optional<bool> source_dest_check() override;
  void warm(std::size_t connections) override;

  // What the targets' requests are signed with (null before prepare()):
  // the role's credentials when pg_vip.role_arn is set, else the node's
  // own. Another service's client for targets (Route 53) signs with it
  // too, so that one AssumeRole serves every kind. Owned by this Cloud.
  aws::TargetCredentials *target_credentials() noexcept;
  // The client every request of this Cloud goes through (null before
  // prepare()); Route 53's Cloud shares it, so that a claim's batches leave
  // in the same round trip as EC2's requests and one connection cache
  // serves both.
  http::Client *http_client() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pg_vip
