// Small text helpers shared by the core's parsers.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

#include "cpp_only.hpp"

namespace pg_vip {

// `s` without leading and trailing white space (a view into `s`).
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The items with `sep` between them: any range of strings or string views.
template <typename Items>
std::string join(const Items &items, std::string_view sep) {
  std::string out;
  bool first = true;
  for (const auto &item : items) {
    if (!first) out += sep;
    out += std::string_view(item);
    first = false;
  }
  return out;
}

}  // namespace pg_vip
