// $PGDATA/pg_vip.fence: its fields survive any holder name, and what stands
// at its names in the data directory is neither followed, waited on, nor
// trusted unless it is the server user's own small regular file.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/fence_file.hpp"

using namespace pg_vip;
using fence_file::Fence;
using fence_file::Found;

namespace {

// A directory of its own per test, removed afterwards.
class FenceFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pg_vip_fence_file_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const char *name) const { return dir_ + "/" + name; }

  static void put(const std::string &file, const std::string &text) { std::ofstream(file) << text; }
  static std::string get(const std::string &file) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::string dir_;
};

std::optional<Fence> round_trip(const std::string &holder, uint32_t timeline) {
  return fence_file::parse(fence_file::format(Fence{holder, timeline}));
}

}  // namespace

TEST(FenceFileText, WritesOneFieldPerLine) {
  EXPECT_EQ(fence_file::format(Fence{"node-b", 2}), "holder=node-b\ntimeline=2\n");
  auto f = fence_file::parse("holder=node-b\ntimeline=2\n");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->holder, "node-b");
  EXPECT_EQ(f->holder_timeline, 2u);
}

TEST(FenceFileText, ALineBreakInTheHolderCannotAddAField) {
  for (const char *holder : {"evil\ntimeline=99", "x\nholder=y", "a\n", "\n\n", "a\rtimeline=7"}) {
    auto f = round_trip(holder, 2);
    ASSERT_TRUE(f) << holder;
    EXPECT_EQ(f->holder, holder);
    EXPECT_EQ(f->holder_timeline, 2u) << holder;
    std::string text = fence_file::format(Fence{holder, 2});
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  }
}

TEST(FenceFileText, EveryByteOfAHolderSurvives) {
  std::string every;
  for (int c = 1; c < 256; ++c) every += static_cast<char>(c);
  for (const std::string &holder : {every, std::string("back\\slash\\n"), std::string("\\x41"), std::string()}) {
    auto f = round_trip(holder, 4294967295u);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->holder, holder);
    EXPECT_EQ(f->holder_timeline, 4294967295u);
  }
}

TEST(FenceFileText, WhatItDidNotWriteIsRefused) {
  for (const char *text : {
           "",                                    // no field
           "garbage",                             // no '='
           "holder=a\n",                          // no timeline
           "timeline=2\n",                        // no holder
           "holder=a\nholder=b\ntimeline=1\n",    // a field twice
           "holder=a\ntimeline=1\ntimeline=1\n",  // a field twice
           "holder=a\ntimeline=\n",               // empty number
           "holder=a\ntimeline=x2\n",             // not a number
           "holder=a\ntimeline=-1\n",             // not a number
           "holder=a\ntimeline=4294967296\n",     // beyond 32 bits
           "holder=a\\q\ntimeline=1\n",           // unknown escape
           "holder=a\\x4\ntimeline=1\n",          // short escape
           "holder=a\\\ntimeline=1\n",            // a lone backslash
           "holder=a\tb\ntimeline=1\n",           // a raw control character
           "holder=a\rb\ntimeline=1\n",           // a raw carriage return
       }) {
    EXPECT_FALSE(fence_file::parse(text)) << text;
  }
}

TEST(FenceFileText, AFieldOfAnotherNameIsSkipped) {
  auto f = fence_file::parse("holder=a\nsince=1700000000\ntimeline=3\n");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->holder, "a");
  EXPECT_EQ(f->holder_timeline, 3u);
  f = fence_file::parse("holder=a\ntimeline=3");  // no final line break
  ASSERT_TRUE(f);
  EXPECT_EQ(f->holder_timeline, 3u);
}

TEST_F(FenceFileTest, NothingThereIsNone) {
  auto c = fence_file::read(path("pg_vip.fence").c_str());
  EXPECT_EQ(c.found, Found::kNone);
}

TEST_F(FenceFileTest, ReadsItsOwnSmallRegularFile) {
  put(path("pg_vip.fence"), "holder=node-b\ntimeline=2\n");
  auto c = fence_file::read(path("pg_vip.fence").c_str());
  EXPECT_EQ(c.found, Found::kFile) << c.why;
  EXPECT_EQ(c.text, "holder=node-b\ntimeline=2\n");
  put(path("pg_vip.fence"), std::string(fence_file::kMaxBytes, 'x'));
  c = fence_file::read(path("pg_vip.fence").c_str());
  EXPECT_EQ(c.found, Found::kFile) << c.why;
  EXPECT_EQ(c.text.size(), fence_file::kMaxBytes);
}

TEST_F(FenceFileTest, ASymlinkIsNotFollowed) {
  put(path("elsewhere"), "holder=planted\ntimeline=9\n");
  ASSERT_EQ(symlink(path("elsewhere").c_str(), path("pg_vip.fence").c_str()), 0);
  auto c = fence_file::read(path("pg_vip.fence").c_str());
  EXPECT_EQ(c.found, Found::kRefused);
  EXPECT_EQ(c.text, "");
  EXPECT_EQ(c.why, "It is a symbolic link.");
}

TEST_F(FenceFileTest, AFifoIsRefusedWithoutWaitingForAWriter) {
  ASSERT_EQ(mkfifo(path("pg_vip.fence").c_str(), 0600), 0);
  auto c = fence_file::read(path("pg_vip.fence").c_str());  // before O_NONBLOCK: never returned
  EXPECT_EQ(c.found, Found::kRefused);
  EXPECT_EQ(c.why, "It is not a regular file.");
}

TEST_F(FenceFileTest, ADirectoryIsRefused) {
  ASSERT_EQ(mkdir(path("pg_vip.fence").c_str(), 0700), 0);
  auto c = fence_file::read(path("pg_vip.fence").c_str());
  EXPECT_EQ(c.found, Found::kRefused);
  EXPECT_EQ(c.why, "It is not a regular file.");
}

TEST_F(FenceFileTest, ALargerFileIsRefused) {
  put(path("pg_vip.fence"), "holder=big\ntimeline=2\n" + std::string(fence_file::kMaxBytes, 'x'));
  auto c = fence_file::read(path("pg_vip.fence").c_str());
  EXPECT_EQ(c.found, Found::kRefused);
  EXPECT_EQ(c.why, "It is larger than 4096 bytes.");
  EXPECT_EQ(c.text, "");
}

TEST_F(FenceFileTest, AnotherUsersFileIsRefused) {
  // Root gives a file away; anyone else reads one root owns (the ownership
  // check comes before the size check, so its length does not matter).
  std::string other = "/etc/passwd";
  if (geteuid() == 0) {
    other = path("pg_vip.fence");
    put(other, "holder=node-b\ntimeline=2\n");
    ASSERT_EQ(chown(other.c_str(), 65534, 65534), 0);
  }
  struct stat st;
  ASSERT_EQ(lstat(other.c_str(), &st), 0);
  ASSERT_NE(st.st_uid, geteuid());
  auto c = fence_file::read(other.c_str());
  EXPECT_EQ(c.found, Found::kRefused);
  EXPECT_EQ(c.why, "It is not owned by the operating system user running PostgreSQL.");
}

TEST_F(FenceFileTest, WritesANewFileOfMode600AndLeavesNoTemporaryOne) {
  put(path("pg_vip.fence"), "holder=old\ntimeline=1\n");
  EXPECT_EQ(fence_file::write(path("pg_vip.fence.tmp").c_str(), path("pg_vip.fence").c_str(), "new text\n"), "");
  EXPECT_EQ(get(path("pg_vip.fence")), "new text\n");
  struct stat st;
  ASSERT_EQ(lstat(path("pg_vip.fence").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(lstat(path("pg_vip.fence.tmp").c_str(), &st), 0);
}

TEST_F(FenceFileTest, ASymlinkAtTheTemporaryNameIsRemovedNotWrittenThrough) {
  put(path("victim"), "precious\n");
  ASSERT_EQ(symlink(path("victim").c_str(), path("pg_vip.fence.tmp").c_str()), 0);
  EXPECT_EQ(fence_file::write(path("pg_vip.fence.tmp").c_str(), path("pg_vip.fence").c_str(), "fence\n"), "");
  EXPECT_EQ(get(path("victim")), "precious\n");
  struct stat st;
  ASSERT_EQ(lstat(path("pg_vip.fence").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode)) << "the link was renamed into place";
  EXPECT_EQ(get(path("pg_vip.fence")), "fence\n");
}

TEST_F(FenceFileTest, AFifoAtEitherNameIsReplaced) {
  ASSERT_EQ(mkfifo(path("pg_vip.fence.tmp").c_str(), 0600), 0);
  ASSERT_EQ(mkfifo(path("pg_vip.fence").c_str(), 0600), 0);
  EXPECT_EQ(fence_file::write(path("pg_vip.fence.tmp").c_str(), path("pg_vip.fence").c_str(), "fence\n"), "");
  EXPECT_EQ(fence_file::read(path("pg_vip.fence").c_str()).text, "fence\n");
}

TEST_F(FenceFileTest, AFailureSaysWhatFailed) {
  std::string missing = path("no_such_dir/pg_vip.fence");
  std::string why = fence_file::write((missing + ".tmp").c_str(), missing.c_str(), "fence\n");
  EXPECT_EQ(why, "Creating \"" + missing + ".tmp\" failed: No such file or directory.");
}
