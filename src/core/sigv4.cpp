#include "sigv4.hpp"

#include <algorithm>
#include <cctype>

#include "crypto.hpp"
#include "error.hpp"
#include "secret.hpp"
#include "text.hpp"

namespace pg_vip::aws {
namespace {

std::string lower(std::string s) {
  for (auto &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Trims and folds runs of white space (including the line breaks of a
// folded header) into one space, as SigV4 requires.
std::string canonical_header_value(const std::string &value) {
  std::string out;
  out.reserve(value.size());  // never longer: grows in place, never frees a copy of a token
  bool space = false;
  for (unsigned char c : value) {
    if (std::isspace(c)) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += static_cast<char>(c);
  }
  return out;
}

constexpr const char *kAlgorithm = "AWS4-HMAC-SHA256";

std::string scope(const SigningParams &p) {
  return amz_day(p.time) + "/" + p.region + "/" + p.service + "/aws4_request";
}

}  // namespace

std::string canonical_uri(const std::string &path, bool normalize) {
  if (path.empty()) return "/";
  if (!normalize) return http::uri_encode(path, true);
  // RFC 3986 dot-segment removal, also dropping empty segments ("//").
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    std::string seg = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (segments.empty()) return "/";
  std::string out;
  for (const auto &s : segments) out += "/" + http::uri_encode(s);
  // As in RFC 3986: a path ending in "/", "/." or "/.." keeps a final slash.
  auto ends_with = [&](const char *tail) {
    std::string t(tail);
    return path.size() >= t.size() && path.compare(path.size() - t.size(), t.size(), t) == 0;
  };
  if (ends_with("/") || ends_with("/.") || ends_with("/..")) out += "/";
  return out;
}

std::string canonical_query(const std::string &query) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t start = 0;
  while (start < query.size()) {
    auto amp = query.find('&', start);
    std::string item = query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    if (!item.empty()) {
      auto eq = item.find('=');
      std::string key = item.substr(0, eq);
      std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
      params.emplace_back(http::uri_encode(http::uri_decode(key)), http::uri_encode(http::uri_decode(value)));
    }
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (std::size_t i = 0; i < params.size(); ++i) out += (i ? "&" : "") + params[i].first + "=" + params[i].second;
  return out;
}

std::string canonical_request(const SignableRequest &request, const SigningParams &params,
                              std::string *signed_headers) {
  // Names lower-cased and sorted (stable: repeated headers keep their order
  // and are joined with commas). The values include the session token: they
  // are kept in Headers (wiped when they die), and the strings they are
  // written into are sized before they are filled, so that no buffer is
  // freed on the way with a token in it.
  std::vector<http::Header> headers;
  headers.reserve(request.headers.size());
  std::size_t size = 0;
  for (const auto &h : request.headers) {
    headers.push_back({lower(h.name), canonical_header_value(h.value)});
    size += headers.back().name.size() + headers.back().value.size() + 2;
  }
  std::stable_sort(headers.begin(), headers.end(), [](const auto &a, const auto &b) { return a.name < b.name; });
  std::string canonical_headers;
  canonical_headers.reserve(size);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].name == headers[i - 1].name) {
      canonical_headers.back() = ',';  // the '\n' of the previous value
      canonical_headers.append(headers[i].value).append("\n");
      continue;
    }
    canonical_headers.append(headers[i].name).append(":").append(headers[i].value).append("\n");
    names.push_back(headers[i].name);
  }
  std::string signed_names = join(names, ";");
  if (signed_headers) *signed_headers = signed_names;
  const http::Header *content_hash = http::find_header(request.headers, "x-amz-content-sha256");
  std::string payload_hash = content_hash ? content_hash->value : crypto::sha256_hex(request.body);
  std::string uri = canonical_uri(request.path, params.normalize_path);
  std::string query = canonical_query(request.query);
  std::string out;
  out.reserve(request.method.size() + uri.size() + query.size() + canonical_headers.size() + signed_names.size() +
              payload_hash.size() + 5);
  out.append(request.method).append("\n").append(uri).append("\n").append(query).append("\n");
  out.append(canonical_headers).append("\n").append(signed_names).append("\n").append(payload_hash);
  wipe(canonical_headers);
  return out;
}

Signature::~Signature() {
  wipe(canonical_request);
  wipe(authorization);
}

std::string string_to_sign(const std::string &canonical, const SigningParams &params) {
  return std::string(kAlgorithm) + "\n" + amz_date(params.time) + "\n" + scope(params) + "\n" +
         crypto::sha256_hex(canonical);
}

Signature sign(SignableRequest &request, const Credentials &credentials, const SigningParams &params) {
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty())
    throw Error("cannot sign a request without credentials");
  if (!http::find_header(request.headers, "host")) throw Error("cannot sign a request without a Host header");
  request.headers.push_back({"X-Amz-Date", amz_date(params.time)});
  if (params.sign_body) request.headers.push_back({"X-Amz-Content-Sha256", crypto::sha256_hex(request.body)});
  bool token = !credentials.session_token.empty();
  if (token && !params.omit_session_token)
    request.headers.push_back({"X-Amz-Security-Token", std::string(credentials.session_token.reveal())});

  Signature sig;
  std::string signed_headers;
  sig.canonical_request = canonical_request(request, params, &signed_headers);
  sig.string_to_sign = string_to_sign(sig.canonical_request, params);

  // The signing key: an HMAC chain; every intermediate key is wiped.
  Secret k_secret("AWS4");
  k_secret.append(credentials.secret_access_key.reveal());
  crypto::Digest k_date = crypto::hmac_sha256(k_secret.reveal(), amz_day(params.time));
  crypto::Digest k_region =
      crypto::hmac_sha256({reinterpret_cast<char *>(k_date.data()), k_date.size()}, params.region);
  crypto::Digest k_service =
      crypto::hmac_sha256({reinterpret_cast<char *>(k_region.data()), k_region.size()}, params.service);
  crypto::Digest k_signing =
      crypto::hmac_sha256({reinterpret_cast<char *>(k_service.data()), k_service.size()}, "aws4_request");
  crypto::Digest signature =
      crypto::hmac_sha256({reinterpret_cast<char *>(k_signing.data()), k_signing.size()}, sig.string_to_sign);
  for (auto *k : {&k_date, &k_region, &k_service, &k_signing}) wipe(k->data(), k->size());

  sig.signature = crypto::hex(signature);
  sig.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" + scope(params) +
                      ", SignedHeaders=" + signed_headers + ", Signature=" + sig.signature;
  if (token && params.omit_session_token)
    request.headers.push_back({"X-Amz-Security-Token", std::string(credentials.session_token.reveal())});
  request.headers.push_back({"Authorization", sig.authorization});
  return sig;
}

}  // namespace pg_vip::aws
