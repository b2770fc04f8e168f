// The fence, proven by simulation: several nodes of one cluster, each
// running the real controller (src/core), over one simulated EC2 with
// faults, on a simulated clock. A seed decides everything: the cluster, the
// faults, the failovers, crashes, restarts, rejoins, vip_claim() calls,
// reloads and an operator's hand; the same seed replays the same run.
// After every step the invariants below are checked; a violation prints
// the seed, the invariant and the trace of the run.
//
//   S1  once a node on timeline T has its fence tag on a table, and it has
//       stood there for H, no node on a timeline below T sends a changing
//       request for that table. H is one read's staleness plus one claim's
//       length: EC2 has no conditional write, so a node may act on a read
//       that could not yet show the newer tag, and even overwrite it; what
//       it must never do is ignore a tag it had time to see. The step that
//       answers a forced claim overrides.
//   S2  no route war: per table, the route changes pg_vip makes are bounded
//       by 1 + promotions + operator moves + 2 x (double promotions +
//       vip_claim() calls + starts as primary + promotion claims whose
//       fence tag did not land), plus, against a rogue script that keeps
//       moving a route for a duration D, 2 + D / flap window + one for each
//       node that becomes primary meanwhile, plus 4 each time IAM starts
//       denying CreateTags to a node. Once faults and events stop, a table
//       changes at most 2 + 2 x (primaries) more times while the cluster
//       settles.
//   S3  a node reports `held` only when, in the state its verifying read
//       saw, every table's route and fence tag name it.
//   S4  a node that started as primary, and any repair, never changes a
//       table whose current tag it could not read: only a promotion's
//       first claim and a forced claim act on what they did not just read.
//   S5  a vip_claim() request is handled once: a restarted worker does not
//       replay it.
//   M1  the counters (vip_metrics()) never go back while the server runs, a
//       worker restart included; each step adds one claim per vip_held or
//       vip_repaired event, one repair per vip_repaired, one fence per
//       vip_fenced, and one EC2 call per attempt the node made.
//   L1  once faults and events stop, within a bounded simulated time every
//       table points at the newest-timeline live primary (one of them, when
//       two share the timeline), which reports `held` and whose tag is on
//       every table; every other live node reports `standby` or `fenced`.
//
// Usage: pg_vip_sim [--seeds N] [--first F] [--steps S] [--seed X] [--trace] [--ignore S4,S3]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/controller.hpp"
#include "sim_ec2.hpp"

namespace pg_vip::sim {
namespace {

const std::string kVip = "10.0.99.10/32";
const std::string kSysid = "7311000000000000001";

struct Violation {
  std::string invariant;
  std::string what;
};

struct ClaimRequest {
  uint64_t seq;
  bool force;
};

struct Node {
  int id = 0;
  std::string name;  // pg_vip.node_name as configured (may be shared)
  std::string eni, instance;
  enum class Pg { Down, Standby, Primary } pg = Pg::Standby;
  bool was_primary = false;  // while down: it ran as primary
  uint32_t timeline = 1;
  PrimaryBy by = PrimaryBy::None;
  Millis now = 0;
  Millis next_wake = 0;
  Millis primary_noticed = -1;
  std::unique_ptr<SimTime> time;
  std::unique_ptr<Controller> ctl;
  SimCloud *cloud = nullptr;
  // What lives in shared memory: the status the worker publishes, which a
  // restarted worker resumes from (as the worker does: resume_from). It
  // survives a worker restart, not a server restart.
  std::unique_ptr<Status> shm = std::make_unique<Status>();
  uint64_t claim_seq = 0;
  std::vector<ClaimRequest> requests;
  bool first_primary_step = false;  // the next step is the first since promotion
  bool forcing = false;             // this step answers a forced claim
  uint64_t requests_before = 0;     // EC2's count of this node's requests before the running step (M1)
  Millis check_interval = 2000;
  Millis skew = 0;  // this node's wall clock is off by this much (NTP drift, a bad clock)
  bool alive() const { return pg != Pg::Down; }
};

class Run {
 public:
  Run(uint64_t seed, long steps, bool trace_all) : seed_(seed), steps_(steps), trace_all_(trace_all), rng_(seed) {}

  // Returns the first violation, if any.
  std::optional<Violation> go();
  long steps_done() const { return steps_done_; }
  void print_trace() const {
    for (const auto &l : trace_) std::printf("  %s\n", l.c_str());
  }

 private:
  template <typename... A>
  void trace(const char *fmt, A... a) {
    char buf[1024];
    std::snprintf(buf, sizeof buf, fmt, a...);
    char line[1100];
    std::snprintf(line, sizeof line, "%8.3f %s", now_ / 1000.0, buf);
    if (trace_all_) std::printf("  %s\n", line);
    trace_.push_back(line);
    if (trace_.size() > 400) trace_.pop_front();
  }
  double chance() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  long pick(long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng_); }

  void setup();
  void start_worker(Node &n);
  void stop_worker(Node &n) {
    n.ctl.reset();
    n.cloud = nullptr;
  }
  ControllerConfig config_of(const Node &n) const;
  void step(Node &n);
  void environment();
  void heal();
  uint32_t newest_timeline() const;
  void check_send(const Sent &s);
  void check_after_step(Node &n, const std::vector<Event> &events, bool had_request);
  void check_budget();
  void check_metrics(Node &n, const Metrics &before, const std::vector<Event> &events);
  void check_l1();
  void fail(const std::string &inv, const std::string &what) {
    if (!violation_ && ignored.find(inv) == std::string::npos) violation_ = Violation{inv, what};
  }

 public:
  std::string ignored;  // invariants not checked (--ignore S4,S3): to see what lies behind a first violation

 private:
  uint64_t seed_;
  long steps_;
  bool trace_all_;
  std::mt19937_64 rng_;
  long steps_done_ = 0;
  Millis now_ = 0;
  std::deque<std::string> trace_;
  std::optional<Violation> violation_;
  std::unique_ptr<Ec2> ec2_;
  std::vector<std::string> tables_;
  std::vector<Node> nodes_;
  Millis next_event_ = 0;
  // A rogue script (an old failover hook, infrastructure as code) that keeps
  // pointing one table elsewhere: pg_vip must not fight it.
  struct Rogue {
    std::string table, eni;
    Millis until = 0, period = 0, next = 0;
  };
  std::optional<Rogue> rogue_;
  std::map<std::string, int> changes_at_heal_;  // S2 once faults stop: the cluster settles, it does not flip
  int settle_allowance_ = 4;
  int tag_denials_ = 0;      // times IAM began to deny CreateTags to a node
  int rogue_allowance_ = 0;  // route changes S2 allows pg_vip against rogues
  Millis staleness_ = 0;
  Millis horizon_ = 0;  // H of S1
  bool quiet_ = false;
  Millis quiet_since_ = 0;
  // S2's budget.
  int promotions_ = 0, operator_moves_ = 0, forced_ = 0, requested_ = 0, starts_ = 0, unfenced_ = 0, doubles_ = 0;
  // Whose step is running, and whether it may act without a fresh read.
  Node *stepping_ = nullptr;
  bool exempt_ = false;
};

ControllerConfig Run::config_of(const Node &n) const {
  ControllerConfig c;
  c.vip = kVip;
  c.route_tables = tables_;
  c.network_interface = "auto";
  c.region = "sim-1";
  c.node_name = n.name;
  c.check_interval = std::chrono::milliseconds(n.check_interval);
  c.request_timeout = std::chrono::milliseconds(SimCloud::kTimeout);
  return c;
}

void Run::start_worker(Node &n) {
  Controller::Hooks hooks;
  n.time = std::make_unique<SimTime>(&n.now, rng_(), n.skew);
  hooks.time = n.time.get();
  Node *np = &n;
  Ec2 *ec2 = ec2_.get();
  hooks.cloud = [this, np, ec2](const ControllerConfig &, TimeSource &, CloudReports reports) {
    auto c = std::make_unique<SimCloud>(*ec2, np->id, &np->now, kVip, np->eni, np->instance);
    c->step = steps_done_;
    c->on_attempt = [attempt = std::move(reports.attempt)](std::string_view action,
                                                           const std::optional<aws::AwsError> &error, int n) {
      if (attempt) attempt(action, error, n);
    };
    np->cloud = c.get();
    return std::unique_ptr<Cloud>(std::move(c));
  };
  n.ctl = std::make_unique<Controller>(std::move(hooks), resume_from(*n.shm));
  n.ctl->configure(config_of(n));
  n.next_wake = now_ + pick(1, 20);
}

uint32_t Run::newest_timeline() const {
  uint32_t tl = 1;
  for (const auto &n : nodes_) tl = std::max(tl, n.timeline);
  return tl;
}

void Run::setup() {
  int n_nodes = static_cast<int>(pick(2, 4));
  int n_tables = static_cast<int>(pick(1, 3));
  for (int i = 0; i < n_tables; ++i) tables_.push_back("rtb-" + std::to_string(i + 1));
  ec2_ = std::make_unique<Ec2>(rng_, tables_);
  bool same_names = chance() < 0.3;  // Debian's cluster_name, or one host name everywhere
  Millis interval = std::vector<Millis>{1000, 2000, 5000, 10000}[pick(0, 3)];
  staleness_ = std::vector<Millis>{0, 200, 1000, 2000}[pick(0, 3)];
  horizon_ = staleness_ + 10000;
  ec2_->faults.max_staleness = staleness_;
  ec2_->faults.stale_read = staleness_ ? 0.3 : 0;
  double level = std::vector<double>{0, 0.02, 0.1, 0.3}[pick(0, 3)];
  ec2_->faults.server_error = level / 2;
  ec2_->faults.throttle = level / 2;
  ec2_->faults.reset = level / 4;
  ec2_->faults.lost_answer = level / 3;
  nodes_.resize(n_nodes);
  for (int i = 0; i < n_nodes; ++i) {
    Node &n = nodes_[i];
    n.id = i;
    n.name = same_names ? "15/main" : "node-" + std::string(1, static_cast<char>('a' + i));
    char eni[32];
    std::snprintf(eni, sizeof eni, "eni-0%x%07x", i + 10, static_cast<unsigned>(pick(0, 0xfffffff)));
    n.eni = eni;
    n.instance = "i-0" + std::to_string(i + 1);
    n.check_interval = interval;
    // Clocks disagree: SigV4 tolerates 5 minutes, so a node up to a couple
    // of minutes off still reaches EC2.
    n.skew = chance() < 0.3 ? pick(-120000, 120000) : pick(-500, 500);
    n.pg = i == 0 ? Node::Pg::Primary : Node::Pg::Standby;
    n.by = i == 0 ? PrimaryBy::Start : PrimaryBy::None;
    start_worker(n);
  }
  // The VPC before pg_vip: the route at the first node, no tag.
  for (const auto &t : tables_) {
    TableState s;
    s.route_present = chance() < 0.7;
    s.eni = nodes_[0].eni;
    ec2_->set(0, t, s);
  }
  ec2_->on_send = [this](const Sent &s) { check_send(s); };
  trace("seed %llu: %d nodes, %d tables, check_interval %lld ms, staleness %lld ms, fault level %.2f%s",
        static_cast<unsigned long long>(seed_), n_nodes, n_tables, static_cast<long long>(interval),
        static_cast<long long>(staleness_), level, same_names ? ", every node named 15/main" : "");
}

void Run::check_send(const Sent &s) {
  Node &n = nodes_[s.node];
  trace("  node %d %s %s -> %s", s.node, s.action.c_str(), s.table.c_str(), s.value.c_str());
  if (exempt_) return;
  // S1: a newer timeline's tag that has stood long enough for any reader to see it.
  auto standing = ec2_->tag_standing.find(s.table);
  if (standing != ec2_->tag_standing.end() && standing->second.first > n.timeline &&
      standing->second.second <= s.at - horizon_)
    fail("S1", "node " + std::to_string(s.node) + " on timeline " + std::to_string(n.timeline) + " sent " + s.action +
                   " for " + s.table + " although timeline " + std::to_string(standing->second.first) +
                   "'s tag has stood on it since " + std::to_string(standing->second.second) + " ms");
  // S4: fail closed.
  bool read_ok = false;
  if (n.cloud)
    if (auto it = n.cloud->last_read.find(s.table); it != n.cloud->last_read.end())
      read_ok = it->second.ok && it->second.step == steps_done_;
  if (!read_ok)
    fail("S4", "node " + std::to_string(s.node) + " sent " + s.action + " for " + s.table +
                   " without having read that table successfully in this step");
}

void Run::check_after_step(Node &n, const std::vector<Event> &events, bool had_request) {
  // S3: held only on what a read saw.
  if (n.ctl->state() == State::Held) {
    for (const auto &t : tables_) {
      auto it = n.cloud->last_read.find(t);
      if (it == n.cloud->last_read.end() || !it->second.ok) {
        fail("S3", "node " + std::to_string(n.id) + " reports held without having read " + t);
        return;
      }
      TableState s = ec2_->state_at(it->second.snapshot_at)[t];
      auto tag = s.tag ? parse_tag(*s.tag) : std::nullopt;
      bool route = s.route_present && !s.blackhole && s.eni == n.eni;
      bool fenced = tag && tag->timeline == n.timeline && (tag->id.empty() ? tag->node == n.name : tag->id == n.eni);
      if (!route || !fenced)
        fail("S3", "node " + std::to_string(n.id) + " reports held but " + t + " has route " +
                       (s.route_present ? s.eni : "(none)") + " and tag " + (s.tag ? *s.tag : "(none)"));
    }
  }
  // S5: a claim that nobody asked for.
  for (const auto &e : events) {
    bool claim_event = e.name == "vip_claim" || e.name == "vip_claim_failed";
    bool asked =
        e.details.find("requested by") != std::string::npos || e.details.find("forced by") != std::string::npos;
    if (claim_event && asked && !had_request)
      fail("S5", "node " + std::to_string(n.id) + " handled a vip_claim() request that was already done: " + e.details);
  }
}

void Run::check_metrics(Node &n, const Metrics &before, const std::vector<Event> &events) {
  const Metrics &after = n.shm->metrics;
  auto count = [&](const char *name) {
    return static_cast<uint64_t>(
        std::count_if(events.begin(), events.end(), [&](const Event &e) { return e.name == name; }));
  };
  auto calls = [](const Metrics &m) {
    uint64_t total = 0;
    for (const auto &a : m.actions)
      for (uint64_t c : a.calls) total += c;
    return total;
  };
  std::string who = "node " + std::to_string(n.id) + ": ";
  for (int b = 0; b <= kClaimBucketBounds; ++b)
    if (after.claims_within(b) < before.claims_within(b)) return fail("M1", who + "a claim bucket went back");
  if (after.claims() - before.claims() != count("vip_held") + count("vip_repaired"))
    fail("M1", who + std::to_string(after.claims() - before.claims()) + " claims counted for " +
                   std::to_string(count("vip_held") + count("vip_repaired")) + " vip_held/vip_repaired events");
  if (after.repairs - before.repairs != count("vip_repaired"))
    fail("M1", who + "repairs counted differ from vip_repaired events");
  if (after.fences - before.fences != count("vip_fenced"))
    fail("M1", who + "fences counted differ from vip_fenced events");
  if (after.claim_failures < before.claim_failures) fail("M1", who + "claim failures went back");
  uint64_t sent = ec2_->requests_by_node[n.id] - n.requests_before;
  if (calls(after) - calls(before) != sent)
    fail("M1", who + std::to_string(calls(after) - calls(before)) + " calls counted for " + std::to_string(sent) +
                   " requests EC2 saw");
}

void Run::check_budget() {
  if (quiet_)
    for (const auto &[table, changes] : ec2_->route_changes)
      if (changes - changes_at_heal_[table] > settle_allowance_)
        fail("S2", table + " changed " + std::to_string(changes - changes_at_heal_[table]) +
                       " times after faults and events stopped: the cluster must settle, not flip");
  for (const auto &[table, changes] : ec2_->route_changes) {
    int budget = 1 + promotions_ + 2 * doubles_ + operator_moves_ + 2 * (forced_ + requested_ + starts_ + unfenced_) +
                 4 * tag_denials_ + rogue_allowance_;
    if (changes > budget)
      fail("S2", table + " changed " + std::to_string(changes) + " times; the budget is " + std::to_string(budget) +
                     " (promotions " + std::to_string(promotions_) + ", operator moves " +
                     std::to_string(operator_moves_) + ", forced " + std::to_string(forced_) + ", requested " +
                     std::to_string(requested_) + ", starts " + std::to_string(starts_) +
                     ", unfenced promotion claims " + std::to_string(unfenced_) + ", double promotions " +
                     std::to_string(doubles_) + ", CreateTags denials " + std::to_string(tag_denials_) +
                     ", against rogue scripts " + std::to_string(rogue_allowance_) + ")");
  }
}

void Run::step(Node &n) {
  n.now = now_;
  stepping_ = &n;
  Observation obs;
  obs.role = n.pg == Node::Pg::Primary ? Role::Primary : Role::Standby;
  obs.by = n.pg == Node::Pg::Primary ? n.by : PrimaryBy::None;
  obs.timeline = n.timeline;
  obs.system_identifier = kSysid;
  if (n.primary_noticed >= 0)
    obs.primary_noticed = n.time->steady() - std::chrono::milliseconds(now_ - n.primary_noticed);
  // Pending vip_claim() requests, as the glue hands them over.
  // The controller answers the oldest request first, one per step.
  bool had_request = false;
  bool forced = false;
  for (const auto &r : n.requests)
    if (r.seq > n.shm->claim_done && !had_request) {
      had_request = true;
      forced = r.force;
    }
  for (const auto &r : n.requests)
    if (r.seq > n.shm->claim_done) obs.requests.push_back({r.seq, r.force, "sim"});
  bool fast = n.first_primary_step && n.pg == Node::Pg::Primary && !had_request;
  // Only the step that answers a forced request overrides; its retries do not.
  n.forcing = had_request && forced && n.pg == Node::Pg::Primary;
  exempt_ = fast || n.forcing;
  if (n.cloud) n.cloud->step = steps_done_;
  n.requests_before = ec2_->requests_by_node[n.id];
  std::size_t sent_before = ec2_->sent.size();
  State before = n.ctl->state();
  auto delay = n.ctl->step(obs);
  ++steps_done_;
  exempt_ = false;
  if (fast) {
    // A promotion's claim whose routes moved while its tag did not land.
    bool moved = false, tagged = false;
    for (std::size_t i = sent_before; i < ec2_->sent.size(); ++i) {
      const Sent &s = ec2_->sent[i];
      if (s.node != n.id || !s.applied) continue;
      moved |= s.action == "Point";
      tagged |= s.action == "Fence" && s.value.find("tl=" + std::to_string(n.timeline) + ";") == 0;
    }
    if (moved && !tagged) ++unfenced_;
  }
  if (n.pg == Node::Pg::Primary) n.first_primary_step = false;
  n.forcing = false;
  Metrics published = n.shm->metrics;  // what the worker resumed from, or published last
  n.ctl->write_status(*n.shm);
  (void) n.ctl->take_answers();
  auto events = n.ctl->take_events();
  check_metrics(n, published, events);
  auto logs = n.ctl->take_logs();
  trace("node %d (%s tl %u) step: %s -> %s, next in %lld ms%s%s", n.id,
        n.pg == Node::Pg::Primary ? "primary" : "standby", n.timeline, to_string(before), to_string(n.ctl->state()),
        static_cast<long long>(delay.count()),
        n.ctl->last_error().empty() ? "" : "; last_error: ", n.ctl->last_error().substr(0, 300).c_str());
  for (const auto &e : events) trace("  node %d event %s: %s", n.id, e.name.c_str(), e.details.substr(0, 300).c_str());
  check_after_step(n, events, had_request);
  check_budget();
  n.next_wake = std::max(n.now, now_) + std::max<Millis>(delay.count(), 1);
  stepping_ = nullptr;
}

void Run::environment() {
  // Faults stop, and the cluster settles, for the last part of the run.
  std::vector<Node *> live, primaries, standbys, down;
  for (auto &n : nodes_) {
    if (!n.alive()) down.push_back(&n);
    else if (n.pg == Node::Pg::Primary) primaries.push_back(&n), live.push_back(&n);
    else standbys.push_back(&n), live.push_back(&n);
  }
  uint32_t newest = newest_timeline();
  bool newest_up = false;
  for (auto *p : primaries) newest_up |= p->timeline == newest;
  double r = chance();
  auto promote = [&](std::vector<Node *> who) {
    uint32_t tl = newest_timeline() + 1;
    for (auto *s : who) {
      s->pg = Node::Pg::Primary;
      s->timeline = tl;
      s->by = PrimaryBy::Promotion;
      s->first_primary_step = true;
      s->primary_noticed = now_;
      s->next_wake = now_ + pick(1, 4);  // the worker notices within milliseconds
      ++promotions_;
      if (rogue_) ++rogue_allowance_;  // a new holder repairs once against the rogue too
      trace("event: node %d promoted to timeline %u", s->id, tl);
    }
  };
  if (!newest_up && !standbys.empty() && r < 0.5) {
    // The failover manager promotes a standby (two at once, now and then).
    std::shuffle(standbys.begin(), standbys.end(), rng_);
    std::size_t k = standbys.size() >= 2 && chance() < 0.2 ? 2 : 1;
    if (k == 2) ++doubles_;
    promote(std::vector<Node *>(standbys.begin(), standbys.begin() + k));
  } else if (r < 0.12 && !live.empty()) {
    Node *n = live[pick(0, live.size() - 1)];
    n->was_primary = n->pg == Node::Pg::Primary;
    n->pg = Node::Pg::Down;
    stop_worker(*n);
    trace("event: node %d crashed", n->id);
  } else if (r < 0.30 && !down.empty()) {
    Node *n = down[pick(0, down.size() - 1)];
    // A server restart makes shared memory anew.
    *n->shm = Status{};
    n->claim_seq = 0;
    n->requests.clear();
    n->first_primary_step = false;
    n->primary_noticed = -1;
    if (n->was_primary && chance() < 0.6) {
      n->pg = Node::Pg::Primary;
      n->by = PrimaryBy::Start;
      ++starts_;
      if (rogue_) ++rogue_allowance_;
      trace("event: node %d restarted as primary (timeline %u)", n->id, n->timeline);
    } else {
      n->pg = Node::Pg::Standby;
      n->by = PrimaryBy::None;
      n->timeline = newest_timeline();
      trace("event: node %d rejoined as a standby (pg_rewind)", n->id);
    }
    start_worker(*n);
  } else if (r < 0.36) {
    // A primary on an old timeline is rewound into a standby.
    for (auto *p : primaries)
      if (p->timeline < newest) {
        p->pg = Node::Pg::Standby;
        p->by = PrimaryBy::None;
        p->timeline = newest;
        *p->shm = Status{};
        p->claim_seq = 0;
        p->requests.clear();
        p->primary_noticed = -1;
        stop_worker(*p);
        start_worker(*p);
        trace("event: old primary node %d rejoined as a standby", p->id);
        break;
      }
  } else if (r < 0.42 && !live.empty()) {
    Node *n = live[pick(0, live.size() - 1)];
    stop_worker(*n);
    n->first_primary_step = false;  // a new worker has not seen the promotion happen
    start_worker(*n);
    trace("event: node %d's worker restarted (state %s kept)", n->id, to_string(n->shm->state));
  } else if (r < 0.50 && !primaries.empty()) {
    Node *n = primaries[pick(0, primaries.size() - 1)];
    bool force = chance() < 0.3;
    n->requests.push_back({++n->claim_seq, force});
    if (n->requests.size() > 8) n->requests.erase(n->requests.begin());
    if (force) ++forced_;
    else ++requested_;
    n->next_wake = now_ + 1;
    trace("event: vip_claim(force => %s) on node %d", force ? "true" : "false", n->id);
  } else if (r < 0.55 && !live.empty()) {
    Node *n = live[pick(0, live.size() - 1)];
    if (chance() < 0.5) {
      auto cut = n->name.find("-renamed");
      n->name = cut == std::string::npos ? n->name + "-renamed" : n->name.substr(0, cut);
    } else n->check_interval = std::vector<Millis>{1000, 2000, 5000}[pick(0, 2)];
    if (n->ctl) n->ctl->configure(config_of(*n));
    n->next_wake = now_ + 1;
    trace("event: node %d reloaded its settings (name %s, check_interval %lld ms)", n->id, n->name.c_str(),
          static_cast<long long>(n->check_interval));
  } else if (r < 0.62) {
    const std::string &t = tables_[pick(0, tables_.size() - 1)];
    TableState s = ec2_->state().at(t);
    s.route_present = true;
    s.blackhole = chance() < 0.3;
    s.eni = chance() < 0.5 ? nodes_[pick(0, nodes_.size() - 1)].eni : "eni-0operator";
    ec2_->set(now_, t, s);
    ++operator_moves_;
    trace("event: an operator pointed %s at %s%s", t.c_str(), s.eni.c_str(), s.blackhole ? " (blackhole)" : "");
  } else if (r < 0.70 && !live.empty()) {
    Node *n = live[pick(0, live.size() - 1)];
    Millis len = pick(500, 30000);
    ec2_->partitioned_until[n->id] = now_ + len;
    trace("event: node %d cut off from EC2 for %lld ms", n->id, static_cast<long long>(len));
  } else if (r < 0.72 && !rogue_) {
    Rogue g;
    g.table = tables_[pick(0, tables_.size() - 1)];
    g.eni = "eni-0rogue";
    g.period = pick(1000, 5000);
    g.next = now_;
    g.until = now_ + pick(10000, 300000);
    // pg_vip repairs once per flap window at most: max(10 x check_interval, 60 s).
    Millis interval = 0;
    for (const auto &n : nodes_) interval = std::max(interval, n.check_interval);
    Millis window = std::max<Millis>(10 * interval, 60000);
    rogue_allowance_ += 2 + static_cast<int>((g.until - now_) / window);
    trace("event: a rogue script points %s at %s every %lld ms until %.3f", g.table.c_str(), g.eni.c_str(),
          static_cast<long long>(g.period), g.until / 1000.0);
    rogue_ = g;
  } else if (r < 0.78) {
    Node &n = nodes_[pick(0, nodes_.size() - 1)];
    static const char *actions[] = {"CreateTags", "ReplaceRoute", "DescribeRouteTables"};
    std::string a = actions[pick(0, 2)];
    auto &d = ec2_->denied[n.id];
    if (d.count(a)) {
      d.erase(a);
    } else {
      d.insert(a);
      // A primary that cannot tag still takes tables an older timeline
      // tagged; it and the older holder reverse each other at most twice.
      if (a == "CreateTags") ++tag_denials_;
    }
    trace("event: IAM now %s %s to node %d", d.count(a) ? "denies" : "allows", a.c_str(), n.id);
  }
}

// The end of faults: every denial lifted, every partition healed, every
// node up again (the newest primary as primary, the others as standbys).
void Run::heal() {
  quiet_ = true;
  quiet_since_ = now_;
  changes_at_heal_ = ec2_->route_changes;
  ec2_->faults = Faults{};
  ec2_->faults.max_staleness = staleness_;
  ec2_->faults.stale_read = staleness_ ? 0.3 : 0;
  ec2_->denied.clear();
  ec2_->partitioned_until.clear();
  uint32_t newest = newest_timeline();
  for (auto &n : nodes_) {
    if (n.alive()) continue;
    *n.shm = Status{};
    n.claim_seq = 0;
    n.requests.clear();
    n.primary_noticed = -1;
    n.first_primary_step = false;
    if (n.was_primary && n.timeline == newest) {
      n.pg = Node::Pg::Primary;
      n.by = PrimaryBy::Start;
      ++starts_;
    } else {
      n.pg = Node::Pg::Standby;
      n.timeline = newest;
    }
    start_worker(n);
  }
  // A cluster whose newest primary is gone gets one from the failover manager.
  bool any = false;
  for (auto &n : nodes_) any |= n.pg == Node::Pg::Primary && n.timeline == newest;
  if (!any) {
    for (auto &n : nodes_)
      if (n.pg == Node::Pg::Standby) {
        n.pg = Node::Pg::Primary;
        n.timeline = newest + 1;
        n.by = PrimaryBy::Promotion;
        n.first_primary_step = true;
        n.primary_noticed = now_;
        n.next_wake = now_ + 2;
        ++promotions_;
        trace("event: node %d promoted to timeline %u", n.id, n.timeline);
        break;
      }
  }
  // Each primary may act once on a read from before the newest tag landed.
  int primaries = 0;
  for (const auto &n : nodes_) primaries += n.pg == Node::Pg::Primary;
  settle_allowance_ = 2 + 2 * primaries;
  trace("event: faults stop; every node is up");
}

void Run::check_l1() {
  uint32_t newest = 0;
  for (const auto &n : nodes_)
    if (n.pg == Node::Pg::Primary) newest = std::max(newest, n.timeline);
  std::vector<const Node *> top;
  for (const auto &n : nodes_)
    if (n.pg == Node::Pg::Primary && n.timeline == newest) top.push_back(&n);
  const Node *holder = nullptr;
  for (const auto *n : top)
    if (n->ctl->state() == State::Held) {
      if (holder) return fail("L1", "two nodes on timeline " + std::to_string(newest) + " report held");
      holder = n;
    }
  if (!holder) {
    std::string states;
    for (const auto *n : top)
      states +=
          " node " + std::to_string(n->id) + ": " + to_string(n->ctl->state()) + " (" + n->ctl->last_error() + ")";
    return fail("L1", "no newest-timeline primary holds the VIP " + std::to_string((now_ - quiet_since_) / 1000) +
                          " s after faults stopped:" + states);
  }
  for (const auto &t : tables_) {
    const TableState &s = ec2_->state().at(t);
    auto tag = s.tag ? parse_tag(*s.tag) : std::nullopt;
    if (!s.route_present || s.blackhole || s.eni != holder->eni)
      fail("L1", t + " points at " + s.eni + ", not at the holder node " + std::to_string(holder->id));
    if (!tag || tag->timeline != holder->timeline)
      fail("L1", t + " carries tag " + (s.tag ? *s.tag : "(none)") + ", not the holder's");
  }
  for (const auto &n : nodes_) {
    if (&n == holder || !n.alive()) continue;
    State st = n.ctl->state();
    if (st != State::Standby && st != State::Fenced)
      fail("L1", "node " + std::to_string(n.id) + " reports " + to_string(st) + " beside the holder");
  }
}

std::optional<Violation> Run::go() {
  setup();
  long active_steps = steps_ * 7 / 10;
  Millis settle = 0;
  while (!violation_) {
    if (!quiet_ && steps_done_ >= active_steps) {
      heal();
      Millis interval = 0;
      for (const auto &n : nodes_) interval = std::max(interval, n.check_interval);
      // A node in conflict waits out its flap window before it tries again.
      settle = now_ + std::max<Millis>(10 * interval, 60000) + 30 * interval + 30000;
    }
    if (quiet_ && now_ >= settle) {
      check_l1();
      break;
    }
    // The operator's part once things are quiet: a primary that started as
    // primary and found a route at another interface it cannot vouch for
    // says so and waits for vip_claim(); the DBA reads it and runs it.
    if (quiet_)
      for (auto &n : nodes_)
        if (n.pg == Node::Pg::Primary && n.ctl && n.ctl->state() == State::Claiming &&
            std::none_of(n.requests.begin(), n.requests.end(),
                         [&](const ClaimRequest &r) { return r.seq > n.shm->claim_done; }) &&
            n.ctl->last_error().find("did not see it move to") != std::string::npos) {
          n.requests.push_back({++n.claim_seq, false});
          ++requested_;
          trace("event: the operator runs vip_claim() on node %d, which waits for it", n.id);
        }
    // The next thing to happen: a node's step or an event of the world.
    Node *next = nullptr;
    for (auto &n : nodes_)
      if (n.alive() && n.ctl && (!next || n.next_wake < next->next_wake)) next = &n;
    Millis t = next ? next->next_wake : now_ + 1000;
    if (rogue_ && rogue_->next <= t && rogue_->next <= next_event_) {
      now_ = std::max(now_, rogue_->next);
      if (quiet_ || now_ >= rogue_->until) {
        rogue_.reset();
        continue;
      }
      TableState st = ec2_->state().at(rogue_->table);
      if (!st.route_present || st.blackhole || st.eni != rogue_->eni) {
        st.route_present = true;
        st.blackhole = false;
        st.eni = rogue_->eni;
        ec2_->set(now_, rogue_->table, st);
        trace("rogue: %s pointed at %s", rogue_->table.c_str(), rogue_->eni.c_str());
      }
      rogue_->next = now_ + rogue_->period;
      continue;
    }
    if (!quiet_ && next_event_ <= t) {
      now_ = std::max(now_, next_event_);
      environment();
      next_event_ = now_ + pick(200, 15000);
      continue;
    }
    if (!next) {
      now_ = t;
      continue;
    }
    now_ = std::max(now_, t);
    step(*next);
  }
  return violation_;
}

}  // namespace
}  // namespace pg_vip::sim

int main(int argc, char **argv) {
  using namespace pg_vip::sim;
  long seeds = 1000, steps = 3000;
  uint64_t first = 1;
  bool one = false, trace = false;
  std::string ignored;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char *name) -> const char * {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "pg_vip_sim: %s needs a value\n", name);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seeds") seeds = std::atol(value("--seeds"));
    else if (a == "--steps") steps = std::atol(value("--steps"));
    else if (a == "--first") first = std::strtoull(value("--first"), nullptr, 10);
    else if (a == "--seed") first = std::strtoull(value("--seed"), nullptr, 10), seeds = 1, one = true;
    else if (a == "--trace") trace = true;
    else if (a == "--ignore") ignored = value("--ignore");
    else {
      std::fprintf(stderr,
                   "usage: pg_vip_sim [--seeds N] [--first F] [--steps S] [--seed X] [--trace] [--ignore S4,S3]\n");
      return 2;
    }
  }
  long total_steps = 0, violations = 0;
  for (long k = 0; k < seeds; ++k) {
    uint64_t seed = first + static_cast<uint64_t>(k);
    Run run(seed, steps, trace && one);
    run.ignored = ignored;
    auto v = run.go();
    total_steps += run.steps_done();
    if (v) {
      ++violations;
      std::printf("violation of %s with seed %llu: %s\n", v->invariant.c_str(), static_cast<unsigned long long>(seed),
                  v->what.c_str());
      if (!trace || !one) {
        if (violations <= 3) {
          std::printf("trace (last lines; replay with: make simulate SEED=%llu):\n",
                      static_cast<unsigned long long>(seed));
          run.print_trace();
        }
      }
    }
  }
  std::printf("simulation: %ld seeds, %ld steps, %ld violations\n", seeds, total_steps, violations);
  return violations ? 1 : 0;
}
