// The controller's test rig: a fake Cloud that holds route tables and tags
// and records every request, a manual clock whose wall time can step, and a
// Rig that steps one controller over them.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>

#include "core/controller.hpp"
#include "core/fence.hpp"
#include "core/text.hpp"

namespace pg_vip::test {

using namespace std::chrono;

// `tag`: the fence tag last written (or set), under the key of the
// timeline it names (the legacy key when it names none); the table's other
// tags are FakeCloud::other_tags.
struct FakeTable {
  bool route = true;
  bool blackhole = false;
  std::string eni;
  std::optional<std::string> tag;
};

inline const std::string kVip = "10.0.99.10/32";

inline std::string key_of(const std::string &value) {
  auto h = parse_fence_tag(value);
  return h ? fence_tag_key(kVip, h->timeline) : legacy_fence_tag_key(kVip);
}

class ManualTime : public TimeSource {
 public:
  steady_clock::time_point steady() override { return steady_clock::time_point(hours(100)) + now; }
  system_clock::time_point wall() override { return system_clock::time_point(seconds(1795000000)) + now + wall_step; }
  void sleep(milliseconds ms) override {
    now += ms;
    if (cancel_at_sleep) cancel = true;
  }
  bool cancelled() override { return cancel; }
  bool cancel = false;           // a shutdown: what is under way stops
  bool cancel_at_sleep = false;  // ... arriving during the next wait
  std::mt19937_64 &random() override { return rng; }
  milliseconds now{0};
  milliseconds wall_step{0};  // an NTP step: the wall clock moves, the monotonic one does not
  std::mt19937_64 rng{7};
};

inline aws::AwsError denied(const std::string &action) {
  aws::AwsError e;
  e.kind = aws::ErrorKind::Authorization;
  e.http_status = 403;
  e.code = "UnauthorizedOperation";
  e.message = "You are not authorized to perform this operation (" + action + ").";
  return e;
}

class FakeCloud : public Cloud {
 public:
  std::map<std::string, FakeTable> tables;
  std::map<std::string, std::map<std::string, std::string>> other_tags;  // per table: key to value, besides `tag`
  std::set<std::string> deny;   // actions refused: CreateTags, ReplaceRoute, DescribeRouteTables
  bool throttle_reads = false;  // DescribeRouteTables answered RequestLimitExceeded
  bool fail_reads = false;      // DescribeRouteTables answered 500 InternalError
  bool cancel_reads = false;    // the reads cut short, as the HTTP layer does when the cancel hook says stop
  std::vector<std::string> log;
  std::vector<std::string> written_keys;  // the key of every tag written, in order
  std::string my_eni = "eni-0b";
  CloudReports reports;  // told of each request, as the EC2 cloud tells of each attempt
  // Each write takes this long on `clock` (none: it takes no time).
  ManualTime *clock = nullptr;
  milliseconds write_latency{0};

  void report(const std::string &action, const std::optional<aws::AwsError> &error) {
    if (reports.attempt) reports.attempt(action, error, 1);
  }

  Placement prepare(const std::string &configured) override {
    Placement p;
    p.region = "us-east-1";
    p.interface_id = configured == "auto" ? my_eni : configured;
    placed = p.interface_id;
    return p;
  }
  std::string placed;  // the interface prepare() answered
  // Where a route stands, as a Cloud tells it: ours when it names the
  // interface prepare() answered.
  TargetState state_of(bool route, bool blackhole, const std::string &eni) const {
    return !route                             ? TargetState::Missing
           : blackhole                        ? TargetState::Dangling
           : !placed.empty() && eni == placed ? TargetState::Ours
                                              : TargetState::Other;
  }
  std::vector<TargetRead> read(const std::vector<std::string> &ids, int) override {
    log.push_back("read");
    std::optional<aws::AwsError> refusal;
    if (deny.count("DescribeRouteTables")) refusal = denied("DescribeRouteTables");
    else if (throttle_reads)
      refusal = aws::AwsError{aws::ErrorKind::Throttled, 503, "RequestLimitExceeded", "Request limit exceeded.", ""};
    else if (fail_reads)
      refusal = aws::AwsError{aws::ErrorKind::ServerError, 500, "InternalError", "An internal error has occurred.", ""};
    else if (cancel_reads)
      refusal = aws::AwsError{aws::ErrorKind::Transport, 0, "Cancelled", "the request was cancelled", ""};
    report("DescribeRouteTables", refusal);
    std::vector<TargetRead> out;
    for (const auto &id : ids) {
      TargetRead r;
      r.id = id;
      if (refusal) {
        r.error = refusal;
        r.failed_action = "DescribeRouteTables";
      } else {
        const FakeTable &t = tables[id];
        r.state = state_of(t.route, t.blackhole, t.eni);
        r.interface_id = r.points_at = t.eni;
        r.fence_tags = other_tags[id];
        if (t.tag) r.fence_tags[key_of(*t.tag)] = *t.tag;
      }
      out.push_back(r);
    }
    return out;
  }
  Applied apply(const std::vector<PointRequest> &points, const std::string &eni, const FenceWrite &fence,
                int) override {
    const std::vector<std::string> &fence_ids = fence.ids;
    Applied a;
    if (clock) clock->now += write_latency;
    std::string entry = "apply";
    for (const auto &p : points) entry += " point:" + p.id;
    for (const auto &f : fence_ids) entry += " fence:" + f;
    log.push_back(entry);
    for (const auto &p : points) {
      Outcome o;
      o.sent = true;
      o.action = p.missing ? "CreateRoute" : "ReplaceRoute";
      if (deny.count("ReplaceRoute")) {
        o.error = denied("ReplaceRoute");
      } else {
        tables[p.id].route = true;
        tables[p.id].blackhole = false;
        tables[p.id].eni = eni;
      }
      report(p.missing ? "CreateRoute" : "ReplaceRoute", o.error);
      a.points.push_back(o);
    }
    if (!fence_ids.empty()) {
      a.fence.sent = true;
      a.fence.action = "CreateTags";
      if (deny.count("CreateTags")) a.fence.error = denied("CreateTags");
      else
        for (const auto &f : fence_ids) {
          FakeTable &t = tables[f];
          if (t.tag && key_of(*t.tag) != fence.key) other_tags[f][key_of(*t.tag)] = *t.tag;
          other_tags[f].erase(fence.key);
          t.tag = fence.value;
          written_keys.push_back(fence.key);
        }
      report("CreateTags", a.fence.error);
    }
    return a;
  }
  // As EC2's DeleteTags with Tag.N.Value: a tag goes only where it still
  // has the value given (an empty value: whatever its value). Logged as "forget <ids> <keys>".
  Outcome forget(const std::vector<std::string> &ids, const TagList &tags, int) override {
    std::vector<std::string> keys;
    for (const auto &kv : tags) keys.push_back(kv.first);
    log.push_back("forget " + join(ids, ",") + " " + join(keys, ","));
    Outcome o;
    o.sent = true;
    o.action = "DeleteTags";
    if (deny.count("DeleteTags")) o.error = denied("DeleteTags");
    else
      for (const auto &id : ids)
        for (const auto &[k, v] : tags) {
          FakeTable &t = tables[id];
          if (auto it = other_tags[id].find(k); it != other_tags[id].end() && (v.empty() || it->second == v))
            other_tags[id].erase(it);
          if (t.tag && key_of(*t.tag) == k && (v.empty() || *t.tag == v)) t.tag.reset();
        }
    report("DeleteTags", o.error);
    return o;
  }
  std::optional<bool> source_dest_check() override { return false; }

  int changes() const {
    int n = 0;
    for (const auto &l : log) n += l.rfind("apply", 0) == 0;
    return n;
  }
};

// A long cadence's wait: in its last quarter (hold_cadence.hpp, spread_out).
inline ::testing::AssertionResult spread_within(milliseconds d, milliseconds cadence) {
  if (d >= cadence - cadence / 4 && d <= cadence) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << d.count() << " ms is not in the last quarter of " << cadence.count() << " ms";
}

inline const std::string kSys = "7311";

inline Resume resume(State state, uint64_t done, uint32_t newest = 0) {
  Resume r;
  r.state = state;
  r.claim_done = done;
  r.newest_seen = newest;
  return r;
}

inline std::string tag(uint32_t tl, const std::string &eni, const std::string &node = "x",
                       const std::string &extra = "") {
  return "tl=" + std::to_string(tl) + ";sysid=" + kSys + ";id=" + eni + ";" + extra +
         "at=2026-11-18T11:06:40Z;node=" + node;
}

struct Rig {
  ManualTime time;
  FakeCloud *cloud = nullptr;  // owned by the controller
  std::unique_ptr<Controller> ctl;
  std::map<std::string, FakeTable> initial;
  milliseconds check_interval{10000};
  milliseconds standby_check_interval{60000};  // the tests' own (the default is 10 min)
  bool streaming = false;                      // a standby's WAL receiver streams
  int standbys = 0;                            // a primary: standbys streaming from it
  bool throttle_reads_at_start = false;        // the cloud, made at the first step, throttles reads from the first
  milliseconds replicated_check_interval{300000};
  std::string fence_key;
  std::string name;
  std::string my_eni = "eni-0b";  // this node's interface

  explicit Rig(std::map<std::string, FakeTable> tables, Resume resume = {}, std::string name = "node-b") {
    initial = std::move(tables);
    Controller::Hooks hooks;
    hooks.time = &time;
    hooks.cloud = [this](const ControllerConfig &, TimeSource &, CloudReports reports) {
      auto c = std::make_unique<FakeCloud>();
      c->tables = initial;
      c->my_eni = my_eni;
      c->reports = std::move(reports);
      c->throttle_reads = throttle_reads_at_start;
      cloud = c.get();
      return std::unique_ptr<Cloud>(std::move(c));
    };
    ctl = std::make_unique<Controller>(std::move(hooks), resume);
    this->name = name;
    configure(name);
  }
  void configure() { configure(name); }
  void configure(const std::string &name) {
    ControllerConfig c;
    c.vip = kVip;
    for (const auto &t : initial) c.route_tables.push_back(t.first);
    c.node_name = name;
    c.region = "us-east-1";
    c.check_interval = check_interval;
    c.standby_check_interval = standby_check_interval;
    c.replicated_check_interval = replicated_check_interval;
    c.fence_key = Secret(std::string_view(fence_key));
    ctl->configure(c);
  }
  milliseconds step(Role role, uint32_t tl, PrimaryBy by = PrimaryBy::Promotion, std::vector<ClaimRequest> req = {}) {
    Observation o;
    o.role = role;
    o.by = role == Role::Primary ? by : PrimaryBy::None;
    o.timeline = tl;
    o.system_identifier = kSys;
    o.streaming = role == Role::Standby && streaming;
    o.standbys = role == Role::Primary ? standbys : 0;
    o.requests = std::move(req);
    auto d = ctl->step(o);
    time.now += d;
    return d;
  }
  std::vector<std::string> events() {
    std::vector<std::string> out;
    for (const auto &e : ctl->take_events()) out.push_back(e.name);
    return out;
  }
};

inline std::map<std::string, FakeTable> two_tables_at_a() {
  return {{"rtb-1", {true, false, "eni-0a", tag(1, "eni-0a", "node-a")}},
          {"rtb-2", {true, false, "eni-0a", tag(1, "eni-0a", "node-a")}}};
}

}  // namespace pg_vip::test
