// The simulated side of the world: a clock per node, and an EC2 that holds
// the targets of both kinds (route tables and Elastic IPs) and their fence
// tags, serves reads up to a bounded age (each kind's read its own), applies
// writes at the simulated time they reach it, and fails requests as the
// run's faults say. Deterministic: every choice comes from the run's seeded
// generator, nothing sleeps, nothing touches a socket.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/cloud.hpp"
#include "core/time_source.hpp"

namespace pg_vip::sim {

using Millis = int64_t;  // simulated time since the run began

// What EC2 holds for one target and its fence tags (key to value: one key
// per timeline, and whatever an outsider wrote). A route table: the VIP's
// route (present, a blackhole, the interface it points at). An Elastic IP
// (an id "eipalloc-..."): its association, in the same fields: present when
// associated, `eni` the interface; never a blackhole (EC2 disassociates an
// address whose interface is deleted).
struct TableState {
  bool route_present = false;
  bool blackhole = false;
  std::string eni;  // the route's target
  std::map<std::string, std::string> tags;
  bool operator==(const TableState &o) const {
    return route_present == o.route_present && blackhole == o.blackhole && eni == o.eni && tags == o.tags;
  }
  // Whether a tag names this holder: its timeline and interface (or, in
  // tags without an interface, its name).
  bool carries(uint32_t timeline, const std::string &eni, const std::string &name) const;
  // The tags, one per line, for the trace and the invariants' messages.
  std::string describe_tags() const;
};
using Snapshot = std::map<std::string, TableState>;

// An AWS error answer as a simulated service gives it.
aws::AwsError simulated_error(aws::ErrorKind kind, long status, const std::string &code, const std::string &message);

// Which kind a target id names: EC2's own prefix, as the real Cloud tells
// them apart (checked here on its own, not with the code under test).
inline bool is_elastic_ip(const std::string &id) { return id.rfind("eipalloc-", 0) == 0; }
// A secondary private IP: an IPv4 address. Its entry in the snapshot is
// its assignment (the interface that has it) and its subnet's fence tags
// for it (a key per address on the subnet, which stays put: what Ec2Cloud
// reads and writes), so the invariants read it as any target.
inline bool is_secondary_ip(const std::string &id) { return !id.empty() && id[0] >= '0' && id[0] <= '9'; }
// A target moved by association or assignment: no blackhole.
inline bool is_address(const std::string &id) { return is_elastic_ip(id) || is_secondary_ip(id); }

// The fields of a fence tag the invariants need, parsed here independently
// of the code under test. Fields it does not know (lease=, held=, mac=, ...)
// are passed over; node= stays last.
struct TagFields {
  uint32_t timeline = 0;
  std::string sysid;  // sysid=, empty when absent
  std::string id;     // id= (the holder's interface), empty in old tags
  std::string node;   // node=
};
std::optional<TagFields> parse_tag(const std::string &value);

// Faults, as the run sets them at each moment.
struct Faults {
  double server_error = 0;   // 5xx before anything is applied
  double throttle = 0;       // RequestLimitExceeded
  double reset = 0;          // connection reset before the request arrives
  double lost_answer = 0;    // applied, then the answer is lost (a timeout)
  double stale_read = 0;     // a read served from an older state
  Millis max_staleness = 0;  // how old at most
  // DescribeAddresses' own eventual consistency: every read is at least
  // address_lag old (an association changed less than that ago is not seen
  // yet), and with probability address_stale_read older still, by up to
  // address_max_staleness. route_lag: the same floor for DescribeRouteTables
  // (a scenario's, or --route-lag's: no seed draws one).
  Millis address_lag = 0;
  double address_stale_read = 0;
  Millis address_max_staleness = 0;
  Millis route_lag = 0;
  Millis min_latency = 2, max_latency = 40;
  // A changing request whose answer was lost applies this late at most
  // (0: at once), with probability late_apply.
  double late_apply = 0;
  Millis max_write_delay = 0;

  // The oldest state any read may be served.
  Millis longest_staleness() const { return std::max(route_lag + max_staleness, address_lag + address_max_staleness); }
  // How far behind reads are (EC2's eventual consistency), no fault: what
  // stays when the run's faults stop.
  Faults consistency() const {
    Faults f;
    f.stale_read = stale_read;
    f.max_staleness = max_staleness;
    f.address_lag = address_lag;
    f.address_stale_read = address_stale_read;
    f.address_max_staleness = address_max_staleness;
    f.route_lag = route_lag;
    return f;
  }
};

// One changing request as EC2 received it (for the invariants and the trace).
struct Sent {
  Millis at = 0;
  int node = -1;
  std::string action;  // "Point" (a route or an association), "Fence" or "Forget"
  std::string table;   // the target's id
  std::string value;   // the interface pointed at, or the tag written
  bool applied = false;
  Millis sent_at = 0;  // when the request left the node (at: when EC2 applied it)
};

class Ec2;

// A node's clock: steps and requests advance it; a sleep is a jump.
class SimTime : public TimeSource {
 public:
  // skew: how far this node's wall clock is off (the steady clock is not).
  SimTime(Millis *now, uint64_t seed, Millis skew = 0) : now_(now), rng_(seed), skew_(skew) {}
  std::chrono::steady_clock::time_point steady() override;
  std::chrono::system_clock::time_point wall() override;
  void sleep(std::chrono::milliseconds ms) override { *now_ += ms.count(); }
  // A shutdown: from cancel_at on, everything under way stops.
  bool cancelled() override { return *now_ >= cancel_at; }
  std::mt19937_64 &random() override { return rng_; }
  // The wall clock steps (NTP, a hypervisor); the steady clock never does.
  void set_skew(Millis skew) { skew_ = skew; }
  Millis skew() const { return skew_; }
  Millis cancel_at = std::numeric_limits<Millis>::max();

 private:
  Millis *now_;
  std::mt19937_64 rng_;
  Millis skew_;
};

class Ec2 {
 public:
  Ec2(std::mt19937_64 &rng, std::vector<std::string> tables) : rng_(rng) {
    for (auto &t : tables) state_[t];
    history_.push_back({0, state_});
  }

  Faults faults;
  // Per node: actions refused (UnauthorizedOperation); a partition (every
  // request times out) until a time.
  std::map<int, std::set<std::string>> denied;
  std::map<int, Millis> partitioned_until;
  // Requests each node sent, counted where their fate is drawn: apart from
  // the attempts the Cloud reports, so the metrics' count is checked
  // against what EC2 saw (M1).
  std::map<int, uint64_t> requests_by_node;

  const Snapshot &state() const { return state_; }
  Snapshot state_at(Millis t) const;
  // A change made outside pg_vip (an operator, a script): a route, or an
  // Elastic IP associated or disassociated.
  void set(Millis at, const std::string &table, const TableState &s);
  // A tag written (or deleted: nullopt) outside pg_vip, under `key`.
  void set_tag(Millis at, const std::string &table, const std::string &key, const std::optional<std::string> &value);
  // A write by a node, sent at sent_at; late: applied after its answer was
  // lost. A route (CreateRoute, ReplaceRoute) or an association
  // (AssociateAddress with AllowReassociation: from wherever it is).
  void write_route(Millis at, int node, const std::string &table, const std::string &eni, Millis sent_at, bool late);
  void write_tag(Millis at, int node, const std::string &table, const std::string &key, const std::string &value,
                 Millis sent_at);
  // As DeleteTags with Tag.N.Value: each only where it still has that value.
  void delete_tags(Millis at, int node, const std::string &table,
                   const std::vector<std::pair<std::string, std::string>> &tags, Millis sent_at);
  // A target of another service (a Route 53 record) as it stands after a
  // change there, mirrored into the snapshot so that the invariants read
  // every kind alike: by a node (its route change and tags judged as its
  // writes) or, node -1, by an operator or outsider (as set and set_tag).
  void mirror(Millis at, int node, const std::string &table, const TableState &s, Millis sent_at);
  // The time of the newest state: a strongly consistent read's snapshot.
  Millis latest() const { return history_.back().first; }
  // Applies the late writes due by `upto`, in the order they come due.
  void flush(Millis upto);
  void later(Millis at, std::function<void(Millis)> effect);
  std::size_t pending() const { return late_.size(); }
  // A read was served at `at` (its present, whatever age its snapshot).
  void served(Millis at) { served_ = std::max(served_, at); }

  // What happens to one request of `node` for `action` sent at `at`:
  // latency, and an error or nothing. `applies` says whether a changing
  // request takes effect (also true for a lost answer).
  struct Fate {
    Millis latency = 0;
    std::optional<aws::AwsError> error;
    bool applies = false;
    Millis delay = 0;  // applied this long after it arrived (a late write)
  };
  Fate fate(int node, const std::string &action, Millis at, Millis timeout, int attempt);
  // What any AWS service's request meets: the latency, this world's
  // partitions, resets and denials (answered with `denial`), then the
  // service's own refusals in order (nothing applied), else applied, and
  // with lost_answer its answer lost. Counts nothing.
  struct Refusal {
    double chance;
    aws::AwsError error;
  };
  Fate draw(int node, const std::string &action, Millis at, Millis timeout, const aws::AwsError &denial,
            const std::vector<Refusal> &refusals, double lost_answer);
  // A scenario's hand on one request's fate: (node, action, attempt from 1, at).
  std::function<std::optional<Fate>(int, const std::string &, int, Millis)> script_fate;

  std::mt19937_64 &rng() { return rng_; }
  std::vector<Sent> sent;                     // every changing request, in order
  std::function<void(const Sent &)> on_send;  // the invariants look at each one
  // Per table and cluster (system identifier): the newest timeline among
  // the tags pg_vip nodes wrote that are on it now, and since when a tag
  // of that timeline has stood there (a renewal does not restart it). An
  // outsider's tags do not count.
  struct Standing {
    uint32_t timeline = 0;
    Millis since = 0;
  };
  std::map<std::string, std::map<std::string, Standing>> tag_standing;
  // Told of every tag a node writes, before it is written: (table, the
  // value under the same key before, new value, writer, sent_at, at); and
  // of every tag a node deletes: (table, value, writer, sent_at, at).
  std::function<void(const std::string &, const std::optional<std::string> &, const std::string &, int, Millis, Millis)>
      on_tag_write;
  std::function<void(const std::string &, const std::string &, int, Millis, Millis)> on_tag_delete;
  // Per target: route or association changes (it really moved) made by nodes, and when.
  std::map<std::string, int> route_changes;
  std::map<std::string, std::vector<Millis>> change_times;
  // Told of every route change a node's write makes: (table, node, the
  // target before, late: applied after its answer was lost, at).
  std::function<void(const std::string &, int, const std::string &, bool, Millis)> on_route_change;
  // Requests a node had cancelled (a shutdown) that EC2 still applied.
  uint64_t cancelled_applied = 0;

 private:
  void commit(Millis at);
  void restand(const std::string &table, Millis at);
  std::map<std::string, std::set<std::string>> genuine_;  // per table: keys last written by a node
  std::mt19937_64 &rng_;
  Snapshot state_;
  std::deque<std::pair<Millis, Snapshot>> history_;
  struct Late {
    Millis at;
    uint64_t seq;
    std::function<void(Millis)> effect;
  };
  std::vector<Late> late_;
  uint64_t late_seq_ = 0;
  Millis served_ = 0;
};

// The Cloud of one node over the simulated EC2.
class SimCloud : public Cloud {
 public:
  SimCloud(Ec2 &ec2, int node, Millis *now, SimTime *time, std::string vip, std::string eni, std::string instance)
      : ec2_(ec2), node_(node), now_(now), time_(time), vip_(std::move(vip)), eni_(std::move(eni)),
        instance_(std::move(instance)) {}

  Placement prepare(const std::string &configured_interface) override;
  std::vector<TargetRead> read(const std::vector<std::string> &ids, int attempts) override;
  Applied apply(const std::vector<PointRequest> &points, const std::string &interface_id, const FenceWrite &fence,
                int attempts) override;
  Outcome forget(const std::vector<std::string> &ids, const TagList &tags, int attempts) override;
  std::optional<bool> source_dest_check() override { return false; }

  // For the invariants: per target, whether this node's last read of it
  // succeeded, and the snapshot time that read served.
  struct LastRead {
    bool ok = false;
    Millis snapshot_at = -1;
    long step = -1;  // the step that read it (S4: a read of this very step)
  };
  long step = 0;  // set by the simulation before each step
  std::map<std::string, LastRead> last_read;
  // Told of every attempt, as the EC2 client tells the metrics.
  std::function<void(std::string_view action, const std::optional<aws::AwsError> &error, int attempt)> on_attempt;

  static constexpr Millis kTimeout = 1000;  // pg_vip.request_timeout in the simulation

 private:
  // Runs one request with the Cloud's retries; returns when it ended.
  // effect(at, late): what the request does in EC2, at the time it does it.
  Millis attempt(const std::string &action, Millis start, int attempts, const std::function<void(Millis, bool)> &effect,
                 std::optional<aws::AwsError> &error);
  // One Describe request for the targets `which` of `ids` (one kind), sent
  // at `start`: fills their reads; returns when it ended. `lag`, `stale`,
  // `max_stale`: that kind's eventual consistency.
  Millis describe(const std::string &action, Millis start, int attempts, const std::vector<std::string> &ids,
                  const std::vector<std::size_t> &which, Millis lag, double stale, Millis max_stale,
                  std::vector<TargetRead> &out);
  Ec2 &ec2_;
  int node_;
  Millis *now_;
  SimTime *time_;
  std::string vip_;
  std::string eni_;
  std::string placed_;  // the interface prepare() answered: a route there is this node's
  std::string instance_;
};

}  // namespace pg_vip::sim
