// Plain HTTP request and response values shared by the signer, the HTTP
// client and the AWS clients.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpp_only.hpp"

namespace pg_vip::http {

// Headers carry tokens (X-Amz-Security-Token, X-aws-ec2-metadata-token) and
// signatures: every Header wipes its strings when it dies, so that neither a
// copy nor a moved-from leftover outlives it unwiped. (Declaring the
// destructor makes copies of what would have been moves: a few short
// strings per request.)
struct Header {
  std::string name;
  std::string value;
  ~Header();
};

// Case-insensitive lookup of the first header called `name`; nullptr if none.
const Header *find_header(const std::vector<Header> &headers, std::string_view name);

// application/x-www-form-urlencoded and SigV4 both use RFC 3986 encoding:
// everything but A-Z a-z 0-9 - _ . ~ is %XX (upper-case hex).
std::string uri_encode(std::string_view s, bool keep_slash = false);
std::string uri_decode(std::string_view s);

// An HTTP Date header in RFC 7231's IMF-fixdate form ("Sun, 06 Nov 1994
// 08:49:37 GMT", the only one a server may send); nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view value);

}  // namespace pg_vip::http
