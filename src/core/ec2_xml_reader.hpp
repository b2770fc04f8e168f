// The reading of EC2's XML answers that every parser of them shares
// (ec2_xml.cpp, ec2_addresses.cpp): the guarded parse of an untrusted body
// and the walk over EC2's elements by local name. Only for .cpp files that
// read EC2's XML; the typed answers are in ec2_xml.hpp and ec2_addresses.hpp.
#pragma once

#include <libxml/tree.h>

#include <memory>
#include <string>
#include <vector>

#include "cpp_only.hpp"

namespace pg_vip::aws::xml {

struct DocFree {
  void operator()(xmlDoc *d) const { xmlFreeDoc(d); }
};
using Doc = std::unique_ptr<xmlDoc, DocFree>;

// Throws AwsFailure (kind Malformed, code MalformedResponse) saying `why`.
[[noreturn]] void malformed(const std::string &why);
// The body as a document, or malformed(): empty, over 8 MiB, declaring a
// DTD or an entity, not well-formed, no root (ec2_xml.cpp says why each).
Doc parse(const std::string &body);
// Element `n` has local name `name` (EC2 puts everything in its namespace).
bool named(const xmlNode *n, const char *name);
// The first child element named `name`, or nullptr (also for a null parent).
const xmlNode *child(const xmlNode *parent, const char *name);
// The <item> children of a set, in order (none for a null set).
std::vector<const xmlNode *> items(const xmlNode *set);
// The text of an element ("" for nullptr).
std::string text(const xmlNode *n);
std::string child_text(const xmlNode *parent, const char *name);
// The root element, which must be named `expected`.
const xmlNode *root_named(const Doc &doc, const char *expected);
// "true" or "false", else malformed() naming element `what`.
bool parse_bool(const std::string &value, const char *what);

}  // namespace pg_vip::aws::xml
