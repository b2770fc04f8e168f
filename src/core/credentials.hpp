// AWS credentials and where they come from: environment, shared files, or
// the instance role through IMDSv2, in the AWS SDKs' order.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clock.hpp"
#include "secret.hpp"
#include "cpp_only.hpp"

namespace pg_vip::aws {

class ImdsClient;

struct Credentials {
  std::string access_key_id;  // not secret: AWS prints it in CloudTrail and errors
  Secret secret_access_key;
  Secret session_token;                         // empty for long-term keys
  std::optional<Clock::time_point> expiration;  // temporary credentials only
  std::string source;                           // where they came from, for messages: never the values
};

// Reads one variable of the process environment; injectable for tests.
// The answer is a copy: whoever reads a secret with it moves it into a
// Secret (Secret(std::move(*value)) wipes the copy).
using Environment = std::function<std::optional<std::string>(const char *name)>;
Environment process_environment();

// AWS_EC2_METADATA_DISABLED=true (any case): the instance metadata service is not to be used.
bool metadata_disabled(const Environment &env);

// One profile of the shared files, as the AWS CLI reads them: the
// credentials file's [name] section, then the config file's [profile name]
// ([default] in both for the default profile).
struct SharedFileResult {
  std::optional<Credentials> credentials;
  std::vector<std::string> warnings;  // e.g. a credentials file readable by others
};
SharedFileResult read_shared_files(const std::string &credentials_path, const std::string &config_path,
                                   const std::string &profile);

// Parses an INI text into sections; keys lower-cased, values trimmed, comments
// (# and ;) and blank lines skipped. Exposed for tests. Every value is a
// Secret: the text is read in place, and a value that is a key is never
// copied into a plain string.
struct IniSection {
  std::string name;
  std::vector<std::pair<std::string, Secret>> values;
};
std::vector<IniSection> parse_ini(std::string_view text);

struct CredentialOptions {
  std::string profile;  // pg_vip.aws_profile; empty: AWS_PROFILE, then "default"
  // Temporary credentials are refreshed this long before they expire.
  std::chrono::seconds refresh_ahead{300};
};

// What a client signs with: the usual chain (CredentialProvider) or a role
// assumed through STS (AssumeRoleProvider, sts.hpp). The reference get()
// returns stays valid until the next get() or invalidate().
class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  // The current credentials; throws Error when there are none.
  virtual const Credentials &get() = 0;
  // Forgets cached credentials (after an ExpiredToken answer).
  virtual void invalidate() noexcept = 0;
};

class CredentialProvider : public CredentialSource {
 public:
  CredentialProvider(CredentialOptions options, Environment env, ImdsClient *imds, const Clock &clock);

  // The current credentials, from the cache while they are fresh. Throws
  // Error naming every source tried when none has any.
  const Credentials &get() override;
  // Forgets the cached credentials (after an ExpiredToken answer).
  void invalidate() noexcept override { cached_.reset(); }
  // Warnings met while looking (e.g. file permissions), for the log.
  std::vector<std::string> take_warnings();

 private:
  Credentials resolve();

  CredentialOptions options_;
  Environment env_;
  ImdsClient *imds_;
  const Clock &clock_;
  std::optional<Credentials> cached_;
  std::vector<std::string> warnings_;
};

}  // namespace pg_vip::aws
