#include "crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "error.hpp"
#include "secret.hpp"

namespace pg_vip {

void wipe(void *data, std::size_t size) noexcept {
  if (data && size) OPENSSL_cleanse(data, size);
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
