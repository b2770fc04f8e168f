#!/usr/bin/env bash
# The pg_vip benchmark (see bench/bench.py): promotion-to-VIP latency for
# N = 1, 10, 50 route tables at 0 and 20 ms EC2 delay, against the hook
# script that calls the AWS CLI per table; idle cost of a standby's worker.
# Writes bench-results/results.md, results.csv and latency.png.
# Extra arguments go to bench.py (e.g. --runs 3 --idle-seconds 10 for a quick look).
#
#   scripts/bench.sh lab [lab_bench.py options]
# The benchmark a user cares about (see bench/lab_bench.py): the client's
# write downtime through repmgr failovers in the lab (scripts/lab.sh), split
# into detection, promotion, VIP move and reconnect, with pg_vip and with the
# tutorial's hook, for N = 1, 3, 10 route tables; planned switchovers too.
# Runs as root (network namespaces). Writes bench-results/lab/results.md,
# results.csv and timeline.png. A quick look: --runs 2 --tables 1,10.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PACKAGES+=(gnuplot-nox)

if [ "${1:-}" = lab ]; then
  shift
  [ "$(id -u)" -eq 0 ] || { echo "scripts/bench.sh lab: run as root (the lab makes network namespaces)" >&2; exit 1; }
  install_packages
  build_and_install "$(mktemp)"
  start=$(date +%s)
  /usr/bin/python3 "$TOP/bench/lab_bench.py" --out "$TOP/bench-results/lab" "$@"
  echo "wall time: $(($(date +%s) - start)) s"
  exit 0
fi

install_packages
build_and_install "$(mktemp)"

# Runs from a copy the postgres user can read (a clone under /root is not).
work=$(make_work_tree)
(cd "$work" && as_pg env PG_CONFIG="$PG_CONFIG" /usr/bin/python3 bench/bench.py --out "$work/bench-results" "$@")
out="$TOP/bench-results"
mkdir -p "$out"
cp "$work"/bench-results/* "$out/"
rm -rf "$work"
echo
echo "written: $out/results.md, $out/results.csv, $out/latency.png"
