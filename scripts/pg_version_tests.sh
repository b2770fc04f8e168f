#!/usr/bin/env bash
# The tests of pg_vip on one PostgreSQL major version, run as root inside
# that version's chroot (scripts/pg_chroot.sh), in a copy of the sources it
# may build in. scripts/test.sh runs it for each version but the machine's:
#   bash scripts/pg_version_tests.sh N [TAP test files...]
# It builds this version's Debian package with -Werror (a warning fails),
# installs it into the chroot's PostgreSQL and checks what it ships, runs
# pg_regress and the TAP tests given (all of test/t/ by default) against it
# as the postgres OS user, and ends with one line:
#   postgresql N: P passed, F failed[, S skipped]
# The core's unit, integration, simulation and fuzz tests need no
# PostgreSQL: they run once, on the machine's version.
set -uo pipefail
PG_MAJOR=${1:?usage: pg_version_tests.sh N [TAP test files...]}
shift
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/deb_package.sh"

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

# The extension is built once, as this version's Debian package
# (scripts/deb_package.sh) with WERROR=1: a warning in our code is a
# failure, and a build that fails ends the run (nothing could load). The
# package is installed, and every test below runs against what it installed.
log "building pg_vip against PostgreSQL $PG_MAJOR as its Debian package (WERROR=1)"
if [ "$(id -u)" -ne 0 ]; then
  echo "not root: dpkg -i needs root"
  count 0 1
  finish
fi
deb_build WERROR=1 || finish
if ! grep -q -- ' -Werror ' "$deb_dir/build.log"; then
  echo "the package's build did not compile with -Werror (WERROR=1 did not reach make)"
  count 0 1
elif grep -qE ':[0-9]+:[0-9]+: warning:' "$deb_dir/build.log"; then
  # The compiler's (file:line:column), not the packaging tools' own.
  grep -B2 -A4 -E ':[0-9]+:[0-9]+: warning:' "$deb_dir/build.log"
  count 0 1
else
  echo "built without a warning"
  count 1 0
fi
deb_install_and_check || finish
# The server's user builds nothing, but writes results and logs here.
chown -R postgres: "$TOP"

log "pg_regress on PostgreSQL $PG_MAJOR (make installcheck TAP_TESTS=)"
run_regress "$TOP"

tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(test/t/*.pl)
log "TAP tests on PostgreSQL $PG_MAJOR, $JOBS files at once: ${tests[*]}"
tap_out=$(mktemp)
(cd "$TOP" && as_pg make PG_CONFIG="$PG_CONFIG" check-tap PROVE="perl test/run_tap.pl -j $JOBS" PROVE_TESTS="${tests[*]}") 2>&1 |
  tee "$tap_out"
read -r tp tf ts < <(tap_totals "$tap_out")
if [ "$tf" -gt 0 ]; then
  for f in "$TOP"/tmp_check/log/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done
fi
count "$tp" "$tf" "$ts"
finish
