// libFuzzer target: the fence tag, pg_vip:<vip> =
// "tl=2;sysid=7311...;id=eni-0b1c;at=...;node=db-b", read from route tables
// that anyone with ec2:CreateTags can write. parse_fence_tag returns nullopt
// for what it cannot read; it throws nothing.
// The input is one tag value, or two separated by a NUL byte: then the two
// holders are judged against each other.
// Properties: a node recognises the tag it writes (judge() says Mine, and
// fence_tag_value() parses back to the same holder); a tag without a system
// identifier is never a node's own (Foreign: pg_vip always writes one);
// between two real nodes (each with an interface id, one cluster) exactly
// one outranks the other; choose_fence_tag picks one of the tags it is
// given, under this VIP's keys only.
#include <map>

#include "core/clock.hpp"
#include "core/fence.hpp"
#include "fuzz/support.hpp"

using namespace pg_vip;

namespace {

Identity identity_of(const Holder &h) { return Identity{h.node_name, h.system_identifier, h.timeline, h.interface_id}; }

void check_one(const Holder &h) {
  (void) describe(h);
  const Identity me = identity_of(h);
  if (h.system_identifier.empty()) {
    FUZZ_CHECK(judge(me, h) == Standing::Foreign);
    FUZZ_CHECK(!fence_reason(me, h).empty());
    return;
  }
  FUZZ_CHECK(judge(me, h) == Standing::Mine);
  FUZZ_CHECK(fence_reason(me, h).empty());
  // What this node would write parses back to itself (tag values are cut
  // at EC2's 256 characters, so only for those that fit).
  const std::string written = fence_tag_value(me, Clock::time_point(std::chrono::seconds(1795000000)));
  if (written.size() < 256) {
    auto back = parse_fence_tag(written);
    FUZZ_CHECK(back.has_value());
    FUZZ_CHECK(back->timeline == h.timeline && back->system_identifier == h.system_identifier &&
               back->interface_id == h.interface_id && back->node_name == h.node_name);
    FUZZ_CHECK(judge(me, *back) == Standing::Mine);
  }
  // Against nodes of the same cluster on nearby timelines.
  for (uint32_t tl : {h.timeline - 1, h.timeline, h.timeline + 1}) {
    Identity other{"other", h.system_identifier, tl, "eni-0000000f"};
    (void) fence_reason(other, h);
  }
}

void check_pair(const Holder &a, const Holder &b) {
  if (a.interface_id.empty() || b.interface_id.empty()) return;  // tags of pg_vip 0.1: no total order promised
  // Each node judges with its own term's start, as the controller does.
  const Standing ab = judge(identity_of(a), b, TieContext{false, a.since}),
                 ba = judge(identity_of(b), a, TieContext{false, b.since});
  if (a.system_identifier.empty() || b.system_identifier.empty() || a.system_identifier != b.system_identifier) {
    FUZZ_CHECK(ab == Standing::Foreign && ba == Standing::Foreign);
    return;
  }
  if (a.timeline == b.timeline && a.interface_id == b.interface_id) {
    FUZZ_CHECK(ab == Standing::Mine && ba == Standing::Mine);
    return;
  }
  FUZZ_CHECK((ab == Standing::Outranks && ba == Standing::Yields) ||
             (ab == Standing::Yields && ba == Standing::Outranks));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
  const auto parts = fuzz::split_nul(fuzz::text(data, size));
  auto a = parse_fence_tag(parts[0]);
  if (a) check_one(*a);
  if (parts.size() > 1) {
    auto b = parse_fence_tag(parts[1]);
    if (b) check_one(*b);
    if (a && b) check_pair(*a, *b);
    const std::string vip = "10.0.99.10/32";
    std::map<std::string, std::string> tags{{legacy_fence_tag_key(vip), parts[0]},
                                            {fence_tag_key(vip, b ? b->timeline : 1), parts[1]},
                                            {"pg_vip:10.0.99.11/32", "tl=9;sysid=1;id=eni-9;node=x"}};
    Identity me{"me", a ? a->system_identifier : "", 1, "eni-1"};
    auto chosen = choose_fence_tag(tags, vip, me, {}, b ? b->interface_id : "");
    FUZZ_CHECK(chosen.has_value());
    FUZZ_CHECK(tags.count(chosen->key) && tags.at(chosen->key) == chosen->value &&
               chosen->key != "pg_vip:10.0.99.11/32");
  }
  return 0;
}
