// Requests prepared before they are sent, so that the first requests of
// several senders leave together: a claim whose targets are EC2's (routes,
// Elastic IPs, secondary IPs) and Route 53's sends all of them in one round
// trip, on the worker's one client, instead of one service after the other.
// A sender splits its work in two: what it sends first (built and signed,
// requests()) and what it makes of the answers (finish(): reading them,
// retrying what failed, any request that must follow). complete() sends
// every sender's first requests at once and then finishes each in turn.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "http_client.hpp"
#include "cpp_only.hpp"

namespace pg_vip {

template <class Result>
class RoundTrip {
 public:
  virtual ~RoundTrip() = default;
  // The client requests() must go through: the one whose connections the
  // sender keeps warm. Null: nothing to send ahead.
  virtual http::Client *via() const { return nullptr; }
  virtual std::vector<http::Request> requests() const { return {}; }
  // `answers`: one per request, in order (one the client did not give is a
  // transport failure); empty when they were not sent (then finish() sends
  // them itself).
  virtual Result finish(std::vector<http::Response> answers) = 0;
};

// A sender that cannot split its work (the simulation's EC2 and Route 53,
// which answer on a simulated clock): nothing goes ahead, and finish() does
// it all.
template <class Result>
class Deferred : public RoundTrip<Result> {
 public:
  explicit Deferred(std::function<Result()> work) : work_(std::move(work)) {}
  Result finish(std::vector<http::Response>) override { return work_(); }

 private:
  std::function<Result()> work_;
};

// Requests built already, and what their answers become: `finish` is given
// them (or nothing, when they were not sent: it sends them itself then).
template <class Result>
class Prepared : public RoundTrip<Result> {
 public:
  Prepared(http::Client *via, std::vector<http::Request> requests,
           std::function<Result(std::vector<http::Response>)> finish)
      : via_(requests.empty() ? nullptr : via), requests_(std::move(requests)), finish_(std::move(finish)) {}
  http::Client *via() const override { return via_; }
  std::vector<http::Request> requests() const override { return requests_; }
  Result finish(std::vector<http::Response> answers) override { return finish_(std::move(answers)); }

 private:
  http::Client *via_;
  std::vector<http::Request> requests_;
  std::function<Result(std::vector<http::Response>)> finish_;
};

// Another round trip's requests, its result turned into this one's by
// `then` (a Cloud's answer from its client's results).
template <class Result, class Inner>
class Then : public RoundTrip<Result> {
 public:
  Then(std::unique_ptr<RoundTrip<Inner>> inner, std::function<Result(Inner)> then)
      : inner_(std::move(inner)), then_(std::move(then)) {}
  http::Client *via() const override { return inner_->via(); }
  std::vector<http::Request> requests() const override { return inner_->requests(); }
  Result finish(std::vector<http::Response> answers) override { return then_(inner_->finish(std::move(answers))); }

 private:
  std::unique_ptr<RoundTrip<Inner>> inner_;
  std::function<Result(Inner)> then_;
};

// Every sender's first requests in one perform_all per client (the worker's
// Clouds share one), then each sender's finish(), in the order given.
template <class Result>
std::vector<Result> complete(const std::vector<RoundTrip<Result> *> &trips) {
  std::vector<std::vector<http::Response>> answers(trips.size());
  std::vector<bool> grouped(trips.size(), false);
  for (std::size_t i = 0; i < trips.size(); ++i) {
    if (grouped[i] || !trips[i]->via()) continue;
    http::Client *via = trips[i]->via();
    std::vector<http::Request> all;
    std::vector<std::pair<std::size_t, std::size_t>> spans;  // trip, how many of `all`
    for (std::size_t j = i; j < trips.size(); ++j) {
      if (grouped[j] || trips[j]->via() != via) continue;
      grouped[j] = true;
      std::vector<http::Request> mine = trips[j]->requests();
      spans.emplace_back(j, mine.size());
      for (auto &r : mine) all.push_back(std::move(r));
    }
    if (all.empty()) continue;
    std::vector<http::Response> got = via->perform_all(all);
    std::size_t at = 0;
    for (const auto &[trip, n] : spans)
      for (std::size_t k = 0; k < n; ++k) {
        if (at < got.size()) {
          answers[trip].push_back(std::move(got[at++]));
        } else {  // sent and unanswered: perhaps applied, never to be sent again as if new
          http::Response none;
          none.failure = http::Failure::Transport;
          none.error = "no response";
          answers[trip].push_back(std::move(none));
        }
      }
  }
  // Every sender finishes, whatever another's finish() throws: what was
  // sent is each one's to read (a Route 53 batch applied must update what
  // its Cloud compares the next batch with). The first exception goes on.
  std::vector<Result> out;
  out.reserve(trips.size());
  std::exception_ptr first;
  for (std::size_t i = 0; i < trips.size(); ++i) {
    try {
      out.push_back(trips[i]->finish(std::move(answers[i])));
    } catch (...) {
      if (!first) first = std::current_exception();
      out.emplace_back();
    }
  }
  if (first) std::rethrow_exception(first);
  return out;
}

// One sender alone: the same steps.
template <class Result>
Result complete(RoundTrip<Result> &trip) {
  return std::move(complete<Result>({&trip}).front());
}

}  // namespace pg_vip
