// pg_vip.fence_key_file: a secret file, refused when others may read it.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "core/error.hpp"
#include "core/fence_key.hpp"

using namespace pg_vip;

namespace {

struct KeyFile {
  std::string path;
  explicit KeyFile(const std::string &contents, mode_t mode = 0600) {
    char tmpl[] = "/tmp/pg_vip_fence_key_XXXXXX";
    int fd = mkstemp(tmpl);
    path = tmpl;
    if (fd >= 0) {
      if (write(fd, contents.data(), contents.size()) != static_cast<ssize_t>(contents.size())) path.clear();
      close(fd);
    }
    chmod(path.c_str(), mode);
  }
  ~KeyFile() { unlink(path.c_str()); }
};

std::string refusal(const std::function<void()> &f) {
  try {
    f();
  } catch (const Error &e) {
    return std::string(e.what()) + " | " + e.detail() + " | " + e.hint();
  }
  return "";
}

}  // namespace

TEST(FenceKey, ReadsTheKeyWithoutItsLineBreak) {
  KeyFile f("c2VjcmV0LWtleS1mb3ItdGhlLWNsdXN0ZXI=\n");
  EXPECT_EQ(refusal([&] { check_fence_key_file(f.path); }), "");
  EXPECT_EQ(read_fence_key(f.path).reveal(), "c2VjcmV0LWtleS1mb3ItdGhlLWNsdXN0ZXI=");
}

TEST(FenceKey, RefusesAKeyOthersMayRead) {
  KeyFile f("c2VjcmV0LWtleS1mb3ItdGhlLWNsdXN0ZXI=", 0640);
  EXPECT_NE(refusal([&] { check_fence_key_file(f.path); }).find("Other users may read or write the fence key"),
            std::string::npos);
  EXPECT_NE(refusal([&] { read_fence_key(f.path); }).find("chmod 600"), std::string::npos);
}

TEST(FenceKey, RefusesWhatIsNotAKey) {
  KeyFile shortkey("short\n");
  EXPECT_NE(refusal([&] { read_fence_key(shortkey.path); }).find("shorter than 16 bytes"), std::string::npos);
  KeyFile big(std::string(5000, 'k'));
  EXPECT_NE(refusal([&] { read_fence_key(big.path); }).find("longer than 4096 bytes"), std::string::npos);
  EXPECT_NE(refusal([] { check_fence_key_file("relative/key"); }).find("absolute path"), std::string::npos);
  EXPECT_NE(refusal([] { check_fence_key_file("/tmp"); }).find("not a regular file"), std::string::npos);
  EXPECT_NE(refusal([] { read_fence_key("/nonexistent/pg_vip.key"); }).find("No such file"), std::string::npos);
  EXPECT_EQ(refusal([] { check_fence_key_file(""); }), "") << "no key: allowed";
}
