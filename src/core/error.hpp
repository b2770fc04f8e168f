// The errors the core throws. The glue turns each into an ereport through the
// door (src/glue/door.hpp); nothing here knows about PostgreSQL.
#pragma once

#include <stdexcept>
#include <string>

#include "cpp_only.hpp"

namespace pg_vip {

// Base of every error the core throws on purpose. `detail` and `hint` follow
// PostgreSQL's message style: full sentences, or empty.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string &message, std::string detail = {}, std::string hint = {})
      : std::runtime_error(message), detail_(std::move(detail)), hint_(std::move(hint)) {}
  const std::string &detail() const noexcept { return detail_; }
  const std::string &hint() const noexcept { return hint_; }

 private:
  std::string detail_;
  std::string hint_;
};

// A setting or argument that does not have the expected form.
class ConfigError : public Error {
 public:
  using Error::Error;
};

}  // namespace pg_vip
