#!/usr/bin/env bash
# Runs every pg_vip test suite: the core's unit tests (GoogleTest),
# pg_regress, and the TAP tests with real primaries and standbys.
# Installs what it needs (as root), builds, installs, and ends with one line:
#   N passed, N failed
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

passed=0
failed=0
count() { passed=$((passed + $1)); failed=$((failed + $2)); }

install_packages || { echo "0 passed, 1 failed"; exit 1; }

build_log=$(mktemp)
if build_and_install "$build_log"; then
  # Our own code must build without a warning under -Wall -Wextra.
  if grep -q 'warning:' "$build_log"; then
    grep -B2 -A4 'warning:' "$build_log"
    log "build: warnings (counted as one failure)"
    count 0 1
  else
    count 1 0
  fi
else
  echo "0 passed, 1 failed"
  exit 1
fi

# The SigV4 suite lives beside the checkout, in the team's shared folder.
if [ -z "${PG_VIP_SIGV4_SUITE:-}" ] && [ -d "$TOP/../shared/testdata/aws-sigv4-test-suite" ]; then
  export PG_VIP_SIGV4_SUITE=$(cd "$TOP/../shared/testdata/aws-sigv4-test-suite" && pwd)
fi

work=$(make_work_tree)
log "unit tests (GoogleTest)"
unit_out=$(mktemp)
if make -C "$TOP" PG_CONFIG="$PG_CONFIG" test/unit/pg_vip_unit >>"$build_log" 2>&1; then
  cp "$TOP/test/unit/pg_vip_unit" "$work/test/unit/" && chmod 755 "$work/test/unit/pg_vip_unit"
  (cd "$work" && as_pg env PG_VIP_SIGV4_SUITE="${PG_VIP_SIGV4_SUITE:-}" test/unit/pg_vip_unit) >"$unit_out" 2>&1
  grep -E '^\[  (FAILED|PASSED|SKIPPED) |^\[==========\]|SigV4 suite' "$unit_out"
  grep -E '^\[  FAILED  \] [A-Za-z]' "$unit_out" | sed 's/^/  /'
  up=$(grep -cE '^\[       OK \]' "$unit_out")
  uf=$(grep -cE '^\[  FAILED  \] [A-Za-z].*\([0-9]+ ms\)$' "$unit_out")
  if ! grep -q '^\[==========\].*ran\.' "$unit_out"; then
    cat "$unit_out"; uf=$((uf + 1))   # the binary died before its summary
  fi
  count "$up" "$uf"
else
  cat "$build_log"
  count 0 1
fi

log "pg_regress"
regress_out=$(mktemp)
(cd "$work" && as_pg make PG_CONFIG="$PG_CONFIG" installcheck) >"$regress_out" 2>&1
grep -E '^(test |ok |not ok | *[0-9]+ of [0-9]+ tests| All [0-9]+ tests)' "$regress_out"
total=$(grep -cE '^test ' "$regress_out")
rf=$(grep -cE '^test .*FAILED' "$regress_out")
if [ "$total" -eq 0 ]; then cat "$regress_out"; rf=1; fi
[ -f "$work/regression.diffs" ] && cat "$work/regression.diffs"
count $((total - rf)) "$rf"

log "TAP tests"
tap_out=$(mktemp)
(cd "$work" && as_pg env \
   PERL5LIB="$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/perl:$work/test/perl" \
   PG_REGRESS="$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress" \
   TESTDIR="$work" PG_VIP_SIGV4_SUITE="${PG_VIP_SIGV4_SUITE:-}" \
   perl test/run_tap.pl test/t/*.pl) 2>&1 | tee "$tap_out"
read -r tp tf < <(sed -n 's/^tap totals: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$tap_out")
if [ -z "${tp:-}" ]; then tp=0; tf=1; fi
if [ "$tf" -gt 0 ]; then
  for f in "$work"/tmp_check/log/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done
fi
count "$tp" "$tf"

# Keep the work tree (logs, regression.diffs) only when something failed.
if [ "$failed" -eq 0 ]; then rm -rf "$work"; else echo "logs kept in $work"; fi
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
