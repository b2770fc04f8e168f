// Targets of several services behind one Cloud: EC2's kinds (route tables,
// Elastic IPs) through one Cloud, Route 53's records through another. The
// controller sees one set of targets; each request goes to the Cloud of its
// target's kind, and the answers come back in the order asked.
#pragma once
#include <memory>
#include "cloud.hpp"
#include "cpp_only.hpp"

namespace pg_vip {

class CloudSet : public Cloud {
 public:
  // `ec2`: the route tables' and Elastic IPs' Cloud, which also places this
  // node (region, interface). `dns`: the Route 53 records' Cloud.
  CloudSet(std::unique_ptr<Cloud> ec2, std::unique_ptr<Cloud> dns);
  Placement prepare(const std::string &configured_interface) override;
  std::vector<TargetRead> read(const std::vector<std::string> &ids, int attempts) override;
  // EC2's first requests and Route 53's batches in one round trip, on the
  // client the two share in the worker; EC2's retries are finished first:
  // clients inside the VPC follow a route at once, while a DNS client waits
  // out the record's TTL whatever the order.
  Applied apply(const std::vector<PointRequest> &points, const std::string &interface_id, const FenceWrite &fence,
                int attempts) override;
  Outcome forget(const std::vector<std::string> &ids, const TagList &tags, int attempts) override;
  std::optional<bool> source_dest_check() override { return ec2_->source_dest_check(); }
  void warm(std::size_t connections) override { ec2_->warm(connections); }

 private:
  std::unique_ptr<Cloud> ec2_, dns_;
};

// A target id of the DNS kind ("<zone>:<name>"): the other kinds' ids
// have no colon.
bool is_dns_target_id(const std::string &id);

}  // namespace pg_vip
