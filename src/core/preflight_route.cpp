// The route kind's part of the preflight (preflight_kind.hpp): per route
// table, what a claim sends (ReplaceRoute, CreateRoute where the route is
// missing, the fence tag with CreateTags and, once it holds, DeleteTags of
// older timelines' tags), each with DryRun; one DescribeRouteTables for
// all; and the narrow checks on pg_vip.preflight_probe_table.
#include <algorithm>

#include "ec2_xml.hpp"
#include "fence.hpp"
#include "preflight_kind.hpp"

namespace pg_vip::preflight {
namespace {

class RouteProbe : public KindProbe {
 public:
  void plan(ProbePlan &p) override {
    const ControllerConfig &config = p.config;
    const std::string &cidr = p.cidr;
    const std::vector<std::string> &tables = config.route_tables;
    Observed &seen = p.seen;
    if (!tables.empty())
      p.read(aws::describe_route_tables(tables), [&seen, this](const aws::Ec2Result &r) { take_tables(r, seen); });

    // The tags probed are keys a claim could write (timeline 1's), so a
    // policy limited to this VIP's keys passes.
    std::optional<Problem> no_target;
    if (cidr.empty()) no_target = Problem{"Not checked: pg_vip.vip is not set.", "Set pg_vip.vip."};
    else if (p.interface_id.empty())
      no_target = Problem{"Not checked: no network interface is known.", "Fix the interface_owner check."};
    Problem no_vip{"Not checked: pg_vip.vip is not set.", "Set pg_vip.vip."};
    auto allowed = [&](const std::string &action, const std::string &target, std::optional<aws::Ec2Call> call,
                       std::optional<Problem> skipped) {
      p.permission(action, target, std::move(call), skipped, false, "");
    };
    if (!tables.empty()) allowed("DescribeRouteTables", "", aws::describe_route_tables(tables), std::nullopt);
    for (const auto &rtb : tables) {
      bool ready = !no_target.has_value();
      allowed("ReplaceRoute", rtb, ready ? std::optional(aws::replace_route(rtb, cidr, p.interface_id)) : std::nullopt,
              no_target);
      allowed("CreateRoute", rtb, ready ? std::optional(aws::create_route(rtb, cidr, p.interface_id)) : std::nullopt,
              no_target);
      allowed(
          "CreateTags", rtb,
          cidr.empty() ? std::nullopt : std::optional(aws::create_tags({rtb}, {{fence_tag_key(cidr, 1), "preflight"}})),
          no_vip);
      allowed("DeleteTags", rtb,
              cidr.empty() ? std::nullopt : std::optional(aws::delete_tags({rtb}, {fence_tag_key(cidr, 1)})), no_vip);
    }

    // Proof that the policy is narrow (pg_vip.preflight_probe_table): what
    // a claim sends, on a table pg_vip does not manage, and a tag of
    // another VIP on one it does, each refused.
    const std::string &probe = config.preflight_probe_table;
    if (!probe.empty()) {
      auto refused = [&](const std::string &action, const std::string &target, std::optional<aws::Ec2Call> call,
                         std::optional<Problem> skipped, const std::string &variant = "") {
        p.permission(action, target, std::move(call), std::move(skipped), true, variant);
      };
      std::optional<Problem> not_probe = no_target;
      if (std::find(tables.begin(), tables.end(), probe) != tables.end())
        not_probe = Problem{"Not checked: pg_vip.preflight_probe_table names " + probe +
                                ", which pg_vip.route_tables lists: a table pg_vip manages proves nothing.",
                            "Name a route table pg_vip does not manage, or leave pg_vip.preflight_probe_table empty."};
      bool ready = !not_probe.has_value();
      refused("ReplaceRoute", probe,
              ready ? std::optional(aws::replace_route(probe, cidr, p.interface_id)) : std::nullopt, not_probe);
      refused("CreateRoute", probe,
              ready ? std::optional(aws::create_route(probe, cidr, p.interface_id)) : std::nullopt, not_probe);
      refused("CreateTags", probe,
              ready ? std::optional(aws::create_tags({probe}, {{fence_tag_key(cidr, 1), "preflight"}})) : std::nullopt,
              not_probe);
      refused("DeleteTags", probe,
              ready ? std::optional(aws::delete_tags({probe}, {fence_tag_key(cidr, 1)})) : std::nullopt, not_probe);
      if (!tables.empty()) {
        // A documentation address (RFC 5737) stands for another cluster's VIP.
        std::string other = cidr == "192.0.2.1/32" ? "192.0.2.2/32" : "192.0.2.1/32";
        const std::string &mine = tables.front();
        refused("CreateTags", mine,
                cidr.empty() ? std::nullopt
                             : std::optional(aws::create_tags({mine}, {{fence_tag_key(other, 1), "preflight"}})),
                no_vip, "other_key");
      }
    }
    for (const auto &rtb : tables) seen.tables.push_back(TableProbe{rtb, std::nullopt, std::nullopt});
  }

  // One missing table fails the whole request: each is then read alone,
  // to say which.
  void finish(aws::Ec2Client &ec2, const aws::RetryPolicy &policy, Observed &seen) override {
    if (!tables_missing_) return;
    std::vector<aws::Ec2Call> alone;
    for (const auto &t : seen.tables) alone.push_back(aws::describe_route_tables({t.id}));
    std::vector<aws::Ec2Result> answers = call_bounded(ec2, alone, policy);
    for (std::size_t i = 0; i < answers.size(); ++i) {
      TableProbe &t = seen.tables[i];
      if (answers[i].error) {
        t.error = answers[i].error;
        continue;
      }
      try {
        for (auto &x : aws::parse_route_tables(answers[i].body))
          if (x.id == t.id) t.table = std::move(x);
        if (!t.table) t.error = not_found("InvalidRouteTableID.NotFound", "the answer does not describe " + t.id);
      } catch (const aws::AwsFailure &f) {
        t.error = f.error();
      }
    }
  }

 private:
  void take_tables(const aws::Ec2Result &r, Observed &seen) {
    if (r.error) {
      tables_missing_ = r.error->kind == aws::ErrorKind::NotFound;
      if (!tables_missing_)
        for (auto &t : seen.tables) t.error = r.error;
      return;
    }
    try {
      auto found = aws::parse_route_tables(r.body);
      for (auto &t : seen.tables) {
        auto it = std::find_if(found.begin(), found.end(), [&](const aws::RouteTable &x) { return x.id == t.id; });
        if (it != found.end()) t.table = *it;
        else t.error = not_found("InvalidRouteTableID.NotFound", "the answer does not describe " + t.id);
      }
    } catch (const aws::AwsFailure &f) {
      for (auto &t : seen.tables) t.error = f.error();
    }
  }

  bool tables_missing_ = false;
};

}  // namespace

std::vector<std::unique_ptr<KindProbe>> kind_probes(const ControllerConfig &config) {
  std::vector<std::unique_ptr<KindProbe>> out;
  if (!config.route_tables.empty() || !config.preflight_probe_table.empty())
    out.push_back(std::make_unique<RouteProbe>());
  if (!config.elastic_ips.empty()) out.push_back(elastic_ip_probe());
  if (!config.secondary_ips.empty()) out.push_back(secondary_ip_probe());
  return out;
}

}  // namespace pg_vip::preflight
