#!/usr/bin/env bash
# The tests of pg_vip on one PostgreSQL major version, run as root inside
# that version's chroot (scripts/pg_chroot.sh), in a copy of the sources it
# may build in. scripts/test.sh runs it for each version but the machine's:
#   bash scripts/pg_version_tests.sh N [TAP test files...]
# It builds with -Werror (a warning fails), installs into the chroot's
# PostgreSQL, runs pg_regress and the TAP tests given (all of test/t/ by
# default) as the postgres OS user, and ends with one line:
#   postgresql N: P passed, F failed[, S skipped]
# The core's unit, integration, simulation and fuzz tests need no
# PostgreSQL: they run once, on the machine's version.
set -uo pipefail
PG_MAJOR=${1:?usage: pg_version_tests.sh N [TAP test files...]}
shift
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

passed=0
failed=0
skipped=0
count() { passed=$((passed + $1)); failed=$((failed + $2)); skipped=$((skipped + ${3:-0})); }
finish() {
  local line="postgresql $PG_MAJOR: $passed passed, $failed failed"
  [ "$skipped" -gt 0 ] && line+=", $skipped skipped"
  echo
  echo "$line"
  exit 0
}

if [ ! -x "$PG_CONFIG" ]; then
  echo "no PostgreSQL $PG_MAJOR here ($PG_CONFIG)"
  count 0 1
  finish
fi
log "PostgreSQL $("$PG_CONFIG" --version | cut -d' ' -f2-), $(. /etc/os-release && echo "$PRETTY_NAME"), $(g++ --version | head -n 1)"

# The extension alone (no test binary), as test.sh builds it: a warning in
# our code is a failure; a build that fails ends the run (nothing could load).
log "building pg_vip against PostgreSQL $PG_MAJOR (WERROR=1)"
build_log=$(mktemp)
if ! make -C "$TOP" PG_CONFIG="$PG_CONFIG" WERROR=1 -j2 >"$build_log" 2>&1; then
  grep -E 'error|Error' "$build_log" | head -40
  echo "the build fails under -Werror"
  count 0 1
  finish
fi
if grep -q 'warning:' "$build_log"; then
  grep -B2 -A4 'warning:' "$build_log"
  count 0 1
else
  echo "built without a warning"
  count 1 0
fi
make -C "$TOP" PG_CONFIG="$PG_CONFIG" install >/dev/null || { echo "make install failed"; count 0 1; finish; }
# The server's user builds nothing more, but writes results and logs here.
chown -R postgres: "$TOP"

log "pg_regress on PostgreSQL $PG_MAJOR (make installcheck TAP_TESTS=)"
run_regress "$TOP"

tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(test/t/*.pl)
log "TAP tests on PostgreSQL $PG_MAJOR: ${tests[*]}"
tap_out=$(mktemp)
(cd "$TOP" && as_pg make PG_CONFIG="$PG_CONFIG" check-tap PROVE="perl test/run_tap.pl" PROVE_TESTS="${tests[*]}") 2>&1 |
  tee "$tap_out"
read -r tp tf ts < <(tap_totals "$tap_out")
if [ "$tf" -gt 0 ]; then
  for f in "$TOP"/tmp_check/log/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done
fi
count "$tp" "$tf" "$ts"
finish
