#!/usr/bin/env bash
# Runs every pg_vip test suite: the formatting check, the core's unit and
# integration tests (GoogleTest), the same again under AddressSanitizer and
# UBSan, a short run of each fuzz target (libFuzzer), the simulation and
# its mutation testing, pg_regress, the TAP tests with real primaries and
# standbys, the lab, the PGXN archive (make dist) and the Debian package,
# built, installed and tested with pg_regress.
# Everything of ours is compiled with -Werror (WERROR=1).
# Then the other PostgreSQL versions (OTHER_PG_VERSIONS), each in a chroot of
# the Debian release that ships it: the build with -Werror, pg_regress and
# the TAP files of VERSION_TAP_TESTS (scripts/pg_version_tests.sh).
# Installs what it needs (as root), builds, installs, prints one line per
# version, "postgresql N: N passed, N failed" (15's counts every suite run
# on this machine), and ends with one line, the sum:
#   N passed, N failed
#   bash scripts/test.sh             all of it, as CI runs it
#   bash scripts/test.sh --pg 17     PostgreSQL 17 alone, as CI tests it (--pg 15: this machine's suites alone)
#   bash scripts/test.sh --pg 17 --all-tap                 the same with every TAP file
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/deb_package.sh"

only_pg=
all_tap=0
while [ $# -gt 0 ]; do
  case $1 in
    --pg) only_pg=${2:?--pg needs a version: 15, 17 or 18}; shift 2 ;;
    --pg=*) only_pg=${1#--pg=}; shift ;;
    --all-tap) all_tap=1; shift ;;
    *) echo "usage: bash scripts/test.sh [--pg N [--all-tap]]" >&2; exit 2 ;;
  esac
done

passed=0
failed=0
skipped=0
count() { passed=$((passed + $1)); failed=$((failed + $2)); skipped=$((skipped + ${3:-0})); }
# One line per version, printed before the total.
version_lines=()
counts_line() {  # label passed failed skipped
  local line="$1$2 passed, $3 failed"
  [ "$4" -gt 0 ] && line+=", $4 skipped"
  echo "$line"
}

# PostgreSQL 17 (Debian 13) and 18 (Debian testing). Debian has no 16.
OTHER_PG_VERSIONS=(17 18)
# What each of them runs besides the build and pg_regress: the TAP files
# that exercise the glue (the worker, promotion and failover, the fence and
# its actions on clients, the fence file, the upgrade, metrics, monitoring,
# the door), about 3 of the 10 minutes the whole of test/t takes. Left to
# 15 alone: the endpoint's own tests (010-013: no pg_vip code in them) and
# the longest scenario files (025, 027-030, 041: the core's behaviour, the
# same on every version). `--pg N` runs every file.
VERSION_TAP_TESTS=(001_version 002_promotion 003_hot_standby_off 004_not_preloaded 020_failover
  021_failover_faults 022_credentials_dry_run_notifications 023_double_promotion 024_fence_tag_required
  026_fail_closed 040_fence_action 042_metrics 043_upgrade 044_monitoring_queries 045_fence_file
  046_preflight_budget 047_door_frames)

# Runs the tests of PostgreSQL $1 in its chroot and counts them; further
# arguments: the TAP files (all of test/t when none). Needs root (the
# chroot, its namespaces and mounts): without it the version is skipped,
# and counted so, never as passed.
test_other_version() {
  local v=$1 out line p f s start=$SECONDS
  shift
  log "PostgreSQL $v, in a chroot of the Debian release that ships it (scripts/pg_chroot.sh)"
  if [ "$(id -u)" -ne 0 ] || ! command -v mmdebstrap >/dev/null || ! unshare --mount --net true 2>/dev/null; then
    echo "postgresql $v: skipped (the chroot needs root, mmdebstrap and namespaces)"
    count 0 0 1
    version_lines+=("postgresql $v: 0 passed, 0 failed, 1 skipped")
    record_lines+=("postgresql $v passed 0 failed 0 skipped 1")
    return
  fi
  out=$(mktemp)
  bash "$TOP/scripts/pg_chroot.sh" run "$v" "$TOP" bash /src/scripts/pg_version_tests.sh "$v" "$@" 2>&1 | tee "$out"
  line=$(sed -n "s/^postgresql $v: \([0-9]*\) passed, \([0-9]*\) failed\(, \([0-9]*\) skipped\)\{0,1\}$/\1 \2 \4/p" "$out" | tail -n 1)
  if [ -z "$line" ]; then
    echo "postgresql $v: the chroot did not run its tests (counted as one failure)"
    line="0 1 0"
  fi
  read -r p f s <<<"$line"
  count "$p" "$f" "${s:-0}"
  version_lines+=("$(counts_line "postgresql $v: " "$p" "$f" "${s:-0}")")
  record_lines+=("postgresql $v passed $p failed $f skipped ${s:-0}")
  echo "postgresql $v: $((SECONDS - start)) s"
  rm -f "$out"
}

# What this run tests: HEAD, and whether tracked files had changes not
# committed (then the record below says so, and make dist refuses it).
run_commit=$(git -C "$TOP" rev-parse -q --verify HEAD 2>/dev/null)
run_clean=no
[ -n "$run_commit" ] && [ -z "$(git -C "$TOP" status --porcelain --untracked-files=no 2>/dev/null)" ] && run_clean=yes
# One "postgresql N passed P failed F skipped S" line per version.
record_lines=()

# The PGXN archive, made once every version has run: the record of which
# versions passed on this commit ($TOP/build/tested-postgresql.txt), then
# make dist, whose META.json claims those versions (scripts/dist_meta.pl),
# checked against the PGXN Meta Spec and the archive. When every version
# passed, the archive's META.json must be the tree's: the tree claims
# exactly what was tested (one more test). Counted on a line of its own.
make_dist_from_record() {
  local p0=$passed f0=$failed s0=$skipped out
  log "the PGXN archive (make dist), claiming the versions that passed"
  if [ -z "$run_commit" ]; then
    echo "not a git checkout: make dist archives git's HEAD (skipped)"
    count 0 0 1
  else
    mkdir -p "$TOP/build"
    { echo "# scripts/test.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
      echo "commit $run_commit"
      echo "clean $run_clean"
      printf '%s\n' "${record_lines[@]}"; } >"$TOP/build/tested-postgresql.txt"
    cat "$TOP/build/tested-postgresql.txt"
    out=$(mktemp)
    if make -s -C "$TOP" PG_CONFIG="$PG_CONFIG" dist >"$out" 2>&1; then
      cat "$out"
      count 1 0
      if unzip -p "$TOP"/pg_vip-*.zip '*/META.json' | diff -u "$TOP/META.json" - >"$out"; then
        echo "the archive's META.json is the tree's: META.json claims exactly the versions tested"
        count 1 0
      elif [ "$failed" -eq 0 ]; then
        cat "$out"
        echo "every version passed, yet the archive's claim differs from the tree's META.json"
        count 0 1
      else
        echo "the archive claims fewer versions than the tree's META.json, since some failed:"
        cat "$out"
      fi
    else
      cat "$out"
      count 0 1
    fi
    rm -f "$TOP"/pg_vip-*.zip "$out"
  fi
  version_lines+=("$(counts_line "make dist: " $((passed - p0)) $((failed - f0)) $((skipped - s0)))")
}

install_packages || { echo "0 passed, 1 failed"; exit 1; }

version_tap_files=()
if [ "$all_tap" -eq 0 ]; then
  for t in "${VERSION_TAP_TESTS[@]}"; do version_tap_files+=("test/t/$t.pl"); done
fi
if [ -n "$only_pg" ] && [ "$only_pg" != "$PG_MAJOR" ]; then
  test_other_version "$only_pg" "${version_tap_files[@]}"
  echo
  counts_line "" "$passed" "$failed" "$skipped"
  [ "$failed" -eq 0 ]
  exit
fi

# Our own code must build without a warning under -Wall -Wextra: WERROR=1
# makes that the compiler's rule (-Werror on our flags only, never on
# PostgreSQL's). Should it fail, the build is counted as one failure and done
# again without -Werror, so that every other suite still runs and says what
# it can.
MAKE_ARGS=(PG_CONFIG="$PG_CONFIG" WERROR=1)
build_log=$(mktemp)
if build_and_install "$build_log" WERROR=1; then
  if grep -q 'warning:' "$build_log"; then
    grep -B2 -A4 'warning:' "$build_log"
    log "build: warnings (counted as one failure)"
    count 0 1
  else
    count 1 0
  fi
else
  log "build: fails under -Werror (counted as one failure); building again without it"
  count 0 1
  MAKE_ARGS=(PG_CONFIG="$PG_CONFIG")
  build_and_install "$build_log" || { echo "0 passed, 1 failed"; exit 1; }
fi

# The C++ must be as .clang-format writes it (one test).
log "formatting (make format-check)"
format_out=$(mktemp)
if ! command -v "${CLANG_FORMAT:-clang-format}" >/dev/null; then
  echo "clang-format is not installed"
  count 0 1
elif make -C "$TOP" "${MAKE_ARGS[@]}" format-check >"$format_out" 2>&1; then
  echo "formatted as .clang-format says"
  count 1 0
else
  grep -E 'error: code should be clang-formatted' "$format_out" | sed 's/:[0-9]*:[0-9]*: error:.*//' | sort | uniq -c
  echo "$(grep -c 'error: code should be clang-formatted' "$format_out") places differ; make format applies the style"
  count 0 1
fi

# The rules of the PGXN archive's META.json: the check's (test/check_pgxn_meta.pl)
# and the claim's (scripts/dist_meta.pl), each shown to refuse what it should
# (two tests). The archive itself is made at the end, from the versions
# that passed.
log "the PGXN archive's rules (check_pgxn_meta.pl and dist_meta.pl --self-test)"
dist_out=$(mktemp)
for rules in test/check_pgxn_meta.pl scripts/dist_meta.pl; do
  if (cd "$TOP" && perl "$rules" --self-test) >"$dist_out" 2>&1; then
    tail -n 1 "$dist_out"
    count 1 0
  else
    cat "$dist_out"
    count 0 1
  fi
done

# The SigV4 suite lives beside the checkout, in the team's shared folder.
if [ -z "${PG_VIP_SIGV4_SUITE:-}" ] && [ -d "$TOP/../shared/testdata/aws-sigv4-test-suite" ]; then
  export PG_VIP_SIGV4_SUITE=$(cd "$TOP/../shared/testdata/aws-sigv4-test-suite" && pwd)
fi

work=$(make_work_tree)
# Runs a GoogleTest binary from the work tree as the server's OS user and
# counts its tests; a binary that dies before its summary counts as a failure,
# and so does a sanitizer report (ASan, UBSan, LeakSanitizer) or a non-zero
# exit after every test passed (LeakSanitizer's verdict comes at exit).
# GTEST_ENV: more environment for the binary.
GTEST_ENV=()
run_gtest() {  # title binary
  local out rc
  out=$(mktemp)
  log "$1"
  if ! make -C "$TOP" -j"$JOBS" "${MAKE_ARGS[@]}" "$2" >>"$build_log" 2>&1; then
    cat "$build_log"; count 0 1; return
  fi
  mkdir -p "$(dirname "$work/$2")"
  cp "$TOP/$2" "$work/$2" && chmod 755 "$work/$2"
  [ "$(id -u)" -eq 0 ] && chown -R postgres: "$(dirname "$work/$2")"
  (cd "$work" && as_pg env PG_VIP_SIGV4_SUITE="${PG_VIP_SIGV4_SUITE:-}" "${GTEST_ENV[@]}" "$2") >"$out" 2>&1
  rc=$?
  grep -E '^\[  (FAILED|PASSED|SKIPPED) |^\[==========\]|SigV4 suite' "$out"
  grep -B3 -A12 -E '(Failure|error: )' "$out" | head -80
  local p f s
  p=$(grep -cE '^\[       OK \]' "$out")
  f=$(grep -cE '^\[  FAILED  \] [A-Za-z].*\([0-9]+ ms\)$' "$out")
  s=$(grep -cE '^\[  SKIPPED \] [A-Za-z].*\([0-9]+ ms\)$' "$out")
  if ! grep -q '^\[==========\].*ran\.' "$out"; then
    tail -n 30 "$out"; f=$((f + 1))
  fi
  local report
  report=$(grep -nm1 -E '^==[0-9]+==ERROR: |runtime error: |^SUMMARY: [A-Za-z]*Sanitizer' "$out" | cut -d: -f1)
  if [ -n "$report" ]; then
    echo "sanitizer report (counted as one failure):"
    tail -n +"$report" "$out" | head -n 40
    f=$((f + 1))
  elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    tail -n 20 "$out"
    echo "exited with status $rc after its tests (counted as one failure)"
    f=$((f + 1))
  fi
  count "$p" "$f" "$s"
}

run_gtest "unit tests of the core (GoogleTest)" test/unit/pg_vip_unit
run_gtest "integration tests: the core against the local AWS endpoint" test/integration/pg_vip_integration

# The same two binaries built with AddressSanitizer and UBSan (make
# unit-asan, integration-asan): a second run of every test, counted as the
# first; the first report aborts the binary (halt_on_error, and UBSan built
# with -fno-sanitize-recover), leaks are reported at exit.
log "building the unit and integration tests with ASan and UBSan"
make -C "$TOP" "${MAKE_ARGS[@]}" -j"$JOBS" build/asan/pg_vip_unit build/asan/pg_vip_integration >>"$build_log" 2>&1
GTEST_ENV=(ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)
run_gtest "unit tests under ASan+UBSan" build/asan/pg_vip_unit
run_gtest "integration tests under ASan+UBSan" build/asan/pg_vip_integration
GTEST_ENV=()

# Each libFuzzer target (test/fuzz: every parser of outside input) for
# FUZZ_CI_SECONDS, two at a time (one per core), from its checked-in seeds
# (read only: new inputs go to a temporary corpus); each target is one test.
log "fuzzing: each target for ${FUZZ_CI_SECONDS:=10} s (make fuzz-build; test/fuzz/run.sh)"
fuzz_out=$(mktemp -d)
if ! command -v "${FUZZ_CXX:-clang++}" >/dev/null; then
  echo "clang++ is not installed"
  count 0 1
elif ! make -C "$TOP" "${MAKE_ARGS[@]}" -j"$JOBS" fuzz-build >"$fuzz_out/build.log" 2>&1; then
  grep -E 'error|Error' "$fuzz_out/build.log" | head -40
  echo "the fuzz targets do not build (counted as one failure)"
  count 0 1
else
  targets=$(make -s -C "$TOP" --no-print-directory "${MAKE_ARGS[@]}" print-fuzz-targets)
  # shellcheck disable=SC2016
  printf '%s\n' $targets | (cd "$TOP" && xargs -P 2 -I{} sh -c \
    'FUZZ_WORK="$1" FUZZ_SECONDS="$2" bash test/fuzz/run.sh build/fuzz/{} >"$1/{}.out" 2>&1; echo $? >"$1/{}.rc"' \
    sh "$fuzz_out" "$FUZZ_CI_SECONDS")
  for t in $targets; do
    cat "$fuzz_out/$t.out"
    if [ "$(cat "$fuzz_out/$t.rc" 2>/dev/null)" = 0 ]; then count 1 0; else count 0 1; fi
  done
fi
rm -rf "$fuzz_out"

# The simulation of the fence: every node's controller over a simulated EC2
# (test/sim); one test that fails on any violation of an invariant.
# The GUC string memory guard takes the branch meant for 15 and for 16+.
log "PostgreSQL version guard (make check-guc-memory)"
if make -C "$TOP" PG_CONFIG="$PG_CONFIG" check-guc-memory; then count 1 0; else count 0 1; fi

log "simulation of the fence (make simulate)"
sim_out=$(mktemp)
if make -C "$TOP" -j"$JOBS" "${MAKE_ARGS[@]}" test/sim/pg_vip_sim >"$sim_out" 2>&1 &&
  make -C "$TOP" "${MAKE_ARGS[@]}" simulate >>"$sim_out" 2>&1; then
  grep -E '^simulation: ' "$sim_out"
  count 1 0
else
  grep -vE '^(g\+\+|  )' "$sim_out" | head -40
  grep -E '^simulation: ' "$sim_out"
  count 0 1
fi

# The scripted scenarios: one test each, failed on a violation or when the
# scenario's expectation is not met.
log "scenarios of the simulation (make simulate-scenarios)"
if make -C "$TOP" "${MAKE_ARGS[@]}" simulate-scenarios >"$sim_out" 2>&1; then :; fi
grep -E '^(scenario |  (expectation|result|violation))' "$sim_out"
grep -E '^scenarios: ' "$sim_out"
scen_pass=$(grep -cE '^  result: pass' "$sim_out")
scen_fail=$(grep -cE '^  result: FAIL' "$sim_out")
if [ $((scen_pass + scen_fail)) -eq 0 ]; then count 0 1; else count "$scen_pass" "$scen_fail"; fi

# The fleet simulation's check: twenty clusters in one account through an
# AZ outage and the zone's return; one test.
log "fleet simulation (make simulate-fleet-check)"
if make -C "$TOP" -j"$JOBS" "${MAKE_ARGS[@]}" test/fleet/pg_vip_fleet >"$sim_out" 2>&1 &&
  make -C "$TOP" "${MAKE_ARGS[@]}" simulate-fleet-check >>"$sim_out" 2>&1; then
  grep -E '^(steady|AZ|  )' "$sim_out" | grep -vE '^  (g\+\+|-)' | head -20
  count 1 0
else
  grep -vE '^(g\+\+)' "$sim_out" | tail -30
  count 0 1
fi

# Mutation testing of the simulation (make mutate-ci): each mutation of
# src/core marked ci in test/mutate/mutations.txt, applied to a copy of the
# sources, must make the simulation report a violation; one test.
log "mutation testing of the simulation (make mutate-ci)"
mutate_out=$(mktemp)
if make -C "$TOP" "${MAKE_ARGS[@]}" mutate-ci >"$mutate_out" 2>&1; then
  grep -E '^mutations: ' "$mutate_out"
  count 1 0
else
  grep -vE '^(caught|mutations:|g\+\+|  )' "$mutate_out" | head -40
  grep -E '^mutations: ' "$mutate_out"
  count 0 1
fi
rm -f "$mutate_out"

# `make installcheck` runs pg_regress and then the TAP tests; here they run
# apart (TAP_TESTS= leaves pg_regress alone), so that each is counted even
# when the other fails, and the TAP tests per assertion.
log "pg_regress (make installcheck TAP_TESTS=)"
run_regress "$work"

# test/run_tap.pl stands in for prove: the same run, and a count of the
# assertions ("tap totals: N passed, M failed, K skipped"); one file per
# core at once (each file starts its own servers and endpoint).
log "TAP tests (make check-tap), $JOBS files at once"
tap_out=$(mktemp)
(cd "$work" && as_pg env PG_VIP_SIGV4_SUITE="${PG_VIP_SIGV4_SUITE:-}" \
   make PG_CONFIG="$PG_CONFIG" check-tap PROVE="perl test/run_tap.pl -j $JOBS") 2>&1 | tee "$tap_out"
read -r tp tf ts < <(tap_totals "$tap_out")
if [ "$tf" -gt 0 ]; then
  for f in "$work"/tmp_check/log/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done
fi
count "$tp" "$tf" "$ts"

# The lab (test/lab/t): network namespaces with real routing, real repmgr,
# Patroni and pg_auto_failover, a client writing through the VIP. It needs
# root (it makes namespaces and runs each server as postgres inside them):
# without root or namespaces its files are skipped, and counted so.
log "the lab: failovers under real managers, a client through the VIP (test/lab/t)"
lab_out=$(mktemp)
(cd "$TOP" && perl test/run_tap.pl -I test/perl test/lab/t/*.pl) 2>&1 | tee "$lab_out"
read -r tp tf ts < <(tap_totals "$lab_out")
count "$tp" "$tf" "$ts"

# The Debian package, built, installed and tested with pg_regress
# (scripts/deb_package.sh; each other version does the same in its chroot).
test_debian_package

# Keep the work tree (logs, regression.diffs) only when something failed.
if [ "$failed" -eq 0 ]; then rm -rf "$work"; else echo "logs kept in $work"; fi
version_lines+=("$(counts_line "postgresql $PG_MAJOR: " "$passed" "$failed" "$skipped")")
record_lines+=("postgresql $PG_MAJOR passed $passed failed $failed skipped $skipped")

if [ -z "$only_pg" ]; then
  for v in "${OTHER_PG_VERSIONS[@]}"; do test_other_version "$v" "${version_tap_files[@]}"; done
  make_dist_from_record
fi

echo
echo "time: $((SECONDS / 60))m$((SECONDS % 60))s"
printf '%s\n' "${version_lines[@]}"
counts_line "" "$passed" "$failed" "$skipped"
[ "$failed" -eq 0 ]
