// Shared by the libFuzzer targets in this folder (one .cpp per target, each
// calling the core's public functions on outside input).
//
// What counts as a finding: a crash, a sanitizer report (ASan, UBSan), an
// exception other than the core's typed ones (pg_vip::Error and its
// subclasses ConfigError and aws::AwsFailure) escaping, a hang (libFuzzer's
// -timeout), or a property below that does not hold (FUZZ_CHECK aborts).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

// A property every input must keep; its violation is a finding like a crash.
#define FUZZ_CHECK(cond)                                                                       \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "fuzz property violated: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)

namespace fuzz {

inline std::string text(const uint8_t *data, std::size_t size) {
  return std::string(reinterpret_cast<const char *>(data), size);
}

// The input cut at NUL bytes: "a\0b\0c" is {"a", "b", "c"}. Lets one input
// carry several strings (a template and its values, two files) while its
// first part stays readable text in the seed corpus.
inline std::vector<std::string> split_nul(const std::string &input) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    auto nul = input.find('\0', start);
    parts.push_back(input.substr(start, nul == std::string::npos ? std::string::npos : nul - start));
    if (nul == std::string::npos) break;
    start = nul + 1;
  }
  return parts;
}

}  // namespace fuzz
