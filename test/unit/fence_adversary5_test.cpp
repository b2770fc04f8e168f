// The fence against a fifth adversary (adversary-kinds branch), aimed at the
// two kinds of target added beside route tables: an Elastic IP (its fence
// tag on the allocation) and a secondary private IP (no tags of its own).
// The findings F1-F5 were written against a secondary IP fenced by its
// holder's tag on the holder's own interface (a reader took the tags of the
// interface that had the address), which travelled with the address. The
// fix (issue 20) keeps a secondary IP's fence on its subnet, under a key of
// its own (ec2_addresses.hpp, subnet_fence_key), and reads the address
// only in this node's subnet; the world below models that, through the
// same key mapping Ec2Cloud uses.
//
// Several nodes run the real controller over one shared EC2 world, each
// through its own Cloud, on one manual clock. The world keeps each kind's
// own rules as Ec2Cloud maps them: a route table and an allocation carry
// their tags wherever they point; an address carries none, and is read with
// its subnet's tags for that address, which stay whoever holds it and
// whatever happens to any interface.
//
// Tests named ...Route... or ...ElasticIp... are controls: the same story
// on a kind whose fence tag stays on the target.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "controller_rig.hpp"
#include "core/ec2_addresses.hpp"
#include "core/ec2_cloud.hpp"

using namespace pg_vip;
using namespace pg_vip::test;

namespace {

const std::string kAddress = "10.0.1.50";  // the secondary IP
const std::string kEip = "eipalloc-0e1e2e3e";
const std::string kRtb = "rtb-1";

// As EC2 throttles a fleet's shared bucket: retried, not refused.
aws::AwsError throttled(const std::string &action) {
  aws::AwsError e = denied(action);
  e.kind = aws::ErrorKind::Throttled, e.http_status = 503, e.code = "RequestLimitExceeded";
  return e;
}

// What Ec2Cloud reads the id as.
TargetKind kind_of(const std::string &id) {
  return aws::is_allocation_id(id)  ? TargetKind::ElasticIp
         : aws::is_ipv4_address(id) ? TargetKind::SecondaryIp
                                    : TargetKind::Route;
}

using Tags = std::map<std::string, std::string>;

// One EC2 shared by every node.
struct World {
  struct Pointer {
    bool present = true;  // a route to the VIP exists / the address is associated
    std::string eni;
    Tags tags;
  };
  std::map<std::string, Pointer> tables;        // route table: the VIP's route and the table's tags
  std::map<std::string, Pointer> eips;          // allocation: its association and its tags
  std::map<std::string, Tags> enis;             // interface: its tags (absent: deleted)
  std::map<std::string, std::string> assigned;  // secondary IP -> interface ("" none)
  Tags subnet;                                  // the one subnet's tags (every interface is in it)
  std::vector<std::string> log;

  // The resource a fence tag for `id` goes on: a secondary IP's, its subnet.
  static std::string tagged(const std::string &id) {
    return kind_of(id) == TargetKind::SecondaryIp ? "subnet-0a0a0a0a" : id;
  }
  // The key a fence tag of the VIP's (key `key`) has on that resource.
  static std::string stored_key(const std::string &id, const std::string &key) {
    return kind_of(id) == TargetKind::SecondaryIp ? aws::subnet_fence_key(kVip, id, key).value() : key;
  }
  Tags *tags_of(const std::string &resource) {
    if (tables.count(resource)) return &tables[resource].tags;
    if (eips.count(resource)) return &eips[resource].tags;
    if (resource == "subnet-0a0a0a0a") return &subnet;
    if (enis.count(resource)) return &enis[resource];
    return nullptr;  // a deleted interface: InvalidNetworkInterfaceID.NotFound
  }
  // The VIP's fence tags of `id` as a reader sees them.
  Tags fence_tags_of(const std::string &id) {
    Tags out;
    if (kind_of(id) != TargetKind::SecondaryIp) {
      for (const auto &[k, v] : *tags_of(id))
        if (fence_tag_key_timeline(kVip, k)) out[k] = v;
      return out;
    }
    for (const auto &[k, v] : subnet)
      if (auto key = aws::vip_fence_key(kVip, id, k)) out[*key] = v;
    return out;
  }
  void point(const std::string &id, const std::string &eni) {
    switch (kind_of(id)) {
      case TargetKind::Route: tables[id] = {true, eni, tables[id].tags}; break;
      case TargetKind::ElasticIp: eips[id] = {true, eni, eips[id].tags}; break;
      case TargetKind::SecondaryIp: assigned[id] = eni; break;
      case TargetKind::Dns: break;  // not in this world
    }
  }
  // The route deleted, the Elastic IP disassociated, the address unassigned.
  void unpoint(const std::string &id) {
    switch (kind_of(id)) {
      case TargetKind::Route: tables[id].present = false; break;
      case TargetKind::ElasticIp: eips[id].present = false; break;
      case TargetKind::SecondaryIp: assigned[id] = ""; break;
      case TargetKind::Dns: break;
    }
  }
  std::string where(const std::string &id) {
    switch (kind_of(id)) {
      case TargetKind::Route: return tables[id].present ? tables[id].eni : "";
      case TargetKind::ElasticIp: return eips[id].present ? eips[id].eni : "";
      case TargetKind::SecondaryIp: return assigned[id];
      case TargetKind::Dns: break;
    }
    return "";
  }
};

// One node's view of the world, as Ec2Cloud gives it.
class WorldCloud : public Cloud {
 public:
  WorldCloud(World &w, std::string eni) : world(w), my_eni(std::move(eni)) {}
  World &world;
  std::string my_eni;
  std::set<std::string> deny;      // refused for good (UnauthorizedOperation)
  std::set<std::string> throttle;  // throttled, retryable (RequestLimitExceeded)

  Placement prepare(const std::string &) override {
    Placement p;
    p.region = "us-east-1";
    p.interface_id = my_eni;
    return p;
  }
  std::optional<aws::AwsError> refused(const std::string &action) const {
    if (deny.count(action)) return denied(action);
    if (throttle.count(action)) return throttled(action);
    return std::nullopt;
  }
  std::vector<TargetRead> read(const std::vector<std::string> &ids, int) override {
    std::vector<TargetRead> out;
    for (const auto &id : ids) {
      TargetRead r;
      r.id = id;
      std::string eni;
      bool present = false;
      switch (kind_of(id)) {
        case TargetKind::Route:
          present = world.tables[id].present;
          eni = world.tables[id].eni;
          break;
        case TargetKind::ElasticIp:
          present = world.eips[id].present;
          eni = world.eips[id].eni;
          break;
        case TargetKind::SecondaryIp:
          // The interface that has the address; none: Missing. Its fence
          // is the subnet's, whoever has it.
          eni = world.assigned[id];
          present = !eni.empty() && world.enis.count(eni);
          break;
        case TargetKind::Dns: break;  // not in this world
      }
      if (present) {
        r.state = eni == my_eni ? TargetState::Ours : TargetState::Other;
        r.interface_id = r.points_at = eni;
      }
      r.fence_tags = world.fence_tags_of(id);
      out.push_back(r);
    }
    return out;
  }
  static const char *action_of(const std::string &id) {
    switch (kind_of(id)) {
      case TargetKind::ElasticIp: return "AssociateAddress";
      case TargetKind::SecondaryIp: return "AssignPrivateIpAddresses";
      default: return "ReplaceRoute";
    }
  }
  Applied apply(const std::vector<PointRequest> &points, const std::string &eni, const FenceWrite &fence,
                int) override {
    Applied a;
    std::string entry = my_eni + " apply";
    for (const auto &p : points) entry += " point:" + p.id;
    for (const auto &f : fence.ids) entry += " fence:" + f;
    world.log.push_back(entry);
    for (const auto &p : points) {
      Outcome o;
      o.sent = true;
      o.action = action_of(p.id);
      o.error = refused(o.action);
      if (!o.error) world.point(p.id, eni);
      a.points.push_back(o);
    }
    if (!fence.ids.empty()) {
      a.fence.sent = true;
      a.fence.action = "CreateTags";
      a.fence.error = refused("CreateTags");
      if (!a.fence.error)
        for (const auto &id : fence.ids)
          if (Tags *t = world.tags_of(World::tagged(id))) (*t)[World::stored_key(id, fence.key)] = fence.value;
    }
    return a;
  }
  Outcome forget(const std::vector<std::string> &ids, const TagList &tags, int) override {
    Outcome o;
    o.sent = true;
    o.action = "DeleteTags";
    o.error = refused("DeleteTags");
    if (!o.error)
      for (const auto &id : ids)
        if (Tags *t = world.tags_of(World::tagged(id)))
          for (const auto &[k, v] : tags)
            if (auto it = t->find(World::stored_key(id, k)); it != t->end() && (v.empty() || it->second == v))
              t->erase(it);
    return o;
  }
  std::optional<bool> source_dest_check() override { return false; }
};

// One node: its controller over its own WorldCloud, stepped on the shared clock.
struct Node {
  std::string name, eni;
  std::unique_ptr<Controller> ctl;
  WorldCloud *cloud = nullptr;
  Role role = Role::Standby;
  uint32_t timeline = 1;
  PrimaryBy by = PrimaryBy::Promotion;
  milliseconds due{0};
  bool down = false;  // not stepped

  Node(World &w, ManualTime &time, std::string n, std::string e, const std::vector<std::string> &ids,
       milliseconds check_interval = seconds(10))
      : name(std::move(n)), eni(std::move(e)) {
    Controller::Hooks hooks;
    hooks.time = &time;
    hooks.cloud = [this, &w](const ControllerConfig &, TimeSource &, CloudReports) {
      auto c = std::make_unique<WorldCloud>(w, eni);
      cloud = c.get();
      return std::unique_ptr<Cloud>(std::move(c));
    };
    ctl = std::make_unique<Controller>(std::move(hooks), Resume{});
    ControllerConfig c;
    c.vip = kVip;
    for (const auto &id : ids) {
      if (kind_of(id) == TargetKind::Route) c.route_tables.push_back(id);
      if (kind_of(id) == TargetKind::ElasticIp) c.elastic_ips.push_back(id);
      if (kind_of(id) == TargetKind::SecondaryIp) c.secondary_ips.push_back(id);
    }
    c.node_name = name;
    c.region = "us-east-1";
    c.check_interval = check_interval;
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
};

// A standby promoted now to `tl`: its next step is the promotion's.
void promote(Node &n, ManualTime &time, uint32_t tl = 2) {
  n.role = Role::Primary;
  n.timeline = tl;
  n.due = time.now;
}

// Steps every node when it is due, until `until` on the shared clock.
void run_until(ManualTime &time, const std::vector<Node *> &nodes, milliseconds until) {
  for (;;) {
    Node *next = nullptr;
    for (auto *n : nodes)
      if (!n->down && (!next || n->due < next->due)) next = n;
    if (!next || next->due > until) break;
    if (next->due > time.now) time.now = next->due;
    next->step(time);
  }
  if (time.now < until) time.now = until;
}

// A fence tag as `name` (on `eni`) wrote it on timeline `tl`, its term begun at `since`.
std::pair<std::string, std::string> tag_of(const std::string &name, const std::string &eni, uint32_t tl,
                                           int64_t since) {
  Identity id{name, kSys, tl, eni};
  return {fence_tag_key(kVip, tl), fence_tag_value(id, system_clock::time_point(seconds(since)), {seconds(60), since})};
}

// The world where node-a (eni-0a) holds `id` on timeline 1: pointed at
// eni-0a, node-a's tag where the kind keeps it.
void held_by_a(World &w, const std::string &id) {
  auto a1 = tag_of("node-a", "eni-0a", 1, 1794990000);
  w.enis["eni-0a"];
  w.enis["eni-0b"];
  w.enis["eni-0c"];
  w.point(id, "eni-0a");
  w.tags_of(World::tagged(id))->insert({World::stored_key(id, a1.first), a1.second});
}

std::string state_text(const Node &n) { return n.name + " " + to_string(n.state()) + " (" + n.ctl->last_error() + ")"; }

// ---------------------------------------------------------------------------
// F1. The new primary's fence tag does not reach the old primary until the
// address has actually moved. node-a, the primary of timeline 1, is alive
// and holds the VIP when node-b is promoted to timeline 2 (the old primary
// cut off from its standbys, not from EC2: what the fence is for). EC2
// throttles node-b's AssignPrivateIpAddresses for a minute (a fleet's
// shared bucket; or it refuses it, or, always, the move takes up to 6.3 s).
// node-b's CreateTags lands at once. With a route table the tag is on the
// table, and node-a's next check is fenced (vip_fenced, fence_action cuts
// its clients). With a secondary IP the tag is on eni-0b, which readers of
// the address never look at while the address is still on eni-0a: node-a
// goes on reading only its own tag and reports held for the whole minute,
// its clients writing to the old timeline beside a newer primary (a route
// table's old primary is fenced 10.8 s after the promotion here, an
// Elastic IP's 13.0 s).
void run_promotion_that_cannot_move(const std::string &id, const char *action) {
  World w;
  ManualTime time;
  held_by_a(w, id);
  auto a = std::make_unique<Node>(w, time, "node-a", "eni-0a", std::vector<std::string>{id});
  auto b = std::make_unique<Node>(w, time, "node-b", "eni-0b", std::vector<std::string>{id});
  a->role = Role::Primary;  // the primary of timeline 1, started as such
  a->by = PrimaryBy::Start;
  a->timeline = 1;
  run_until(time, {a.get(), b.get()}, seconds(30));
  ASSERT_EQ(a->state(), State::Held) << state_text(*a);
  ASSERT_EQ(b->state(), State::Standby) << state_text(*b);
  b->cloud->throttle = {action};
  promote(*b, time);
  milliseconds promoted = time.now;
  milliseconds fenced_after{-1};
  while (time.now < promoted + seconds(60)) {
    run_until(time, {a.get(), b.get()}, time.now + seconds(1));
    if (fenced_after.count() < 0 && a->state() == State::Fenced) fenced_after = time.now - promoted;
  }
  EXPECT_EQ(w.where(id), "eni-0a") << "the move was throttled throughout";
  EXPECT_EQ(a->state(), State::Fenced) << "60 s after node-b (timeline 2) wrote its fence tag: " << state_text(*a);
  EXPECT_GE(fenced_after.count(), 0);
  EXPECT_LE(fenced_after, seconds(20)) << "the old primary of timeline 1 was fenced only " << fenced_after.count()
                                       << " ms after the promotion";
}

// F1-F5 failed while a secondary IP's fence travelled with the address (its
// holder's tag on the holder's own interface): a newer primary's tag was
// invisible until the address moved, an old tag came back with a late
// write, an unassigned address had no fence, and the read took any
// interface in the account holding the address. They pass now that the
// fence is on the subnet, under the address's own key, and the address is
// read in this node's subnet only (issue 20).
TEST(Adversary5, ControlRouteOldPrimaryIsFencedByTheNewTagBeforeTheRouteMoves) {
  run_promotion_that_cannot_move(kRtb, "ReplaceRoute");
}

TEST(Adversary5, ControlElasticIpOldPrimaryIsFencedByTheNewTagBeforeTheAddressMoves) {
  run_promotion_that_cannot_move(kEip, "AssociateAddress");
}

TEST(Adversary5, F1_SecondaryIpOldPrimaryIsFencedByTheNewTagBeforeTheAddressMoves) {
  run_promotion_that_cannot_move(kAddress, "AssignPrivateIpAddresses");
}

// ---------------------------------------------------------------------------
// F2. A restarted old primary takes the address back from a newer primary
// that could not write its tag: the simulation's `restart-no-tag-perm`
// ("a restarted old primary moves no route back when the new primary could
// not write its tag"), for a secondary IP. node-b is promoted to timeline 2
// without ec2:CreateTags; the address moves to eni-0b. node-a restarts as
// primary on timeline 1 (a server restart: nothing remembered). With a
// route table (or an Elastic IP) node-a's own old tag is still on the
// target, the route points elsewhere, and node-a waits (HandsOff) for
// vip_claim(). With a secondary IP node-a's old tag stayed behind on
// eni-0a, eni-0b has none, so the address reads as carrying no tag at all,
// "a first start", and node-a takes it: AssignPrivateIpAddresses moves it
// back to the old timeline. node-b, which saw it here this term, will not
// take it back without its tag (point(): once per term), so the VIP stays
// on the stale primary for good.
void run_restart_after_untagged_promotion(const std::string &id) {
  World w;
  ManualTime time;
  held_by_a(w, id);
  Node b(w, time, "node-b", "eni-0b", {id});
  run_until(time, {&b}, seconds(20));  // the standby's reads
  b.cloud->deny = {"CreateTags"};
  promote(b, time);
  run_until(time, {&b}, time.now + seconds(5));
  ASSERT_EQ(w.where(id), "eni-0b") << "the promotion moved it";
  // node-a restarts as primary on timeline 1.
  Node a(w, time, "node-a", "eni-0a", {id});
  a.role = Role::Primary;
  a.by = PrimaryBy::Start;
  a.timeline = 1;
  a.due = time.now;
  run_until(time, {&a, &b}, time.now + minutes(3));
  EXPECT_EQ(w.where(id), "eni-0b") << "the restarted old primary (timeline 1) took it from node-b (timeline 2); "
                                   << state_text(a) << "; " << state_text(b) << "; log: " << join(w.log, " | ");
  EXPECT_NE(a.state(), State::Held) << state_text(a);
}

TEST(Adversary5, ControlRouteRestartedOldPrimaryLeavesARouteItDidNotSeeMove) {
  run_restart_after_untagged_promotion(kRtb);
}

TEST(Adversary5, ControlElasticIpRestartedOldPrimaryLeavesAnAddressItDidNotSeeMove) {
  run_restart_after_untagged_promotion(kEip);
}

TEST(Adversary5, F2_SecondaryIpRestartedOldPrimaryLeavesAnAddressItDidNotSeeMove) {
  run_restart_after_untagged_promotion(kAddress);
}

// ---------------------------------------------------------------------------
// F3. The fence dies with the holder's interface. node-b holds the VIP on
// timeline 2; its instance is terminated (its primary interface is deleted
// with it, and the interface's tags with it; a secondary IP on it is
// released), or an operator unassigns the address. node-a, the old
// primary of timeline 1, restarts as primary. A route table keeps node-b's
// tag (its route a blackhole), an allocation keeps it (disassociated): a
// newer timeline's tag fences whatever the target points at, and node-a is
// fenced for good. The unassigned address reads with no tag at all, so
// node-a claims it and reports held: the stale timeline serves the VIP.
void run_holder_terminated(const std::string &id) {
  World w;
  ManualTime time;
  held_by_a(w, id);
  Node b(w, time, "node-b", "eni-0b", {id});
  run_until(time, {&b}, seconds(20));
  promote(b, time);
  run_until(time, {&b}, time.now + minutes(1));
  ASSERT_EQ(b.state(), State::Held) << state_text(b);
  // node-b's instance is terminated: eni-0b is deleted.
  b.down = true;
  w.enis.erase("eni-0b");
  if (kind_of(id) != TargetKind::Route) w.unpoint(id);  // a route stays, a blackhole
  Node a(w, time, "node-a", "eni-0a", {id});
  a.role = Role::Primary;
  a.by = PrimaryBy::Start;
  a.timeline = 1;
  a.due = time.now;
  run_until(time, {&a}, time.now + minutes(3));
  EXPECT_NE(w.where(id), "eni-0a") << "the old primary (timeline 1) took it after timeline 2's holder was "
                                      "terminated; "
                                   << state_text(a) << "; log: " << join(w.log, " | ");
  EXPECT_EQ(a.state(), State::Fenced) << state_text(a);
}

TEST(Adversary5, ControlElasticIpRestartedOldPrimaryStaysFencedAfterTheHolderIsTerminated) {
  run_holder_terminated(kEip);
}

TEST(Adversary5, F3_SecondaryIpRestartedOldPrimaryStaysFencedAfterTheHolderIsTerminated) {
  run_holder_terminated(kAddress);
}

// ---------------------------------------------------------------------------
// F4. A stale primary's late writes put the rightful holder in conflict.
// node-b holds on timeline 2 after its promotion; node-a's
// AssignPrivateIpAddresses (and, in the mixed test, its ReplaceRoute),
// sent on timeline 1 before the failover, timed out and retried, are
// applied by EC2 late, twice, 5 s and 25 s after. The README (and
// `late-write`): "a stale primary's ReplaceRoute applied 8 s and 20 s late
// does not put the rightful one in conflict" (up to 4 per window undone
// without counting). On a route table node-b's tag stays on the table and
// flap() finds the late write (StaleWrite). An address takes its tags from
// the interface it is on: after the late write it shows node-a's old
// timeline-1 tag, which flap() reads as a pg_vip rival that steps back
// (Rival); the second time within the window the same rival is "back",
// Flap::Again, and node-b stops repairing: conflict, the address (and in
// the mixed test, every target) left on the stale primary for the flap
// window (100 s at a check_interval of 10 s: 107 s here, against 7 s on a
// route table or an Elastic IP), then one repair per window.
void run_late_writes_twice(const std::vector<std::string> &ids) {
  World w;
  ManualTime time;
  for (const auto &id : ids) held_by_a(w, id);
  Node b(w, time, "node-b", "eni-0b", ids);
  run_until(time, {&b}, seconds(20));
  promote(b, time);
  run_until(time, {&b}, time.now + seconds(30));
  ASSERT_EQ(b.state(), State::Held) << state_text(b);
  milliseconds t0 = time.now;
  for (milliseconds late : {seconds(5), seconds(25)}) {
    run_until(time, {&b}, t0 + late);
    for (const auto &id : ids) w.point(id, "eni-0a");  // EC2 applies node-a's request now
  }
  run_until(time, {&b}, t0 + seconds(45));
  for (const auto &id : ids)
    EXPECT_EQ(w.where(id), "eni-0b") << id << " left at the stale primary 20 s after its late write; " << state_text(b);
  EXPECT_EQ(b.state(), State::Held) << state_text(b);
}

TEST(Adversary5, ControlRouteLateWritesTwiceAreUndoneWithoutConflict) { run_late_writes_twice({kRtb}); }

TEST(Adversary5, ControlElasticIpLateWritesTwiceAreUndoneWithoutConflict) { run_late_writes_twice({kEip}); }

TEST(Adversary5, F4_SecondaryIpLateWritesTwiceAreUndoneWithoutConflict) { run_late_writes_twice({kAddress}); }

TEST(Adversary5, F4b_MixedLateWritesTwiceAreUndoneWithoutConflict) { run_late_writes_twice({kRtb, kAddress}); }

}  // namespace

// ---------------------------------------------------------------------------
// F5. The secondary IP is read from the wrong VPC. Ec2Cloud reads a
// secondary IP with DescribeNetworkInterfaces filtered on
// addresses.private-ip-address only (ec2_addresses.cpp,
// describe_interfaces_holding), which answers every interface of the
// account in the region that has that address: private addresses overlap
// between VPCs (every default VPC is 172.31.0.0/16; many VPCs are
// 10.0.0.0/16), and requester-managed interfaces (a Lambda, an RDS, a load
// balancer in another VPC) hold addresses too. read_secondaries() takes the
// first interface in the answer that has the address (find_if,
// ec2_cloud.cpp:218) and its tags. Here EC2 lists another VPC's interface
// before this node's: the address reads as "other", on eni-00000001, with
// no fence tag, while it is in fact on this node's interface with this
// node's timeline-2 tag. The holder then "repairs" it for ever (a no-op
// assignment, never verified: claiming, then conflict), and any node that
// started as primary, of any timeline, reads an address with no holder and
// takes it (AssignPrivateIpAddresses moves it within the real VPC): the
// fence is not read at all.
namespace {

// Answers every HTTP request on 127.0.0.1 with the body given for its
// Action (200; an unknown action: 400), one request a connection, and
// keeps the requests' bodies.
class OneAnswerServer {
 public:
  explicit OneAnswerServer(std::map<std::string, std::string> bodies) : bodies_(std::move(bodies)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || ::listen(fd_, 8) != 0) return;
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr *>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~OneAnswerServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  int requests() const { return requests_; }
  std::vector<std::string> seen() {
    std::lock_guard<std::mutex> g(mu_);
    return seen_;
  }

 private:
  void serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string in;
      char buf[4096];
      // Headers, then the body its Content-Length says.
      std::size_t end = std::string::npos;
      for (;;) {
        end = in.find("\r\n\r\n");
        if (end != std::string::npos) {
          std::size_t want = 0;
          auto cl = in.find("Content-Length:");
          if (cl == std::string::npos) cl = in.find("content-length:");
          if (cl != std::string::npos) want = std::stoul(in.substr(cl + 15));
          if (in.size() >= end + 4 + want) break;
        }
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
      }
      ++requests_;
      std::string form = end == std::string::npos ? std::string() : in.substr(end + 4);
      {
        std::lock_guard<std::mutex> g(mu_);
        seen_.push_back(form);
      }
      std::string body, status = "400 Bad Request";
      for (const auto &[action, b] : bodies_)
        if (form.find("Action=" + action + "&") != std::string::npos ||
            (form.size() >= action.size() + 7 &&
             form.compare(form.size() - action.size() - 7, std::string::npos, "Action=" + action) == 0)) {
          body = b;
          status = "200 OK";
        }
      std::string out = "HTTP/1.1 " + status + "\r\nContent-Type: text/xml\r\nConnection: close\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body;
      ::send(c, out.data(), out.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }
  std::map<std::string, std::string> bodies_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::mutex mu_;
  std::vector<std::string> seen_;
  std::thread thread_;
};

std::string interface_item(const std::string &eni, const std::string &vpc, const std::string &primary,
                           const std::string &secondary, const std::string &tags) {
  return "<item><networkInterfaceId>" + eni + "</networkInterfaceId><subnetId>subnet-0" + vpc.substr(5) +
         "</subnetId><vpcId>" + vpc + "</vpcId><status>in-use</status><privateIpAddress>" + primary +
         "</privateIpAddress><privateIpAddressesSet><item><privateIpAddress>" + primary +
         "</privateIpAddress><primary>true</primary></item><item><privateIpAddress>" + secondary +
         "</privateIpAddress><primary>false</primary></item></privateIpAddressesSet><tagSet>" + tags +
         "</tagSet></item>";
}

}  // namespace

TEST(Adversary5, F5_SecondaryIpIsReadInThisNodesVpcNotAnother) {
  auto b2 = tag_of("node-b", "eni-0b0b0b0b", 2, 1795000000);
  std::string interfaces = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                           "<DescribeNetworkInterfacesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
                           "<requestId>0f3a</requestId><networkInterfaceSet>" +
                           // Another VPC's interface (a load balancer's, say) with the same private address.
                           interface_item("eni-00000001", "vpc-0ffff000", "10.0.1.20", kAddress, "") +
                           // This node's interface, in this node's VPC and subnet.
                           interface_item("eni-0b0b0b0b", "vpc-0a0a0a0a", "10.0.1.11", kAddress, "") +
                           "</networkInterfaceSet></DescribeNetworkInterfacesResponse>";
  // This node's subnet, with node-b's timeline-2 fence tag for the address
  // (the subnet's key of it: the address's own).
  std::string subnets = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<DescribeSubnetsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
                        "<requestId>0f3b</requestId><subnetSet><item><subnetId>subnet-0a0a0a0a</subnetId>"
                        "<vpcId>vpc-0a0a0a0a</vpcId><cidrBlock>10.0.1.0/24</cidrBlock><tagSet><item><key>" +
                        aws::subnet_fence_key(kVip, kAddress, b2.first).value() + "</key><value>" + b2.second +
                        "</value></item></tagSet></item></subnetSet></DescribeSubnetsResponse>";
  OneAnswerServer server({{"DescribeNetworkInterfaces", interfaces}, {"DescribeSubnets", subnets}});
  ASSERT_GT(server.port(), 0);
  ManualTime time;
  Ec2CloudOptions o;
  o.vip = kVip;
  o.region = "us-east-1";
  o.ec2_endpoint = "http://127.0.0.1:" + std::to_string(server.port());
  o.request_timeout = seconds(2);
  o.env = [](const char *name) -> std::optional<std::string> {
    std::string n = name;
    if (n == "AWS_EC2_METADATA_DISABLED") return std::string("true");
    if (n == "AWS_ACCESS_KEY_ID") return std::string("AKIDEXAMPLE");
    if (n == "AWS_SECRET_ACCESS_KEY") return std::string("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    return std::nullopt;
  };
  Ec2Cloud cloud(o, time);
  Placement p = cloud.prepare("eni-0b0b0b0b");
  ASSERT_EQ(p.interface_id, "eni-0b0b0b0b");
  for (int round = 0; round < 2; ++round) {
    int before = server.requests();
    std::vector<TargetRead> reads = cloud.read({kAddress}, 1);
    ASSERT_EQ(reads.size(), 1u);
    ASSERT_FALSE(reads[0].error) << reads[0].error->describe_for(reads[0].failed_action);
    // The first read also looks up this node's subnet, once.
    EXPECT_EQ(server.requests() - before, round == 0 ? 3 : 2);
    EXPECT_EQ(reads[0].interface_id, "eni-0b0b0b0b")
        << "the address was read on another VPC's interface (" << reads[0].fence_tags.size() << " fence tags)";
    EXPECT_EQ(reads[0].state, TargetState::Ours) << to_string(TargetKind::SecondaryIp, reads[0].state);
    EXPECT_EQ(reads[0].fence_tags.count(b2.first), 1u) << "this node's timeline-2 fence tag was not read";
  }
  // The address was asked for in this node's subnet only.
  int filtered = 0;
  for (const auto &form : server.seen())
    filtered += form.find("Filter.2.Name=subnet-id") != std::string::npos &&
                form.find("Filter.2.Value.1=subnet-0a0a0a0a") != std::string::npos;
  EXPECT_EQ(filtered, 2);
}

// ---------------------------------------------------------------------------
// What held. A double promotion (node-b and node-c promoted to timeline 2 in
// the same second, each writing its tag on its own interface, where neither
// overwrites the other) ends with one holder and the other fenced, for each
// kind; so does a promotion an hour late onto the holder's timeline while
// the target is unassigned: the late node may take it, the incumbent takes
// it back and the late node is fenced.
namespace {

// node-b and node-c, standbys, promoted to timeline 2: in the same second,
// or (`lagging`) node-c an hour after node-b, while an operator has
// unassigned the address (so that it reads with no tag at all).
void run_two_promotions(const std::string &id, bool lagging) {
  World w;
  ManualTime time;
  held_by_a(w, id);
  Node b(w, time, "node-b", "eni-0b", {id});
  Node c(w, time, "node-c", "eni-0c", {id});
  run_until(time, {&b, &c}, seconds(20));
  promote(b, time);
  if (lagging) {
    run_until(time, {&b, &c}, time.now + hours(1));
    ASSERT_EQ(b.state(), State::Held) << state_text(b);
    w.unpoint(id);
  }
  promote(c, time);
  run_until(time, {&b, &c}, time.now + minutes(3));
  // Lagging, the incumbent keeps it; at once, either may win.
  Node &winner = lagging || b.state() == State::Held ? b : c;
  Node &loser = &winner == &b ? c : b;
  EXPECT_EQ(winner.state(), State::Held) << state_text(b) << "; " << state_text(c) << "; log: " << join(w.log, " | ");
  EXPECT_EQ(loser.state(), State::Fenced) << state_text(loser);
  EXPECT_EQ(w.where(id), winner.eni);
}

}  // namespace

TEST(Adversary5, HeldDoublePromotionEndsWithOneHolderRoute) { run_two_promotions(kRtb, false); }
TEST(Adversary5, HeldDoublePromotionEndsWithOneHolderElasticIp) { run_two_promotions(kEip, false); }
TEST(Adversary5, HeldDoublePromotionEndsWithOneHolderSecondaryIp) { run_two_promotions(kAddress, false); }
TEST(Adversary5, HeldLaggingPromotionWhileUnassignedLosesRoute) { run_two_promotions(kRtb, true); }
TEST(Adversary5, HeldLaggingPromotionWhileUnassignedLosesElasticIp) { run_two_promotions(kEip, true); }
TEST(Adversary5, HeldLaggingPromotionWhileUnassignedLosesSecondaryIp) { run_two_promotions(kAddress, true); }
