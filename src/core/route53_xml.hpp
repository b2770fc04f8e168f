// The documents of Route 53's REST XML API (2013-04-01): the
// ChangeResourceRecordSetsRequest pg_vip sends, and the answers it reads
// (ChangeInfo, a page of ListResourceRecordSets, ErrorResponse). Answers go
// through aws_xml's guards: a body that is not XML, is truncated, too large,
// declares a DTD, or is not in Route 53's namespace is AwsFailure (Malformed).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "aws_error.hpp"
#include "clock.hpp"
#include "cpp_only.hpp"

namespace pg_vip::aws {

constexpr const char *kRoute53Namespace = "https://route53.amazonaws.com/doc/2013-04-01/";

// One resource record set. Built by pg_vip: name as dns_name() gives it,
// values as sent (a TXT value in txt_value()'s form). Read from Route 53:
// every field as Route 53 wrote it, so that a DELETE can give back exactly
// what was read.
struct RecordSet {
  std::string name;
  std::string type;  // "A", "AAAA", "TXT", ...
  std::optional<long> ttl;
  std::vector<std::string> values;  // ResourceRecords/ResourceRecord/Value, in order
  std::string set_identifier;       // weighted, latency, ... records only
  std::string alias_dns_name;       // an alias record's AliasTarget/DNSName
  bool operator==(const RecordSet &o) const {
    return name == o.name && type == o.type && ttl == o.ttl && values == o.values &&
           set_identifier == o.set_identifier && alias_dns_name == o.alias_dns_name;
  }
};

enum class ChangeAction { Create, Delete, Upsert };
const char *to_string(ChangeAction a) noexcept;  // "CREATE", "DELETE", "UPSERT"

struct Change {
  ChangeAction action;
  RecordSet record;
};

struct ChangeBatch {
  std::string comment;  // optional; printable ASCII, at most 256 characters
  std::vector<Change> changes;
};

// The whole ChangeResourceRecordSetsRequest document, every value escaped.
// Throws Error for a batch Route 53 would refuse for its shape and that
// pg_vip must never send: no change, a record without a name, a type, a TTL
// or a value, an alias or set identifier (never written by pg_vip), a value
// or comment with characters outside printable ASCII.
std::string change_batch_xml(const ChangeBatch &batch);

// ChangeInfo of ChangeResourceRecordSetsResponse and GetChangeResponse.
struct ChangeInfo {
  std::string id;      // bare ("C2682N5HXP0BZ4"), for GetChange
  std::string status;  // "PENDING" or "INSYNC"
  Clock::time_point submitted_at;
  std::string comment;
  bool insync() const noexcept { return status == "INSYNC"; }
};
ChangeInfo parse_change_info(const std::string &body);

// One page of ListResourceRecordSets.
struct RecordSetPage {
  std::vector<RecordSet> record_sets;
  bool truncated = false;
  std::string next_name;  // where the next page starts, when truncated
  std::string next_type;
  std::string next_identifier;
};
RecordSetPage parse_record_set_page(const std::string &body);

// A Route 53 error answer and its HTTP status; never throws. Reads
// <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/> and
// the older <InvalidChangeBatch><Messages><Message/>... (joined with "; "),
// then classifies Route 53's codes: Throttling and PriorRequestNotComplete
// are Throttled (retried), NoSuchHostedZone and NoSuchChange NotFound,
// InvalidChangeBatch, InvalidInput and the other validation codes Invalid,
// AccessDenied Authorization. An unreadable body is classified by its
// HTTP status alone, as EC2's (parse_error).
AwsError parse_route53_error(const std::string &body, long http_status);

}  // namespace pg_vip::aws
