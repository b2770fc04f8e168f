// The region is decided in one place (region.cpp), in the SDKs' order.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "core/region.hpp"

namespace pg_vip::aws {
namespace {

Environment env_of(std::map<std::string, std::string> vars) {
  return [vars](const char *name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(FindRegion, TheSettingComesFirstThenTheEnvironment) {
  auto env = env_of({{"AWS_REGION", "eu-west-1"}, {"AWS_DEFAULT_REGION", "eu-west-2"}});
  RegionChoice r = find_region("us-east-2", env, nullptr);
  EXPECT_EQ(r.region, "us-east-2");
  EXPECT_EQ(r.source, "pg_vip.region");
  r = find_region("", env, nullptr);
  EXPECT_EQ(r.region, "eu-west-1");
  EXPECT_EQ(r.source, "AWS_REGION in the server's environment");
  r = find_region("", env_of({{"AWS_REGION", ""}, {"AWS_DEFAULT_REGION", "eu-west-2"}}), nullptr);
  EXPECT_EQ(r.region, "eu-west-2") << "an empty variable counts as unset";
  EXPECT_EQ(r.source, "AWS_DEFAULT_REGION in the server's environment");
}

TEST(FindRegion, NoSourceGivesNoRegion) {
  RegionChoice r = find_region("", env_of({}), nullptr);
  EXPECT_EQ(r.region, "");
  EXPECT_EQ(r.source, "");
}

}  // namespace
}  // namespace pg_vip::aws
