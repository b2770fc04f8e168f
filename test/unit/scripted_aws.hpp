// Stand-ins for the network and the credential chain, for the unit tests of
// the Route 53 and STS clients: a transport that answers from a script and
// keeps every request it was given, and a credential source that counts.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "core/aws_service.hpp"
#include "core/credentials.hpp"
#include "core/http_client.hpp"
#include "core/sigv4.hpp"

namespace scripted {

inline pg_vip::http::Response answer(long status, std::string body) {
  pg_vip::http::Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

inline pg_vip::http::Response failure(pg_vip::http::Failure f, std::string why = "scripted failure") {
  pg_vip::http::Response r;
  r.failure = f;
  r.error = std::move(why);
  return r;
}

// Answers each request with the next scripted response (a transport
// failure once the script runs out), and keeps the requests.
struct Transport {
  std::deque<pg_vip::http::Response> script;
  std::vector<pg_vip::http::Request> sent;
  pg_vip::aws::Transport function() {
    return [this](const std::vector<pg_vip::http::Request> &requests) {
      std::vector<pg_vip::http::Response> out;
      for (const auto &r : requests) {
        sent.push_back(r);
        if (script.empty()) {
          out.push_back(failure(pg_vip::http::Failure::Connect, "script ran out"));
        } else {
          out.push_back(std::move(script.front()));
          script.pop_front();
        }
      }
      return out;
    };
  }
};

// Fixed credentials; counts get() and invalidate(); throws when told to.
struct Credentials : pg_vip::aws::CredentialSource {
  pg_vip::aws::Credentials value;
  int gets = 0;
  int invalidations = 0;
  bool fail = false;
  explicit Credentials(std::string token = "TOKEN") {
    value.access_key_id = "AKIDEXAMPLE";
    value.secret_access_key = pg_vip::Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    value.session_token = pg_vip::Secret(token);
    value.source = "scripted";
  }
  const pg_vip::aws::Credentials &get() override {
    ++gets;
    if (fail) throw pg_vip::Error("no AWS credentials found", "Tried: nothing.");
    return value;
  }
  void invalidate() noexcept override { ++invalidations; }
};

// The canonical request SigV4 signed `r` with: the request rebuilt without
// its Authorization header.
inline std::string canonical_request_of(const pg_vip::http::Request &r, const std::string &path,
                                        const std::string &query) {
  pg_vip::aws::SignableRequest s;
  s.method = r.method;
  s.path = path;
  s.query = query;
  s.body = r.body;
  for (const auto &h : r.headers)
    if (h.name != "Authorization") s.headers.push_back(h);
  pg_vip::aws::SigningParams p;
  return pg_vip::aws::canonical_request(s, p, nullptr);
}

// A retry policy that never sleeps and records the waits.
inline pg_vip::aws::RetryPolicy no_sleep(std::vector<long> *waits = nullptr, int attempts = 5) {
  pg_vip::aws::RetryPolicy p;
  p.max_attempts = attempts;
  p.sleep = [waits](std::chrono::milliseconds ms) {
    if (waits) waits->push_back(static_cast<long>(ms.count()));
  };
  return p;
}

}  // namespace scripted
