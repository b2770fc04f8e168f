// One AWS account's EC2 request limits, as EC2 applies them: a token bucket
// per action (every caller in the account draws from the same ones), each
// request taking a token or refused with RequestLimitExceeded, buckets
// refilled continuously up to their size.
//
// The sizes are parameters. The defaults: a Describe action's bucket of 100
// tokens refilled at 20 a second is AWS's own example ("Request throttling
// for the Amazon EC2 API", EC2 Developer Guide); changing actions have
// smaller ones, assumed here to be 50 tokens at 5 a second each. Accounts
// may have raised limits; pass --describe and --mutate to see another.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>

#include "fibers.hpp"

namespace pg_vip::fleet {

struct Limits {
  double describe_size = 100, describe_refill = 20;  // per second
  double mutate_size = 50, mutate_refill = 5;
};

class Account {
 public:
  struct Bucket {
    double size = 0, refill = 0, tokens = 0;
    Millis filled = 0;
    uint64_t accepted = 0, refused = 0;
  };

  explicit Account(Limits limits) : limits_(limits) {}

  static bool reads(const std::string &action) { return action.rfind("Describe", 0) == 0; }

  // One request for `action` reaching EC2 at `at`: whether it got a token.
  bool take(const std::string &action, Millis at) {
    Bucket &b = bucket(action);
    b.tokens = std::min(b.size, b.tokens + (at - b.filled) * b.refill / 1000.0);
    b.filled = std::max(b.filled, at);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      ++b.accepted;
      return true;
    }
    ++b.refused;
    return false;
  }

  Bucket &bucket(const std::string &action) {
    auto it = buckets_.find(action);
    if (it != buckets_.end()) return it->second;
    Bucket b;
    b.size = reads(action) ? limits_.describe_size : limits_.mutate_size;
    b.refill = reads(action) ? limits_.describe_refill : limits_.mutate_refill;
    b.tokens = b.size;
    return buckets_.emplace(action, b).first->second;
  }
  const std::map<std::string, Bucket> &buckets() const { return buckets_; }
  const Limits &limits() const { return limits_; }
  // Counts since the last call, per action: (accepted, refused).
  std::map<std::string, std::pair<uint64_t, uint64_t>> take_counts() {
    std::map<std::string, std::pair<uint64_t, uint64_t>> out;
    for (auto &[a, b] : buckets_) {
      out[a] = {b.accepted, b.refused};
      b.accepted = b.refused = 0;
    }
    return out;
  }

 private:
  Limits limits_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace pg_vip::fleet
