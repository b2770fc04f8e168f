// What the controller tells: its status for shared memory (vip_status(),
// vip_routes(), vip_metrics()), what a restarted worker resumes from it,
// its events, log lines and answers to vip_claim(), and the notification
// command each event may run.
#include <algorithm>

#include "controller.hpp"
#include "text.hpp"

namespace pg_vip {

using namespace std::chrono;

Resume resume_from(const Status &published) {
  Resume r;
  r.state = published.state;
  r.role = published.role;
  r.by = published.primary_by;
  r.timeline = published.timeline;
  r.promoted_at = from_unix_micros(published.promoted_at);
  r.claim_done = published.claim_done;
  r.unsure_only = published.unsure_only;
  r.conflict_since = from_steady_nanos(published.conflict_since_steady);
  r.conflict_wall = from_unix_micros(published.conflict_since);
  r.term_since = from_unix_micros(published.term_since);
  r.newest_seen = published.newest_seen;
  if (published.rival_interface[0] && published.rival_read_steady) {
    Holder h;
    h.interface_id = published.rival_interface;
    h.system_identifier = published.rival_system_identifier;
    h.since = published.rival_since;
    h.timeline = published.rival_timeline;
    h.lease = std::chrono::milliseconds(published.rival_lease_ms);
    h.node_name = published.holder;
    r.rival = h;
    r.rival_read = from_steady_nanos(published.rival_read_steady);
  }
  r.metrics = published.metrics;
  for (int i = 0; i < published.n_targets; ++i)
    if (published.tables[i].repaired_at_steady)
      r.repaired.push_back({published.tables[i].id, from_steady_nanos(published.tables[i].repaired_at_steady),
                            from_unix_micros(published.tables[i].repaired_at)});
  for (int i = 0; i < published.n_targets; ++i)
    if (published.tables[i].tag_digest && published.tables[i].tag_unchanged_steady)
      r.tags_seen.push_back({published.tables[i].id, published.tables[i].tag_digest,
                             from_steady_nanos(published.tables[i].tag_unchanged_steady)});
  return r;
}

void Controller::write_status(Status &out) const noexcept {
  bool configured = !config_.vip.empty() && !config_.targets().empty();
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
  const bool rival = fence_holder_ && fence_holder_read_ != SteadyTime{} && fence_holder_->timeline == timeline_;
  // Views, not copies: write_status is noexcept, and a copy may allocate.
  copy_text(out.rival_interface, rival ? std::string_view(fence_holder_->interface_id) : std::string_view());
  copy_text(out.rival_system_identifier,
            rival ? std::string_view(fence_holder_->system_identifier) : std::string_view());
  out.rival_since = rival ? fence_holder_->since : -1;
  out.rival_timeline = rival ? fence_holder_->timeline : 0;
  out.rival_lease_ms = rival ? fence_holder_->lease.count() : 0;
  out.rival_read_steady = rival ? steady_nanos(fence_holder_read_) : 0;
  // Since 0.3.0 a tag that is not this cluster's never fences (it is
  // reported per table instead): kept for monitoring written against 0.2.
  out.holder_foreign = false;
  out.source_dest_check = source_dest_check_ ? (*source_dest_check_ ? 1 : 0) : -1;
  out.claim_done = claim_done_;
  out.unsure_only = state_ == State::Claiming && unsure_only_;
  out.notifications_running = notifier_.busy();
  out.targets_held = 0;
  out.n_targets = static_cast<int>(std::min(targets_.size(), std::size(out.tables)));
  for (int i = 0; i < out.n_targets; ++i) {
    const TargetView &v = targets_[i];
    TargetStatus &t = out.tables[i];
    t.kind = v.kind;
    copy_text(t.id, v.id);
    copy_text(t.destination, config_.vip);
    copy_text(t.target, v.points_at);
    bool claimant = role_ == Role::Primary && state_ != State::Fenced && !eni_.empty();
    copy_text(t.desired, claimant ? eni_ : v.holder ? v.holder->interface_id : std::string());
    t.state = v.state;
    copy_text(t.holder, v.holder ? safe_node_name(v.holder->node_name) : std::string());
    t.holder_timeline = v.holder ? v.holder->timeline : 0;
    t.checked_at = unix_micros(v.checked_at);
    t.repaired_at = unix_micros(v.repaired_wall);
    t.repaired_at_steady = steady_nanos(v.repaired_at);
    t.tag_digest = v.raw_tag ? tag_digest(*v.raw_tag) : 0;
    t.tag_unchanged_steady = v.raw_tag ? steady_nanos(v.tag_unchanged_since) : 0;
    copy_text(t.last_error, v.last_error);
    if (v.state == TargetState::Ours) ++out.targets_held;
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
    event(event::kPreflightFailed, false,
          std::to_string(failed) + " of " + std::to_string(checks) + " preflight checks failed: " + failed_names);
}

void Controller::event(EventName event_name, bool success, const std::string &raw_details) {
  std::string name(event_name.text());
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

}  // namespace pg_vip
