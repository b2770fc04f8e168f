// EC2's XML answers, read with libxml2 into typed values. Every function
// throws AwsFailure(kind Malformed, code MalformedResponse) on a body it
// cannot read: truncated, not XML, missing what the action must return,
// over 8 MiB, or declaring a DTD or an entity (refused before parsing: EC2
// never sends one, and entity expansion is an attack).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "aws_error.hpp"
#include "cpp_only.hpp"

namespace pg_vip::aws {

struct Route {
  std::string destination;  // destinationCidrBlock or destinationIpv6CidrBlock
  std::string network_interface_id;
  std::string instance_id;
  std::string gateway_id;
  std::string state;   // "active" or "blackhole"
  std::string origin;  // CreateRouteTable, CreateRoute, EnableVgwRoutePropagation
};

struct RouteTable {
  std::string id;
  std::string vpc_id;
  std::vector<Route> routes;
  std::map<std::string, std::string> tags;
  const Route *find_route(const std::string &destination) const;
};

// An error document and the HTTP status. Reads EC2's
// <Response><Errors><Error>... and the Query dialect's
// <ErrorResponse><Error>..., in any namespace or none. Never throws: an
// unreadable body still yields an AwsError (HTTP 401: Authentication, 403:
// Authorization, 429: Throttled, 5xx: ServerError, else Malformed).
AwsError parse_error(const std::string &body, long http_status);

// <return>true</return> of ReplaceRoute, CreateRoute, CreateTags.
bool parse_return(const std::string &body);
std::string parse_request_id(const std::string &body);
// One page of DescribeRouteTables: its tables, and the <nextToken> to ask
// for the next page with ("" on the last page).
struct RouteTablePage {
  std::vector<RouteTable> tables;
  std::string next_token;
};
RouteTablePage parse_route_table_page(const std::string &body);
// The tables of one page, without its token.
std::vector<RouteTable> parse_route_tables(const std::string &body);

struct NetworkInterface {
  std::string id;
  std::string vpc_id;
  std::string subnet_id;
  std::string instance_id;  // the attachment's; empty when detached
  std::string status;       // "in-use", "available", ...
  std::optional<bool> source_dest_check;
};
// DescribeNetworkInterfaces: every <networkInterfaceSet> item.
std::vector<NetworkInterface> parse_network_interfaces(const std::string &body);
// DescribeNetworkInterfaceAttribute for a boolean attribute (sourceDestCheck).
bool parse_network_interface_attribute_bool(const std::string &body, const std::string &attribute);

}  // namespace pg_vip::aws
