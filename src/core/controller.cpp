#include "controller.hpp"

#include <algorithm>
#include <map>
#include <random>

#include "ec2_client.hpp"
#include "ec2_xml.hpp"
#include "error.hpp"
#include "http_client.hpp"
#include "imds.hpp"
#include "settings.hpp"

namespace pg_vip {

using namespace std::chrono;
using aws::AwsError;
using aws::Ec2Call;
using aws::Ec2Result;
using aws::ErrorKind;

// The AWS side, built once and kept: credentials cached, connections warm.
struct Controller::Aws {
  std::unique_ptr<http::Client> http;
  std::unique_ptr<aws::ImdsClient> imds;  // null when disabled
  std::unique_ptr<aws::CredentialProvider> credentials;
  std::unique_ptr<aws::Ec2Client> ec2;
  Clock clock;
  std::string region;
};

namespace {

// The settings that shape the AWS clients: a change rebuilds them.
bool same_aws(const ControllerConfig &a, const ControllerConfig &b) {
  return a.network_interface == b.network_interface && a.region == b.region && a.ec2_endpoint == b.ec2_endpoint &&
         a.imds_endpoint == b.imds_endpoint && a.aws_profile == b.aws_profile && a.ca_file == b.ca_file &&
         a.request_timeout == b.request_timeout;
}

std::string route_tables(std::size_t n) {
  return std::to_string(n) + (n == 1 ? " route table" : " route tables");
}

bool is_no_route(const AwsError &e) {
  // ReplaceRoute on a missing route answers InvalidParameterValue ("There is
  // no route defined ..."), whatever the documentation suggests.
  return e.code == "InvalidParameterValue" || e.code == "InvalidRoute.NotFound";
}

}  // namespace

Controller::Controller(Hooks hooks, State prior_state)
    : hooks_(std::move(hooks)), state_(prior_state), prior_state_(prior_state) {
  if (!hooks_.env) hooks_.env = aws::process_environment();
}

Controller::~Controller() = default;

void Controller::configure(ControllerConfig config) {
  bool rebuild = !same_aws(config, config_);
  bool tables_changed = config.route_tables != config_.route_tables || config.vip != config_.vip;
  config_ = std::move(config);
  if (rebuild) {
    aws_.reset();
    prepared_ = false;
    eni_.clear();
    instance_id_.clear();
  }
  if (tables_changed) {
    std::vector<TableView> views;
    for (const auto &id : config_.route_tables) {
      auto old = std::find_if(tables_.begin(), tables_.end(), [&](const TableView &v) { return v.id == id; });
      if (old != tables_.end()) {
        views.push_back(*old);
      } else {
        views.emplace_back();
        views.back().id = id;
      }
    }
    tables_ = std::move(views);
    // A new table must be claimed too; a primary that held the old list re-checks.
    if (state_ == State::Held) claim_pending_ = true;
  }
}

int Controller::routes_held() const noexcept {
  return static_cast<int>(std::count_if(tables_.begin(), tables_.end(),
                                        [](const TableView &t) { return t.state == RouteState::Ours; }));
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

void Controller::log(bool warning, std::string message, std::string detail) {
  logs_.push_back({warning, std::move(message), std::move(detail)});
}

void Controller::event(const std::string &name, bool success, const std::string &details) {
  events_.push_back({system_clock::now(), name, success, details});
  log(!success, "pg_vip: event " + name + " (success " + (success ? "1" : "0") + ")", details);
  const auto &wanted = config_.notification_events;
  if (config_.notification_command.empty() ||
      (!wanted.empty() && std::find(wanted.begin(), wanted.end(), name) == wanted.end()))
    return;
  EventFields f{config_.node_name, name, success, iso8601(system_clock::now()), details, config_.vip,
                settings::join(config_.route_tables, ",")};
  std::string problem = notifier_.start(build_notification_command(config_.notification_command, f));
  if (!problem.empty()) log(true, "pg_vip: " + problem);
}

aws::RetryPolicy Controller::policy(int attempts) const {
  aws::RetryPolicy p;
  p.max_attempts = attempts;
  p.deadline = std::max<milliseconds>(config_.request_timeout * 3, milliseconds(3000));
  p.backoff = aws::Backoff{milliseconds(50), milliseconds(1000)};
  p.cancelled = hooks_.cancelled;
  p.sleep = hooks_.sleep;
  Controller *self = const_cast<Controller *>(this);
  p.log = [self](const std::string &line) { self->log(false, "pg_vip: " + line); };
  return p;
}

milliseconds Controller::retry_delay() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  aws::Backoff b{milliseconds(200), std::max(config_.check_interval, milliseconds(200))};
  auto d = b.delay(std::min(failed_rounds_, 20), rng);
  ++failed_rounds_;
  return std::max(d, milliseconds(50));
}

Identity Controller::identity(const Observation &obs) const {
  return Identity{config_.node_name, obs.system_identifier, obs.timeline};
}

// Region, interface, credentials and the clients: everything the claim
// needs before its first request, done while still a standby.
void Controller::prepare() {
  if (aws_ && prepared_) return;
  prepared_ = false;
  if (!aws_) {
    auto a = std::make_unique<Aws>();
    http::ClientOptions ho;
    ho.ca_file = config_.ca_file;
    ho.cancelled = hooks_.cancelled;
    a->http = std::make_unique<http::Client>(ho);
    if (!aws::metadata_disabled(hooks_.env)) {
      aws::ImdsOptions io;
      io.endpoint = config_.imds_endpoint;
      io.timeout = std::min(config_.request_timeout, milliseconds(1000));
      a->imds = std::make_unique<aws::ImdsClient>(*a->http, io, a->clock);
    }
    a->region = config_.region;
    if (a->region.empty()) a->region = hooks_.env("AWS_REGION").value_or("");
    if (a->region.empty()) a->region = hooks_.env("AWS_DEFAULT_REGION").value_or("");
    if (a->region.empty() && a->imds) a->region = a->imds->region();
    if (a->region.empty())
      throw Error("no AWS region configured", "Instance metadata is disabled and no region is set.",
                  "Set pg_vip.region.");
    a->credentials = std::make_unique<aws::CredentialProvider>(aws::CredentialOptions{config_.aws_profile},
                                                               hooks_.env, a->imds.get(), a->clock);
    aws::Ec2Options eo;
    eo.endpoint = aws::resolve_ec2_endpoint(config_.ec2_endpoint, hooks_.env, a->region);
    eo.region = a->region;
    eo.timeout = config_.request_timeout;
    eo.connect_timeout = std::min(config_.request_timeout, milliseconds(1000));
    a->ec2 = std::make_unique<aws::Ec2Client>(*a->http, *a->credentials, eo, a->clock);
    aws_ = std::move(a);
  }
  if (config_.network_interface != "auto") {
    eni_ = config_.network_interface;
  } else {
    if (!aws_->imds)
      throw Error("cannot find this instance's network interface",
                  "pg_vip.network_interface is auto and instance metadata is disabled.",
                  "Set pg_vip.network_interface to this node's eni- id.");
    eni_ = aws_->imds->primary_interface_id();
  }
  if (aws_->imds && instance_id_.empty()) {
    try {
      instance_id_ = aws_->imds->instance_id();
    } catch (const aws::AwsFailure &e) {
      log(true, "pg_vip: cannot read this instance's id from instance metadata; the source/destination check is not verified",
          e.what());
    }
  }
  // Warm the credential cache: the claim must not wait for IMDS.
  (void) aws_->credentials->get();
  for (auto &w : aws_->credentials->take_warnings()) log(true, "pg_vip: " + w);
  prepared_ = true;
}

// Reads every route table in parallel, one request each: per-table errors
// stay per table, and each request keeps a connection warm for the claim.
void Controller::observe_tables() {
  std::vector<Ec2Call> calls;
  for (const auto &t : tables_) calls.push_back(aws::describe_route_tables({t.id}));
  std::vector<Ec2Result> results = aws_->ec2->call_all(calls, policy(2));
  std::string key = fence_tag_key(config_.vip);
  auto now = system_clock::now();
  for (std::size_t i = 0; i < tables_.size(); ++i) {
    TableView &view = tables_[i];
    view.checked_at = now;
    if (!results[i].ok()) {
      view.state = RouteState::Unknown;
      view.last_error = results[i].error->describe();
      continue;
    }
    try {
      auto parsed = aws::parse_route_tables(results[i].body);
      auto it = std::find_if(parsed.begin(), parsed.end(), [&](const aws::RouteTable &t) { return t.id == view.id; });
      if (it == parsed.end()) throw aws::AwsFailure(AwsError{ErrorKind::Malformed, 200, "MalformedResponse",
                                                              "the answer does not describe " + view.id, ""});
      const aws::Route *route = it->find_route(config_.vip);
      view.last_error.clear();
      if (!route) {
        view.state = RouteState::Missing;
        view.target.clear();
      } else {
        view.target = !route->network_interface_id.empty() ? route->network_interface_id
                      : !route->gateway_id.empty()          ? route->gateway_id
                                                            : route->instance_id;
        view.state = route->state == "blackhole"          ? RouteState::Blackhole
                     : route->network_interface_id == eni_ ? RouteState::Ours
                                                           : RouteState::Other;
      }
      auto tag = it->tags.find(key);
      view.holder = tag == it->tags.end() ? std::nullopt : parse_fence_tag(tag->second);
      if (tag != it->tags.end() && !view.holder)
        log(true, "pg_vip: ignoring an unreadable fence tag on " + view.id, "Tag " + key + " = \"" + tag->second + "\".");
    } catch (const aws::AwsFailure &f) {
      view.state = RouteState::Unknown;
      view.last_error = f.error().describe();
    }
  }
}

void Controller::check_source_dest() {
  if (instance_id_.empty()) return;
  Ec2Result r = aws_->ec2->call(aws::describe_instance_attribute(instance_id_, "sourceDestCheck"), policy(2));
  if (!r.ok()) return;  // informative only; the route reads carry the errors that matter
  try {
    bool enabled = aws::parse_instance_attribute_bool(r.body, "sourceDestCheck");
    if (enabled && source_dest_check_ != true)
      log(true, "pg_vip: the source/destination check is enabled on instance " + instance_id_,
          "Traffic to the VIP " + config_.vip + " reaching this instance will be dropped. Disable it with "
          "aws ec2 modify-instance-attribute --no-source-dest-check --instance-id " + instance_id_ + ".");
    source_dest_check_ = enabled;
  } catch (const aws::AwsFailure &) {
  }
}

std::vector<Holder> Controller::holders() const {
  std::vector<Holder> out;
  for (const auto &t : tables_)
    if (t.holder && std::find(out.begin(), out.end(), *t.holder) == out.end()) out.push_back(*t.holder);
  return out;
}

void Controller::fence(const FenceDecision &d) {
  bool was = state_ == State::Fenced;
  state_ = State::Fenced;
  claim_pending_ = false;
  fence_holder_ = d.holder;
  last_error_ = "fenced: " + d.reason;
  if (!was) {
    log(true, "pg_vip: this node is fenced and will not claim the VIP " + config_.vip, d.reason + ".");
    event("vip_fenced", true, d.reason);
  }
}

milliseconds Controller::claim(const Observation &obs, bool force, Views views, const std::string &why) {
  if (views == Views::ReadFirst) observe_tables();
  FenceDecision d = decide(identity(obs), holders(), force);
  if (d.verdict == Verdict::Fence) {
    fence(d);
    return config_.check_interval;
  }
  if (claim_started_ == steady_clock::time_point{}) claim_started_ = steady_clock::now();

  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < tables_.size(); ++i)
    if (views == Views::StandbyRead || tables_[i].state != RouteState::Ours) todo.push_back(i);

  if (config_.dry_run) {
    state_ = State::DryRun;
    claim_pending_ = false;
    std::string list;
    for (auto i : todo) list += (list.empty() ? "" : ", ") + tables_[i].id;
    event("vip_claim", true, "dry run (" + why + "): would point " + route_tables(todo.size()) + " at " + eni_ + (list.empty() ? "" : ": " + list));
    return config_.check_interval;
  }

  state_ = State::Claiming;
  claim_pending_ = true;
  auto round_start = steady_clock::now();
  // One round trip: every route and the fence tag at once. A missing route
  // is created; one that exists after all is replaced.
  std::vector<Ec2Call> calls;
  std::vector<bool> create(tables_.size(), false);
  for (auto i : todo) {
    create[i] = tables_[i].state == RouteState::Missing;
    calls.push_back(create[i] ? aws::create_route(tables_[i].id, config_.vip, eni_)
                              : aws::replace_route(tables_[i].id, config_.vip, eni_));
  }
  std::vector<std::string> all_ids(config_.route_tables);
  calls.push_back(aws::create_tags(all_ids, {{fence_tag_key(config_.vip), fence_tag_value(identity(obs), system_clock::now())}}));
  std::vector<Ec2Result> results = aws_->ec2->call_all(calls, policy(4));

  std::vector<std::size_t> flip;
  for (std::size_t k = 0; k < todo.size(); ++k) {
    const auto &r = results[k];
    if (r.ok()) continue;
    bool wrong_verb = create[todo[k]] ? r.error->code == "RouteAlreadyExists" : is_no_route(*r.error);
    if (wrong_verb) flip.push_back(k);
  }
  if (!flip.empty()) {
    std::vector<Ec2Call> second;
    for (auto k : flip) {
      std::size_t i = todo[k];
      create[i] = !create[i];
      second.push_back(create[i] ? aws::create_route(tables_[i].id, config_.vip, eni_)
                                 : aws::replace_route(tables_[i].id, config_.vip, eni_));
    }
    auto again = aws_->ec2->call_all(second, policy(4));
    for (std::size_t j = 0; j < flip.size(); ++j) results[flip[j]] = std::move(again[j]);
  }

  int switched = 0;
  std::string failures;
  for (std::size_t k = 0; k < todo.size(); ++k) {
    TableView &view = tables_[todo[k]];
    const auto &r = results[k];
    if (r.ok()) {
      ++switched;
      view.last_error.clear();
    } else {
      view.last_error = r.error->describe();
      failures += (failures.empty() ? "" : "; ") + view.id + ": " + view.last_error;
    }
  }
  const Ec2Result &tag = results.back();
  if (!tag.ok()) failures += (failures.empty() ? "" : "; ") + std::string("fence tag: ") + tag.error->describe();
  double round_ms = duration<double, std::milli>(steady_clock::now() - round_start).count();

  if (hooks_.cancelled && hooks_.cancelled()) return milliseconds(0);
  if (!failures.empty()) {
    last_error_ = failures;
    event("vip_claim_failed", false,
          std::to_string(todo.size() - switched) + " of " + route_tables(todo.size()) + " not switched (" + why +
              "): " + failures);
    log(true, "pg_vip: could not point every route table at this node; retrying", failures);
    // Verify anyway: the tables that did switch show as ours meanwhile.
    verify(obs);
    return retry_delay();
  }
  event("vip_claim", true,
        "pointed " + route_tables(switched) + " at " + eni_ + " (" + why + ", timeline " +
            std::to_string(obs.timeline) + ", " + std::to_string(static_cast<long>(round_ms)) + " ms)");
  if (verify(obs)) return config_.check_interval;
  return state_ == State::Fenced ? config_.check_interval : retry_delay();
}

// Reads the routes back until every table points here, tolerating stale
// reads (EC2 is eventually consistent); true once held.
bool Controller::verify(const Observation &obs) {
  std::vector<milliseconds> waits = {milliseconds(0), milliseconds(100), milliseconds(200), milliseconds(400)};
  bool all = false;
  for (auto w : waits) {
    if (w.count() && hooks_.sleep) hooks_.sleep(w);
    if (hooks_.cancelled && hooks_.cancelled()) return false;
    observe_tables();
    all = routes_held() == static_cast<int>(tables_.size());
    if (all) break;
  }
  FenceDecision d = decide(identity(obs), holders(), false);
  if (d.verdict == Verdict::Fence) {
    fence(d);
    return false;
  }
  if (!all) {
    state_ = State::Claiming;
    std::string pending;
    for (const auto &t : tables_)
      if (t.state != RouteState::Ours)
        pending += (pending.empty() ? "" : ", ") + t.id + " (" + to_string(t.state) +
                   (t.last_error.empty() ? "" : ": " + t.last_error) + ")";
    last_error_ = "pending route tables: " + pending;
    return false;
  }
  // The first claim of a new primary is timed from the moment the worker
  // noticed it became primary; later ones from their own start.
  bool first = first_claim_ && obs.primary_noticed != steady_clock::time_point{};
  double ms = duration<double, std::milli>(steady_clock::now() -
                                           (first ? std::min(obs.primary_noticed, claim_started_) : claim_started_))
                  .count();
  const char *since = first ? "this node became primary" : repairing_ ? "the repair began" : "the claim began";
  std::string detail;
  for (const auto &t : tables_) detail += (detail.empty() ? "" : "; ") + t.id + ": ours";
  state_ = State::Held;
  claim_pending_ = false;
  failed_rounds_ = 0;
  last_claim_ms_ = ms;
  last_error_.clear();
  fence_holder_.reset();
  claim_started_ = {};
  log(false,
      "pg_vip: VIP " + config_.vip + " held on " + route_tables(tables_.size()) + ", " +
          std::to_string(static_cast<long>(ms)) + " ms after " + since,
      "Each route table points at " + eni_ + ": " + detail + ".");
  event(repairing_ ? "vip_repaired" : "vip_held", true,
        route_tables(tables_.size()) + (tables_.size() == 1 ? " points" : " point") + " at " + eni_ + " after " +
            std::to_string(static_cast<long>(ms)) + " ms (timeline " + std::to_string(obs.timeline) + ")");
  repairing_ = false;
  first_claim_ = false;
  return true;
}

void Controller::reap_notifications() {
  for (auto &p : notifier_.reap()) log(true, "pg_vip: " + p);
}

milliseconds Controller::step(const Observation &obs) {
  reap_notifications();
  if (!config_.enabled || config_.vip.empty() || config_.route_tables.empty()) {
    state_ = config_.enabled ? State::Unconfigured : State::Disabled;
    if (obs.claim_request > claim_request_done_) {  // answer vip_claim() at once
      claim_request_done_ = obs.claim_request;
      claim_request_error_ = config_.enabled ? "pg_vip.vip or pg_vip.route_tables is not set." : "pg_vip.enabled is off.";
    }
    return config_.check_interval;
  }
  bool primary = obs.role == Role::Primary;
  if (!primary && state_ != State::Standby) state_ = State::Standby;

  try {
    prepare();
  } catch (const Error &e) {
    last_error_ = std::string(e.what()) + (e.detail().empty() ? "" : ": " + e.detail());
    if (primary && state_ != State::Fenced) state_ = State::Claiming;
    if (obs.claim_request > claim_request_done_) {
      claim_request_done_ = obs.claim_request;
      claim_request_error_ = last_error_;
    }
    log(true, "pg_vip: not ready to move the VIP: " + std::string(e.what()), e.detail());
    return retry_delay();
  }

  if (!primary) {
    // A standby reads, never writes: its view feeds vip_routes() and the
    // fence check of its promotion, and keeps connections warm.
    state_ = State::Standby;
    observe_tables();
    check_source_dest();
    return config_.check_interval;
  }

  if (obs.claim_request > claim_request_done_) {
    if (obs.force)
      log(true, "pg_vip: claim of the VIP forced by " + obs.requested_by, "The fence check is overridden.");
    claim_started_ = steady_clock::now();
    repairing_ = false;
    first_claim_ = false;
    claim(obs, obs.force, Views::ReadFirst, obs.force ? "forced by " + obs.requested_by : "requested by " + obs.requested_by);
    claim_request_done_ = obs.claim_request;
    claim_request_error_ = state_ == State::Held || state_ == State::DryRun ? "" : last_error_;
    return state_ == State::Claiming ? retry_delay() : config_.check_interval;
  }

  if (!primary_started_) {
    primary_started_ = true;
    first_claim_ = true;
    if (prior_state_ == State::Fenced) {
      state_ = State::Fenced;
      return config_.check_interval;
    }
    if (prior_state_ == State::Held) {
      state_ = State::Held;  // re-verified just below
    } else {
      state_ = State::Claiming;
      // A promotion claims at once on what the standby last read; a start
      // (restart, crash recovery) reads the fence first.
      bool promoted = obs.by == PrimaryBy::Promotion && prior_state_ != State::Claiming;
      return claim(obs, false, promoted ? Views::StandbyRead : Views::ReadFirst, promoted ? "promotion" : "start as primary");
    }
  }

  switch (state_) {
    case State::Claiming:
      return claim(obs, false, Views::ReadFirst, repairing_ ? "repair" : "retry");
    case State::Fenced:
    case State::DryRun: {
      observe_tables();
      check_source_dest();
      if (state_ == State::DryRun && config_.dry_run) return config_.check_interval;
      if (state_ == State::DryRun) return claim(obs, false, Views::JustRead, "dry run ended");
      return config_.check_interval;
    }
    default: {  // Held, or a state left over from a configuration change
      observe_tables();
      check_source_dest();
      FenceDecision d = decide(identity(obs), holders(), false);
      if (d.verdict == Verdict::Fence) {
        fence(d);
        return config_.check_interval;
      }
      if (routes_held() == static_cast<int>(tables_.size()) && !claim_pending_) {
        state_ = State::Held;
        return config_.check_interval;
      }
      std::string moved;
      for (const auto &t : tables_)
        if (t.state != RouteState::Ours) moved += (moved.empty() ? "" : ", ") + t.id + " (" + to_string(t.state) + ")";
      log(true, "pg_vip: the VIP's route no longer points here; repairing", "Route tables: " + moved + ".");
      repairing_ = true;
      claim_started_ = steady_clock::now();
      return claim(obs, false, Views::JustRead, "repair");
    }
  }
}

}  // namespace pg_vip
