#include "controller.hpp"

#include <algorithm>

#include "error.hpp"
#include "fence_key.hpp"
#include "controller_text.hpp"
#include "settings.hpp"
#include "text.hpp"

namespace pg_vip {

using controller_text::join_ids;

using namespace std::chrono;

namespace {

// The settings that shape the Cloud: a change builds a new one.
bool same_cloud(const ControllerConfig &a, const ControllerConfig &b) {
  return a.vip == b.vip && a.network_interface == b.network_interface && a.region == b.region &&
         a.ec2_endpoint == b.ec2_endpoint && a.imds_endpoint == b.imds_endpoint && a.aws_profile == b.aws_profile &&
         a.ca_file == b.ca_file && a.request_timeout == b.request_timeout &&
         a.elastic_ip_private_address == b.elastic_ip_private_address &&
         // A Cloud for Route 53 or none: whether any record is configured.
         a.dns_records.empty() == b.dns_records.empty() && a.dns_ttl == b.dns_ttl && a.dns_value == b.dns_value &&
         a.route53_endpoint == b.route53_endpoint &&
         // The record's address is read once from the first Elastic IP.
         (a.dns_value != "elastic" || a.elastic_ips.empty() == b.elastic_ips.empty()) &&
         (a.dns_value != "elastic" || a.elastic_ips.empty() || a.elastic_ips.front() == b.elastic_ips.front());
}

// How long the reads that lift a fence must span, at the least: a read
// served from before the tag that fenced this node must not lift it.
constexpr milliseconds kUnfenceSpan{5000};

}  // namespace

std::vector<TargetId> ControllerConfig::targets() const {
  std::vector<TargetId> out;
  for (const auto &id : route_tables) out.push_back({TargetKind::Route, id});
  for (const auto &id : elastic_ips) out.push_back({TargetKind::ElasticIp, id});
  for (const auto &id : secondary_ips) out.push_back({TargetKind::SecondaryIp, id});
  for (const auto &id : dns_records) out.push_back({TargetKind::Dns, id});
  return out;
}

std::vector<TargetKind> Controller::kinds(const std::vector<std::size_t> *which) const {
  std::vector<TargetKind> out;
  if (!which)
    for (const auto &t : targets_) out.push_back(t.kind);
  else
    for (auto i : *which) out.push_back(targets_[i].kind);
  return out;
}

Controller::Controller(Hooks hooks, Resume resume)
    : hooks_(std::move(hooks)), state_(resume.state), role_(resume.role), by_(resume.by), timeline_(resume.timeline),
      promoted_at_(resume.promoted_at), conflict_since_(resume.conflict_since), conflict_wall_(resume.conflict_wall),
      term_since_(resume.term_since), newest_seen_(resume.newest_seen), resumed_repairs_(std::move(resume.repaired)),
      resumed_tags_(std::move(resume.tags_seen)), metrics_(resume.metrics), claim_done_(resume.claim_done) {
  // A claim under way when the worker stopped starts over from a read: the
  // promotion's single round trip belongs to the worker that saw it. It is
  // still the promotion's claim: it may take the route from the old primary.
  if (state_ == State::Primary) state_ = State::Claiming;
  // Claiming only because its check could not read, it was the holder and
  // knows nothing new: it checks again as one, and a hold it finds is no
  // new claim (vip_held, claims_total; TAP 042 restarted a worker while a
  // throttled check waited for its cadence's retry).
  if (state_ == State::Claiming && resume.unsure_only) state_ = State::Held;
  if (resume.by == PrimaryBy::Promotion) cause_ = episode_ = Cause::Promotion;
  if (state_ == State::Fenced && resume.rival) {
    fence_holder_ = std::move(resume.rival);
    fence_holder_read_ = resume.rival_read;
  }
}

Controller::~Controller() = default;

void Controller::configure(ControllerConfig config) {
  // A node that was to MAC its tags and cannot read its key does nothing
  // rather than write tags its cluster takes for forged.
  fence_key_error_.clear();
  if (!config.fence_key_file.empty()) {
    try {
      config.fence_key = read_fence_key(config.fence_key_file);
    } catch (const Error &e) {
      fence_key_error_ = std::string(e.what()) + ": " + e.detail() + " " + e.hint();
    }
  }
  bool rebuild = !same_cloud(config, config_);
  bool tables_changed = config.targets() != config_.targets() || config.vip != config_.vip;
  config_ = std::move(config);
  if (rebuild) {
    cloud_.reset();
    prepared_ = false;
    eni_.clear();
    instance_id_.clear();
  }
  if (tables_changed) {
    std::vector<TargetView> views;
    for (const auto &[kind, id] : config_.targets()) {
      auto old = std::find_if(targets_.begin(), targets_.end(),
                              [&, kind = kind, id = id](const TargetView &v) { return v.kind == kind && v.id == id; });
      if (old != targets_.end() && !rebuild) {
        views.push_back(*old);
      } else {
        views.emplace_back();
        views.back().kind = kind;
        views.back().id = id;
        for (const auto &r : resumed_repairs_)
          if (r.id == id) {
            views.back().repaired_at = r.at;
            views.back().repaired_wall = r.wall;
          }
        // A worker restarted while primary resumes a term in which its
        // routes already pointed here.
        views.back().seen_ours = state_ == State::Held || state_ == State::Conflict || state_ == State::Claiming;
      }
    }
    targets_ = std::move(views);
    // A new table must be claimed too: a holder checks again.
    changed_since_held_ = true;
  }
}

void Controller::observe_role(Role role, PrimaryBy by, uint32_t timeline, bool became_primary) noexcept {
  role_ = role;
  by_ = by;
  timeline_ = timeline;
  if (became_primary) {
    noticed_primary_ = true;
    if (by == PrimaryBy::Promotion) promoted_at_ = hooks_.time->wall();
  }
}

milliseconds Controller::retry_delay() {
  // While AWS throttles this node's reads, up to two check intervals
  // between rounds: a claim never gives up, but a fleet of claims retrying
  // every few seconds would only keep the account's buckets empty.
  const milliseconds cap = config_.check_interval * (throttled_reads_ > 0 ? 2 : 1);
  aws::Backoff b{milliseconds(200), std::max(cap, milliseconds(200))};
  auto d = b.delay(std::min(failed_rounds_, 20), hooks_.time->random());
  ++failed_rounds_;
  return std::max(d, milliseconds(50));
}

Identity Controller::identity(const Observation &obs) const {
  return Identity{config_.node_name, obs.system_identifier, obs.timeline, eni_};
}

Ground Controller::ground(const Identity &me) const {
  Ground g;
  g.me = me;
  g.now = hooks_.time->steady();
  g.check_interval = config_.check_interval;
  g.hold_interval = hold_interval();
  g.fence_key = !config_.fence_key.empty();
  g.since = term_since_ == Clock::time_point{} ? -1 : duration_cast<seconds>(term_since_.time_since_epoch()).count();
  // A node that started as primary did not see where the routes went
  // while it was down; every other episode did, or was asked to act.
  g.may_take = episode_ != Cause::Start;
  g.interfaces = &interfaces_;
  return g;
}

Tenure Controller::tenure() const {
  Tenure t;
  t.lease = lease(std::max(config_.check_interval, hold_interval()));
  if (term_since_ != Clock::time_point{}) t.since = duration_cast<seconds>(term_since_.time_since_epoch()).count();
  return t;
}

// Region, interface, credentials and the Cloud: everything the claim needs
// before its first request, done while still a standby.
void Controller::prepare() {
  if (cloud_ && prepared_) return;
  prepared_ = false;
  if (!cloud_) {
    CloudReports reports;
    reports.log = [this](const std::string &line) { log(false, "pg_vip: " + line); };
    reports.attempt = [this](std::string_view action, const std::optional<aws::AwsError> &error, int attempt) {
      metrics_.count_attempt(action, error, attempt);
      if (error && error->kind == aws::ErrorKind::Throttled) throttled_at_ = now();
    };
    cloud_ = hooks_.cloud(config_, *hooks_.time, std::move(reports));
  }
  Placement p = cloud_->prepare(config_.network_interface);
  for (auto &w : p.warnings) log(true, "pg_vip: " + w);
  if (p.interface_id != eni_) {
    // The interface decides which routes are ours: what was read is stale.
    for (auto &t : targets_) t.read_ok = false;
  }
  eni_ = p.interface_id;
  instance_id_ = p.instance_id;
  prepared_ = true;
}

// Reads every target with its fence tag.
void Controller::read_targets(int attempts) {
  std::vector<std::string> ids;
  for (const auto &t : targets_) ids.push_back(t.id);
  std::vector<TargetRead> reads = cloud_->read(ids, attempts);
  auto checked = hooks_.time->wall();
  const bool throttled = std::any_of(reads.begin(), reads.end(), [](const TargetRead &r) {
    return r.error && r.error->kind == aws::ErrorKind::Throttled;
  });
  const bool all_read = std::none_of(reads.begin(), reads.end(), [](const TargetRead &r) { return r.error; });
  if (throttled) {
    throttled_reads_ = std::min(throttled_reads_ + 1, kMaxCheckBackoff);
    // Said once per episode: a fleet that keeps its account's read bucket
    // empty must be told which setting spends it.
    if (throttled_reads_ >= kWarnThrottledReads && !throttle_warned_) {
      throttle_warned_ = true;
      std::string action;
      for (const auto &r : reads)
        if (r.error && r.error->kind == aws::ErrorKind::Throttled) action = r.failed_action;
      log(true, "pg_vip: AWS keeps throttling this node's " + action + " requests; its checks are spaced out",
          "Every node of every cluster in the account and region draws on one request bucket per action (AWS's "
          "example: 20 reads a second). Claims still go first. With many clusters in one account, raise "
          "pg_vip.check_interval: a cluster of three nodes reads about three times per check_interval.");
    }
  } else if (all_read && throttled_reads_ > 0) {
    if (--throttled_reads_ == 0) throttle_warned_ = false;
  }
  // Which tag counts depends on the cluster only (its system identifier and
  // fence key), not on this node's timeline.
  Identity us;
  us.system_identifier = system_identifier_;
  for (std::size_t i = 0; i < targets_.size() && i < reads.size(); ++i) {
    TargetView &view = targets_[i];
    const TargetRead &r = reads[i];
    if (r.error && r.error->cut_short()) {
      // Not read, yet no failure to read either: what it showed before
      // stands in vip_routes(), and nothing is acted on it.
      view.read_ok = false;
      continue;
    }
    view.checked_at = checked;
    if (r.error) {
      view.read_ok = false;
      view.state = TargetState::Unknown;
      view.last_error = "cannot read: " + r.error->describe_for(r.failed_action);
      view.permanent = r.error->permanent();
      view.cause = r.failed_action + ":" + r.error->code;
      continue;
    }
    view.read_ok = true;
    view.read_at = now();
    view.last_error.clear();
    view.permanent = false;
    view.cause.clear();
    view.state = r.state;
    view.points_at = r.state == TargetState::Missing ? std::string() : r.points_at;
    view.seen_ours |= view.state == TargetState::Ours;
    std::optional<FenceTagRef> chosen = choose_fence_tag(r.fence_tags, config_.vip, us, config_.fence_key.reveal(),
                                                         r.state == TargetState::Missing ? "" : r.interface_id);
    std::optional<std::string> tag = chosen ? std::optional(chosen->value) : std::nullopt;
    if (view.tag_unchanged_since == steady_clock::time_point{}) {
      view.tag_unchanged_since = now();
      // This worker's first read of it: the same tag the previous worker
      // timed has stood since then (a restart must not make a dead
      // holder's tag young again: adversary 36).
      auto seen = std::find_if(resumed_tags_.begin(), resumed_tags_.end(), [&](const Resume::TagSeen &s) {
        return s.id == view.id && tag && s.digest == tag_digest(*tag);
      });
      if (seen != resumed_tags_.end()) {
        view.tag_unchanged_since = std::min(view.tag_unchanged_since, seen->since);
        resumed_tags_.erase(seen);
      }
    } else if (tag != view.raw_tag) {
      view.tag_unchanged_since = now();
    }
    view.raw_tag = tag;
    view.fence_tags = r.fence_tags;
    view.holder = tag ? parse_fence_tag(*tag, config_.fence_key.reveal()) : std::nullopt;
    // Remember under which timeline each interface was seen holding: only
    // from this cluster's tags, which a stranger cannot make up (with a
    // fence key) or which at least name this cluster.
    if (const auto &h = view.holder; h && !h->interface_id.empty() && h->system_identifier == system_identifier_ &&
                                     (config_.fence_key.empty() || h->authentic)) {
      uint32_t &tl = interfaces_[h->interface_id];
      tl = std::max(tl, h->timeline);
    }
  }
}

// The source/destination check changes only by hand: read at start and then
// every ten minutes, so that a check costs one DescribeRouteTables and no more.
void Controller::check_source_dest() {
  if (instance_id_.empty()) return;
  if (source_dest_checked_ != steady_clock::time_point{} && now() - source_dest_checked_ < minutes(10)) return;
  source_dest_checked_ = now();
  std::optional<bool> enabled = cloud_->source_dest_check();
  if (!enabled) return;
  if (*enabled && source_dest_check_ != true)
    log(true, "pg_vip: the source/destination check is enabled on interface " + eni_,
        "Traffic to the VIP " + config_.vip +
            " reaching this instance will be dropped. Disable it with "
            "aws ec2 modify-network-interface-attribute --no-source-dest-check --network-interface-id " +
            eni_ + ".");
  source_dest_check_ = enabled;
}

void Controller::fence(const Identity &me, const TargetView &t) {
  if (t.holder->timeline > me.timeline) newest_seen_ = std::max(newest_seen_, t.holder->timeline);
  std::string reason = fence_reason(me, *t.holder, tie_context(ground(me))) + " (tag on " + t.id + ")";
  fence_holder_ = t.holder;
  fence_holder_read_ = now();
  last_error_ = "fenced: " + reason;
  become(State::Fenced, reason);
}

void Controller::become(State next, const std::string &report, double claim_seconds) {
  State was = state_;
  state_ = next;
  switch (next) {
    case State::Fenced:
      unfence_seen_ = {};
      claim_started_ = {};
      if (was == State::Fenced) return;
      ++metrics_.fences;
      log(true, "pg_vip: this node is fenced and will not claim the VIP " + config_.vip, report + ".");
      event(event::kFenced, true, report);
      return;
    case State::Conflict:
      conflict_since_ = now();
      conflict_wall_ = hooks_.time->wall();
      event(event::kConflict, false, report);
      return;
    case State::Held:
      if (report.empty()) return;
      metrics_.count_claim(claim_seconds);
      if (episode_ == Cause::Repair) ++metrics_.repairs;
      event(episode_ == Cause::Repair ? event::kRepaired : event::kHeld, true, report);
      return;
    default: return;
  }
}

// A holder's check: re-read; fenced by a newer tag; a table moved away is
// repaired once a second read confirms the move (a promotion elsewhere
// writes its tag within the same round trip as its routes: the second read
// sees it), and only once per flap window.
milliseconds Controller::check_held(const Observation &obs) {
  Identity me = identity(obs);
  read_targets();
  check_source_dest();
  if (const TargetView *t = outranking(me)) {
    fence(me, *t);
    return config_.check_interval;
  }
  bool moved = false, unread = false;
  milliseconds wait{0};  // before the confirming read: the longest any moved target's kind needs
  for (auto &t : targets_) {
    Verdict v = verdict(t, me);
    unread |= v == Verdict::Unread || v == Verdict::Foreign || v == Verdict::HandsOff;
    if (v != Verdict::NeedsRoute && v != Verdict::NeedsFence) continue;
    moved = true;
    wait = std::max(wait, confirm_wait(t.kind));
    if (v == Verdict::NeedsRoute && flap(t, ground(me)) == Flap::Again) return conflict(t);
  }
  if (!moved) {
    if (unread) {
      cause_ = Cause::Retry;
      unsure_only_ = true;  // its retries read as checks (claim())
      unsure_interval_ = hold_interval();
      return not_held(obs);
    }
    renew(me);
    forget_tags(me);
    return hold_interval();
  }
  // Confirm, then repair what the claim's own fresh read still finds moved.
  hooks_.time->sleep(wait);
  // Stopped before the confirming read: what the last read showed stands,
  // and it was not held. The next worker starts from a read.
  if (hooks_.time->cancelled()) {
    become(State::Claiming);
    return milliseconds(0);
  }
  std::vector<std::string> ids;
  for (const auto &t : targets_)
    if (verdict(t, me) == Verdict::NeedsRoute || verdict(t, me) == Verdict::NeedsFence)
      ids.push_back(t.id + " (" + to_string(t.kind, t.state) + (t.points_at.empty() ? "" : " " + t.points_at) + ")");
  std::vector<TargetKind> k = kinds();
  std::string what = k.empty() || std::all_of(k.begin(), k.end(), [&](TargetKind x) { return x == k.front(); })
                         ? std::string("the VIP's ") + words(k.empty() ? TargetKind::Route : k.front()).thing
                         : std::string("the VIP");
  log(true, "pg_vip: " + what + " no longer points here; repairing", list_label(k) + ": " + join_ids(ids) + ".");
  claim_started_ = now();
  return claim(obs, Cause::Repair);
}

// Pointing table t here again, after it was moved away: a first reversal
// is remembered, a stale primary's late write is undone (a few times per
// window), a rival that steps back is no war; a second reversal within the
// window is (false).
bool Controller::may_repoint(TargetView &t, const Identity &me) {
  Ground g = ground(me);
  switch (flap(t, g)) {
    case Flap::Again: return false;
    case Flap::StaleWrite:
      ++t.stale_repairs;
      log(true,
          "pg_vip: " + t.id + " was pointed at " + t.points_at +
              ", an interface last seen holding under an older timeline",
          "A stale primary's request applied late; pointed here again, not counted as a route war.");
      return true;
    case Flap::Rival:
      t.last_rival = t.points_at;
      t.rival_at = g.now;
      break;
    case Flap::First: break;
  }
  t.repaired_at = g.now;
  t.repaired_wall = hooks_.time->wall();
  return true;
}

milliseconds Controller::conflict(const TargetView &t) {
  last_error_ = "conflict: " + t.id + " was moved away again (now " + to_string(t.kind, t.state) +
                (t.points_at.empty() ? "" : " " + t.points_at) +
                ") after this node pointed it here; pg_vip stops repairing it to avoid a route war";
  log(true, "pg_vip: " + t.id + " keeps being moved away from this node; repairs stopped",
      "Something else (another failover tool, a script, infrastructure as code) points the VIP's route at " +
          (t.points_at.empty() ? std::string("nothing") : t.points_at) +
          ". Find and stop it, then run vip_claim() to take the route back.");
  become(State::Conflict, last_error_);
  return config_.check_interval;
}

// A newer timeline was seen holding the VIP, and its tag is not (or no
// longer) on the tables: the node stays fenced all the same.
milliseconds Controller::stay_fenced(const Identity &me) {
  last_error_ = "fenced: timeline " + std::to_string(newest_seen_) + " was seen holding the VIP" +
                (fence_holder_ ? " (" + describe(*fence_holder_) + ")" : std::string()) +
                ", this node is on timeline " + std::to_string(me.timeline) +
                "; its tag is gone, but that primary may not be";
  become(State::Fenced, last_error_);
  return fenced_interval(me);
}

// Fenced by a newer timeline, nothing this node reads can lift the fence
// (only vip_claim(force => true) does): it reads as a streaming standby
// does, for vip_routes(). A stale primary left running must not spend
// the account's reads every check_interval (the fleet simulation's zone
// return: a third of the old primaries, fenced, kept the bucket empty).
// Fenced on its own timeline it watches for the holder's lease to lapse.
milliseconds Controller::fenced_interval(const Identity &me) const {
  return newest_seen_ > me.timeline ? standby_interval(true) : config_.check_interval;
}

// A fenced node keeps reading; when no table's tag outranks it any more
// (on reads spanning a while, so that a stale read cannot lift the fence),
// it claims again.
milliseconds Controller::check_fenced(const Observation &obs) {
  Identity me = identity(obs);
  read_targets();
  check_source_dest();
  if (const TargetView *t = outranking(me)) {
    fence_holder_ = t->holder;
    fence_holder_read_ = now();
    last_error_ = "fenced: " + fence_reason(me, *t->holder, tie_context(ground(me))) + " (tag on " + t->id + ")";
    unfence_seen_ = {};
    return fenced_interval(me);
  }
  if (newest_seen_ > me.timeline) return stay_fenced(me);
  // The holder that fenced this node still has its route; what the tables
  // show in its tag's place is this node's own late write: the fence stands.
  if (fence_holder_ && rival_stands(targets_, *fence_holder_, fence_holder_read_, ground(me))) {
    unfence_seen_ = {};
    return config_.check_interval;
  }
  for (const auto &t : targets_) {
    Verdict v = verdict(t, me);
    if (v == Verdict::Unread) return config_.check_interval;  // fail closed
  }
  milliseconds span = std::max(config_.check_interval, kUnfenceSpan);
  if (unfence_seen_ == steady_clock::time_point{}) {
    unfence_seen_ = now();
    return span;
  }
  if (now() - unfence_seen_ < span) return span - duration_cast<milliseconds>(now() - unfence_seen_);
  log(true, "pg_vip: the fence no longer applies; claiming the VIP " + config_.vip,
      "No " + noun(kinds()) + "'s fence tag outranks this node any more" +
          (fence_holder_ ? " (it was " + describe(*fence_holder_) + ")" : std::string()) + ".");
  fence_holder_.reset();
  unfence_seen_ = {};
  claim_started_ = now();
  return claim(obs, Cause::Resume);
}

// A node in conflict changes nothing; it leaves the state when the routes
// come back, a newer holder fences it, or the flap window has passed (then
// it may repair once more).
milliseconds Controller::check_conflict(const Observation &obs) {
  Identity me = identity(obs);
  read_targets();
  if (const TargetView *t = outranking(me)) {
    fence(me, *t);
    return config_.check_interval;
  }
  bool all = std::all_of(targets_.begin(), targets_.end(),
                         [&](const TargetView &t) { return verdict(t, me) == Verdict::Held; });
  if (all) {
    held(obs);
    return config_.check_interval;
  }
  // The tables it still holds keep their tags renewed: lapsed, a fenced
  // rival of this timeline would take them, and the two take turns. A
  // table whose route is still its own under another tag (a rival's write
  // applied late) gets its tag back: a tag, not a route, so no war, and the
  // fenced rival keeps reading who holds it (rival_stands lasts a lease; a
  // conflict, the longer flap window).
  renew(me);
  retag(me);
  if (now() - conflict_since_ < flap_window(config_.check_interval)) return config_.check_interval;
  for (auto &t : targets_) t.repaired_at = {};
  become(State::Held);  // the next check repairs once more, if the move is still there
  return check_held(obs);
}

milliseconds Controller::answer(const Observation &obs, const ClaimRequest &r) {
  if (r.force) log(true, "pg_vip: claim of the VIP forced by " + r.by, "The fence check is overridden.");
  claim_started_ = now();
  changed_since_held_ = true;
  milliseconds next = claim(obs, r.force ? Cause::Forced : Cause::Requested, r.by);
  claim_done_ = r.seq;
  bool ok = state_ == State::Held || state_ == State::DryRun;
  answers_.push_back({r.seq, ok, ok ? std::string() : last_error_, state_});
  return next;
}

// A standby streaming from its primary is not about to be promoted: it
// reads every standby_check_interval. Not streaming (its primary may be
// gone), it reads every check_interval, so that a promotion finds a read
// young enough to act on (promotion_read_age); the worker wakes it at once
// when streaming stops.
milliseconds Controller::standby_interval(bool streaming) const {
  // Until it has read every target once, a standby has no view to show or
  // to claim on: every check_interval, streaming or not.
  const bool seen_all =
      std::all_of(targets_.begin(), targets_.end(), [](const TargetView &t) { return t.read_at != SteadyTime{}; });
  return streaming && seen_all ? std::max(config_.check_interval, config_.standby_check_interval)
                               : config_.check_interval;
}

milliseconds Controller::hold_interval() const {
  if (state_ != State::Held) return config_.check_interval;
  // As of this step's look at the standbys, not of now: a window that ends
  // during the check's renewal would have the check wait the replicated
  // interval under a tag that announces lease(check_interval).
  return cadence_.interval(cadence_.seen_at(), config_.check_interval, config_.replicated_check_interval);
}

void Controller::note_cadence() {
  const bool replicated = state_ == State::Held && hold_interval() > config_.check_interval;
  if (replicated == replicated_) return;
  replicated_ = replicated;
  // Leaving the hold (fenced, conflict, a claim) says so itself.
  if (state_ != State::Held) return;
  if (replicated)
    log(false,
        "pg_vip: every standby streams from this primary; it checks the VIP's targets every " +
            cadence_text(config_.replicated_check_interval),
        std::to_string(cadence_.standbys()) +
            " standby(s) streamed without a stop for a lease of pg_vip.check_interval "
            "(pg_vip.replicated_check_interval). A standby that stops streaming brings it back to "
            "pg_vip.check_interval at once.");
  else
    log(false,
        "pg_vip: a standby stopped streaming from this primary; it checks the VIP's targets every " +
            cadence_text(config_.check_interval),
        "The standby may have been promoted: pg_vip.check_interval applies for a lease of it, and while no "
        "standby streams.");
}

milliseconds Controller::step(const Observation &obs) {
  const milliseconds d = step_once(obs);
  note_cadence();
  // A regular check (the step asked for one check interval): later while
  // AWS throttles this node's reads, so that a fleet's checks give way to
  // its claims (api_budget.hpp). Twice as late per throttled read in a row,
  // jittered, up to 32 times on a standby; on a primary at most twice, so
  // that its tag is still renewed well within its lease (judgement.hpp);
  // back by halves as reads succeed. A promotion wakes the worker at once
  // whatever the wait. A long cadence (a streaming standby's, a holder's
  // while its standbys stream) is spread over its last quarter.
  const bool long_cadence =
      d > config_.check_interval && (d == standby_interval(true) || (state_ == State::Held && d == hold_interval()));
  if (long_cadence && throttled_reads_ == 0) return spread_out(d, hooks_.time->random());
  if ((d != config_.check_interval && d != standby_interval(true)) || throttled_reads_ == 0) return d;
  const int k = state_ == State::Standby ? throttled_reads_ : std::min(throttled_reads_, 1);
  std::uniform_int_distribution<long long> pick(d.count() << (k - 1), d.count() << k);
  return milliseconds(pick(hooks_.time->random()));
}

milliseconds Controller::step_once(const Observation &obs) {
  role_ = obs.role;
  by_ = obs.by;
  timeline_ = obs.timeline;
  system_identifier_ = obs.system_identifier;
  reap_notifications();
  // The oldest request this controller has not answered.
  const ClaimRequest *request = nullptr;
  for (const auto &r : obs.requests)
    if (r.seq > claim_done_ && (!request || r.seq < request->seq)) request = &r;
  auto refuse = [&](const std::string &why) {
    for (const auto &r : obs.requests)
      if (r.seq > claim_done_) answers_.push_back({r.seq, false, why, state_});
    for (const auto &r : obs.requests) claim_done_ = std::max(claim_done_, r.seq);
  };

  if (!config_.enabled || config_.vip.empty() || config_.targets().empty()) {
    become(config_.enabled ? State::Unconfigured : State::Disabled);
    primary_seen_ = false;
    refuse(config_.enabled ? "pg_vip.vip is not set, or no target is (pg_vip.route_tables, pg_vip.elastic_ips)."
                           : "pg_vip.enabled is off.");
    return config_.check_interval;
  }
  bool primary = obs.role == Role::Primary;
  if (state_ == State::Unconfigured || state_ == State::Disabled) become(primary ? State::Claiming : State::Standby);

  try {
    if (!fence_key_error_.empty()) throw Error(fence_key_error_);
    prepare();
  } catch (const Error &e) {
    last_error_ = std::string(e.what()) + (e.detail().empty() ? "" : ": " + e.detail());
    if (!e.hint().empty()) last_error_ += " " + e.hint();
    if (primary && state_ != State::Fenced) {
      become(State::Claiming);
      claim_failed();  // a primary that cannot get ready cannot claim
    }
    refuse(last_error_);
    if (last_error_ != failure_cause_) {
      failure_cause_ = last_error_;
      log(true, "pg_vip: not ready to move the VIP: " + std::string(e.what()), e.detail());
    }
    return retry_delay();
  }

  if (!primary) {
    // A standby reads, never writes: its view feeds vip_routes() and the
    // promotion's claim, and keeps connections warm.
    become(State::Standby);
    term_since_ = {};
    cadence_.reset();
    forget_refused_ = false;
    for (auto &t : targets_) {  // a new term starts its flap memory afresh
      t.stale_repairs = 0;
      t.last_rival.clear();
      t.tagged_here = false;
    }
    refuse("this node is a standby.");
    primary_seen_ = false;
    read_targets();
    // Promoted (or stopped) during the read: the claim must not wait behind
    // the rest of a standby's step.
    if (hooks_.time->cancelled()) return milliseconds(0);
    check_source_dest();
    cloud_->warm(targets_.size() + 1);  // one per route, one for the tag: the promotion's round trip
    failure_cause_.clear();
    std::vector<std::string> unread;
    for (const auto &t : targets_)
      if (!t.read_ok) unread.push_back(t.id + ": " + t.last_error);
    last_error_ = join(unread, "; ");
    return standby_interval(obs.streaming);
  }

  cadence_.observe(obs.standbys, now());
  if (!primary_seen_) {
    primary_seen_ = true;
    noticed_primary_ = false;
    // The term begins with the first step as primary (a restarted worker
    // keeps the one it resumed).
    if (term_since_ == Clock::time_point{}) term_since_ = hooks_.time->wall();
    // A worker that saw this node promoted claims at once; one restarted
    // mid-claim, or a node that started as primary, reads first. A hold,
    // a fence, a conflict or a dry run is re-checked below.
    // Only on what this worker read as a standby: a worker restarted
    // between the promotion and its first step reads first.
    bool standby_read = std::all_of(targets_.begin(), targets_.end(),
                                    [](const TargetView &t) { return t.checked_at != Clock::time_point{}; });
    if (state_ == State::Standby && obs.by == PrimaryBy::Promotion && !request && standby_read) return promote(obs);
    if (state_ == State::Standby || state_ == State::Primary) {
      become(State::Claiming);
      cause_ = episode_ = obs.by == PrimaryBy::Promotion ? Cause::Promotion : Cause::Start;
      claim_started_ = now();
    }
  }
  if (request) return answer(obs, *request);

  switch (state_) {
    case State::Held: return check_held(obs);
    case State::Fenced: return check_fenced(obs);
    case State::Conflict: return check_conflict(obs);
    case State::DryRun:
      if (config_.dry_run) {
        read_targets();
        check_source_dest();
        return config_.check_interval;
      }
      claim_started_ = now();
      return claim(obs, Cause::Retry);
    default: return claim(obs, cause_, cause_by_);
  }
}

}  // namespace pg_vip
