// Wording the controller's files share (controller.cpp, controller_claim.cpp,
// controller_report.cpp): how a count of route tables and a list of their
// ids read in logs and events.
#pragma once

#include <string>
#include <vector>

#include "text.hpp"

namespace pg_vip::controller_text {

inline std::string route_tables(std::size_t n) {
  return std::to_string(n) + (n == 1 ? " route table" : " route tables");
}

inline std::string join_ids(const std::vector<std::string> &ids) { return join(ids, ", "); }

}  // namespace pg_vip::controller_text
