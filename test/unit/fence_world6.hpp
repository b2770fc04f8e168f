// The world of adversaries 6 and 7 (fence_adversary6_test.cpp,
// fence_adversary7_test.cpp): one account's EC2 with route tables, a subnet
// whose tags fence its secondary IPs, a permission per action and resource
// type, EC2's 50 tags per resource, a read lag per resource (each answer a
// consistent snapshot some seconds old), and the faults adversary 7 adds (a
// CreateTags refused for a while, a tag slot taken right after a
// DeleteTags). Nodes are real Controllers stepped on a shared manual clock.
#pragma once

#include <algorithm>
#include <deque>
#include <functional>

#include "controller_rig.hpp"
#include "core/ec2_addresses.hpp"

namespace pg_vip::test::world6 {

inline const std::string kAddr = "10.0.1.50";  // the secondary IP
inline const std::string kTable = "rtb-1";     // the control: a route table
inline const std::string kSubnet = "subnet-0a0a0a0a";

inline bool is_address(const std::string &id) { return aws::is_ipv4_address(id); }

using Tags = std::map<std::string, std::string>;

inline aws::AwsError refused(const std::string &action) { return denied(action); }

// EC2's answer to a 51st tag: refused for good, as a denial is.
inline aws::AwsError tag_limit() {
  aws::AwsError e = denied("CreateTags");
  e.kind = aws::ErrorKind::Invalid, e.http_status = 400, e.code = "TagLimitExceeded";
  e.message = "The maximum number of tags for resource " + kSubnet + " has been reached.";
  return e;
}

// What EC2 holds; snapshots of it over time, for lagging reads.
struct State6 {
  std::map<std::string, std::string> route;  // table -> interface
  std::map<std::string, Tags> table_tags;
  std::map<std::string, std::string> assigned;  // address -> interface ("" none)
  Tags subnet;
  std::map<std::string, Tags> eni_tags;  // the previous release's fence: the holder's own interface
};

struct World6 {
  ManualTime *time = nullptr;
  State6 now;
  std::deque<std::pair<milliseconds, State6>> history;  // after each change
  std::size_t tags_per_resource = 50;                   // EC2's, per resource
  // Faults: an error for a node's CreateTags (given the node's interface;
  // none: EC2 judges it), and what happens right after a DeleteTags lands
  // (someone else's CreateTags taking the slot freed).
  std::function<std::optional<aws::AwsError>(const std::string &eni)> create_fault;
  std::function<void()> after_delete;
  int creates = 0, deletes = 0;
  std::vector<std::string> log;
  std::vector<milliseconds> log_at;  // when each entry of `log` was made

  void changed() { history.emplace_back(time->now, now); }
  // The state as of `lag` ago (the oldest kept when older).
  const State6 &as_of(milliseconds lag) const {
    const State6 *best = &now;
    milliseconds at = time->now - lag;
    if (lag.count() == 0) return now;
    best = history.empty() ? &now : &history.front().second;
    for (const auto &[t, s] : history)
      if (t <= at) best = &s;
    return *best;
  }
  std::string where(const std::string &id) const {
    if (is_address(id)) {
      auto it = now.assigned.find(id);
      return it == now.assigned.end() ? "" : it->second;
    }
    auto it = now.route.find(id);
    return it == now.route.end() ? "" : it->second;
  }
};

// One node's EC2, as Ec2Cloud maps it: a route table's fence on the table,
// a secondary IP's on the subnet under the address's key. `deny` names
// what the node's IAM policy refuses, as "Action" or "Action:resource-type".
class Cloud6 : public Cloud {
 public:
  Cloud6(World6 &w, std::string eni) : world(w), my_eni(std::move(eni)) {}
  World6 &world;
  std::string my_eni;
  std::set<std::string> deny;
  milliseconds table_lag{0}, interface_lag{0}, subnet_lag{0};

  bool denies(const std::string &action, const std::string &type) const {
    return deny.count(action) || deny.count(action + ":" + type);
  }
  Placement prepare(const std::string &) override {
    Placement p;
    p.region = "us-east-1";
    p.interface_id = my_eni;
    return p;
  }
  std::vector<TargetRead> read(const std::vector<std::string> &ids, int) override {
    std::vector<TargetRead> out;
    for (const auto &id : ids) {
      TargetRead r;
      r.id = id;
      std::string eni;
      if (!is_address(id)) {
        if (denies("DescribeRouteTables", "")) {
          r.error = refused("DescribeRouteTables");
          r.failed_action = "DescribeRouteTables";
          out.push_back(r);
          continue;
        }
        const State6 &s = world.as_of(table_lag);  // the route and its tags: one answer, one snapshot
        auto it = s.route.find(id);
        eni = it == s.route.end() ? "" : it->second;
        if (auto t = s.table_tags.find(id); t != s.table_tags.end())
          for (const auto &[k, v] : t->second)
            if (fence_tag_key_timeline(kVip, k)) r.fence_tags[k] = v;
      } else {
        // Ec2Cloud: DescribeNetworkInterfaces and DescribeSubnets, sent
        // together; either refused fails the address's read.
        for (const char *action : {"DescribeNetworkInterfaces", "DescribeSubnets"})
          if (denies(action, "") && !r.error) {
            r.error = refused(action);
            r.failed_action = action;
          }
        if (r.error) {
          out.push_back(r);
          continue;
        }
        const State6 &where = world.as_of(interface_lag);
        auto it = where.assigned.find(id);
        eni = it == where.assigned.end() ? "" : it->second;
        for (const auto &[k, v] : world.as_of(subnet_lag).subnet)
          if (auto key = aws::vip_fence_key(kVip, id, k)) r.fence_tags[*key] = v;
      }
      if (!eni.empty()) {
        r.state = eni == my_eni ? TargetState::Ours : TargetState::Other;
        r.interface_id = r.points_at = eni;
      }
      out.push_back(r);
    }
    return out;
  }
  Applied apply(const std::vector<PointRequest> &points, const std::string &eni, const FenceWrite &fence,
                int) override {
    Applied a;
    std::string entry = my_eni + " apply";
    world.log_at.push_back(world.time->now);
    for (const auto &p : points) entry += " point:" + p.id;
    for (const auto &f : fence.ids) entry += " fence:" + f;
    world.log.push_back(entry);
    // Every request of the round trip is sent at once: the moves land
    // whatever the tags do.
    for (const auto &p : points) {
      Outcome o;
      o.sent = true;
      o.action = is_address(p.id) ? "AssignPrivateIpAddresses" : "ReplaceRoute";
      if (denies(o.action, is_address(p.id) ? "network-interface" : "route-table")) o.error = refused(o.action);
      else if (is_address(p.id)) world.now.assigned[p.id] = eni;
      else world.now.route[p.id] = eni;
      a.points.push_back(o);
    }
    std::vector<std::string> tables, addresses;
    for (const auto &id : fence.ids) (is_address(id) ? addresses : tables).push_back(id);
    if (!fence.ids.empty()) ++world.creates;
    std::optional<aws::AwsError> fault;
    if (!fence.ids.empty() && world.create_fault) fault = world.create_fault(my_eni);
    if (fault) {
      Outcome o{true, "CreateTags", fault};
      a.fence = o;
      for (const auto &ad : addresses) a.fence_by_id[ad] = o;
      world.changed();
      return a;
    }
    if (!tables.empty()) {
      a.fence = Outcome{true, "CreateTags", std::nullopt};
      if (denies("CreateTags", "route-table")) a.fence.error = refused("CreateTags");
      for (const auto &t : tables)
        if (!a.fence.error &&
            world.now.table_tags[t].size() + !world.now.table_tags[t].count(fence.key) > world.tags_per_resource)
          a.fence.error = tag_limit();
      if (!a.fence.error)
        for (const auto &t : tables) world.now.table_tags[t][fence.key] = fence.value;
    }
    if (!addresses.empty()) {
      Outcome o{true, "CreateTags", std::nullopt};
      Tags after = world.now.subnet;
      for (const auto &ad : addresses) after[aws::subnet_fence_key(kVip, ad, fence.key).value()] = fence.value;
      if (denies("CreateTags", "subnet")) o.error = refused("CreateTags");
      else if (after.size() > world.tags_per_resource) o.error = tag_limit();
      else world.now.subnet = after;
      for (const auto &ad : addresses) a.fence_by_id[ad] = o;
      if (!a.fence.sent || (!a.fence.error && o.error)) a.fence = o;
    }
    world.changed();
    return a;
  }
  Outcome forget(const std::vector<std::string> &ids, const TagList &tags, int) override {
    Outcome o{true, "DeleteTags", std::nullopt};
    for (const auto &id : ids) {
      bool address = is_address(id);
      if (denies("DeleteTags", address ? "subnet" : "route-table")) {
        o.error = refused("DeleteTags");
        continue;
      }
      Tags &t = address ? world.now.subnet : world.now.table_tags[id];
      for (const auto &[k, v] : tags) {
        std::string stored = address ? aws::subnet_fence_key(kVip, id, k).value() : k;
        if (auto it = t.find(stored); it != t.end() && (v.empty() || it->second == v)) t.erase(it);
      }
    }
    ++world.deletes;
    world.changed();
    if (world.after_delete) world.after_delete();
    return o;
  }
  std::optional<bool> source_dest_check() override { return false; }
};

struct Node6 {
  std::string name, eni;
  std::unique_ptr<Controller> ctl;
  Cloud6 *cloud = nullptr;
  std::set<std::string> deny;  // given to the cloud when it is made
  milliseconds subnet_lag{0}, table_lag{0};
  Role role = Role::Standby;
  uint32_t timeline = 1;
  PrimaryBy by = PrimaryBy::Promotion;
  milliseconds due{0};
  bool down = false;

  Node6(World6 &w, ManualTime &time, std::string n, std::string e, const std::vector<std::string> &ids,
        std::set<std::string> denied = {}, milliseconds lag = milliseconds(0))
      : name(std::move(n)), eni(std::move(e)), deny(std::move(denied)), subnet_lag(lag), table_lag(lag) {
    Controller::Hooks hooks;
    hooks.time = &time;
    hooks.cloud = [this, &w](const ControllerConfig &, TimeSource &, CloudReports) {
      auto c = std::make_unique<Cloud6>(w, eni);
      c->deny = deny;
      c->subnet_lag = subnet_lag;
      c->table_lag = table_lag;
      cloud = c.get();
      return std::unique_ptr<Cloud>(std::move(c));
    };
    ctl = std::make_unique<Controller>(std::move(hooks), Resume{});
    ControllerConfig c;
    c.vip = kVip;
    for (const auto &id : ids) (is_address(id) ? c.secondary_ips : c.route_tables).push_back(id);
    c.node_name = name;
    c.region = "us-east-1";
    c.check_interval = seconds(10);
    ctl->configure(c);
  }
  void step(ManualTime &time) {
    Observation o;
    o.role = role;
    o.by = role == Role::Primary ? by : PrimaryBy::None;
    o.timeline = timeline;
    o.system_identifier = kSys;
    due = time.now + ctl->step(o);
  }
  State state() const { return ctl->state(); }
  std::string text() const { return name + " " + to_string(state()) + " (" + ctl->last_error() + ")"; }
};

inline void promote(Node6 &n, ManualTime &time, uint32_t tl = 2) {
  n.role = Role::Primary;
  n.timeline = tl;
  n.due = time.now;
}

// Steps the nodes in the order they are due, stopping right after the first step
// after which `stop()` holds (true) or at `until` (false).
inline bool run_while(ManualTime &time, const std::vector<Node6 *> &nodes, milliseconds until,
                      const std::function<bool(Node6 &)> &stop) {
  for (;;) {
    Node6 *next = nullptr;
    for (auto *n : nodes)
      if (!n->down && (!next || n->due < next->due)) next = n;
    if (!next || next->due > until) break;
    if (next->due > time.now) time.now = next->due;
    next->step(time);
    if (stop(*next)) return true;
  }
  if (time.now < until) time.now = until;
  return false;
}

inline void run_until(ManualTime &time, const std::vector<Node6 *> &nodes, milliseconds until) {
  run_while(time, nodes, until, [](Node6 &) { return false; });
}

inline std::pair<std::string, std::string> tag_of(const std::string &name, const std::string &eni, uint32_t tl,
                                                  int64_t since) {
  Identity id{name, kSys, tl, eni};
  return {fence_tag_key(kVip, tl), fence_tag_value(id, system_clock::time_point(seconds(since)), {seconds(60), since})};
}

// `id` on eni-0a under node-a's timeline-1 tag, where the kind keeps it.
inline void held_by_a(World6 &w, ManualTime &time, const std::string &id) {
  w.time = &time;
  auto a1 = tag_of("node-a", "eni-0a", 1, 1794990000);
  if (is_address(id)) {
    w.now.assigned[id] = "eni-0a";
    w.now.subnet[aws::subnet_fence_key(kVip, id, a1.first).value()] = a1.second;
  } else {
    w.now.route[id] = "eni-0a";
    w.now.table_tags[id][a1.first] = a1.second;
  }
  w.changed();
}

// node-a, primary of timeline 1, holding `id`, checking every 10 s.
inline std::unique_ptr<Node6> old_primary(World6 &w, ManualTime &time, const std::string &id,
                                          std::set<std::string> deny = {}, milliseconds lag = milliseconds(0)) {
  auto a = std::make_unique<Node6>(w, time, "node-a", "eni-0a", std::vector<std::string>{id}, std::move(deny), lag);
  a->role = Role::Primary;
  a->by = PrimaryBy::Start;
  a->timeline = 1;
  return a;
}

// The applies of `eni` that pointed something at it after `from` (an index into the log).
inline int points_by(const World6 &w, const std::string &eni, std::size_t from) {
  int n = 0;
  for (std::size_t i = from; i < w.log.size(); ++i) n += w.log[i].rfind(eni + " apply point:", 0) == 0;
  return n;
}

}  // namespace pg_vip::test::world6
