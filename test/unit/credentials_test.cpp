// The credential chain and the shared files, without any network.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <string>

#include "common/test_support.hpp"
#include "core/credentials.hpp"
#include "core/error.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;

namespace {

using test_support::env_of;

class TempFiles : public test_support::TempDirTest {
 protected:
  std::string write(const std::string &name, const std::string &text, mode_t mode = 0600) {
    std::string path = dir + "/" + name;
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
    return path;
  }
};

const char *kCredentials = R"(# comment
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = default/secret

; another comment
[ha]
AWS_ACCESS_KEY_ID=AKIDHA
aws_secret_access_key=ha/secret
aws_session_token = ha-token
[broken]
aws_access_key_id = AKIDBROKEN
)";

}  // namespace

TEST(Ini, SectionsKeysAndComments) {
  auto s = parse_ini("# c\n[a]\nK = v \n; c\n[ b ]\nx=1=2\nnot a pair\n");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].name, "a");
  ASSERT_EQ(s[0].values.size(), 1u);
  EXPECT_EQ(s[0].values[0].first, "k");
  EXPECT_EQ(s[0].values[0].second.reveal(), "v");
  EXPECT_EQ(s[1].name, "b");
  EXPECT_EQ(s[1].values[0].second.reveal(), "1=2");
}

TEST_F(TempFiles, ProfilesFromTheCredentialsFile) {
  std::string creds = write("credentials", kCredentials);
  auto d = read_shared_files(creds, "", "default");
  ASSERT_TRUE(d.credentials);
  EXPECT_EQ(d.credentials->access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(d.credentials->secret_access_key.reveal(), "default/secret");
  EXPECT_TRUE(d.credentials->session_token.empty());
  auto ha = read_shared_files(creds, "", "ha");
  ASSERT_TRUE(ha.credentials);
  EXPECT_EQ(ha.credentials->access_key_id, "AKIDHA");
  EXPECT_EQ(ha.credentials->session_token.reveal(), "ha-token");
  EXPECT_FALSE(read_shared_files(creds, "", "absent").credentials);
  EXPECT_TRUE(d.warnings.empty());
}

TEST_F(TempFiles, ConfigFileProfileSection) {
  std::string config = write("config", "[profile ops]\nregion = us-east-1\naws_access_key_id=AKIDOPS\n"
                                       "aws_secret_access_key=ops/secret\n[default]\nregion=eu-west-1\n");
  auto ops = read_shared_files(dir + "/none", config, "ops");
  ASSERT_TRUE(ops.credentials);
  EXPECT_EQ(ops.credentials->access_key_id, "AKIDOPS");
  // [default] in config holds only a region: no credentials, no error.
  EXPECT_FALSE(read_shared_files(dir + "/none", config, "default").credentials);
}

TEST_F(TempFiles, MissingKeyIsAClearErrorWithoutTheSecret) {
  std::string creds = write("credentials", kCredentials);
  try {
    read_shared_files(creds, "", "broken");
    FAIL() << "expected an error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("no aws_secret_access_key"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("broken"), std::string::npos);
  }
  std::string only_secret = write("c2", "[default]\naws_secret_access_key = very/secret/value\n");
  try {
    read_shared_files(only_secret, "", "default");
    FAIL() << "expected an error";
  } catch (const Error &e) {
    EXPECT_EQ(std::string(e.what()).find("very/secret/value"), std::string::npos);
    EXPECT_EQ(e.hint().find("very/secret/value"), std::string::npos);
  }
}

TEST_F(TempFiles, BadPermissionsAreReported) {
  std::string open_file = write("credentials", kCredentials, 0644);
  auto r = read_shared_files(open_file, "", "default");
  ASSERT_TRUE(r.credentials);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("chmod 600"), std::string::npos);

  if (geteuid() == 0) GTEST_SKIP() << "root reads any file; run as another user to test unreadable files";
  std::string closed = write("closed", kCredentials, 0000);
  try {
    read_shared_files(closed, "", "default");
    FAIL() << "expected an error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("Permission denied"), std::string::npos) << e.what();
  }
}

TEST_F(TempFiles, ChainPrefersEnvironmentThenFilesWithProfileChoice) {
  std::string creds = write("credentials", kCredentials);
  Clock clock;
  CredentialProvider from_env({},
                              env_of({{"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                      {"AWS_SECRET_ACCESS_KEY", "env/secret"},
                                      {"AWS_SESSION_TOKEN", "env-token"},
                                      {"AWS_SHARED_CREDENTIALS_FILE", creds}}),
                              nullptr, clock);
  EXPECT_EQ(from_env.get().access_key_id, "AKIDENV");
  EXPECT_EQ(from_env.get().session_token.reveal(), "env-token");
  EXPECT_EQ(from_env.get().source, "environment");

  CredentialProvider by_env_profile(
      {}, env_of({{"AWS_SHARED_CREDENTIALS_FILE", creds}, {"AWS_PROFILE", "ha"}, {"AWS_CONFIG_FILE", dir + "/none"}}),
      nullptr, clock);
  EXPECT_EQ(by_env_profile.get().access_key_id, "AKIDHA");

  // pg_vip.aws_profile wins over AWS_PROFILE.
  CredentialProvider by_setting({"default"}, env_of({{"AWS_SHARED_CREDENTIALS_FILE", creds}, {"AWS_PROFILE", "ha"}}),
                                nullptr, clock);
  EXPECT_EQ(by_setting.get().access_key_id, "AKIDDEFAULT");

  // Half an environment pair is ignored with a warning.
  CredentialProvider half({}, env_of({{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SHARED_CREDENTIALS_FILE", creds}}),
                          nullptr, clock);
  EXPECT_EQ(half.get().access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(half.take_warnings().size(), 1u);
}

TEST_F(TempFiles, NothingFoundSaysWhatWasTried) {
  Clock clock;
  CredentialProvider none({}, env_of({{"HOME", dir}, {"AWS_EC2_METADATA_DISABLED", "true"}}), nullptr, clock);
  try {
    none.get();
    FAIL() << "expected an error";
  } catch (const Error &e) {
    EXPECT_STREQ(e.what(), "no AWS credentials found");
    EXPECT_NE(e.detail().find("environment"), std::string::npos);
    EXPECT_NE(e.detail().find(dir + "/.aws/credentials"), std::string::npos);
    EXPECT_NE(e.detail().find("AWS_EC2_METADATA_DISABLED"), std::string::npos);
    EXPECT_FALSE(e.hint().empty());
  }
}

TEST(Secret, WipedOnClearAndMove) {
  Secret a("top secret");
  Secret b(std::move(a));
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(b.reveal(), "top secret");
  b.clear();
  EXPECT_TRUE(b.empty());
}
