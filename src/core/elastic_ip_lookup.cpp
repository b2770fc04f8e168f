#include "elastic_ip_lookup.hpp"

#include <algorithm>
#include <memory>

#include "clock.hpp"
#include "ec2_addresses.hpp"
#include "ec2_client.hpp"
#include "error.hpp"
#include "http_client.hpp"
#include "imds.hpp"
#include "region.hpp"

namespace pg_vip::aws {

using namespace std::chrono;

std::string elastic_ip_public_address(const ElasticIpLookupOptions &options, const std::string &allocation_id,
                                      CredentialSource &credentials, TimeSource &time) {
  const std::string hint = "Check that " + allocation_id +
                           " (the first of pg_vip.elastic_ips) exists in the targets' account and that "
                           "ec2:DescribeAddresses is allowed, or set pg_vip.dns_value to the address itself.";
  Environment env = options.env ? options.env : process_environment();
  http::ClientOptions ho;
  ho.ca_file = options.ca_file;
  ho.cancelled = [&time] { return time.cancelled(); };
  http::Client http(ho);
  Clock clock;
  std::unique_ptr<ImdsClient> imds;
  if (options.region.empty() && !metadata_disabled(env)) {
    ImdsOptions io;
    io.endpoint = options.imds_endpoint;
    io.timeout = std::min(options.request_timeout, milliseconds(1000));
    imds = std::make_unique<ImdsClient>(http, io, clock);
  }
  std::string region;
  try {
    region = find_region(options.region, env, imds.get()).region;
  } catch (const AwsFailure &e) {
    throw Error("cannot find the region of the Elastic IP pg_vip.dns_value names", e.what(), "Set pg_vip.region.");
  }
  if (region.empty())
    throw Error("cannot find the region of the Elastic IP pg_vip.dns_value names",
                "Instance metadata is disabled and no region is set.", "Set pg_vip.region.");
  Ec2Options eo;
  eo.endpoint = resolve_ec2_endpoint(options.ec2_endpoint, env, region);
  eo.region = region;
  eo.timeout = options.request_timeout;
  eo.connect_timeout = std::min(options.request_timeout, milliseconds(1000));
  Ec2Client ec2(http, credentials, eo, clock);
  RetryPolicy p;
  p.max_attempts = 3;
  p.deadline = std::max<milliseconds>(options.request_timeout * 3, milliseconds(3000));
  p.cancelled = [&time] { return time.cancelled(); };
  p.sleep = [&time](milliseconds ms) { time.sleep(ms); };
  Ec2Result r = ec2.call(describe_addresses({allocation_id}), p);
  if (!r.ok())
    throw Error("cannot read the public address of Elastic IP " + allocation_id + " for pg_vip.dns_value = elastic",
                r.error->describe_for("DescribeAddresses"), hint);
  std::vector<ElasticIp> found;
  try {
    found = parse_addresses(r.body);
  } catch (const Error &e) {
    throw Error("cannot read the public address of Elastic IP " + allocation_id + " for pg_vip.dns_value = elastic",
                std::string("DescribeAddresses answered what pg_vip cannot read: ") + e.what(), hint);
  }
  auto it = std::find_if(found.begin(), found.end(),
                         [&](const ElasticIp &a) { return a.allocation_id == allocation_id && !a.public_ip.empty(); });
  if (it == found.end())
    throw Error("Elastic IP " + allocation_id + " has no public address for pg_vip.dns_value = elastic",
                "DescribeAddresses did not list it.", hint);
  return it->public_ip;
}

}  // namespace pg_vip::aws
