// Every AWS action pg_vip calls, once: for each kind of target (route
// tables, Elastic IPs, secondary private IPs, Route 53 records), the node's
// own reads and the role it may assume, the action's service and name,
// whether it changes anything or has a DryRun, the resource types of the
// request pg_vip sends with the condition keys AWS documents for them, the
// IAM statement that allows it, what it is for, and what to do when it is
// refused. aws_error.cpp names the missing permission from it,
// iam_policy.cpp builds the policy's statements from it, and
// test/unit/actions_test.cpp holds docs/iam.md's per-action list to it.
//
// The resource types and condition keys are those of the Service
// Authorization Reference ("Actions, resources, and condition keys for
// Amazon EC2 / Amazon Route 53 / AWS Security Token Service"), the DryRun
// parameter that of botocore's models (ec2/2016-11-15, route53/2013-04-01,
// sts/2011-06-15): docs/iam.md says so per key.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpp_only.hpp"

namespace pg_vip::aws {

enum class Service { Ec2, Route53, Sts };
// The IAM prefix of a service's actions: "ec2", "route53", "sts".
const char *service_prefix(Service service) noexcept;

// What an action is called for.
enum class Kind {
  Node,         // the node's own interface, whatever the targets
  Route,        // VPC route tables (pg_vip.route_tables)
  ElasticIp,    // Elastic IPs, by allocation id
  SecondaryIp,  // secondary private IPs of a network interface
  Dns,          // Route 53 records
  Role,         // the role pg_vip assumes to reach targets in another account
};
// "node", "route", "elastic_ip", "secondary_ip", "dns", "role".
const char *to_string(Kind kind) noexcept;

// One resource type of the request pg_vip sends (not every type AWS lists
// for the action: AssociateAddress also takes an instance, which pg_vip
// never names).
struct ResourceType {
  const char *name;  // the Service Authorization Reference's, "route-table"
  // Its ARN, with the reference's placeholders: ${Partition}, ${Region},
  // ${Account}, and last the resource's own id (fill_arn()).
  const char *arn;
  // The condition keys the reference documents for the action on this
  // resource type (its Actions table, with the resource type's own).
  std::vector<const char *> condition_keys;
};

struct Action {
  Kind kind;
  Service service;
  const char *name;  // the API operation, "ReplaceRoute"
  bool changes;      // false: a read
  bool dry_run;      // the request takes DryRun=true (the preflight proves a permission so)
  // Empty: the action has no resource type, so only "*" allows it.
  std::vector<ResourceType> resources;
  // The keys documented for the action whatever its resource (ec2:Region).
  std::vector<const char *> condition_keys;
  const char *sid;      // the statement of vip_iam_policy() that allows it
  const char *purpose;  // one sentence: what pg_vip does with it (docs/iam.md's list)
  const char *where;    // where the policy allows it: "on the configured route tables"

  // "ec2:ReplaceRoute".
  std::string permission() const;
  // What to do when it is refused (UnauthorizedOperation, AccessDenied):
  // "Allow ec2:ReplaceRoute on the configured route tables in the IAM
  // policy of ...: statement PgVipMoveRoute of vip_iam_policy() (docs/iam.md)."
  std::string hint() const;
  // Whose policy allows it when targets are reached through a role: the
  // node's own credentials (its interface, the AssumeRole), or the role's.
  bool on_node() const noexcept { return kind == Kind::Node || kind == Kind::Role; }
  // Whether the reference documents `key` for this action on every one of
  // its resource types (or for the action itself).
  bool documents(std::string_view key) const;
};

// The table, in the order the policy's statements and their actions are
// written (a statement comes where its Sid first appears).
const std::vector<Action> &action_table();

// The rows of an action, by its API name ("CreateTags") or its permission
// ("ec2:CreateTags"), in table order; empty when pg_vip never calls it.
std::vector<const Action *> find_actions(std::string_view name);
// The row of `name` for `kind`, else its first row, else nullptr.
const Action *find_action(std::string_view name, std::optional<Kind> kind = std::nullopt);

// An ARN of `type` with the placeholders filled; `id` is the last one's value
// (a route table id, an allocation id, a hosted zone id, "*").
std::string fill_arn(const ResourceType &type, const std::string &partition, const std::string &region,
                     const std::string &account, const std::string &id);

}  // namespace pg_vip::aws
