#include "fence_key.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.hpp"

namespace pg_vip {

namespace {

constexpr std::size_t kMinKey = 16;    // shorter is guessable
constexpr std::size_t kMaxKey = 4096;  // longer is not a key file

const char *kMakeOne =
    "Make one with: head -c 32 /dev/urandom | base64 > FILE; chown postgres: FILE; chmod 600 FILE; the same "
    "contents on every node of the cluster.";

[[noreturn]] void refuse(std::string_view path, const std::string &detail, const std::string &hint = kMakeOne) {
  throw ConfigError("invalid value for parameter \"pg_vip.fence_key_file\": \"" + std::string(path) + "\"", detail,
                    hint);
}

void check_stat(std::string_view path, const struct stat &st) {
  if (!S_ISREG(st.st_mode)) refuse(path, "The path is not a regular file.");
  if (st.st_uid != geteuid())
    refuse(path, "The file is not owned by the operating system user running PostgreSQL.",
           "chown it to that user (postgres) and chmod 600 it.");
  if (st.st_mode & (S_IRWXG | S_IRWXO))
    refuse(path, "Other users may read or write the fence key.", "Restrict it with chmod 600.");
}

}  // namespace

void check_fence_key_file(std::string_view raw) {
  if (raw.empty()) return;
  if (raw.front() != '/') refuse(raw, "The fence key file must be given as an absolute path.");
  std::string path(raw);
  struct stat st;
  if (stat(path.c_str(), &st) != 0) refuse(raw, "The file cannot be read: " + std::string(std::strerror(errno)) + ".");
  check_stat(raw, st);
}

Secret read_fence_key(const std::string &path) {
  // O_NONBLOCK: a FIFO put there must not hang the worker; O_NOFOLLOW: the
  // file checked is the file read.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0) refuse(path, "The file cannot be read: " + std::string(std::strerror(errno)) + ".");
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  struct stat st;
  if (fstat(fd, &st) != 0) refuse(path, "The file cannot be read: " + std::string(std::strerror(errno)) + ".");
  check_stat(path, st);
  Secret key;
  key.reserve(kMaxKey + 1);
  if (int err = read_secret(fd, key, kMaxKey))
    refuse(path, err == E2BIG ? "The file is longer than " + std::to_string(kMaxKey) + " bytes: it is not a key file."
                              : "The file cannot be read: " + std::string(std::strerror(err)) + ".");
  // `echo key > file` adds a line break that the other nodes' copies may
  // not have: it is not part of the key.
  std::string_view k = key.reveal();
  std::size_t len = k.size();
  while (len > 0 && (k[len - 1] == '\n' || k[len - 1] == '\r')) --len;
  if (len < kMinKey) refuse(path, "The fence key is shorter than " + std::to_string(kMinKey) + " bytes.");
  return Secret(k.substr(0, len));
}

}  // namespace pg_vip
