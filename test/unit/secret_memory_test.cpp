// Key material leaves no unwiped copy behind in freed memory: the shared
// credentials files, the environment, the instance role's JSON, the signer
// and the HTTP values that carry a token. freed_memory.hpp searches every
// block freed through operator delete for the secret while a path runs.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/test_support.hpp"
#include "core/credentials.hpp"
#include "core/http_client.hpp"
#include "core/imds.hpp"
#include "core/secret.hpp"
#include "core/sigv4.hpp"
#include "integration/freed_memory.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;

namespace {

// Longer than a std::string keeps in itself, as real keys are: their copies
// live on the heap, where the watch sees them.
const char *kKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzFREEDMEM01";
const char *kToken = "IQoJb3JpZ2luX2VjEFREEDMEMORYTOKENxyzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/==";

class SecretFiles : public test_support::TempDirTest {
 protected:
  std::string write(const std::string &name, const std::string &text) {
    std::string path = dir + "/" + name;
    std::ofstream(path) << text;
    chmod(path.c_str(), 0600);
    return path;
  }
};

}  // namespace

TEST(FreedMemoryWatch, SeesAnUnwipedCopy) {
  // The watch itself: a plain std::string freed with the needle in it is a hit.
  int hits;
  {
    freed_memory::Watch watch({kKey});
    { std::string copy(kKey); }
    hits = watch.stop();
  }
  EXPECT_EQ(hits, 1);
}

TEST_F(SecretFiles, SharedFileSecretsLeaveNoUnwipedCopy) {
  std::string path =
      write("credentials", std::string("[other]\nregion = x\n[default]\naws_access_key_id = AKIDFREED\n") +
                               "aws_secret_access_key = " + kKey + "\naws_session_token = " + kToken +
                               "\n# trailing comment\n");
  std::string none = dir + "/missing";
  bool read = false;
  int hits;
  {
    freed_memory::Watch watch({kKey, kToken});
    {
      SharedFileResult r = read_shared_files(path, none, "default");
      read = r.credentials && r.credentials->secret_access_key.reveal() == kKey &&
             r.credentials->session_token.reveal() == kToken;
    }
    hits = watch.stop();
  }
  EXPECT_TRUE(read);
  EXPECT_EQ(hits, 0) << "copies of the key or token freed unwiped";
}

TEST(SecretEnvironment, EnvironmentSecretsLeaveNoUnwipedCopy) {
  Clock clock;
  Environment env = test_support::env_of(
      {{"AWS_ACCESS_KEY_ID", "AKIDFREED"}, {"AWS_SECRET_ACCESS_KEY", kKey}, {"AWS_SESSION_TOKEN", kToken}});
  CredentialProvider provider({}, env, nullptr, clock);
  bool read = false;
  int hits;
  {
    freed_memory::Watch watch({kKey, kToken});
    const Credentials &c = provider.get();
    read = c.secret_access_key.reveal() == kKey && c.session_token.reveal() == kToken && c.source == "environment";
    provider.invalidate();
    hits = watch.stop();
  }
  EXPECT_TRUE(read);
  EXPECT_EQ(hits, 0);
}

TEST(SecretImds, RoleCredentialsJsonLeavesNoUnwipedCopy) {
  const std::string json = std::string(R"({"Code":"Success","LastUpdated":"2026-01-01T00:00:00Z","Type":"AWS-HMAC",)") +
                           R"("AccessKeyId":"ASIAFREED","SecretAccessKey":")" + kKey + R"(","Token":")" + kToken +
                           R"(","Expiration":"2030-01-01T00:00:00Z"})";
  bool read = false;
  int hits;
  {
    freed_memory::Watch watch({kKey, kToken});
    {
      Credentials c = parse_role_credentials(json, "pg-vip-role");
      read = c.secret_access_key.reveal() == kKey && c.session_token.reveal() == kToken;
    }
    hits = watch.stop();
  }
  EXPECT_TRUE(read);
  EXPECT_EQ(hits, 0);
}

TEST(SecretHttp, HeadersAndResponsesAreWipedWhenTheyDie) {
  const std::string token(kToken);
  int hits;
  {
    freed_memory::Watch watch({kToken});
    {
      std::vector<http::Header> headers;
      headers.push_back({"X-Amz-Security-Token", token});
      headers.push_back({"X-aws-ec2-metadata-token", token});
      std::vector<http::Header> copy = headers;
      http::Request r;
      r.headers = std::move(copy);
      http::Response resp;
      resp.body.reserve(token.size() + 16);  // one buffer: operator+ would free partial copies itself
      resp.body.append(R"({"Token":")").append(token).append("\"}");
      http::Response moved = std::move(resp);
      std::vector<http::Response> all;
      all.push_back(moved);
    }
    hits = watch.stop();
  }
  EXPECT_EQ(hits, 0);
}

TEST(SecretSigning, SigningLeavesNoUnwipedCopyOfTheKeyOrToken) {
  Credentials c;
  c.access_key_id = "ASIAFREED";
  c.secret_access_key = Secret(kKey);
  c.session_token = Secret(kToken);
  SigningParams p;
  p.region = "us-east-1";
  p.service = "ec2";
  p.time = Clock::time_point(std::chrono::seconds(1767225600));
  std::string aws4_key = std::string("AWS4") + kKey;
  bool signed_ok = false;
  int hits;
  {
    freed_memory::Watch watch({kToken, aws4_key});
    {
      SignableRequest r;
      r.method = "POST";
      r.path = "/";
      r.headers = {{"Host", "ec2.us-east-1.amazonaws.com"},
                   {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
      r.body = "Action=DescribeRouteTables&Version=2016-11-15";
      Signature sig = sign(r, c, p);
      signed_ok = sig.signature.size() == 64 && http::find_header(r.headers, "X-Amz-Security-Token");
    }
    hits = watch.stop();
  }
  EXPECT_TRUE(signed_ok);
  EXPECT_EQ(hits, 0);
}

namespace {

// An allocator that notes, for each block handed back, whether it was all
// zero bytes: the base under test of WipingAllocator.
struct Ledger {
  int freed = 0;
  int dirty = 0;
};
Ledger ledger;

template <typename T>
struct CheckingAllocator {
  using value_type = T;
  CheckingAllocator() = default;
  template <typename U>
  CheckingAllocator(const CheckingAllocator<U> &) noexcept {}
  T *allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T *p, std::size_t n) noexcept {
    const auto *bytes = reinterpret_cast<const unsigned char *>(p);
    bool zero = true;
    for (std::size_t i = 0; i < n * sizeof(T); ++i) zero &= bytes[i] == 0;
    ++ledger.freed;
    ledger.dirty += zero ? 0 : 1;
    std::allocator<T>().deallocate(p, n);
  }
  template <typename U>
  bool operator==(const CheckingAllocator<U> &) const noexcept {
    return true;
  }
  template <typename U>
  bool operator!=(const CheckingAllocator<U> &) const noexcept {
    return false;
  }
};

using CheckedString = BasicSecretString<WipingAllocator<char, CheckingAllocator<char>>>;
using CheckedSecret = BasicSecret<WipingAllocator<char, CheckingAllocator<char>>>;

bool holds(const unsigned char *storage, std::size_t size, std::string_view needle) {
  return std::search(storage, storage + size, needle.begin(), needle.end()) != storage + size;
}

}  // namespace

// The key material of the whole path is in Secrets, by type.
static_assert(std::is_same_v<decltype(Credentials::secret_access_key), Secret>);
static_assert(std::is_same_v<decltype(Credentials::session_token), Secret>);
static_assert(std::is_same_v<decltype(IniSection::values)::value_type::second_type, Secret>);
static_assert(std::is_same_v<decltype(std::declval<ImdsClient &>().get_secret("")), Secret>);
static_assert(std::is_same_v<decltype(std::declval<const Secret &>().reveal()), std::string_view>);

TEST(WipingAllocator, TheCheckingBaseSeesADirtyBlock) {
  ledger = {};
  { std::basic_string<char, std::char_traits<char>, CheckingAllocator<char>> plain(kKey); }
  EXPECT_EQ(ledger.freed, 1);
  EXPECT_EQ(ledger.dirty, 1);
}

TEST(WipingAllocator, EveryBlockIsZeroWhenFreedAlsoWhileGrowing) {
  ledger = {};
  {
    CheckedString s;
    for (int i = 0; i < 64; ++i) s.append(kKey);  // several reallocations
    CheckedString copy = s;
    copy.shrink_to_fit();
  }
  EXPECT_GE(ledger.freed, 4);
  EXPECT_EQ(ledger.dirty, 0);
}

TEST(WipingAllocator, SecretsGrowAndDieWithoutADirtyBlock) {
  ledger = {};
  {
    CheckedSecret a("AWS4");
    a.append(kKey);
    a.append(kToken);
    CheckedSecret b = a;
    CheckedSecret c(std::move(b));
    a = c;
    a.clear();
  }
  EXPECT_GE(ledger.freed, 2);
  EXPECT_EQ(ledger.dirty, 0);
}

TEST(SecretStorage, AShortSecretLeavesNothingInTheObjectItself) {
  // Short values live inside the std::string object, where no allocator sees
  // them: the Secret wipes them itself when it dies.
  alignas(Secret) unsigned char storage[sizeof(Secret)];
  auto *s = new (storage) Secret("k9/short");
  EXPECT_EQ(s->reveal(), "k9/short");
  EXPECT_TRUE(holds(storage, sizeof storage, "k9/short"));
  s->~Secret();
  EXPECT_FALSE(holds(storage, sizeof storage, "k9/short"));
  EXPECT_FALSE(holds(storage, sizeof storage, "k9/"));
}

TEST(SecretStorage, AMovedFromSecretKeepsNothing) {
  alignas(Secret) unsigned char storage[sizeof(Secret)];
  auto *from = new (storage) Secret("k9/short");
  Secret to(std::move(*from));
  EXPECT_FALSE(holds(storage, sizeof storage, "k9/"));
  EXPECT_EQ(to.reveal(), "k9/short");
  from->~Secret();
}

TEST(SecretStorage, ATemporaryStringIsWipedWhenTakenShortOrLong) {
  alignas(std::string) unsigned char storage[sizeof(std::string)];
  auto *plain = new (storage) std::string("k9/short");
  {
    Secret s(std::move(*plain));
    EXPECT_EQ(s.reveal(), "k9/short");
  }
  EXPECT_FALSE(holds(storage, sizeof storage, "k9/"));
  plain->~basic_string();

  int hits;
  {
    std::string key(kKey);
    freed_memory::Watch watch({kKey});
    {
      Secret s(std::move(key));
      std::string gone = std::move(key);
    }
    hits = watch.stop();
  }
  EXPECT_EQ(hits, 0);
}

TEST(SecretStorage, WipeOfAStringClearsItsWholeBuffer) {
  int hits;
  {
    std::string s(kToken);
    s.resize(4);  // the rest of the token still lies in the buffer, past size()
    freed_memory::Watch watch({std::string_view(kToken).substr(8, 40)});
    wipe(s);
    EXPECT_TRUE(s.empty());
    { std::string gone = std::move(s); }
    hits = watch.stop();
  }
  EXPECT_EQ(hits, 0);
}
