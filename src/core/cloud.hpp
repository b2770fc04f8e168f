// The one interface between the claim's decisions and AWS. The controller
// reads its targets with their fence tags, points them at this node and
// writes the fence tag, all through a Cloud; the worker's Cloud speaks EC2
// over libcurl (ec2_cloud.cpp), the simulation's (test/sim/) is a simulated
// EC2 with faults on a simulated clock. What a Cloud answers is neutral:
// where each target points (here, elsewhere, nowhere), its fence tags, and
// which action failed; a kind's words are its row in target_kind.cpp. A
// further kind of target (an Elastic IP association, a Route 53 record) is
// another implementation of the same verbs: read, point (apply), fence
// (the tag apply writes), forget.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api_budget.hpp"
#include "aws_error.hpp"
#include "cpp_only.hpp"
#include "round_trip.hpp"
#include "target.hpp"

namespace pg_vip {

// Where this node is: what the claim needs before its first request.
struct Placement {
  std::string region;
  std::string interface_id;  // what the VIP's routes must point at
  std::string instance_id;   // empty when instance metadata is not used
  std::vector<std::string> warnings;
};

// One target as read from AWS: where it points and its fence tags (every
// tag whose key begins with pg_vip:<vip>, key to raw value; which one
// counts is choose_fence_tag's). When `error` is set nothing else is known.
struct TargetRead {
  std::string id;
  std::optional<aws::AwsError> error;
  std::string failed_action;  // with `error`: the request that failed
  // Ours: it points at the interface prepare() placed this node on.
  TargetState state = TargetState::Missing;
  std::string interface_id;  // the network interface it points at, if any
  std::string points_at;     // what it points at, for people: an interface, a gateway, an instance
  std::map<std::string, std::string> fence_tags;
};

// The outcome of one changing request (after the Cloud's own retries).
struct Outcome {
  bool sent = false;   // false: not attempted (nothing asked)
  std::string action;  // the request sent last, e.g. "CreateRoute", for messages
  std::optional<aws::AwsError> error;
  bool ok() const noexcept { return sent && !error; }
};

struct PointRequest {
  std::string id;
  bool missing = false;  // the last read saw the VIP absent from it: create rather than replace
};

// How hard a Cloud tries (its calls' `attempts`). A claim's changes
// (kClaimAttempts or more) are retried whatever the node's retry quota
// says and go at once; anything asked with fewer (reads, renewals,
// tidying) gives way when AWS throttles the account (api_budget.hpp).
constexpr int kClaimAttempts = 4;
constexpr int kCheckAttempts = 2;
inline aws::Urgency urgency_of(int attempts) {
  return attempts >= kClaimAttempts ? aws::Urgency::Claim : aws::Urgency::Check;
}

class Cloud {
 public:
  virtual ~Cloud() = default;

  // Region, this instance's interface and id, warm credentials. Throws Error
  // with what to fix. `configured_interface`: pg_vip.network_interface.
  virtual Placement prepare(const std::string &configured_interface) = 0;

  // Every target at once (one request where the API allows it). `attempts`
  // bounds the retries of retryable failures.
  virtual std::vector<TargetRead> read(const std::vector<std::string> &ids, int attempts) = 0;

  // One round trip: every target pointed at `interface_id` and, when
  // `fence.ids` is not empty, the fence tag `fence.key` = `fence.value`
  // written on those, all sent at once. A target that turns out missing is
  // created (and one that exists after all replaced) within the call.
  struct FenceWrite {
    std::vector<std::string> ids;
    std::string key, value;
  };
  struct Applied {
    std::vector<Outcome> points;  // in the order asked
    Outcome fence;
    // Targets whose fence went in a request of their own (a DNS record's
    // compare-and-swap batch): how each went, in place of `fence` for them.
    std::map<std::string, Outcome> fence_by_id;
    // How the fence write went for one target.
    const Outcome &fence_of(const std::string &id) const {
      auto it = fence_by_id.find(id);
      return it == fence_by_id.end() ? fence : it->second;
    }
  };
  virtual Applied apply(const std::vector<PointRequest> &points, const std::string &interface_id,
                        const FenceWrite &fence, int attempts) = 0;

  // apply() split at its first requests (round_trip.hpp), so that a set of
  // Clouds (CloudSet) sends every kind's first requests in one round trip.
  // By default nothing goes ahead and finish() is apply().
  virtual std::unique_ptr<RoundTrip<Applied>> begin_apply(const std::vector<PointRequest> &points,
                                                          const std::string &interface_id, const FenceWrite &fence,
                                                          int attempts) {
    return std::make_unique<Deferred<Applied>>(
        [this, points, interface_id, fence, attempts] { return apply(points, interface_id, fence, attempts); });
  }

  // Deletes the tags `tags` (key and value) from the targets `ids`, in one
  // request: the fence tags of older timelines a holder no longer needs.
  // Each goes only where it still has the value given (EC2's DeleteTags
  // with Tag.N.Value), so a tag written after the read that chose it (a
  // newer value under the same key) stays; an empty value deletes the key
  // whatever its value (an older timeline's key: outranked, however its
  // holder renewed it since). A tag a target does not carry is no error.
  using TagList = std::vector<std::pair<std::string, std::string>>;
  virtual Outcome forget(const std::vector<std::string> &ids, const TagList &tags, int attempts) = 0;

  // The instance's source/destination check; nullopt when unknown.
  virtual std::optional<bool> source_dest_check() = 0;

  // Keeps `connections` connections to the API open for the next claim, at
  // no API call's cost (a standby's only request per check is one read).
  virtual void warm(std::size_t connections) { (void) connections; }
};

}  // namespace pg_vip
