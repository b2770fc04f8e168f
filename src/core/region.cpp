#include "region.hpp"

#include "imds.hpp"
#include "text.hpp"

namespace pg_vip::aws {

RegionChoice find_region(const std::string &configured, const Environment &env, ImdsClient *imds) {
  if (!configured.empty()) return {configured, "pg_vip.region"};
  for (const char *name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    std::string value = env(name).value_or("");
    if (!value.empty()) return {value, std::string(name) + " in the server's environment"};
  }
  if (imds) return {std::string(trim(imds->region())), "instance metadata"};
  return {};
}

}  // namespace pg_vip::aws
