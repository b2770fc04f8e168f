#include "aws_xml.hpp"

#include <libxml/parser.h>

#include <cstring>

namespace pg_vip::aws::xml {
namespace {

// As EC2's reader: twice the HTTP client's cap, so never the binding limit
// for an answer that came over HTTP.
constexpr std::size_t kMaxBody = 8u << 20;

}  // namespace

void malformed(const std::string &why) {
  AwsError e;
  e.kind = ErrorKind::Malformed;
  e.code = "MalformedResponse";
  e.message = why;
  throw AwsFailure(e);
}

void guard(std::string_view body) {
  if (body.empty()) malformed("the response body is empty");
  if (body.size() > kMaxBody)
    malformed("the response body is too large (" + std::to_string(body.size()) + " bytes, at most " +
              std::to_string(kMaxBody) + ")");
  // AWS escapes '<' in every value, so "<!" in a real answer opens only a
  // comment or a CDATA section; anything else is a declaration.
  for (std::size_t at = body.find("<!"); at != std::string_view::npos; at = body.find("<!", at + 2)) {
    std::string_view after = body.substr(at + 2);
    bool harmless = after.rfind("--", 0) == 0 || after.rfind("[CDATA[", 0) == 0;
    if (!harmless) malformed("the response declares a DTD or an entity, which AWS never sends: refused unparsed");
  }
}

int parse_options() noexcept {
  return XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA | XML_PARSE_IGNORE_ENC;
}

Doc read(const std::string &body, const char *required_namespace) {
  guard(body);
  Doc doc(xmlReadMemory(body.data(), static_cast<int>(body.size()), "aws.xml", "UTF-8", parse_options()));
  if (!doc) malformed("the response is not well-formed XML");
  if (doc->intSubset || doc->extSubset) malformed("the response has a DTD, which AWS never sends");
  const xmlNode *top = xmlDocGetRootElement(doc.get());
  if (!top) malformed("the response has no root element");
  if (required_namespace) {
    const char *ns = top->ns && top->ns->href ? reinterpret_cast<const char *>(top->ns->href) : "";
    if (std::strcmp(ns, required_namespace) != 0)
      malformed("the response's <" + std::string(reinterpret_cast<const char *>(top->name)).substr(0, 64) +
                "> is in namespace \"" + std::string(ns).substr(0, 128) + "\", not " + required_namespace);
  }
  return doc;
}

const xmlNode *root(const Doc &doc) { return xmlDocGetRootElement(doc.get()); }

const xmlNode *root_named(const Doc &doc, const char *name) {
  const xmlNode *top = root(doc);
  if (!named(top, name))
    malformed(std::string("expected <") + name + ">, got <" +
              std::string(reinterpret_cast<const char *>(top->name)).substr(0, 64) + ">");
  return top;
}

bool named(const xmlNode *n, const char *name) noexcept {
  return n && n->type == XML_ELEMENT_NODE && std::strcmp(reinterpret_cast<const char *>(n->name), name) == 0;
}

const xmlNode *child(const xmlNode *parent, const char *name) noexcept {
  for (const xmlNode *c = parent ? parent->children : nullptr; c; c = c->next)
    if (named(c, name)) return c;
  return nullptr;
}

std::vector<const xmlNode *> children(const xmlNode *parent, const char *name) {
  std::vector<const xmlNode *> out;
  for (const xmlNode *c = parent ? parent->children : nullptr; c; c = c->next)
    if (named(c, name)) out.push_back(c);
  return out;
}

std::string text(const xmlNode *n) {
  if (!n) return {};
  xmlChar *content = xmlNodeGetContent(n);
  if (!content) return {};
  std::string out(reinterpret_cast<const char *>(content));
  xmlFree(content);
  return out;
}

std::string child_text(const xmlNode *parent, const char *name) { return text(child(parent, name)); }

std::string required_text(const xmlNode *parent, const char *name) {
  std::string out = child_text(parent, name);
  if (out.empty())
    malformed("<" + std::string(reinterpret_cast<const char *>(parent->name)).substr(0, 64) + "> has no <" + name +
              ">");
  return out;
}

}  // namespace pg_vip::aws::xml
