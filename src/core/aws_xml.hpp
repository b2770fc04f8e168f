// Reading the XML answers of Route 53 and STS with libxml2, under the same
// guards as EC2's reader (ec2_xml.cpp): a body that is empty, over 8 MiB,
// declares a DTD or an entity, is not well-formed, or whose root is not in
// the service's namespace is refused with AwsFailure (kind Malformed, code
// MalformedResponse) before anything is read from it.
#pragma once

#include <libxml/tree.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "aws_error.hpp"
#include "cpp_only.hpp"

namespace pg_vip::aws::xml {

[[noreturn]] void malformed(const std::string &why);

// Refuses (throws malformed) a body no AWS service sends: empty, larger
// than 8 MiB, or declaring anything ("<!" other than a comment or CDATA:
// a DOCTYPE or an entity, refused unparsed whatever libxml2 would do).
void guard(std::string_view body);

// The options every parse uses: no network, no entity substitution, no
// DTD loading, the body read as UTF-8 whatever it declares.
int parse_options() noexcept;

struct DocFree {
  void operator()(xmlDoc *d) const noexcept { xmlFreeDoc(d); }
};
using Doc = std::unique_ptr<xmlDoc, DocFree>;

// The guarded, parsed document. With a namespace, its root element must be
// in it ("https://route53.amazonaws.com/doc/2013-04-01/"): an answer in
// another one is from another service or API version, and is refused.
Doc read(const std::string &body, const char *required_namespace = nullptr);
const xmlNode *root(const Doc &doc);
// The root, which must be called `name`.
const xmlNode *root_named(const Doc &doc, const char *name);

// Matches local names: AWS puts every element in its namespace.
bool named(const xmlNode *n, const char *name) noexcept;
const xmlNode *child(const xmlNode *parent, const char *name) noexcept;
std::vector<const xmlNode *> children(const xmlNode *parent, const char *name);
std::string text(const xmlNode *n);
std::string child_text(const xmlNode *parent, const char *name);
// The child's text, which must be there and not empty.
std::string required_text(const xmlNode *parent, const char *name);

}  // namespace pg_vip::aws::xml
