// https with a CA made at test time: verified against the right CA, refused
// clearly against another.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "common/test_support.hpp"
#include "core/credentials.hpp"
#include "core/ec2_client.hpp"
#include "fake_aws.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;

namespace {

class Pki : public test_support::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    std::string script =
        "cd '" + dir +
        "' && "
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=pg_vip-test-ca -keyout ca.key -out ca.pem && "
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=pg_vip-other-ca -keyout other.key -out other.pem && "
        "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr && "
        "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile san.ext "
        "-out server.pem";
    ASSERT_EQ(system((script + " >/dev/null 2>&1").c_str()), 0) << "openssl could not make the test PKI";
  }
};

Environment keys() {
  return test_support::env_of({{"AWS_ACCESS_KEY_ID", fake::kAccessKey},
                               {"AWS_SECRET_ACCESS_KEY", fake::kSecret},
                               {"AWS_EC2_METADATA_DISABLED", "true"}});
}

}  // namespace

TEST_F(Pki, HttpsVerifiesTheEndpointsCertificate) {
  fake::FakeAws aws(dir + "/server.pem", dir + "/server.key");
  ASSERT_EQ(aws.ec2_url().rfind("https://localhost:", 0), 0u);
  Clock clock;
  CredentialProvider creds({}, keys(), nullptr, clock);

  http::Client trusting({dir + "/ca.pem"});
  Ec2Client good(trusting, creds, {aws.ec2_url(), "us-east-1"}, clock);
  std::vector<Ec2Result> ok = good.call_all({describe_route_tables({"rtb-0a000001"})});
  ASSERT_TRUE(ok[0].ok()) << ok[0].error->describe();

  http::Client other({dir + "/other.pem"});
  Ec2Client wrong(other, creds, {aws.ec2_url(), "us-east-1"}, clock);
  std::vector<Ec2Result> refused = wrong.call_all({describe_route_tables({"rtb-0a000001"})});
  ASSERT_FALSE(refused[0].ok());
  EXPECT_EQ(refused[0].error->code, "TLSFailure");
  EXPECT_NE(refused[0].error->message.find("certificate"), std::string::npos) << refused[0].error->message;
  EXPECT_EQ(aws.count("DescribeRouteTables"), 1) << "nothing reached the endpoint over the unverified connection";
}
