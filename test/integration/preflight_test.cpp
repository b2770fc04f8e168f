// vip_preflight()'s probe against the local endpoint over real HTTP: every
// check passes on a node set up as it should be, each fault fails its own
// row, and no DryRun request changes anything. Also the worker's Cloud:
// the source/destination check that counts is the interface's.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/ec2_cloud.hpp"
#include "core/preflight_probe.hpp"
#include "integration/fake_aws.hpp"

using namespace pg_vip;
using namespace pg_vip::preflight;
using namespace std::chrono;

namespace {

// Node-a's instance with a secondary interface whose check is on (its
// primary's, the instance attribute, is off).
const std::vector<std::string> kSecondary = {
    R"(instances.i-0a000001.extra_enis=[{"mac": "0e:00:00:00:01:0a", "eni": "eni-0a0000aa", "source_dest_check": true}])"};

class PreflightTest : public testing::Test {
 protected:
  fake::FakeAws aws{{}, {}, kSecondary};

  ControllerConfig config() {
    ControllerConfig c;
    c.vip = "10.0.99.10/32";
    c.route_tables = {"rtb-0a000001", "rtb-0a000002"};
    c.network_interface = "auto";
    c.region = "";  // from instance metadata
    c.ec2_endpoint = aws.ec2_url();
    c.imds_endpoint = aws.imds_url_a();
    c.request_timeout = milliseconds(2000);
    return c;
  }

  std::vector<CheckResult> run_checks(const ControllerConfig &c, bool bound = true) {
    ProbeHooks h;
    h.env = fake::static_key_env(true);
    h.local_addresses = [bound] {
      std::vector<LocalAddress> out = {{"lo", "127.0.0.1"}};
      if (bound) out.push_back({"lo", "10.0.99.10"});
      return out;
    };
    return run(c, h);
  }

  static const CheckResult &row(const std::vector<CheckResult> &rows, const std::string &name) {
    auto it = std::find_if(rows.begin(), rows.end(), [&](const CheckResult &r) { return r.name == name; });
    if (it == rows.end()) throw std::runtime_error("no row " + name);
    return *it;
  }

  static std::vector<std::string> failed(const std::vector<CheckResult> &rows) {
    std::vector<std::string> out;
    for (const auto &r : rows)
      if (!r.ok) out.push_back(r.name);
    return out;
  }

  // No request the endpoint logged changed anything.
  int changing() {
    auto log = aws.log();
    int n = 0;
    for (auto &e : log.GetArray())
      if (e.HasMember("changing") && e["changing"].IsBool() && e["changing"].GetBool()) ++n;
    return n;
  }
};

std::string dump(const std::vector<CheckResult> &rows) {
  std::string out;
  for (const auto &r : rows) out += (r.ok ? "  ok   " : "  FAIL ") + r.name + ": " + r.detail + "\n";
  return out;
}

}  // namespace

TEST_F(PreflightTest, EveryCheckPassesOnANodeSetUpRight) {
  auto rows = run_checks(config());
  EXPECT_EQ(failed(rows), std::vector<std::string>{}) << dump(rows);
  EXPECT_EQ(rows.size(), 7u + 1 + 2 * 4 + 2 + 2);
  EXPECT_NE(row(rows, "credentials").detail.find("environment"), std::string::npos);
  EXPECT_NE(row(rows, "region").detail.find("us-east-1, from instance metadata"), std::string::npos);
  EXPECT_NE(row(rows, "interface_owner").detail.find("eni-0a00000a is attached to this instance i-0a000001"),
            std::string::npos);
  EXPECT_NE(row(rows, "vip_outside_vpc").detail.find("10.0.0.0/18"), std::string::npos);
  EXPECT_EQ(aws.count("ReplaceRoute", 412), 2) << "each proved by a DryRun answered DryRunOperation";
  EXPECT_EQ(aws.count("CreateTags", 412), 2);
  EXPECT_EQ(aws.count("DeleteTags", 412), 2) << "the holder's clean-up of older timelines' tags, proved too";
  EXPECT_EQ(changing(), 0);
}

TEST_F(PreflightTest, EachFaultFailsItsOwnRow) {
  aws.control("deny", R"({"rules": [{"actions": ["ReplaceRoute"]}]})");
  auto rows = run_checks(config());
  EXPECT_EQ(failed(rows),
            (std::vector<std::string>{"permission:ReplaceRoute rtb-0a000001", "permission:ReplaceRoute rtb-0a000002"}))
      << dump(rows);
  EXPECT_NE(row(rows, "permission:ReplaceRoute rtb-0a000001").detail.find("ec2:ReplaceRoute"), std::string::npos);
  aws.control("deny", R"({"rules": []})");

  ControllerConfig c = config();
  c.route_tables.push_back("rtb-0dead000");
  rows = run_checks(c);
  EXPECT_FALSE(row(rows, "route_table:rtb-0dead000").ok);
  EXPECT_NE(row(rows, "route_table:rtb-0dead000").detail.find("does not exist"), std::string::npos) << dump(rows);
  EXPECT_TRUE(row(rows, "route_table:rtb-0a000001").ok) << "the others are still read, one by one";

  aws.control("faults", R"({"date_skew_s": 400})");
  rows = run_checks(config());
  EXPECT_EQ(failed(rows), std::vector<std::string>{"clock_skew"}) << dump(rows);
  aws.control("faults", R"({"clear": true})");

  aws.control("source_dest_check", R"({"eni": "eni-0a00000a", "value": true})");
  rows = run_checks(config(), false);
  EXPECT_EQ(failed(rows), (std::vector<std::string>{"source_dest_check", "vip_bound"})) << dump(rows);

  c = config();
  c.imds_endpoint = "http://127.0.0.1:9";  // nothing listens there
  c.region = "us-east-1";
  c.network_interface = "eni-0a00000a";
  rows = run_checks(c);
  EXPECT_EQ(failed(rows), (std::vector<std::string>{"instance_metadata", "interface_owner", "source_dest_check"}))
      << dump(rows);
  EXPECT_EQ(changing(), 0);
}

TEST_F(PreflightTest, ASecondaryInterfacesOwnCheckCounts) {
  ControllerConfig c = config();
  c.network_interface = "eni-0a0000aa";
  auto rows = run_checks(c);
  EXPECT_FALSE(row(rows, "source_dest_check").ok) << dump(rows);
  EXPECT_NE(row(rows, "source_dest_check").detail.find("eni-0a0000aa"), std::string::npos);
  EXPECT_TRUE(row(rows, "interface_owner").ok) << dump(rows);
}

TEST_F(PreflightTest, TheCloudReadsTheInterfacesCheckNotTheInstances) {
  RealTime time{nullptr, nullptr};
  Ec2CloudOptions o;
  o.vip = "10.0.99.10/32";
  o.region = "us-east-1";
  o.ec2_endpoint = aws.ec2_url();
  o.imds_endpoint = aws.imds_url_a();
  o.env = fake::static_key_env(true);
  Ec2Cloud secondary(o, time);
  secondary.prepare("eni-0a0000aa");
  EXPECT_EQ(secondary.source_dest_check(), std::optional<bool>(true)) << "the instance's attribute is off";
  Ec2Cloud primary(o, time);
  primary.prepare("auto");
  EXPECT_EQ(primary.source_dest_check(), std::optional<bool>(false));
  aws.control("source_dest_check", R"({"eni": "eni-0a0000aa", "value": false})");
  aws.control("source_dest_check", R"({"instance": "i-0a000001", "value": true})");
  EXPECT_EQ(secondary.source_dest_check(), std::optional<bool>(false));
  EXPECT_EQ(primary.source_dest_check(), std::optional<bool>(true));
  EXPECT_EQ(aws.count("DescribeInstanceAttribute"), 0);
}
