#include "cidr.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

namespace pg_vip {

std::optional<bool> cidr_contains(const std::string &cidr, const std::string &address) {
  auto slash = cidr.find('/');
  if (slash == std::string::npos || slash + 1 >= cidr.size() || cidr.size() - slash > 4) return std::nullopt;
  std::string network = cidr.substr(0, slash);
  int prefix = 0;
  for (char c : cidr.substr(slash + 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    prefix = prefix * 10 + (c - '0');
  }
  unsigned char net[16], addr[16];
  int bytes = 0;
  if (inet_pton(AF_INET, network.c_str(), net) == 1) {
    if (inet_pton(AF_INET, address.c_str(), addr) != 1) return std::nullopt;
    bytes = 4;
  } else if (inet_pton(AF_INET6, network.c_str(), net) == 1) {
    if (inet_pton(AF_INET6, address.c_str(), addr) != 1) return std::nullopt;
    bytes = 16;
  } else {
    return std::nullopt;
  }
  if (prefix > bytes * 8) return std::nullopt;
  for (int bit = 0; bit < prefix; ++bit) {
    int mask = 0x80 >> (bit % 8);
    if ((net[bit / 8] & mask) != (addr[bit / 8] & mask)) return false;
  }
  return true;
}

}  // namespace pg_vip
