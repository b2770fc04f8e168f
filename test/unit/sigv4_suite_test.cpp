// AWS's official SigV4 test suite, header signing: every case's canonical
// request, string to sign and signature, byte for byte. The cases are read at
// run time from $PG_VIP_SIGV4_SUITE (scripts/test.sh points it at the team's
// shared copy); without them the cases are reported as skipped.
#include <dirent.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/sigv4.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;

namespace {

std::string read(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Parses request.txt: "METHOD target HTTP/1.1", headers (a line starting
// with white space continues the previous value), a blank line, the body.
SignableRequest parse_request(const std::string &text) {
  SignableRequest r;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  auto sp1 = line.find(' ');
  auto sp2 = line.rfind(' ');
  r.method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  auto q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  while (std::getline(in, line)) {
    if (line.empty()) break;
    if ((line[0] == ' ' || line[0] == '\t') && !r.headers.empty()) {
      r.headers.back().value += "\n" + line;
      continue;
    }
    auto colon = line.find(':');
    r.headers.push_back({line.substr(0, colon), line.substr(colon + 1)});
  }
  std::stringstream rest;
  rest << in.rdbuf();
  r.body = rest.str();
  return r;
}

struct Case {
  std::string dir;
};

class SuiteCase : public testing::Test {
 public:
  explicit SuiteCase(std::string dir) : dir_(std::move(dir)) {}
  void TestBody() override {
    rapidjson::Document ctx;
    std::string json = read(dir_ + "/context.json");
    ctx.Parse(json.c_str());
    ASSERT_FALSE(ctx.HasParseError()) << dir_;
    Credentials creds;
    creds.access_key_id = ctx["credentials"]["access_key_id"].GetString();
    creds.secret_access_key = Secret(ctx["credentials"]["secret_access_key"].GetString());
    if (ctx["credentials"].HasMember("token")) creds.session_token = Secret(ctx["credentials"]["token"].GetString());
    SigningParams p;
    p.region = ctx["region"].GetString();
    p.service = ctx["service"].GetString();
    p.time = parse_iso8601(ctx["timestamp"].GetString());
    p.normalize_path = ctx["normalize"].GetBool();
    p.sign_body = ctx["sign_body"].GetBool();
    p.omit_session_token = ctx.HasMember("omit_session_token") && ctx["omit_session_token"].GetBool();

    SignableRequest req = parse_request(read(dir_ + "/request.txt"));
    Signature sig = sign(req, creds, p);
    EXPECT_EQ(sig.canonical_request, read(dir_ + "/header-canonical-request.txt"));
    EXPECT_EQ(sig.string_to_sign, read(dir_ + "/header-string-to-sign.txt"));
    EXPECT_EQ(sig.signature, read(dir_ + "/header-signature.txt"));
    std::string signed_request = read(dir_ + "/header-signed-request.txt");
    EXPECT_NE(signed_request.find("Authorization:" + sig.authorization), std::string::npos)
        << "the Authorization header differs from the suite's signed request";
  }

 private:
  std::string dir_;
};

class SuiteMissing : public testing::Test {
 public:
  explicit SuiteMissing(std::string why) : why_(std::move(why)) {}
  void TestBody() override { GTEST_SKIP() << why_; }

 private:
  std::string why_;
};

}  // namespace

int sigv4_cases_registered = 0;

// Called from main() before RUN_ALL_TESTS: one test per case found.
void register_sigv4_suite() {
  const char *env = std::getenv("PG_VIP_SIGV4_SUITE");
  std::string root = env && *env ? env : "../shared/testdata/aws-sigv4-test-suite";
  std::vector<std::string> cases;
  if (DIR *d = opendir(root.c_str())) {
    while (dirent *e = readdir(d)) {
      std::string dir = root + "/" + e->d_name;
      struct stat st;
      if (e->d_name[0] != '.' && stat((dir + "/context.json").c_str(), &st) == 0) cases.push_back(e->d_name);
    }
    closedir(d);
  }
  std::sort(cases.begin(), cases.end());
  if (cases.empty()) {
    std::string why = "the SigV4 test suite was not found at " + root + " (set PG_VIP_SIGV4_SUITE)";
    testing::RegisterTest("SigV4Suite", "CasesMissing", nullptr, nullptr, __FILE__, __LINE__,
                          [why]() -> testing::Test * { return new SuiteMissing(why); });
    std::printf("SigV4 suite: 0 cases found, skipped: %s\n", why.c_str());
    return;
  }
  for (const auto &name : cases) {
    std::string dir = root + "/" + name;
    testing::RegisterTest("SigV4Suite", name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                          [dir]() -> testing::Test * { return new SuiteCase(dir); });
  }
  sigv4_cases_registered = static_cast<int>(cases.size());
  std::printf("SigV4 suite: %d cases found in %s\n", sigv4_cases_registered, root.c_str());
}

// Prints how many suite cases passed, so the test command shows the count.
class SuiteCounter : public testing::EmptyTestEventListener {
  void OnTestProgramEnd(const testing::UnitTest &unit) override {
    int passed = 0, failed = 0, skipped = 0;
    for (int i = 0; i < unit.total_test_suite_count(); ++i) {
      const testing::TestSuite *s = unit.GetTestSuite(i);
      if (std::string(s->name()) != "SigV4Suite") continue;
      for (int j = 0; j < s->total_test_count(); ++j) {
        const testing::TestResult *r = s->GetTestInfo(j)->result();
        if (r->Skipped()) ++skipped;
        else if (r->Failed()) ++failed;
        else ++passed;
      }
    }
    std::printf("SigV4 suite: %d cases passed, %d failed, %d skipped\n", passed, failed, skipped);
  }
};

void add_sigv4_counter() { testing::UnitTest::GetInstance()->listeners().Append(new SuiteCounter); }

// Cases the project writes itself: the EC2 form post pg_vip sends.
TEST(SigV4, Ec2FormPostSignsHostDateAndContentType) {
  SignableRequest r;
  r.method = "POST";
  r.path = "/";
  r.body = "Action=DescribeRouteTables&Version=2016-11-15";
  r.headers = {{"Host", "127.0.0.1:8080"}, {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  Credentials c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  c.session_token = Secret("TOKEN");
  SigningParams p{"us-east-1", "ec2", parse_iso8601("2015-08-30T12:36:00Z")};
  Signature s = sign(r, c, p);
  EXPECT_NE(s.authorization.find("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,"),
            std::string::npos);
  EXPECT_NE(s.authorization.find("Credential=AKIDEXAMPLE/20150830/us-east-1/ec2/aws4_request"), std::string::npos);
  EXPECT_EQ(http::find_header(r.headers, "x-amz-security-token")->value, "TOKEN");
  EXPECT_EQ(s.signature.size(), 64u);
  // The secret never appears in anything the signer returns.
  for (const auto *text : {&s.canonical_request, &s.string_to_sign, &s.authorization})
    EXPECT_EQ(text->find("wJalrXUtnFEMI"), std::string::npos);
}

TEST(SigV4, RefusesToSignWithoutCredentialsOrHost) {
  SignableRequest r{"GET", "/", "", {{"Host", "h"}}, ""};
  SigningParams p{"us-east-1", "ec2", parse_iso8601("2015-08-30T12:36:00Z")};
  EXPECT_THROW(sign(r, Credentials{}, p), Error);
  Credentials c;
  c.access_key_id = "AKID";
  c.secret_access_key = Secret("s");
  SignableRequest no_host{"GET", "/", "", {}, ""};
  EXPECT_THROW(sign(no_host, c, p), Error);
}

TEST(SigV4, CanonicalUriAndQuery) {
  EXPECT_EQ(canonical_uri("", true), "/");
  EXPECT_EQ(canonical_uri("/a/b/../c/./d/", true), "/a/c/d/");
  EXPECT_EQ(canonical_uri("/a b", false), "/a%20b");
  EXPECT_EQ(canonical_query("b=2&a=1&a=0"), "a=0&a=1&b=2");
  EXPECT_EQ(canonical_query("k"), "k=");
}
