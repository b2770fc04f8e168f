#!/usr/bin/env bash
# pg_vip demo: a primary and a streaming standby on this machine, both with
# pg_vip; shows vip_status() before and after promoting the standby.
# Installs what it needs (as root), builds and installs pg_vip, cleans up after.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

install_packages
build_and_install "$(mktemp)"

DIR=$(mktemp -d /tmp/pg_vip_demo.XXXXXX)
chmod 755 "$DIR"
[ "$(id -u)" -eq 0 ] && chown postgres: "$DIR"
PORT_A=${PG_VIP_DEMO_PORT:-55432}
PORT_B=$((PORT_A + 1))

cleanup() {
  as_pg pg_ctl -D "$DIR/node-b" -m immediate stop >/dev/null 2>&1 || true
  as_pg pg_ctl -D "$DIR/node-a" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT

node_conf() {  # name port eni
  cat <<CONF
port = $2
listen_addresses = ''
unix_socket_directories = '$DIR'
shared_preload_libraries = 'pg_vip'
log_line_prefix = '%m [%p] '
pg_vip.node_name = '$1'
pg_vip.vip = '10.0.99.10/32'
pg_vip.route_tables = 'rtb-0a000001, rtb-0a000002, rtb-0a000003'
pg_vip.network_interface = '$3'
pg_vip.region = 'us-east-1'
# No traffic leaves this machine: both endpoints point at loopback.
pg_vip.ec2_endpoint = 'http://127.0.0.1:9'
pg_vip.imds_endpoint = 'http://127.0.0.1:9'
CONF
}

psql_on() { as_pg psql -X -q -h "$DIR" -p "$1" -d postgres "${@:2}"; }
show() {  # title port
  printf '\n-- %s\n' "$1"
  psql_on "$2" -c "SELECT node_name, role, state, timeline, promoted_at, primary_by, route_tables, worker_pid FROM vip_status()"
}

log "starting node-a (primary) on port $PORT_A"
as_pg initdb -D "$DIR/node-a" -A trust >/dev/null
node_conf node-a "$PORT_A" eni-0a00000a >>"$DIR/node-a/postgresql.conf"
as_pg pg_ctl -D "$DIR/node-a" -l "$DIR/node-a.log" -w start >/dev/null
psql_on "$PORT_A" -c 'CREATE EXTENSION pg_vip'

log "starting node-b (streaming standby) on port $PORT_B"
as_pg pg_basebackup -h "$DIR" -p "$PORT_A" -D "$DIR/node-b" -R -X stream
node_conf node-b "$PORT_B" eni-0b00000b >>"$DIR/node-b/postgresql.conf"
as_pg pg_ctl -D "$DIR/node-b" -l "$DIR/node-b.log" -w start >/dev/null
sleep 0.5

show "node-a before the failover" "$PORT_A"
show "node-b before the failover" "$PORT_B"

log "stopping node-a and promoting node-b with pg_promote()"
as_pg pg_ctl -D "$DIR/node-a" -m fast -w stop >/dev/null
psql_on "$PORT_B" -c 'SELECT pg_promote(wait => true) AS promoted'
sleep 0.2
show "node-b after the promotion" "$PORT_B"
printf '\n-- what node-b logged\n'
grep -F 'pg_vip: ' "$DIR/node-b.log" || true
log "done"
