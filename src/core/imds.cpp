#include "imds.hpp"

#include <rapidjson/document.h>

#include "aws_error.hpp"
#include "text.hpp"

namespace pg_vip::aws {
namespace {

[[noreturn]] void imds_failure(ErrorKind kind, long status, const std::string &code, const std::string &message) {
  AwsError e;
  e.kind = kind;
  e.http_status = status;
  e.code = code;
  e.message = message;
  throw AwsFailure(e);
}

}  // namespace

ImdsClient::ImdsClient(http::Client &http, ImdsOptions options, const Clock &clock)
    : http_(http), options_(std::move(options)), clock_(clock) {}

void ImdsClient::fetch_token() {
  http::Request r;
  r.method = "PUT";
  r.url = options_.endpoint + "/latest/api/token";
  r.headers.push_back({"X-aws-ec2-metadata-token-ttl-seconds", std::to_string(options_.token_ttl.count())});
  r.bypass_proxy = true;
  r.timeout = options_.timeout;
  r.connect_timeout = options_.timeout;
  auto start = clock_.now();
  http::Response resp = http_.perform(r);
  if (!resp.ok())
    imds_failure(ErrorKind::Transport, 0, "IMDSUnreachable",
                 "instance metadata service at " + options_.endpoint + ": " + resp.error);
  if (resp.status != 200)
    imds_failure(resp.status >= 500 ? ErrorKind::ServerError : ErrorKind::Authentication, resp.status,
                 "IMDSTokenRefused",
                 "the instance metadata service refused a session token (HTTP " + std::to_string(resp.status) +
                     "); IMDSv2 may be unreachable from here (hop limit)");
  std::string_view token = trim(resp.body);  // resp wipes its body when it dies
  if (token.empty() || token.size() > 4096)
    imds_failure(ErrorKind::Malformed, resp.status, "IMDSTokenMalformed", "the session token is empty or too long");
  token_ = Secret(token);
  // Renew ahead of the service: a minute, or a tenth of a short TTL.
  auto margin = std::min<std::chrono::seconds>(std::chrono::seconds(60), options_.token_ttl / 10);
  token_expiry_ = start + options_.token_ttl - margin;
  ++tokens_fetched_;
}

http::Response ImdsClient::send(const std::string &path) {
  http::Request r;
  r.url = options_.endpoint + "/latest/" + path;
  r.headers.push_back({"X-aws-ec2-metadata-token", std::string(token_.reveal())});  // wiped with r
  r.bypass_proxy = true;
  r.timeout = options_.timeout;
  r.connect_timeout = options_.timeout;
  return http_.perform(r);
}

std::string ImdsClient::get(const std::string &path) {
  http::Response resp = fetch(path);
  return std::move(resp.body);
}

Secret ImdsClient::get_secret(const std::string &path) {
  http::Response resp = fetch(path);
  return Secret(std::move(resp.body));
}

http::Response ImdsClient::fetch(const std::string &path) {
  if (token_.empty() || clock_.now() >= token_expiry_) fetch_token();
  http::Response resp = send(path);
  if (resp.ok() && resp.status == 401) {  // the token expired or was revoked
    fetch_token();
    resp = send(path);
  }
  if (!resp.ok())
    imds_failure(ErrorKind::Transport, 0, "IMDSUnreachable",
                 "instance metadata service at " + options_.endpoint + ": " + resp.error);
  if (resp.status == 404) imds_failure(ErrorKind::NotFound, 404, "IMDSNotFound", "instance metadata has no " + path);
  if (resp.status != 200)
    imds_failure(resp.status >= 500 ? ErrorKind::ServerError : ErrorKind::Invalid, resp.status, "IMDSError",
                 "instance metadata " + path + " answered HTTP " + std::to_string(resp.status));
  return resp;
}

std::string ImdsClient::instance_id() { return std::string(trim(get("meta-data/instance-id"))); }
std::string ImdsClient::region() { return std::string(trim(get("meta-data/placement/region"))); }

std::string ImdsClient::account_id() {
  std::string text = get("dynamic/instance-identity/document");
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("accountId") || !doc["accountId"].IsString())
    imds_failure(ErrorKind::Malformed, 200, "IMDSMalformed", "the instance identity document has no accountId");
  std::string account = doc["accountId"].GetString();
  if (account.size() != 12 || account.find_first_not_of("0123456789") != std::string::npos)
    imds_failure(ErrorKind::Malformed, 200, "IMDSMalformed",
                 "the instance identity document gave an account id that is not 12 digits");
  return account;
}

std::string ImdsClient::primary_interface_id() {
  std::string mac(trim(get("meta-data/mac")));
  if (mac.empty() || mac.find('/') != std::string::npos)
    imds_failure(ErrorKind::Malformed, 200, "IMDSMalformed", "instance metadata gave an invalid MAC address");
  std::string eni(trim(get("meta-data/network/interfaces/macs/" + mac + "/interface-id")));
  if (eni.rfind("eni-", 0) != 0)
    imds_failure(ErrorKind::Malformed, 200, "IMDSMalformed", "instance metadata gave an invalid interface id");
  return eni;
}

std::vector<std::string> ImdsClient::interface_ids() {
  std::vector<std::string> out;
  std::string listing = get("meta-data/network/interfaces/macs/");
  std::size_t start = 0;
  while (start <= listing.size()) {
    auto end = listing.find('\n', start);
    std::string mac(
        trim(std::string_view(listing).substr(start, end == std::string::npos ? std::string::npos : end - start)));
    if (!mac.empty() && mac.back() == '/') mac.pop_back();
    if (!mac.empty()) {
      if (mac.find('/') != std::string::npos || mac.size() > 64)
        imds_failure(ErrorKind::Malformed, 200, "IMDSMalformed", "instance metadata listed an invalid MAC address");
      std::string eni(trim(get("meta-data/network/interfaces/macs/" + mac + "/interface-id")));
      if (eni.rfind("eni-", 0) != 0)
        imds_failure(ErrorKind::Malformed, 200, "IMDSMalformed", "instance metadata gave an invalid interface id");
      out.push_back(eni);
      if (out.size() > 64) break;  // EC2 allows far fewer; a runaway listing is not believed further
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

Credentials ImdsClient::role_credentials() {
  std::string listing(trim(get("meta-data/iam/security-credentials/")));
  std::string role = listing.substr(0, listing.find('\n'));
  role = std::string(trim(role));
  if (role.empty() || role.find('/') != std::string::npos)
    imds_failure(ErrorKind::NotFound, 404, "IMDSNoRole", "this instance has no IAM role attached");
  Secret body = get_secret("meta-data/iam/security-credentials/" + role);
  return parse_role_credentials(body.reveal(), role);
}

Credentials parse_role_credentials(std::string_view json, const std::string &role) {
  // In place: the strings rapidjson finds stay in `text` (decoded there),
  // and the document holds only pointers into it. Parse() would copy each
  // one into rapidjson's pool, freed unwiped.
  Secret text(json);
  rapidjson::Document doc;
  // An embedded NUL ends the text, as it did for Parse(str, n), whose
  // stream reads a NUL as its end.
  doc.ParseInsitu(text.data());
  auto field = [&](const char *name) -> std::string_view {
    if (doc.HasParseError() || !doc.IsObject()) return {};
    auto it = doc.FindMember(name);
    return (it != doc.MemberEnd() && it->value.IsString())
               ? std::string_view(it->value.GetString(), it->value.GetStringLength())
               : std::string_view();
  };
  if (doc.HasParseError() || !doc.IsObject())
    imds_failure(ErrorKind::Malformed, 200, "IMDSMalformed", "the role credentials of " + role + " are not JSON");
  std::string code(field("Code"));
  if (code != "Success")
    imds_failure(ErrorKind::Authentication, 200, "IMDSCredentials",
                 "the role credentials of " + role + " are not available (Code " + code.substr(0, 64) + ")");
  Credentials c;
  c.access_key_id = std::string(field("AccessKeyId"));
  c.secret_access_key = Secret(field("SecretAccessKey"));
  c.session_token = Secret(field("Token"));
  std::string expiration(field("Expiration"));
  if (c.access_key_id.empty() || c.secret_access_key.empty() || c.session_token.empty() || expiration.empty())
    imds_failure(ErrorKind::Malformed, 200, "IMDSMalformed",
                 "the role credentials of " + role + " lack AccessKeyId, SecretAccessKey, Token or Expiration");
  try {
    c.expiration = parse_iso8601(expiration);
  } catch (const Error &) {
    imds_failure(ErrorKind::Malformed, 200, "IMDSMalformed",
                 "the role credentials of " + role + " have a bad Expiration");
  }
  c.source = "instance role " + role;
  return c;
}

}  // namespace pg_vip::aws
