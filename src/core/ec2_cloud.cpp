#include "ec2_cloud.hpp"

#include <algorithm>

#include "region.hpp"
#include "clock.hpp"
#include "ec2_addresses.hpp"
#include "ec2_client.hpp"
#include "ec2_xml.hpp"
#include "error.hpp"
#include "fence.hpp"
#include "http_client.hpp"
#include "imds.hpp"
#include "settings.hpp"
#include "text.hpp"

namespace pg_vip {

using namespace std::chrono;
using aws::AwsError;
using aws::Ec2Call;
using aws::Ec2Result;
using aws::ErrorKind;

namespace {

bool is_no_route(const AwsError &e) {
  // ReplaceRoute on a missing route answers InvalidParameterValue ("There is
  // no route defined ..."), whatever the documentation suggests.
  return e.code == "InvalidParameterValue" || e.code == "InvalidRoute.NotFound";
}

// A DescribeRouteTables page cannot go on forever: 200 tables at most, and
// EC2's pages are far larger than one table.
constexpr int kMaxPages = 220;

}  // namespace

struct Ec2Cloud::Impl {
  Ec2CloudOptions options;
  TimeSource &time;
  Clock clock;
  std::unique_ptr<http::Client> http;
  std::unique_ptr<aws::ImdsClient> imds;                 // null when disabled
  std::unique_ptr<aws::CredentialProvider> credentials;  // the node's own: the usual chain
  std::unique_ptr<aws::Ec2Client> ec2;                   // the node's own reads
  std::unique_ptr<aws::TargetCredentials> target_credentials;
  std::unique_ptr<aws::Ec2Client> targets;  // the targets' reads and changes
  std::string instance_id;
  std::string interface_id;  // the one prepare() found: whose source/destination check counts

  Impl(Ec2CloudOptions o, TimeSource &t) : options(std::move(o)), time(t) {}

  // This node's share of the account's budget for the service, kept for
  // the Cloud's life (api_budget.hpp).
  mutable aws::ApiBudget budget;

  aws::RetryPolicy policy(int attempts) const {
    aws::RetryPolicy p = aws::cloud_policy(urgency_of(attempts), attempts, options.request_timeout,
                                           aws::Backoff{milliseconds(50), milliseconds(1000)}, time, &budget);
    p.log = options.log;
    p.on_attempt = options.on_attempt;
    return p;
  }

  // One failed read: the same error on every target it asked for.
  static void fail(std::vector<TargetRead> &out, const std::vector<std::size_t> &which, const AwsError &e,
                   const char *action) {
    for (auto i : which) {
      out[i].error = e;
      out[i].failed_action = action;
    }
  }
  static std::vector<std::string> ids_of(const std::vector<std::string> &ids, const std::vector<std::size_t> &which) {
    std::vector<std::string> out;
    for (auto i : which) out.push_back(ids[i]);
    return out;
  }
  void keep_fence_tags(TargetRead &view, const std::map<std::string, std::string> &tags) const {
    for (const auto &[key, value] : tags)
      if (fence_tag_key_timeline(options.vip, key)) view.fence_tags.emplace(key, value);
  }
  // Takes the role's current settings and makes sure its credentials can
  // be had; nullopt when they can (or no role is set), else the error every
  // target's request fails with, named for AssumeRole, saying what to fix.
  std::optional<AwsError> targets_ready();
  void read_tables(std::vector<TargetRead> &out, const std::vector<std::size_t> &which,
                   const std::vector<std::string> &ids, Ec2Result first, int attempts);
  void read_addresses(std::vector<TargetRead> &out, const std::vector<std::size_t> &which,
                      const std::vector<std::string> &ids, Ec2Result first, int attempts);
  void read_secondaries(std::vector<TargetRead> &out, const std::vector<std::size_t> &which, Ec2Result interfaces,
                        Ec2Result subnets);
  // The resources a fence tag goes on for `ids` under the VIP's keys: a
  // route table and an allocation carry their own. A secondary IP is not
  // one of them: its tags are on its subnet, under its own key.
  static std::vector<std::string> tagged_resources(const std::vector<std::string> &ids);
  static std::vector<std::string> secondaries_of(const std::vector<std::string> &ids);

  // This node's interface's subnet and VPC: where its secondary IPs live
  // and their fence stands. Looked up once per interface (an interface
  // never changes subnet) with the targets' credentials, as the addresses
  // are read and moved with them. nullopt when known, else the error.
  std::string home_interface, home_subnet, home_vpc;
  std::optional<AwsError> find_home(int attempts);
};

Ec2Cloud::Ec2Cloud(Ec2CloudOptions options, TimeSource &time)
    : impl_(std::make_unique<Impl>(std::move(options), time)) {
  if (!impl_->options.env) impl_->options.env = aws::process_environment();
}

Ec2Cloud::~Ec2Cloud() = default;

Placement Ec2Cloud::prepare(const std::string &configured_interface) {
  Impl &m = *impl_;
  Placement p;
  if (!m.ec2) {
    http::ClientOptions ho;
    ho.ca_file = m.options.ca_file;
    TimeSource *ts = &m.time;
    ho.cancelled = [ts] { return ts->cancelled(); };
    m.http = std::make_unique<http::Client>(ho);
    if (!aws::metadata_disabled(m.options.env)) {
      aws::ImdsOptions io;
      io.endpoint = m.options.imds_endpoint;
      io.timeout = std::min(m.options.request_timeout, milliseconds(1000));
      m.imds = std::make_unique<aws::ImdsClient>(*m.http, io, m.clock);
    }
    std::string region = aws::find_region(m.options.region, m.options.env, m.imds.get()).region;
    if (region.empty())
      throw Error("no AWS region configured", "Instance metadata is disabled and no region is set.",
                  "Set pg_vip.region.");
    m.credentials = std::make_unique<aws::CredentialProvider>(aws::CredentialOptions{m.options.aws_profile},
                                                              m.options.env, m.imds.get(), m.clock);
    aws::Ec2Options eo;
    eo.endpoint = aws::resolve_ec2_endpoint(m.options.ec2_endpoint, m.options.env, region);
    eo.region = region;
    eo.timeout = m.options.request_timeout;
    eo.connect_timeout = std::min(m.options.request_timeout, milliseconds(1000));
    m.ec2 = std::make_unique<aws::Ec2Client>(*m.http, *m.credentials, eo, m.clock);
    aws::TargetCredentials::Context tc;
    tc.region = region;
    tc.env = m.options.env;
    tc.timeout = m.options.request_timeout;
    tc.retry = m.policy(kCheckAttempts);
    tc.retry.budget = nullptr;  // STS's budget is not EC2's
    m.target_credentials =
        std::make_unique<aws::TargetCredentials>(aws::transport_of(*m.http), *m.credentials, tc, m.clock);
    m.targets = std::make_unique<aws::Ec2Client>(*m.http, *m.target_credentials, eo, m.clock);
  }
  p.region = m.ec2->options().region;
  if (configured_interface != "auto") {
    p.interface_id = configured_interface;
  } else {
    if (!m.imds)
      throw Error("cannot find this instance's network interface",
                  "pg_vip.network_interface is auto and instance metadata is disabled.",
                  "Set pg_vip.network_interface to this node's eni- id.");
    p.interface_id = m.imds->primary_interface_id();
  }
  if (m.imds && m.instance_id.empty()) {
    try {
      m.instance_id = m.imds->instance_id();
    } catch (const aws::AwsFailure &e) {
      p.warnings.push_back(std::string("cannot read this instance's id from instance metadata; the "
                                       "source/destination check is not verified: ") +
                           e.what());
    }
  }
  // An interface named in the settings must be this instance's: a
  // configuration copied from another node would otherwise "hold" the VIP
  // on that node's interface.
  if (m.imds && configured_interface != "auto") {
    std::vector<std::string> mine;
    try {
      mine = m.imds->interface_ids();
    } catch (const aws::AwsFailure &e) {
      p.warnings.push_back(std::string("cannot list this instance's interfaces from instance metadata; "
                                       "pg_vip.network_interface is not verified: ") +
                           e.what());
    }
    if (!mine.empty() && std::find(mine.begin(), mine.end(), configured_interface) == mine.end()) {
      std::string list = join(mine, ", ");
      throw Error("pg_vip.network_interface " + configured_interface + " is not attached to this instance",
                  "Instance " + (m.instance_id.empty() ? std::string("(unknown)") : m.instance_id) +
                      " has the interfaces " + list + ".",
                  "Set pg_vip.network_interface to one of them, or to auto.");
    }
  }
  p.instance_id = m.instance_id;
  m.interface_id = p.interface_id;
  // Warm the credential cache: the claim must not wait for IMDS.
  (void) m.credentials->get();
  for (auto &w : m.credentials->take_warnings()) p.warnings.push_back(w);
  // ...nor for STS. A role that cannot be assumed is every target's error
  // at the next read, not a failure to prepare: the node's own reads work.
  if (std::optional<AwsError> e = m.targets_ready())
    p.warnings.push_back("cannot assume the role pg_vip.role_arn names; every target's read will fail: " +
                         e->describe_for("AssumeRole"));
  return p;
}

std::optional<AwsError> Ec2Cloud::Impl::targets_ready() {
  if (!target_credentials) return std::nullopt;
  aws::RoleSettings role = options.role ? options.role() : aws::RoleSettings{};
  try {
    // The default session name: what CloudTrail shows of this node.
    if (role.session_name.empty())
      role.session_name =
          settings::default_role_session_name(!options.node_name.empty() ? options.node_name : instance_id);
    target_credentials->configure(role);
    if (!target_credentials->uses_role()) return std::nullopt;
    (void) target_credentials->get();
    return std::nullopt;
  } catch (const aws::AssumeRoleFailure &f) {
    AwsError e = f.error();
    // The request id and STS's long message are in the log line of the
    // retry; a target's last_error is short, and says what to fix.
    e.message = aws::assume_role_problem(f, role.arn);
    e.request_id.clear();
    return e;
  } catch (const Error &f) {
    return AwsError{ErrorKind::Invalid, 0, "InvalidRoleSettings", f.what(), ""};
  }
}

aws::TargetCredentials *Ec2Cloud::target_credentials() noexcept { return impl_->target_credentials.get(); }

http::Client *Ec2Cloud::http_client() noexcept { return impl_->http.get(); }

// One DescribeRouteTables for every table and one DescribeAddresses for
// every Elastic IP, sent together (EC2 throttles Describe* per account and
// region: one request per target per node would drain the bucket a whole
// fleet shares), and one DescribeNetworkInterfaces for every secondary IP.
// DescribeRouteTables' pages are followed (nextToken); the other two answer
// in one page for the few ids and addresses the settings allow (EC2 pages
// only when MaxResults is sent). A target's id names its kind (the
// settings check each form): "eipalloc-" is an Elastic IP, an IPv4 address
// a secondary IP, anything else a route table.
std::vector<TargetRead> Ec2Cloud::read(const std::vector<std::string> &ids, int attempts) {
  Impl &m = *impl_;
  std::vector<TargetRead> out(ids.size());
  std::vector<std::size_t> tables, addresses, secondaries;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    out[i].id = ids[i];
    (aws::is_allocation_id(ids[i]) ? addresses : aws::is_ipv4_address(ids[i]) ? secondaries : tables).push_back(i);
  }
  if (ids.empty()) return out;
  if (std::optional<AwsError> e = m.targets_ready()) {
    for (auto &view : out) {
      view.error = e;
      view.failed_action = "AssumeRole";
    }
    return out;
  }
  // The secondary IPs are read only in this node's subnet (F5), so that
  // subnet must be known first: one request, once.
  if (!secondaries.empty())
    if (std::optional<AwsError> e = m.find_home(attempts)) {
      m.fail(out, secondaries, *e, "DescribeNetworkInterfaces");
      secondaries.clear();
    }
  std::vector<Ec2Call> first;
  if (!tables.empty()) first.push_back(aws::describe_route_tables(m.ids_of(ids, tables), ""));
  if (!addresses.empty()) first.push_back(aws::describe_addresses(m.ids_of(ids, addresses)));
  if (!secondaries.empty()) {
    // Where each address is and its subnet's tags (its fence), together.
    for (auto &c : aws::read_secondary_ips(m.ids_of(ids, secondaries), m.home_subnet)) first.push_back(std::move(c));
  }
  if (first.empty()) return out;
  std::vector<Ec2Result> answers = m.targets->call_all(first, m.policy(attempts));
  std::size_t next = 0;
  if (!tables.empty()) m.read_tables(out, tables, ids, std::move(answers[next++]), attempts);
  if (!addresses.empty()) m.read_addresses(out, addresses, ids, std::move(answers[next++]), attempts);
  if (!secondaries.empty())
    m.read_secondaries(out, secondaries, std::move(answers[next]), std::move(answers[next + 1]));
  return out;
}

std::optional<AwsError> Ec2Cloud::Impl::find_home(int attempts) {
  if (interface_id.empty())
    return AwsError{ErrorKind::Invalid, 0, "NoNetworkInterface", "this node's network interface is not known", ""};
  if (home_interface == interface_id) return std::nullopt;
  Ec2Result r = targets->call(aws::describe_network_interfaces({interface_id}), policy(attempts));
  if (!r.ok()) return *r.error;
  try {
    for (const auto &n : aws::parse_network_interfaces(r.body))
      if (n.id == interface_id && aws::is_subnet_id(n.subnet_id)) {
        home_interface = interface_id;
        home_subnet = n.subnet_id;
        home_vpc = n.vpc_id;
        return std::nullopt;
      }
  } catch (const aws::AwsFailure &f) {
    return f.error();
  }
  return AwsError{ErrorKind::Malformed, 200, "MalformedResponse",
                  "the answer does not give the subnet of " + interface_id, ""};
}

// Where each secondary IP is assigned in this node's subnet, and its fence
// tags, which are on that subnet (ec2_addresses.hpp): a resource that stays
// put whoever holds the address, which every node that may take the
// address can read and tag, and which outlives any holder's interface. An
// interface of another subnet (another VPC's, with the same private
// address; EC2 ignoring the filter) is passed over.
void Ec2Cloud::Impl::read_secondaries(std::vector<TargetRead> &out, const std::vector<std::size_t> &which, Ec2Result r,
                                      Ec2Result subnets) {
  if (!r.ok()) {
    fail(out, which, *r.error, "DescribeNetworkInterfaces");
    return;
  }
  if (!subnets.ok()) {
    fail(out, which, *subnets.error, "DescribeSubnets");
    return;
  }
  std::vector<aws::InterfaceAddresses> found;
  try {
    found = aws::parse_interface_addresses(r.body);
  } catch (const aws::AwsFailure &f) {
    fail(out, which, f.error(), "DescribeNetworkInterfaces");
    return;
  }
  std::optional<aws::Subnet> subnet;
  try {
    for (auto &s : aws::parse_subnets(subnets.body))
      if (s.id == home_subnet) subnet = std::move(s);
  } catch (const aws::AwsFailure &f) {
    fail(out, which, f.error(), "DescribeSubnets");
    return;
  }
  if (!subnet) {
    fail(out, which,
         AwsError{ErrorKind::Malformed, 200, "MalformedResponse", "the answer does not describe " + home_subnet, ""},
         "DescribeSubnets");
    return;
  }
  for (auto i : which) {
    TargetRead &view = out[i];
    // AssignPrivateIpAddresses moves an address only within its subnet: one
    // outside this node's never comes here, and its fence is not this
    // subnet's to keep.
    if (std::optional<AwsError> outside = aws::outside_subnet(*subnet, view.id)) {
      view.error = std::move(outside);
      view.failed_action = "DescribeSubnets";
      continue;
    }
    for (const auto &[key, value] : subnet->tags)
      if (auto vip_key = aws::vip_fence_key(options.vip, view.id, key)) view.fence_tags.emplace(*vip_key, value);
    auto it = std::find_if(found.begin(), found.end(), [&](const aws::InterfaceAddresses &n) {
      return n.subnet_id == home_subnet && n.has(view.id);
    });
    if (it == found.end()) continue;  // assigned to no interface: Missing
    view.interface_id = it->network_interface_id;
    view.points_at = it->network_interface_id;
    view.state =
        !interface_id.empty() && it->network_interface_id == interface_id ? TargetState::Ours : TargetState::Other;
  }
}

std::vector<std::string> Ec2Cloud::Impl::tagged_resources(const std::vector<std::string> &ids) {
  std::vector<std::string> out;
  for (const auto &id : ids)
    if (!aws::is_ipv4_address(id) && std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  return out;
}

std::vector<std::string> Ec2Cloud::Impl::secondaries_of(const std::vector<std::string> &ids) {
  std::vector<std::string> out;
  for (const auto &id : ids)
    if (aws::is_ipv4_address(id)) out.push_back(id);
  return out;
}

void Ec2Cloud::Impl::read_tables(std::vector<TargetRead> &out, const std::vector<std::size_t> &which,
                                 const std::vector<std::string> &ids, Ec2Result r, int attempts) {
  std::vector<std::string> asked = ids_of(ids, which);
  std::vector<aws::RouteTable> tables;
  std::string token;
  for (int page = 0;; ++page) {
    if (page == kMaxPages) {
      fail(out, which,
           AwsError{ErrorKind::Malformed, 200, "MalformedResponse", "DescribeRouteTables paged without end", ""},
           "DescribeRouteTables");
      return;
    }
    if (page > 0) r = targets->call(aws::describe_route_tables(asked, token), policy(attempts));
    if (!r.ok()) {
      fail(out, which, *r.error, "DescribeRouteTables");
      return;
    }
    try {
      aws::RouteTablePage p = aws::parse_route_table_page(r.body);
      for (auto &t : p.tables) tables.push_back(std::move(t));
      if (p.next_token.empty() || p.next_token == token) break;
      token = p.next_token;
    } catch (const aws::AwsFailure &f) {
      fail(out, which, f.error(), "DescribeRouteTables");
      return;
    }
  }
  for (auto i : which) {
    TargetRead &view = out[i];
    auto it = std::find_if(tables.begin(), tables.end(), [&](const aws::RouteTable &t) { return t.id == view.id; });
    if (it == tables.end()) {
      view.error =
          AwsError{ErrorKind::Malformed, 200, "MalformedResponse", "the answer does not describe " + view.id, ""};
      view.failed_action = "DescribeRouteTables";
      continue;
    }
    if (const aws::Route *route = it->find_route(options.vip)) {
      view.interface_id = route->network_interface_id;
      view.points_at = !route->network_interface_id.empty() ? route->network_interface_id
                       : !route->gateway_id.empty()         ? route->gateway_id
                                                            : route->instance_id;
      view.state = route->state == "blackhole"                                            ? TargetState::Dangling
                   : !interface_id.empty() && route->network_interface_id == interface_id ? TargetState::Ours
                                                                                          : TargetState::Other;
    }
    keep_fence_tags(view, it->tags);
  }
}

// DescribeAddresses fails as a whole when one allocation id does not exist
// (InvalidAllocationID.NotFound): each is then read alone, so that one bad
// id is that Elastic IP's error and not every other's.
void Ec2Cloud::Impl::read_addresses(std::vector<TargetRead> &out, const std::vector<std::size_t> &which,
                                    const std::vector<std::string> &ids, Ec2Result r, int attempts) {
  if (!r.ok() && r.error->kind == ErrorKind::NotFound && which.size() > 1) {
    std::vector<Ec2Call> alone;
    for (auto i : which) alone.push_back(aws::describe_addresses({ids[i]}));
    std::vector<Ec2Result> each = targets->call_all(alone, policy(attempts));
    for (std::size_t k = 0; k < which.size(); ++k) read_addresses(out, {which[k]}, ids, std::move(each[k]), attempts);
    return;
  }
  if (!r.ok()) {
    fail(out, which, *r.error, "DescribeAddresses");
    return;
  }
  std::vector<aws::ElasticIp> found;
  try {
    found = aws::parse_addresses(r.body);
  } catch (const aws::AwsFailure &f) {
    fail(out, which, f.error(), "DescribeAddresses");
    return;
  }
  for (auto i : which) {
    TargetRead &view = out[i];
    auto it =
        std::find_if(found.begin(), found.end(), [&](const aws::ElasticIp &a) { return a.allocation_id == view.id; });
    if (it == found.end()) {
      view.error =
          AwsError{ErrorKind::Malformed, 200, "MalformedResponse", "the answer does not describe " + view.id, ""};
      view.failed_action = "DescribeAddresses";
      continue;
    }
    if (it->associated()) {
      view.interface_id = it->network_interface_id;
      view.points_at = !it->network_interface_id.empty() ? it->network_interface_id : it->instance_id;
      // Associated with this node's interface but with another of its
      // addresses than the one configured is not yet where it belongs.
      bool address_ok =
          options.elastic_ip_private_address.empty() || it->private_ip_address == options.elastic_ip_private_address;
      view.state = !interface_id.empty() && it->network_interface_id == interface_id && address_ok ? TargetState::Ours
                                                                                                   : TargetState::Other;
    }
    keep_fence_tags(view, it->tags);
  }
}

Cloud::Applied Ec2Cloud::apply(const std::vector<PointRequest> &points, const std::string &eni, const FenceWrite &fence,
                               int attempts) {
  return complete(*begin_apply(points, eni, fence, attempts));
}

std::unique_ptr<RoundTrip<Cloud::Applied>> Ec2Cloud::begin_apply(const std::vector<PointRequest> &points,
                                                                 const std::string &eni, const FenceWrite &fence,
                                                                 int attempts) {
  Impl &m = *impl_;
  auto done = [](Applied out) { return std::make_unique<Deferred<Applied>>([out] { return out; }); };
  // One round trip: every route, every Elastic IP's association and the
  // fence tag at once (CreateTags takes route tables and allocations in one
  // request). A missing route is created; one that exists after all is
  // replaced. AssociateAddress with AllowReassociation takes the address
  // from wherever it is.
  std::vector<Ec2Call> calls;
  std::vector<bool> create(points.size());
  // Every secondary IP moves in one AssignPrivateIpAddresses.
  std::vector<bool> associate(points.size()), assign(points.size());
  std::vector<std::string> addresses;
  std::vector<std::size_t> call_of(points.size());
  for (std::size_t i = 0; i < points.size(); ++i) {
    associate[i] = aws::is_allocation_id(points[i].id);
    assign[i] = aws::is_ipv4_address(points[i].id);
    create[i] = !associate[i] && !assign[i] && points[i].missing;
    if (assign[i]) {
      addresses.push_back(points[i].id);
      continue;
    }
    call_of[i] = calls.size();
    calls.push_back(associate[i] ? aws::associate_address(points[i].id, eni, m.options.elastic_ip_private_address)
                    : create[i]  ? aws::create_route(points[i].id, m.options.vip, eni)
                                 : aws::replace_route(points[i].id, m.options.vip, eni));
  }
  std::size_t assign_call = calls.size();
  if (!addresses.empty()) calls.push_back(aws::assign_private_ip_addresses(eni, addresses));
  for (std::size_t i = 0; i < points.size(); ++i)
    if (assign[i]) call_of[i] = assign_call;
  // The fence tag: one CreateTags on the route tables and allocations, and
  // one on this node's subnet with each secondary IP's key (ec2_addresses.hpp),
  // in the same round trip as the moves.
  std::vector<std::string> tagged = Impl::tagged_resources(fence.ids);
  std::vector<std::string> fenced_addresses = Impl::secondaries_of(fence.ids);
  aws::SubnetTags subnet_tags = aws::subnet_fence_tags(m.options.vip, fenced_addresses, {{fence.key, fence.value}});
  std::optional<AwsError> no_home;
  if (!fenced_addresses.empty()) no_home = m.find_home(attempts);
  if (no_home || subnet_tags.size() != fenced_addresses.size())
    if (!no_home)
      no_home = AwsError{ErrorKind::Invalid, 0, "InvalidFenceKey", "not a fence tag key of " + m.options.vip, ""};
  std::size_t tag_call = calls.size();
  if (!tagged.empty()) calls.push_back(aws::create_tags(tagged, {{fence.key, fence.value}}));
  std::size_t subnet_call = calls.size();
  if (!fenced_addresses.empty() && !no_home) calls.push_back(aws::write_subnet_fence(m.home_subnet, subnet_tags));
  // Each secondary IP's fence outcome is its own (fence_by_id); `fence`
  // speaks for all, the first error first, as the controller reads it.
  // Kept by the finishing step too: it copies what it reads.
  auto fence_by_address = [fenced_addresses](Applied &out, const Outcome &o) {
    for (const auto &a : fenced_addresses) out.fence_by_id[a] = o;
    if (fenced_addresses.empty()) return;
    if (!out.fence.sent || (!out.fence.error && o.error)) out.fence = o;
  };
  if (calls.empty()) {
    Applied out{std::vector<Outcome>(points.size()), Outcome{}, {}};
    if (no_home) fence_by_address(out, Outcome{true, "DescribeNetworkInterfaces", no_home});
    return done(out);
  }
  if (std::optional<AwsError> e = m.targets_ready()) {
    // Nothing was sent to EC2: the role's credentials could not be had.
    Applied out;
    out.points.assign(points.size(), Outcome{true, "AssumeRole", e});
    if (!tagged.empty()) out.fence = Outcome{true, "AssumeRole", e};
    fence_by_address(out, Outcome{true, "AssumeRole", e});
    return done(out);
  }
  // Signed now, sent by complete() with any other Cloud's first requests;
  // what follows reads their answers.
  std::vector<http::Request> requests = m.targets->build_all(calls);
  Impl *impl = &m;
  auto finish = [impl, points, eni, attempts, calls, create, associate, assign, call_of, tagged, fence_by_address,
                 fenced_addresses, no_home, tag_call, subnet_call](std::vector<http::Response> answers) mutable {
    Impl &self = *impl;
    std::vector<Ec2Result> results = self.targets->call_all(calls, self.policy(attempts), answers);
    std::vector<Ec2Result> by_point(points.size());
    for (std::size_t i = 0; i < points.size(); ++i) by_point[i] = results[call_of[i]];
    Ec2Result fence_result = tagged.empty() ? Ec2Result{} : results[tag_call];
    std::optional<Outcome> subnet_fence;
    if (no_home) subnet_fence = Outcome{true, "DescribeNetworkInterfaces", no_home};
    else if (!fenced_addresses.empty()) subnet_fence = Outcome{true, "CreateTags", results[subnet_call].error};
    results = std::move(by_point);

    std::vector<std::size_t> flip;
    for (std::size_t i = 0; i < points.size(); ++i) {
      const auto &r = results[i];
      if (!r.ok() && !associate[i] && !assign[i] &&
          (create[i] ? r.error->code == "RouteAlreadyExists" : is_no_route(*r.error)))
        flip.push_back(i);
    }
    if (!flip.empty()) {
      std::vector<Ec2Call> second;
      for (auto i : flip) {
        create[i] = !create[i];
        second.push_back(create[i] ? aws::create_route(points[i].id, self.options.vip, eni)
                                   : aws::replace_route(points[i].id, self.options.vip, eni));
      }
      auto again = self.targets->call_all(second, self.policy(attempts));
      for (std::size_t j = 0; j < flip.size(); ++j) results[flip[j]] = std::move(again[j]);
    }
    Applied out;
    out.points.resize(points.size());
    for (std::size_t i = 0; i < points.size(); ++i) {
      out.points[i].sent = true;
      out.points[i].action = associate[i] ? "AssociateAddress"
                             : assign[i]  ? "AssignPrivateIpAddresses"
                             : create[i]  ? "CreateRoute"
                                          : "ReplaceRoute";
      out.points[i].error = results[i].error;
    }
    if (!tagged.empty()) {
      out.fence.sent = true;
      out.fence.action = "CreateTags";
      out.fence.error = fence_result.error;
    }
    if (subnet_fence) fence_by_address(out, *subnet_fence);
    return out;
  };
  return std::make_unique<Prepared<Applied>>(&m.targets->http(), std::move(requests), std::move(finish));
}

Outcome Ec2Cloud::forget(const std::vector<std::string> &ids, const TagList &tags, int attempts) {
  Impl &m = *impl_;
  Outcome out;
  if (ids.empty() || tags.empty() || !m.ec2) return out;
  out.sent = true;
  out.action = "DeleteTags";
  std::vector<Ec2Call> calls;
  std::vector<std::string> tagged = Impl::tagged_resources(ids);
  if (!tagged.empty()) calls.push_back(aws::delete_tags(tagged, tags));
  // A secondary IP's: from this node's subnet, each under the address's key.
  aws::SubnetTags subnet_tags = aws::subnet_fence_tags(m.options.vip, Impl::secondaries_of(ids), tags);
  if (calls.empty() && subnet_tags.empty()) return Outcome{};
  if (std::optional<AwsError> e = m.targets_ready()) return Outcome{true, "AssumeRole", e};
  if (!subnet_tags.empty()) {
    if (std::optional<AwsError> e = m.find_home(attempts)) return Outcome{true, "DescribeNetworkInterfaces", e};
    calls.push_back(aws::delete_subnet_fence(m.home_subnet, subnet_tags));
  }
  for (auto &r : m.targets->call_all(calls, m.policy(attempts)))
    if (!r.ok() && !out.error) out.error = r.error;
  return out;
}

// A claim sends one request per table and the tag at once, each on its own
// connection; one read a check keeps only one of them warm, and a cold one
// costs TCP and TLS handshakes at the worst moment. An unsigned GET of the
// endpoint's root is no API call (it carries no action and no identity, so
// it draws on no account's request limit) and keeps a connection open; its
// error answer is read and ignored.
void Ec2Cloud::warm(std::size_t connections) {
  Impl &m = *impl_;
  if (!m.ec2 || connections == 0) return;
  std::vector<http::Request> requests(std::min<std::size_t>(connections, 256));
  for (auto &r : requests) {
    r.method = "GET";
    r.url = m.ec2->options().endpoint + "/";
    r.timeout = m.options.request_timeout;
    r.connect_timeout = std::min(m.options.request_timeout, milliseconds(1000));
  }
  (void) m.http->perform_all(requests);
}

// The check of the interface the VIP's routes point at, not the instance's:
// DescribeInstanceAttribute shows only the primary interface's, and a
// secondary interface has its own, which is the one EC2 applies to the
// packets it carries.
std::optional<bool> Ec2Cloud::source_dest_check() {
  Impl &m = *impl_;
  if (m.interface_id.empty() || !m.ec2) return std::nullopt;
  Ec2Result r = m.ec2->call(aws::describe_network_interface_attribute(m.interface_id, "sourceDestCheck"),
                            m.policy(kCheckAttempts));
  if (!r.ok()) return std::nullopt;  // informative only; the route reads carry the errors that matter
  try {
    return aws::parse_network_interface_attribute_bool(r.body, "sourceDestCheck");
  } catch (const aws::AwsFailure &) {
    return std::nullopt;
  }
}

}  // namespace pg_vip
