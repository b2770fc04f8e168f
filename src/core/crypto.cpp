#include "crypto.hpp"

#include <unistd.h>

#include <cerrno>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "error.hpp"
#include "secret.hpp"

namespace pg_vip {

void wipe(void *data, std::size_t size) noexcept {
  if (data && size) OPENSSL_cleanse(data, size);
}

int read_secret(int fd, Secret &out, std::size_t max) {
  char chunk[4096];
  int err = 0;
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    if (n <= 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max) {
      err = E2BIG;
      break;
    }
    out.append(chunk, static_cast<std::size_t>(n));
  }
  wipe(chunk, sizeof chunk);
  return err;
}

namespace crypto {

Digest sha256(std::string_view data) {
  Digest out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 || len != out.size())
    throw Error("SHA-256 failed in OpenSSL");
  return out;
}

Digest hmac_sha256(std::string_view key, std::string_view data) {
  Digest out{};
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char *>(data.data()), data.size(), out.data(), &len) ||
      len != out.size())
    throw Error("HMAC-SHA256 failed in OpenSSL");
  return out;
}

std::string hex(const Digest &digest) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(digest.size() * 2);
  for (unsigned char b : digest) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view data) { return hex(sha256(data)); }

}  // namespace crypto
}  // namespace pg_vip
