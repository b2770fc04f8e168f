// The claim, in the core: what the worker does with the VIP at each step.
// The glue feeds it what PostgreSQL knows (role, timeline, settings,
// vip_claim() requests) and publishes what it reports (state, per-table
// views, events, log lines, answers to requests). It talks to AWS only
// through a Cloud and reads time only through a TimeSource, so the same
// code runs in the worker over libcurl, in unit tests over a fake, and in
// the simulation (test/sim) over a simulated EC2 and clock.
//
// It sequences reads and claims and remembers what it saw; what a read
// means (verdicts, outranking, lapse, flapping, renewal) is judgement.hpp's,
// and who outranks whom is fence.hpp's. The README's "What is guaranteed"
// says the rules for users. The order of its requests:
//   - a route is pointed at this node only after this node's fence tag was
//     written on that table (tag first, then route), except in the claim
//     that follows a promotion, which sends both in one round trip on a
//     recent successful read of every table (its timeline is newer than any
//     tag that read showed);
//   - outside that promotion claim and vip_claim(force => true), no table
//     is changed unless this step read it successfully, tag included (fail
//     closed);
//   - a held table found moved away is repaired only when a second read,
//     a second later, confirms the move;
//   - a table counts as held only when its route and its fence tag, read
//     back, both name this node;
//   - a holder renews its tag when a third of its lease has passed.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cloud.hpp"
#include "clock.hpp"
#include "credentials.hpp"
#include "events.hpp"
#include "fence.hpp"
#include "hold_cadence.hpp"
#include "judgement.hpp"
#include "notify.hpp"
#include "role.hpp"
#include "target.hpp"
#include "secret.hpp"
#include "status.hpp"
#include "time_source.hpp"
#include "cpp_only.hpp"

namespace pg_vip {

struct ControllerConfig {
  bool enabled = true;
  bool dry_run = false;
  std::string vip;                        // canonical CIDR, "" when not configured
  std::vector<std::string> route_tables;  // the route kind's targets
  std::vector<std::string> elastic_ips;   // allocation ids: the Elastic IP kind's targets
  // The private address of this node's interface its Elastic IPs map to;
  // empty: the interface's primary address.
  std::string elastic_ip_private_address;
  // Secondary private IPv4 addresses: the secondary IP kind's targets.
  std::vector<std::string> secondary_ips;
  // Route 53 records ("<hosted zone id>:<name.>"): the DNS kind's targets,
  // each fenced by its TXT record in one compare-and-swap batch.
  std::vector<std::string> dns_records;
  long dns_ttl = 10;                  // seconds, for the address and the fence record
  std::string dns_value = "private";  // pg_vip.dns_value, parsed
  std::string route53_endpoint;       // empty: the environment's, else Route 53's
  // Every target, of every kind, in the order the status shows them.
  std::vector<TargetId> targets() const;
  std::string network_interface = "auto";
  std::string region;
  std::string ec2_endpoint;
  std::string imds_endpoint = "http://169.254.169.254";
  std::string aws_profile;
  std::string ca_file;
  std::string node_name;
  std::chrono::milliseconds check_interval{10000};
  // A streaming standby's (never shorter than check_interval).
  std::chrono::milliseconds standby_check_interval{600000};
  // A holder's while its standbys all stream from it (hold_cadence.hpp).
  std::chrono::milliseconds replicated_check_interval{300000};
  std::chrono::milliseconds request_timeout{2000};
  std::string notification_command;
  std::vector<std::string> notification_events;  // empty: all
  // pg_vip.fence_key_file: read by configure() into fence_key. Tags are
  // MACed with the key, and a tag without a valid MAC is not this
  // cluster's. Both empty: no key (tests set fence_key directly).
  std::string fence_key_file;
  Secret fence_key;
  // pg_vip.preflight_probe_table: vip_preflight() alone reads it.
  std::string preflight_probe_table;
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

// One vip_claim() call. Numbers grow; each is answered once.
struct ClaimRequest {
  uint64_t seq = 0;
  bool force = false;
  std::string by;
};

struct ClaimAnswer {
  uint64_t seq = 0;
  bool ok = false;
  std::string error;
  State state = State::Unconfigured;  // the state the claim ended in
};

struct Observation {
  Role role = Role::Unknown;
  PrimaryBy by = PrimaryBy::None;
  uint32_t timeline = 0;
  std::string system_identifier;
  // A standby whose WAL receiver streams from its primary: that primary is
  // alive, so no promotion is near, and the standby reads less often.
  bool streaming = false;
  // A primary: how many physical standbys' WAL senders stream from it. A
  // holder whose standbys all still stream reads less often (hold_cadence.hpp).
  int standbys = 0;
  // When the worker noticed this node become primary: the claim's clock starts there.
  std::chrono::steady_clock::time_point primary_noticed{};
  // vip_claim() requests not yet answered, oldest first.
  std::vector<ClaimRequest> requests;
};

// What shared memory kept from a previous worker: a restarted worker
// resumes a claim, keeps a fence, re-checks a hold, and never answers a
// request twice.
struct Resume {
  State state = State::Unconfigured;
  Role role = Role::Unknown;
  PrimaryBy by = PrimaryBy::None;
  uint32_t timeline = 0;
  Clock::time_point promoted_at{};
  uint64_t claim_done = 0;
  bool unsure_only = false;  // claiming only because a holder's check could not read
  // The flap memory: when each table was last repaired, since when in
  // conflict, since when held: on the monotonic clock, which a worker
  // restart on the same boot keeps (and a reboot clears with shared
  // memory); the wall times are for display.
  struct Repaired {
    std::string id;
    SteadyTime at;
    Clock::time_point wall;
  };
  std::vector<Repaired> repaired;
  // Since when each target's fence tag has stood unchanged (lapse), and
  // which tag: a restart resumes the clock if its first read shows the same.
  struct TagSeen {
    std::string id;
    uint64_t digest = 0;
    SteadyTime since{};
  };
  std::vector<TagSeen> tags_seen;
  SteadyTime conflict_since{};
  Clock::time_point conflict_wall{};
  Clock::time_point term_since{};
  uint32_t newest_seen = 0;  // the newest timeline seen holding the VIP
  // The holder of its own timeline that fenced it, and when its tag was
  // last read (rival_stands): a restart must not forget it.
  std::optional<Holder> rival;
  SteadyTime rival_read{};
  Metrics metrics;  // counted on from where the previous worker left them
};

// What a previous worker published is what the next one resumes from.
Resume resume_from(const Status &published);

// What a Cloud tells its controller as it works.
struct CloudReports {
  std::function<void(const std::string &)> log;  // one line per retry
  // Every AWS attempt, retried or not, for the metrics: its action
  // ("ReplaceRoute"), its error if any, its number from 1. Must not throw.
  std::function<void(std::string_view action, const std::optional<aws::AwsError> &error, int attempt)> attempt;
};

class Controller {
 public:
  // Builds the Cloud for a configuration (a change of AWS settings builds a
  // new one); the worker's makes an Ec2Cloud, the simulation's a simulated EC2.
  using CloudFactory = std::function<std::unique_ptr<Cloud>(const ControllerConfig &, TimeSource &, CloudReports)>;
  struct Hooks {
    TimeSource *time = nullptr;  // not owned
    CloudFactory cloud;          // required: ec2_cloud_factory() over libcurl
  };

  Controller(Hooks hooks, Resume resume);
  ~Controller();

  void configure(ControllerConfig config);

  // What the worker saw of the instance between steps. The status shows it
  // at once: a node seen leaving recovery shows as claiming before the
  // claim's first request goes out.
  void observe_role(Role role, PrimaryBy by, uint32_t timeline, bool became_primary) noexcept;

  // One step of work; returns how long until the next one is due.
  std::chrono::milliseconds step(const Observation &obs);

  // Everything vip_status() and vip_routes() show, and what a restarted
  // worker resumes from (resume_from). The only writer of the status.
  void write_status(Status &out) const noexcept;
  // Moves the events, answers and log lines not yet taken into `out`.
  void take_messages(Messages &out) noexcept;
  // The outcome of a preflight the worker ran (vip_metrics()'s
  // preflight_failed_checks, published with the next status); failed checks
  // also make a vip_preflight_failed event, notified as any other.
  void record_preflight(int checks, int failed, const std::string &failed_names);

  State state() const noexcept { return state_; }
  const std::string &last_error() const noexcept { return last_error_; }
  const std::optional<Holder> &holder() const noexcept { return fence_holder_; }
  const std::vector<TargetView> &tables() const noexcept { return targets_; }
  uint64_t claim_request_done() const noexcept { return claim_done_; }
  SteadyTime conflict_since() const noexcept { return conflict_since_; }
  uint32_t newest_seen() const noexcept { return newest_seen_; }
  const Metrics &metrics() const noexcept { return metrics_; }
  // When AWS last throttled one of this node's requests (zero: never): the
  // worker defers its preflight while the account is busy.
  SteadyTime throttled_at() const noexcept { return throttled_at_; }

  std::vector<ClaimAnswer> take_answers();
  std::vector<Event> take_events();
  std::vector<LogLine> take_logs();
  bool notifications_running() const noexcept { return notifier_.busy(); }
  void reap_notifications();

 private:
  // Why a claim runs: it names the claim in events and logs and decides
  // which rules apply (a promotion's single round trip, force).
  enum class Cause { Promotion, Start, Retry, Repair, Requested, Forced, Resume };
  void prepare();
  // `attempts`: kClaimAttempts for the reads a claim acts on (they go
  // when AWS throttles, as the claim's changes do), else a check's.
  void read_targets(int attempts = kCheckAttempts);
  void check_source_dest();
  Ground ground(const Identity &me) const;
  Verdict verdict(const TargetView &t, const Identity &me) const { return pg_vip::verdict(t, ground(me)); }
  std::chrono::milliseconds conflict(const TargetView &t);
  std::chrono::milliseconds stay_fenced(const Identity &me);
  std::chrono::milliseconds fenced_interval(const Identity &me) const;
  void renew(const Identity &me);
  void retag(const Identity &me);
  void tag_where(const Identity &me, const std::function<bool(const TargetView &)> &which, const char *what);
  Cloud::FenceWrite fence_write(const Identity &me, std::vector<std::string> ids) const;
  void forget_tags(const Identity &me, bool all_but_mine = false);
  // Deletes the fence tags of targets `which` that fence_tag_keys_to_forget
  // picks from their last read, each only where it still has the value
  // read (`any_value`: an older timeline's key whatever its value); one
  // DeleteTags per group of targets sharing them. The first failure, with
  // what it was for: "(keys) on targets".
  std::optional<std::pair<Outcome, std::string>> delete_old_tags(const std::vector<std::size_t> &which,
                                                                 const Identity &me, bool all_but_mine,
                                                                 bool any_value = false);
  // After a fence write refused for want of room (aws::no_tag_room): makes
  // room and writes the tag again, updating `a`'s fence outcomes.
  void make_room(const std::vector<std::string> &fence_ids, const Identity &me, Cloud::Applied &a);
  const TargetView *outranking(const Identity &me) const { return pg_vip::outranking(targets_, ground(me)); }
  std::chrono::milliseconds standby_interval(bool streaming) const;
  // How often a holder reads now: check_interval, or longer while its
  // replication is intact (hold_cadence.hpp).
  std::chrono::milliseconds hold_interval() const;
  // Logs a holder's change of cadence, once each way.
  void note_cadence();
  // Whether pointing table t here again may go on (false: conflict).
  bool may_repoint(TargetView &t, const Identity &me);
  bool leave_to_rival(TargetView &t, const Identity &me);
  Tenure tenure() const;
  // The kinds of some targets (all of them when `which` is null), for wording.
  std::vector<TargetKind> kinds(const std::vector<std::size_t> *which = nullptr) const;
  std::string counted(const std::vector<std::size_t> &which) const { return count_text(kinds(&which)); }
  std::string counted_all() const { return count_text(kinds()); }

  std::chrono::milliseconds step_once(const Observation &obs);
  std::chrono::milliseconds promote(const Observation &obs);
  std::chrono::milliseconds claim(const Observation &obs, Cause cause, const std::string &by = {});
  std::chrono::milliseconds verify(const Observation &obs);
  std::chrono::milliseconds check_held(const Observation &obs);
  std::chrono::milliseconds check_fenced(const Observation &obs);
  std::chrono::milliseconds check_conflict(const Observation &obs);
  std::chrono::milliseconds answer(const Observation &obs, const ClaimRequest &r);
  std::chrono::milliseconds not_held(const Observation &obs);
  void held(const Observation &obs);
  void fence(const Identity &me, const TargetView &t);
  void claim_failed() noexcept { ++metrics_.claim_failures; }
  // Returns the tables whose route EC2 switched here.
  std::vector<std::size_t> point(const std::vector<std::size_t> &tables, const Identity &me, bool one_round_trip);

  // The one place the state changes, and with it the event and the
  // counter each change carries: entering fenced (vip_fenced, fences),
  // conflict (vip_conflict, its start), held after a claim (vip_held or,
  // after a repair, vip_repaired, with the claim's time). `report` is the
  // event's details; empty for held: nothing new to say (a hold verified
  // again).
  void become(State next, const std::string &report = {}, double claim_seconds = 0);
  void event(EventName name, bool success, const std::string &details);
  void log(bool warning, std::string message, std::string detail = {});
  std::chrono::milliseconds retry_delay();
  Identity identity(const Observation &obs) const;
  std::string cause_text(Cause c, const std::string &by) const;
  std::chrono::steady_clock::time_point now() const { return hooks_.time->steady(); }

  Hooks hooks_;
  ControllerConfig config_;
  std::unique_ptr<Cloud> cloud_;
  bool prepared_ = false;  // region, interface and credentials all known
  State state_;
  Cause cause_ = Cause::Start;    // why the claim under way runs (events, logs)
  Cause episode_ = Cause::Start;  // what began it: a hold that follows a repair is vip_repaired
  std::string cause_by_;
  bool primary_seen_ = false;    // this controller has stepped as primary
  bool forget_refused_ = false;  // DeleteTags refused for good in this term: not tried again
  // The instance as last observed (for the status).
  Role role_ = Role::Unknown;
  PrimaryBy by_ = PrimaryBy::None;
  uint32_t timeline_ = 0;
  Clock::time_point promoted_at_{};
  bool noticed_primary_ = false;    // seen leaving recovery, no primary step yet
  bool changed_since_held_ = true;  // a change was sent since the last hold
  int failed_rounds_ = 0;
  std::string failure_cause_;  // the last vip_claim_failed's cause, to report changes only
  std::chrono::steady_clock::time_point claim_started_{};
  SteadyTime conflict_since_{};
  Clock::time_point conflict_wall_{};
  // When this node's term as primary began (the tag's since=): set at its
  // first step as primary, kept across worker restarts, cleared as standby.
  Clock::time_point term_since_{};
  std::string system_identifier_;  // as last observed
  std::string fence_key_error_;    // pg_vip.fence_key_file could not be read: nothing is claimed
  // The newest timeline each interface was seen holding under, from this
  // cluster's authentic tags (a late write to one of them is stale).
  std::map<std::string, uint32_t> interfaces_;
  // The newest timeline this node has seen holding the VIP. Once above its
  // own, the node never claims again short of a forced claim: even if that
  // tag disappears (overwritten on a stale read, deleted), the newer
  // primary it named may be alive.
  uint32_t newest_seen_ = 0;
  std::vector<Resume::Repaired> resumed_repairs_;
  std::vector<Resume::TagSeen> resumed_tags_;
  std::chrono::steady_clock::time_point unfence_seen_{};
  std::string eni_;
  std::string instance_id_;
  std::optional<bool> source_dest_check_;
  std::chrono::steady_clock::time_point source_dest_checked_{};
  std::optional<Holder> fence_holder_;
  // When the tag of fence_holder_ was last read outranking this node: a
  // holder of this node's timeline stands for a lease after (rival_stands).
  SteadyTime fence_holder_read_{};
  std::vector<TargetView> targets_;
  SteadyTime throttled_at_{};
  // Reads in a row AWS throttled, less one per read that went through: a
  // standby's regular check waits up to 2^kMaxCheckBackoff check intervals.
  static constexpr int kMaxCheckBackoff = 5;
  static constexpr int kWarnThrottledReads = 3;  // in a row: a warning, once until reads go through
  int throttled_reads_ = 0;
  HoldCadence cadence_;      // this primary's standbys, as the worker last saw them
  bool replicated_ = false;  // holding at the replicated cadence, as last logged
  bool throttle_warned_ = false;
  // The claim under way began only because a held node's check could not
  // read: its reads give way as checks do, until a claim of another cause
  // or a hold.
  bool unsure_only_ = false;
  std::chrono::milliseconds unsure_interval_{0};  // the cadence that holder checked at
  Metrics metrics_;  // claims, failures, repairs, fences, AWS attempts (and the last claim's time)
  std::string last_error_;
  uint64_t claim_done_ = 0;
  std::vector<ClaimAnswer> answers_;
  std::vector<Event> events_;
  std::vector<LogLine> logs_;
  NotificationRunner notifier_;
};

}  // namespace pg_vip
