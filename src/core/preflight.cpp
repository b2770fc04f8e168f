#include "preflight.hpp"

#include <algorithm>
#include <cstdlib>

#include "cidr.hpp"
#include "fence.hpp"
#include "route53_target.hpp"
#include "target.hpp"
#include "text.hpp"

namespace pg_vip::preflight {
namespace {

using std::chrono::duration_cast;
using std::chrono::seconds;

CheckResult pass(std::string name, std::string detail) { return {std::move(name), true, std::move(detail), {}}; }

CheckResult fail(std::string name, std::string detail, std::string hint) {
  return {std::move(name), false, std::move(detail), std::move(hint)};
}

CheckResult failed_step(std::string name, const Problem &p) { return fail(std::move(name), p.message, p.hint); }

// The VIP without its prefix.
std::string vip_address(const std::string &vip) { return vip.substr(0, vip.find('/')); }

std::string period(std::string s) {
  if (!s.empty() && s.back() != '.') s += '.';
  return s;
}

// Whether an action is one of the node's own (signed with its own
// credentials even when a role is set).
bool aws_node_action(const std::string &action) {
  const aws::Action *a = aws::find_action(action);
  return a && a->on_node();
}

CheckResult configuration(const Observed &s) {
  std::vector<std::string> missing;
  if (s.vip.empty()) missing.push_back("pg_vip.vip");
  if (s.route_tables.empty() && s.elastic_ips.empty() && s.secondary_ips.empty() && s.dns_records.empty())
    missing.push_back("pg_vip.route_tables");
  if (!missing.empty())
    return fail(
        "configuration",
        "pg_vip is not configured: " + join(missing, " and ") + (missing.size() > 1 ? " are" : " is") + " not set.",
        "Set pg_vip.vip (the virtual IP, e.g. 10.0.0.10/32) and pg_vip.route_tables (the route tables that "
        "route it) or pg_vip.elastic_ips, then reload the configuration.");
  if (!s.dns_records.empty() && s.dns_value == "elastic" && s.elastic_ips.empty())
    return fail("configuration",
                "pg_vip.dns_value is elastic and pg_vip.elastic_ips is empty: the records take the public address "
                "of the first Elastic IP listed there.",
                "Set pg_vip.elastic_ips to the Elastic IP's allocation id (eipalloc-...), or pg_vip.dns_value to "
                "private, public or an address, then reload the configuration.");
  std::vector<TargetKind> kinds(s.route_tables.size(), TargetKind::Route);
  kinds.insert(kinds.end(), s.elastic_ips.size(), TargetKind::ElasticIp);
  kinds.insert(kinds.end(), s.secondary_ips.size(), TargetKind::SecondaryIp);
  kinds.insert(kinds.end(), s.dns_records.size(), TargetKind::Dns);
  std::string detail = "VIP " + s.vip + " in " + count_text(kinds) + ", interface " + s.network_interface + ".";
  if (!s.enabled) detail += " pg_vip.enabled is off: the worker moves nothing until it is on.";
  return pass("configuration", detail);
}

CheckResult credentials(const Observed &s) {
  if (s.credentials_source) return pass("credentials", "Found: " + *s.credentials_source + ".");
  if (s.credentials_problem) return failed_step("credentials", *s.credentials_problem);
  return fail("credentials", "Not looked for: the checks before could not run.", "Fix the failed checks above first.");
}

// The role the targets are reached through: assumed once, with the node's
// own credentials, or why not.
CheckResult assume_role(const Observed &s) {
  const std::string name = "assume_role";
  if (s.role_assumed)
    return pass(name, "Assumed " + s.role_arn + " as session " + s.role_session_name + " with " +
                          (s.credentials_source ? *s.credentials_source : std::string("the node's credentials")) +
                          "; the targets' checks below ran with its credentials.");
  if (s.role_problem) return failed_step(name, *s.role_problem);
  return fail(name, "Not asked: the checks before could not run.", "Fix the failed checks above first.");
}

CheckResult region(const Observed &s) {
  if (!s.region.empty()) return pass("region", s.region + ", from " + s.region_source + ".");
  if (s.region_problem) return failed_step("region", *s.region_problem);
  return fail("region", "No AWS region is known.", "Set pg_vip.region.");
}

CheckResult instance_metadata(const Observed &s) {
  if (s.imds_disabled)
    return pass("instance_metadata",
                "Not used: AWS_EC2_METADATA_DISABLED is true in the server's environment, so neither the interface "
                "nor the instance is verified from it.");
  if (s.imds_problem) return failed_step("instance_metadata", *s.imds_problem);
  if (s.instance_id.empty())
    return fail("instance_metadata", "Instance metadata was not read.", "Check pg_vip.imds_endpoint.");
  std::string detail = "IMDSv2 answers at " + s.imds_endpoint + ": instance " + s.instance_id;
  if (s.instance_interfaces)
    detail +=
        ", interfaces " + (s.instance_interfaces->empty() ? std::string("(none)") : join(*s.instance_interfaces, ", "));
  return pass("instance_metadata", detail + ".");
}

CheckResult interface_owner(const Observed &s) {
  const std::string name = "interface_owner";
  if (s.interface_problem) return failed_step(name, *s.interface_problem);
  if (s.interface_id.empty())
    return fail(name, "No network interface is known.", "Set pg_vip.network_interface to this node's eni- id.");
  if (s.interface_error && s.interface_error->kind == aws::ErrorKind::NotFound)
    return fail(name,
                s.interface_id + " does not exist in " + (s.region.empty() ? "this region" : s.region) + ": " +
                    period(s.interface_error->describe()),
                "Set pg_vip.network_interface to this node's interface (or auto), and check pg_vip.region.");
  std::string where = s.instance_id.empty() ? std::string("(unknown)") : s.instance_id;
  if (s.instance_interfaces) {
    const auto &mine = *s.instance_interfaces;
    if (std::find(mine.begin(), mine.end(), s.interface_id) == mine.end())
      return fail(name,
                  s.interface_id + " is not attached to this instance " + where + ", whose interfaces are " +
                      (mine.empty() ? std::string("(none)") : join(mine, ", ")) + ".",
                  "Set pg_vip.network_interface to one of them, or to auto.");
  }
  if (s.interface && !s.interface->instance_id.empty() && !s.instance_id.empty() &&
      s.interface->instance_id != s.instance_id)
    return fail(
        name, "EC2 says " + s.interface_id + " is attached to " + s.interface->instance_id + ", not to " + where + ".",
        "Set pg_vip.network_interface to one of this instance's interfaces, or to auto.");
  if (s.instance_interfaces) return pass(name, s.interface_id + " is attached to this instance " + where + ".");
  if (s.imds_disabled) return pass(name, s.interface_id + " is not verified: instance metadata is not used.");
  return fail(name, s.interface_id + " cannot be verified: instance metadata did not answer.",
              "Fix the instance_metadata check.");
}

CheckResult source_dest_check(const Observed &s) {
  const std::string name = "source_dest_check";
  if (s.interface_id.empty())
    return fail(name, "Not checked: no network interface is known.", "Fix the interface_owner check.");
  if (s.source_dest_check) {
    if (!*s.source_dest_check) return pass(name, "Off on " + s.interface_id + ".");
    return fail(name,
                "On for " + s.interface_id + ": EC2 drops every packet for the VIP " + vip_address(s.vip) +
                    " that this interface would receive, since the address is not the interface's own.",
                "Turn it off: aws ec2 modify-network-interface-attribute --network-interface-id " + s.interface_id +
                    " --no-source-dest-check.");
  }
  if (s.source_dest_error)
    return fail(name, "Not read: " + period(s.source_dest_error->describe_for("DescribeNetworkInterfaceAttribute")),
                s.source_dest_error->hint().empty() ? "Look at the other failed checks." : s.source_dest_error->hint());
  return fail(name, "Not read: the checks before could not run.", "Fix the failed checks above first.");
}

CheckResult vip_bound(const Observed &s) {
  const std::string name = "vip_bound";
  if (s.vip.empty()) return fail(name, "Not checked: pg_vip.vip is not set.", "Set pg_vip.vip.");
  // Only a route delivers packets addressed to the VIP itself; an Elastic
  // IP's arrive for the interface's own private address.
  if (s.route_tables.empty()) return pass(name, "No route table is configured: no packet is addressed to the VIP.");
  if (!s.local_addresses)
    return fail(name, "This host's addresses could not be listed: " + period(s.local_addresses_error),
                "Look at the server's log for the cause.");
  std::string address = vip_address(s.vip);
  std::string where = interface_of(address, *s.local_addresses);
  if (!where.empty()) return pass(name, address + " is bound on " + where + ".");
  return fail(name,
              address + " is bound on no interface of this host: packets EC2 routes here for the VIP would arrive "
                        "and be dropped by the kernel.",
              "Bind the VIP on every node that may hold it, e.g. ip address add " + s.vip +
                  " dev lo (and make it persistent in the host's network configuration).");
}

// A request a least-privilege policy refuses: a changing action on a table
// pg_vip does not manage, or another VIP's fence tag on one it does. A
// refusal proves the policy narrow there; DryRunOperation proves it wide.
CheckResult narrow(const PermissionProbe &p) {
  std::string name = "narrow:" + p.action + " " + p.target + (p.variant.empty() ? "" : " " + p.variant);
  std::string permission = aws::required_permission(p.action);
  bool other_key = p.variant == "other_key";
  std::string what = other_key ? permission + " with another VIP's fence tag key on " + p.target
                               : permission + " on " + p.target + ", a route table pg_vip does not manage";
  if (p.skipped) return failed_step(name, *p.skipped);
  if (!p.answer)
    return fail(name, "The endpoint answered a DryRun request to " + p.action + " as if it had acted on it.",
                "Check pg_vip.ec2_endpoint: EC2 answers DryRun requests with DryRunOperation.");
  const aws::AwsError &e = *p.answer;
  if (e.kind == aws::ErrorKind::Authorization)
    return pass(name, "Refused, as a least-privilege policy should: " + what + " (" + e.code + ").");
  if (e.dry_run_ok())
    return fail(name,
                other_key ? permission + " is allowed with another VIP's fence tag key on " + p.target +
                                ": this node could write or delete another cluster's fence."
                          : permission + " is allowed on " + p.target +
                                ", a route table pg_vip does not manage: this node could point routes there at "
                                "itself.",
                "Narrow the IAM policy of the credentials pg_vip uses to this VIP's route tables and tag keys: "
                "SELECT vip_iam_policy() writes one.");
  return fail(name, "Not proved: " + period(e.describe_for(p.action)),
              "Set pg_vip.preflight_probe_table to a route table in this region that pg_vip does not manage, "
              "or leave it empty to skip these checks.");
}

CheckResult permission(const Observed &s, const PermissionProbe &p) {
  if (p.expect_refused) return narrow(p);
  std::string name = "permission:" + p.action + (p.target.empty() ? "" : " " + p.target);
  std::string permission = aws::required_permission(p.action);
  std::string on = p.target.empty() ? std::string() : " on " + p.target;
  if (p.skipped) return failed_step(name, *p.skipped);
  if (!p.answer)
    return fail(name, "The endpoint answered a DryRun request to " + p.action + " as if it had acted on it.",
                "Check pg_vip.ec2_endpoint: EC2 answers DryRun requests with DryRunOperation.");
  const aws::AwsError &e = *p.answer;
  if (e.dry_run_ok()) return pass(name, permission + " is allowed" + on + " (DryRun answered DryRunOperation).");
  if (e.kind == aws::ErrorKind::Authorization)
    return fail(name, "Denied: " + period(e.describe_for(p.action)),
                "Allow " + permission + on + " in the IAM policy of " +
                    (!s.role_arn.empty() && !aws_node_action(p.action)
                         ? "the role " + s.role_arn + " (vip_iam_policy()'s role document)"
                         : "the credentials pg_vip uses" +
                               (s.credentials_source ? " (" + *s.credentials_source + ")" : std::string())) +
                    ".");
  return fail(name, "Not proved: " + period(e.describe_for(p.action)),
              e.hint().empty() ? "Look at the other failed checks." : e.hint());
}

// A target's row when its read gave nothing: it does not exist, the read
// failed, or the checks before could not run.
CheckResult not_read(const Observed &s, const std::string &name, const std::string &id,
                     const std::optional<aws::AwsError> &error, const char *action, const std::string &not_found_hint) {
  if (!error) return fail(name, "Not read: the checks before could not run.", "Fix the failed checks above first.");
  if (error->kind == aws::ErrorKind::NotFound)
    return fail(
        name,
        id + " does not exist in " + (s.region.empty() ? "this region" : s.region) + ": " + period(error->describe()),
        not_found_hint);
  return fail(name, "Not read: " + period(error->describe_for(action)),
              error->hint().empty() ? "Look at the other failed checks." : error->hint());
}

CheckResult route_table(const Observed &s, const TableProbe &t) {
  std::string name = "route_table:" + t.id;
  if (!t.table)
    return not_read(s, name, t.id, t.error, "DescribeRouteTables", "Check pg_vip.route_tables and pg_vip.region.");
  std::string vpc = s.interface ? s.interface->vpc_id : std::string();
  if (!vpc.empty() && t.table->vpc_id != vpc)
    return fail(name,
                t.id + " belongs to " + (t.table->vpc_id.empty() ? std::string("no VPC") : t.table->vpc_id) +
                    ", but the interface " + s.interface_id + " to " + vpc + ": its routes never reach this node.",
                "List in pg_vip.route_tables only route tables of " + vpc + ".");
  std::string detail = t.id + " exists in " + (t.table->vpc_id.empty() ? std::string("(no VPC)") : t.table->vpc_id);
  if (vpc.empty()) detail += "; the interface's VPC is unknown, so it is not compared";
  return pass(name, detail + ".");
}

CheckResult elastic_ip(const Observed &s, const AddressProbe &a) {
  std::string name = "elastic_ip:" + a.id;
  if (!a.address)
    return not_read(s, name, a.id, a.error, "DescribeAddresses",
                    "Check pg_vip.elastic_ips (an allocation id, eipalloc-...) and pg_vip.region.");
  std::string detail =
      a.id + " is " + (a.address->public_ip.empty() ? std::string("an Elastic IP") : a.address->public_ip);
  if (!a.address->associated()) return pass(name, detail + ", associated with nothing.");
  return pass(name,
              detail + ", associated with " +
                  (a.address->network_interface_id.empty() ? a.address->instance_id : a.address->network_interface_id) +
                  (a.address->network_interface_id == s.interface_id ? " (this node)." : "."));
}

// Where a Route 53 record points and who its fence names. Route 53 has no
// DryRun: this read is what can be proven before a claim.
CheckResult dns_record(const Observed &s, const RecordProbe &r) {
  std::string name = "dns:" + r.id;
  const char *no_dry_run = " Route 53 has no DryRun: route53:ChangeResourceRecordSets shows at the first claim "
                           "(statement PgVipChangeRecord of vip_iam_policy()).";
  if (!r.records) {
    if (r.error && r.error->kind == aws::ErrorKind::NotFound)
      return fail(name, r.id + ": " + period(r.error->describe()),
                  "Check pg_vip.dns_records: each entry is <hosted zone id>:<record name>, of a zone these credentials "
                  "may read.");
    return not_read(s, name, r.id, r.error, "ListResourceRecordSets",
                    "Check pg_vip.dns_records and pg_vip.route53_endpoint.");
  }
  std::string detail;
  if (!r.records->address) {
    detail = "No address record yet: the first primary's claim creates it.";
  } else {
    std::string values;
    for (const auto &v : r.records->address->values) values += (values.empty() ? "" : ",") + v;
    detail = "The " + r.records->address->type + " record holds " + values + ".";
  }
  if (!r.records->fence) detail += " No fence record yet.";
  else if (!r.records->fence->text) detail += " Its fence record is not a text pg_vip can read.";
  else {
    std::optional<DnsFence> f = parse_dns_fence_text(*r.records->fence->text, s.vip);
    std::optional<Holder> h = f ? parse_fence_tag(f->value) : std::nullopt;
    if (!h)
      return fail(name, detail + " Its fence record (_pg_vip.) was not written by pg_vip for " + s.vip + ".",
                  "Delete the TXT record at _pg_vip. and the name, or call vip_claim(force => true) on the primary.");
    detail += " Its fence names " + describe(*h) + ".";
  }
  return pass(name, detail + no_dry_run);
}

// Where a secondary IP is, and whether this host has it bound: EC2 delivers
// its packets to the interface, and a kernel without the address drops them.
CheckResult secondary_ip(const Observed &s, const SecondaryProbe &p) {
  std::string name = "secondary_ip:" + p.address;
  if (!p.read)
    return not_read(s, name, p.address, p.error,
                    p.failed_action.empty() ? "DescribeNetworkInterfaces" : p.failed_action.c_str(),
                    "Check pg_vip.secondary_ips.");
  if (p.primary)
    return fail(name,
                p.address + " is the primary private address of " + p.interface_id +
                    ": EC2 never moves an interface's primary address.",
                "List in pg_vip.secondary_ips only addresses that are free or secondary addresses of the nodes' "
                "interfaces, in their subnet.");
  std::string where = p.interface_id.empty()
                          ? std::string("assigned to no interface")
                          : "assigned to " + p.interface_id + (p.interface_id == s.interface_id ? " (this node)" : "");
  if (!s.local_addresses)
    return fail(
        name,
        p.address + " is " + where + "; this host's addresses could not be listed: " + period(s.local_addresses_error),
        "Look at the server's log for the cause.");
  std::string bound = interface_of(p.address, *s.local_addresses);
  if (bound.empty())
    return fail(name,
                p.address + " is " + where +
                    ", but bound on no interface of this host: once EC2 moves it here, its packets would be dropped.",
                "Bind it on every node that may hold it, with the subnet's prefix, e.g. ip address add " + p.address +
                    "/24 dev eth0 (and make it persistent in the host's network configuration).");
  return pass(name, p.address + " is " + where + ", and bound on " + bound + ".");
}

CheckResult vip_outside_vpc(const Observed &s) {
  const std::string name = "vip_outside_vpc";
  if (s.vip.empty()) return fail(name, "Not checked: pg_vip.vip is not set.", "Set pg_vip.vip.");
  if (s.route_tables.empty()) return pass(name, "No route table is configured: the VIP is routed nowhere.");
  std::string address = vip_address(s.vip);
  std::vector<std::string> ranges;
  bool read = false;
  for (const auto &t : s.tables) {
    if (!t.table) continue;
    read = true;
    for (const auto &r : t.table->routes) {
      if (r.gateway_id != "local") continue;
      if (std::find(ranges.begin(), ranges.end(), r.destination) == ranges.end()) ranges.push_back(r.destination);
      if (cidr_contains(r.destination, address) == true)
        return fail(name,
                    address + " lies inside " + r.destination + ", a range of " + t.table->vpc_id +
                        " (the local route of " + t.id + "): EC2 delivers it by the local route, never by pg_vip's.",
                    "Choose a VIP outside every CIDR block of the VPC, and set pg_vip.vip to it.");
    }
  }
  if (!read) return fail(name, "Not checked: no route table could be read.", "Fix the route_table checks.");
  if (ranges.empty()) return pass(name, "The route tables read show no local route to compare " + address + " with.");
  return pass(name, address + " lies outside the VPC's ranges " + join(ranges, ", ") + ".");
}

std::string span(seconds d) {
  long long total = std::llabs(d.count());
  std::string out;
  if (total >= 3600) out += std::to_string(total / 3600) + " h ";
  if (total >= 60) out += std::to_string(total / 60 % 60) + " min ";
  return out + std::to_string(total % 60) + " s";
}

CheckResult clock_skew(const Observed &s) {
  const std::string name = "clock_skew";
  if (!s.aws_date)
    return fail(
        name,
        s.ec2_answered ? "No answer from EC2 carried a readable Date header." : "Not checked: no answer came from EC2.",
        "Check that this host reaches EC2 (pg_vip.ec2_endpoint), then run vip_preflight() again.");
  seconds skew = duration_cast<seconds>(s.local_time - *s.aws_date);
  std::string direction = skew.count() >= 0 ? "ahead of" : "behind";
  std::string detail = "This host's clock is " + span(skew) + " " + direction + " EC2's";
  if (std::chrono::abs(skew) > kMaxClockSkew)
    return fail(name, detail + ": AWS refuses signatures more than 5 minutes off.",
                "Synchronise this host's clock (chrony, or the Amazon Time Sync Service at 169.254.169.123).");
  return pass(name, detail + ".");
}

}  // namespace

std::vector<CheckResult> evaluate(const Observed &s) {
  std::vector<CheckResult> rows;
  rows.push_back(configuration(s));
  rows.push_back(credentials(s));
  if (!s.role_arn.empty()) rows.push_back(assume_role(s));
  rows.push_back(region(s));
  rows.push_back(instance_metadata(s));
  rows.push_back(interface_owner(s));
  rows.push_back(source_dest_check(s));
  rows.push_back(vip_bound(s));
  for (const auto &p : s.permissions) rows.push_back(permission(s, p));
  for (const auto &t : s.tables) rows.push_back(route_table(s, t));
  for (const auto &a : s.addresses) rows.push_back(elastic_ip(s, a));
  for (const auto &p : s.secondaries) rows.push_back(secondary_ip(s, p));
  for (const auto &r : s.records) rows.push_back(dns_record(s, r));
  rows.push_back(vip_outside_vpc(s));
  rows.push_back(clock_skew(s));
  return rows;
}

std::string failed_names(const std::vector<CheckResult> &rows) {
  std::vector<std::string> names;
  for (const auto &r : rows)
    if (!r.ok) names.push_back(r.name);
  return join(names, ", ");
}

}  // namespace pg_vip::preflight
