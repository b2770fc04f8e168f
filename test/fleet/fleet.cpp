// The fleet simulation: K clusters of three nodes in one AWS account, every
// node the real Controller (and the real retry loop, quota and send rate of
// src/core) over a simulated EC2 whose per-action token buckets all of them
// share, on a simulated clock. It measures what the issue of a fleet asks:
//   - steady state: what the fleet's checks, renewals and tidying cost per
//     second, per action, against the buckets' refill;
//   - an Availability Zone outage: a third of the nodes die at once, a third
//     of the clusters promote within the same second; how long until each
//     of them holds its VIP, how many calls were throttled, whether any
//     cluster starved; then the zone returns: its nodes restart at once
//     (old primaries as stale primaries: the fence's worst case) and must
//     settle without taking any VIP back;
//   - the same storm with a naive policy (no retry quota, no send rate,
//     retries within a second), so the gain is a measured ratio.
// The fence's invariant is checked throughout: once a promoted node holds,
// no route of its cluster is pointed at an older timeline's node.
//
//   pg_vip_fleet [--clusters K] [--tables N] [--policy budget|naive]
//                [--seed S] [--describe SIZE/REFILL] [--mutate SIZE/REFILL]
//                [--check-interval MS] [--steady-only | --storm-only] [--table]
//                [--expect-throttling] [--census]
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "account.hpp"
#include "core/api_budget.hpp"
#include "core/aws_service.hpp"
#include "core/cloud.hpp"
#include "core/controller.hpp"
#include "core/preflight_pacing.hpp"
#include "core/preflight_probe.hpp"
#include "fibers.hpp"

namespace pg_vip::fleet {
namespace {

using std::chrono::milliseconds;

constexpr Millis kCheckInterval = 10000;             // pg_vip.check_interval's default
constexpr Millis kStandbyCheckInterval = 600000;     // pg_vip.standby_check_interval's
constexpr Millis kReplicatedCheckInterval = 300000;  // pg_vip.replicated_check_interval's
constexpr Millis kRequestTimeout = 2000;             // pg_vip.request_timeout's default
constexpr const char *kVip = "10.200.0.10/32";

enum class Policy { Budget, Naive };

struct Options {
  int clusters = 100;
  int tables = 1;
  Policy policy = Policy::Budget;
  uint64_t seed = 1;
  Limits limits;
  bool steady_only = false;
  bool table = false;         // one Markdown row per phase
  bool quiet_steady = false;  // --storm-only: the steady state runs, unprinted
  Millis check_interval = kCheckInterval;
  Millis standby_check_interval = kStandbyCheckInterval;
  Millis replicated_check_interval = kReplicatedCheckInterval;
  bool expect_throttling = false;  // fail when the outage throttled nothing (a check that tests nothing)
  bool census = false;             // after the steady state: the nodes per role and state
  bool herd = false;               // every worker starts within one check_interval
};

std::string hex_id(const char *prefix, uint64_t n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s%017" PRIx64, prefix, n);
  return buf;
}

struct Route {
  std::string eni;
  std::map<std::string, std::string> tags;
};

struct Node;

struct Cluster {
  int id = 0;
  std::string sysid;
  std::vector<std::string> tables;
  std::map<std::string, Route> state;
  uint32_t newest = 1;  // the newest timeline a node of it was promoted to
  std::vector<Node *> nodes;
  // The storm.
  bool failed_over = false;
  Millis promoted_at = -1, held_at = -1;
  int stale_points = 0;   // routes pointed at an older timeline's node after the newest held
  Millis tagged_at = -1;  // when a fence tag was last written on its tables (a claim's or a renewal's)
};

class FleetTime : public TimeSource {
 public:
  FleetTime(Fibers &f, uint64_t seed) : fibers_(f), rng_(seed) {}
  // An hour in: a zero time point means "never" to the controller.
  std::chrono::steady_clock::time_point steady() override {
    return std::chrono::steady_clock::time_point(milliseconds(fibers_.now() + 3600000));
  }
  std::chrono::system_clock::time_point wall() override {
    return std::chrono::system_clock::time_point(milliseconds(1796083200000LL + fibers_.now()));
  }
  void sleep(milliseconds ms) override { fibers_.sleep(ms.count()); }
  bool cancelled() override { return false; }
  std::mt19937_64 &random() override { return rng_; }

 private:
  Fibers &fibers_;
  std::mt19937_64 rng_;
};

struct NoCredentials : aws::CredentialSource {
  aws::Credentials c;
  const aws::Credentials &get() override { return c; }
  void invalidate() noexcept override {}
};

// Per node, what it sent and what EC2 refused.
struct Sent {
  uint64_t calls = 0, throttled = 0;
};

struct Node {
  Cluster *cluster = nullptr;
  int index = 0, az = 0;
  std::string name, eni, instance;
  bool alive = true;
  Role role = Role::Standby;
  PrimaryBy by = PrimaryBy::None;
  uint32_t timeline = 1;
  Millis noticed = -1;
  uint64_t life = 0;  // which run of its worker: a restart starts another
  std::size_t fiber = SIZE_MAX;
  std::unique_ptr<FleetTime> time;
  std::unique_ptr<Controller> ctl;
  Sent sent;
  bool read_once = false;  // its worker has read its targets since it started
  // The worker's own preflight at start: when it may run, and whether it has.
  PreflightPacing pacing;
  bool preflight_due = false;
  class FleetCloud *cloud = nullptr;
};

// What the fleet's preflights cost, per phase.
struct PreflightCost {
  uint64_t runs = 0, deferred = 0, calls = 0, throttled = 0;
};

// One node's Cloud over the account: every call goes through the core's
// retry loop (aws::retry_calls) under the core's policy (aws::cloud_policy)
// with this node's budget, or the naive policy.
class FleetCloud : public Cloud {
 public:
  FleetCloud(Node &n, Account &a, Fibers &f, Policy p, CloudReports r)
      : node_(n), account_(a), fibers_(f), policy_(p), reports_(std::move(r)) {}

  Placement prepare(const std::string &) override { return {"sim-1", node_.eni, node_.instance, {}}; }

  std::vector<TargetRead> read(const std::vector<std::string> &ids, int attempts) override {
    std::vector<TargetRead> out(ids.size());
    Cluster &c = *node_.cluster;
    auto r = exchange({"DescribeRouteTables"}, attempts, [&](std::size_t) {
      for (std::size_t i = 0; i < ids.size(); ++i) {
        const Route &route = c.state[ids[i]];
        out[i].state = route.eni == node_.eni ? TargetState::Ours : TargetState::Other;
        out[i].interface_id = out[i].points_at = route.eni;
        out[i].fence_tags.clear();
        for (const auto &[k, v] : route.tags)
          if (k.rfind(std::string("pg_vip:") + kVip, 0) == 0) out[i].fence_tags[k] = v;
      }
    });
    for (std::size_t i = 0; i < ids.size(); ++i) {
      out[i].id = ids[i];
      if (!r[0].ok()) {
        out[i].error = r[0].error;
        out[i].failed_action = "DescribeRouteTables";
      }
    }
    if (r[0].ok()) node_.read_once = true;
    return out;
  }

  Applied apply(const std::vector<PointRequest> &points, const std::string &eni, const FenceWrite &fence,
                int attempts) override {
    std::vector<std::string> actions;
    for (std::size_t i = 0; i < points.size(); ++i) actions.push_back("ReplaceRoute");
    if (!fence.ids.empty()) actions.push_back("CreateTags");
    Cluster &c = *node_.cluster;
    auto r = exchange(actions, attempts, [&](std::size_t i) {
      if (i < points.size()) {
        c.state[points[i].id].eni = eni;
        if (node_.timeline < c.newest && c.held_at >= 0) ++c.stale_points;
      } else {
        for (const auto &id : fence.ids) c.state[id].tags[fence.key] = fence.value;
        c.tagged_at = fibers_.now();
      }
    });
    Applied a;
    for (std::size_t i = 0; i < points.size(); ++i) a.points.push_back(Outcome{true, "ReplaceRoute", r[i].error});
    if (!fence.ids.empty()) a.fence = Outcome{true, "CreateTags", r.back().error};
    return a;
  }

  Outcome forget(const std::vector<std::string> &ids, const TagList &tags, int attempts) override {
    Cluster &c = *node_.cluster;
    auto r = exchange({"DeleteTags"}, attempts, [&](std::size_t) {
      for (const auto &id : ids)
        for (const auto &[k, v] : tags) {
          auto &t = c.state[id].tags;
          auto it = t.find(k);
          if (it != t.end() && (v.empty() || it->second == v)) t.erase(it);
        }
    });
    return Outcome{true, "DeleteTags", r[0].error};
  }

  std::optional<bool> source_dest_check() override {
    auto r = exchange({"DescribeNetworkInterfaceAttribute"}, kCheckAttempts, [](std::size_t) {});
    if (!r[0].ok()) return std::nullopt;
    return false;
  }

  aws::ApiBudget budget;

  // The worker's start-up preflight as the route kind sends it
  // (preflight_route.cpp, preflight_probe.cpp): the node's interface and
  // its source/destination check, the tables read, a DryRun of that read,
  // and per table a DryRun of ReplaceRoute, CreateRoute, CreateTags and
  // DeleteTags (each drawing on that action's bucket, as AWS counts
  // DryRuns), in groups of preflight::kMaxParallel under the probe's own
  // retry policy; with `stop_when_throttled` (the worker's run since
  // preflight pacing), no group after one AWS throttled. Returns how many
  // answers AWS throttled.
  int preflight(std::size_t tables, bool stop_when_throttled, PreflightCost &cost) {
    std::vector<std::string> actions = {"DescribeNetworkInterfaces", "DescribeNetworkInterfaceAttribute",
                                        "DescribeRouteTables", "DescribeRouteTables"};
    for (std::size_t t = 0; t < tables; ++t)
      for (const char *a : {"ReplaceRoute", "CreateRoute", "CreateTags", "DeleteTags"}) actions.push_back(a);
    int throttled = 0;
    ControllerConfig config;
    config.request_timeout = milliseconds(kRequestTimeout);
    preflight::ProbeHooks hooks;
    hooks.throttled = [&throttled] { ++throttled; };
    aws::RetryPolicy p = preflight::probe_policy(config, hooks);
    p.now = [this] { return node_.time->steady(); };
    p.sleep = [this](milliseconds ms) { node_.time->sleep(ms); };
    for (std::size_t i = 0; i < actions.size(); i += preflight::kMaxParallel) {
      std::vector<std::string> group(
          actions.begin() + static_cast<long>(i),
          actions.begin() + static_cast<long>(std::min(actions.size(), i + preflight::kMaxParallel)));
      uint64_t before = node_.sent.calls;
      send(group, p, [](std::size_t) {});
      cost.calls += node_.sent.calls - before;
      if (stop_when_throttled && throttled > 0) break;  // the worker's run stops there
    }
    cost.throttled += static_cast<uint64_t>(throttled);
    return throttled;
  }

 private:
  // The calls `actions`, all at once, under the retry loop: each attempt
  // reaches EC2 after half a round trip, where each call takes its
  // action's token (and, taken, does `effect(i)`), and is answered after
  // the other half.
  template <class Effect>
  std::vector<aws::Ec2Result> send(const std::vector<std::string> &actions, const aws::RetryPolicy &policy,
                                   Effect effect) {
    aws::RetriedCalls calls;
    calls.count = actions.size();
    calls.attempt = [&](const std::vector<std::size_t> &which, int) {
      std::uniform_int_distribution<Millis> latency(20, 60);
      Millis rtt = latency(node_.time->random());
      fibers_.sleep(rtt / 2);
      std::vector<aws::Ec2Result> out(which.size());
      for (std::size_t k = 0; k < which.size(); ++k) {
        const std::string &action = actions[which[k]];
        ++node_.sent.calls;
        if (!node_.alive) {
          out[k].error = aws::AwsError{aws::ErrorKind::Transport, 0, "RequestTimeout", "the node is down", ""};
        } else if (!account_.take(action, fibers_.now())) {
          ++node_.sent.throttled;
          out[k].error =
              aws::AwsError{aws::ErrorKind::Throttled, 503, "RequestLimitExceeded", "Request limit exceeded.", ""};
        } else {
          effect(which[k]);
        }
      }
      fibers_.sleep(rtt - rtt / 2);
      return out;
    };
    calls.name = [&](std::size_t i) { return aws::Ec2Call{actions[i], {}}; };
    calls.label = [&](std::size_t i) { return actions[i]; };
    return aws::retry_calls(calls, policy, credentials_, node_.time->random());
  }

  // A Cloud's call: the core's policy with this node's budget, or the naive one.
  template <class Effect>
  std::vector<aws::Ec2Result> exchange(const std::vector<std::string> &actions, int attempts, Effect effect) {
    aws::RetryPolicy p =
        policy_ == Policy::Budget
            ? aws::cloud_policy(urgency_of(attempts), attempts, milliseconds(kRequestTimeout),
                                aws::Backoff{milliseconds(50), milliseconds(1000)}, *node_.time, &budget)
            : aws::cloud_policy(urgency_of(attempts), attempts, milliseconds(kRequestTimeout),
                                aws::Backoff{milliseconds(1000), milliseconds(1000)}, *node_.time, nullptr);
    p.on_attempt = [this](const aws::Ec2Call &c, const aws::Ec2Result &r) {
      if (reports_.attempt) reports_.attempt(c.action, r.error, r.attempts);
    };
    return send(actions, p, effect);
  }

  Node &node_;
  Account &account_;
  Fibers &fibers_;
  Policy policy_;
  CloudReports reports_;
  NoCredentials credentials_;
};

class Fleet {
 public:
  explicit Fleet(const Options &o) : o_(o), account_(o.limits), rng_(o.seed) {}

  void build() {
    clusters_.resize(o_.clusters);
    nodes_.reserve(static_cast<std::size_t>(o_.clusters) * 3);
    for (int c = 0; c < o_.clusters; ++c) {
      Cluster &cl = clusters_[c];
      cl.id = c;
      cl.sysid = std::to_string(7300000000000000000ULL + static_cast<uint64_t>(c));
      for (int t = 0; t < o_.tables; ++t) cl.tables.push_back(hex_id("rtb-", static_cast<uint64_t>(c) * 16 + t));
      for (int j = 0; j < 3; ++j) {
        nodes_.emplace_back();
        Node &n = nodes_.back();
        n.cluster = &cl;
        n.index = j;
        n.az = (c + j) % 3;
        n.name = "c" + std::to_string(c) + "n" + std::to_string(j);
        n.eni = hex_id("eni-", static_cast<uint64_t>(c) * 4 + j);
        n.instance = hex_id("i-", static_cast<uint64_t>(c) * 4 + j);
        n.role = j == 0 ? Role::Primary : Role::Standby;
        n.by = j == 0 ? PrimaryBy::Start : PrimaryBy::None;
        cl.nodes.push_back(&n);
      }
      // The fleet as it runs: every route at its primary already, under
      // the tag its holder last renewed (a random part of its renewal
      // period ago), announcing the lease of the cadence it read at.
      Identity holder{cl.nodes[0]->name, cl.sysid, 1, cl.nodes[0]->eni};
      Tenure tenure;
      tenure.lease = lease(std::max(milliseconds(o_.check_interval), milliseconds(o_.replicated_check_interval)));
      std::uniform_int_distribution<Millis> renewed(0, tenure.lease.count() / 3);
      auto at = std::chrono::system_clock::time_point(milliseconds(1796083200000LL - renewed(rng_)));
      for (const auto &t : cl.tables) {
        cl.state[t].eni = cl.nodes[0]->eni;
        cl.state[t].tags[fence_tag_key(kVip, 1)] = fence_tag_value(holder, at, tenure);
      }
    }
    // A fleet that has been running a while: its start-up preflights are
    // long done (the zone's return below restarts nodes, and runs theirs),
    // and its nodes read at phases of their own, spread over the longest
    // cadence (--herd: every worker starts within one check_interval, as
    // after a restart of every node at once).
    std::uniform_int_distribution<Millis> offset(
        0, (o_.herd ? o_.check_interval
                    : std::max({o_.check_interval, o_.standby_check_interval, o_.replicated_check_interval})) -
               1);
    for (auto &n : nodes_) start(n, offset(rng_), false);
  }

  // Steady state: what the fleet spends per second over `window` after `warm_up`.
  void steady(Millis warm_up, Millis window) {
    fibers_.run(warm_up);
    account_.take_counts();
    fibers_.run(warm_up + window);
    auto counts = account_.take_counts();
    double reads = 0, changes = 0, refused = 0;
    std::map<std::string, double> per;
    for (const auto &[action, ar] : counts) {
      double rate = (ar.first + ar.second) * 1000.0 / window;
      per[action] = rate;
      (Account::reads(action) ? reads : changes) += rate;
      refused += ar.second;
    }
    auto top = [&](bool want_reads) {
      double best = 0;
      std::string which = "-";
      for (const auto &[a, r] : per)
        if (Account::reads(a) == want_reads && r > best) best = r, which = a;
      return std::make_pair(which, best);
    };
    auto [read_action, read_rate] = top(true);
    auto [change_action, change_rate] = top(false);
    const Limits &l = account_.limits();
    if (o_.quiet_steady) {
    } else if (o_.table) {
      std::printf("| steady | %d | %d | %.2f (%s) | %.0f%% | %.3f (%s) | %.0f%% | %.0f |\n", o_.clusters, o_.tables,
                  read_rate, read_action.c_str(), 100 * read_rate / l.describe_refill, change_rate,
                  change_action.c_str(), 100 * change_rate / l.mutate_refill, refused);
    } else {
      std::printf("steady state, %d clusters x %d tables, %.0f s window:\n", o_.clusters, o_.tables, window / 1000.0);
      for (const auto &[a, r] : per)
        std::printf("  %-36s %8.3f/s  (%.0f%% of its refill)\n", a.c_str(), r,
                    100 * r / (Account::reads(a) ? l.describe_refill : l.mutate_refill));
      std::printf("  throttled in the window: %.0f\n", refused);
    }
    if (o_.census) {  // where the reads come from: how many nodes are in which state
      std::map<std::string, int> census;
      for (const auto &n : nodes_)
        ++census[std::string(n.role == Role::Primary ? "primary " : "standby ") + to_string(n.ctl->state())];
      for (const auto &[k, v] : census) std::printf("  %s: %d\n", k.c_str(), v);
    }
    // The fence's lease: a primary that holds keeps its tag renewed (every
    // third of the lease its tag announces), or a rival of its timeline
    // counts it gone.
    int unrenewed = 0;
    Millis longest = 0;
    for (const auto &n : nodes_) {
      if (!n.alive || n.role != Role::Primary || n.ctl->state() != State::Held) continue;
      const Millis lease = announced_lease(*n.cluster);
      longest = std::max(longest, lease);
      if (fibers_.now() - n.cluster->tagged_at > lease) ++unrenewed;
    }
    if (unrenewed > 0)
      std::fprintf(o_.table ? stderr : stdout,
                   "  %d held primaries left their tag unrenewed for longer than its lease (up to %.0f s)\n", unrenewed,
                   longest / 1000.0);
    unrenewed_ = unrenewed;
    steady_read_ = read_rate;
    steady_change_ = change_rate;
  }

  // The AZ outage at `at`: zone 0's nodes die; each cluster whose primary
  // was there promotes its zone-1 standby within the second.
  void storm(Millis at) {
    fibers_.run(at);
    account_.take_counts();
    std::uniform_int_distribution<Millis> within(0, 999);
    int promoted = 0;
    for (auto &n : nodes_) {
      if (n.az != 0) continue;
      n.alive = false;
      if (n.role != Role::Primary) continue;
      Cluster &c = *n.cluster;
      for (Node *s : c.nodes)
        if (s->az == 1) {
          c.failed_over = true;
          c.promoted_at = at + within(rng_);
          pending_promotions_.push_back({c.promoted_at, s});
          ++promoted;
        }
    }
    // Their WAL receivers stop streaming: the workers wake and read at once.
    // A primary that lost a standby there sees its WAL sender go within a
    // second (the glue looks every second) and checks at once too.
    for (auto &n : nodes_)
      if (n.alive && n.role == Role::Standby && !streams(n)) fibers_.wake(n.fiber, at);
      else if (n.alive && n.role == Role::Primary && standbys_of(n) < 2) fibers_.wake(n.fiber, at + within(rng_));
    std::sort(pending_promotions_.begin(), pending_promotions_.end(),
              [](const auto &a, const auto &b) { return a.first < b.first; });
    for (const auto &[when, s] : pending_promotions_) {
      fibers_.run(when);
      promote(*s);
    }
    // The failover manager points each cluster's other standby at its new
    // primary (repmgr's standby follow, Patroni's next loop): 10 to 60 s.
    std::uniform_int_distribution<Millis> follow_after(10000, 60000);
    for (const auto &[when, s] : pending_promotions_)
      for (Node *m : s->cluster->nodes)
        if (m != s && m->alive && m->role == Role::Standby) follows_.push_back({when + follow_after(rng_), m});
    std::sort(follows_.begin(), follows_.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
    // Until every promoted cluster holds, or the horizon.
    const Millis drain = drain_ms(promoted);
    const Millis horizon = at + std::max<Millis>(600000, 4 * drain + 120000);
    Millis t = at;
    while (t < horizon && held_count() < promoted) {
      run_until(t += 1000);
      if (getenv("FLEET_DEBUG") && (t - at) % 60000 == 0) {
        std::map<std::string, int> census;
        for (const auto &n : nodes_)
          if (n.alive)
            ++census[std::string(n.role == Role::Primary ? "primary " : "standby ") + to_string(n.ctl->state())];
        std::printf("  DEBUG %llds:", static_cast<long long>((t - at) / 1000));
        for (const auto &[k, v] : census) std::printf(" %s %d;", k.c_str(), v);
        std::printf("\n");
      }
    }
    auto counts = account_.take_counts();
    std::vector<double> times;
    int starved = 0;
    for (const auto &c : clusters_)
      if (c.failed_over) {
        if (c.held_at >= 0) times.push_back((c.held_at - c.promoted_at) / 1000.0);
        else {
          ++starved;
          if (getenv("FLEET_DEBUG"))
            for (const Node *n : c.nodes)
              if (n->alive && n->role == Role::Primary)
                std::printf("  DEBUG starved %s: tl %u %s: %s\n", n->name.c_str(), n->timeline,
                            to_string(n->ctl->state()), n->ctl->last_error().c_str());
        }
      }
    std::sort(times.begin(), times.end());
    auto pct = [&](double p) -> double {
      if (times.empty()) return NAN;
      std::size_t i = static_cast<std::size_t>(std::ceil(p * times.size())) - 1;
      return times[std::min(i, times.size() - 1)];
    };
    uint64_t calls = 0, refused = 0;
    for (const auto &[a, ar] : counts) calls += ar.first + ar.second, refused += ar.second;
    const double drain_s = drain / 1000.0;
    const char *policy = o_.policy == Policy::Budget ? "budget" : "naive";
    if (o_.table) {
      std::printf("| failover | %d | %d | %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %" PRIu64 " | %" PRIu64
                  " | %d |\n",
                  o_.clusters, o_.tables, policy, promoted, drain_s, pct(0.5), pct(0.99),
                  times.empty() ? NAN : times.back(), drain_s > 0 ? pct(0.99) / drain_s : NAN, calls, refused, starved);
    } else {
      std::printf("AZ outage, %d clusters x %d tables, policy %s: %d promoted\n", o_.clusters, o_.tables, policy,
                  promoted);
      std::printf("  theoretical drain of the changing buckets: %.1f s\n", drain_s);
      std::printf("  time to held (s): p50 %.1f  p99 %.1f  max %.1f  (p99 / drain: %.2f)\n", pct(0.5), pct(0.99),
                  times.empty() ? NAN : times.back(), drain_s > 0 ? pct(0.99) / drain_s : NAN);
      std::printf("  calls %" PRIu64 ", throttled %" PRIu64 ", starved %d\n", calls, refused, starved);
    }
    starved_ = starved;
    untested_ = o_.expect_throttling && refused == 0;
    if (untested_) std::printf("  expected throttling in the outage, and nothing was throttled\n");
    // The zone returns: its nodes restart at once, old primaries as the
    // stale primaries they are until rewound.
    t = std::max(t, fibers_.now());
    std::uniform_int_distribution<Millis> boot(0, 999);
    int restarted = 0;
    for (auto &n : nodes_)
      if (!n.alive) {
        ++restarted;
        n.alive = true;
        start(n, t + boot(rng_));
      }
    account_.take_counts();
    preflight_ = PreflightCost{};
    const Millis back = t;
    Millis settled = -1;
    while (t < back + 600000) {
      run_until(t += 1000);
      bool all = true;
      for (const auto &n : nodes_)
        if (n.az == 0 && !(n.read_once && settled_state(n))) all = false;
      if (all) {
        settled = t;
        break;
      }
    }
    // Until the restarted nodes' preflights have all run (or ten minutes).
    while (t < back + 600000) {
      bool pending = false;
      for (const auto &n : nodes_) pending |= n.az == 0 && n.preflight_due;
      if (!pending) break;
      run_until(t += 1000);
    }
    if (getenv("FLEET_DEBUG")) {
      std::map<std::string, int> census;
      for (const auto &n : nodes_)
        if (n.az == 0)
          ++census[std::string(n.role == Role::Primary ? "primary " : "standby ") + to_string(n.ctl->state()) +
                   (n.read_once ? "" : " unread")];
      for (const auto &[k, v] : census) std::printf("  DEBUG zone 0: %s: %d\n", k.c_str(), v);
    }
    counts = account_.take_counts();
    calls = refused = 0;
    for (const auto &[a, ar] : counts) calls += ar.first + ar.second, refused += ar.second;
    int stale = 0;
    for (const auto &c : clusters_) stale += c.stale_points;
    if (o_.table) {
      std::printf("| return | %d | %d | %s | %d | %s | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " / %" PRIu64 " | %d |\n",
                  o_.clusters, o_.tables, policy, restarted,
                  settled < 0 ? "not settled" : std::to_string((settled - back) / 1000).c_str(), calls, refused,
                  preflight_.calls, preflight_.throttled, stale);
    } else {
      std::printf("  zone back: %d nodes restarted; settled in %s s; calls %" PRIu64 ", throttled %" PRIu64 "\n",
                  restarted, settled < 0 ? "(not within 600)" : std::to_string((settled - back) / 1000).c_str(), calls,
                  refused);
      std::printf("  their preflights: %" PRIu64 " runs, %" PRIu64 " deferred, %" PRIu64 " calls, %" PRIu64
                  " throttled\n",
                  preflight_.runs, preflight_.deferred, preflight_.calls, preflight_.throttled);
      std::printf("  routes pointed at a stale primary after the promoted node held: %d\n", stale);
    }
    stale_ = stale;
  }

  int failures() const { return starved_ + stale_ + unrenewed_ + (untested_ ? 1 : 0); }

 private:
  // The changing buckets' drain: the promotions' ReplaceRoutes (and their
  // CreateTags) beyond what the buckets hold, at their refill.
  Millis drain_ms(int promoted) const {
    const Limits &l = account_.limits();
    double routes = std::max(0.0, promoted * static_cast<double>(o_.tables) - l.mutate_size) / l.mutate_refill;
    double tags = std::max(0.0, promoted - l.mutate_size) / l.mutate_refill;
    return static_cast<Millis>(1000 * std::max(routes, tags));
  }

  int held_count() const {
    int n = 0;
    for (const auto &c : clusters_) n += c.failed_over && c.held_at >= 0;
    return n;
  }

  static bool settled_state(const Node &n) {
    State s = n.ctl->state();
    return n.role == Role::Primary ? s == State::Fenced || s == State::Held : s == State::Standby;
  }

  // The lease the holder's tag on the cluster's first table announces (the
  // check_interval's when there is none to read).
  Millis announced_lease(const Cluster &c) const {
    Millis lease = std::max<Millis>(6 * o_.check_interval, 60000);
    auto it = c.state.find(c.tables.front());
    if (it == c.state.end()) return lease;
    for (const auto &[key, value] : it->second.tags)
      if (auto h = parse_fence_tag(value)) lease = std::max<Millis>(lease, h->lease.count());
    return lease;
  }

  // Runs the fleet to `t`, each standby that follows its new primary
  // doing so at its time.
  void run_until(Millis t) {
    std::size_t i = 0;
    for (; i < follows_.size() && follows_[i].first <= t; ++i) {
      fibers_.run(follows_[i].first);
      Node &n = *follows_[i].second;
      if (n.alive && n.role == Role::Standby) n.timeline = n.cluster->newest;
    }
    follows_.erase(follows_.begin(), follows_.begin() + static_cast<long>(i));
    fibers_.run(t);
  }

  ControllerConfig config_of(const Node &n) const {
    ControllerConfig c;
    c.vip = kVip;
    c.route_tables = n.cluster->tables;
    c.region = "sim-1";
    c.node_name = n.name;
    c.check_interval = milliseconds(o_.check_interval);
    c.standby_check_interval = milliseconds(o_.standby_check_interval);
    c.replicated_check_interval = milliseconds(o_.replicated_check_interval);
    c.request_timeout = milliseconds(kRequestTimeout);
    return c;
  }

  // A standby streams from its cluster's live primary of its own timeline.
  static bool streams(const Node &n) {
    if (!n.alive || n.role != Role::Standby) return false;
    for (const Node *m : n.cluster->nodes)
      if (m->alive && m->role == Role::Primary && m->timeline == n.timeline) return true;
    return false;
  }
  // The physical standbys streaming from a primary (its WAL senders).
  static int standbys_of(const Node &p) {
    if (!p.alive || p.role != Role::Primary) return 0;
    int k = 0;
    for (const Node *m : p.cluster->nodes) k += m != &p && streams(*m) && m->timeline == p.timeline;
    return k;
  }

  void start(Node &n, Millis at, bool preflight = true) {
    const uint64_t life = ++n.life;
    n.read_once = false;
    n.time = std::make_unique<FleetTime>(fibers_, rng_());
    Controller::Hooks hooks;
    hooks.time = n.time.get();
    Node *np = &n;
    hooks.cloud = [this, np](const ControllerConfig &, TimeSource &, CloudReports reports) {
      auto c = std::make_unique<FleetCloud>(*np, account_, fibers_, o_.policy, reports);
      np->cloud = c.get();
      return std::unique_ptr<Cloud>(std::move(c));
    };
    n.preflight_due = preflight;
    // A fleet that has been running (no preflight due): each worker resumes
    // what it published before, a primary its hold, as a restarted worker
    // does; it is checked again at its first step. A node restarting
    // (the zone's return) starts afresh.
    Resume resume;
    if (!preflight) {
      resume.role = n.role;
      resume.by = n.by;
      resume.timeline = n.timeline;
      resume.state = n.role == Role::Primary ? State::Held : State::Standby;
      if (n.role == Role::Primary) resume.term_since = n.time->wall() - std::chrono::hours(24);
    }
    n.ctl = std::make_unique<Controller>(std::move(hooks), resume);
    n.ctl->configure(config_of(n));
    n.fiber = fibers_.spawn(at, [this, np, life] { run(*np, life); });
  }

  void promote(Node &n) {
    Cluster &c = *n.cluster;
    c.newest = std::max(c.newest, n.timeline + 1);
    n.role = Role::Primary;
    n.by = PrimaryBy::Promotion;
    n.timeline = c.newest;
    n.noticed = fibers_.now();
    n.ctl->observe_role(Role::Primary, PrimaryBy::Promotion, n.timeline, true);
    fibers_.wake(n.fiber, fibers_.now());  // the worker's latch
  }

  // A worker: steps while its node is up, as the glue's main loop does.
  void run(Node &n, uint64_t life) {
    n.pacing.ask(n.time->steady(), milliseconds(o_.check_interval), n.time->random());
    while (n.alive && n.life == life) {
      Observation obs;
      obs.role = n.role;
      obs.by = n.role == Role::Primary ? n.by : PrimaryBy::None;
      obs.timeline = n.timeline;
      obs.system_identifier = n.cluster->sysid;
      obs.streaming = streams(n);
      obs.standbys = standbys_of(n);
      if (n.noticed >= 0) obs.primary_noticed = n.time->steady() - milliseconds(fibers_.now() - n.noticed);
      milliseconds delay = n.ctl->step(obs);
      (void) n.ctl->take_answers();
      (void) n.ctl->take_events();
      (void) n.ctl->take_logs();
      Cluster &c = *n.cluster;
      if (c.failed_over && c.held_at < 0 && n.timeline == c.newest && n.ctl->state() == State::Held)
        c.held_at = fibers_.now();
      if (!n.alive || n.life != life) break;
      preflight_if_due(n);
      if (!n.alive || n.life != life) break;
      fibers_.yield_until(fibers_.now() + std::max<Millis>(delay.count(), 1), true);
    }
  }

  // The worker's own preflight after its step, as the glue runs it: with
  // the budget policy, paced (preflight_pacing.hpp) and deferred when AWS
  // throttled it; naive, at once and once.
  void preflight_if_due(Node &n) {
    if (!n.preflight_due || !n.cloud || n.ctl->state() == State::Primary) return;
    const bool paced = o_.policy == Policy::Budget;
    if (paced && !n.pacing.due(n.time->steady(), n.ctl->throttled_at())) return;
    n.preflight_due = false;
    ++preflight_.runs;
    int throttled = n.cloud->preflight(static_cast<std::size_t>(o_.tables), paced, preflight_);
    if (paced && throttled > 0) {
      ++preflight_.deferred;
      n.pacing.throttled(n.time->steady(), n.time->random());
      n.preflight_due = true;
    } else {
      n.pacing.done();
    }
  }

  Options o_;
  PreflightCost preflight_;
  Account account_;
  Fibers fibers_;
  std::mt19937_64 rng_;
  std::vector<Cluster> clusters_;
  std::vector<Node> nodes_;
  std::vector<std::pair<Millis, Node *>> pending_promotions_;
  std::vector<std::pair<Millis, Node *>> follows_;  // (when, standby) that follows its cluster's newest timeline
  double steady_read_ = 0, steady_change_ = 0;
  int starved_ = 0, stale_ = 0, unrenewed_ = 0;
  bool untested_ = false;
};

bool parse_limit(const char *arg, double &size, double &refill) {
  return std::sscanf(arg, "%lf/%lf", &size, &refill) == 2 && size >= 1 && refill > 0;
}

}  // namespace
}  // namespace pg_vip::fleet

int main(int argc, char **argv) {
  using namespace pg_vip::fleet;
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char * {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "pg_vip_fleet: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--clusters") o.clusters = std::atoi(value());
    else if (a == "--tables") o.tables = std::atoi(value());
    else if (a == "--seed") o.seed = std::strtoull(value(), nullptr, 10);
    else if (a == "--policy") {
      std::string p = value();
      if (p != "budget" && p != "naive") {
        std::fprintf(stderr, "pg_vip_fleet: --policy is budget or naive\n");
        return 2;
      }
      o.policy = p == "budget" ? Policy::Budget : Policy::Naive;
    } else if (a == "--describe" || a == "--mutate") {
      double &size = a == "--describe" ? o.limits.describe_size : o.limits.mutate_size;
      double &refill = a == "--describe" ? o.limits.describe_refill : o.limits.mutate_refill;
      if (!parse_limit(value(), size, refill)) {
        std::fprintf(stderr, "pg_vip_fleet: %s takes SIZE/REFILL, e.g. 100/20\n", a.c_str());
        return 2;
      }
    } else if (a == "--steady-only") o.steady_only = true;
    else if (a == "--table") o.table = true;
    else if (a == "--storm-only") o.quiet_steady = true;
    else if (a == "--check-interval") o.check_interval = std::atoll(value());
    else if (a == "--standby-check-interval") o.standby_check_interval = std::atoll(value());
    else if (a == "--replicated-check-interval") o.replicated_check_interval = std::atoll(value());
    else if (a == "--expect-throttling") o.expect_throttling = true;
    else if (a == "--census") o.census = true;
    else if (a == "--herd") o.herd = true;
    else {
      std::fprintf(stderr,
                   "usage: pg_vip_fleet [--clusters K] [--tables N] [--policy budget|naive] [--seed S]\n"
                   "                    [--describe SIZE/REFILL] [--mutate SIZE/REFILL] [--steady-only|--storm-only]\n"
                   "                    [--check-interval MS] [--standby-check-interval MS]\n"
                   "                    [--replicated-check-interval MS] [--table]\n"
                   "                    [--expect-throttling] [--census] [--herd]\n");
      return 2;
    }
  }
  if (o.clusters < 1 || o.tables < 1 || o.tables > 16 || o.check_interval < 100) {
    std::fprintf(stderr, "pg_vip_fleet: --clusters at least 1, --tables 1 to 16, --check-interval at least 100\n");
    return 2;
  }
  Fleet f(o);
  f.build();
  // Long enough for the holders to slow down (a lease of check_interval)
  // and for two of their renewals (a third of 30 min each) in the window.
  f.steady(15 * 60000, 30 * 60000);
  if (o.steady_only) return f.failures() == 0 ? 0 : 1;
  f.storm(45 * 60000);
  return f.failures() == 0 ? 0 : 1;
}
