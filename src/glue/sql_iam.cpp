// vip_iam_policy(): the least-privilege IAM policy for this node's settings
// (core/iam_policy.hpp), with the account and region found as
// core/iam_policy_source.hpp says. Superusers only (the SQL script grants
// it to no one): it reads instance metadata.
#include <cstdlib>

#include "../core/iam_policy_source.hpp"
#include "door.hpp"
#include "gucs.hpp"
#include "pg.hpp"

namespace {

bool interrupted() { return QueryCancelPending || ProcDiePending; }

}  // namespace

using namespace pg_vip;

PG_VIP_FUNCTION(vip_iam_policy) {
  char *policy = nullptr;
  door::Failure failure;
  bool ok = door::run(
      [&] {
        policy = door::copy_out(iam_policy_for(gucs::controller_config(), aws::process_environment(), interrupted,
                                               gucs::role_settings().arn));
        if (!policy) throw std::bad_alloc();
      },
      failure);
  if (!ok) {
    std::free(policy);
    door::raise_error(failure);
  }
  text *result = cstring_to_text(policy);
  std::free(policy);
  CHECK_FOR_INTERRUPTS();
  PG_RETURN_TEXT_P(result);
}
