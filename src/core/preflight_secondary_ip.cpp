// The secondary IP kind's part of the preflight (preflight_kind.hpp): what a
// claim sends (one AssignPrivateIpAddresses for every address to this
// node's interface, which has no DryRun; the fence tags on this node's
// subnet with CreateTags and, once it holds, DeleteTags of older timelines'
// tags, each with DryRun once the interface's read has named the subnet);
// and one DescribeNetworkInterfaces for all, which shows where each address
// is now.
#include <algorithm>

#include "ec2_addresses.hpp"
#include "fence.hpp"
#include "preflight_kind.hpp"

namespace pg_vip::preflight {
namespace {

class SecondaryIpProbe : public KindProbe {
 public:
  void plan(ProbePlan &p) override {
    const std::vector<std::string> &addresses = p.config.secondary_ips;
    Observed &seen = p.seen;
    for (const auto &a : addresses) seen.secondaries.push_back(SecondaryProbe{a, false, "", false, std::nullopt});
    p.read(aws::describe_interfaces_holding(addresses), [&seen](const aws::Ec2Result &r) { take(r, seen); });

    std::optional<Problem> no_interface;
    if (p.interface_id.empty())
      no_interface = Problem{"Not checked: no network interface is known.", "Fix the interface_owner check."};
    std::optional<Problem> not_ready = no_interface;
    if (!not_ready && p.cidr.empty()) not_ready = Problem{"Not checked: pg_vip.vip is not set.", "Set pg_vip.vip."};
    auto allowed = [&](const std::string &action, const std::string &target, std::optional<aws::Ec2Call> call,
                       std::optional<Problem> skipped) {
      p.permission(action, target, std::move(call), std::move(skipped), false, "");
    };
    const std::string &eni = p.interface_id;
    allowed("AssignPrivateIpAddresses", eni,
            no_interface ? std::nullopt : std::optional(aws::assign_private_ip_addresses(eni, addresses)),
            no_interface);
    // The fence tags are on this node's subnet, which the interface's read
    // (in the same batch) names: asked in finish().
    Problem unknown{"Not checked: this node's subnet is not known.", "Fix the interface_owner check."};
    allowed("CreateTags", "subnet", std::nullopt, not_ready ? not_ready : unknown);
    create_at_ = p.seen.permissions.size() - 1;
    allowed("DeleteTags", "subnet", std::nullopt, not_ready ? not_ready : unknown);
    delete_at_ = p.seen.permissions.size() - 1;
    ready_ = !not_ready;
    first_ = addresses.empty() ? std::string() : addresses.front();
  }

  void finish(aws::Ec2Client &ec2, const aws::RetryPolicy &policy, Observed &seen) override {
    if (!ready_ || first_.empty() || !seen.interface || !aws::is_subnet_id(seen.interface->subnet_id)) return;
    const std::string &subnet = seen.interface->subnet_id;
    std::string key = aws::subnet_fence_key(seen.vip, first_, fence_tag_key(seen.vip, 1)).value_or("");
    if (key.empty()) return;
    std::vector<aws::Ec2Result> answers =
        call_bounded(ec2,
                     {aws::with_dry_run(aws::create_tags({subnet}, {{key, "preflight"}})),
                      aws::with_dry_run(aws::delete_tags({subnet}, std::vector<std::string>{key}))},
                     policy);
    for (std::size_t i : {create_at_, delete_at_}) {
      PermissionProbe &row = seen.permissions[i];
      row.target = subnet;
      row.skipped.reset();
      row.answer = answers[i == create_at_ ? 0 : 1].error;
    }
  }

 private:
  std::size_t create_at_ = 0, delete_at_ = 0;
  bool ready_ = false;
  std::string first_;

  static void take(const aws::Ec2Result &r, Observed &seen) {
    if (r.error) {
      for (auto &s : seen.secondaries) s.error = r.error;
      return;
    }
    std::vector<aws::InterfaceAddresses> found;
    try {
      found = aws::parse_interface_addresses(r.body);
    } catch (const aws::AwsFailure &f) {
      for (auto &s : seen.secondaries) s.error = f.error();
      return;
    }
    for (auto &s : seen.secondaries) {
      s.read = true;
      auto it =
          std::find_if(found.begin(), found.end(), [&](const aws::InterfaceAddresses &n) { return n.has(s.address); });
      if (it == found.end()) continue;
      s.interface_id = it->network_interface_id;
      s.primary = it->primary_ip() == s.address;
    }
  }
};

}  // namespace

std::unique_ptr<KindProbe> secondary_ip_probe() { return std::make_unique<SecondaryIpProbe>(); }

}  // namespace pg_vip::preflight
