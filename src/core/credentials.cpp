#include "credentials.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "aws_error.hpp"
#include "imds.hpp"
#include "text.hpp"

namespace pg_vip::aws {
namespace {

[[noreturn]] void credentials_failure(const std::string &message, const std::string &hint = {}) {
  throw Error(
      "cannot load AWS credentials: " + message, {},
      hint.empty() ? "Check the shared credentials files of the operating system user running PostgreSQL." : hint);
}

std::string home_directory(const Environment &env) {
  if (auto home = env("HOME"); home && !home->empty()) return *home;
  if (const passwd *pw = getpwuid(geteuid()); pw && pw->pw_dir) return pw->pw_dir;
  return {};
}

// Reads a whole file into a Secret: read(2) straight into storage that is
// wiped when it grows and when it dies (a stream would keep unwiped copies
// in its own buffers). nullopt if the file does not exist; throws if it
// exists but cannot be read (a permission problem must not look like "no
// file").
std::optional<Secret> read_file(const std::string &path, std::vector<std::string> &warnings) {
  // O_NONBLOCK: a FIFO put there must not hang the worker in open().
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    if (errno == EACCES)
      credentials_failure("cannot read " + path + ": " + std::strerror(errno),
                          "Make the file readable by the operating system user running PostgreSQL.");
    credentials_failure("cannot read " + path + ": " + std::strerror(errno));
  }
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  struct stat st;
  if (fstat(fd, &st) != 0) credentials_failure("cannot read " + path + ": " + std::strerror(errno));
  // /dev/null is how people say "no shared file" (the AWS CLI reads it as empty).
  if (S_ISCHR(st.st_mode)) return Secret();
  if (!S_ISREG(st.st_mode)) credentials_failure(path + " is not a regular file");
  if (st.st_mode & (S_IRGRP | S_IROTH | S_IWGRP | S_IWOTH))
    warnings.push_back(path + " can be read or written by other users; restrict it with chmod 600");
  Secret text;
  text.reserve(static_cast<std::size_t>(st.st_size) + 1);
  if (int err = read_secret(fd, text, SIZE_MAX)) credentials_failure("cannot read " + path + ": " + std::strerror(err));
  return text;
}

const IniSection *find_section(const std::vector<IniSection> &sections, const std::string &name) {
  for (const auto &s : sections)
    if (s.name == name) return &s;
  return nullptr;
}

std::string_view value_of(const IniSection &s, const char *key) {
  for (const auto &kv : s.values)
    if (kv.first == key) return kv.second.reveal();
  return {};
}

// A secret read from the environment: the copy it came in is wiped.
Secret secret_from(std::optional<std::string> value) { return value ? Secret(std::move(*value)) : Secret(); }

}  // namespace

bool metadata_disabled(const Environment &env) {
  std::string v = env("AWS_EC2_METADATA_DISABLED").value_or("");
  for (auto &ch : v) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return v == "true";
}

Environment process_environment() {
  return [](const char *name) -> std::optional<std::string> {
    // Built in place: no temporary string (which would die unwiped) for a
    // secret variable.
    std::optional<std::string> out;
    if (const char *v = std::getenv(name)) out.emplace(v);
    return out;
  };
}

std::vector<IniSection> parse_ini(std::string_view text) {
  // Views into `text` all along: the only copies of a value are the Secrets
  // made of it.
  std::vector<IniSection> sections;
  while (!text.empty()) {
    auto newline = text.find('\n');
    std::string_view t = trim(text.substr(0, newline));
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[') {
      auto close = t.find(']');
      if (close == std::string_view::npos) continue;  // not a section header: ignore as the CLI does
      sections.push_back({std::string(trim(t.substr(1, close - 1))), {}});
      continue;
    }
    auto eq = t.find('=');
    if (eq == std::string_view::npos || sections.empty()) continue;
    std::string key(trim(t.substr(0, eq)));
    for (auto &c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    sections.back().values.emplace_back(std::move(key), Secret(trim(t.substr(eq + 1))));
  }
  return sections;
}

SharedFileResult read_shared_files(const std::string &credentials_path, const std::string &config_path,
                                   const std::string &profile) {
  SharedFileResult result;
  struct Place {
    std::string path;
    std::string section;
  };
  std::vector<Place> places = {{credentials_path, profile},
                               {config_path, profile == "default" ? "default" : "profile " + profile}};
  for (const auto &place : places) {
    if (place.path.empty()) continue;
    auto text = read_file(place.path, result.warnings);
    if (!text) continue;
    auto sections = parse_ini(text->reveal());
    const IniSection *s = find_section(sections, place.section);
    if (!s) continue;
    std::string_view key = value_of(*s, "aws_access_key_id");
    std::string_view secret = value_of(*s, "aws_secret_access_key");
    if (key.empty() && secret.empty()) continue;  // e.g. a config profile holding only a region
    if (key.empty() || secret.empty())
      credentials_failure("profile \"" + profile + "\" in " + place.path + " has " +
                              (key.empty() ? "aws_secret_access_key but no aws_access_key_id"
                                           : "aws_access_key_id but no aws_secret_access_key"),
                          "Give both keys in the profile, or remove it.");
    Credentials c;
    c.access_key_id = std::string(key);
    c.secret_access_key = Secret(secret);
    c.session_token = Secret(value_of(*s, "aws_session_token"));
    c.source = "profile \"" + profile + "\" in " + place.path;
    result.credentials = std::move(c);
    return result;
  }
  return result;
}

CredentialProvider::CredentialProvider(CredentialOptions options, Environment env, ImdsClient *imds, const Clock &clock)
    : options_(std::move(options)), env_(std::move(env)), imds_(imds), clock_(clock) {}

const Credentials &CredentialProvider::get() {
  if (cached_ && cached_->expiration && clock_.now() + options_.refresh_ahead >= *cached_->expiration) cached_.reset();
  if (!cached_) cached_ = resolve();
  return *cached_;
}

std::vector<std::string> CredentialProvider::take_warnings() {
  std::vector<std::string> out;
  out.swap(warnings_);
  return out;
}

Credentials CredentialProvider::resolve() {
  std::vector<std::string> tried;

  // 1. The environment.
  auto key = env_("AWS_ACCESS_KEY_ID");
  Secret secret = secret_from(env_("AWS_SECRET_ACCESS_KEY"));
  if (key && !key->empty() && !secret.empty()) {
    Credentials c;
    c.access_key_id = *key;
    c.secret_access_key = std::move(secret);
    c.session_token = secret_from(env_("AWS_SESSION_TOKEN"));
    c.source = "environment";
    return c;
  }
  if ((key && !key->empty()) != !secret.empty())
    warnings_.push_back(std::string("only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set; ") +
                        "the environment's credentials are ignored");
  tried.push_back("environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not both set)");

  // 2. The shared files.
  std::string profile = options_.profile;
  if (profile.empty()) profile = env_("AWS_PROFILE").value_or("");
  if (profile.empty()) profile = "default";
  std::string home = home_directory(env_);
  std::string credentials_path =
      env_("AWS_SHARED_CREDENTIALS_FILE").value_or(home.empty() ? "" : home + "/.aws/credentials");
  std::string config_path = env_("AWS_CONFIG_FILE").value_or(home.empty() ? "" : home + "/.aws/config");
  SharedFileResult files = read_shared_files(credentials_path, config_path, profile);
  for (auto &w : files.warnings) warnings_.push_back(std::move(w));
  if (files.credentials) return std::move(*files.credentials);
  tried.push_back("profile \"" + profile + "\" in " +
                  (credentials_path.empty() ? "(no credentials file)" : credentials_path) + " and " +
                  (config_path.empty() ? "(no config file)" : config_path));

  // 3. The instance role.
  if (metadata_disabled(env_)) {
    tried.push_back("instance role (AWS_EC2_METADATA_DISABLED=true)");
  } else if (!imds_) {
    tried.push_back("instance role (no instance metadata client)");
  } else {
    try {
      return imds_->role_credentials();
    } catch (const AwsFailure &e) {
      tried.push_back("instance role (" + std::string(e.what()) + ")");
    }
  }

  std::string detail;
  for (std::size_t i = 0; i < tried.size(); ++i) detail += (i ? "; " : "") + tried[i];
  throw Error("no AWS credentials found", "Tried: " + detail + ".",
              "Attach an IAM role to the instance, or give pg_vip a profile in the postgres user's "
              "~/.aws/credentials (pg_vip.aws_profile).");
}

}  // namespace pg_vip::aws
