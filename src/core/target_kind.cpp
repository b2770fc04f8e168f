// Each kind of target's words, one row per kind: a further kind adds its
// row here and its own Cloud implementation; nothing else names it.
#include <algorithm>

#include "target.hpp"

namespace pg_vip {

namespace {

constexpr KindWords kRoute{"route", "route table",       "route tables", "DescribeRouteTables",
                           "route", "route not switched"};
// An Elastic IP "points at" the interface it is associated with; one that
// is associated with nothing is Missing (the VIP is on no interface).
// A secondary IP "points at" the interface it is assigned to.
constexpr KindWords kSecondaryIp{"secondary_ip", "secondary IP", "secondary IPs", "DescribeNetworkInterfaces",
                                 "address",      "not assigned"};
constexpr KindWords kElasticIp{"elastic_ip",        "Elastic IP",  "Elastic IPs",
                               "DescribeAddresses", "association", "not associated"};

// A DNS record "points at" this node when its address is this node's
// (pg_vip.dns_value); at another node's interface when it holds the address
// its fence record says its holder wrote (route53_target.hpp).
constexpr KindWords kDns{"dns", "DNS record", "DNS records", "ListResourceRecordSets", "record", "record not changed"};

bool one_kind(const std::vector<TargetKind> &kinds) {
  return std::all_of(kinds.begin(), kinds.end(), [&](TargetKind k) { return k == kinds.front(); });
}

}  // namespace

const KindWords &words(TargetKind kind) noexcept {
  switch (kind) {
    case TargetKind::Route: break;
    case TargetKind::ElasticIp: return kElasticIp;
    case TargetKind::SecondaryIp: return kSecondaryIp;
    case TargetKind::Dns: return kDns;
  }
  return kRoute;
}

std::chrono::milliseconds verify_patience(TargetKind kind) noexcept {
  switch (kind) {
    case TargetKind::Route: break;
    case TargetKind::ElasticIp: return std::chrono::milliseconds(3100);
    case TargetKind::SecondaryIp: return std::chrono::milliseconds(6300);
    // ListResourceRecordSets shows a change as soon as the batch is
    // accepted (PENDING is the name servers' propagation, not the API's).
    case TargetKind::Dns: break;
  }
  return std::chrono::milliseconds(700);
}

const char *to_string(TargetKind kind, TargetState state) noexcept {
  switch (state) {
    case TargetState::Ours: return "ours";
    case TargetState::Other: return "other";
    case TargetState::Missing:
      return kind == TargetKind::ElasticIp     ? "unassociated"
             : kind == TargetKind::SecondaryIp ? "unassigned"
                                               : "missing";
    case TargetState::Dangling:
      switch (kind) {
        case TargetKind::Route: return "blackhole";
        case TargetKind::ElasticIp:
        case TargetKind::SecondaryIp:
        case TargetKind::Dns: break;
      }
      return "dangling";
    case TargetState::Unknown: break;
  }
  return "unknown";
}

const char *to_string(TargetState state) noexcept { return to_string(TargetKind::Route, state); }

std::string count_text(TargetKind kind, std::size_t n) {
  const KindWords &w = words(kind);
  return std::to_string(n) + " " + (n == 1 ? w.noun : w.nouns);
}

std::string noun(const std::vector<TargetKind> &kinds) {
  return kinds.empty() || one_kind(kinds) ? words(kinds.empty() ? TargetKind::Route : kinds.front()).noun : "target";
}

std::string nouns(const std::vector<TargetKind> &kinds) {
  return kinds.empty() || one_kind(kinds) ? words(kinds.empty() ? TargetKind::Route : kinds.front()).nouns : "targets";
}

std::string list_label(const std::vector<TargetKind> &kinds) {
  std::string s = nouns(kinds);
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::string count_text(const std::vector<TargetKind> &kinds) {
  std::vector<TargetKind> order;
  for (auto k : kinds)
    if (std::find(order.begin(), order.end(), k) == order.end()) order.push_back(k);
  if (order.empty()) return count_text(TargetKind::Route, 0);
  std::string out;
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i) out += i + 1 == order.size() ? " and " : ", ";
    out += count_text(order[i], static_cast<std::size_t>(std::count(kinds.begin(), kinds.end(), order[i])));
  }
  return out;
}

}  // namespace pg_vip
