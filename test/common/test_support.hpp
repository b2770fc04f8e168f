// Helpers shared by the unit and integration tests.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <map>
#include <optional>
#include <string>

#include "core/credentials.hpp"

namespace test_support {

// An environment holding exactly these variables.
inline pg_vip::aws::Environment env_of(std::map<std::string, std::string> vars) {
  return [vars](const char *name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// A fixture with a fresh temporary directory, removed afterwards.
class TempDirTest : public testing::Test {
 protected:
  std::string dir;
  void SetUp() override {
    char tmpl[] = "/tmp/pg_vip_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override { (void) !system(("rm -rf '" + dir + "'").c_str()); }
};

}  // namespace test_support
