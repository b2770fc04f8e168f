#include "local_addresses.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "error.hpp"

namespace pg_vip {
namespace {

// Compared in binary form: "::ffff:10.0.0.1", "0:0::1" and other spellings
// of one address are then the same.
bool same_address(const std::string &a, const std::string &b) {
  unsigned char x[16], y[16];
  for (int family : {AF_INET, AF_INET6})
    if (inet_pton(family, a.c_str(), x) == 1)
      return inet_pton(family, b.c_str(), y) == 1 && std::memcmp(x, y, family == AF_INET ? 4 : 16) == 0;
  return false;
}

}  // namespace

std::vector<LocalAddress> local_addresses() {
  ifaddrs *list = nullptr;
  if (getifaddrs(&list) != 0)
    throw Error("cannot list this host's network addresses", std::string("getifaddrs failed: ") + std::strerror(errno));
  struct Freer {
    ifaddrs *list;
    ~Freer() { freeifaddrs(list); }
  } freer{list};
  std::vector<LocalAddress> out;
  for (const ifaddrs *i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    char text[INET6_ADDRSTRLEN] = {};
    const void *raw = nullptr;
    if (i->ifa_addr->sa_family == AF_INET) raw = &reinterpret_cast<const sockaddr_in *>(i->ifa_addr)->sin_addr;
    else if (i->ifa_addr->sa_family == AF_INET6) raw = &reinterpret_cast<const sockaddr_in6 *>(i->ifa_addr)->sin6_addr;
    if (!raw || !inet_ntop(i->ifa_addr->sa_family, raw, text, sizeof text)) continue;
    out.push_back({i->ifa_name ? i->ifa_name : "", text});
  }
  return out;
}

std::string interface_of(const std::string &address, const std::vector<LocalAddress> &bound) {
  for (const auto &b : bound)
    if (same_address(address, b.address)) return b.interface.empty() ? "(unnamed)" : b.interface;
  return {};
}

}  // namespace pg_vip
