// The compare-and-swap of a Route 53 target: an address record (A or AAAA)
// guarded by a fence TXT record, changed in one ChangeResourceRecordSets
// batch that Route 53 applies only if what this node last read is still
// there.
//
// Why it is a true compare-and-swap:
// - Route 53 validates a whole batch and then applies all of it or none of
//   it ("Change Batches and Transactional Changes" in the API reference).
// - A DELETE must name the record set exactly as it is: name, type, TTL and
//   every value. If the set is gone, or its TTL or values differ, the DELETE
//   fails and so does the whole batch, with InvalidChangeBatch ("Tried to
//   delete resource record set ... but it was not found" / "... but the
//   values provided do not match the current values").
// - A CREATE of a record set that exists fails the batch the same way
//   ("... but it already exists").
// So {DELETE the fence TXT as read, CREATE the new fence TXT, UPSERT the
// address} succeeds only if the fence is still exactly what this node read:
// the compare is the DELETE, the swap the CREATE, and the address moves in
// the same step. With no fence read, {CREATE the fence TXT, UPSERT the
// address} succeeds only if no fence exists yet. Two nodes that read the
// same fence cannot both succeed: the first batch replaces the TXT the
// second one's DELETE names. Route 53 itself serialises the batches of one
// hosted zone (a batch sent while another is being applied may answer
// PriorRequestNotComplete, which is retried: it changed nothing).
//
// Losing the race: the batch's answer is InvalidChangeBatch (HTTP 400) and
// nothing changed; lost_race() says so. Anything else is not a verdict on
// the fence: NoSuchHostedZone, AccessDenied, InvalidInput are permanent
// configuration errors; Throttling, PriorRequestNotComplete, 5xx and
// transport failures are retried, and a batch whose answer was lost may
// have been applied: the next read tells (the fence then holds this node's
// new value, a second attempt of the same batch fails as a lost race).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "aws_error.hpp"
#include "route53_xml.hpp"
#include "cpp_only.hpp"

namespace pg_vip::aws {

// What the caller wants the address record to be.
struct AddressRecord {
  std::string name;  // dns_name() is applied
  std::string type;  // "A" or "AAAA"
  long ttl = 60;
  std::vector<std::string> values;  // the addresses, as text
};

// The fence as it stands in Route 53: its record set exactly as read (to
// be given back in a DELETE), and its text decoded (nullopt when the value
// is not readable TXT: someone else's).
struct FenceRecord {
  RecordSet record;
  std::optional<std::string> text;
};

// {DELETE last_read, CREATE fence_name TXT new_text, UPSERT address}, or
// without a fence read {CREATE ..., UPSERT ...}. The DELETE gives back the
// record set exactly as read (TTL, values, their order and quoting); the new
// TXT is one value, txt_value(new_text), with fence_ttl. Throws ConfigError
// for a bad name, an address type other than A or AAAA, no address, or a
// TXT text Route 53 cannot hold; Error when last_read is not a plain TXT
// record set at fence_name (a caller's mistake).
ChangeBatch compare_and_swap(const AddressRecord &address, const std::string &fence_name,
                             const std::optional<RecordSet> &last_read, const std::string &new_text, long fence_ttl,
                             const std::string &comment = "pg_vip");

// What a read of the target gives.
struct TargetRead {
  std::optional<RecordSet> address;  // the A or AAAA record set at the name
  std::optional<FenceRecord> fence;  // the TXT record set at the fence name
};

// Picks the target's records out of ListResourceRecordSets answers (one
// page or several, concatenated). ListResourceRecordSets starts at a name
// and type and goes on past them, so only exact matches count: the name
// compared as canonical_answer_name() gives it, the type exactly, and only
// plain records (no set identifier, no alias; an alias or weighted record
// at the name is reported as no address record, which the caller shows).
TargetRead find_target(const std::vector<RecordSet> &record_sets, const std::string &address_name,
                       const std::string &address_type, const std::string &fence_name);

// The batch lost the race: Route 53 refused it as InvalidChangeBatch, so
// the fence was not what this node read (or a fence it meant to create
// existed). Nothing changed.
bool lost_race(const AwsError &e) noexcept;

}  // namespace pg_vip::aws
