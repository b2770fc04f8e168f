// Key material in memory: wiped when it dies and never printable by accident
// (no operator<<, no implicit conversion).
//
// Wiping at death is not enough for a std::string: it frees its old buffer
// unwiped each time it grows, and a short one keeps its bytes inside the
// object itself, where no allocator sees them. So a Secret's storage is a
// SecretString, whose allocator wipes every buffer it frees, and Secret wipes
// the in-object bytes too. Plain std::strings that held a secret for a moment
// (an environment variable, an HTTP header) are wiped with wipe(std::string &).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "cpp_only.hpp"

namespace pg_vip {

void wipe(void *data, std::size_t size) noexcept;  // OPENSSL_cleanse: not optimised away

// Wipes a std::string's whole buffer (also what lies past size(), left by
// earlier, longer contents), then empties it. The buffer is kept.
inline void wipe(std::string &s) noexcept {
  s.resize(s.capacity());  // within capacity: writes, never allocates
  wipe(s.data(), s.size());
  s.clear();
}

// An allocator that wipes every block before handing it back to `Base`
// (Base is a parameter so that tests can watch what is freed).
template <typename T, typename Base = std::allocator<T>>
struct WipingAllocator : Base {
  using value_type = T;
  template <typename U>
  struct rebind {
    using other = WipingAllocator<U, typename std::allocator_traits<Base>::template rebind_alloc<U>>;
  };
  WipingAllocator() = default;
  template <typename U, typename B>
  WipingAllocator(const WipingAllocator<U, B> &other) noexcept : Base(static_cast<const B &>(other)) {}

  T *allocate(std::size_t n) { return std::allocator_traits<Base>::allocate(*this, n); }
  void deallocate(T *p, std::size_t n) noexcept {
    wipe(p, n * sizeof(T));
    std::allocator_traits<Base>::deallocate(*this, p, n);
  }
  template <typename U, typename B>
  bool operator==(const WipingAllocator<U, B> &) const noexcept {
    return true;
  }
  template <typename U, typename B>
  bool operator!=(const WipingAllocator<U, B> &) const noexcept {
    return false;
  }
};

template <typename Allocator>
using BasicSecretString = std::basic_string<char, std::char_traits<char>, Allocator>;
using SecretString = BasicSecretString<WipingAllocator<char>>;

template <typename Allocator>
class BasicSecret {
 public:
  BasicSecret() = default;
  explicit BasicSecret(const char *value) : value_(value) {}
  // Copies from storage the caller wipes (or that is not secret).
  explicit BasicSecret(std::string_view value) : value_(value) {}
  // Takes a temporary std::string and wipes it: Secret(std::move(s)) or
  // Secret(f()) leave no copy behind.
  explicit BasicSecret(std::string &&value) : value_(value.data(), value.size()) { wipe(value); }
  BasicSecret(const BasicSecret &other) : value_(other.value_) {}
  BasicSecret(BasicSecret &&other) noexcept : value_(std::move(other.value_)) { other.clear(); }
  BasicSecret &operator=(const BasicSecret &other) {
    if (this != &other) {
      clear();
      value_ = other.value_;
    }
    return *this;
  }
  BasicSecret &operator=(BasicSecret &&other) noexcept {
    if (this != &other) {
      clear();
      value_ = std::move(other.value_);
      other.clear();
    }
    return *this;
  }
  ~BasicSecret() { clear(); }

  std::string_view reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }
  std::size_t size() const noexcept { return value_.size(); }
  void reserve(std::size_t n) { value_.reserve(n); }
  void append(std::string_view more) { value_.append(more); }
  void append(const char *data, std::size_t n) { value_.append(data, n); }
  // The storage itself, NUL-terminated, for parsers that work in place
  // (rapidjson's ParseInsitu) and so make no copy of their own.
  char *data() noexcept { return value_.data(); }
  // Wipes the whole buffer, the bytes kept inside the object included.
  void clear() noexcept {
    value_.resize(value_.capacity());
    wipe(value_.data(), value_.size());
    value_.clear();
  }

 private:
  BasicSecretString<Allocator> value_;
};

using Secret = BasicSecret<WipingAllocator<char>>;

// Reads an open file to its end into `out` with read(2), through a buffer
// wiped afterwards (a stream would keep unwiped copies of its own).
// Returns 0, errno, or E2BIG when the file holds more than `max` bytes.
int read_secret(int fd, Secret &out, std::size_t max);

}  // namespace pg_vip
