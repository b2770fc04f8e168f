// The claim: pointing tables here and writing this node's fence tag
// (point), after a promotion in one round trip (promote) or from a fresh
// read (claim), reading back until held (verify, held, not_held), renewing
// the tag while it holds and deleting older timelines' tags. The rules it
// follows are judgement.hpp's and fence.hpp's; when it runs is step()'s,
// in controller.cpp.
#include <algorithm>

#include "controller.hpp"
#include "controller_text.hpp"
#include "text.hpp"

namespace pg_vip {

using namespace std::chrono;
using controller_text::join_ids;

// Points the given tables here. Tag first, then the routes: a route never
// points at a node whose tag is not already on the table, so a reader that
// sees the route moved also sees who moved it. The promotion's claim sends
// both at once (one round trip); its timeline is newer than any tag its
// standby read.
std::vector<std::size_t> Controller::point(const std::vector<std::size_t> &which, const Identity &me,
                                           bool one_round_trip) {
  std::vector<std::string> fence_ids;
  std::vector<std::string> own;  // tables whose tag already names this node: a rewrite there is best effort
  std::vector<PointRequest> points;
  std::vector<std::size_t> pointed;
  for (auto i : which) {
    // A tag that already names this node is not written again (every
    // write is a chance to overwrite, on a stale read, a newer tag), unless
    // it is due for renewal: a route pointed here under a tag others are
    // about to count lapsed is taken straight back.
    Ground g = ground(me);
    bool mine = targets_[i].holder && judge(me, *targets_[i].holder, tie_context(g)) == Standing::Mine;
    if (mine) own.push_back(targets_[i].id);
    if (!mine || one_round_trip || stale_own_tag(targets_[i], g)) fence_ids.push_back(targets_[i].id);
    if (targets_[i].state != TargetState::Ours || one_round_trip) {
      points.push_back({targets_[i].id, targets_[i].state == TargetState::Missing});
      pointed.push_back(i);
    }
  }
  if (fence_ids.empty() && points.empty()) return {};
  changed_since_held_ = true;
  Cloud::FenceWrite tag = fence_write(me, fence_ids);
  auto round_start = now();
  Cloud::Applied a;
  if (one_round_trip) {
    a = cloud_->apply(points, eni_, tag, kClaimAttempts);
    make_room(fence_ids, me, a);
  } else {
    if (!fence_ids.empty()) a = cloud_->apply({}, eni_, tag, kClaimAttempts);
    make_room(fence_ids, me, a);
    // Tag first, then routes. When the tag could not be written, a table
    // whose tag names an older timeline is still taken, once (as a
    // promotion would: this node's timeline is newer than the holder's);
    // one with no tag, or a tag of this timeline, is not.
    std::vector<PointRequest> go;
    std::vector<std::size_t> went;
    for (std::size_t k = 0; k < points.size(); ++k) {
      const TargetView &t = targets_[pointed[k]];
      // Once per term: a table that pointed here in this term and was taken
      // back is not taken again without this node's tag, or two live
      // primaries, one unable to fence, would take turns on it.
      bool older = t.holder && t.holder->timeline < me.timeline && !t.seen_ours &&
                   judge(me, *t.holder, tie_context(ground(me))) == Standing::Yields;
      // A tag that already named this node counts even when its rewrite
      // failed (CreateTags denied): the route goes back, as a repair did
      // before the rewrite; the rewrite is the renewal's, best effort.
      bool tagged = fence_ids.empty() || a.fence_of(t.id).ok() ||
                    std::find(fence_ids.begin(), fence_ids.end(), t.id) == fence_ids.end() ||
                    std::find(own.begin(), own.end(), t.id) != own.end();
      if (tagged || older) {
        go.push_back(points[k]);
        went.push_back(pointed[k]);
      }
    }
    if (!go.empty()) a.points = cloud_->apply(go, eni_, {}, kClaimAttempts).points;
    points = go;
    pointed = went;
  }
  bool fenced_all = true;
  for (auto i : which) {
    // Only where a tag was to be written: one already naming this node stands.
    if (std::find(fence_ids.begin(), fence_ids.end(), targets_[i].id) == fence_ids.end()) continue;
    const Outcome &f = a.fence_of(targets_[i].id);
    if (f.ok()) targets_[i].tagged_here = true;
    if (!f.error) continue;
    fenced_all = false;
    targets_[i].last_error = "fence tag not written: " + f.error->describe_for(f.action);
    targets_[i].permanent = f.error->permanent();
    targets_[i].cause = f.action + ":" + f.error->code;
  }
  int switched = 0;
  std::vector<std::size_t> moved;
  for (std::size_t k = 0; k < a.points.size() && k < pointed.size(); ++k) {
    TargetView &view = targets_[pointed[k]];
    if (a.points[k].ok()) {
      ++switched;
      moved.push_back(pointed[k]);
    } else if (a.points[k].error) {
      const std::string &action = a.points[k].action;
      std::string why = std::string(words(view.kind).not_pointed) + ": " + a.points[k].error->describe_for(action);
      view.last_error = view.last_error.empty() ? why : view.last_error + "; " + why;
      view.permanent |= a.points[k].error->permanent();
      if (!view.cause.empty()) view.cause += ",";  // the fence tag's cause came first
      view.cause += action + ":" + a.points[k].error->code;
    }
  }
  if ((fence_ids.empty() || (a.fence.ok() && fenced_all)) && switched == static_cast<int>(points.size())) {
    double ms = duration<double, std::milli>(now() - round_start).count();
    std::vector<std::size_t> tagged;
    for (auto i : which)
      if (std::find(fence_ids.begin(), fence_ids.end(), targets_[i].id) != fence_ids.end()) tagged.push_back(i);
    std::string what =
        switched ? "pointed " + counted(moved) + " at " + eni_ : "wrote this node's fence tag on " + counted(tagged);
    event(event::kClaim, true,
          what + " (" + cause_text(cause_, cause_by_) + ", timeline " + std::to_string(me.timeline) + ", " +
              std::to_string(static_cast<long>(ms)) + " ms)");
  }
  return moved;
}

// The claim after a promotion: every table at once, routes and tag in one
// round trip, on what the standby last read.
milliseconds Controller::promote(const Observation &obs) {
  Identity me = identity(obs);
  cause_ = episode_ = Cause::Promotion;
  claim_started_ = now();
  // The single round trip acts on what the standby read: only when it read
  // every table, recently. Otherwise one read first (a standby denied
  // DescribeRouteTables, throttled, or checking seldom must not overwrite
  // a tag it never saw).
  unsure_only_ = false;
  if (!fresh_enough(targets_, ground(me))) read_targets(kClaimAttempts);
  if (const TargetView *t = outranking(me)) {
    fence(me, *t);
    return config_.check_interval;
  }
  if (config_.dry_run) return claim(obs, Cause::Promotion);
  become(State::Claiming);
  // Not a table that could not be read, nor one under another cluster's tag.
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    Verdict v = verdict(targets_[i], me);
    if (v != Verdict::Held && v != Verdict::NeedsFence && v != Verdict::NeedsRoute) continue;
    targets_[i].last_error.clear();
    if (leave_to_rival(targets_[i], me)) continue;
    todo.push_back(i);
  }
  point(todo, me, true);
  if (hooks_.time->cancelled()) return milliseconds(0);
  return verify(obs);
}

// A table whose tag names a rival of this timeline that outranks this
// node, its route not there yet (rival_claiming): not tagged over nor
// pointed here on this read; not_held() says why it is pending.
bool Controller::leave_to_rival(TargetView &t, const Identity &me) {
  if (!rival_claiming(t, ground(me))) return false;
  t.last_error = "fence tag of " + describe(*t.holder) +
                 ", which outranks this node; its route is not there yet: left to its claim, not tagged over";
  return true;
}

// A claim from a fresh read: fail closed (a table not read, or whose tag
// cannot be parsed, is left alone), fenced by any tag that outranks this
// node, tag first. A forced claim overrides both.
milliseconds Controller::claim(const Observation &obs, Cause cause, const std::string &by) {
  Identity me = identity(obs);
  bool force = cause == Cause::Forced;
  if (cause != Cause::Retry) episode_ = cause;
  if (cause != Cause::Retry) unsure_only_ = false;
  cause_ = cause;
  cause_by_ = by;
  if (claim_started_ == steady_clock::time_point{}) claim_started_ = now();
  // A claim that began only because a holder's check could not read goes
  // as a check does: nothing is known to be wrong, and in a throttled
  // account a fleet of such claims would keep the read bucket empty.
  read_targets(unsure_only_ ? kCheckAttempts : kClaimAttempts);
  if (!force) {
    if (const TargetView *t = outranking(me)) {
      fence(me, *t);
      return config_.check_interval;
    }
    if (newest_seen_ > me.timeline) return stay_fenced(me);
  }
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    Verdict v = verdict(targets_[i], me);
    if (!force && leave_to_rival(targets_[i], me)) continue;
    if (v == Verdict::NeedsFence || v == Verdict::NeedsRoute || (force && v != Verdict::Held)) todo.push_back(i);
  }
  if (config_.dry_run) {
    become(State::DryRun);
    std::vector<std::string> ids;
    std::vector<std::size_t> moving;
    for (auto i : todo)
      if (targets_[i].state != TargetState::Ours) {
        ids.push_back(targets_[i].id);
        moving.push_back(i);
      }
    event(event::kClaim, true,
          "dry run (" + cause_text(cause, by) + "): would point " + counted(moving) + " at " + eni_ +
              (ids.empty() ? "" : ": " + join_ids(ids)) + "; would write the fence tag on " + counted(todo));
    last_error_.clear();
    return config_.check_interval;
  }
  // The flap memory: a claim of its own (not an operator's) that would point
  // a table here again within the window stops instead; an operator's
  // vip_claim() starts the memory afresh.
  bool operator_claim = cause == Cause::Requested || cause == Cause::Forced;
  // What the flap memory was before this claim: a reversal that EC2 did
  // not carry out (ReplaceRoute throttled, refused, unanswered) is none,
  // and must not spend the window's allowance or make the next attempt
  // look like a second reversal.
  std::vector<std::pair<std::size_t, TargetView>> before;
  for (auto i : todo)
    if (targets_[i].state != TargetState::Ours) before.emplace_back(i, targets_[i]);
  for (auto i : todo) {
    TargetView &t = targets_[i];
    if (t.state == TargetState::Ours) continue;
    if (operator_claim) {
      t.repaired_at = {};
      t.repaired_wall = {};
      t.stale_repairs = 0;
    } else if (t.seen_ours && !may_repoint(t, me)) {
      claim_failed();
      return conflict(t);
    }
  }
  become(State::Claiming);
  // The operator overrides every other tag on this VIP, newer ones too:
  // with one key per timeline, writing this node's own would not.
  if (force) forget_tags(me, true);
  std::vector<std::size_t> moved;
  if (!todo.empty()) moved = point(todo, me, false);
  for (const auto &[i, was] : before) {
    if (std::find(moved.begin(), moved.end(), i) != moved.end()) continue;
    TargetView &t = targets_[i];
    t.repaired_at = was.repaired_at;
    t.repaired_wall = was.repaired_wall;
    t.stale_repairs = was.stale_repairs;
    t.last_rival = was.last_rival;
    t.rival_at = was.rival_at;
  }
  // A claim that keeps failing on one table still holds the others: their
  // tags must not lapse meanwhile, or a rival of this timeline takes them.
  renew(me);
  if (hooks_.time->cancelled()) return milliseconds(0);
  return verify(obs);
}

// Reads the tables back until each one's route and tag name this node,
// tolerating stale reads (EC2 is eventually consistent).
milliseconds Controller::verify(const Observation &obs) {
  Identity me = identity(obs);
  // Keep what the claim learnt of each table's failure: a read that comes
  // back only says where the route points.
  struct Kept {
    std::string error;
    bool permanent;
    std::string cause;
  };
  std::vector<Kept> errors;
  for (const auto &t : targets_) errors.push_back({t.last_error, t.permanent, t.cause});
  bool all = false;
  milliseconds waited{0};
  for (milliseconds w : {milliseconds(0), milliseconds(100), milliseconds(200), milliseconds(400), milliseconds(800),
                         milliseconds(1600), milliseconds(3200)}) {
    // Each kind is read back for as long as its reads may lag its writes
    // (verify_patience): a route table's reads are waited for 700 ms, as
    // ever; an Elastic IP's association shows seconds late.
    bool patient = std::any_of(targets_.begin(), targets_.end(), [&](const TargetView &t) {
      return verdict(t, me) != Verdict::Held && waited + w <= verify_patience(t.kind);
    });
    if (w.count() && !patient) break;
    if (w.count()) hooks_.time->sleep(w);
    waited += w;
    if (hooks_.time->cancelled()) return milliseconds(0);
    read_targets(kClaimAttempts);
    all = std::all_of(targets_.begin(), targets_.end(),
                      [&](const TargetView &t) { return verdict(t, me) == Verdict::Held; });
    if (all) break;  // an outranking tag may be a stale read too: it is believed after the last read
  }
  if (const TargetView *t = outranking(me)) {
    fence(me, *t);
    return config_.check_interval;
  }
  if (all) {
    held(obs);
    return config_.check_interval;
  }
  for (std::size_t i = 0; i < targets_.size(); ++i)
    if (targets_[i].read_ok && !errors[i].error.empty() && verdict(targets_[i], me) != Verdict::Held) {
      targets_[i].last_error = errors[i].error;
      targets_[i].permanent = errors[i].permanent;
      targets_[i].cause = errors[i].cause;
    }
  claim_failed();
  return not_held(obs);
}

void Controller::held(const Observation &obs) {
  unsure_only_ = false;
  bool first = episode_ == Cause::Promotion && obs.primary_noticed != steady_clock::time_point{};
  auto since_tp = claim_started_ == steady_clock::time_point{} ? now() : claim_started_;
  if (first) since_tp = std::min(obs.primary_noticed, since_tp);
  double ms = duration<double, std::milli>(now() - since_tp).count();
  bool was_held = state_ == State::Held;
  if (episode_ == Cause::Forced) newest_seen_ = 0;  // the operator overrode what this node had seen
  failed_rounds_ = 0;
  failure_cause_.clear();
  last_error_.clear();
  fence_holder_.reset();
  claim_started_ = {};
  cause_ = Cause::Retry;
  cause_by_.clear();
  if (was_held || !changed_since_held_) {  // verified again: nothing new to say
    become(State::Held);
    return;
  }
  changed_since_held_ = false;
  const char *since = first                       ? "this node became primary"
                      : episode_ == Cause::Repair ? "the repair began"
                                                  : "the claim began";
  std::vector<std::string> ours;
  for (const auto &t : targets_) ours.push_back(t.id + ": ours");
  std::string detail = join(ours, "; ");
  log(false,
      "pg_vip: VIP " + config_.vip + " held on " + counted_all() + ", " + std::to_string(static_cast<long>(ms)) +
          " ms after " + since,
      "Each " + noun(kinds()) + " points at " + eni_ + " and carries this node's fence tag: " + detail + ".");
  become(State::Held,
         counted_all() + (targets_.size() == 1 ? " points" : " point") + " at " + eni_ + " after " +
             std::to_string(static_cast<long>(ms)) + " ms (timeline " + std::to_string(obs.timeline) + ")",
         ms / 1000);
}

// Some table is not (verifiably) ours: say which and why, once per cause,
// and come back soon, or at the slow pace when retrying cannot help.
milliseconds Controller::not_held(const Observation &obs) {
  Identity me = identity(obs);
  become(State::Claiming);
  std::vector<std::string> pending_tables;
  std::string cause;
  bool permanent = false;
  for (auto &t : targets_) {
    Verdict v = verdict(t, me);
    if (v == Verdict::Held) continue;
    std::string why;
    switch (v) {
      case Verdict::Unread: why = t.last_error; break;
      case Verdict::Foreign:
        // What to do first, the tag's text last: vip_routes() keeps 255 bytes.
        why = "fence tag not this cluster's (" + foreign_kind(me, t.holder) +
              "): not claimed over, not a fence; delete it if nothing of yours wrote it, or vip_claim(force => "
              "true); the tag: " +
              sanitize_event_text(t.raw_tag->substr(0, 120));
        permanent = true;
        break;
      case Verdict::HandsOff:
        why = "points at " + t.points_at +
              ", which this node did not see it move to: this node started as primary and cannot tell a "
              "failover it did not see from a route moved by hand, so it does not take the route on its own; "
              "run vip_claim() on the node that should hold the VIP";
        permanent = true;
        break;
      case Verdict::NeedsFence:
        why = t.last_error.empty() ? "points here; fence tag not yet read back" : t.last_error;
        break;
      default:
        why = std::string(to_string(t.kind, t.state)) + (t.points_at.empty() ? "" : " (" + t.points_at + ")") +
              (t.last_error.empty() ? "" : ": " + t.last_error);
        break;
    }
    t.last_error = why;
    permanent |= t.permanent;
    pending_tables.push_back(t.id + ": " + why);
    // The cause by what failed and AWS's code, never its text: EC2's
    // messages carry request-specific parts (an encoded authorization
    // message differs on every call).
    cause += t.id + "=" + std::to_string(static_cast<int>(v)) + ":" + to_string(t.kind, t.state) + ":" + t.cause + "|";
  }
  std::string pending = join(pending_tables, "; ");
  last_error_ = "pending " + nouns(kinds()) + ": " + pending;
  if (cause != failure_cause_) {
    failure_cause_ = cause;
    event(event::kClaimFailed, false,
          "not every " + noun(kinds()) + " points here (" + cause_text(cause_, cause_by_) + "): " + pending);
    log(true,
        "pg_vip: could not point every " + noun(kinds()) + " at this node; " +
            std::string(permanent ? "retrying at the slow pace" : "retrying"),
        permanent ? "Retrying cannot fix this by itself: " + pending + "." : pending + ".");
  }
  cause_ = Cause::Retry;
  if (permanent) return config_.check_interval;
  // A holder that only could not read because AWS throttled it retries as
  // it checked: nothing is known to be wrong, the account is busy, and a
  // fleet of holders retrying within seconds of a throttled read is what
  // keeps an account's read bucket empty (the fleet simulation's AZ outage:
  // 801 of 1000 primaries claiming a minute in, the promotions starved
  // behind them). Any other failed read (a timeout, a 500) says nothing of
  // the account: retried soon, as before.
  // A standby that stopped streaming since (it may have been promoted)
  // brings it back to check_interval, as it does a holder's check
  // (adversary 33's replicated-holder-unread-when-promoted: fenced 283 s
  // after the promotion instead of within two checks of a read).
  if (unsure_only_ && throttled_reads_ > 0)
    return std::max(retry_delay(),
                    std::min(unsure_interval_, cadence_.interval(cadence_.seen_at(), config_.check_interval,
                                                                 config_.replicated_check_interval)));
  return retry_delay();
}

// Rewrites this node's tag when a third of its lease has passed (one
// CreateTags for every table), so that the other primary of a double
// promotion can tell a holder that is still there from one that is gone.
void Controller::renew(const Identity &me) {
  if (!renewal_due(targets_, ground(me))) return;
  // Only what this step read as held (route and tag): a renewal claims
  // nothing, and never acts on an old read.
  tag_where(
      me, [&](const TargetView &t) { return verdict(t, me) == Verdict::Held; }, "renew the fence tag");
}

// Writes this node's tag on the tables whose route points here under a tag
// that does not name it (and does not outrank it): what a node in conflict
// may still do.
void Controller::retag(const Identity &me) {
  Ground g = ground(me);
  tag_where(
      me, [&](const TargetView &t) { return retag_due(t, g); }, "put this node's fence tag back");
}

// This node's tag on every table that `which` picks from this step's read,
// in one CreateTags, as a check (it gives way to claims); a failure is
// logged and left to the next check.
void Controller::tag_where(const Identity &me, const std::function<bool(const TargetView &)> &which, const char *what) {
  std::vector<std::string> ids;
  for (const auto &t : targets_)
    if (which(t)) ids.push_back(t.id);
  if (ids.empty()) return;
  Cloud::Applied a = cloud_->apply({}, eni_, fence_write(me, ids), kCheckAttempts);
  if (a.fence.error)
    log(true, std::string("pg_vip: could not ") + what + "; retrying at the next check",
        a.fence.error->describe_for(a.fence.action) + ".");
}

Cloud::FenceWrite Controller::fence_write(const Identity &me, std::vector<std::string> ids) const {
  return {std::move(ids), fence_tag_key(config_.vip, me.timeline),
          fence_tag_value(me, hooks_.time->wall(), tenure(), config_.fence_key.reveal())};
}

// Deletes the fence tags a holder no longer needs: older timelines' (EC2
// keeps 50 tags per table), or, for a forced claim, every other. One
// DeleteTags for all tables, and only when a read shows something to
// delete. Refused for good (no ec2:DeleteTags), it warns once a term and
// stops trying: the old tags are harmless, newer ones win.
void Controller::forget_tags(const Identity &me, bool all_but_mine) {
  if (forget_refused_ && !all_but_mine) return;
  std::vector<std::size_t> which;
  for (std::size_t i = 0; i < targets_.size(); ++i)
    if (all_but_mine || verdict(targets_[i], me) == Verdict::Held) which.push_back(i);
  auto failed = delete_old_tags(which, me, all_but_mine);
  if (!failed) return;
  const Outcome &o = failed->first;
  if (o.error->permanent()) forget_refused_ = true;
  log(true, "pg_vip: could not delete older fence tags " + failed->second,
      o.error->describe_for(o.action) +
          ". They are harmless (a newer timeline's tag wins), but a table keeps at most 50 tags; allow "
          "ec2:DeleteTags on this VIP's pg_vip: keys (SELECT vip_iam_policy() writes the policy).");
}

std::optional<std::pair<Outcome, std::string>> Controller::delete_old_tags(const std::vector<std::size_t> &which,
                                                                           const Identity &me, bool all_but_mine,
                                                                           bool any_value) {
  // Each table's own tags, each with the value this read saw: tables that
  // share them (the usual case: one CreateTags wrote them all) share one
  // request. A key chosen on one table is never deleted on another, and a
  // value written after this read (a stale read, a late delete) stays.
  std::vector<std::pair<Cloud::TagList, std::vector<std::string>>> groups;
  for (auto i : which) {
    const TargetView &t = targets_[i];
    if (!t.read_ok) continue;
    Cloud::TagList tags;
    for (const auto &key : fence_tag_keys_to_forget(t.fence_tags, config_.vip, me, all_but_mine)) {
      // The legacy key is shared by every timeline: only the value read.
      bool older_timeline = fence_tag_key_timeline(config_.vip, key).value_or(0) > 0;
      tags.emplace_back(key, any_value && older_timeline ? std::string() : t.fence_tags.at(key));
    }
    if (tags.empty()) continue;
    auto g = std::find_if(groups.begin(), groups.end(), [&](const auto &x) { return x.first == tags; });
    if (g == groups.end()) groups.push_back({std::move(tags), {t.id}});
    else g->second.push_back(t.id);
  }
  for (const auto &[tags, ids] : groups) {
    Outcome o = cloud_->forget(ids, tags, kCheckAttempts);
    if (!o.error) continue;
    std::vector<std::string> keys;
    for (const auto &kv : tags) keys.push_back(kv.first);
    return std::make_pair(o, "(" + join(keys, ", ") + ") on " + join_ids(ids));
  }
  return std::nullopt;
}

// EC2 keeps 50 tags per resource, and a subnet's are shared by every
// cluster and tool in it. A promotion's move may land in the round trip in
// which its tag is refused for want of room; then the old primary, whose
// own tag still reads newest, would take the target back. The keys of the
// older timelines this node outranks (whoever wrote them, whatever value
// they carry now: the old primary renews its tag, and the standby's read
// may predate that) make the room, and the tag is written again at once:
// well before a holder that finds the target moved confirms it
// (confirm_wait) and reads this tag. A holder that then finds its own tag
// gone from a moved target keeps its hands off (judgement.cpp).
void Controller::make_room(const std::vector<std::string> &fence_ids, const Identity &me, Cloud::Applied &a) {
  std::vector<std::size_t> full;
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    if (std::find(fence_ids.begin(), fence_ids.end(), targets_[i].id) == fence_ids.end()) continue;
    const Outcome &f = a.fence_of(targets_[i].id);
    if (!f.error || !aws::no_tag_room(*f.error)) continue;
    full.push_back(i);
    ids.push_back(targets_[i].id);
  }
  if (full.empty()) return;
  // What there is to delete, as the last read showed it.
  bool chosen = false;
  for (auto i : full) chosen |= !fence_tag_keys_to_forget(targets_[i].fence_tags, config_.vip, me, false).empty();
  std::optional<std::pair<Outcome, std::string>> failed = delete_old_tags(full, me, false, true);
  if (failed)
    log(true, "pg_vip: could not delete older fence tags " + failed->second + " to make room for this node's",
        failed->first.error->describe_for(failed->first.action) +
            ". Allow ec2:DeleteTags on this VIP's pg_vip: keys (SELECT vip_iam_policy() writes the policy).");
  Cloud::Applied again = cloud_->apply({}, eni_, fence_write(me, ids), kClaimAttempts);
  for (const auto &id : ids) a.fence_by_id[id] = again.fence_of(id);
  // `fence` speaks for the write as a whole: written, once every target's is.
  bool all = std::all_of(fence_ids.begin(), fence_ids.end(), [&](const std::string &id) {
    auto it = a.fence_by_id.find(id);
    return !(it == a.fence_by_id.end() ? a.fence : it->second).error;
  });
  if (all) a.fence = Outcome{true, again.fence.sent ? again.fence.action : a.fence.action, std::nullopt};
  bool written = std::all_of(ids.begin(), ids.end(), [&](const std::string &id) { return a.fence_of(id).ok(); });
  log(true,
      "pg_vip: no room for this node's fence tag on " + join_ids(ids) +
          (written ? "; older timelines' tags deleted and the tag written" : "; the tag is not written"),
      "EC2 keeps 50 tags per resource. " +
          std::string(written ? "The tags of timelines below " + std::to_string(me.timeline) +
                                    " made room this time; keep a few free."
                      : failed ? "The older timelines' tags could not be deleted (see the warning before)."
                      : chosen ? "The older timelines' tags were deleted, and the tag was still refused: free a few "
                                 "slots."
                               : "Nothing of this VIP's that this node outranks was there to delete: free a few "
                                 "slots."));
}

}  // namespace pg_vip
