// The hashes SigV4 needs, on OpenSSL.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "cpp_only.hpp"

namespace pg_vip::crypto {

using Digest = std::array<unsigned char, 32>;

Digest sha256(std::string_view data);
Digest hmac_sha256(std::string_view key, std::string_view data);
std::string hex(const Digest &digest);
std::string sha256_hex(std::string_view data);

}  // namespace pg_vip::crypto
