#include "route53_fence.hpp"

#include "error.hpp"
#include "route53_names.hpp"

namespace pg_vip::aws {
namespace {

bool plain(const RecordSet &r) { return r.set_identifier.empty() && r.alias_dns_name.empty(); }

}  // namespace

ChangeBatch compare_and_swap(const AddressRecord &address, const std::string &fence_name,
                             const std::optional<RecordSet> &last_read, const std::string &new_text, long fence_ttl,
                             const std::string &comment) {
  if (address.type != "A" && address.type != "AAAA")
    throw ConfigError("a Route 53 target's record type must be A or AAAA, not \"" + address.type.substr(0, 16) + "\"");
  if (address.values.empty()) throw ConfigError("a Route 53 target needs at least one address");
  const std::string fence = dns_name(fence_name);
  ChangeBatch batch;
  batch.comment = comment;
  if (last_read) {
    if (last_read->type != "TXT" || !plain(*last_read) || canonical_answer_name(last_read->name) != fence)
      throw Error("the fence record read is not the TXT record at " + fence);
    batch.changes.push_back({ChangeAction::Delete, *last_read});
  }
  batch.changes.push_back({ChangeAction::Create, RecordSet{fence, "TXT", fence_ttl, {txt_value(new_text)}, {}, {}}});
  batch.changes.push_back(
      {ChangeAction::Upsert, RecordSet{dns_name(address.name), address.type, address.ttl, address.values, {}, {}}});
  return batch;
}

TargetRead find_target(const std::vector<RecordSet> &record_sets, const std::string &address_name,
                       const std::string &address_type, const std::string &fence_name) {
  const std::string address = dns_name(address_name);
  const std::string fence = dns_name(fence_name);
  TargetRead out;
  for (const RecordSet &r : record_sets) {
    if (!plain(r)) continue;
    std::string name = canonical_answer_name(r.name);
    if (!out.address && r.type == address_type && name == address) out.address = r;
    if (!out.fence && r.type == "TXT" && name == fence) {
      FenceRecord f;
      f.record = r;
      // One value is ours; several (or none) are not a fence pg_vip wrote.
      if (r.values.size() == 1) f.text = txt_text(r.values.front());
      out.fence = std::move(f);
    }
  }
  return out;
}

bool lost_race(const AwsError &e) noexcept { return e.code == "InvalidChangeBatch"; }

}  // namespace pg_vip::aws
