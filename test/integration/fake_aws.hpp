// Starts test/fake_aws/server.py (the project's local AWS endpoint) for one
// test, on loopback ports it picks, and talks to its control API.
#pragma once

#include <rapidjson/document.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/http_client.hpp"

namespace fake {

constexpr const char *kAccessKey = "AKIDPGVIPINTEG001";
constexpr const char *kSecret = "pgvip/integration+SECRET/9f3c";

inline std::string read_file(const std::string &path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class FakeAws {
 public:
  // tls: paths of a certificate and key to serve https with.
  explicit FakeAws(std::string tls_cert = {}, std::string tls_key = {}) {
    char tmpl[] = "/tmp/pg_vip_fake_XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    std::ofstream(dir_ + "/world.json") << R"({
      "region": "us-east-1",
      "credentials": [{"access_key": ")" << kAccessKey << R"(", "secret": ")" << kSecret << R"("}],
      "instances": [
        {"id": "i-0a000001", "eni": "eni-0a00000a", "mac": "0e:00:00:00:00:0a", "role": "pg-vip-role"},
        {"id": "i-0b000001", "eni": "eni-0b00000b", "mac": "0e:00:00:00:00:0b", "source_dest_check": true}],
      "route_tables": [
        {"id": "rtb-0a000001", "routes": [{"destination": "10.0.99.10/32", "eni": "eni-0a00000a"}]},
        {"id": "rtb-0a000002", "routes": [{"destination": "10.0.99.10/32", "eni": "eni-0a00000a"}]},
        {"id": "rtb-0a000003"}]})";
    std::string server = std::getenv("PG_VIP_FAKE_AWS") ? std::getenv("PG_VIP_FAKE_AWS") : "test/fake_aws/server.py";
    std::vector<std::string> args = {"/usr/bin/python3", server, "--world", dir_ + "/world.json",
                                     "--ports-file", dir_ + "/ports.json", "--log", dir_ + "/requests.jsonl"};
    if (!tls_cert.empty()) {
      args.insert(args.end(), {"--tls-cert", tls_cert, "--tls-key", tls_key});
    }
    pid_ = fork();
    if (pid_ == 0) {
      std::vector<char *> argv;
      for (auto &a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      freopen((dir_ + "/server.err").c_str(), "w", stderr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (access((dir_ + "/ports.json").c_str(), F_OK) != 0) {
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("the fake AWS endpoint exited: " + read_file(dir_ + "/server.err"));
      }
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("the fake AWS endpoint did not start");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    rapidjson::Document ports;
    std::string text = read_file(dir_ + "/ports.json");
    ports.Parse(text.c_str());
    std::string scheme = ports["scheme"].GetString();
    ec2_url_ = scheme + "://" + (scheme == "https" ? "localhost" : "127.0.0.1") + ":" +
               std::to_string(ports["ec2"].GetInt());
    control_url_ = ec2_url_;
    imds_a_ = "http://127.0.0.1:" + std::to_string(ports["imds"]["i-0a000001"].GetInt());
    imds_b_ = "http://127.0.0.1:" + std::to_string(ports["imds"]["i-0b000001"].GetInt());
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
