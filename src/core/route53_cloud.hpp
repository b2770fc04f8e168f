// The Cloud of the DNS kind: Route 53 records read and changed over libcurl
// (route53_client.hpp), each claim a compare-and-swap batch per record built
// by route53_target.hpp. It remembers the fence record it last read or
// wrote for each target: that is what the next batch's DELETE gives back,
// so a batch succeeds only if no one wrote the fence since.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include "cloud.hpp"
#include "credentials.hpp"
#include "ec2_client.hpp"
#include "route53_client.hpp"
#include "time_source.hpp"
#include "cpp_only.hpp"

namespace pg_vip {

struct Route53CloudOptions {
  std::string vip;  // canonical CIDR: the fence tag keys' VIP
  std::string route53_endpoint;
  std::string imds_endpoint = "http://169.254.169.254";
  std::string aws_profile;
  std::string ca_file;
  std::chrono::milliseconds request_timeout{2000};
  // pg_vip.dns_value: "private", "public", "elastic" or an address.
  std::string dns_value = "private";
  long dns_ttl = 10;
  // With dns_value "elastic": the first of pg_vip.elastic_ips (empty: none
  // is listed, which prepare() refuses, saying what to set), and what reads
  // an allocation's public address (elastic_ip_lookup.hpp: the factory's,
  // with EC2; a test's own). Asked once, by prepare(): an allocation's
  // public address does not change while it exists.
  std::string elastic_ip;
  std::function<std::string(const std::string &allocation_id)> elastic_ip_address;
  aws::Environment env;
  // The credentials to sign with, when another Cloud owns them (the
  // targets' credentials: a role's, when one is set); null: this Cloud's
  // own chain. Asked at prepare(), after that Cloud's prepare().
  std::function<aws::CredentialSource *()> credentials;
  // The client to send through, when another Cloud owns it (EC2's): one
  // connection cache, and a claim's Route 53 batches in the same round trip
  // as EC2's requests. Null: this Cloud's own. Asked at prepare().
  std::function<http::Client *()> http;
  // Asked before each read and change when `credentials` is given: makes
  // them sign as the settings now say (a reload's role reaches Route 53
  // even when no EC2 target is configured, whose requests would otherwise
  // be the only ones to ask) and says why they cannot, the error of every
  // record then (its action AssumeRole). Null: nothing to ask.
  std::function<std::optional<aws::AwsError>()> credentials_ready;
  std::function<void(const std::string &)> log;  // retries, and each change once Route 53 has it everywhere
  std::function<void(const aws::Ec2Call &, const aws::Ec2Result &)> on_attempt;
};

// What the DNS kind asks of Route 53: the worker's is Route53Client over
// libcurl, the simulation's a simulated Route 53 on a simulated clock, so
// that both run this Cloud's logic.
class Route53Api {
 public:
  virtual ~Route53Api() = default;
  virtual aws::TargetReadResult read_target(const std::string &zone, const std::string &address_name,
                                            const std::string &address_type, const std::string &fence_name,
                                            int attempts) = 0;
  // Several records at once (one round trip for all, over libcurl); by
  // default one read_target() after the other.
  virtual std::vector<aws::TargetReadResult> read_targets(const std::vector<aws::RecordQuery> &queries, int attempts) {
    std::vector<aws::TargetReadResult> out;
    for (const auto &q : queries)
      out.push_back(read_target(q.zone, q.address_name, q.address_type, q.fence_name, attempts));
    return out;
  }
  virtual aws::ChangeResult change(const std::string &zone, const aws::ChangeBatch &batch, int attempts) = 0;
  virtual aws::ChangeResult change_status(const std::string &change_id) = 0;

  // Several records' batches (zone, batch), each its own compare-and-swap,
  // split at their first requests (round_trip.hpp) so that they leave with
  // EC2's; results in the order given. By default one change() after the
  // other, in finish().
  using Batches = std::vector<std::pair<std::string, aws::ChangeBatch>>;
  virtual std::unique_ptr<RoundTrip<std::vector<aws::ChangeResult>>> begin_changes(Batches batches, int attempts) {
    return std::make_unique<Deferred<std::vector<aws::ChangeResult>>>([this, batches, attempts] {
      std::vector<aws::ChangeResult> out;
      for (const auto &[zone, batch] : batches) out.push_back(change(zone, batch, attempts));
      return out;
    });
  }
};

class Route53Cloud : public Cloud {
 public:
  // `api`: null for Route 53 over libcurl, built by prepare() (credentials,
  // instance metadata); given, it is used as it is and prepare() asks
  // nothing of instance metadata (pg_vip.dns_value must be an address and
  // the interface given).
  Route53Cloud(Route53CloudOptions options, TimeSource &time, std::unique_ptr<Route53Api> api = nullptr);
  ~Route53Cloud() override;
  // `configured_interface`: the interface the other kinds' Cloud placed this
  // node on (or pg_vip.network_interface); "auto" asks instance metadata.
  Placement prepare(const std::string &configured_interface) override;
  std::vector<TargetRead> read(const std::vector<std::string> &ids, int attempts) override;
  Applied apply(const std::vector<PointRequest> &points, const std::string &interface_id, const FenceWrite &fence,
                int attempts) override;
  // One batch per record, every record's at once.
  std::unique_ptr<RoundTrip<Applied>> begin_apply(const std::vector<PointRequest> &points,
                                                  const std::string &interface_id, const FenceWrite &fence,
                                                  int attempts) override;
  // A DNS record's fence holds one tag, replaced by every batch: there is
  // nothing older to delete.
  Outcome forget(const std::vector<std::string> &ids, const TagList &tags, int attempts) override;
  std::optional<bool> source_dest_check() override { return std::nullopt; }
  // The address this node writes (pg_vip.dns_value resolved), after prepare().
  const std::string &address() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pg_vip
