// complete() (round_trip.hpp): the first requests of several senders that
// share a client leave in one perform_all, each sender gets its own answers
// back in order, and every sender finishes, even when another throws.
#include <gtest/gtest.h>

#include <stdexcept>

#include "core/round_trip.hpp"

namespace pg_vip {
namespace {

// A port nothing listens on: every request fails to connect, at once.
http::Request to_nowhere(const std::string &path) {
  http::Request r;
  r.url = "http://127.0.0.1:9" + path;
  r.timeout = std::chrono::milliseconds(2000);
  return r;
}

TEST(RoundTrip, SendersSharingAClientGetTheirOwnAnswersInOrder) {
  http::Client client(http::ClientOptions{"", 1 << 20, [] { return false; }, std::chrono::milliseconds(10)});
  std::vector<std::size_t> got_a, got_b;
  Prepared<int> a(&client, {to_nowhere("/a1"), to_nowhere("/a2")}, [&](std::vector<http::Response> answers) {
    got_a.push_back(answers.size());
    for (const auto &r : answers) EXPECT_EQ(r.failure, http::Failure::Connect) << r.error;
    return 1;
  });
  Prepared<int> b(&client, {to_nowhere("/b1")}, [&](std::vector<http::Response> answers) {
    got_b.push_back(answers.size());
    return 2;
  });
  // Nothing to send: finish() is given nothing, and does its own work.
  Deferred<int> c([] { return 3; });
  std::vector<int> out = complete<int>({&a, &b, &c});
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(got_a, std::vector<std::size_t>{2});
  EXPECT_EQ(got_b, std::vector<std::size_t>{1});
}

TEST(RoundTrip, EverySenderFinishesWhenAnotherThrows) {
  bool second_finished = false;
  Deferred<int> a([]() -> int { throw std::runtime_error("first"); });
  Deferred<int> b([&] {
    second_finished = true;
    return 2;
  });
  EXPECT_THROW(complete<int>({&a, &b}), std::runtime_error);
  EXPECT_TRUE(second_finished) << "a batch sent is read, whatever the other sender did";
}

}  // namespace
}  // namespace pg_vip
