#include "sts.hpp"

#include <cctype>
#include <cstring>
#include <vector>

#include "error.hpp"

#include "aws_xml.hpp"
#include "ec2_xml.hpp"

namespace pg_vip::aws {
namespace {

constexpr const char *kStsVersion = "2011-06-15";

std::string shown(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  return s.size() > 80 ? out + "..." : out;
}

// IAM's characters for names: [\w+=,.@-], plus `extra`.
bool iam_chars(std::string_view s, const char *extra = "") {
  for (unsigned char c : s)
    if (!std::isalnum(c) && !std::strchr("_+=,.@-", c) && !std::strchr(extra, c)) return false;
  return true;
}

// Takes the text of the one <name> element out of `masked` into a Secret,
// and writes `mark` over it where it was: libxml2, which keeps copies of
// what it reads in blocks it frees unwiped, then parses a body without the
// secret, and confirms the element held exactly the marks. STS writes keys
// and tokens in base64, so their text is refused unless it is base64 (and
// white space, trimmed): never an entity or markup to decode.
Secret take(Secret &masked, const std::string &name, char mark, std::size_t &length) {
  std::string_view text = masked.reveal();
  const std::string open = "<" + name + ">";
  const std::string close = "</" + name + ">";
  auto start = text.find(open);
  if (start == std::string_view::npos) xml::malformed("the AssumeRole response has no <" + name + ">");
  if (text.find(open, start + 1) != std::string_view::npos)
    xml::malformed("the AssumeRole response has more than one <" + name + ">");
  start += open.size();
  auto end = text.find(close, start);
  if (end == std::string_view::npos) xml::malformed("the AssumeRole response's <" + name + "> is not closed");
  std::size_t first = start, last = end;
  while (first < last && std::isspace(static_cast<unsigned char>(text[first]))) ++first;
  while (last > first && std::isspace(static_cast<unsigned char>(text[last - 1]))) --last;
  for (std::size_t i = first; i < last; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (!std::isalnum(c) && c != '+' && c != '/' && c != '=')
      xml::malformed("the AssumeRole response's <" + name + "> is not base64");
  }
  Secret out(text.substr(first, last - first));
  std::memset(masked.data() + start, mark, end - start);
  length = end - start;
  return out;
}

}  // namespace

void check_role_arn(std::string_view arn) {
  auto refuse = [&](const char *why) {
    throw ConfigError("invalid role ARN \"" + shown(arn) + "\"", why,
                      "Give the role's ARN as IAM shows it, such as arn:aws:iam::123456789012:role/pg_vip.");
  };
  constexpr std::string_view kArn = "arn:aws";
  if (arn.size() > 2048) refuse("An ARN has at most 2048 characters.");
  if (arn.rfind(kArn, 0) != 0) refuse("A role ARN begins with arn:aws (or arn:aws-cn, arn:aws-us-gov).");
  std::size_t at = kArn.size();
  while (at < arn.size() && (arn[at] == '-' || std::islower(static_cast<unsigned char>(arn[at])))) ++at;
  std::string_view rest = arn.substr(at);
  constexpr std::string_view kIam = ":iam::";
  if (rest.rfind(kIam, 0) != 0)
    refuse("A role ARN names the iam service, with no region: arn:aws:iam::ACCOUNT:role/NAME.");
  rest.remove_prefix(kIam.size());
  if (rest.size() < 13 || rest[12] != ':') refuse("The account is 12 digits.");
  for (std::size_t i = 0; i < 12; ++i)
    if (!std::isdigit(static_cast<unsigned char>(rest[i]))) refuse("The account is 12 digits.");
  rest.remove_prefix(13);
  if (rest.rfind("role/", 0) != 0) refuse("The resource is role/ then the role's path and name.");
  rest.remove_prefix(5);
  // path/name: segments of IAM's characters, the last one (the name) 1 to 64.
  std::size_t slash = rest.rfind('/');
  std::string_view name = slash == std::string_view::npos ? rest : rest.substr(slash + 1);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(0, slash);
  if (name.empty() || name.size() > 64 || !iam_chars(name))
    refuse("The role name is 1 to 64 letters, digits and _+=,.@- characters.");
  const bool has_path = slash != std::string_view::npos;
  if (path.size() > 512 || !iam_chars(path, "/") || (has_path && path.empty()) ||
      path.find("//") != std::string_view::npos || (has_path && (path.front() == '/' || path.back() == '/')))
    refuse("The role's path is segments of letters, digits and _+=,.@- separated by '/'.");
}

void check_role_session_name(std::string_view name) {
  if (name.size() < 2 || name.size() > 64 || !iam_chars(name))
    throw ConfigError("invalid role session name \"" + shown(name) + "\"",
                      "A role session name is 2 to 64 letters, digits and _+=,.@- characters.");
}

void check_external_id(std::string_view id) {
  if (id.empty()) return;
  // The id itself is not shown: the role's owner may treat it as a secret.
  if (id.size() < 2 || id.size() > 1224 || !iam_chars(id, ":/"))
    throw ConfigError("invalid external id for AssumeRole",
                      "An external id is 2 to 1224 letters, digits and _+=,.@:/- characters.");
}

void check_duration(std::chrono::seconds d) {
  if (d.count() < 900 || d.count() > 43200)
    throw ConfigError("invalid AssumeRole duration " + std::to_string(d.count()) + " s",
                      "STS gives role sessions of 900 seconds to 12 hours (43200 s); one hour is the most every role "
                      "allows.");
}

std::string assume_role_form(const AssumeRoleRequest &r) {
  check_role_arn(r.role_arn);
  check_role_session_name(r.session_name);
  check_external_id(r.external_id);
  check_duration(r.duration);
  std::string body =
      std::string("Action=AssumeRole&Version=") + kStsVersion + "&RoleArn=" + http::uri_encode(r.role_arn) +
      "&RoleSessionName=" + http::uri_encode(r.session_name) + "&DurationSeconds=" + std::to_string(r.duration.count());
  if (!r.external_id.empty()) body += "&ExternalId=" + http::uri_encode(r.external_id);
  return body;
}

Credentials parse_assume_role(std::string_view body, const std::string &role_arn) {
  xml::guard(body);
  // STS answers in ASCII; anything else (UTF-16, EBCDIC) is not STS.
  for (unsigned char c : body)
    if (c >= 0x7f || (c < 0x20 && c != '\n' && c != '\r' && c != '\t'))
      xml::malformed("the AssumeRole response has a byte outside printable ASCII");
  Secret masked(body);
  std::size_t secret_length = 0, token_length = 0;
  Credentials c;
  c.secret_access_key = take(masked, "SecretAccessKey", '~', secret_length);
  c.session_token = take(masked, "SessionToken", '^', token_length);
  xml::Doc doc = xml::read(std::string(masked.reveal()), kStsNamespace);
  const xmlNode *credentials =
      xml::child(xml::child(xml::root_named(doc, "AssumeRoleResponse"), "AssumeRoleResult"), "Credentials");
  if (!credentials) xml::malformed("the AssumeRole response has no AssumeRoleResult/Credentials");
  // The secrets taken were these elements' whole text, and nothing else.
  if (xml::child_text(credentials, "SecretAccessKey") != std::string(secret_length, '~') ||
      xml::child_text(credentials, "SessionToken") != std::string(token_length, '^') || c.secret_access_key.empty() ||
      c.session_token.empty())
    xml::malformed("the AssumeRole response's SecretAccessKey or SessionToken is not where STS puts it");
  c.access_key_id = xml::required_text(credentials, "AccessKeyId");
  const std::string expiration = xml::required_text(credentials, "Expiration");
  try {
    c.expiration = parse_iso8601(expiration);
  } catch (const Error &) {
    xml::malformed("the AssumeRole response's Expiration \"" + shown(expiration) + "\" is not an ISO 8601 time");
  }
  c.source = "assume-role " + role_arn;
  return c;
}

std::string resolve_sts_endpoint(const std::string &setting, const Environment &env, const std::string &region) {
  return resolve_endpoint(setting, env, "AWS_ENDPOINT_URL_STS", [&] {
    if (region.empty())
      throw Error("no AWS region configured", "pg_vip needs a region to find the STS endpoint.",
                  "Set pg_vip.region, or AWS_REGION in the server's environment.");
    return "https://sts." + region + (region.rfind("cn-", 0) == 0 ? ".amazonaws.com.cn" : ".amazonaws.com");
  });
}

AssumeRoleProvider::AssumeRoleProvider(http::Client &http, CredentialSource &base, AssumeRoleOptions options,
                                       const Clock &clock)
    : AssumeRoleProvider(transport_of(http), base, std::move(options), clock) {}

AssumeRoleProvider::AssumeRoleProvider(Transport transport, CredentialSource &base, AssumeRoleOptions options,
                                       const Clock &clock)
    : transport_(std::move(transport)), base_(base), options_(std::move(options)), clock_(clock),
      rng_(std::random_device{}()) {
  body_ = assume_role_form(options_.request);
  endpoint_ = parse_endpoint("sts_endpoint", options_.endpoint);
  options_.endpoint = endpoint_.url;
  if (options_.region.empty())
    throw Error("no AWS region configured", "AssumeRole requests are signed for the region of their STS endpoint.",
                "Set pg_vip.region, or AWS_REGION in the server's environment.");
}

http::Request AssumeRoleProvider::build() {
  SignableRequest s;
  s.method = "POST";
  s.path = "/";
  s.body = body_;
  s.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  const Credentials &signer = base_.get();
  signed_with_ = signer.source;
  return signed_request(endpoint_, std::move(s), signer,
                        {options_.region, "sts", clock_.now(), options_.timeout, options_.connect_timeout});
}

Credentials AssumeRoleProvider::assume() {
  using namespace std::chrono;
  const RetryPolicy &policy = options_.retry;
  const auto started = steady_clock::now();
  const std::string &arn = options_.request.role_arn;
  // What the metrics see of an attempt: its action and outcome, never the
  // answer's body (it holds the role's secret).
  const Ec2Call call{"AssumeRole", {}};
  auto told = [&](const std::optional<AwsError> &error, const http::Response *answer, int attempt) {
    if (!policy.on_attempt) return;
    Ec2Result r;
    r.error = error;
    if (answer) {
      r.date = answer->date;
      r.elapsed_ms = answer->elapsed_ms;
    }
    r.attempts = attempt;
    policy.on_attempt(call, r);
  };
  for (int attempt = 1;; ++attempt) {
    http::Request request;
    try {
      request = build();
    } catch (const Error &e) {
      // The node's own credentials could not be had: nothing was sent.
      AwsError none{ErrorKind::Authentication, 0, "NoCredentials", e.what(), ""};
      throw AssumeRoleFailure("cannot assume role " + arn + ": no credentials to ask with", e.detail(), e.hint(), none,
                              "");
    }
    std::vector<http::Response> answers = transport_({std::move(request)});
    AwsError error;
    if (answers.empty()) {
      error = AwsError{ErrorKind::Transport, 0, "TransportError", "no response", ""};
    } else if (!answers.front().ok()) {
      error = transport_failure(answers.front());
    } else if (answers.front().status < 200 || answers.front().status >= 300) {
      error = parse_error(answers.front().body, answers.front().status);
    } else {
      try {
        Credentials c = parse_assume_role(answers.front().body, arn);
        told(std::nullopt, &answers.front(), attempt);
        return c;
      } catch (const AwsFailure &f) {
        error = f.error();
        error.http_status = answers.front().status;
      }
    }
    told(error, answers.empty() ? nullptr : &answers.front(), attempt);
    const milliseconds wait = policy.backoff.delay(attempt - 1, rng_);
    bool again = error.retryable() && attempt < policy.max_attempts &&
                 duration_cast<milliseconds>(steady_clock::now() - started) + wait < policy.deadline &&
                 !(policy.cancelled && policy.cancelled());
    if (!again)
      throw AssumeRoleFailure("cannot assume role " + arn + ": " + error.describe(),
                              "The credentials signing AssumeRole came from " + signed_with_ + ".",
                              error.kind == ErrorKind::Authorization
                                  ? "Allow sts:AssumeRole on the role to those credentials, and trust them in the "
                                    "role's trust policy (with the external id, when one is set)."
                                  : error.hint(),
                              error, signed_with_);
    if (error.kind == ErrorKind::ExpiredToken) base_.invalidate();
    if (policy.log)
      policy.log("retrying AssumeRole " + arn + " in " + std::to_string(wait.count()) + " ms after " +
                 error.describe() + " (attempt " + std::to_string(attempt) + ")");
    pause(policy, wait);
  }
}

const Credentials &AssumeRoleProvider::get() {
  const Clock::time_point now = clock_.now();
  if (cached_ && now < refresh_at_) return *cached_;
  const bool usable = cached_ && now < *cached_->expiration;
  if (usable && failed_at_ && now < *failed_at_ + options_.retry_after_failure) return *cached_;
  try {
    Credentials fresh = assume();
    // Renewed refresh_ahead before the end, or half way for a short life.
    const Clock::time_point::duration life = *fresh.expiration - now;
    if (life <= Clock::time_point::duration::zero())
      throw Error("AssumeRole gave credentials for " + options_.request.role_arn + " that expire at " +
                      iso8601(*fresh.expiration) + ", before this host's time " + iso8601(now),
                  {}, "Synchronise the server's clock (chrony, NTP).");
    const auto ahead = std::min<Clock::time_point::duration>(options_.refresh_ahead, life / 2);
    refresh_at_ = *fresh.expiration - ahead;
    cached_ = std::move(fresh);
    failed_at_.reset();
    last_failure_.clear();
    return *cached_;
  } catch (const Error &e) {
    if (!usable) throw;
    failed_at_ = now;
    last_failure_ = e.what();
    return *cached_;
  }
}

void AssumeRoleProvider::invalidate() noexcept {
  cached_.reset();
  failed_at_.reset();
}

std::string assume_role_problem(const AssumeRoleFailure &failure, const std::string &role_arn) {
  const AwsError &e = failure.error();
  if (e.kind == ErrorKind::Authorization)
    // STS words a missing role, an untrusted caller, a missing sts:AssumeRole
    // and a wrong external id alike (AccessDenied): each is named.
    return "the role " + role_arn +
           " must exist and trust this node's role or account, with pg_vip.role_external_id if it asks one";
  if (e.code == "NoCredentials") return "no credentials of this node's own to ask STS with: " + e.message;
  return "STS did not give the role's credentials: " + e.message;
}

TargetCredentials::TargetCredentials(Transport transport, CredentialSource &own, Context context, const Clock &clock)
    : transport_(std::move(transport)), own_(own), context_(std::move(context)), clock_(clock) {}

void TargetCredentials::configure(const RoleSettings &settings) {
  if (settings == settings_ && (role_ != nullptr) == !settings.arn.empty()) return;
  if (settings.arn.empty()) {
    role_.reset();
    settings_ = settings;
    return;
  }
  AssumeRoleOptions o;
  o.request.role_arn = settings.arn;
  o.request.external_id = settings.external_id;
  o.request.session_name = settings.session_name.empty() ? context_.default_session_name : settings.session_name;
  o.region = context_.region;
  o.endpoint = resolve_sts_endpoint(settings.endpoint, context_.env, context_.region);
  o.timeout = context_.timeout;
  o.connect_timeout = std::min(context_.timeout, std::chrono::milliseconds(1000));
  o.retry = context_.retry;
  role_ = std::make_unique<AssumeRoleProvider>(transport_, own_, std::move(o), clock_);
  settings_ = settings;
}

const Credentials &TargetCredentials::get() { return role_ ? role_->get() : own_.get(); }

void TargetCredentials::invalidate() noexcept {
  // An ExpiredToken on a target's request is the role's session's.
  if (role_) role_->invalidate();
  else own_.invalidate();
}

std::optional<AwsError> ready_target_credentials(TargetCredentials &credentials, const RoleSettings &settings) {
  try {
    credentials.configure(settings);
    if (!credentials.uses_role()) return std::nullopt;
    (void) credentials.get();
    return std::nullopt;
  } catch (const AssumeRoleFailure &f) {
    AwsError e = f.error();
    // The request id and STS's long message are in the log line of the
    // retry; a target's last_error is short, and says what to fix.
    e.message = assume_role_problem(f, settings.arn);
    e.request_id.clear();
    return e;
  } catch (const Error &f) {
    return AwsError{ErrorKind::Invalid, 0, "InvalidRoleSettings", f.what(), ""};
  }
}

}  // namespace pg_vip::aws
