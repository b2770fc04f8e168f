// The addresses bound on this host's interfaces (getifaddrs), IPv4 and
// IPv6. EC2 delivers the VIP's packets to the interface its routes name,
// but the kernel accepts only those for an address it has: a VIP routed
// here and bound nowhere is traffic dropped on arrival.
#pragma once

#include <string>
#include <vector>

#include "cpp_only.hpp"

namespace pg_vip {

struct LocalAddress {
  std::string interface;  // "eth0", "lo"
  std::string address;    // canonical text (inet_ntop)
};

// Every address bound now. Throws Error when the kernel cannot be asked.
std::vector<LocalAddress> local_addresses();

// The interface `address` (any text inet_pton reads) is bound on, among
// `bound`; empty when none. An unreadable address is bound nowhere.
std::string interface_of(const std::string &address, const std::vector<LocalAddress> &bound);

}  // namespace pg_vip
