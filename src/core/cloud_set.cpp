#include "cloud_set.hpp"

#include <algorithm>

namespace pg_vip {

bool is_dns_target_id(const std::string &id) { return id.find(':') != std::string::npos; }

CloudSet::CloudSet(std::unique_ptr<Cloud> ec2, std::unique_ptr<Cloud> dns)
    : ec2_(std::move(ec2)), dns_(std::move(dns)) {}

Placement CloudSet::prepare(const std::string &configured_interface) {
  Placement p = ec2_->prepare(configured_interface);
  // The record's fence names the interface the other kinds point at.
  Placement q = dns_->prepare(p.interface_id);
  p.warnings.insert(p.warnings.end(), q.warnings.begin(), q.warnings.end());
  return p;
}

std::vector<TargetRead> CloudSet::read(const std::vector<std::string> &ids, int attempts) {
  std::vector<std::string> ec2_ids, dns_ids;
  for (const auto &id : ids) (is_dns_target_id(id) ? dns_ids : ec2_ids).push_back(id);
  std::vector<TargetRead> e = ec2_ids.empty() ? std::vector<TargetRead>{} : ec2_->read(ec2_ids, attempts);
  std::vector<TargetRead> d = dns_ids.empty() ? std::vector<TargetRead>{} : dns_->read(dns_ids, attempts);
  std::vector<TargetRead> out;
  std::size_t ei = 0, di = 0;
  for (const auto &id : ids) {
    bool dns = is_dns_target_id(id);
    std::vector<TargetRead> &from = dns ? d : e;
    std::size_t &at = dns ? di : ei;
    if (at < from.size()) {
      out.push_back(std::move(from[at++]));
    } else {  // a Cloud that answered short: that target unread
      TargetRead r;
      r.id = id;
      r.error = aws::AwsError{aws::ErrorKind::Malformed, 0, "MissingAnswer", "no answer for " + id, ""};
      out.push_back(std::move(r));
    }
  }
  return out;
}

Cloud::Applied CloudSet::apply(const std::vector<PointRequest> &points, const std::string &interface_id,
                               const FenceWrite &fence, int attempts) {
  std::vector<PointRequest> ep, dp;
  for (const auto &p : points) (is_dns_target_id(p.id) ? dp : ep).push_back(p);
  FenceWrite ef{{}, fence.key, fence.value}, df{{}, fence.key, fence.value};
  for (const auto &id : fence.ids) (is_dns_target_id(id) ? df : ef).ids.push_back(id);
  // Both services' first requests in one round trip (round_trip.hpp): a
  // record's batch leaves with the routes, not after them.
  std::unique_ptr<RoundTrip<Applied>> et, dt;
  std::vector<RoundTrip<Applied> *> trips;
  if (!ep.empty() || !ef.ids.empty()) trips.push_back((et = ec2_->begin_apply(ep, interface_id, ef, attempts)).get());
  if (!dp.empty() || !df.ids.empty()) trips.push_back((dt = dns_->begin_apply(dp, interface_id, df, attempts)).get());
  std::vector<Applied> done = complete(trips);
  Applied e = et ? std::move(done.front()) : Applied{};
  Applied d = dt ? std::move(done.back()) : Applied{};
  Applied out;
  std::size_t ei = 0, di = 0;
  for (const auto &p : points) {
    bool dns = is_dns_target_id(p.id);
    Applied &from = dns ? d : e;
    std::size_t &at = dns ? di : ei;
    out.points.push_back(at < from.points.size() ? from.points[at++] : Outcome{});
  }
  out.fence = ef.ids.empty() ? d.fence : e.fence;
  out.fence_by_id = e.fence_by_id;
  for (const auto &[id, o] : d.fence_by_id) out.fence_by_id[id] = o;
  // A DNS target's fence has its own outcome; `fence` speaks for EC2's.
  for (const auto &id : df.ids)
    if (!out.fence_by_id.count(id)) out.fence_by_id[id] = d.fence;
  return out;
}

Outcome CloudSet::forget(const std::vector<std::string> &ids, const TagList &tags, int attempts) {
  std::vector<std::string> ec2_ids, dns_ids;
  for (const auto &id : ids) (is_dns_target_id(id) ? dns_ids : ec2_ids).push_back(id);
  Outcome o;
  if (!dns_ids.empty()) o = dns_->forget(dns_ids, tags, attempts);
  if (!ec2_ids.empty()) o = ec2_->forget(ec2_ids, tags, attempts);
  return o;
}

}  // namespace pg_vip
