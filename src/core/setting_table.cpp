#include "setting_table.hpp"

#include <cstring>

namespace pg_vip::settings {
namespace {

template <std::size_t N>
const Setting *find_in(const Setting (&rows)[N], std::string_view name) noexcept {
  if (name.substr(0, 7) != "pg_vip.") {
    for (const auto &row : rows)
      if (name == std::string_view(row.name).substr(7)) return &row;
    return nullptr;
  }
  for (const auto &row : rows)
    if (name == row.name) return &row;
  return nullptr;
}

}  // namespace

const Setting *find_setting(std::string_view name) noexcept { return find_in(kSettings, name); }

std::string show_int(const Setting &s, long long value) {
  struct Step {
    const char *unit;
    long long factor;
  };
  // PostgreSQL's time units, largest first, as multiples of the base unit.
  static const Step ms_steps[] = {{"d", 86400000}, {"h", 3600000}, {"min", 60000}, {"s", 1000}, {"ms", 1}};
  static const Step s_steps[] = {{"d", 86400}, {"h", 3600}, {"min", 60}, {"s", 1}};
  if (s.unit == Unit::None || value <= 0) return std::to_string(value);
  const Step *steps = s.unit == Unit::Ms ? ms_steps : s_steps;
  std::size_t n = s.unit == Unit::Ms ? std::size(ms_steps) : std::size(s_steps);
  for (std::size_t i = 0; i < n; ++i)
    if (value % steps[i].factor == 0) return std::to_string(value / steps[i].factor) + steps[i].unit;
  return std::to_string(value);
}

std::string readme_default(const Setting &s) {
  switch (s.type) {
    case Type::Bool: return s.boot_int ? "on" : "off";
    case Type::Int: return show_int(s, s.boot_int);
    case Type::Real: return std::to_string(s.boot_real);
    case Type::Enum:
      for (std::size_t i = 0; i < s.n_enum_values; ++i)
        if (s.enum_values[i].value == s.boot_int) return s.enum_values[i].name;
      return {};
    case Type::String:
    case Type::List: return s.boot_text[0] ? s.boot_text : "''";
  }
  return {};
}

std::string readme_values(const Setting &s) {
  switch (s.type) {
    case Type::Bool: return "`on`, `off`";
    case Type::Int: return "`" + show_int(s, s.min_int) + "` to `" + show_int(s, s.max_int) + "`";
    case Type::Real: return "`" + std::to_string(s.min_real) + "` to `" + std::to_string(s.max_real) + "`";
    case Type::Enum: {
      std::string out;
      for (std::size_t i = 0; i < s.n_enum_values; ++i)
        out += (i ? ", `" : "`") + std::string(s.enum_values[i].name) + "`";
      return out;
    }
    case Type::String:
    case Type::List: return s.values;
  }
  return {};
}

std::string readme_applies(const Setting &s) {
  switch (s.context) {
    case Context::Reload: return "reload";
    case Context::Restart: return "restart";
    case Context::Superuser: return "`SET` (superuser)";
  }
  return {};
}

}  // namespace pg_vip::settings
