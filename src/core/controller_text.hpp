// Wording the controller's files share (controller.cpp, controller_claim.cpp,
// controller_report.cpp): how a list of targets' ids reads in logs and
// events (a count of them is target.hpp's count_text).
#pragma once

#include <string>
#include <vector>

#include "text.hpp"

namespace pg_vip::controller_text {

inline std::string join_ids(const std::vector<std::string> &ids) { return join(ids, ", "); }

}  // namespace pg_vip::controller_text
