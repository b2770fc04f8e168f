// The secondary IP kind's part of the preflight (preflight_kind.hpp): what
// a claim sends, built by the same functions as Ec2Cloud's
// (ec2_addresses.hpp): one AssignPrivateIpAddresses for every address to
// this node's interface, which has no DryRun; the fence tags of every
// address on this node's subnet, under the addresses' keys, with
// CreateTags and, once it holds, DeleteTags of older timelines' tags, each
// with DryRun; and the read of every check, DescribeNetworkInterfaces of
// this subnet's interfaces that hold the addresses beside DescribeSubnets
// of the subnet (their fence), which shows where each address is and that
// it is in the subnet. Each needs this node's subnet, which the node's read
// of its interface (before the kinds plan) names.
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
    for (const auto &a : addresses) seen.secondaries.push_back(SecondaryProbe{a, false, "", false, std::nullopt, ""});

    std::optional<Problem> no_interface;
    if (p.interface_id.empty())
      no_interface = Problem{"Not checked: no network interface is known.", "Fix the interface_owner check."};
    std::optional<Problem> no_subnet = no_interface;
    if (!no_subnet && !aws::is_subnet_id(p.subnet_id))
      no_subnet = Problem{"Not checked: this node's subnet is not known.", "Fix the interface_owner check."};
    std::optional<Problem> not_ready = no_subnet;
    if (!not_ready && p.cidr.empty()) not_ready = Problem{"Not checked: pg_vip.vip is not set.", "Set pg_vip.vip."};

    const std::string subnet = no_subnet ? std::string() : p.subnet_id;
    if (!no_subnet && !addresses.empty()) {
      std::vector<aws::Ec2Call> reads = aws::read_secondary_ips(addresses, subnet);
      p.read(std::move(reads[0]), [&seen](const aws::Ec2Result &r) { take_interfaces(r, seen); });
      p.read(std::move(reads[1]), [&seen, subnet](const aws::Ec2Result &r) { take_subnet(r, subnet, seen); });
    }

    auto allowed = [&](const std::string &action, const std::string &target, std::optional<aws::Ec2Call> call,
                       std::optional<Problem> skipped) {
      p.permission(action, target, std::move(call), std::move(skipped), false, "");
    };
    const std::string &eni = p.interface_id;
    allowed("AssignPrivateIpAddresses", eni,
            no_interface ? std::nullopt : std::optional(aws::assign_private_ip_addresses(eni, addresses)),
            no_interface);
    // The claim's fence, as Ec2Cloud writes it: every address's key of
    // timeline 1 on the subnet.
    aws::SubnetTags tags;
    if (!not_ready) tags = aws::subnet_fence_tags(p.cidr, addresses, {{fence_tag_key(p.cidr, 1), "preflight"}});
    std::optional<Problem> no_tags = not_ready;
    if (!no_tags && tags.empty())
      no_tags = Problem{"Not checked: pg_vip.secondary_ips names no address.", "Set pg_vip.secondary_ips."};
    const std::string target = subnet.empty() ? std::string("subnet") : subnet;
    allowed("CreateTags", target, no_tags ? std::nullopt : std::optional(aws::write_subnet_fence(subnet, tags)),
            no_tags);
    allowed("DeleteTags", target, no_tags ? std::nullopt : std::optional(aws::delete_subnet_fence(subnet, tags)),
            no_tags);
  }

 private:
  static void take_interfaces(const aws::Ec2Result &r, Observed &seen) {
    if (r.error) {
      fail_all(seen, *r.error, "DescribeNetworkInterfaces");
      return;
    }
    std::vector<aws::InterfaceAddresses> found;
    try {
      found = aws::parse_interface_addresses(r.body);
    } catch (const aws::AwsFailure &f) {
      fail_all(seen, f.error(), "DescribeNetworkInterfaces");
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

  // The subnet's answer, taken after the interfaces' (its request follows
  // theirs): refused, or an address outside it, fails the address's row as
  // it fails the address's read in a check.
  static void take_subnet(const aws::Ec2Result &r, const std::string &subnet, Observed &seen) {
    std::optional<aws::Subnet> found;
    std::optional<aws::AwsError> error = r.error;
    if (!error) {
      try {
        for (auto &s : aws::parse_subnets(r.body))
          if (s.id == subnet) found = std::move(s);
        if (!found) error = not_found("InvalidSubnetID.NotFound", "the answer does not describe " + subnet);
      } catch (const aws::AwsFailure &f) {
        error = f.error();
      }
    }
    if (error) {
      fail_all(seen, *error, "DescribeSubnets");
      return;
    }
    for (auto &s : seen.secondaries)
      if (std::optional<aws::AwsError> outside = aws::outside_subnet(*found, s.address); s.read && outside) {
        s.read = false;
        s.error = std::move(outside);
        s.failed_action = "DescribeSubnets";
      }
  }

  static void fail_all(Observed &seen, const aws::AwsError &error, const char *action) {
    for (auto &s : seen.secondaries) {
      s.read = false;
      s.error = error;
      s.failed_action = action;
    }
  }
};

}  // namespace

std::unique_ptr<KindProbe> secondary_ip_probe() { return std::make_unique<SecondaryIpProbe>(); }

}  // namespace pg_vip::preflight
