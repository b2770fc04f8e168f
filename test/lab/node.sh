# shellcheck shell=bash
# A database node of the lab: PostgreSQL 15 as the postgres OS user inside
# the node's namespace, listening on its own address and on the VIP, port
# 5432 (each node has its own network), its socket in $LAB_DIR/<node>.
# pg_vip as a user would set it up: the instance's metadata service (the
# lab's endpoint, never 169.254.169.254) gives the interface, region and role
# credentials; nothing in it names the failover manager.
# Sourced by scripts/lab.sh, after net.sh and aws.sh.

node_dir() { printf '%s/%s' "$LAB_DIR" "$1"; }
node_data() { printf '%s/%s/data' "$LAB_DIR" "$1"; }

# The whole environment of what the lab runs as postgres: nothing of the
# caller's (no AWS_* keys or profile, no PG* settings) reaches a server, a
# manager or the hook.
lab_pg_env() {  # name
  printf '%s\n' "PATH=$PG_BINDIR:/usr/sbin:/usr/bin:/sbin:/bin" "HOME=$(node_dir "$1")" "LANG=C.UTF-8"
}

# Runs a command as postgres inside the node's namespace.
as_pg_in() {
  local name=$1
  shift
  in_ns "$name" runuser -u postgres -- env -i $(lab_pg_env "$name") "$@"
}

# psql on a node through its socket (works whatever its network does).
node_sql() {  # name sql [psql options]
  local name=$1 sql=$2
  shift 2
  runuser -u postgres -- "$PG_BINDIR/psql" -X -q -At -h "$(node_dir "$name")" -p 5432 -d postgres \
    -v ON_ERROR_STOP=1 "$@" -c "$sql"
}

# The settings every node shares: replication as a manager needs it (pg_rewind
# needs wal_log_hints), and pg_vip. $1: the libraries the manager preloads.
# With LAB_MOVER=hook (the benchmark's comparison) pg_vip is not loaded at all.
node_common_conf() {
  cat <<CONF
# The lab's settings (test/lab/node.sh)
port = 5432
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
wal_log_hints = on
log_line_prefix = '%m [%p] '
logging_collector = off
include_if_exists = 'lab_node.conf'
CONF
  if [ "${LAB_MOVER:-pg_vip}" = hook ]; then
    echo "shared_preload_libraries = '${1:-}'  # the VIP is moved by the tutorial's hook"
    return
  fi
  cat <<CONF
shared_preload_libraries = '${1:+$1, }pg_vip'
pg_vip.vip = '$LAB_VIP/32'
pg_vip.route_tables = '$(lab_tables)'
pg_vip.network_interface = 'auto'
pg_vip.ec2_endpoint = '$LAB_EC2'
pg_vip.check_interval = '1s'
CONF
}

# What differs from node to node, in data/lab_node.conf (a clone copies the
# file: the manager's clone step rewrites it for the new node).
node_own_conf() {  # name
  cat <<CONF
listen_addresses = '$(host_addr "$1"), $LAB_VIP'
unix_socket_directories = '$(node_dir "$1")'
cluster_name = '$1'
lab.node_name = '$1'
CONF
  [ "${LAB_MOVER:-pg_vip}" = hook ] && return
  cat <<CONF
pg_vip.node_name = '$1'
pg_vip.imds_endpoint = '$(imds_of "$1")'
CONF
}

node_hba() {
  cat <<HBA
# The lab is sealed (no route out of it): trust inside its VPC.
local all all trust
local replication all trust
host all all $LAB_VPC_CIDR trust
host replication all $LAB_VPC_CIDR trust
HBA
}

node_write_own_conf() {  # name
  node_own_conf "$1" >"$(node_data "$1")/lab_node.conf"
  chown postgres: "$(node_data "$1")/lab_node.conf"
}

# A new primary's data directory: initdb, the lab's settings.
node_init() {  # name preload
  local name=$1
  mkdir -p "$(node_dir "$name")"
  chown postgres: "$(node_dir "$name")"
  as_pg_in "$name" initdb -D "$(node_data "$name")" -A trust -U postgres >/dev/null
  node_common_conf "${2:-}" >>"$(node_data "$name")/postgresql.conf"
  node_hba >"$(node_data "$name")/pg_hba.conf"
  node_write_own_conf "$name"
}

node_start() {  # name
  as_pg_in "$1" pg_ctl -D "$(node_data "$1")" -l "$(node_dir "$1")/postgresql.log" -w -t 60 start >/dev/null
}
node_stop() {  # name [mode]
  as_pg_in "$1" pg_ctl -D "$(node_data "$1")" -m "${2:-fast}" -w -t 60 stop >/dev/null 2>&1 || true
}

# The node's PostgreSQL dies at once: SIGKILL to the postmaster and to every
# process it started (a crash of the whole server, nothing shut down).
node_kill() {  # name
  local pid
  pid=$(head -n 1 "$(node_data "$1")/postmaster.pid" 2>/dev/null) || return 0
  [ -n "$pid" ] || return 0
  # A stale file's pid may be any process now: only the node's own postmaster.
  [ "$(ip netns identify "$pid" 2>/dev/null)" = "$(ns_of "$1")" ] || return 0
  kill -STOP "$pid" 2>/dev/null || return 0
  pkill -KILL -P "$pid" 2>/dev/null || true
  kill -KILL "$pid" 2>/dev/null || true
}

node_running() { as_pg_in "$1" pg_ctl -D "$(node_data "$1")" status >/dev/null 2>&1; }

# primary, standby or down
node_role() {
  local r
  r=$(node_sql "$1" 'SELECT pg_is_in_recovery()' 2>/dev/null) || { echo down; return; }
  [ "$r" = f ] && echo primary || echo standby
}

node_vip_state() { node_sql "$1" 'SELECT state FROM vip_status()' 2>/dev/null || echo "-"; }

# Waits until the node's pg_vip state is $2 (seconds: $3).
node_wait_vip_state() {
  local i
  for ((i = 0; i < ${3:-30} * 10; i++)); do
    [ "$(node_vip_state "$1")" = "$2" ] && return 0
    sleep 0.1
  done
  echo "$1: pg_vip state is $(node_vip_state "$1"), not $2, after ${3:-30} s"
  return 1
}
