// Address ranges as EC2 writes them ("10.0.0.0/16", "2600:1f18::/56"):
// whether one holds an address. The VIP must lie outside its VPC's ranges,
// or EC2 routes it by the VPC's `local` route and never by the VIP's.
#pragma once

#include <optional>
#include <string>

#include "cpp_only.hpp"

namespace pg_vip {

// True when `address` (no prefix) lies in `cidr`; nullopt when either is not
// an address of the same family, or the prefix is out of range.
std::optional<bool> cidr_contains(const std::string &cidr, const std::string &address);

}  // namespace pg_vip
