// Instance metadata never goes through a proxy: with every proxy variable
// pointing at a local listener, the role's credentials are fetched straight
// from the endpoint and the listener sees no connection. The EC2 API keeps
// honouring the proxy variables, as the AWS SDKs do.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "common/test_support.hpp"
#include "core/credentials.hpp"
#include "core/ec2_client.hpp"
#include "core/imds.hpp"
#include "fake_aws.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;
using namespace std::chrono;

namespace {

// A "proxy" on 127.0.0.1 that counts the connections it accepts and closes
// them unanswered: any request sent through it fails, and is counted.
class CountingListener {
 public:
  CountingListener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || listen(fd_, 16) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr *>(&a), &len) != 0)
      throw std::runtime_error("cannot listen on 127.0.0.1");
    url_ = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0) continue;
        int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) continue;
        ++connections_;
        close(c);
      }
    });
  }
  ~CountingListener() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  const std::string &url() const { return url_; }
  int connections() const { return connections_; }

 private:
  int fd_ = -1;
  std::string url_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
};

// Sets (or, with nullopt, unsets) process environment variables for one
// test and puts the old values back afterwards.
class ScopedEnvironment {
 public:
  explicit ScopedEnvironment(const std::map<std::string, std::optional<std::string>> &vars) {
    for (const auto &[name, value] : vars) {
      const char *old = getenv(name.c_str());
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
      if (value) setenv(name.c_str(), value->c_str(), 1);
      else unsetenv(name.c_str());
    }
  }
  ~ScopedEnvironment() {
    for (const auto &[name, value] : saved_) {
      if (value) setenv(name.c_str(), value->c_str(), 1);
      else unsetenv(name.c_str());
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

// Every variable libcurl reads a proxy from, pointing at the listener, and
// no exception list that would let loopback through anyway.
std::map<std::string, std::optional<std::string>> every_proxy(const std::string &url) {
  return {{"http_proxy", url}, {"HTTP_PROXY", url}, {"https_proxy", url},       {"HTTPS_PROXY", url},
          {"all_proxy", url},  {"ALL_PROXY", url},  {"no_proxy", std::nullopt}, {"NO_PROXY", std::nullopt}};
}

class ImdsProxy : public testing::Test {
 protected:
  fake::FakeAws aws;  // started before the proxy variables are set
  CountingListener proxy;
  Clock clock;
};

}  // namespace

TEST_F(ImdsProxy, TheVariablesReallyRouteAPlainRequestThroughTheListener) {
  // The control: without the bypass, a request to the very same endpoint
  // goes to the "proxy". Were it not so, the next test would prove nothing.
  ScopedEnvironment env(every_proxy(proxy.url()));
  http::Client http({});
  http::Request r;
  r.url = aws.imds_url_a() + "/latest/meta-data/instance-id";
  http::Response resp = http.perform(r);
  EXPECT_FALSE(resp.ok() && resp.status == 401) << "answered by the endpoint itself, not through the proxy";
  EXPECT_GE(proxy.connections(), 1);
}

TEST_F(ImdsProxy, RoleCredentialsAreFetchedDirectlyNeverThroughAProxy) {
  ScopedEnvironment env(every_proxy(proxy.url()));
  http::Client http({});
  ImdsClient imds(http, {aws.imds_url_a(), milliseconds(1000), seconds(21600)}, clock);
  Credentials c = imds.role_credentials();
  EXPECT_EQ(c.access_key_id.rfind("ASIA", 0), 0u);
  EXPECT_FALSE(c.secret_access_key.empty());
  EXPECT_FALSE(c.session_token.empty());
  EXPECT_EQ(imds.instance_id(), "i-0a000001");
  EXPECT_EQ(proxy.connections(), 0) << "an instance metadata request went to the proxy";
  EXPECT_EQ(aws.count_imds("PUT", "/latest/api/token"), 1);
  EXPECT_EQ(aws.count_imds("GET", "/latest/meta-data/iam/security-credentials/"), 2);
}

TEST_F(ImdsProxy, TheCredentialChainReachesTheRoleDirectlyToo) {
  ScopedEnvironment env(every_proxy(proxy.url()));
  http::Client http({});
  ImdsClient imds(http, {aws.imds_url_a(), milliseconds(1000), seconds(21600)}, clock);
  CredentialProvider creds(
      {}, test_support::env_of({{"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}, {"AWS_CONFIG_FILE", "/dev/null"}}), &imds,
      clock);
  EXPECT_EQ(creds.get().source, "instance role pg-vip-role");
  EXPECT_EQ(proxy.connections(), 0);
}

TEST_F(ImdsProxy, TheEc2ApiStillHonoursTheProxyVariables) {
  // As the AWS SDKs do: HTTPS_PROXY (here http_proxy, the endpoint being
  // plain http) applies to service endpoints; only IMDS bypasses it.
  ScopedEnvironment env(every_proxy(proxy.url()));
  http::Client http({});
  CredentialProvider creds({},
                           test_support::env_of({{"AWS_ACCESS_KEY_ID", fake::kAccessKey},
                                                 {"AWS_SECRET_ACCESS_KEY", fake::kSecret},
                                                 {"AWS_EC2_METADATA_DISABLED", "true"}}),
                           nullptr, clock);
  Ec2Options o;
  o.endpoint = aws.ec2_url();
  o.region = "us-east-1";
  Ec2Client ec2(http, creds, o, clock);
  std::vector<Ec2Result> r = ec2.call_all({describe_route_tables({"rtb-0a000001"})});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].ok());
  EXPECT_EQ(r[0].error->kind, ErrorKind::Transport);
  EXPECT_GE(proxy.connections(), 1);
  EXPECT_EQ(aws.count("DescribeRouteTables"), 0);
}
