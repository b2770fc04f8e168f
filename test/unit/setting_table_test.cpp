// The settings table (core/setting_table.hpp) against itself, against the
// parsers, and against README.md: the README's settings table must say what
// the table says, row by row and in its order, and its event lists must name
// kEventNames. README.md is read relative to the directory the test binary
// runs in: the top of the tree, as `make unit` runs it.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/events.hpp"
#include "core/setting_table.hpp"
#include "core/text.hpp"

using namespace pg_vip;
using namespace pg_vip::settings;

namespace {

std::string read_readme() {
  std::ifstream f("README.md", std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// The cells of a Markdown table row, trimmed; "\|" stays inside its cell.
std::vector<std::string> cells(const std::string &line) {
  std::vector<std::string> out;
  std::string cell;
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
      cell += "\\|";
      ++i;
    } else if (line[i] == '|') {
      out.emplace_back(trim(cell));
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  return out;
}

// README's settings table: the rows after its header, up to the first line
// that is not a table row.
std::vector<std::vector<std::string>> readme_settings_rows(const std::string &readme) {
  std::vector<std::vector<std::string>> rows;
  auto at = readme.find("| setting | default | values | applies | meaning |");
  if (at == std::string::npos) return rows;
  std::istringstream in(readme.substr(at));
  std::string line;
  std::getline(in, line);  // the header
  std::getline(in, line);  // | --- |
  while (std::getline(in, line) && !line.empty() && line[0] == '|') rows.push_back(cells(line));
  return rows;
}

// The `names` in backquotes in text, in order.
std::vector<std::string> quoted(std::string_view text) {
  std::vector<std::string> out;
  for (std::size_t at = text.find('`'); at != std::string_view::npos;) {
    auto end = text.find('`', at + 1);
    if (end == std::string_view::npos) break;
    out.emplace_back(text.substr(at + 1, end - at - 1));
    at = text.find('`', end + 1);
  }
  return out;
}

std::vector<std::string> event_names() { return {kEventNames.begin(), kEventNames.end()}; }

}  // namespace

TEST(SettingTable, ReadmeTableIsTheTable) {
  std::string readme = read_readme();
  ASSERT_FALSE(readme.empty()) << "README.md not found: run the test binary from the top of the tree";
  auto rows = readme_settings_rows(readme);
  ASSERT_EQ(rows.size(), std::size(kSettings)) << "README's settings table has a row per registered setting";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Setting &s = kSettings[i];
    const auto &row = rows[i];
    ASSERT_EQ(row.size(), 5u) << "row " << i + 1 << " of README's settings table";
    // What the table says, as README's row should read (paste it when the table changes).
    std::string expected = "| `" + std::string(s.name) + "` | `" + readme_default(s) + "` | " + readme_values(s) +
                           " | " + readme_applies(s) + " | …";
    EXPECT_EQ(row[0], "`" + std::string(s.name) + "`") << expected;
    EXPECT_EQ(row[1], "`" + readme_default(s) + "`") << expected;
    EXPECT_EQ(row[2], readme_values(s)) << expected;
    EXPECT_EQ(row[3], readme_applies(s)) << expected;
    EXPECT_FALSE(row[4].empty()) << s.name << " has no meaning in README";
  }
}

TEST(SettingTable, ReadmeNamesEveryEvent) {
  std::string readme = read_readme();
  ASSERT_FALSE(readme.empty()) << "README.md not found: run the test binary from the top of the tree";
  // "How it moves the VIP": - **Events** (`a`, `b`, ...) are logged ...
  auto at = readme.find("- **Events** (");
  ASSERT_NE(at, std::string::npos);
  auto end = readme.find(')', at);
  EXPECT_EQ(quoted(std::string_view(readme).substr(at, end - at)), event_names());
  // The settings table's pg_vip.event_notifications row.
  bool found = false;
  for (const auto &row : readme_settings_rows(readme)) {
    if (row[0] != "`pg_vip.event_notifications`") continue;
    found = true;
    auto open = row[4].find('(');
    auto close = row[4].find(')', open);
    ASSERT_NE(close, std::string::npos);
    EXPECT_EQ(quoted(std::string_view(row[4]).substr(open, close - open)), event_names());
  }
  EXPECT_TRUE(found);
}

TEST(SettingTable, NamesAreUniqueAndPrefixed) {
  std::set<std::string> names;
  for (const auto &s : kSettings) EXPECT_TRUE(names.insert(s.name).second) << s.name;
  for (const auto &name : names) EXPECT_EQ(name.substr(0, 7), "pg_vip.") << name;
}

// Each row is whole for its type, and its default is a good value in its
// canonical form: what SHOW gives for an untouched setting.
void expect_row_consistent(const Setting &s) {
  SCOPED_TRACE(s.name);
  EXPECT_NE(s.short_desc, nullptr);
  switch (s.type) {
    case Type::Bool: EXPECT_TRUE(s.boot_int == 0 || s.boot_int == 1); break;
    case Type::Int:
      EXPECT_LE(s.min_int, s.boot_int);
      EXPECT_LE(s.boot_int, s.max_int);
      break;
    case Type::Real:
      EXPECT_LE(s.min_real, s.boot_real);
      EXPECT_LE(s.boot_real, s.max_real);
      break;
    case Type::Enum: {
      ASSERT_GT(s.n_enum_values, 0u);
      bool boot_listed = false;
      for (std::size_t i = 0; i < s.n_enum_values; ++i) boot_listed |= s.enum_values[i].value == s.boot_int;
      EXPECT_TRUE(boot_listed);
      break;
    }
    case Type::String:
    case Type::List:
      ASSERT_NE(s.boot_text, nullptr);
      ASSERT_NE(s.values, nullptr);
      EXPECT_NE(std::string(s.values), "");
      if (s.normalize) {
        EXPECT_EQ(s.normalize(s.boot_text), s.boot_text);
      }
      break;
  }
}

TEST(SettingTable, RowsAreConsistent) {
  for (const auto &s : kSettings) expect_row_consistent(s);
  // Only pg_vip.fence_allow_roles is checked in the glue (SQL identifiers).
  for (const auto &s : kSettings)
    if ((s.type == Type::String || s.type == Type::List) && s.normalize == nullptr) {
      EXPECT_EQ(std::string(s.name), "pg_vip.fence_allow_roles");
    }
}

TEST(SettingTable, FindsRowsWithOrWithoutPrefix) {
  ASSERT_NE(find_setting("pg_vip.route_tables"), nullptr);
  EXPECT_EQ(find_setting("route_tables"), find_setting("pg_vip.route_tables"));
  EXPECT_EQ(find_setting("pg_vip.check_interval")->type, Type::Int);
  EXPECT_EQ(find_setting("pg_vip.nonsense"), nullptr);
  EXPECT_EQ(find_setting("pg_vip."), nullptr);
  EXPECT_EQ(find_setting(""), nullptr);
  EXPECT_EQ(find_setting("other.route_tables"), nullptr);
  // Registered once its fence moved to the subnet (issue 20).
  ASSERT_NE(find_setting("pg_vip.secondary_ips"), nullptr);
  EXPECT_EQ(find_setting("secondary_ips")->type, Type::List);
}

TEST(SettingTable, UnknownNameListsEverySetting) {
  try {
    normalize("pg_vip.nonsense", "x");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError &e) {
    EXPECT_EQ(std::string(e.what()), "unrecognized pg_vip setting \"pg_vip.nonsense\"");
    for (const auto &s : kSettings)
      EXPECT_NE(e.detail().find(std::string(s.name).substr(7)), std::string::npos) << s.name;
  }
}

TEST(SettingTable, NormalizeRefusesSettingsItDoesNotCheck) {
  // ConfigError, never worse: the fuzz target accepts no other refusal.
  EXPECT_THROW(normalize("pg_vip.check_interval", "10s"), ConfigError);
  EXPECT_THROW(normalize("pg_vip.enabled", "on"), ConfigError);
  EXPECT_THROW(normalize("pg_vip.fence_action", "none"), ConfigError);
  EXPECT_THROW(normalize("pg_vip.fence_allow_roles", "exporter"), ConfigError);
}

TEST(SettingTable, ShowsIntegersAsPostgresqlDoes) {
  const Setting &ms = *find_setting("check_interval");
  EXPECT_EQ(show_int(ms, 10000), "10s");
  EXPECT_EQ(show_int(ms, 100), "100ms");
  EXPECT_EQ(show_int(ms, 1500), "1500ms");
  EXPECT_EQ(show_int(ms, 60000), "1min");
  EXPECT_EQ(show_int(ms, 3600000), "1h");
  EXPECT_EQ(show_int(ms, 86400000), "1d");
  EXPECT_EQ(show_int(ms, 0), "0");
  const Setting &s = *find_setting("dns_ttl");
  EXPECT_EQ(show_int(s, 10), "10s");
  EXPECT_EQ(show_int(s, 90), "90s");
  EXPECT_EQ(show_int(s, 120), "2min");
  EXPECT_EQ(show_int(s, 86400), "1d");
  EXPECT_EQ(show_int(s, 0), "0");
}

TEST(SettingTable, ReadmeCellsOfEachType) {
  EXPECT_EQ(readme_default(*find_setting("enabled")), "on");
  EXPECT_EQ(readme_values(*find_setting("enabled")), "`on`, `off`");
  EXPECT_EQ(readme_default(*find_setting("check_interval")), "10s");
  EXPECT_EQ(readme_values(*find_setting("check_interval")), "`100ms` to `1h`");
  EXPECT_EQ(readme_default(*find_setting("fence_action")), "none");
  EXPECT_EQ(readme_values(*find_setting("fence_action")), "`none`, `reject`, `terminate`");
  EXPECT_EQ(readme_default(*find_setting("vip")), "''");
  EXPECT_EQ(readme_default(*find_setting("imds_endpoint")), "http://169.254.169.254");
  EXPECT_EQ(readme_applies(*find_setting("vip")), "reload");
  EXPECT_EQ(readme_values(*find_setting("dns_ttl")), "`0` to `1d`");
}
