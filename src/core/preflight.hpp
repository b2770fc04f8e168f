// vip_preflight(): everything a claim needs, checked before a claim needs
// it. What the probe (preflight_probe.hpp) observed goes in; one row per
// check comes out, each with what was seen and what to do. Pure: the rows
// are tested without any network.
//
// The check names are an interface (monitoring selects on them): short,
// stable, snake_case; a check made once per target carries the target
// after a colon ("route_table:rtb-0123abcd", "permission:ReplaceRoute
// rtb-0123abcd").
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "aws_error.hpp"
#include "ec2_addresses.hpp"
#include "ec2_xml.hpp"
#include "local_addresses.hpp"
#include "route53_fence.hpp"
#include "cpp_only.hpp"

namespace pg_vip::preflight {

struct CheckResult {
  std::string name;
  bool ok = false;
  std::string detail;
  std::string hint;  // empty when ok
};

// SigV4 refuses a request whose time is further than this from AWS's.
constexpr std::chrono::minutes kMaxClockSkew{5};

// A step that could not be taken, in PostgreSQL's words.
struct Problem {
  std::string message;
  std::string hint;
};

// One DryRun=true request: the permission `action` needs on `target`
// (empty: not tied to one target).
struct PermissionProbe {
  std::string action;
  std::string target;
  std::optional<aws::AwsError> answer;  // nullopt: EC2 answered 2xx, i.e. acted on a dry run
  std::optional<Problem> skipped;       // not asked, and why
  // Proof that the policy is narrow: the request must be refused
  // (pg_vip.preflight_probe_table, a table pg_vip does not manage; or a
  // tag of another VIP on one it does). Its row is "narrow:...".
  bool expect_refused = false;
  std::string variant;  // after the target in the row's name: "other_key" (another VIP's tag key)
};

struct TableProbe {
  std::string id;
  std::optional<aws::RouteTable> table;
  std::optional<aws::AwsError> error;
};

// One Elastic IP as DescribeAddresses showed it (preflight_elastic_ip.cpp).
struct AddressProbe {
  std::string id;  // its allocation id
  std::optional<aws::ElasticIp> address;
  std::optional<aws::AwsError> error;
};

// One secondary IP as DescribeNetworkInterfaces showed it
// (preflight_secondary_ip.cpp): read, and the interface that holds it, if any.
struct SecondaryProbe {
  std::string address;
  bool read = false;
  std::string interface_id;  // "" when no interface holds it
  bool primary = false;      // it is that interface's primary address: EC2 never moves it
  std::optional<aws::AwsError> error;
  std::string failed_action;  // the request `error` answered (DescribeNetworkInterfaces, DescribeSubnets)
};

// One Route 53 record as ListResourceRecordSets showed it: its address
// record and its fence TXT record (route53_target.hpp). Route 53 has no
// DryRun: the read proves route53:ListResourceRecordSets and that the zone
// and name are right; route53:ChangeResourceRecordSets shows at the claim.
struct RecordProbe {
  std::string id;  // "<zone>:<name>"
  std::optional<aws::TargetRead> records;
  std::optional<aws::AwsError> error;
};

// What the probe saw, step by step. A step not taken leaves its fields empty.
struct Observed {
  // The settings the checks ran with.
  std::string vip;  // canonical CIDR; "" when pg_vip.vip is not set
  std::vector<std::string> route_tables;
  std::vector<std::string> elastic_ips;
  std::vector<std::string> secondary_ips;
  std::vector<std::string> dns_records;
  std::string dns_value = "private";  // pg_vip.dns_value, parsed
  std::string network_interface = "auto";
  std::string imds_endpoint;
  bool enabled = true;

  std::optional<std::string> credentials_source;
  std::optional<Problem> credentials_problem;

  // pg_vip.role_arn: the targets' probes run with its credentials, assumed
  // once here (the node's own reads keep the node's). Empty: no role.
  std::string role_arn;
  std::string role_session_name;
  bool role_assumed = false;
  std::optional<Problem> role_problem;  // set when it could not be assumed (or was not asked)

  std::string region;
  std::string region_source;  // "pg_vip.region", "AWS_REGION", ..., "instance metadata"
  std::optional<Problem> region_problem;

  bool imds_disabled = false;  // AWS_EC2_METADATA_DISABLED
  std::optional<Problem> imds_problem;
  std::string instance_id;
  std::optional<std::vector<std::string>> instance_interfaces;  // from instance metadata

  std::string interface_id;  // configured, or the primary one metadata named
  std::optional<Problem> interface_problem;
  std::optional<aws::NetworkInterface> interface;  // as DescribeNetworkInterfaces saw it
  std::optional<aws::AwsError> interface_error;
  std::optional<bool> source_dest_check;  // the interface's own
  std::optional<aws::AwsError> source_dest_error;

  std::optional<std::vector<LocalAddress>> local_addresses;
  std::string local_addresses_error;

  std::vector<PermissionProbe> permissions;
  std::vector<TableProbe> tables;
  std::vector<AddressProbe> addresses;
  std::vector<SecondaryProbe> secondaries;
  std::vector<RecordProbe> records;

  // The Date of an AWS answer, and this host's clock when it arrived.
  std::optional<std::chrono::system_clock::time_point> aws_date;
  std::chrono::system_clock::time_point local_time{};
  bool ec2_answered = false;  // any HTTP answer from the EC2 endpoint
};

// The rows, in a fixed order: configuration, credentials, assume_role
// (with pg_vip.role_arn), region,
// instance_metadata, interface_owner, source_dest_check, vip_bound,
// permission:<Action>[ <target>]..., narrow:<Action> <target>[ other_key]...
// (with pg_vip.preflight_probe_table), route_table:<id>..., vip_outside_vpc,
// clock_skew.
std::vector<CheckResult> evaluate(const Observed &seen);

// The names of the failed checks, comma-separated: the details of the
// vip_preflight_failed event.
std::string failed_names(const std::vector<CheckResult> &rows);

}  // namespace pg_vip::preflight
