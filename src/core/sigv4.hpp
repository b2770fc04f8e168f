// AWS Signature Version 4, header signing, as a pipeline of testable steps:
// canonical request -> string to sign -> signing key -> signature.
#pragma once

#include <string>
#include <vector>

#include "clock.hpp"
#include "credentials.hpp"
#include "http_types.hpp"
#include "cpp_only.hpp"

namespace pg_vip::aws {

struct SignableRequest {
  std::string method;
  std::string path;                   // as sent, before URI encoding (e.g. "/")
  std::string query;                  // raw query string without '?', may be empty
  std::vector<http::Header> headers;  // must include Host
  std::string body;
};

struct SigningParams {
  std::string region;
  std::string service;
  Clock::time_point time;
  bool normalize_path = true;       // remove dot segments and empty segments
  bool sign_body = false;           // add and sign x-amz-content-sha256
  bool omit_session_token = false;  // add the token after signing, unsigned
};

// The canonical request holds every signed header, X-Amz-Security-Token
// included: wiped, with the rest, when the Signature dies.
struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // hex
  std::string authorization;  // the Authorization header's value
  ~Signature();
};

// Signs `request` in place: adds X-Amz-Date, X-Amz-Content-Sha256 (if asked),
// X-Amz-Security-Token (temporary credentials) and Authorization.
Signature sign(SignableRequest &request, const Credentials &credentials, const SigningParams &params);

// The steps, exposed so that tests can compare each with the suite.
std::string canonical_uri(const std::string &path, bool normalize);
std::string canonical_query(const std::string &query);
std::string canonical_request(const SignableRequest &request, const SigningParams &params, std::string *signed_headers);
std::string string_to_sign(const std::string &canonical_request, const SigningParams &params);

}  // namespace pg_vip::aws
