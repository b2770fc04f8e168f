#include "controller.hpp"

#include <algorithm>

#include "error.hpp"
#include "fence_key.hpp"
#include "settings.hpp"
#include "text.hpp"

namespace pg_vip {

using namespace std::chrono;

namespace {

// The settings that shape the Cloud: a change builds a new one.
bool same_cloud(const ControllerConfig &a, const ControllerConfig &b) {
  return a.vip == b.vip && a.network_interface == b.network_interface && a.region == b.region &&
         a.ec2_endpoint == b.ec2_endpoint && a.imds_endpoint == b.imds_endpoint && a.aws_profile == b.aws_profile &&
         a.ca_file == b.ca_file && a.request_timeout == b.request_timeout;
}

std::string route_tables(std::size_t n) { return std::to_string(n) + (n == 1 ? " route table" : " route tables"); }

std::string join_ids(const std::vector<std::string> &ids) { return join(ids, ", "); }

// How long the reads that lift a fence must span, at the least: a read
// served from before the tag that fenced this node must not lift it.
constexpr milliseconds kUnfenceSpan{5000};

// A move away is confirmed by a second read this much later.
constexpr milliseconds kConfirmMove{1000};

}  // namespace

Controller::Controller(Hooks hooks, Resume resume)
    : hooks_(std::move(hooks)), state_(resume.state), role_(resume.role), by_(resume.by), timeline_(resume.timeline),
      promoted_at_(resume.promoted_at), conflict_since_(resume.conflict_since), conflict_wall_(resume.conflict_wall),
      term_since_(resume.term_since), newest_seen_(resume.newest_seen), resumed_repairs_(std::move(resume.repaired)),
      metrics_(resume.metrics), claim_done_(resume.claim_done) {
  // A claim under way when the worker stopped starts over from a read: the
  // promotion's single round trip belongs to the worker that saw it. It is
  // still the promotion's claim: it may take the route from the old primary.
  if (state_ == State::Primary) state_ = State::Claiming;
  if (resume.by == PrimaryBy::Promotion) cause_ = episode_ = Cause::Promotion;
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
  bool tables_changed = config.route_tables != config_.route_tables || config.vip != config_.vip;
  config_ = std::move(config);
  if (rebuild) {
    cloud_.reset();
    prepared_ = false;
    eni_.clear();
    instance_id_.clear();
  }
  if (tables_changed) {
    std::vector<TableView> views;
    for (const auto &id : config_.route_tables) {
      auto old = std::find_if(tables_.begin(), tables_.end(), [&](const TableView &v) { return v.id == id; });
      if (old != tables_.end() && !rebuild) {
        views.push_back(*old);
      } else {
        views.emplace_back();
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
    tables_ = std::move(views);
    // A new table must be claimed too: a holder checks again.
    changed_since_held_ = true;
  }
}

Resume resume_from(const Status &published) {
  Resume r;
  r.state = published.state;
  r.role = published.role;
  r.by = published.primary_by;
  r.timeline = published.timeline;
  r.promoted_at = from_unix_micros(published.promoted_at);
  r.claim_done = published.claim_done;
  r.conflict_since = from_steady_nanos(published.conflict_since_steady);
  r.conflict_wall = from_unix_micros(published.conflict_since);
  r.term_since = from_unix_micros(published.term_since);
  r.newest_seen = published.newest_seen;
  r.metrics = published.metrics;
  for (int i = 0; i < published.n_route_tables; ++i)
    if (published.tables[i].repaired_at_steady)
      r.repaired.push_back({published.tables[i].route_table_id,
                            from_steady_nanos(published.tables[i].repaired_at_steady),
                            from_unix_micros(published.tables[i].repaired_at)});
  return r;
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

void Controller::write_status(Status &out) const noexcept {
  bool configured = !config_.vip.empty() && !config_.route_tables.empty();
  out.enabled = config_.enabled;
  out.configured = configured;
  out.dry_run = config_.dry_run;
  out.role = role_;
  out.primary_by = by_;
  out.timeline = timeline_;
  out.promoted_at = unix_micros(promoted_at_);
  // The settings show at once. Until it has stepped in its present role,
  // the controller shows the role's own state, and a node just seen leaving
  // recovery shows as claiming: its claim starts right away.
  State base = base_state({config_.enabled, configured, role_});
  bool stepped = state_ != State::Unconfigured && state_ != State::Disabled &&
                 !(role_ == Role::Primary && !primary_seen_ && state_ == State::Standby);
  if (base == State::Disabled || base == State::Unconfigured || !stepped)
    out.state = base == State::Primary && noticed_primary_ ? State::Claiming : base;
  else out.state = state_;
  copy_text(out.node_name, config_.node_name);
  copy_text(out.vip, config_.vip);
  copy_text(out.network_interface, eni_.empty() ? config_.network_interface : eni_);
  out.last_claim_ms = metrics_.last_claim_seconds < 0 ? -1 : metrics_.last_claim_seconds * 1000;
  out.metrics = metrics_;
  copy_text(out.last_error, last_error_);
  out.conflict_since = unix_micros(conflict_wall_);
  out.conflict_since_steady = steady_nanos(conflict_since_);
  out.term_since = unix_micros(term_since_);
  out.newest_seen = newest_seen_;
  copy_text(out.holder, fence_holder_ ? safe_node_name(fence_holder_->node_name) : std::string());
  out.holder_timeline = fence_holder_ ? fence_holder_->timeline : 0;
  // Since 0.3.0 a tag that is not this cluster's never fences (it is
  // reported per table instead): kept for monitoring written against 0.2.
  out.holder_foreign = false;
  out.source_dest_check = source_dest_check_ ? (*source_dest_check_ ? 1 : 0) : -1;
  out.claim_done = claim_done_;
  out.notifications_running = notifier_.busy();
  out.routes_held = 0;
  out.n_route_tables = static_cast<int>(std::min(tables_.size(), std::size(out.tables)));
  for (int i = 0; i < out.n_route_tables; ++i) {
    const TableView &v = tables_[i];
    TableStatus &t = out.tables[i];
    copy_text(t.route_table_id, v.id);
    copy_text(t.destination, config_.vip);
    copy_text(t.target, v.target);
    t.state = v.state;
    copy_text(t.holder, v.holder ? safe_node_name(v.holder->node_name) : std::string());
    t.holder_timeline = v.holder ? v.holder->timeline : 0;
    t.checked_at = unix_micros(v.checked_at);
    t.repaired_at = unix_micros(v.repaired_wall);
    t.repaired_at_steady = steady_nanos(v.repaired_at);
    copy_text(t.last_error, v.last_error);
    if (v.state == RouteState::Ours) ++out.routes_held;
  }
}

void Controller::take_messages(Messages &out) noexcept {
  // Copied into fixed buffers, then erased from the front: erasing moves
  // strings, which allocates nothing.
  std::size_t n = std::min(events_.size(), std::size(out.events));
  for (std::size_t i = 0; i < n; ++i) {
    EventRecord &e = out.events[i];
    e.at = unix_micros(events_[i].at);
    copy_text(e.event, events_[i].name);
    e.success = events_[i].success;
    copy_text(e.details, events_[i].details);
  }
  out.n_events = static_cast<int>(n);
  events_.erase(events_.begin(), events_.begin() + n);
  n = std::min(answers_.size(), std::size(out.answers));
  for (std::size_t i = 0; i < n; ++i) {
    AnswerRecord &a = out.answers[i];
    a.seq = answers_[i].seq;
    a.ok = answers_[i].ok;
    a.state = answers_[i].state;
    copy_text(a.error, answers_[i].error);
  }
  out.n_answers = static_cast<int>(n);
  answers_.erase(answers_.begin(), answers_.begin() + n);
  n = std::min(logs_.size(), std::size(out.logs));
  for (std::size_t i = 0; i < n; ++i) {
    out.logs[i].warning = logs_[i].warning;
    copy_text(out.logs[i].message, logs_[i].message);
    copy_text(out.logs[i].detail, logs_[i].detail);
  }
  out.n_logs = static_cast<int>(n);
  logs_.erase(logs_.begin(), logs_.begin() + n);
  out.more = !events_.empty() || !answers_.empty() || !logs_.empty();
}

std::vector<ClaimAnswer> Controller::take_answers() {
  std::vector<ClaimAnswer> out;
  out.swap(answers_);
  return out;
}

std::vector<Event> Controller::take_events() {
  std::vector<Event> out;
  out.swap(events_);
  return out;
}

std::vector<LogLine> Controller::take_logs() {
  std::vector<LogLine> out;
  out.swap(logs_);
  return out;
}

// Log lines quote AWS's text (tags, error messages) too: cleaned as event
// details are, so a tag cannot forge lines in the server log.
void Controller::log(bool warning, std::string message, std::string detail) {
  logs_.push_back({warning, sanitize_event_text(message), sanitize_event_text(detail)});
}

void Controller::record_preflight(int checks, int failed, const std::string &failed_names) {
  metrics_.record_preflight(checks, failed);
  if (failed > 0)
    event("vip_preflight_failed", false,
          std::to_string(failed) + " of " + std::to_string(checks) + " preflight checks failed: " + failed_names);
}

void Controller::event(const std::string &name, bool success, const std::string &raw_details) {
  // Details quote AWS (a fence tag's node name, EC2's error messages), which
  // anyone allowed ec2:CreateTags can write: no control character or
  // unbounded text reaches the log, vip_events() or the command.
  std::string details = sanitize_event_text(raw_details);
  events_.push_back({hooks_.time->wall(), name, success, details});
  log(!success, "pg_vip: event " + name + " (success " + (success ? "1" : "0") + ")", details);
  const auto &wanted = config_.notification_events;
  if (config_.notification_command.empty() ||
      (!wanted.empty() && std::find(wanted.begin(), wanted.end(), name) == wanted.end()))
    return;
  // The setting's check refuses such a template already; this holds even
  // for a value that reached the configuration some other way.
  if (auto unsafe = check_notification_template(config_.notification_command)) {
    log(true, "pg_vip: the event notification command was not run: it could let text from AWS run as shell code",
        unsafe->detail + " " + unsafe->hint);
    return;
  }
  EventFields f{config_.node_name,
                name,
                success,
                iso8601(hooks_.time->wall()),
                details,
                config_.vip,
                join(config_.route_tables, ",")};
  // The command gets an environment built for it, never the worker's,
  // which may hold AWS credentials.
  std::string problem =
      notifier_.start(build_notification_command(config_.notification_command, f), notification_environment(f));
  if (!problem.empty()) log(true, "pg_vip: " + problem);
}

void Controller::reap_notifications() {
  for (auto &p : notifier_.reap()) log(true, "pg_vip: " + p);
}

milliseconds Controller::retry_delay() {
  aws::Backoff b{milliseconds(200), std::max(config_.check_interval, milliseconds(200))};
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
  t.lease = lease(config_.check_interval);
  if (term_since_ != Clock::time_point{}) t.since = duration_cast<seconds>(term_since_.time_since_epoch()).count();
  return t;
}

std::string Controller::cause_text(Cause c, const std::string &by) const {
  switch (c) {
    case Cause::Promotion: return "promotion";
    case Cause::Start: return "start as primary";
    case Cause::Retry: return "retry";
    case Cause::Repair: return "repair";
    case Cause::Requested: return "requested by " + by;
    case Cause::Forced: return "forced by " + by;
    case Cause::Resume: return "fence lifted";
  }
  return "claim";
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
    };
    cloud_ = hooks_.cloud(config_, *hooks_.time, std::move(reports));
  }
  Placement p = cloud_->prepare(config_.network_interface);
  for (auto &w : p.warnings) log(true, "pg_vip: " + w);
  if (p.interface_id != eni_) {
    // The interface decides which routes are ours: what was read is stale.
    for (auto &t : tables_) t.read_ok = false;
  }
  eni_ = p.interface_id;
  instance_id_ = p.instance_id;
  prepared_ = true;
}

// Reads every route table with its fence tag.
void Controller::read_tables() {
  std::vector<TargetRead> reads = cloud_->read(config_.route_tables, 2);
  auto checked = hooks_.time->wall();
  // Which tag counts depends on the cluster only (its system identifier and
  // fence key), not on this node's timeline.
  Identity us;
  us.system_identifier = system_identifier_;
  for (std::size_t i = 0; i < tables_.size() && i < reads.size(); ++i) {
    TableView &view = tables_[i];
    const TargetRead &r = reads[i];
    view.checked_at = checked;
    if (r.error) {
      view.read_ok = false;
      view.state = RouteState::Unknown;
      view.last_error = "cannot read: " + r.error->describe_for("DescribeRouteTables");
      view.permanent = r.error->permanent();
      view.cause = "DescribeRouteTables:" + r.error->code;
      continue;
    }
    view.read_ok = true;
    view.read_at = now();
    view.last_error.clear();
    view.permanent = false;
    view.cause.clear();
    if (!r.route_present) {
      view.state = RouteState::Missing;
      view.target.clear();
    } else {
      view.target = r.target;
      view.state = r.blackhole ? RouteState::Blackhole : r.interface_id == eni_ ? RouteState::Ours : RouteState::Other;
    }
    view.seen_ours |= view.state == RouteState::Ours;
    std::optional<FenceTagRef> chosen = choose_fence_tag(r.fence_tags, config_.vip, us, config_.fence_key.reveal(),
                                                         r.route_present ? r.interface_id : "");
    std::optional<std::string> tag = chosen ? std::optional(chosen->value) : std::nullopt;
    if (tag != view.raw_tag || view.tag_unchanged_since == steady_clock::time_point{}) view.tag_unchanged_since = now();
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

void Controller::fence(const Identity &me, const TableView &t) {
  if (t.holder->timeline > me.timeline) newest_seen_ = std::max(newest_seen_, t.holder->timeline);
  bool was = state_ == State::Fenced;
  std::string reason = fence_reason(me, *t.holder, tie_context(ground(me))) + " (tag on " + t.id + ")";
  state_ = State::Fenced;
  fence_holder_ = t.holder;
  last_error_ = "fenced: " + reason;
  unfence_seen_ = {};
  claim_started_ = {};
  if (!was) {
    ++metrics_.fences;
    log(true, "pg_vip: this node is fenced and will not claim the VIP " + config_.vip, reason + ".");
    event("vip_fenced", true, reason);
  }
}

// Points the given tables here. Tag first, then the routes: a route never
// points at a node whose tag is not already on the table, so a reader that
// sees the route moved also sees who moved it. The promotion's claim sends
// both at once (one round trip); its timeline is newer than any tag its
// standby read.
void Controller::point(const std::vector<std::size_t> &which, const Identity &me, bool one_round_trip) {
  std::vector<std::string> fence_ids;
  std::vector<PointRequest> points;
  std::vector<std::size_t> pointed;
  for (auto i : which) {
    // A tag that already names this node is not written again: every
    // write is a chance to overwrite, on a stale read, a newer tag.
    bool mine = tables_[i].holder && judge(me, *tables_[i].holder, tie_context(ground(me))) == Standing::Mine;
    if (!mine || one_round_trip) fence_ids.push_back(tables_[i].id);
    if (tables_[i].state != RouteState::Ours || one_round_trip) {
      points.push_back({tables_[i].id, tables_[i].state == RouteState::Missing});
      pointed.push_back(i);
    }
  }
  if (fence_ids.empty() && points.empty()) return;
  changed_since_held_ = true;
  Cloud::FenceWrite tag = fence_write(me, fence_ids);
  auto round_start = now();
  Cloud::Applied a;
  if (one_round_trip) {
    a = cloud_->apply(points, eni_, tag, 4);
  } else {
    if (!fence_ids.empty()) a = cloud_->apply({}, eni_, tag, 4);
    // Tag first, then routes. When the tag could not be written, a table
    // whose tag names an older timeline is still taken, once (as a
    // promotion would: this node's timeline is newer than the holder's);
    // one with no tag, or a tag of this timeline, is not.
    std::vector<PointRequest> go;
    std::vector<std::size_t> went;
    for (std::size_t k = 0; k < points.size(); ++k) {
      const TableView &t = tables_[pointed[k]];
      // Once per term: a table that pointed here in this term and was taken
      // back is not taken again without this node's tag, or two live
      // primaries, one unable to fence, would take turns on it.
      bool older = t.holder && t.holder->timeline < me.timeline && !t.seen_ours &&
                   judge(me, *t.holder, tie_context(ground(me))) == Standing::Yields;
      bool tagged =
          fence_ids.empty() || a.fence.ok() || std::find(fence_ids.begin(), fence_ids.end(), t.id) == fence_ids.end();
      if (tagged || older) {
        go.push_back(points[k]);
        went.push_back(pointed[k]);
      }
    }
    if (!go.empty()) a.points = cloud_->apply(go, eni_, {}, 4).points;
    points = go;
    pointed = went;
  }
  if (a.fence.ok())
    for (auto i : which)
      if (std::find(fence_ids.begin(), fence_ids.end(), tables_[i].id) != fence_ids.end())
        tables_[i].tagged_here = true;
  if (a.fence.error) {
    std::string why = "fence tag not written: " + a.fence.error->describe_for("CreateTags");
    for (auto i : which) {
      // Only where a tag was to be written: one already naming this node stands.
      if (std::find(fence_ids.begin(), fence_ids.end(), tables_[i].id) == fence_ids.end()) continue;
      tables_[i].last_error = why;
      tables_[i].permanent = a.fence.error->permanent();
      tables_[i].cause = "CreateTags:" + a.fence.error->code;
    }
  }
  int switched = 0;
  for (std::size_t k = 0; k < a.points.size() && k < pointed.size(); ++k) {
    TableView &view = tables_[pointed[k]];
    if (a.points[k].ok()) {
      ++switched;
    } else if (a.points[k].error) {
      std::string action = view.state == RouteState::Missing ? "CreateRoute" : "ReplaceRoute";
      std::string why = "route not switched: " + a.points[k].error->describe_for(action);
      view.last_error = view.last_error.empty() ? why : view.last_error + "; " + why;
      view.permanent |= a.points[k].error->permanent();
      if (!view.cause.empty()) view.cause += ",";  // the fence tag's cause came first
      view.cause += action + ":" + a.points[k].error->code;
    }
  }
  if ((fence_ids.empty() || a.fence.ok()) && switched == static_cast<int>(points.size())) {
    double ms = duration<double, std::milli>(now() - round_start).count();
    std::string what = switched ? "pointed " + route_tables(switched) + " at " + eni_
                                : "wrote this node's fence tag on " + route_tables(fence_ids.size());
    event("vip_claim", true,
          what + " (" + cause_text(cause_, cause_by_) + ", timeline " + std::to_string(me.timeline) + ", " +
              std::to_string(static_cast<long>(ms)) + " ms)");
  }
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
  if (!fresh_enough(tables_, ground(me))) read_tables();
  if (const TableView *t = outranking(me)) {
    fence(me, *t);
    return config_.check_interval;
  }
  if (config_.dry_run) return claim(obs, Cause::Promotion);
  state_ = State::Claiming;
  // Not a table that could not be read, nor one under another cluster's tag.
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < tables_.size(); ++i) {
    Verdict v = verdict(tables_[i], me);
    if (v != Verdict::Held && v != Verdict::NeedsFence && v != Verdict::NeedsRoute) continue;
    tables_[i].last_error.clear();
    todo.push_back(i);
  }
  point(todo, me, true);
  if (hooks_.time->cancelled()) return milliseconds(0);
  return verify(obs);
}

// A claim from a fresh read: fail closed (a table not read, or whose tag
// cannot be parsed, is left alone), fenced by any tag that outranks this
// node, tag first. A forced claim overrides both.
milliseconds Controller::claim(const Observation &obs, Cause cause, const std::string &by) {
  Identity me = identity(obs);
  bool force = cause == Cause::Forced;
  if (cause != Cause::Retry) episode_ = cause;
  cause_ = cause;
  cause_by_ = by;
  if (claim_started_ == steady_clock::time_point{}) claim_started_ = now();
  read_tables();
  if (!force) {
    if (const TableView *t = outranking(me)) {
      fence(me, *t);
      return config_.check_interval;
    }
    if (newest_seen_ > me.timeline) return stay_fenced(me);
  }
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < tables_.size(); ++i) {
    Verdict v = verdict(tables_[i], me);
    if (v == Verdict::NeedsFence || v == Verdict::NeedsRoute || (force && v != Verdict::Held)) todo.push_back(i);
  }
  if (config_.dry_run) {
    state_ = State::DryRun;
    std::vector<std::string> ids;
    for (auto i : todo)
      if (tables_[i].state != RouteState::Ours) ids.push_back(tables_[i].id);
    event("vip_claim", true,
          "dry run (" + cause_text(cause, by) + "): would point " + route_tables(ids.size()) + " at " + eni_ +
              (ids.empty() ? "" : ": " + join_ids(ids)) + "; would write the fence tag on " +
              route_tables(todo.size()));
    last_error_.clear();
    return config_.check_interval;
  }
  // The flap memory: a claim of its own (not an operator's) that would point
  // a table here again within the window stops instead; an operator's
  // vip_claim() starts the memory afresh.
  bool operator_claim = cause == Cause::Requested || cause == Cause::Forced;
  for (auto i : todo) {
    TableView &t = tables_[i];
    if (t.state == RouteState::Ours) continue;
    if (operator_claim) {
      t.repaired_at = {};
      t.repaired_wall = {};
      t.stale_repairs = 0;
    } else if (t.seen_ours && !may_repoint(t, me)) {
      claim_failed();
      return conflict(t);
    }
  }
  state_ = State::Claiming;
  // The operator overrides every other tag on this VIP, newer ones too:
  // with one key per timeline, writing this node's own would not.
  if (force) forget_tags(me, true);
  if (!todo.empty()) point(todo, me, false);
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
  for (const auto &t : tables_) errors.push_back({t.last_error, t.permanent, t.cause});
  bool all = false;
  for (milliseconds w : {milliseconds(0), milliseconds(100), milliseconds(200), milliseconds(400)}) {
    if (w.count()) hooks_.time->sleep(w);
    if (hooks_.time->cancelled()) return milliseconds(0);
    read_tables();
    all = std::all_of(tables_.begin(), tables_.end(),
                      [&](const TableView &t) { return verdict(t, me) == Verdict::Held; });
    if (all) break;  // an outranking tag may be a stale read too: it is believed after the last read
  }
  if (const TableView *t = outranking(me)) {
    fence(me, *t);
    return config_.check_interval;
  }
  if (all) {
    held(obs);
    return config_.check_interval;
  }
  for (std::size_t i = 0; i < tables_.size(); ++i)
    if (tables_[i].read_ok && !errors[i].error.empty() && verdict(tables_[i], me) != Verdict::Held) {
      tables_[i].last_error = errors[i].error;
      tables_[i].permanent = errors[i].permanent;
      tables_[i].cause = errors[i].cause;
    }
  claim_failed();
  return not_held(obs);
}

void Controller::held(const Observation &obs) {
  bool first = episode_ == Cause::Promotion && obs.primary_noticed != steady_clock::time_point{};
  auto since_tp = claim_started_ == steady_clock::time_point{} ? now() : claim_started_;
  if (first) since_tp = std::min(obs.primary_noticed, since_tp);
  double ms = duration<double, std::milli>(now() - since_tp).count();
  bool was_held = state_ == State::Held;
  state_ = State::Held;
  if (episode_ == Cause::Forced) newest_seen_ = 0;  // the operator overrode what this node had seen
  failed_rounds_ = 0;
  failure_cause_.clear();
  last_error_.clear();
  fence_holder_.reset();
  claim_started_ = {};
  cause_ = Cause::Retry;
  cause_by_.clear();
  if (was_held || !changed_since_held_) return;  // verified again: nothing new to say
  changed_since_held_ = false;
  metrics_.count_claim(ms / 1000);
  if (episode_ == Cause::Repair) ++metrics_.repairs;
  const char *since = first                       ? "this node became primary"
                      : episode_ == Cause::Repair ? "the repair began"
                                                  : "the claim began";
  std::vector<std::string> ours;
  for (const auto &t : tables_) ours.push_back(t.id + ": ours");
  std::string detail = join(ours, "; ");
  log(false,
      "pg_vip: VIP " + config_.vip + " held on " + route_tables(tables_.size()) + ", " +
          std::to_string(static_cast<long>(ms)) + " ms after " + since,
      "Each route table points at " + eni_ + " and carries this node's fence tag: " + detail + ".");
  event(episode_ == Cause::Repair ? "vip_repaired" : "vip_held", true,
        route_tables(tables_.size()) + (tables_.size() == 1 ? " points" : " point") + " at " + eni_ + " after " +
            std::to_string(static_cast<long>(ms)) + " ms (timeline " + std::to_string(obs.timeline) + ")");
}

// Some table is not (verifiably) ours: say which and why, once per cause,
// and come back soon, or at the slow pace when retrying cannot help.
milliseconds Controller::not_held(const Observation &obs) {
  Identity me = identity(obs);
  state_ = State::Claiming;
  std::vector<std::string> pending_tables;
  std::string cause;
  bool permanent = false;
  for (auto &t : tables_) {
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
        why = "points at " + t.target +
              ", which this node did not see it move to: this node started as primary and cannot tell a "
              "failover it did not see from a route moved by hand, so it does not take the route on its own; "
              "run vip_claim() on the node that should hold the VIP";
        permanent = true;
        break;
      case Verdict::NeedsFence:
        why = t.last_error.empty() ? "points here; fence tag not yet read back" : t.last_error;
        break;
      default:
        why = std::string(to_string(t.state)) + (t.target.empty() ? "" : " (" + t.target + ")") +
              (t.last_error.empty() ? "" : ": " + t.last_error);
        break;
    }
    t.last_error = why;
    permanent |= t.permanent;
    pending_tables.push_back(t.id + ": " + why);
    // The cause by what failed and AWS's code, never its text: EC2's
    // messages carry request-specific parts (an encoded authorization
    // message differs on every call).
    cause += t.id + "=" + std::to_string(static_cast<int>(v)) + ":" + to_string(t.state) + ":" + t.cause + "|";
  }
  std::string pending = join(pending_tables, "; ");
  last_error_ = "pending route tables: " + pending;
  if (cause != failure_cause_) {
    failure_cause_ = cause;
    event("vip_claim_failed", false,
          "not every route table points here (" + cause_text(cause_, cause_by_) + "): " + pending);
    log(true,
        "pg_vip: could not point every route table at this node; " +
            std::string(permanent ? "retrying at the slow pace" : "retrying"),
        permanent ? "Retrying cannot fix this by itself: " + pending + "." : pending + ".");
  }
  cause_ = Cause::Retry;
  if (permanent) return config_.check_interval;
  return retry_delay();
}

// A holder's check: re-read; fenced by a newer tag; a table moved away is
// repaired once a second read confirms the move (a promotion elsewhere
// writes its tag within the same round trip as its routes: the second read
// sees it), and only once per flap window.
milliseconds Controller::check_held(const Observation &obs) {
  Identity me = identity(obs);
  read_tables();
  check_source_dest();
  if (const TableView *t = outranking(me)) {
    fence(me, *t);
    return config_.check_interval;
  }
  bool moved = false, unread = false;
  for (auto &t : tables_) {
    Verdict v = verdict(t, me);
    unread |= v == Verdict::Unread || v == Verdict::Foreign || v == Verdict::HandsOff;
    if (v != Verdict::NeedsRoute && v != Verdict::NeedsFence) continue;
    moved = true;
    if (v == Verdict::NeedsRoute && flap(t, ground(me)) == Flap::Again) return conflict(t);
  }
  if (!moved) {
    if (unread) {
      cause_ = Cause::Retry;
      return not_held(obs);
    }
    renew(me);
    forget_tags(me);
    return config_.check_interval;
  }
  // Confirm, then repair what the claim's own fresh read still finds moved.
  hooks_.time->sleep(kConfirmMove);
  // Stopped before the confirming read: what the last read showed stands,
  // and it was not held. The next worker starts from a read.
  if (hooks_.time->cancelled()) {
    state_ = State::Claiming;
    return milliseconds(0);
  }
  std::vector<std::string> ids;
  for (const auto &t : tables_)
    if (verdict(t, me) == Verdict::NeedsRoute || verdict(t, me) == Verdict::NeedsFence)
      ids.push_back(t.id + " (" + to_string(t.state) + (t.target.empty() ? "" : " " + t.target) + ")");
  log(true, "pg_vip: the VIP's route no longer points here; repairing", "Route tables: " + join_ids(ids) + ".");
  claim_started_ = now();
  return claim(obs, Cause::Repair);
}

// Pointing table t here again, after it was moved away: a first reversal
// is remembered, a stale primary's late write is undone (a few times per
// window), a rival that steps back is no war; a second reversal within the
// window is (false).
bool Controller::may_repoint(TableView &t, const Identity &me) {
  Ground g = ground(me);
  switch (flap(t, g)) {
    case Flap::Again: return false;
    case Flap::StaleWrite:
      ++t.stale_repairs;
      log(true,
          "pg_vip: " + t.id + " was pointed at " + t.target +
              ", an interface last seen holding under an older timeline",
          "A stale primary's request applied late; pointed here again, not counted as a route war.");
      return true;
    case Flap::Rival:
      t.last_rival = t.target;
      t.rival_at = g.now;
      break;
    case Flap::First: break;
  }
  t.repaired_at = g.now;
  t.repaired_wall = hooks_.time->wall();
  return true;
}

milliseconds Controller::conflict(const TableView &t) {
  state_ = State::Conflict;
  conflict_since_ = now();
  conflict_wall_ = hooks_.time->wall();
  last_error_ = "conflict: " + t.id + " was moved away again (now " + to_string(t.state) +
                (t.target.empty() ? "" : " " + t.target) +
                ") after this node pointed it here; pg_vip stops repairing it to avoid a route war";
  log(true, "pg_vip: " + t.id + " keeps being moved away from this node; repairs stopped",
      "Something else (another failover tool, a script, infrastructure as code) points the VIP's route at " +
          (t.target.empty() ? std::string("nothing") : t.target) +
          ". Find and stop it, then run vip_claim() to take the route back.");
  event("vip_conflict", false, last_error_);
  return config_.check_interval;
}

// Rewrites this node's tag when a third of its lease has passed (one
// CreateTags for every table), so that the other primary of a double
// promotion can tell a holder that is still there from one that is gone.
void Controller::renew(const Identity &me) {
  Ground g = ground(me);
  if (!renewal_due(tables_, g)) return;
  // Only what this step read as held (route and tag): a renewal claims
  // nothing, and never acts on an old read.
  std::vector<std::string> ids;
  for (const auto &t : tables_)
    if (verdict(t, me) == Verdict::Held) ids.push_back(t.id);
  if (ids.empty()) return;
  Cloud::Applied a = cloud_->apply({}, eni_, fence_write(me, ids), 2);
  if (a.fence.error)
    log(true, "pg_vip: could not renew the fence tag; retrying at the next check",
        a.fence.error->describe_for("CreateTags") + ".");
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
  std::vector<std::string> ids, keys;
  for (const auto &t : tables_) {
    if (!t.read_ok || (!all_but_mine && verdict(t, me) != Verdict::Held)) continue;
    std::vector<std::string> k = fence_tag_keys_to_forget(t.fence_tags, config_.vip, me, all_but_mine);
    if (k.empty()) continue;
    ids.push_back(t.id);
    for (auto &key : k)
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
  }
  if (ids.empty()) return;
  Outcome o = cloud_->forget(ids, keys, 2);
  if (!o.error) return;
  if (o.error->permanent()) forget_refused_ = true;
  log(true, "pg_vip: could not delete older fence tags (" + join(keys, ", ") + ") on " + join_ids(ids),
      o.error->describe_for("DeleteTags") +
          ". They are harmless (a newer timeline's tag wins), but a table keeps at most 50 tags; allow "
          "ec2:DeleteTags on pg_vip:* keys (see the README's policy).");
}

// A newer timeline was seen holding the VIP, and its tag is not (or no
// longer) on the tables: the node stays fenced all the same.
milliseconds Controller::stay_fenced(const Identity &me) {
  bool was = state_ == State::Fenced;
  state_ = State::Fenced;
  unfence_seen_ = {};
  claim_started_ = {};
  last_error_ = "fenced: timeline " + std::to_string(newest_seen_) + " was seen holding the VIP" +
                (fence_holder_ ? " (" + describe(*fence_holder_) + ")" : std::string()) +
                ", this node is on timeline " + std::to_string(me.timeline) +
                "; its tag is gone, but that primary may not be";
  if (!was) {
    ++metrics_.fences;
    log(true, "pg_vip: this node is fenced and will not claim the VIP " + config_.vip, last_error_ + ".");
    event("vip_fenced", true, last_error_);
  }
  return config_.check_interval;
}

// A fenced node keeps reading; when no table's tag outranks it any more
// (on reads spanning a while, so that a stale read cannot lift the fence),
// it claims again.
milliseconds Controller::check_fenced(const Observation &obs) {
  Identity me = identity(obs);
  read_tables();
  check_source_dest();
  if (const TableView *t = outranking(me)) {
    fence_holder_ = t->holder;
    last_error_ = "fenced: " + fence_reason(me, *t->holder, tie_context(ground(me))) + " (tag on " + t->id + ")";
    unfence_seen_ = {};
    return config_.check_interval;
  }
  if (newest_seen_ > me.timeline) return stay_fenced(me);
  for (const auto &t : tables_) {
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
      "No route table's fence tag outranks this node any more" +
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
  read_tables();
  if (const TableView *t = outranking(me)) {
    fence(me, *t);
    return config_.check_interval;
  }
  bool all =
      std::all_of(tables_.begin(), tables_.end(), [&](const TableView &t) { return verdict(t, me) == Verdict::Held; });
  if (all) {
    held(obs);
    return config_.check_interval;
  }
  // The tables it still holds keep their tags renewed: lapsed, a fenced
  // rival of this timeline would take them, and the two take turns.
  renew(me);
  if (now() - conflict_since_ < flap_window(config_.check_interval)) return config_.check_interval;
  for (auto &t : tables_) t.repaired_at = {};
  state_ = State::Held;  // the next check repairs once more, if the move is still there
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

milliseconds Controller::step(const Observation &obs) {
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

  if (!config_.enabled || config_.vip.empty() || config_.route_tables.empty()) {
    state_ = config_.enabled ? State::Unconfigured : State::Disabled;
    primary_seen_ = false;
    refuse(config_.enabled ? "pg_vip.vip or pg_vip.route_tables is not set." : "pg_vip.enabled is off.");
    return config_.check_interval;
  }
  bool primary = obs.role == Role::Primary;
  if (state_ == State::Unconfigured || state_ == State::Disabled) state_ = primary ? State::Claiming : State::Standby;

  try {
    if (!fence_key_error_.empty()) throw Error(fence_key_error_);
    prepare();
  } catch (const Error &e) {
    last_error_ = std::string(e.what()) + (e.detail().empty() ? "" : ": " + e.detail());
    if (!e.hint().empty()) last_error_ += " " + e.hint();
    if (primary && state_ != State::Fenced) {
      state_ = State::Claiming;
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
    state_ = State::Standby;
    term_since_ = {};
    forget_refused_ = false;
    for (auto &t : tables_) {  // a new term starts its flap memory afresh
      t.stale_repairs = 0;
      t.last_rival.clear();
      t.tagged_here = false;
    }
    refuse("this node is a standby.");
    primary_seen_ = false;
    read_tables();
    check_source_dest();
    cloud_->warm(tables_.size() + 1);  // one per route, one for the tag: the promotion's round trip
    failure_cause_.clear();
    std::vector<std::string> unread;
    for (const auto &t : tables_)
      if (!t.read_ok) unread.push_back(t.id + ": " + t.last_error);
    last_error_ = join(unread, "; ");
    return config_.check_interval;
  }

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
    bool standby_read = std::all_of(tables_.begin(), tables_.end(),
                                    [](const TableView &t) { return t.checked_at != Clock::time_point{}; });
    if (state_ == State::Standby && obs.by == PrimaryBy::Promotion && !request && standby_read) return promote(obs);
    if (state_ == State::Standby || state_ == State::Primary) {
      state_ = State::Claiming;
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
        read_tables();
        check_source_dest();
        return config_.check_interval;
      }
      claim_started_ = now();
      return claim(obs, Cause::Retry);
    default: return claim(obs, cause_, cause_by_);
  }
}

}  // namespace pg_vip
