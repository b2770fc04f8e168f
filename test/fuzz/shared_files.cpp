// libFuzzer target: the shared credentials and config files (~/.aws/credentials,
// ~/.aws/config), as the credential chain reads them: parse_ini, then
// read_shared_files for the default profile and for the profiles the files
// name. The input is the credentials file, then optionally a NUL byte and the
// config file; both are handed over as real files (memfd, no disk I/O).
// Expected refusal: Error (a profile with only one of its two keys).
#include <sys/mman.h>
#include <unistd.h>

#include "core/credentials.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "fuzz/support.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;

namespace {

// A file whose contents each input replaces; its path is /proc/self/fd/N.
class MemFile {
 public:
  explicit MemFile(const char *name) : fd_(memfd_create(name, 0)) {
    if (fd_ < 0) std::abort();
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  const std::string &write(const std::string &text) {
    if (ftruncate(fd_, 0) != 0) std::abort();
    if (!text.empty() && pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) std::abort();
    return path_;
  }

 private:
  int fd_;
  std::string path_;
};

void check_ini(const std::vector<IniSection> &sections) {
  for (const auto &s : sections) {
    FUZZ_CHECK(trim(s.name) == s.name);
    for (const auto &kv : s.values) {
      FUZZ_CHECK(trim(kv.first) == kv.first && trim(kv.second.reveal()) == kv.second.reveal());
      for (char c : kv.first) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));  // keys are lower-cased
    }
  }
}

void read_profile(const std::string &credentials, const std::string &config, const std::string &profile) {
  try {
    SharedFileResult r = read_shared_files(credentials, config, profile);
    if (r.credentials) {
      FUZZ_CHECK(!r.credentials->access_key_id.empty());
      FUZZ_CHECK(!r.credentials->secret_access_key.empty());
    }
  } catch (const Error &) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
  static MemFile credentials_file("credentials"), config_file("config");
  const std::string input = fuzz::text(data, size);
  const auto nul = input.find('\0');
  const std::string credentials = input.substr(0, nul);
  const bool has_config = nul != std::string::npos;
  const std::string config = has_config ? input.substr(nul + 1) : std::string();

  auto credential_sections = parse_ini(credentials);
  auto config_sections = parse_ini(config);
  check_ini(credential_sections);
  check_ini(config_sections);

  const std::string &credentials_path = credentials_file.write(credentials);
  const std::string config_path = has_config ? config_file.write(config) : std::string();
  read_profile(credentials_path, config_path, "default");
  // The first profile each file names (at most a few: each is a full read).
  if (!credential_sections.empty()) read_profile(credentials_path, config_path, credential_sections.front().name);
  if (!config_sections.empty()) {
    const std::string &name = config_sections.front().name;
    read_profile(credentials_path, config_path, name.rfind("profile ", 0) == 0 ? name.substr(8) : name);
  }
  return 0;
}
