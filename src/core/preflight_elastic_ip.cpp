// The Elastic IP kind's part of the preflight (preflight_kind.hpp): per
// allocation, what a claim sends (AssociateAddress to this node's
// interface, the fence tag with CreateTags and, once it holds, DeleteTags of
// older timelines' tags), each with DryRun; and one DescribeAddresses for
// all, which shows each allocation exists and where it is associated.
#include <algorithm>

#include "ec2_addresses.hpp"
#include "fence.hpp"
#include "preflight_kind.hpp"

namespace pg_vip::preflight {
namespace {

class ElasticIpProbe : public KindProbe {
 public:
  void plan(ProbePlan &p) override {
    const std::vector<std::string> &ids = p.config.elastic_ips;
    const std::string &cidr = p.cidr;
    Observed &seen = p.seen;
    for (const auto &id : ids) seen.addresses.push_back(AddressProbe{id, std::nullopt, std::nullopt});
    p.read(aws::describe_addresses(ids), [&seen, this](const aws::Ec2Result &r) { take(r, seen); });

    std::optional<Problem> no_interface;
    if (p.interface_id.empty())
      no_interface = Problem{"Not checked: no network interface is known.", "Fix the interface_owner check."};
    Problem no_vip{"Not checked: pg_vip.vip is not set.", "Set pg_vip.vip."};
    auto allowed = [&](const std::string &action, const std::string &target, std::optional<aws::Ec2Call> call,
                       std::optional<Problem> skipped) {
      p.permission(action, target, std::move(call), std::move(skipped), false, "");
    };
    allowed("DescribeAddresses", "", aws::describe_addresses(ids), std::nullopt);
    const std::string &private_ip = p.config.elastic_ip_private_address;
    for (const auto &id : ids) {
      allowed("AssociateAddress", id,
              no_interface ? std::nullopt : std::optional(aws::associate_address(id, p.interface_id, private_ip)),
              no_interface);
      allowed(
          "CreateTags", id,
          cidr.empty() ? std::nullopt : std::optional(aws::create_tags({id}, {{fence_tag_key(cidr, 1), "preflight"}})),
          no_vip);
      allowed("DeleteTags", id,
              cidr.empty() ? std::nullopt : std::optional(aws::delete_tags({id}, {fence_tag_key(cidr, 1)})), no_vip);
    }
  }

  // One allocation that does not exist fails the whole request: each is
  // then read alone, to say which.
  void finish(aws::Ec2Client &ec2, const aws::RetryPolicy &policy, Observed &seen) override {
    if (!missing_) return;
    std::vector<aws::Ec2Call> alone;
    for (const auto &a : seen.addresses) alone.push_back(aws::describe_addresses({a.id}));
    std::vector<aws::Ec2Result> answers = call_bounded(ec2, alone, policy);
    for (std::size_t i = 0; i < answers.size(); ++i) {
      AddressProbe &a = seen.addresses[i];
      if (answers[i].error) a.error = answers[i].error;
      else fill(a, answers[i].body);
    }
  }

 private:
  void take(const aws::Ec2Result &r, Observed &seen) {
    if (r.error) {
      missing_ = r.error->kind == aws::ErrorKind::NotFound && seen.addresses.size() > 1;
      if (!missing_)
        for (auto &a : seen.addresses) a.error = r.error;
      return;
    }
    for (auto &a : seen.addresses) fill(a, r.body);
  }

  static void fill(AddressProbe &a, const std::string &body) {
    try {
      for (auto &x : aws::parse_addresses(body))
        if (x.allocation_id == a.id) a.address = std::move(x);
      if (!a.address) a.error = not_found("InvalidAllocationID.NotFound", "the answer does not describe " + a.id);
    } catch (const aws::AwsFailure &f) {
      a.error = f.error();
    }
  }

  bool missing_ = false;
};

}  // namespace

std::unique_ptr<KindProbe> elastic_ip_probe() { return std::make_unique<ElasticIpProbe>(); }

}  // namespace pg_vip::preflight
