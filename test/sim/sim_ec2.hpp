// The simulated side of the world: a clock per node, and an EC2 that holds
// route tables and their fence tags, serves reads up to a bounded age,
// applies writes at the simulated time they reach it, and fails requests as
// the run's faults say. Deterministic: every choice comes from the run's
// seeded generator, nothing sleeps, nothing touches a socket.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
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

// What EC2 holds for one route table: the VIP's route and its fence tag.
struct TableState {
  bool route_present = false;
  bool blackhole = false;
  std::string eni;  // the route's target
  std::optional<std::string> tag;
  bool operator==(const TableState &o) const {
    return route_present == o.route_present && blackhole == o.blackhole && eni == o.eni && tag == o.tag;
  }
};
using Snapshot = std::map<std::string, TableState>;

// The fields of a fence tag the invariants need, parsed here independently
// of the code under test.
struct TagFields {
  uint32_t timeline = 0;
  std::string id;    // id= (the holder's interface), empty in old tags
  std::string node;  // node=
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
  Millis min_latency = 2, max_latency = 40;
};

// One changing request as EC2 received it (for the invariants and the trace).
struct Sent {
  Millis at = 0;
  int node = -1;
  std::string action;  // "Point" or "Fence"
  std::string table;
  std::string value;  // the interface pointed at, or the tag written
  bool applied = false;
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
  bool cancelled() override { return false; }
  std::mt19937_64 &random() override { return rng_; }

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
  // A change made outside pg_vip (an operator, a script).
  void set(Millis at, const std::string &table, const TableState &s);
  // A write by a node; returns whether the route's target changed.
  void write_route(Millis at, int node, const std::string &table, const std::string &eni);
  void write_tag(Millis at, int node, const std::string &table, const std::string &value);

  // What happens to one request of `node` for `action` sent at `at`:
  // latency, and an error or nothing. `applies` says whether a changing
  // request takes effect (also true for a lost answer).
  struct Fate {
    Millis latency = 0;
    std::optional<aws::AwsError> error;
    bool applies = false;
  };
  Fate fate(int node, const std::string &action, Millis at, Millis timeout);

  std::mt19937_64 &rng() { return rng_; }
  std::vector<Sent> sent;                     // every changing request, in order
  std::function<void(const Sent &)> on_send;  // the invariants look at each one
  // Per table: the timeline of the tag on it now, and since when a tag of
  // that timeline has stood there (a renewal does not restart it).
  std::map<std::string, std::pair<uint32_t, Millis>> tag_standing;
  // Per table: route changes (the target really changed) made by nodes.
  std::map<std::string, int> route_changes;

 private:
  void commit(Millis at);
  std::mt19937_64 &rng_;
  Snapshot state_;
  std::deque<std::pair<Millis, Snapshot>> history_;
};

// The Cloud of one node over the simulated EC2.
class SimCloud : public Cloud {
 public:
  SimCloud(Ec2 &ec2, int node, Millis *now, std::string vip, std::string eni, std::string instance)
      : ec2_(ec2), node_(node), now_(now), vip_(std::move(vip)), eni_(std::move(eni)), instance_(std::move(instance)) {}

  Placement prepare(const std::string &configured_interface) override;
  std::vector<TargetRead> read(const std::vector<std::string> &ids, int attempts) override;
  Applied apply(const std::vector<PointRequest> &points, const std::string &interface_id,
                const std::vector<std::string> &fence_ids, const std::string &fence_value, int attempts) override;
  std::optional<bool> source_dest_check() override { return false; }

  // For the invariants: per table, whether this node's last read of it
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
  Millis attempt(const std::string &action, Millis start, int attempts, const std::function<void(Millis)> &effect,
                 std::optional<aws::AwsError> &error);
  Ec2 &ec2_;
  int node_;
  Millis *now_;
  std::string vip_;
  std::string eni_;
  std::string instance_;
};

}  // namespace pg_vip::sim
