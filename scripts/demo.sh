#!/usr/bin/env bash
# pg_vip demo: the tutorial's failover, in a VPC in a box on this machine.
#
# The lab (scripts/lab.sh): network namespaces for a VPC router, two
# database instances with the VIP bound on each, and an application host;
# the project's AWS endpoint keeps the router's routing equal to its route
# tables. repmgr runs with failover=automatic, as in the tutorial, but
# pg_vip moves the VIP instead of the hook script. A client writes through
# the VIP all along. Then: the primary is killed; repmgrd promotes the
# standby, pg_vip moves the VIP, the client's writes resume (the gap is
# measured); the old primary comes back as a primary and is fenced; `repmgr
# node rejoin --force-rewind` makes it a standby.
# Run as root (it makes network namespaces). Installs what it needs, builds
# and installs pg_vip, and removes everything it made when it ends.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

install_packages
build_and_install "$(mktemp)"

PG_VIP_LAB_DIR=$(mktemp -d /tmp/pg_vip_demo.XXXXXX)
export PG_VIP_LAB_DIR
lab() { bash "$TOP/scripts/lab.sh" "$@"; }
trap 'lab down >/dev/null 2>&1 || true; rm -rf "$PG_VIP_LAB_DIR"' EXIT

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
sql() { lab sql "$@"; }
status() {
  for n in node-a node-b; do
    printf '  %s: ' "$n"
    sql "$n" "SELECT CASE WHEN pg_is_in_recovery() THEN 'standby' ELSE 'primary' END || ', pg_vip ' || state || ', timeline ' || timeline || coalesce(', holder ' || holder, '') FROM vip_status()" 2>/dev/null || echo down
  done
  echo "  the router sends the VIP's packets to: $(lab vip-host)"
}
report() { lab client report "$@"; }

say "1. The lab: repmgr on node-a (primary) and node-b (standby), pg_vip on both, 3 route tables"
lab up --manager repmgr --tables 3
status
sleep 2
echo "  the client, through the VIP: $(report --brief)"

say "2. The primary dies: node-a's PostgreSQL is killed"
t0=$(date +%s.%N)
lab failover --how kill
sql node-b "SELECT route_table_id, target, state FROM vip_routes()" | sed 's/^/  /'
sleep 2
status
/usr/bin/python3 - "$(report --since "$t0" --json)" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
o = r["outage"]
print(f"  the client's writes: last acknowledged by {o['last_node']}, then {o['failed_attempts']} failed attempts, "
      f"then acknowledged by {o['first_node']}: a gap of {o['seconds'] * 1000:.0f} ms "
      "(repmgrd's detection, PostgreSQL's promotion, the VIP's move and the client's reconnect)")
PY
echo "  node-b's log:"
grep -E 'pg_vip: (this node|VIP)|pointed' "$PG_VIP_LAB_DIR/node-b/postgresql.log" | head -n 3 | sed 's/^/    /'

say "3. The tutorial's split brain: node-a comes back as a primary"
t1=$(date +%s.%N)
lab start node-a
for _ in $(seq 1 100); do
  [ "$(sql node-a 'SELECT state FROM vip_status()' 2>/dev/null)" = fenced ] && break
  sleep 0.1
done
sleep 2
status
echo "  repmgr service status:"
lab service-status node-b | sed 's/^/    /'
echo "  the client since node-a came back: $(report --since "$t1" --brief)"
grep -E 'WARNING:  pg_vip' "$PG_VIP_LAB_DIR/node-a/postgresql.log" | tail -n 1 | sed 's/^/    /'

say "4. repmgr node rejoin --force-rewind: node-a becomes a standby of node-b"
lab rejoin node-a | grep -E 'NOTICE: NODE REJOIN|DETAIL: node' | sed 's/^/  /'
for _ in $(seq 1 100); do
  [ "$(sql node-a 'SELECT state FROM vip_status()' 2>/dev/null)" = standby ] && break
  sleep 0.1
done
status
lab client stop
/usr/bin/python3 - "$(report --check node-b --json)" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print(f"  the client: {r['acked']} commits acknowledged; missing on node-b: {r['lost']} "
      f"(by node: {r['lost_by_node'] or 'none'}; asynchronous replication may lose what only node-a had)")
PY

say "Done: the VIP followed repmgr's choice, the stale primary never got it back, and the lab is removed."
