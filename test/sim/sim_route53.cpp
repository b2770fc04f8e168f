#include "sim_route53.hpp"

#include <algorithm>
#include <cctype>

#include "core/fence.hpp"
#include "core/route53_fence.hpp"
#include "core/route53_names.hpp"

namespace pg_vip::sim {

using aws::AwsError;
using aws::ErrorKind;

namespace {

constexpr auto error = simulated_error;

std::string lower(std::string s) {
  for (auto &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A record set compared as Route 53 compares a DELETE with what it holds:
// the name without regard to case, everything else exactly.
bool same_set(const aws::RecordSet &a, const aws::RecordSet &b) {
  return lower(a.name) == lower(b.name) && a.type == b.type && a.ttl == b.ttl && a.values == b.values &&
         a.set_identifier == b.set_identifier && a.alias_dns_name == b.alias_dns_name;
}

// A TXT value's text, decoded here apart from the code under test: its
// quoted strings joined, \" and \\ unescaped (pg_vip writes nothing else).
std::optional<std::string> txt_of(const aws::RecordSet &r) {
  if (r.type != "TXT" || r.values.size() != 1) return std::nullopt;
  const std::string &v = r.values[0];
  std::string out;
  bool in = false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == '"') {
      in = !in;
    } else if (in && c == '\\' && i + 1 < v.size()) {
      out += v[++i];
    } else if (in) {
      out += c;
    }
  }
  return out;
}

// The fence's holder as D1 counts it: its timeline and interface (the
// text's tag), and the address it pointed at; "" without a fence.
std::string holder_of(const std::optional<aws::RecordSet> &fence) {
  if (!fence) return "";
  auto text = txt_of(*fence);
  if (!text) return "(unreadable)";
  auto a = text->find(' ');
  auto b = a == std::string::npos ? a : text->find(' ', a + 1);
  if (b == std::string::npos) return *text;
  auto tag = parse_tag(text->substr(b + 1));
  if (!tag) return *text;
  return "tl=" + std::to_string(tag->timeline) + " sysid=" + tag->sysid + " id=" + tag->id + " at " +
         text->substr(a + 1, b - a - 1);
}

}  // namespace

void Route53::add_target(const std::string &id) {
  auto colon = id.find(':');
  Target t;
  t.at = {id.substr(0, colon), lower(id.substr(colon + 1))};
  t.fence_name = "_pg_vip." + t.at.name;
  t.fences.push_back(std::nullopt);
  zones_[t.at.zone];
  targets_[id] = t;
}

void Route53::address_of(const std::string &eni, const std::string &address) {
  address_by_eni_[eni] = address;
  eni_by_address_[address] = eni;
}

std::string Route53::address_for(const std::string &eni) const {
  if (auto it = address_by_eni_.find(eni); it != address_by_eni_.end()) return it->second;
  // An interface no node has (an operator's, a rogue's): an address of
  // TEST-NET-2 of its own.
  unsigned h = 0;
  for (char c : eni) h = h * 31 + static_cast<unsigned char>(c);
  return "198.51.100." + std::to_string(1 + h % 250);
}

std::string Route53::eni_for(const std::string &address) const {
  if (auto it = eni_by_address_.find(address); it != eni_by_address_.end()) return it->second;
  return "dns:" + address;
}

const std::string *Route53::target_of_name(const std::string &zone, const std::string &name) const {
  std::string n = lower(name);
  for (const auto &[id, t] : targets_)
    if (t.at.zone == zone && (t.at.name == n || t.fence_name == n)) return &id;
  return nullptr;
}

uint64_t Route53::version(const std::string &id) const {
  auto it = targets_.find(id);
  return it == targets_.end() ? 0 : it->second.version;
}

void Route53::bump(const std::string &id) {
  Target &t = targets_[id];
  ++t.version;
  auto it = zones_[t.at.zone].find({t.fence_name, "TXT"});
  t.fences.push_back(it == zones_[t.at.zone].end() ? std::nullopt : std::optional(it->second));
}

TableState Route53::project(const std::string &id) const {
  const Target &t = targets_.at(id);
  const Zone &z = zones_.at(t.at.zone);
  TableState s;
  if (auto a = z.find({t.at.name, "A"}); a != z.end() && !a->second.values.empty()) {
    s.route_present = true;
    std::string joined;
    for (const auto &v : a->second.values) joined += (joined.empty() ? "" : ",") + v;
    s.eni = a->second.values.size() == 1 ? eni_for(a->second.values[0]) : "dns:" + joined;
  }
  if (auto f = z.find({t.fence_name, "TXT"}); f != z.end()) {
    auto text = txt_of(f->second);
    auto a = text ? text->find(' ') : std::string::npos;
    auto b = a == std::string::npos ? a : text->find(' ', a + 1);
    if (b != std::string::npos && text->compare(0, 7, "pg_vip:") == 0) s.tags[text->substr(0, a)] = text->substr(b + 1);
    else s.tags[legacy_fence_tag_key(vip_)] = text.value_or("(not a TXT record pg_vip can read)");
  }
  return s;
}

void Route53::mirror(Millis at, int node, const std::string &id, Millis sent_at) {
  ec2_.mirror(at, node, id, project(id), sent_at);
}

std::vector<aws::RecordSet> Route53::list(const std::string &zone) const {
  std::vector<aws::RecordSet> out;
  if (auto z = zones_.find(zone); z != zones_.end())
    for (const auto &[key, set] : z->second) out.push_back(set);
  return out;
}

std::optional<AwsError> Route53::change(Millis at, int node, const std::string &zone, const aws::ChangeBatch &batch,
                                        Millis sent_at, aws::ChangeInfo &info) {
  auto zit = zones_.find(zone);
  if (zit == zones_.end())
    return error(ErrorKind::NotFound, 404, "NoSuchHostedZone", "No hosted zone found with ID: " + zone);
  if (node >= 0 && at < busy_until_[zone])
    return error(ErrorKind::Throttled, 400, "PriorRequestNotComplete",
                 "The request was rejected because Route 53 was still processing a prior request.");
  // Validated as a whole on a copy; applied only if every change passes.
  Zone z = zit->second;
  std::vector<std::string> refusals;
  std::map<std::string, std::optional<aws::RecordSet>> deleted_fence;  // per target: what its DELETE named
  for (const auto &c : batch.changes) {
    std::pair<std::string, std::string> key{lower(c.record.name), c.record.type};
    std::string what = "resource record set [name='" + c.record.name + "', type='" + c.record.type + "']";
    auto it = z.find(key);
    const std::string *target = target_of_name(zone, c.record.name);
    bool fence = target && c.record.type == "TXT" && lower(c.record.name) == targets_[*target].fence_name;
    switch (c.action) {
      case aws::ChangeAction::Delete:
        if (fence) deleted_fence[*target] = c.record;
        if (it == z.end()) {
          if (ignore_delete_mismatch) break;
          refusals.push_back("Tried to delete " + what + " but it was not found");
        } else if (!same_set(it->second, c.record)) {
          if (ignore_delete_mismatch) {
            z.erase(it);
            break;
          }
          refusals.push_back("Tried to delete " + what + " but the values provided do not match the current values");
        } else {
          z.erase(it);
        }
        break;
      case aws::ChangeAction::Create:
        if (it != z.end()) refusals.push_back("Tried to create " + what + " but it already exists");
        else z[key] = c.record;
        break;
      case aws::ChangeAction::Upsert: z[key] = c.record; break;
    }
  }
  if (!refusals.empty()) {
    ++batches_refused;
    std::string msg;
    for (const auto &r : refusals) msg += (msg.empty() ? "" : "; ") + r;
    return error(ErrorKind::Invalid, 400, "InvalidChangeBatch", "[" + msg + "]");
  }
  // Which targets the batch touches, and the fence each had before.
  std::set<std::string> touched;
  for (const auto &c : batch.changes)
    if (const std::string *t = target_of_name(zone, c.record.name)) touched.insert(*t);
  std::map<std::string, std::optional<aws::RecordSet>> before;
  for (const auto &id : touched) before[id] = targets_[id].fences.back();
  zit->second = std::move(z);
  ++batches_applied;
  busy_until_[zone] = at + faults.busy;
  info.id = "C" + std::to_string(++change_seq_) + "SIM";
  info.status = faults.propagation > 0 ? "PENDING" : "INSYNC";
  info.comment = batch.comment;
  changes_[info.id] = {at, batch.comment};
  for (const auto &id : touched) {
    Target &t = targets_[id];
    uint64_t current = t.version;
    bump(id);
    // D1: the batch's DELETE of the fence named the version the zone held,
    // and no two batches took the fence from one version to a new holder.
    if (node < 0) continue;
    uint64_t from = current;
    auto d = deleted_fence.find(id);
    if (d != deleted_fence.end()) {
      from = 0;
      for (uint64_t v = current + 1; v-- > 0;)
        if (t.fences[v] && same_set(*t.fences[v], *d->second)) {
          from = v;
          break;
        }
    } else if (before[id] && holder_of(before[id]) != holder_of(t.fences.back())) {
      from = 0;  // the fence replaced without naming it
    }
    std::string now_holder = holder_of(t.fences.back());
    bool win = now_holder != holder_of(t.fences[from]);
    if (from != current && holder_of(t.fences[current]) != now_holder && on_violation)
      on_violation("node " + std::to_string(node) + "'s batch on " + id + " changed the fence from version " +
                   std::to_string(from) + " (" + holder_of(t.fences[from]) + ") although the zone held version " +
                   std::to_string(current) + " (" + holder_of(t.fences[current]) + "): it is now " + now_holder);
    if (!win) continue;
    ++wins_count;
    for (const auto &w : wins[id])
      if (w.from == from && w.node != node && on_violation)
        on_violation("nodes " + std::to_string(w.node) + " and " + std::to_string(node) + " both won " + id +
                     " from fence version " + std::to_string(from) + " (at " + std::to_string(w.at) + " and " +
                     std::to_string(at) + " ms)");
    wins[id].push_back({at, node, from});
  }
  for (const auto &id : touched) mirror(at, node, id, sent_at);
  return std::nullopt;
}

std::optional<aws::ChangeInfo> Route53::change_status(const std::string &id, Millis at) const {
  auto it = changes_.find(id);
  if (it == changes_.end()) return std::nullopt;
  aws::ChangeInfo info;
  info.id = id;
  info.comment = it->second.comment;
  info.status = at >= it->second.submitted + faults.propagation ? "INSYNC" : "PENDING";
  return info;
}

void Route53::set_address(Millis at, const std::string &id, const std::optional<std::string> &eni) {
  Target &t = targets_[id];
  Zone &z = zones_[t.at.zone];
  if (eni) z[{t.at.name, "A"}] = aws::RecordSet{t.at.name, "A", 60, {address_for(*eni)}, {}, {}};
  else z.erase({t.at.name, "A"});
  bump(id);
  mirror(at, -1, id, at);
}

void Route53::set_fence_text(Millis at, const std::string &id, const std::optional<std::string> &text) {
  Target &t = targets_[id];
  Zone &z = zones_[t.at.zone];
  if (text) z[{t.fence_name, "TXT"}] = aws::RecordSet{t.fence_name, "TXT", 60, {aws::txt_value(*text)}, {}, {}};
  else z.erase({t.fence_name, "TXT"});
  bump(id);
  mirror(at, -1, id, at);
}

Ec2::Fate Route53::fate(int node, const std::string &action, Millis at, Millis timeout, int attempt) {
  ++ec2_.requests_by_node[node];
  if (script_fate)
    if (auto f = script_fate(node, action, attempt, at)) return *f;
  bool change = action == "ChangeResourceRecordSets";
  return ec2_.draw(node, action, at, timeout,
                   error(ErrorKind::Authorization, 403, "AccessDenied",
                         "User is not authorized to perform: route53:" + action + " (simulated denial)"),
                   {{faults.throttle, error(ErrorKind::Throttled, 400, "Throttling", "Rate exceeded")},
                    {change ? faults.prior_request : 0,
                     error(ErrorKind::Throttled, 400, "PriorRequestNotComplete",
                           "The request was rejected because Route 53 was still processing a prior request.")},
                    {faults.server_error,
                     error(ErrorKind::ServerError, 503, "ServiceUnavailable", "Service unavailable (simulated).")}},
                   faults.lost_answer);
}

// ---- One node's API -------------------------------------------------------

std::optional<AwsError> SimRoute53Api::run(const std::string &action, int attempts,
                                           const std::function<std::optional<AwsError>(Millis)> &effect,
                                           bool &unanswered, int &made) {
  Ec2 &ec2 = r53_.ec2();
  Millis start = *now_, t = start;
  Millis cancel_at = time_ ? time_->cancel_at : std::numeric_limits<Millis>::max();
  std::optional<AwsError> err;
  for (int n = 0; n < attempts; ++n) {
    ec2.flush(t);
    if (t >= cancel_at) {
      err = error(ErrorKind::Transport, 0, "Cancelled", "the request was cancelled");
      unanswered = true;
      if (on_attempt) on_attempt(action, err, n + 1);
      break;
    }
    Ec2::Fate f = r53_.fate(node_, action, t, SimCloud::kTimeout, n + 1);
    Millis arrive = t + std::min<Millis>(f.latency, SimCloud::kTimeout) / 2;
    bool cut = t + f.latency > cancel_at;
    if (cut) {
      --ec2.requests_by_node[node_];
      if (f.applies) ++ec2.cancelled_applied;
    }
    ec2.flush(arrive);
    std::optional<AwsError> answer = f.error;
    if (f.applies) {
      auto e = effect(arrive);
      if (!answer) answer = e;
    }
    t = cut ? cancel_at : t + f.latency;
    err = cut ? error(ErrorKind::Transport, 0, "Cancelled", "the request was cancelled") : answer;
    ++made;
    if (err && (err->kind == ErrorKind::Transport || err->kind == ErrorKind::ServerError)) unanswered = true;
    if (on_attempt) on_attempt(action, err, n + 1);
    // The client's policy: Route 53's backoff (200 ms doubling to 2 s, full
    // jitter) within a deadline of max(3 x request timeout, 3 s).
    if (cut || !err || !err->retryable() || n + 1 == attempts || t - start >= 3 * SimCloud::kTimeout) break;
    std::uniform_int_distribution<Millis> wait(0, std::min<Millis>(2000, 200LL << std::min(n, 10)));
    t += wait(ec2.rng());
  }
  *now_ = t;
  return err;
}

aws::TargetReadResult SimRoute53Api::read_target(const std::string &zone, const std::string &address_name,
                                                 const std::string &address_type, const std::string &fence_name,
                                                 int attempts) {
  aws::TargetReadResult out;
  std::string id = zone + ":" + lower(address_name);
  Millis seen_at = -1;
  uint64_t version = 0;
  bool unanswered = false;
  out.error = run(
      "ListResourceRecordSets", attempts,
      [&](Millis at) -> std::optional<AwsError> {
        // Strongly consistent: what every batch applied so far made.
        Ec2 &ec2 = r53_.ec2();
        seen_at = std::max(at, ec2.latest());
        ec2.served(seen_at + 1);
        version = r53_.version(id);
        out.target = aws::find_target(r53_.list(zone), address_name, address_type, fence_name);
        return std::nullopt;
      },
      unanswered, out.attempts);
  if (reads_)
    reads_->last_read[id] =
        out.error ? SimCloud::LastRead{false, -1, reads_->step} : SimCloud::LastRead{true, seen_at, reads_->step};
  if (!out.error) seen_version[id] = version;
  else seen_version.erase(id);
  return out;
}

aws::ChangeResult SimRoute53Api::change(const std::string &zone, const aws::ChangeBatch &batch, int attempts) {
  aws::ChangeResult out;
  Ec2 &ec2 = r53_.ec2();
  Millis sent_at = *now_;
  // What the batch does, as EC2's requests are told to the invariants.
  std::vector<Sent> sends;
  std::optional<aws::RecordSet> deleted;
  for (const auto &c : batch.changes)
    if (c.action == aws::ChangeAction::Delete) deleted = c.record;
  for (const auto &c : batch.changes) {
    std::string name = lower(c.record.name);
    std::string id = zone + ":" + (name.rfind("_pg_vip.", 0) == 0 ? name.substr(8) : name);
    if (c.action == aws::ChangeAction::Upsert && !c.record.values.empty())
      sends.push_back({sent_at, node_, "Point", id, r53_.eni_for(c.record.values[0]), false, sent_at});
    if (c.action == aws::ChangeAction::Create && c.record.type == "TXT" && !(deleted && same_set(*deleted, c.record))) {
      auto text = txt_of(c.record).value_or("");
      auto a = text.find(' ');
      auto b = a == std::string::npos ? a : text.find(' ', a + 1);
      sends.push_back(
          {sent_at, node_, "Fence", id, b == std::string::npos ? text : text.substr(b + 1), false, sent_at});
    }
  }
  for (const auto &s : sends)
    if (ec2.on_send) ec2.on_send(s);
  bool unanswered = false;
  out.error = run(
      "ChangeResourceRecordSets", attempts,
      [&](Millis at) -> std::optional<AwsError> {
        aws::ChangeInfo info;
        auto e = r53_.change(at, node_, zone, batch, sent_at, info);
        if (!e) {
          out.change = info;
          for (auto s : sends) {
            s.at = at;
            s.applied = true;
            ec2.sent.push_back(s);
          }
        }
        return e;
      },
      unanswered, out.attempts);
  out.maybe_applied = unanswered;
  return out;
}

aws::ChangeResult SimRoute53Api::change_status(const std::string &change_id) {
  aws::ChangeResult out;
  bool unanswered = false;
  out.error = run(
      "GetChange", 1,
      [&](Millis at) -> std::optional<AwsError> {
        auto info = r53_.change_status(change_id, at);
        if (!info) return error(ErrorKind::NotFound, 404, "NoSuchChange", "No change found with ID: " + change_id);
        out.change = *info;
        return std::nullopt;
      },
      unanswered, out.attempts);
  return out;
}

}  // namespace pg_vip::sim
