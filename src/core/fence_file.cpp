#include "fence_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pg_vip::fence_file {

namespace {

std::string reason(const char *what, const char *path, int err) {
  return std::string(what) + " \"" + path + "\" failed: " + std::strerror(err) + ".";
}

// Closes a descriptor on every way out.
struct Descriptor {
  int fd;
  ~Descriptor() {
    if (fd >= 0) close(fd);
  }
};

// format()'s escapes undone; nullopt for any other backslash or a raw
// control character, which format() never writes.
std::optional<std::string> unescape(std::string_view value) {
  auto hex = [](char c) -> int { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7f) return std::nullopt;
    if (c != '\\') {
      out += static_cast<char>(c);
    } else if (i + 1 < value.size() && (value[i + 1] == '\\' || value[i + 1] == 'n')) {
      out += value[++i] == 'n' ? '\n' : '\\';
    } else if (i + 3 < value.size() && value[i + 1] == 'x' && hex(value[i + 2]) >= 0 && hex(value[i + 3]) >= 0) {
      out += static_cast<char>(hex(value[i + 2]) << 4 | hex(value[i + 3]));
      i += 3;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

// Decimal digits only, within 32 bits.
std::optional<uint32_t> parse_timeline(std::string_view value) {
  if (value.empty() || value.size() > 10) return std::nullopt;
  uint64_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(n);
}

}  // namespace

std::string format(const Fence &fence) {
  static const char kHex[] = "0123456789abcdef";
  std::string text = "holder=";
  for (unsigned char c : fence.holder) {
    if (c == '\\') text += "\\\\";
    else if (c == '\n') text += "\\n";
    else if (c < 0x20 || c == 0x7f) text += {'\\', 'x', kHex[c >> 4], kHex[c & 0xf]};
    else text += static_cast<char>(c);
  }
  return text + "\ntimeline=" + std::to_string(fence.holder_timeline) + "\n";
}

std::optional<Fence> parse(std::string_view text) {
  std::optional<std::string> holder;
  std::optional<uint32_t> timeline;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view name = line.substr(0, eq), value = line.substr(eq + 1);
    if (name == "holder") {
      if (holder || !(holder = unescape(value))) return std::nullopt;
    } else if (name == "timeline") {
      if (timeline || !(timeline = parse_timeline(value))) return std::nullopt;
    }
  }
  if (!holder || !timeline) return std::nullopt;
  return Fence{std::move(*holder), *timeline};
}

Contents read(const char *path) {
  Contents c;
  // O_NONBLOCK: opening a FIFO for reading would wait for a writer;
  // O_NOFOLLOW: a symlink is refused (ELOOP), not followed.
  Descriptor file{open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
  if (file.fd < 0) {
    if (errno == ENOENT) return c;
    c.found = Found::kRefused;
    c.why = errno == ELOOP ? std::string("It is a symbolic link.") : reason("Opening", path, errno);
    return c;
  }
  c.found = Found::kRefused;
  struct stat st;
  if (fstat(file.fd, &st) != 0) {
    c.why = reason("Reading", path, errno);
    return c;
  }
  if (!S_ISREG(st.st_mode)) {
    c.why = "It is not a regular file.";
    return c;
  }
  if (st.st_uid != geteuid()) {
    c.why = "It is not owned by the operating system user running PostgreSQL.";
    return c;
  }
  const std::string too_large = "It is larger than " + std::to_string(kMaxBytes) + " bytes.";
  if (st.st_size > static_cast<off_t>(kMaxBytes)) {
    c.why = too_large;
    return c;
  }
  // One byte more than allowed tells a file that grew since fstat().
  std::string text(kMaxBytes + 1, '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(file.fd, &text[got], text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      c.why = reason("Reading", path, errno);
      return c;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > kMaxBytes) {
    c.why = too_large;
    return c;
  }
  text.resize(got);
  c.found = Found::kFile;
  c.text = std::move(text);
  return c;
}

std::string write(const char *temp_path, const char *path, std::string_view text) {
  // Whatever stands at the temporary name (a crash's leftover, or a link
  // planted there) is removed, not opened: O_EXCL then creates a new file
  // or fails, and never writes through a symlink.
  if (unlink(temp_path) != 0 && errno != ENOENT) return reason("Removing", temp_path, errno);
  std::string failed;
  {
    Descriptor file{open(temp_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, S_IRUSR | S_IWUSR)};
    if (file.fd < 0) return reason("Creating", temp_path, errno);
    std::size_t done = 0;
    while (failed.empty() && done < text.size()) {
      ssize_t n = ::write(file.fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) failed = reason("Writing", temp_path, n < 0 ? errno : ENOSPC);
      else done += static_cast<std::size_t>(n);
    }
    if (failed.empty() && fsync(file.fd) != 0) failed = reason("Syncing", temp_path, errno);
  }
  if (failed.empty() && rename(temp_path, path) != 0) failed = reason("Renaming", temp_path, errno);
  if (!failed.empty()) {
    (void) unlink(temp_path);
    return failed;
  }
  // The rename lasts once the directory that holds both names is synced.
  std::string dir(path);
  std::size_t slash = dir.rfind('/');
  dir = slash == std::string::npos ? "." : slash == 0 ? "/" : dir.substr(0, slash);
  Descriptor directory{open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (directory.fd < 0) return reason("Opening the directory", dir.c_str(), errno);
  if (fsync(directory.fd) != 0) return reason("Syncing the directory", dir.c_str(), errno);
  return "";
}

}  // namespace pg_vip::fence_file
