#!/usr/bin/env bash
# pg_vip demo: a local failover, end to end, on this machine only.
#
# Starts the project's AWS-compatible endpoint in its shared world,
# test/fake_aws/world.json (a VPC with three route tables and two instances,
# each with its own instance metadata service), a primary
# (node-a) and a streaming standby (node-b) with pg_vip, then fails over:
# node-a stops, node-b is promoted and takes the virtual IP on every route
# table; node-a comes back as a primary and is fenced.
# Installs what it needs (as root), builds and installs pg_vip, cleans up after.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

install_packages
build_and_install "$(mktemp)"

DIR=$(mktemp -d /tmp/pg_vip_demo.XXXXXX)
chmod 755 "$DIR"
[ "$(id -u)" -eq 0 ] && chown postgres: "$DIR"
# The endpoint runs as postgres, from a copy it can read (a clone under /root is not).
WORK=$(make_work_tree)
PORT_A=${PG_VIP_DEMO_PORT:-55432}
PORT_B=$((PORT_A + 1))
# The VIP and the route tables are the shared world's.
read -r VIP TABLES < <(/usr/bin/python3 -c 'import json, sys; w = json.load(open(sys.argv[1]))
print(w["vip"], ", ".join(t["id"] for t in w["route_tables"]))' "$TOP/test/fake_aws/world.json")
FAKE_PID=

cleanup() {
  as_pg pg_ctl -D "$DIR/node-b" -m immediate stop >/dev/null 2>&1 || true
  as_pg pg_ctl -D "$DIR/node-a" -m immediate stop >/dev/null 2>&1 || true
  # runuser forks: stop the endpoint itself, by the pid it answered.
  [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null || true
  rm -rf "$DIR" "$WORK"
}
trap cleanup EXIT

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
psql_on() { as_pg psql -X -q -h "$DIR" -p "$1" -d postgres "${@:2}"; }
wait_state() {  # port state seconds
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    [ "$(psql_on "$1" -Atc 'SELECT state FROM vip_status()')" = "$2" ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for state $2"; psql_on "$1" -c 'SELECT * FROM vip_status()'; return 1
}
# What the AWS endpoint holds: where the VIP's route points in each table.
show_vpc() {
  /usr/bin/python3 - "$(curl -s "$EC2_URL/_fake/state")" "$VIP" <<'PY'
import json, sys
state, vip = json.loads(sys.argv[1]), sys.argv[2]
print("  route table    VIP route target       fence tag")
for rtb, t in sorted(state["tables"].items()):
    route = next((r for r in t["routes"] if r["destination"] == vip), None)
    target = "(no route)" if route is None else route.get("eni") + ("  BLACKHOLE" if route["state"] == "blackhole" else "")
    print(f"  {rtb:<14} {target:<22} {t['tags'].get('pg_vip:' + vip, '-')}")
PY
}
status() {  # port
  psql_on "$1" -c "SELECT node_name, role, state, timeline, network_interface AS eni, routes_held, round(last_claim_ms::numeric, 1) AS claim_ms, holder, holder_timeline, left(last_error, 60) AS last_error FROM vip_status()"
}

say "1. The local AWS endpoint: a VPC with three route tables and two instances"
# It answers on its stdout, one JSON line, once it listens (end of file: it failed).
exec {FAKE_OUT}< <(as_pg /usr/bin/python3 "$WORK/test/fake_aws/server.py" --log "$DIR/requests.jsonl" 2>"$DIR/fake.err")
read -r -t 20 -u "$FAKE_OUT" ANSWER || { echo "the AWS endpoint did not start:"; cat "$DIR/fake.err"; exit 1; }
read -r FAKE_PID EC2_URL IMDS_A IMDS_B < <(/usr/bin/python3 -c 'import json, sys; a = json.loads(sys.argv[1])
print(a["pid"], a["ec2"], a["imds"]["i-0a000001"], a["imds"]["i-0b000001"])' "$ANSWER")
echo "  EC2 API at $EC2_URL (every signature checked by botocore); instance metadata for i-0a000001 at $IMDS_A, i-0b000001 at $IMDS_B"
show_vpc

node_conf() {  # name port imds_url
  cat <<CONF
port = $2
listen_addresses = ''
unix_socket_directories = '$DIR'
log_line_prefix = '%m [%p] '
shared_preload_libraries = 'pg_vip'
pg_vip.node_name = '$1'
pg_vip.vip = '$VIP'
pg_vip.route_tables = '$TABLES'
pg_vip.network_interface = 'auto'  # from instance metadata (IMDSv2)
pg_vip.ec2_endpoint = '$EC2_URL'
pg_vip.imds_endpoint = '$3'  # region, interface and role credentials come from here
pg_vip.check_interval = '2s'
CONF
}
# The servers see no AWS credentials but the instance role's.
export AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE=/dev/null
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION \
  AWS_ENDPOINT_URL AWS_ENDPOINT_URL_EC2 AWS_EC2_METADATA_DISABLED

say "2. node-a: a primary with pg_vip (port $PORT_A), on instance i-0a000001"
as_pg initdb -D "$DIR/node-a" -A trust >/dev/null
node_conf node-a "$PORT_A" "$IMDS_A" >>"$DIR/node-a/postgresql.conf"
as_pg pg_ctl -D "$DIR/node-a" -l "$DIR/node-a.log" -w start >/dev/null
psql_on "$PORT_A" -c 'CREATE EXTENSION pg_vip'
wait_state "$PORT_A" held 20
status "$PORT_A"
echo "  It started as primary on a VPC with no fence tag, so it claimed the VIP (creating the missing route):"
show_vpc

say "3. node-b: a streaming standby (port $PORT_B), on instance i-0b000001"
as_pg pg_basebackup -h "$DIR" -p "$PORT_A" -D "$DIR/node-b" -R -X stream
node_conf node-b "$PORT_B" "$IMDS_B" >>"$DIR/node-b/postgresql.conf"
as_pg pg_ctl -D "$DIR/node-b" -l "$DIR/node-b.log" -w start >/dev/null
wait_state "$PORT_B" standby 20
sleep 2.5  # one check interval: the standby reads the routes (never writes)
status "$PORT_B"
psql_on "$PORT_B" -c 'SELECT route_table_id, target, state, holder, holder_timeline FROM vip_routes()'

say "4. Failover: node-a stops, node-b is promoted with pg_promote()"
as_pg pg_ctl -D "$DIR/node-a" -m immediate -w stop >/dev/null
start_ns=$(date +%s%N)
psql_on "$PORT_B" -Atc 'SELECT pg_promote(wait => true)' >/dev/null
wait_state "$PORT_B" held 20
end_ns=$(date +%s%N)
status "$PORT_B"
show_vpc
psql_on "$PORT_B" -c "SELECT to_char(at, 'HH24:MI:SS.MS') AS at, event, success, details FROM vip_events()"
echo "  From pg_promote() to every route verified on node-b: $(( (end_ns - start_ns) / 1000000 )) ms (this includes PostgreSQL's own promotion and the demo's 100 ms polling)."
echo "  node-b's log:"
grep -E 'pg_vip: (this node|VIP)' "$DIR/node-b.log" | sed 's/^/    /'

say "5. The old primary comes back as a primary: it must not take the VIP back"
changes_before=$(grep -c '"changing": true' "$DIR/requests.jsonl" || true)
as_pg pg_ctl -D "$DIR/node-a" -l "$DIR/node-a.log" -w start >/dev/null
wait_state "$PORT_A" fenced 20
sleep 2.5
status "$PORT_A"
changes_after=$(grep -c '"changing": true' "$DIR/requests.jsonl" || true)
echo "  Changing requests sent to AWS since node-a came back: $((changes_after - changes_before))"
show_vpc
grep -E 'WARNING:  pg_vip' "$DIR/node-a.log" | tail -n 1 | sed 's/^/    /'

say "Done: the VIP moved to node-b on all three route tables, and the stale node-a is fenced."
