#include "ec2_xml.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <cstring>
#include <memory>
#include <string_view>

#include "ec2_xml_reader.hpp"

namespace pg_vip::aws {
// Shared with the other parsers of EC2's answers (ec2_xml_reader.hpp).
namespace xml {

// Bodies bigger than this are refused unread. Twice the HTTP client's cap
// (ClientOptions::max_response_bytes), so never the binding limit for an
// answer that arrived over HTTP; a bound for any other caller.
constexpr std::size_t kMaxBodyBytes = 8u << 20;

// True when the body declares anything: "<!" opens a DOCTYPE, an ENTITY (or
// ELEMENT, ATTLIST, NOTATION) declaration, or else only a comment or a CDATA
// section. EC2 never sends any declaration, and escapes '<' in every value
// (a tag saying "<!DOCTYPE" arrives as "&lt;!DOCTYPE"), so this reads no
// real answer as one.
bool declares_anything(const std::string &body) {
  for (auto at = body.find("<!"); at != std::string::npos; at = body.find("<!", at + 2)) {
    std::string_view rest = std::string_view(body).substr(at + 2);
    if (rest.substr(0, 2) != "--" && rest.substr(0, 7) != "[CDATA[") return true;
  }
  return false;
}

// The body is untrusted (a plaintext endpoint, a proxy, a test endpoint can
// write it), so no DTD reaches libxml2 at all: a document with a DOCTYPE or
// an entity declaration is refused before parsing, whatever libxml2's own
// limits on entity expansion would have done (billion laughs, external and
// parameter entities, a DTD fetched by URL). The options say the same once
// more: no network (NONET), entities never substituted (no NOENT), no
// external DTD loaded (no DTDLOAD, no DTDVALID), no huge documents (no
// HUGE). The parser is told the body is UTF-8 and to ignore the document's
// own encoding declaration: the byte scan above then sees what the parser
// reads (a UTF-16 body, with its DOCTYPE out of the scan's sight, is simply
// not well-formed UTF-8).
//
// A refused body is Malformed, as every unreadable answer: retryable
// (AwsError::retryable) within the caller's attempts and deadline. It is not
// an answer from EC2, which never sends a DTD, but from something between,
// and the calls are idempotent; the refusal costs one scan of the body, no
// parsing, so retrying it costs nothing either.
Doc parse(const std::string &body) {
  if (body.empty()) malformed("the response body is empty");
  if (body.size() > kMaxBodyBytes)
    malformed("the response body is too large (" + std::to_string(body.size()) + " bytes, at most " +
              std::to_string(kMaxBodyBytes) + ")");
  if (declares_anything(body))
    malformed("the response has a DTD (a DOCTYPE or entity declaration), which EC2 never sends: refused unparsed");
  xmlDoc *doc = xmlReadMemory(
      body.data(), static_cast<int>(body.size()), "ec2.xml", "UTF-8",
      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA | XML_PARSE_IGNORE_ENC);
  if (!doc) malformed("the response is not well-formed XML");
  if (doc->intSubset || doc->extSubset) {  // cannot happen after the scan; a DTD is never read past here
    xmlFreeDoc(doc);
    malformed("the response has a DTD, which EC2 never sends");
  }
  if (!xmlDocGetRootElement(doc)) {
    xmlFreeDoc(doc);
    malformed("the response has no root element");
  }
  return Doc(doc);
}

std::vector<const xmlNode *> items(const xmlNode *set) {
  std::vector<const xmlNode *> out;
  if (!set) return out;
  for (const xmlNode *c = set->children; c; c = c->next)
    if (named(c, "item")) out.push_back(c);
  return out;
}

// The root element's name ends with "Response" for every EC2 success answer.
const xmlNode *response_root(const Doc &doc) {
  const xmlNode *root = xmlDocGetRootElement(doc.get());
  std::string name = reinterpret_cast<const char *>(root->name);
  if (name.size() <= 8 || name.compare(name.size() - 8, 8, "Response") != 0)
    malformed("unexpected root element <" + name.substr(0, 64) + ">");
  return root;
}

bool parse_bool(const std::string &value, const char *what) {
  if (value == "true") return true;
  if (value == "false") return false;
  malformed(std::string("<") + what + "> is \"" + value.substr(0, 32) + "\", not true or false");
}

}  // namespace xml

using namespace xml;

const Route *RouteTable::find_route(const std::string &destination) const {
  for (const auto &r : routes)
    if (r.destination == destination) return &r;
  return nullptr;
}

AwsError parse_error(const std::string &body, long http_status) {
  AwsError e;
  e.http_status = http_status;
  try {
    Doc doc = parse(body);
    const xmlNode *root = xmlDocGetRootElement(doc.get());
    const xmlNode *error = nullptr;
    if (named(root, "Response")) error = child(child(root, "Errors"), "Error");
    else if (named(root, "ErrorResponse")) error = child(root, "Error");  // the Query dialect of other services
    if (!error) throw AwsFailure(AwsError{});
    e.code = child_text(error, "Code");
    e.message = child_text(error, "Message");
    e.request_id = child_text(root, "RequestID");
    if (e.request_id.empty()) e.request_id = child_text(root, "RequestId");
    if (e.code.empty()) throw AwsFailure(AwsError{});
    e.kind = classify(e.code, http_status);
  } catch (const AwsFailure &) {
    // Not an AWS error document (a proxy's page, a load balancer's 503...).
    // 401 and 403 still say the caller was refused: permanent, whatever the body.
    e.code = "HTTP" + std::to_string(http_status);
    e.message = "unreadable error response";
    e.kind = http_status >= 500   ? ErrorKind::ServerError
             : http_status == 429 ? ErrorKind::Throttled
             : http_status == 401 ? ErrorKind::Authentication
             : http_status == 403 ? ErrorKind::Authorization
                                  : ErrorKind::Malformed;
  }
  return e;
}

bool parse_return(const std::string &body) {
  Doc doc = parse(body);
  const xmlNode *ret = child(response_root(doc), "return");
  if (!ret) malformed("the response has no <return>");
  return parse_bool(text(ret), "return");
}

std::string parse_request_id(const std::string &body) {
  Doc doc = parse(body);
  return child_text(response_root(doc), "requestId");
}

std::vector<RouteTable> parse_route_tables(const std::string &body) { return parse_route_table_page(body).tables; }

RouteTablePage parse_route_table_page(const std::string &body) {
  Doc doc = parse(body);
  const xmlNode *root = root_named(doc, "DescribeRouteTablesResponse");
  const xmlNode *set = child(root, "routeTableSet");
  if (!set) malformed("the response has no <routeTableSet>");
  std::vector<RouteTable> tables;
  for (const xmlNode *item : items(set)) {
    RouteTable t;
    t.id = child_text(item, "routeTableId");
    if (t.id.empty()) malformed("a route table has no <routeTableId>");
    t.vpc_id = child_text(item, "vpcId");
    for (const xmlNode *r : items(child(item, "routeSet"))) {
      Route route;
      route.destination = child_text(r, "destinationCidrBlock");
      if (route.destination.empty()) route.destination = child_text(r, "destinationIpv6CidrBlock");
      if (route.destination.empty()) route.destination = child_text(r, "destinationPrefixListId");
      route.network_interface_id = child_text(r, "networkInterfaceId");
      route.instance_id = child_text(r, "instanceId");
      route.gateway_id = child_text(r, "gatewayId");
      route.state = child_text(r, "state");
      route.origin = child_text(r, "origin");
      t.routes.push_back(std::move(route));
    }
    for (const xmlNode *tag : items(child(item, "tagSet"))) t.tags[child_text(tag, "key")] = child_text(tag, "value");
    tables.push_back(std::move(t));
  }
  RouteTablePage page;
  page.tables = std::move(tables);
  page.next_token = child_text(root, "nextToken");
  return page;
}

std::vector<NetworkInterface> parse_network_interfaces(const std::string &body) {
  Doc doc = parse(body);
  const xmlNode *root = root_named(doc, "DescribeNetworkInterfacesResponse");
  const xmlNode *set = child(root, "networkInterfaceSet");
  if (!set) malformed("the response has no <networkInterfaceSet>");
  std::vector<NetworkInterface> out;
  for (const xmlNode *item : items(set)) {
    NetworkInterface n;
    n.id = child_text(item, "networkInterfaceId");
    if (n.id.empty()) malformed("a network interface has no <networkInterfaceId>");
    n.vpc_id = child_text(item, "vpcId");
    n.subnet_id = child_text(item, "subnetId");
    n.status = child_text(item, "status");
    n.instance_id = child_text(child(item, "attachment"), "instanceId");
    if (const xmlNode *check = child(item, "sourceDestCheck"))
      n.source_dest_check = parse_bool(text(check), "sourceDestCheck");
    out.push_back(std::move(n));
  }
  return out;
}

bool parse_network_interface_attribute_bool(const std::string &body, const std::string &attribute) {
  Doc doc = parse(body);
  const xmlNode *root = root_named(doc, "DescribeNetworkInterfaceAttributeResponse");
  const xmlNode *attr = child(root, attribute.c_str());
  if (!attr) malformed("the response has no <" + attribute + ">");
  return parse_bool(child_text(attr, "value"), "value");
}

}  // namespace pg_vip::aws
