// The simulated Route 53: hosted zones of record sets, changed only by
// whole batches (ChangeResourceRecordSets) that are validated as a whole
// and applied all or nothing, as Route 53 does: a DELETE must name a record
// set exactly (name, type, TTL, every value), a CREATE fails where the set
// exists, an UPSERT always goes; anything else refuses the whole batch with
// InvalidChangeBatch. Reads (ListResourceRecordSets) are strongly
// consistent; what is eventually consistent is the name servers, which
// GetChange reports: PENDING until the run's propagation delay has passed,
// then INSYNC. Faults: Throttling and PriorRequestNotComplete (retryable,
// nothing applied), a 5xx before applying, an answer lost after the batch
// was applied, and the partitions and IAM denials of the simulated EC2.
//
// Each node's Cloud is the real CloudSet over the simulated EC2's SimCloud
// and the real Route53Cloud over SimRoute53Api below: the simulation runs
// pg_vip's own DNS logic (route53_target, route53_cloud), and only the
// service is simulated.
//
// The invariants speak of targets as EC2 holds them (sim_ec2.hpp's
// TableState): after every change, a DNS target's state is mirrored into the
// simulated EC2's snapshot under its id, parsed here independently of the
// code under test: the address record "points at" the interface of the node
// whose address it holds, and the fence TXT's "<key> <address> <value>" is
// the one tag key = value.
#pragma once

#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/route53_cloud.hpp"
#include "sim_ec2.hpp"

namespace pg_vip::sim {

struct Route53Faults {
  double throttle = 0;       // Throttling: Rate exceeded
  double prior_request = 0;  // PriorRequestNotComplete, besides a zone still applying a batch
  double server_error = 0;   // 5xx, nothing applied
  double lost_answer = 0;    // applied, then the answer is lost (a timeout)
  Millis busy = 0;           // a zone answers PriorRequestNotComplete this long after applying a batch
  Millis propagation = 0;    // PENDING to INSYNC
};

// "Z...:db.example.com." split; the simulation names its records itself.
struct DnsName {
  std::string zone, name;
};

class Route53 {
 public:
  Route53(Ec2 &ec2, std::mt19937_64 &rng, std::string vip) : ec2_(ec2), rng_(rng), vip_(std::move(vip)) {}

  Route53Faults faults;
  Ec2 &ec2() { return ec2_; }
  // A mutation of the service, to show that D1 catches a broken
  // compare-and-swap (--mutate-route53 ignore-delete): a DELETE that does
  // not match is applied anyway (as an UPSERT of nothing: the set goes).
  bool ignore_delete_mismatch = false;

  // A DNS target of the run, "<zone>:<name>".
  void add_target(const std::string &id);
  bool is_target(const std::string &id) const { return targets_.count(id) > 0; }
  // Each node's address (pg_vip.dns_value), by its interface.
  void address_of(const std::string &eni, const std::string &address);
  std::string address_for(const std::string &eni) const;  // an outsider's interface gets one too
  std::string eni_for(const std::string &address) const;

  // The API, as one attempt sees it at `at` (after its fate).
  std::vector<aws::RecordSet> list(const std::string &zone) const;
  // Applies the batch or refuses it; `node` -1 for an operator.
  std::optional<aws::AwsError> change(Millis at, int node, const std::string &zone, const aws::ChangeBatch &batch,
                                      Millis sent_at, aws::ChangeInfo &info);
  std::optional<aws::ChangeInfo> change_status(const std::string &id, Millis at) const;

  // An operator's hand, an outsider's or a rogue script's: the address
  // record at an interface's address (nullopt: deleted), and the fence
  // record's text (nullopt: deleted).
  void set_address(Millis at, const std::string &id, const std::optional<std::string> &eni);
  void set_fence_text(Millis at, const std::string &id, const std::optional<std::string> &text);

  // What a request of `node` for `action` meets at `at` (Route 53's
  // faults, the EC2 world's partitions and denials).
  Ec2::Fate fate(int node, const std::string &action, Millis at, Millis timeout, int attempt);
  std::function<std::optional<Ec2::Fate>(int, const std::string &, int, Millis)> script_fate;

  // D1's record: per target, the version of its records (every applied
  // change adds one) and what each version's fence was.
  struct Win {
    Millis at;
    int node;
    uint64_t from;  // the version the batch's DELETE named (0: none existed)
  };
  std::map<std::string, std::vector<Win>> wins;
  uint64_t version(const std::string &id) const;
  // Told of a violation of D1, with its words.
  std::function<void(const std::string &)> on_violation;
  int batches_applied = 0, batches_refused = 0, wins_count = 0;

 private:
  struct Target {
    DnsName at;
    std::string fence_name;
    uint64_t version = 0;
    std::vector<std::optional<aws::RecordSet>> fences;  // by version: the fence record then
  };
  using Key = std::pair<std::string, std::string>;  // name, type
  using Zone = std::map<Key, aws::RecordSet>;
  // The target's records as the invariants see them, into EC2's snapshot.
  void mirror(Millis at, int node, const std::string &id, Millis sent_at);
  TableState project(const std::string &id) const;
  const std::string *target_of_name(const std::string &zone, const std::string &name) const;
  void bump(const std::string &id);

  Ec2 &ec2_;
  std::mt19937_64 &rng_;
  std::string vip_;
  std::map<std::string, Zone> zones_;
  std::map<std::string, Target> targets_;
  std::map<std::string, std::string> address_by_eni_, eni_by_address_;
  std::map<std::string, Millis> busy_until_;  // per zone
  struct ChangeRec {
    Millis submitted;
    std::string comment;
  };
  std::map<std::string, ChangeRec> changes_;
  uint64_t change_seq_ = 0;
};

// Route 53 for one node: the Route53Api the real Route53Cloud calls, each
// request run with the client's retries and backoff on the node's clock.
class SimRoute53Api : public Route53Api {
 public:
  SimRoute53Api(Route53 &r53, int node, Millis *now, SimTime *time, SimCloud *reads)
      : r53_(r53), node_(node), now_(now), time_(time), reads_(reads) {}
  aws::TargetReadResult read_target(const std::string &zone, const std::string &address_name,
                                    const std::string &address_type, const std::string &fence_name,
                                    int attempts) override;
  aws::ChangeResult change(const std::string &zone, const aws::ChangeBatch &batch, int attempts) override;
  aws::ChangeResult change_status(const std::string &change_id) override;
  // Every attempt, for the metrics (as the client tells them).
  std::function<void(std::string_view action, const std::optional<aws::AwsError> &error, int attempt)> on_attempt;
  // The version of each record a read last saw (D2).
  std::map<std::string, uint64_t> seen_version;

 private:
  // Runs one request with the client's retries: effect(at) is the service's
  // part of an attempt that arrives; returns the error of the last attempt.
  std::optional<aws::AwsError> run(const std::string &action, int attempts,
                                   const std::function<std::optional<aws::AwsError>(Millis)> &effect, bool &unanswered,
                                   int &made);
  Route53 &r53_;
  int node_;
  Millis *now_;
  SimTime *time_;
  SimCloud *reads_;  // whose last_read the invariants look at
};

}  // namespace pg_vip::sim
