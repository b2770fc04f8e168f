// Starts test/fake_aws/server.py (the project's local AWS endpoint) for one
// test, on loopback ports it picks, and talks to its control API.
#pragma once

#include <fcntl.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <optional>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/http_client.hpp"

namespace fake {

constexpr const char *kAccessKey = "AKIDPGVIPINTEG001";
constexpr const char *kSecret = "pgvip/integration+SECRET/9f3c";

// An environment with the endpoint's static key and no credentials files;
// instance metadata switched off unless `metadata`.
inline std::function<std::optional<std::string>(const char *)> static_key_env(bool metadata) {
  return [metadata](const char *name) -> std::optional<std::string> {
    std::string n = name;
    if (n == "AWS_ACCESS_KEY_ID") return std::string(kAccessKey);
    if (n == "AWS_SECRET_ACCESS_KEY") return std::string(kSecret);
    if (n == "AWS_SHARED_CREDENTIALS_FILE" || n == "AWS_CONFIG_FILE") return std::string("/dev/null");
    if (n == "AWS_EC2_METADATA_DISABLED" && !metadata) return std::string("true");
    return std::nullopt;
  };
}

inline std::string read_file(const std::string &path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class FakeAws {
 public:
  // tls: paths of a certificate and key to serve https with.
  // extra_changes: more --set changes, after this suite's own.
  explicit FakeAws(std::string tls_cert = {}, std::string tls_key = {}, std::vector<std::string> extra_changes = {}) {
    char tmpl[] = "/tmp/pg_vip_fake_XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    std::string server = std::getenv("PG_VIP_FAKE_AWS") ? std::getenv("PG_VIP_FAKE_AWS") : "test/fake_aws/server.py";
    // The shared world (test/fake_aws/world.json) with this suite's static
    // key, and node-b's instance without a role and with its
    // source/destination check on.
    std::vector<std::string> changes = {
        std::string(R"(credentials=[{"access_key": ")") + kAccessKey + R"(", "secret": ")" + kSecret + R"("}])",
        "instances.i-0b000001.role=null", "instances.i-0b000001.source_dest_check=true"};
    changes.insert(changes.end(), extra_changes.begin(), extra_changes.end());
    std::vector<std::string> args = {"/usr/bin/python3", server, "--log", dir_ + "/requests.jsonl"};
    for (const auto &change : changes) args.insert(args.end(), {"--set", change});
    if (!tls_cert.empty()) {
      args.insert(args.end(), {"--tls-cert", tls_cert, "--tls-key", tls_key});
    }
    // Everything the child needs is made before the fork: after it, only
    // async-signal-safe calls (this process may have threads).
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int err = open((dir_ + "/server.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int answer[2];
    if (err < 0 || pipe2(answer, O_CLOEXEC) != 0) throw std::runtime_error("cannot start the fake AWS endpoint");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(answer[1], STDOUT_FILENO);
      dup2(err, STDERR_FILENO);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(err);
    close(answer[1]);
    // One JSON line once every port listens; end of file if it could not start.
    std::string line;
    char c;
    while (read(answer[0], &c, 1) == 1 && c != '\n') line += c;
    close(answer[0]);
    if (line.empty()) {
      if (pid_ > 0) waitpid(pid_, nullptr, 0);
      pid_ = -1;
      throw std::runtime_error("the fake AWS endpoint did not start: " + read_file(dir_ + "/server.err"));
    }
    rapidjson::Document started;
    started.Parse(line.c_str());
    ec2_url_ = started["ec2"].GetString();
    control_url_ = ec2_url_;
    imds_a_ = started["imds"]["i-0a000001"].GetString();
    imds_b_ = started["imds"]["i-0b000001"].GetString();
  }

  ~FakeAws() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    (void) !system(("rm -rf '" + dir_ + "'").c_str());
  }

  const std::string &ec2_url() const { return ec2_url_; }
  const std::string &imds_url_a() const { return imds_a_; }
  const std::string &imds_url_b() const { return imds_b_; }
  const std::string &dir() const { return dir_; }

  // POST /_fake/<what> with a JSON body; ca_file for an https fake.
  void control(const std::string &what, const std::string &json, const std::string &ca_file = {}) {
    pg_vip::http::Client c({ca_file});
    pg_vip::http::Request r;
    r.method = "POST";
    r.url = control_url_ + "/_fake/" + what;
    r.body = json;
    auto resp = c.perform(r);
    if (!resp.ok() || resp.status != 200) throw std::runtime_error("control " + what + " failed: " + resp.error);
  }

  // The request log, as the endpoint recorded it.
  rapidjson::Document log() const {
    rapidjson::Document d;
    std::string lines = read_file(dir_ + "/requests.jsonl");
    std::string json = "[";
    std::istringstream in(lines);
    std::string line;
    bool first = true;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      json += (first ? "" : ",") + line;
      first = false;
    }
    json += "]";
    d.Parse(json.c_str());
    return d;
  }

  // How many logged EC2 requests had this action (and, if given, this status).
  int count(const std::string &action, int status = -1) const {
    auto d = log();
    int n = 0;
    for (auto &e : d.GetArray()) {
      if (std::string(e["service"].GetString()) != "ec2") continue;
      if (action != e["action"].GetString()) continue;
      if (status >= 0 && !(e["status"].IsInt() && e["status"].GetInt() == status)) continue;
      ++n;
    }
    return n;
  }

  int count_imds(const std::string &method, const std::string &path_prefix = "") const {
    auto d = log();
    int n = 0;
    for (auto &e : d.GetArray()) {
      if (std::string(e["service"].GetString()) != "imds") continue;
      if (method != e["method"].GetString()) continue;
      if (std::string(e["path"].GetString()).rfind(path_prefix, 0) != 0) continue;
      ++n;
    }
    return n;
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  std::string ec2_url_, control_url_, imds_a_, imds_b_;
};

}  // namespace fake
