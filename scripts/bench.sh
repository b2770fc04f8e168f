#!/usr/bin/env bash
# The pg_vip benchmark (see bench/bench.py): promotion-to-VIP latency for
# N = 1, 10, 50 route tables at 0 and 20 ms EC2 delay, against the hook
# script that calls the AWS CLI per table; idle cost of a standby's worker.
# Writes bench-results/results.md, results.csv and latency.png.
# Extra arguments go to bench.py (e.g. --runs 3 --idle-seconds 10 for a quick look).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PACKAGES+=(gnuplot-nox)
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
