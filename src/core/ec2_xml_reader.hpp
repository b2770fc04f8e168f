// The reading of EC2's XML answers that every parser of them shares
// (ec2_xml.cpp, ec2_addresses.cpp): the guarded parse of an untrusted body
// and the walk over EC2's <item> sets. The walk by local name, the
// document type and malformed() are aws_xml.hpp's, shared with Route 53
// and STS. Only for .cpp files that read EC2's XML; the typed answers are
// in ec2_xml.hpp and ec2_addresses.hpp.
#pragma once

#include <libxml/tree.h>

#include <memory>
#include <string>
#include <vector>

#include "aws_xml.hpp"
#include "cpp_only.hpp"

namespace pg_vip::aws::xml {

// The body as a document, or malformed(): empty, over 8 MiB, declaring a
// DTD or an entity, not well-formed, no root (ec2_xml.cpp says why each).
Doc parse(const std::string &body);
// The <item> children of a set, in order (none for a null set).
std::vector<const xmlNode *> items(const xmlNode *set);
// "true" or "false", else malformed() naming element `what`.
bool parse_bool(const std::string &value, const char *what);

}  // namespace pg_vip::aws::xml
