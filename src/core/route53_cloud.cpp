#include "route53_cloud.hpp"

#include <algorithm>
#include <map>

#include "error.hpp"
#include "http_client.hpp"
#include "imds.hpp"
#include "route53_client.hpp"
#include "route53_target.hpp"

namespace pg_vip {

using namespace std::chrono;
using aws::AwsError;
using aws::ErrorKind;

namespace {

constexpr const char *kChange = "ChangeResourceRecordSets";

// Route 53's refusal of a batch whose DELETE no longer matches: someone
// else's batch went first. Its own kind, so that the claim neither retries
// the same batch nor takes it for a configuration error: the next read
// shows who wrote, and the fence's rules decide again.
// The same refusal after an attempt that went unanswered (or a retry
// libcurl made by itself on a connection that died) may be this node's own
// batch, applied once already: the next read tells which.
AwsError lost_race_error(const AwsError &e, bool maybe_applied) {
  AwsError out = e;
  out.kind = ErrorKind::Conflict;
  out.message = std::string("the fence record is no longer what this node read (") +
                (maybe_applied ? "another node's batch went first, or this node's own earlier attempt, whose answer "
                                 "was lost, was applied"
                               : "another node's batch went first") +
                "); this batch changed nothing, the next read decides. Route 53 said: " + e.message;
  return out;
}

AwsError config_error(const std::string &what) { return AwsError{ErrorKind::Invalid, 0, "InvalidInput", what, ""}; }

class CurlRoute53 : public Route53Api {
 public:
  CurlRoute53(http::Client &http, std::unique_ptr<aws::Route53Client> client,
              std::function<aws::RetryPolicy(int)> policy)
      : http_(http), client_(std::move(client)), policy_(std::move(policy)) {}
  aws::TargetReadResult read_target(const std::string &zone, const std::string &address_name,
                                    const std::string &address_type, const std::string &fence_name,
                                    int attempts) override {
    return client_->read_target(zone, address_name, address_type, fence_name, policy_(attempts));
  }
  std::vector<aws::TargetReadResult> read_targets(const std::vector<aws::RecordQuery> &queries, int attempts) override {
    return client_->read_targets(queries, policy_(attempts));
  }
  aws::ChangeResult change(const std::string &zone, const aws::ChangeBatch &batch, int attempts) override {
    return client_->change(zone, batch, policy_(attempts));
  }
  aws::ChangeResult change_status(const std::string &change_id) override {
    return client_->change_status(change_id, policy_(1));
  }
  std::unique_ptr<RoundTrip<std::vector<aws::ChangeResult>>> begin_changes(Batches batches, int attempts) override;

 private:
  http::Client &http_;
  std::unique_ptr<aws::Route53Client> client_;
  std::function<aws::RetryPolicy(int)> policy_;
};

std::unique_ptr<RoundTrip<std::vector<aws::ChangeResult>>> CurlRoute53::begin_changes(Batches batches, int attempts) {
  std::vector<aws::Route53Call> calls;
  for (const auto &[zone, batch] : batches) calls.push_back(aws::change_resource_record_sets(zone, batch));
  // Every batch signed up front: they leave with whatever else the caller
  // sends (EC2's requests), and finish() retries what must be.
  std::vector<http::Request> requests = client_->build_all(calls);
  aws::Route53Client *client = client_.get();
  return std::make_unique<Prepared<std::vector<aws::ChangeResult>>>(
      &http_, std::move(requests), [client, calls, policy = policy_(attempts)](std::vector<http::Response> answers) {
        return client->change_all(calls, policy, answers);
      });
}

}  // namespace

struct Route53Cloud::Impl {
  Route53CloudOptions options;
  TimeSource &time;
  Clock clock;
  std::unique_ptr<http::Client> own_http;  // when no other Cloud's is given
  http::Client *http = nullptr;
  std::unique_ptr<aws::ImdsClient> imds;  // null when disabled
  std::unique_ptr<aws::CredentialProvider> credentials;
  std::unique_ptr<Route53Api> route53;
  DnsSelf me;
  // By target id: the fence record each batch compares with. A target not
  // in it has not been read since its last batch failed (lost, or perhaps
  // applied): nothing is sent to it until a read says what stands.
  std::map<std::string, DnsLastRead> last;
  // Changes sent and not yet seen INSYNC: followed by the reads after the
  // claim (never on its critical path), and logged once in sync.
  struct Pending {
    std::string id;
    steady_clock::time_point sent;
  };
  std::vector<Pending> pending;

  Impl(Route53CloudOptions o, TimeSource &t, std::unique_ptr<Route53Api> api)
      : options(std::move(o)), time(t), route53(std::move(api)) {}

  // This node's share of the account's budget for the service, kept for
  // the Cloud's life (api_budget.hpp).
  mutable aws::ApiBudget budget;

  aws::RetryPolicy policy(int attempts) const {
    // Route 53 takes about five requests a second per account: back off
    // further than EC2's 50 ms, with the client's full jitter.
    aws::RetryPolicy p = aws::cloud_policy(urgency_of(attempts), attempts, options.request_timeout,
                                           aws::Backoff{milliseconds(200), milliseconds(2000)}, time, &budget);
    p.log = options.log;
    p.on_attempt = options.on_attempt;
    return p;
  }

  std::string resolve_address() {
    const std::string &v = options.dns_value;
    if (v != "private" && v != "public" && v != "elastic") return v;
    if (v == "elastic") return elastic_address();
    if (!imds)
      throw Error("cannot find this node's " + v + " address for Route 53",
                  "pg_vip.dns_value is " + v + " and instance metadata is disabled.",
                  "Set pg_vip.dns_value to this node's address.");
    const char *path = v == "private" ? "meta-data/local-ipv4" : "meta-data/public-ipv4";
    try {
      std::string a = imds->get(path);
      while (!a.empty() && (a.back() == '\n' || a.back() == ' ')) a.pop_back();
      // Checked here, where the message can say where the address came from.
      if (!is_ip_address(a)) throw ConfigError("\"" + a.substr(0, 64) + "\" is not an IP address");
      return a;
    } catch (const aws::AwsFailure &e) {
      throw Error("cannot read this node's " + v + " address from instance metadata (" + path + ")",
                  std::string(e.what()) + (v == "public" ? " An instance without a public address has none." : ""),
                  "Set pg_vip.dns_value to this node's address.");
    } catch (const ConfigError &e) {
      throw Error("instance metadata gave no IP address at " + std::string(path), e.what(),
                  "Set pg_vip.dns_value to this node's address.");
    }
  }

  // Why no request can be signed now (a role that cannot be assumed), or
  // nullopt; only when another Cloud's credentials are used.
  std::optional<AwsError> credentials_error() {
    if (!credentials && options.credentials_ready) return options.credentials_ready();
    return std::nullopt;
  }

  // The public address of the first Elastic IP: the address every node
  // writes, since the Elastic IP follows the primary with the record.
  std::string elastic_address() {
    const std::string &id = options.elastic_ip;
    if (id.empty())
      throw Error("pg_vip.dns_value is elastic and pg_vip.elastic_ips is empty",
                  "The record takes the public address of the first Elastic IP pg_vip.elastic_ips lists, and it "
                  "lists none.",
                  "Set pg_vip.elastic_ips to the Elastic IP's allocation id (eipalloc-...), or pg_vip.dns_value to "
                  "private, public or an address.");
    if (!options.elastic_ip_address)
      throw Error("cannot read the public address of Elastic IP " + id,
                  "This node's Route 53 Cloud was given no EC2 client.", "Set pg_vip.dns_value to that address.");
    if (std::optional<AwsError> e = credentials_error())
      throw Error("cannot read the public address of Elastic IP " + id, e->describe_for("AssumeRole"),
                  "Fix the role pg_vip.role_arn names, or set pg_vip.dns_value to that address.");
    std::string a = options.elastic_ip_address(id);
    if (!is_ip_address(a))
      throw Error("Elastic IP " + id + " has no usable public address",
                  "DescribeAddresses gave \"" + a.substr(0, 64) + "\".", "Set pg_vip.dns_value to the address.");
    return a;
  }

  // Looks once at each change still being propagated.
  void follow_changes() {
    std::vector<Pending> still;
    for (const auto &p : pending) {
      aws::ChangeResult r = route53->change_status(p.id);
      if (r.ok() && r.change.insync()) {
        if (options.log)
          options.log("pg_vip: Route 53 change " + p.id + " is in sync on every name server, " +
                      std::to_string(duration_cast<milliseconds>(time.steady() - p.sent).count()) +
                      " ms after it was sent");
        continue;
      }
      // Followed for a while, never forever: an unanswered GetChange costs
      // nothing but the report.
      if (time.steady() - p.sent < minutes(10)) still.push_back(p);
    }
    pending = std::move(still);
  }
};

Route53Cloud::Route53Cloud(Route53CloudOptions options, TimeSource &time, std::unique_ptr<Route53Api> api)
    : impl_(std::make_unique<Impl>(std::move(options), time, std::move(api))) {
  if (!impl_->options.env) impl_->options.env = aws::process_environment();
}

Route53Cloud::~Route53Cloud() = default;

const std::string &Route53Cloud::address() const noexcept { return impl_->me.address; }

Placement Route53Cloud::prepare(const std::string &configured_interface) {
  Impl &m = *impl_;
  Placement p;
  bool own = !m.route53 && !m.http;
  if (own) {
    m.http = m.options.http ? m.options.http() : nullptr;
    if (!m.http) {
      http::ClientOptions ho;
      ho.ca_file = m.options.ca_file;
      TimeSource *ts = &m.time;
      ho.cancelled = [ts] { return ts->cancelled(); };
      m.own_http = std::make_unique<http::Client>(ho);
      m.http = m.own_http.get();
    }
    if (!aws::metadata_disabled(m.options.env)) {
      aws::ImdsOptions io;
      io.endpoint = m.options.imds_endpoint;
      io.timeout = std::min(m.options.request_timeout, milliseconds(1000));
      m.imds = std::make_unique<aws::ImdsClient>(*m.http, io, m.clock);
    }
    aws::CredentialSource *shared = m.options.credentials ? m.options.credentials() : nullptr;
    if (!shared) {
      m.credentials = std::make_unique<aws::CredentialProvider>(aws::CredentialOptions{m.options.aws_profile},
                                                                m.options.env, m.imds.get(), m.clock);
      shared = m.credentials.get();
    }
    aws::Route53Options ro;
    ro.endpoint = aws::resolve_route53_endpoint(m.options.route53_endpoint, m.options.env);
    ro.timeout = m.options.request_timeout;
    ro.connect_timeout = std::min(m.options.request_timeout, milliseconds(1000));
    Impl *impl = &m;
    m.route53 =
        std::make_unique<CurlRoute53>(*m.http, std::make_unique<aws::Route53Client>(*m.http, *shared, ro, m.clock),
                                      [impl](int attempts) { return impl->policy(attempts); });
  }
  if (configured_interface != "auto") {
    p.interface_id = configured_interface;
  } else {
    if (!m.imds)
      throw Error("cannot find this instance's network interface",
                  "pg_vip.network_interface is auto and instance metadata is disabled.",
                  "Set pg_vip.network_interface to this node's eni- id.");
    p.interface_id = m.imds->primary_interface_id();
  }
  if (m.me.address.empty()) m.me.address = m.resolve_address();
  m.me.interface_id = p.interface_id;
  m.me.ttl = m.options.dns_ttl;
  // Credentials now, so that a claim does not wait for them.
  if (m.credentials) (void) m.credentials->get();
  return p;
}

std::vector<TargetRead> Route53Cloud::read(const std::vector<std::string> &ids, int attempts) {
  Impl &m = *impl_;
  std::vector<TargetRead> out(ids.size());
  std::optional<AwsError> unsigned_error = m.credentials_error();
  // Every record that can be asked for, in one read_targets().
  std::vector<aws::RecordQuery> queries;
  std::vector<std::size_t> asked;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    TargetRead &r = out[i];
    r.id = ids[i];
    std::optional<DnsTarget> t = unsigned_error ? std::nullopt : parse_dns_target(ids[i]);
    if (unsigned_error) {
      r.error = unsigned_error;
      r.failed_action = "AssumeRole";
    } else if (!t) {
      r.error = config_error("\"" + ids[i] + "\" is not a Route 53 record (zone:name)");
      r.failed_action = "ListResourceRecordSets";
    } else {
      queries.push_back({t->zone, t->name, address_type(m.me.address), dns_fence_name(t->name)});
      asked.push_back(i);
    }
  }
  std::vector<aws::TargetReadResult> answers =
      queries.empty() ? std::vector<aws::TargetReadResult>{} : m.route53->read_targets(queries, attempts);
  for (std::size_t k = 0; k < asked.size(); ++k) {
    const std::string &id = ids[asked[k]];
    TargetRead &r = out[asked[k]];
    if (k >= answers.size() || !answers[k].ok()) {
      r.error = k < answers.size() ? answers[k].error
                                   : AwsError{ErrorKind::Malformed, 0, "MissingAnswer", "no answer for " + id, ""};
      r.failed_action = "ListResourceRecordSets";
      continue;
    }
    const aws::TargetReadResult &rr = answers[k];
    DnsLastRead &last = m.last[id];
    last.record = rr.target.fence ? std::optional<aws::RecordSet>(rr.target.fence->record) : std::nullopt;
    last.address = rr.target.address;
    last.fence = rr.target.fence && rr.target.fence->text ? parse_dns_fence_text(*rr.target.fence->text, m.options.vip)
                                                          : std::nullopt;
    r = dns_target_read(id, rr.target, m.me, m.options.vip);
  }
  if (!m.pending.empty()) m.follow_changes();
  return out;
}

Cloud::Applied Route53Cloud::apply(const std::vector<PointRequest> &points, const std::string &interface_id,
                                   const FenceWrite &fence, int attempts) {
  return complete(*begin_apply(points, interface_id, fence, attempts));
}

namespace {

// One record's part in a claim: what is sent to it, and how it went.
struct RecordClaim {
  std::string id;
  std::optional<std::size_t> point;  // its place in the points asked, when pointed
  bool fenced = false;
  std::optional<std::pair<std::string, std::string>> tag;  // the fence written
  std::optional<DnsTarget> target;
  aws::ChangeBatch batch;
  Outcome outcome;  // an error here: nothing is sent to it
};

}  // namespace

std::unique_ptr<RoundTrip<Cloud::Applied>> Route53Cloud::begin_apply(const std::vector<PointRequest> &points,
                                                                     const std::string &interface_id,
                                                                     const FenceWrite &fence, int attempts) {
  Impl &m = *impl_;
  (void) interface_id;  // the address is this node's (prepare): a record holds an address, not an interface
  // One batch per record: the ids pointed, then those only fenced.
  std::vector<std::string> ids;
  for (const auto &p : points) ids.push_back(p.id);
  for (const auto &id : fence.ids)
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  std::optional<AwsError> unsigned_error = ids.empty() ? std::nullopt : m.credentials_error();
  auto claims = std::make_shared<std::vector<RecordClaim>>();
  Route53Api::Batches batches;
  for (const auto &id : ids) {
    RecordClaim c;
    c.id = id;
    auto pi = std::find_if(points.begin(), points.end(), [&](const PointRequest &p) { return p.id == id; });
    if (pi != points.end()) c.point = static_cast<std::size_t>(pi - points.begin());
    c.fenced = std::find(fence.ids.begin(), fence.ids.end(), id) != fence.ids.end();
    if (c.fenced) c.tag = std::make_pair(fence.key, fence.value);
    c.outcome.sent = true;
    c.outcome.action = kChange;
    c.target = parse_dns_target(id);
    auto known = m.last.find(id);
    if (unsigned_error) {  // nothing sent: the batch could not be signed
      c.outcome.action = "AssumeRole";
      c.outcome.error = unsigned_error;
    } else {
      try {
        if (!c.target) throw ConfigError("\"" + id + "\" is not a Route 53 record (zone:name)");
        if (known != m.last.end())
          c.batch = dns_claim_batch(*c.target, m.me, known->second,
                                    c.point || (c.tag && stale_own_address(known->second, m.me)), c.tag);
      } catch (const Error &e) {
        c.outcome.error = config_error(e.what());
      }
    }
    if (!c.outcome.error && known == m.last.end())
      c.outcome.error = AwsError{ErrorKind::Conflict, 0, "NotReadSinceLastChange",
                                 "the record has not been read since a change of it failed; the next read decides", ""};
    if (!c.outcome.error) batches.emplace_back(c.target->zone, c.batch);
    claims->push_back(std::move(c));
  }
  Impl *impl = &m;
  std::size_t count = points.size();
  auto settle = [impl, claims, count](std::vector<aws::ChangeResult> results) {
    Impl &self = *impl;
    Applied out;
    out.points.resize(count);
    bool any_fence = false;
    std::size_t next = 0;
    for (RecordClaim &c : *claims) {
      Outcome &o = c.outcome;
      if (!o.error) {
        aws::ChangeResult r;
        if (next < results.size()) {
          r = results[next];
        } else {  // a sender that answered short: perhaps applied
          r.error = AwsError{ErrorKind::Transport, 0, "TransportError", "no answer", ""};
          r.maybe_applied = true;
        }
        ++next;
        if (r.ok()) {
          // What the fence record is now: the next batch compares with it.
          DnsLastRead &last = self.last[c.id];
          for (const auto &ch : c.batch.changes)
            if (ch.action == aws::ChangeAction::Create) {
              last.record = ch.record;
              last.fence =
                  c.tag ? std::optional<DnsFence>(DnsFence{c.tag->first, self.me.address, c.tag->second}) : last.fence;
            } else if (ch.action == aws::ChangeAction::Upsert) {
              last.address = ch.record;
            }
          if (!r.change.id.empty() && !r.change.insync()) self.pending.push_back({r.change.id, self.time.steady()});
        } else {
          // Lost, or perhaps applied: only a read can tell what stands now.
          self.last.erase(c.id);
          o.error = aws::lost_race(*r.error) ? lost_race_error(*r.error, r.maybe_applied) : *r.error;
        }
      }
      if (c.point) out.points[*c.point] = o;
      if (c.fenced) {
        out.fence_by_id[c.id] = o;
        any_fence = true;
      }
    }
    // Every fence of this kind went in its record's own batch: fence_by_id
    // says how each went; `fence` says only that something was written.
    if (any_fence) {
      out.fence.sent = true;
      out.fence.action = kChange;
      for (const auto &[id, o] : out.fence_by_id)
        if (o.error && !out.fence.error) out.fence.error = o.error;
    }
    return out;
  };
  return std::make_unique<Then<Applied, std::vector<aws::ChangeResult>>>(
      m.route53->begin_changes(std::move(batches), attempts), settle);
}

Outcome Route53Cloud::forget(const std::vector<std::string> &ids, const TagList &tags, int attempts) {
  (void) ids;
  (void) tags;
  (void) attempts;
  return {};
}

}  // namespace pg_vip
