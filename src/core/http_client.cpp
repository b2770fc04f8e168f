#include "http_client.hpp"

#include <curl/curl.h>
#include <curl/header.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "error.hpp"
#include "secret.hpp"

namespace pg_vip::http {
namespace {

// libcurl's threaded resolver starts a thread per lookup. Threads inherit
// the signal mask, so blocking every signal around libcurl calls keeps
// PostgreSQL's signals (SIGTERM, SIGHUP, SIGUSR1...) on the main thread.
class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &saved_);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

 private:
  sigset_t saved_;
};

struct Transfer {
  CURL *easy = nullptr;
  curl_slist *headers = nullptr;
  Response response;
  std::size_t cap = 0;
  bool too_large = false;
  char error[CURL_ERROR_SIZE] = {};
};

size_t on_body(char *data, size_t size, size_t n, void *user) noexcept {
  auto *t = static_cast<Transfer *>(user);
  std::size_t bytes = size * n;
  std::string &body = t->response.body;
  if (body.size() + bytes > t->cap) {
    t->too_large = true;
    return 0;  // makes libcurl fail the transfer with CURLE_WRITE_ERROR
  }
  try {
    if (body.size() + bytes > body.capacity()) {
      // Grown by hand: append() would free the old buffer unwiped, and the
      // body may be the role's credentials.
      std::string grown;
      grown.reserve(std::max(body.size() + bytes, 2 * body.capacity()));
      grown.append(body);
      wipe(body);
      body.swap(grown);
    }
    body.append(data, bytes);
  } catch (...) {
    return 0;  // no exception through libcurl's C frames: the transfer fails instead
  }
  return bytes;
}

// Header lists hold "Authorization: ..." and token headers: wiped before
// libcurl frees them.
void free_headers(curl_slist *list) noexcept {
  for (curl_slist *item = list; item; item = item->next)
    if (item->data) wipe(item->data, std::strlen(item->data));
  curl_slist_free_all(list);
}

// libcurl's allocator: malloc's, with every block wiped before it is freed
// or left behind by a realloc that moves it. libcurl's receive buffer holds
// the answers (the role's credentials), its request buffer the headers as
// sent; nothing else would wipe them. malloc_usable_size: a block's whole
// size, which libcurl does not pass to free.
void wiping_free(void *p) {
  if (!p) return;
  wipe(p, malloc_usable_size(p));
  std::free(p);
}

void *wiping_realloc(void *p, size_t size) {
  if (!p) return std::malloc(size);
  std::size_t have = malloc_usable_size(p);
  if (size <= have) return p;  // fits where it is: nothing left behind
  void *q = std::malloc(size);
  if (!q) return nullptr;  // as realloc: the old block stays valid
  std::memcpy(q, p, have);
  wiping_free(p);
  return q;
}

char *wiping_strdup(const char *s) {
  std::size_t n = std::strlen(s) + 1;
  auto *p = static_cast<char *>(std::malloc(n));
  if (p) std::memcpy(p, s, n);
  return p;
}

void *plain_malloc(size_t size) { return std::malloc(size); }
void *plain_calloc(size_t n, size_t size) { return std::calloc(n, size); }

Failure classify(CURLcode code, bool too_large) {
  if (too_large) return Failure::TooLarge;
  switch (code) {
    case CURLE_OK: return Failure::None;
    case CURLE_OPERATION_TIMEDOUT: return Failure::Timeout;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return Failure::Connect;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CIPHER: return Failure::Tls;
    case CURLE_ABORTED_BY_CALLBACK: return Failure::Cancelled;
    case CURLE_FILESIZE_EXCEEDED: return Failure::TooLarge;
    default: return Failure::Transport;
  }
}

}  // namespace

const char *to_string(Failure f) noexcept {
  switch (f) {
    case Failure::None: return "none";
    case Failure::Timeout: return "timeout";
    case Failure::Connect: return "connection failed";
    case Failure::Tls: return "TLS failure";
    case Failure::TooLarge: return "response too large";
    case Failure::Cancelled: return "cancelled";
    case Failure::Transport: return "transport failure";
  }
  return "unknown";
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    SignalsBlocked blocked;
    if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, plain_malloc, wiping_free, wiping_realloc, wiping_strdup,
                             plain_calloc) != CURLE_OK)
      throw Error("could not initialise libcurl");
  });
}

Response::~Response() { wipe(body); }

struct Client::Impl {
  CURLM *multi = nullptr;
  std::vector<CURL *> idle;  // easy handles kept for reuse
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>()), options_(std::move(options)) {
  global_init();
  impl_->multi = curl_multi_init();
  if (!impl_->multi) throw Error("could not create a libcurl multi handle");
  // Room for one warm connection per route table and then some.
  curl_multi_setopt(impl_->multi, CURLMOPT_MAXCONNECTS, 256L);
}

Client::~Client() {
  for (CURL *e : impl_->idle) curl_easy_cleanup(e);
  if (impl_->multi) curl_multi_cleanup(impl_->multi);
}

Response Client::perform(const Request &request) { return std::move(perform_all({request}).front()); }

std::vector<Response> Client::perform_all(const std::vector<Request> &requests) {
  std::vector<Transfer> transfers(requests.size());
  auto release = [&] {
    for (auto &t : transfers) {
      if (t.easy) {
        curl_multi_remove_handle(impl_->multi, t.easy);
        curl_easy_reset(t.easy);
        impl_->idle.push_back(t.easy);
        t.easy = nullptr;
      }
      if (t.headers) free_headers(t.headers);
      t.headers = nullptr;
    }
  };

  try {
    SignalsBlocked blocked;
    for (std::size_t i = 0; i < requests.size(); ++i) {
      const Request &r = requests[i];
      Transfer &t = transfers[i];
      t.cap = options_.max_response_bytes;
      if (!impl_->idle.empty()) {
        t.easy = impl_->idle.back();
        impl_->idle.pop_back();
      } else {
        t.easy = curl_easy_init();
        if (!t.easy) throw Error("could not create a libcurl handle");
      }
      CURL *e = t.easy;
      curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
      curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);  // PostgreSQL owns SIGALRM
      curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
      curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
      curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
      curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.connect_timeout.count()));
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
      if (!options_.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, options_.ca_file.c_str());
      curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
      curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
      curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
      curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error);
      curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options_.max_response_bytes));
      // Proxies come from the environment (HTTPS_PROXY, NO_PROXY), as libcurl
      // reads them, except for a request that must go direct (IMDS): "*"
      // matches every host, whatever the endpoint is called.
      if (r.bypass_proxy) curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
      if (r.method == "POST") {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.c_str());
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      } else if (r.method != "GET") {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
        if (!r.body.empty()) {
          curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.c_str());
          curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
        }
      }
      // No "Expect: 100-continue" round trip; no Accept header noise.
      t.headers = curl_slist_append(t.headers, "Expect:");
      for (const auto &h : r.headers) {
        // One buffer, sized once, wiped after libcurl copied it.
        std::string line;
        line.reserve(h.name.size() + 2 + h.value.size());
        line.append(h.name).append(": ").append(h.value);
        curl_slist *next = curl_slist_append(t.headers, line.c_str());
        wipe(line);
        if (!next) throw std::bad_alloc();
        t.headers = next;
      }
      curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);
      curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
      if (curl_multi_add_handle(impl_->multi, e) != CURLM_OK) throw Error("could not start an HTTP transfer");
    }
  } catch (...) {
    release();
    throw;
  }

  int running = 0;
  bool cancelled = false;
  do {
    {
      SignalsBlocked blocked;
      if (curl_multi_perform(impl_->multi, &running) != CURLM_OK) break;
    }
    if (running == 0) break;
    if (options_.cancelled && options_.cancelled()) {
      cancelled = true;
      break;
    }
    curl_multi_poll(impl_->multi, nullptr, 0, static_cast<int>(options_.poll_interval.count()), nullptr);
  } while (true);

  int queued = 0;
  while (CURLMsg *msg = curl_multi_info_read(impl_->multi, &queued)) {
    if (msg->msg != CURLMSG_DONE) continue;
    Transfer *t = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
    if (!t) continue;
    t->response.failure = classify(msg->data.result, t->too_large);
    if (t->response.failure != Failure::None) {
      t->response.error = t->too_large ? "the response exceeded " + std::to_string(t->cap) + " bytes"
                                       : (t->error[0] ? t->error : curl_easy_strerror(msg->data.result));
      wipe(t->response.body);
    } else {
      curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &t->response.status);
      // The last response's (-1), not an interim 1xx's; bounded: a header is not a body.
      curl_header *date = nullptr;
      if (curl_easy_header(msg->easy_handle, "Date", 0, CURLH_HEADER, -1, &date) == CURLHE_OK && date && date->value)
        t->response.date.assign(date->value, strnlen(date->value, 64));
    }
    long opened = 0;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_NUM_CONNECTS, &opened);
    connections_opened_ += opened;
    double total = 0;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_TOTAL_TIME, &total);
    t->response.elapsed_ms = total * 1000.0;
    t->error[0] = '\0';
    t->response.error.shrink_to_fit();
    t->cap = 0;  // marks it finished
  }
  std::vector<Response> out;
  out.reserve(transfers.size());
  for (auto &t : transfers) {
    if (t.cap != 0) {  // never finished: cancelled, or the multi loop failed
      t.response = Response{};
      t.response.failure = Failure::Cancelled;
      t.response.error = cancelled ? "the request was cancelled" : "the HTTP transfer was abandoned";
    }
    out.push_back(std::move(t.response));
  }
  release();
  return out;
}

}  // namespace pg_vip::http
