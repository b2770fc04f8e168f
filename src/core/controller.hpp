// The claim, in the core: what the worker does with the VIP at each step.
// The glue feeds it what PostgreSQL knows (role, timeline, settings, a
// request from vip_claim()) and publishes what it reports (state, per-table
// views, events, log lines). Everything that decides or talks to AWS is here,
// so it is tested without a server.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clock.hpp"
#include "credentials.hpp"
#include "ec2_client.hpp"
#include "fence.hpp"
#include "notify.hpp"
#include "role.hpp"
#include "routes.hpp"
#include "cpp_only.hpp"

namespace pg_vip {

struct ControllerConfig {
  bool enabled = true;
  bool dry_run = false;
  std::string vip;  // canonical CIDR, "" when not configured
  std::vector<std::string> route_tables;
  std::string network_interface = "auto";
  std::string region;
  std::string ec2_endpoint;
  std::string imds_endpoint = "http://169.254.169.254";
  std::string aws_profile;
  std::string ca_file;
  std::string node_name;
  std::chrono::milliseconds check_interval{10000};
  std::chrono::milliseconds request_timeout{2000};
  std::string notification_command;
  std::vector<std::string> notification_events;  // empty: all
};

struct TableView {
  std::string id;
  RouteState state = RouteState::Unknown;
  std::string target;  // the interface (or gateway) the VIP's route points at
  std::optional<Holder> holder;
  Clock::time_point checked_at{};
  std::string last_error;
};

struct Event {
  Clock::time_point at;
  std::string name;
  bool success = false;
  std::string details;
};

struct LogLine {
  bool warning = false;
  std::string message;
  std::string detail;
};

struct Observation {
  Role role = Role::Unknown;
  PrimaryBy by = PrimaryBy::None;
  uint32_t timeline = 0;
  std::string system_identifier;
  // When the worker noticed this node become primary: the claim's clock starts there.
  std::chrono::steady_clock::time_point primary_noticed{};
  // A vip_claim() request: handled when newer than claim_request_done().
  uint64_t claim_request = 0;
  bool force = false;
  std::string requested_by;
};

class Controller {
 public:
  struct Hooks {
    std::function<bool()> cancelled;                       // shutdown or postmaster death
    std::function<void(std::chrono::milliseconds)> sleep;  // waits, waking for cancellation
    aws::Environment env;                                  // the process environment
  };

  // prior_state: what shared memory said before this worker started, so that
  // a restarted worker resumes a claim, keeps a fence, or re-checks a hold.
  Controller(Hooks hooks, State prior_state);
  ~Controller();

  void configure(ControllerConfig config);

  // One step of work; returns how long until the next one is due.
  std::chrono::milliseconds step(const Observation &obs);

  State state() const noexcept { return state_; }
  int routes_held() const noexcept;
  double last_claim_ms() const noexcept { return last_claim_ms_; }
  const std::string &last_error() const noexcept { return last_error_; }
  const std::string &network_interface() const noexcept { return eni_; }
  std::optional<bool> source_dest_check() const noexcept { return source_dest_check_; }
  const std::optional<Holder> &holder() const noexcept { return fence_holder_; }
  const std::vector<TableView> &tables() const noexcept { return tables_; }
  uint64_t claim_request_done() const noexcept { return claim_request_done_; }
  const std::string &claim_request_error() const noexcept { return claim_request_error_; }

  std::vector<Event> take_events();
  std::vector<LogLine> take_logs();
  bool notifications_running() const noexcept { return notifier_.busy(); }
  void reap_notifications();

 private:
  struct Aws;

  void prepare();
  void observe_tables();
  void check_source_dest();
  // How the claim knows where the routes point: it reads them first; it
  // trusts what the standby read (a promotion: every table is switched); or
  // the views were just read (a repair: only the tables not ours).
  enum class Views { ReadFirst, StandbyRead, JustRead };
  std::chrono::milliseconds claim(const Observation &obs, bool force, Views views, const std::string &why);
  bool verify(const Observation &obs);
  void fence(const FenceDecision &d);
  std::vector<Holder> holders() const;
  void event(const std::string &name, bool success, const std::string &details);
  void log(bool warning, std::string message, std::string detail = {});
  std::chrono::milliseconds retry_delay();
  Identity identity(const Observation &obs) const;
  aws::RetryPolicy policy(int attempts) const;

  Hooks hooks_;
  ControllerConfig config_;
  std::unique_ptr<Aws> aws_;
  bool prepared_ = false;  // region, interface and credentials all known
  State state_;
  State prior_state_;
  bool primary_started_ = false;
  bool claim_pending_ = false;  // some table is not verified ours yet
  bool repairing_ = false;      // the pending claim repairs a held VIP
  bool first_claim_ = false;    // the claim that follows becoming primary
  int failed_rounds_ = 0;
  std::chrono::steady_clock::time_point claim_started_{};
  std::string eni_;
  std::string instance_id_;
  std::optional<bool> source_dest_check_;
  std::optional<Holder> fence_holder_;
  std::vector<TableView> tables_;
  double last_claim_ms_ = -1;
  std::string last_error_;
  uint64_t claim_request_done_ = 0;
  std::string claim_request_error_;
  std::vector<Event> events_;
  std::vector<LogLine> logs_;
  NotificationRunner notifier_;
};

}  // namespace pg_vip
