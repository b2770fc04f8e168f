// A string that holds key material: wiped from memory when it dies and never
// printable by accident (no operator<<, no implicit conversion).
#pragma once

#include <string>
#include <utility>

#include "cpp_only.hpp"

namespace pg_vip {

void wipe(void *data, std::size_t size) noexcept;  // OPENSSL_cleanse: not optimised away

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret &other) : value_(other.value_) {}
  Secret(Secret &&other) noexcept : value_(std::move(other.value_)) { other.clear(); }
  Secret &operator=(const Secret &other) {
    if (this != &other) {
      clear();
      value_ = other.value_;
    }
    return *this;
  }
  Secret &operator=(Secret &&other) noexcept {
    if (this != &other) {
      clear();
      value_ = std::move(other.value_);
      other.clear();
    }
    return *this;
  }
  ~Secret() { clear(); }

  const std::string &reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }
  void clear() noexcept {
    wipe(value_.data(), value_.size());
    value_.clear();
  }

 private:
  std::string value_;
};

}  // namespace pg_vip
