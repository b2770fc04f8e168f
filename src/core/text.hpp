// Small text helpers shared by the core's parsers.
#pragma once

#include <cctype>
#include <string_view>

#include "cpp_only.hpp"

namespace pg_vip {

// `s` without leading and trailing white space (a view into `s`).
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace pg_vip
