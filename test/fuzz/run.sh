#!/usr/bin/env bash
# Runs one libFuzzer target (built by `make fuzz-build` into build/fuzz/) and
# says what it did, in one line:
#   fuzz <target>: N executions in S s (E exec/s), corpus +K inputs, no finding
# or the finding, its report and its reproducer (kept in FUZZ_CRASHES, and
# printed in base64 when small), exiting non-zero.
#
#   bash test/fuzz/run.sh build/fuzz/<target>
#
# FUZZ_SECONDS  how long (default 60); FUZZ_RUNS caps the executions instead/too
# FUZZ_WORK     the folder holding the working corpus, one subfolder per target
#               (default build/fuzz/corpus; CI gives a temporary one)
# FUZZ_CRASHES  where findings are written (default test/fuzz/crashes)
# FUZZ_TIMEOUT  seconds one input may take before it counts as a hang (10)
# FUZZ_ARGS     more libFuzzer flags (e.g. "-fork=1 -ignore_crashes=1" to go on
#               past a known finding in a long run)
# The checked-in seeds, test/fuzz/corpus/<target>, are read but never written:
# libFuzzer writes new inputs only into the first folder it is given, the
# working corpus.
set -uo pipefail
bin=${1:?usage: run.sh build/fuzz/<target>}
target=$(basename "$bin")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
seeds=$here/corpus/$target
work=${FUZZ_WORK:-build/fuzz/corpus}/$target
crashes=${FUZZ_CRASHES:-$here/crashes}
mkdir -p "$work" "$crashes"
[ -d "$seeds" ] || { echo "fuzz $target: no seed corpus in $seeds"; exit 1; }

args=(-max_total_time="${FUZZ_SECONDS:-60}" -timeout="${FUZZ_TIMEOUT:-10}" -report_slow_units="${FUZZ_TIMEOUT:-10}"
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/$target-")
[ -n "${FUZZ_RUNS:-}" ] && args+=(-runs="$FUZZ_RUNS")
[ -f "$here/$target.dict" ] && args+=(-dict="$here/$target.dict")
# shellcheck disable=SC2206
[ -n "${FUZZ_ARGS:-}" ] && args+=($FUZZ_ARGS)
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

log=$(mktemp)
before=$(find "$work" -type f | wc -l)
"$bin" "${args[@]}" "$work" "$seeds" >"$log" 2>&1
rc=$?
after=$(find "$work" -type f | wc -l)
final_stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -n 1; }
runs=$(final_stat number_of_executed_units)
rate=$(final_stat average_exec_per_sec)
secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
# -fork mode prints no final stats: its last "#N: cov: ... exec/s: E" line says.
[ -n "$runs" ] || runs=$(sed -n 's/^#\([0-9]*\): cov:.*/\1/p' "$log" | tail -n 1)
[ -n "$rate" ] || rate=$(sed -n 's/^#[0-9]*: cov:.* exec\/s:\{0,1\} \([0-9]*\).*/\1/p' "$log" | tail -n 1)
# A finding's input (crash-, timeout-, oom-, leak-); a slow-unit- file only
# says an input took long on a busy machine.
artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | grep -vE '/[^/]*slow-unit-[^/]*$' | tail -n 1)

if [ "$rc" -eq 0 ] && [ -z "$artifact" ] && [ -n "$runs" ]; then
  echo "fuzz $target: ${runs} executions in ${secs:-?} s (${rate:-?} exec/s), corpus +$((after - before)) inputs, no finding"
  rm -f "$log"
  exit 0
fi
echo "fuzz $target: FINDING after ${runs:-?} executions (exit status $rc)"
# The report: from the first error line on, without libFuzzer's own frames.
first=$(grep -nm1 -E 'runtime error:|^==[0-9]+==ERROR|fuzz property violated|^ERROR:|uncaught exception|terminate called' "$log" | cut -d: -f1)
if [ -n "$first" ]; then
  tail -n +"$first" "$log" | grep -vE 'in fuzzer::|^(MS:|base unit:|0x)|NOTE: libFuzzer|Combine libFuzzer' | head -n 40
else
  tail -n 30 "$log"
fi
if [ -n "$artifact" ] && [ -f "$artifact" ]; then
  echo "reproducer: $artifact ($(wc -c <"$artifact") bytes); replay: $bin $artifact"
  [ "$(wc -c <"$artifact")" -le 4096 ] && { echo "reproducer (base64):"; base64 "$artifact"; }
fi
echo "full log: $log"
exit 1
