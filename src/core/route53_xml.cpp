#include "route53_xml.hpp"

#include <cctype>

#include "aws_xml.hpp"
#include "ec2_xml.hpp"
#include "error.hpp"
#include "route53_names.hpp"

namespace pg_vip::aws {
namespace {

[[noreturn]] void refuse(const std::string &why) {
  throw Error("cannot build a Route 53 change batch: " + why,
              "pg_vip builds its batches from checked names and encoded values; this is a bug.");
}

// Text as XML character data: every markup character escaped. Only
// printable ASCII reaches here (checked first): XML 1.0 cannot carry most
// control characters at all, and Route 53 takes nothing else in a value.
std::string escaped(const std::string &s, const char *what) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7f) refuse(std::string(what) + " has a character outside printable ASCII");
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += static_cast<char>(c);
    }
  }
  return out;
}

std::string element(const char *name, const std::string &value, const char *what) {
  return std::string("<") + name + ">" + escaped(value, what) + "</" + name + ">";
}

std::string record_set_xml(const RecordSet &r) {
  if (r.name.empty()) refuse("a record has no name");
  bool type_ok = !r.type.empty() && r.type.size() <= 10;
  for (unsigned char c : r.type) type_ok = type_ok && std::isupper(c);
  if (!type_ok) refuse("a record's type is not a DNS type");
  if (!r.ttl || *r.ttl < 0 || *r.ttl > 2147483647L) refuse("a record has no TTL, or one out of range");
  if (r.values.empty()) refuse("a record has no value");
  if (!r.set_identifier.empty() || !r.alias_dns_name.empty())
    refuse("pg_vip writes neither aliases nor set identifiers");
  // The schema's order: Name, Type, TTL, ResourceRecords.
  std::string out = "<ResourceRecordSet>" + element("Name", r.name, "a name") + element("Type", r.type, "a type") +
                    "<TTL>" + std::to_string(*r.ttl) + "</TTL><ResourceRecords>";
  for (const auto &v : r.values) {
    if (v.empty()) refuse("a record has an empty value");
    out += "<ResourceRecord>" + element("Value", v, "a value") + "</ResourceRecord>";
  }
  return out + "</ResourceRecords></ResourceRecordSet>";
}

long parse_ttl(const std::string &text) {
  bool ok = !text.empty() && text.size() <= 10;
  for (unsigned char c : text) ok = ok && std::isdigit(c);
  long v = ok ? std::stol(text) : -1;
  if (!ok || v > 2147483647L) xml::malformed("a record's <TTL> is \"" + text.substr(0, 32) + "\", not a TTL");
  return v;
}

RecordSet parse_record_set(const xmlNode *n) {
  RecordSet r;
  r.name = xml::required_text(n, "Name");
  r.type = xml::required_text(n, "Type");
  if (const xmlNode *ttl = xml::child(n, "TTL")) r.ttl = parse_ttl(xml::text(ttl));
  for (const xmlNode *rr : xml::children(xml::child(n, "ResourceRecords"), "ResourceRecord"))
    r.values.push_back(xml::required_text(rr, "Value"));
  r.set_identifier = xml::child_text(n, "SetIdentifier");
  r.alias_dns_name = xml::child_text(xml::child(n, "AliasTarget"), "DNSName");
  return r;
}

bool parse_truncated(const std::string &text) {
  if (text == "true") return true;
  if (text == "false") return false;
  xml::malformed("<IsTruncated> is \"" + text.substr(0, 32) + "\", not true or false");
}

ErrorKind route53_kind(const std::string &code, ErrorKind general) {
  if (code == "PriorRequestNotComplete" || code == "Throttling") return ErrorKind::Throttled;
  if (code == "NoSuchHostedZone" || code == "NoSuchChange" || code == "NoSuchHealthCheck") return ErrorKind::NotFound;
  if (code == "InvalidChangeBatch" || code == "InvalidInput" || code == "InvalidArgument" ||
      code == "InvalidDomainName" || code == "MalformedInput")
    return ErrorKind::Invalid;
  return general;
}

}  // namespace

const char *to_string(ChangeAction a) noexcept {
  switch (a) {
    case ChangeAction::Create: return "CREATE";
    case ChangeAction::Delete: return "DELETE";
    case ChangeAction::Upsert: return "UPSERT";
  }
  return "UPSERT";
}

std::string change_batch_xml(const ChangeBatch &batch) {
  if (batch.changes.empty()) refuse("the batch has no change");
  if (batch.comment.size() > 256) refuse("the comment is longer than 256 characters");
  std::string out =
      std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ChangeResourceRecordSetsRequest xmlns=\"") +
      kRoute53Namespace + "\"><ChangeBatch>";
  if (!batch.comment.empty()) out += element("Comment", batch.comment, "the comment");
  out += "<Changes>";
  for (const auto &c : batch.changes)
    out += std::string("<Change><Action>") + to_string(c.action) + "</Action>" + record_set_xml(c.record) + "</Change>";
  return out + "</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>";
}

ChangeInfo parse_change_info(const std::string &body) {
  xml::Doc doc = xml::read(body, kRoute53Namespace);
  const xmlNode *root = xml::root(doc);
  if (!xml::named(root, "ChangeResourceRecordSetsResponse") && !xml::named(root, "GetChangeResponse"))
    xml::root_named(doc, "ChangeResourceRecordSetsResponse");  // names what was expected, and throws
  const xmlNode *info = xml::child(root, "ChangeInfo");
  if (!info) xml::malformed("the response has no <ChangeInfo>");
  ChangeInfo out;
  try {
    out.id = change_id(xml::required_text(info, "Id"));
  } catch (const ConfigError &) {
    xml::malformed("<ChangeInfo> has an <Id> that is not a change id");
  }
  out.status = xml::required_text(info, "Status");
  if (out.status != "PENDING" && out.status != "INSYNC")
    xml::malformed("<Status> is \"" + out.status.substr(0, 32) + "\", not PENDING or INSYNC");
  try {
    out.submitted_at = parse_iso8601(xml::required_text(info, "SubmittedAt"));
  } catch (const AwsFailure &) {
    throw;
  } catch (const Error &) {
    xml::malformed("<SubmittedAt> is not an ISO 8601 time");
  }
  out.comment = xml::child_text(info, "Comment");
  return out;
}

RecordSetPage parse_record_set_page(const std::string &body) {
  xml::Doc doc = xml::read(body, kRoute53Namespace);
  const xmlNode *root = xml::root_named(doc, "ListResourceRecordSetsResponse");
  const xmlNode *sets = xml::child(root, "ResourceRecordSets");
  if (!sets) xml::malformed("the response has no <ResourceRecordSets>");
  RecordSetPage page;
  for (const xmlNode *n : xml::children(sets, "ResourceRecordSet")) page.record_sets.push_back(parse_record_set(n));
  page.truncated = parse_truncated(xml::required_text(root, "IsTruncated"));
  page.next_name = xml::child_text(root, "NextRecordName");
  page.next_type = xml::child_text(root, "NextRecordType");
  page.next_identifier = xml::child_text(root, "NextRecordIdentifier");
  if (page.truncated && page.next_name.empty()) xml::malformed("a truncated page has no <NextRecordName>");
  return page;
}

AwsError parse_route53_error(const std::string &body, long http_status) {
  AwsError e;
  try {
    // The older form of InvalidChangeBatch, with one message per change.
    xml::Doc doc = xml::read(body);
    const xmlNode *root = xml::root(doc);
    if (xml::named(root, "InvalidChangeBatch")) {
      e.http_status = http_status;
      e.code = "InvalidChangeBatch";
      for (const xmlNode *m : xml::children(xml::child(root, "Messages"), "Message"))
        e.message += (e.message.empty() ? "" : "; ") + xml::text(m);
      if (e.message.empty()) e.message = xml::child_text(root, "Message");
      e.request_id = xml::child_text(root, "RequestId");
      e.kind = ErrorKind::Invalid;
      return e;
    }
  } catch (const AwsFailure &) {
    // Unreadable: parse_error says so, by status.
  }
  e = parse_error(body, http_status);
  e.kind = route53_kind(e.code, e.kind);
  return e;
}

}  // namespace pg_vip::aws
