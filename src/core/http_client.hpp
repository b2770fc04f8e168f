// HTTP over libcurl: one multi handle whose connection cache keeps
// connections to each endpoint alive between calls (the failover path must
// not pay DNS, TCP and TLS again), requests in parallel, every transfer
// bounded in time and size, and abortable from outside.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http_types.hpp"
#include "cpp_only.hpp"

namespace pg_vip::http {

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<Header> headers;
  std::string body;
  std::chrono::milliseconds timeout{2000};          // whole transfer
  std::chrono::milliseconds connect_timeout{1000};  // TCP + TLS handshake
  // Never through a proxy, whatever http_proxy, HTTPS_PROXY or ALL_PROXY
  // say: set for the instance metadata service, whose answers are the
  // role's credentials in plain HTTP (the AWS SDKs bypass proxies for it
  // too). Other requests use the proxy the environment names, as the SDKs
  // do for service endpoints.
  bool bypass_proxy = false;
};

enum class Failure {
  None = 0,
  Timeout,    // connect or transfer timeout
  Connect,    // refused, unreachable, DNS
  Tls,        // certificate or handshake
  TooLarge,   // body over the cap
  Cancelled,  // the cancel hook said stop
  Transport,  // connection dropped, malformed HTTP, anything else
};
const char *to_string(Failure f) noexcept;

// A body may be key material (the instance role's credentials, an IMDS
// session token): every Response wipes its body when it dies, moved-from
// ones included.
struct Response {
  long status = 0;  // 0 when the transfer failed
  std::string body;
  Failure failure = Failure::None;
  std::string error;  // curl's explanation when failure != None
  // The answer's Date header as sent (RFC 7231 IMF-fixdate), or empty: the
  // server's clock, which the preflight compares with this host's.
  std::string date;
  double elapsed_ms = 0;
  bool ok() const noexcept { return failure == Failure::None; }

  Response() = default;
  Response(const Response &) = default;
  Response(Response &&) noexcept = default;
  Response &operator=(const Response &) = default;
  Response &operator=(Response &&) noexcept = default;
  ~Response();
};

struct ClientOptions {
  std::string ca_file;                       // empty: the system's store
  std::size_t max_response_bytes = 4 << 20;  // EC2 answers are small; anything bigger is wrong
  // Polled while transfers run; true aborts them all (shutdown, postmaster death).
  std::function<bool()> cancelled{};  // {}: ClientOptions{ca} leaves it empty, and says so
  std::chrono::milliseconds poll_interval{10};
};

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client &) = delete;
  Client &operator=(const Client &) = delete;

  Response perform(const Request &request);
  // All at once, each on its own connection; answers in the order asked.
  std::vector<Response> perform_all(const std::vector<Request> &requests);

  // How many connections libcurl opened so far: lets tests and the benchmark
  // see that connections are reused.
  long connections_opened() const noexcept { return connections_opened_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ClientOptions options_;
  long connections_opened_ = 0;
};

// Once per process, after fork (never in the postmaster). Gives libcurl an
// allocator whose free() wipes each block first: its buffers hold the
// requests' token headers and the answers' bodies.
void global_init();

}  // namespace pg_vip::http
