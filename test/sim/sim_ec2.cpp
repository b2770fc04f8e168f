#include "sim_ec2.hpp"

#include <algorithm>
#include <cstdlib>

namespace pg_vip::sim {

using aws::AwsError;
using aws::ErrorKind;

namespace {
// Simulated time 0 is this wall-clock moment (fence tags carry a time).
constexpr int64_t kEpochSeconds = 1795000000;

AwsError error(ErrorKind kind, long status, const std::string &code, const std::string &message) {
  return simulated_error(kind, status, code, message);
}
}  // namespace

AwsError simulated_error(ErrorKind kind, long status, const std::string &code, const std::string &message) {
  AwsError e;
  e.kind = kind;
  e.http_status = status;
  e.code = code;
  e.message = message;
  return e;
}

std::optional<TagFields> parse_tag(const std::string &value) {
  TagFields f;
  bool tl = false;
  std::size_t start = 0;
  while (start < value.size()) {
    if (value.compare(start, 5, "node=") == 0) {
      f.node = value.substr(start + 5);
      break;
    }
    auto semi = value.find(';', start);
    std::string field = value.substr(start, semi == std::string::npos ? std::string::npos : semi - start);
    if (field.rfind("tl=", 0) == 0) {
      f.timeline = static_cast<uint32_t>(std::strtoul(field.c_str() + 3, nullptr, 10));
      tl = f.timeline > 0;
    } else if (field.rfind("id=", 0) == 0) {
      f.id = field.substr(3);
    } else if (field.rfind("sysid=", 0) == 0) {
      f.sysid = field.substr(6);
    }
    if (semi == std::string::npos) break;
    start = semi + 1;
  }
  if (!tl) return std::nullopt;
  return f;
}

std::chrono::steady_clock::time_point SimTime::steady() {
  // Far from the epoch so that "no time yet" (a default time point) never
  // looks like a moment of the run.
  return std::chrono::steady_clock::time_point(std::chrono::hours(1000) + std::chrono::milliseconds(*now_));
}

std::chrono::system_clock::time_point SimTime::wall() {
  return std::chrono::system_clock::time_point(std::chrono::seconds(kEpochSeconds) +
                                               std::chrono::milliseconds(*now_ + skew_));
}

Snapshot Ec2::state_at(Millis t) const {
  // The newest state committed at or before t.
  for (auto it = history_.rbegin(); it != history_.rend(); ++it)
    if (it->first <= t) return it->second;
  return history_.front().second;
}

void Ec2::commit(Millis at) {
  // A write never lands before a moment a read was already served: what a
  // read saw stays what the history says it saw.
  at = std::max(at, served_);
  if (!history_.empty() && at < history_.back().first) at = history_.back().first;
  history_.push_back({at, state_});
  // Keep what a stale read may still be served, and one state before it.
  Millis horizon = at - std::max<Millis>(faults.longest_staleness(), 60000);
  while (history_.size() > 2 && history_[1].first <= horizon) history_.pop_front();
}

bool TableState::carries(uint32_t timeline, const std::string &eni, const std::string &name) const {
  for (const auto &[key, value] : tags) {
    auto f = parse_tag(value);
    if (f && f->timeline == timeline && (f->id.empty() ? f->node == name : f->id == eni)) return true;
  }
  return false;
}

std::string TableState::describe_tags() const {
  if (tags.empty()) return "(no tag)";
  std::string out;
  for (const auto &[key, value] : tags) out += (out.empty() ? "" : ", ") + key + "=" + value;
  return out;
}

// The route (or association) only: the tags stay as they are (an operator
// moves a route with ReplaceRoute, an address with AssociateAddress, which
// leave tags alone).
void Ec2::set(Millis at, const std::string &table, const TableState &s) {
  auto tags = state_[table].tags;
  state_[table] = s;
  state_[table].tags = tags;
  commit(at);
}

void Ec2::set_tag(Millis at, const std::string &table, const std::string &key,
                  const std::optional<std::string> &value) {
  at = std::max(at, history_.back().first);
  if (value) state_[table].tags[key] = *value;
  else state_[table].tags.erase(key);
  genuine_[table].erase(key);
  restand(table, at);
  commit(at);
}

void Ec2::restand(const std::string &table, Millis at) {
  std::map<std::string, uint32_t> newest;
  for (const auto &key : genuine_[table]) {
    auto it = state_[table].tags.find(key);
    if (it == state_[table].tags.end()) continue;
    if (auto f = parse_tag(it->second); f && !f->sysid.empty())
      newest[f->sysid] = std::max(newest[f->sysid], f->timeline);
  }
  auto &standing = tag_standing[table];
  for (auto it = standing.begin(); it != standing.end();)
    it = newest.count(it->first) ? std::next(it) : standing.erase(it);
  for (const auto &[sysid, tl] : newest) {
    auto &st = standing[sysid];
    if (st.timeline != tl || st.since == 0) st = {tl, at};
  }
}

void Ec2::write_route(Millis at, int node, const std::string &table, const std::string &eni, Millis, bool late) {
  TableState &t = state_[table];
  bool changed = !t.route_present || t.blackhole || t.eni != eni;
  std::string from = t.route_present ? (t.blackhole ? "blackhole:" + t.eni : t.eni) : "";
  t.route_present = true;
  t.blackhole = false;
  t.eni = eni;
  at = std::max({at, history_.back().first, served_});
  if (changed) {
    ++route_changes[table];
    change_times[table].push_back(at);
    if (on_route_change) on_route_change(table, node, from, late, at);
  }
  commit(at);
}

void Ec2::write_tag(Millis at, int node, const std::string &table, const std::string &key, const std::string &value,
                    Millis sent_at) {
  at = std::max({at, history_.back().first, served_});
  auto &tags = state_[table].tags;
  auto old = tags.find(key);
  if (on_tag_write)
    on_tag_write(table, old == tags.end() ? std::nullopt : std::optional(old->second), value, node, sent_at, at);
  tags[key] = value;
  genuine_[table].insert(key);
  restand(table, at);
  commit(at);
}

void Ec2::delete_tags(Millis at, int node, const std::string &table,
                      const std::vector<std::pair<std::string, std::string>> &which, Millis sent_at) {
  at = std::max({at, history_.back().first, served_});
  auto &tags = state_[table].tags;
  for (const auto &[key, value] : which) {
    auto it = tags.find(key);
    if (it == tags.end() || (!value.empty() && it->second != value)) continue;  // empty: whatever its value
    if (on_tag_delete) on_tag_delete(table, it->second, node, sent_at, at);
    tags.erase(it);
    genuine_[table].erase(key);
  }
  restand(table, at);
  commit(at);
}

void Ec2::mirror(Millis at, int node, const std::string &table, const TableState &s, Millis sent_at) {
  at = std::max({at, history_.back().first, served_});
  TableState &t = state_[table];
  bool changed = t.route_present != s.route_present || t.blackhole != s.blackhole || t.eni != s.eni;
  std::string from = t.route_present ? (t.blackhole ? "blackhole:" + t.eni : t.eni) : "";
  for (auto it = t.tags.begin(); it != t.tags.end();) {
    if (s.tags.count(it->first)) {
      ++it;
      continue;
    }
    if (node >= 0 && on_tag_delete) on_tag_delete(table, it->second, node, sent_at, at);
    genuine_[table].erase(it->first);
    it = t.tags.erase(it);
  }
  for (const auto &[key, value] : s.tags) {
    auto old = t.tags.find(key);
    if (old != t.tags.end() && old->second == value) continue;
    if (node >= 0) {
      if (on_tag_write)
        on_tag_write(table, old == t.tags.end() ? std::nullopt : std::optional(old->second), value, node, sent_at, at);
      genuine_[table].insert(key);
    } else {
      genuine_[table].erase(key);
    }
    t.tags[key] = value;
  }
  t.route_present = s.route_present;
  t.blackhole = s.blackhole;
  t.eni = s.eni;
  if (changed && node >= 0) {
    ++route_changes[table];
    change_times[table].push_back(at);
    if (on_route_change) on_route_change(table, node, from, false, at);
  }
  restand(table, at);
  commit(at);
}

void Ec2::later(Millis at, std::function<void(Millis)> effect) {
  late_.push_back({at, ++late_seq_, std::move(effect)});
}

void Ec2::flush(Millis upto) {
  while (true) {
    auto due = late_.end();
    for (auto it = late_.begin(); it != late_.end(); ++it)
      if (it->at <= upto && (due == late_.end() || it->at < due->at || (it->at == due->at && it->seq < due->seq)))
        due = it;
    if (due == late_.end()) return;
    Late l = std::move(*due);
    late_.erase(due);
    l.effect(l.at);
  }
}

Ec2::Fate Ec2::fate(int node, const std::string &action, Millis at, Millis timeout, int attempt) {
  ++requests_by_node[node];
  if (script_fate)
    if (auto f = script_fate(node, action, attempt, at)) return *f;
  Fate f = draw(
      node, action, at, timeout,
      error(ErrorKind::Authorization, 403, "UnauthorizedOperation",
            "You are not authorized to perform this operation (simulated denial of ec2:" + action + ")."),
      {{faults.throttle, error(ErrorKind::Throttled, 503, "RequestLimitExceeded", "Request limit exceeded.")},
       {faults.server_error, error(ErrorKind::ServerError, 500, "InternalError", "An internal error has occurred.")}},
      faults.lost_answer);
  // Held up inside EC2: applied well after the node gave up on it.
  std::uniform_real_distribution<double> u(0, 1);
  if (f.applies && f.error && action.rfind("Describe", 0) != 0 && faults.max_write_delay > 0 &&
      u(rng_) < faults.late_apply)
    f.delay = std::uniform_int_distribution<Millis>(1, faults.max_write_delay)(rng_);
  return f;
}

Ec2::Fate Ec2::draw(int node, const std::string &action, Millis at, Millis timeout, const aws::AwsError &denial,
                    const std::vector<Refusal> &refusals, double lost_answer) {
  std::uniform_int_distribution<Millis> latency(faults.min_latency, faults.max_latency);
  std::uniform_real_distribution<double> u(0, 1);
  Fate f;
  f.latency = latency(rng_);
  if (auto p = partitioned_until.find(node); p != partitioned_until.end() && at < p->second) {
    f.latency = timeout;
    f.error = error(ErrorKind::Transport, 0, "RequestTimeout", "simulated partition");
    return f;
  }
  if (u(rng_) < faults.reset) {
    f.error = error(ErrorKind::Transport, 0, "TransportError", "simulated connection reset");
    return f;
  }
  if (auto d = denied.find(node); d != denied.end() && d->second.count(action)) {
    f.error = denial;
    return f;
  }
  for (const auto &r : refusals)
    if (u(rng_) < r.chance) {
      f.error = r.error;
      return f;
    }
  f.applies = true;
  if (u(rng_) < lost_answer) {
    f.latency = timeout;
    f.error = error(ErrorKind::Transport, 0, "RequestTimeout", "simulated answer lost after the change was applied");
  }
  return f;
}

Placement SimCloud::prepare(const std::string &configured_interface) {
  Placement p;
  p.region = "sim-1";
  p.interface_id = configured_interface == "auto" ? eni_ : configured_interface;
  p.instance_id = instance_;
  placed_ = p.interface_id;
  return p;
}

Millis SimCloud::attempt(const std::string &action, Millis start, int attempts,
                         const std::function<void(Millis, bool)> &effect, std::optional<aws::AwsError> &err) {
  Millis t = start;
  Millis cancel_at = time_ ? time_->cancel_at : std::numeric_limits<Millis>::max();
  for (int n = 0; n < attempts; ++n) {
    ec2_.flush(t);
    if (t >= cancel_at) {
      // A shutdown: the client sends nothing more.
      err = error(ErrorKind::Transport, 0, "Cancelled", "the request was cancelled");
      if (on_attempt) on_attempt(action, err, n + 1);
      break;
    }
    Ec2::Fate f = ec2_.fate(node_, action, t, kTimeout, n + 1);
    Millis arrive = t + std::min<Millis>(f.latency, kTimeout) / 2;
    bool cut = t + f.latency > cancel_at;  // cancelled in flight: EC2 may still apply it
    if (cut) {
      --ec2_.requests_by_node[node_];  // no outcome the node counts
      if (f.applies) ++ec2_.cancelled_applied;
    }
    ec2_.flush(arrive);
    if (f.applies) {
      if (f.delay > 0) ec2_.later(arrive + f.delay, [effect](Millis at) { effect(at, true); });
      else effect(arrive, false);
    }
    t = cut ? cancel_at : t + f.latency;
    err = cut ? error(ErrorKind::Transport, 0, "Cancelled", "the request was cancelled") : f.error;
    if (on_attempt) on_attempt(action, err, n + 1);
    if (cut || !err || !err->retryable() || n + 1 == attempts) break;
    // Backoff with full jitter, as the real client: 50 ms doubling, capped.
    std::uniform_int_distribution<Millis> wait(0, std::min<Millis>(1000, 50LL << std::min(n, 10)));
    t += wait(ec2_.rng());
  }
  return t;
}

// One DescribeRouteTables for the tables and one DescribeAddresses for the
// Elastic IPs, sent together (as the real Cloud does): each may fail alone,
// each is served at its own age.
std::vector<TargetRead> SimCloud::read(const std::vector<std::string> &ids, int attempts) {
  std::vector<TargetRead> out(ids.size());
  std::vector<std::size_t> tables, addresses, secondaries;
  for (std::size_t i = 0; i < ids.size(); ++i)
    (is_elastic_ip(ids[i]) ? addresses : is_secondary_ip(ids[i]) ? secondaries : tables).push_back(i);
  const Faults &f = ec2_.faults;
  Millis start = *now_, end = start;
  // DescribeNetworkInterfaces with the subnet's tags (DescribeSubnets, sent
  // with it): one read, at the addresses' eventual consistency.
  if (!secondaries.empty())
    end = std::max(end, describe("DescribeNetworkInterfaces", start, attempts, ids, secondaries, f.address_lag,
                                 f.address_stale_read, f.address_max_staleness, out));
  if (!tables.empty())
    end = std::max(end, describe("DescribeRouteTables", start, attempts, ids, tables, f.route_lag, f.stale_read,
                                 f.max_staleness, out));
  if (!addresses.empty())
    end = std::max(end, describe("DescribeAddresses", start, attempts, ids, addresses, f.address_lag,
                                 f.address_stale_read, f.address_max_staleness, out));
  *now_ = end;
  return out;
}

Millis SimCloud::describe(const std::string &action, Millis start, int attempts, const std::vector<std::string> &ids,
                          const std::vector<std::size_t> &which, Millis lag, double stale, Millis max_stale,
                          std::vector<TargetRead> &out) {
  Snapshot seen;
  Millis seen_at = -1;
  std::optional<aws::AwsError> err;
  Millis end = attempt(
      action, start, attempts,
      [&](Millis at, bool) {
        ec2_.served(at);
        // The lag reaches back no further than the VPC as the run set it up.
        seen_at = std::max<Millis>(at - lag, 0);
        std::uniform_real_distribution<double> u(0, 1);
        if (max_stale > 0 && u(ec2_.rng()) < stale) {
          std::uniform_int_distribution<Millis> age(0, max_stale);
          seen_at -= age(ec2_.rng());
        }
        seen = ec2_.state_at(seen_at);
      },
      err);
  for (std::size_t i : which) {
    TargetRead &r = out[i];
    r.id = ids[i];
    if (err) {
      r.error = err;
      r.failed_action = action;
      last_read[ids[i]] = {false, -1, step};
      continue;
    }
    // An Elastic IP not associated is Missing, never Dangling: the same
    // fields say it.
    const TableState &t = seen[ids[i]];
    r.state = !t.route_present                       ? TargetState::Missing
              : t.blackhole                          ? TargetState::Dangling
              : !placed_.empty() && t.eni == placed_ ? TargetState::Ours
                                                     : TargetState::Other;
    r.interface_id = t.eni;
    r.points_at = t.eni;
    r.fence_tags = t.tags;
    last_read[ids[i]] = {true, seen_at, step};
  }
  return end;
}

Cloud::Applied SimCloud::apply(const std::vector<PointRequest> &points, const std::string &eni, const FenceWrite &fence,
                               int attempts) {
  const std::vector<std::string> &fence_ids = fence.ids;
  const std::string &fence_value = fence.value;
  // Every request leaves at once; EC2 receives them in an order of its own.
  struct Job {
    int index;  // -1: the fence tag
  };
  std::vector<Job> jobs;
  for (std::size_t i = 0; i < points.size(); ++i) jobs.push_back({static_cast<int>(i)});
  if (!fence_ids.empty()) jobs.push_back({-1});
  std::shuffle(jobs.begin(), jobs.end(), ec2_.rng());
  Applied out;
  out.points.resize(points.size());
  Millis start = *now_, end = start;
  for (const Job &j : jobs) {
    std::optional<aws::AwsError> err;
    Millis done;
    if (j.index < 0) {
      for (const auto &id : fence_ids) {
        Sent s{start, node_, "Fence", id, fence_value, false, start};
        if (ec2_.on_send) ec2_.on_send(s);
      }
      done = attempt(
          "CreateTags", start, attempts,
          [ec2 = &ec2_, node = node_, fence_ids, key = fence.key, fence_value, start](Millis at, bool) {
            for (const auto &id : fence_ids) {
              ec2->write_tag(at, node, id, key, fence_value, start);
              ec2->sent.push_back({at, node, "Fence", id, fence_value, true, start});
            }
          },
          err);
      out.fence.sent = true;
      out.fence.action = "CreateTags";
      out.fence.error = err;
    } else {
      const std::string &id = points[j.index].id;
      // AssociateAddress with AllowReassociation takes the address from
      // wherever it is, as ReplaceRoute (or CreateRoute) the route.
      bool address = is_elastic_ip(id);
      // AssignPrivateIpAddresses answers at once and EC2 moves the address
      // up to several seconds later (asynchronous assignment).
      bool secondary = is_secondary_ip(id);
      Millis moves_after = secondary ? std::uniform_int_distribution<Millis>(0, 6000)(ec2_.rng()) : 0;
      Sent s{start, node_, "Point", id, eni, false, start};
      if (ec2_.on_send) ec2_.on_send(s);
      done = attempt(
          address     ? "AssociateAddress"
          : secondary ? "AssignPrivateIpAddresses"
                      : "ReplaceRoute",
          start, attempts,
          [ec2 = &ec2_, node = node_, id, eni, start, moves_after](Millis at, bool late) {
            auto move = [ec2, node, id, eni, start](Millis when, bool was_late) {
              ec2->write_route(when, node, id, eni, start, was_late);
              ec2->sent.push_back({when, node, "Point", id, eni, true, start});
            };
            if (moves_after > 0) ec2->later(at + moves_after, [move, late](Millis when) { move(when, late); });
            else move(at, late);
          },
          err);
      out.points[j.index].sent = true;
      out.points[j.index].action = address                   ? "AssociateAddress"
                                   : secondary               ? "AssignPrivateIpAddresses"
                                   : points[j.index].missing ? "CreateRoute"
                                                             : "ReplaceRoute";
      out.points[j.index].error = err;
    }
    end = std::max(end, done);
  }
  *now_ = end;
  return out;
}

Outcome SimCloud::forget(const std::vector<std::string> &ids, const TagList &tags, int attempts) {
  Outcome out;
  if (ids.empty() || tags.empty()) return out;
  Millis start = *now_;
  std::string what;
  for (const auto &kv : tags) what += (what.empty() ? "" : ",") + kv.first;
  for (const auto &id : ids) {
    Sent s{start, node_, "Forget", id, what, false, start};
    if (ec2_.on_send) ec2_.on_send(s);
  }
  std::optional<aws::AwsError> err;
  *now_ = attempt(
      "DeleteTags", start, attempts,
      [ec2 = &ec2_, node = node_, ids, tags, what, start](Millis at, bool) {
        for (const auto &id : ids) {
          ec2->delete_tags(at, node, id, tags, start);
          ec2->sent.push_back({at, node, "Forget", id, what, true, start});
        }
      },
      err);
  out.sent = true;
  out.action = "DeleteTags";
  out.error = err;
  return out;
}

}  // namespace pg_vip::sim
