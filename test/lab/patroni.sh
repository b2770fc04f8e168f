# shellcheck shell=bash
# Patroni in the lab (Debian's patroni 3.0.2 and etcd-server 3.4): one etcd
# in the router's namespace on the lab's service address (10.0.0.1:2379,
# peers on :2380, nothing else), Patroni on node-a and node-b, each in its
# node's namespace as the postgres OS user, its REST API on the node's own
# address (port 8008), PostgreSQL on the node's address and the VIP, port
# 5432. Patroni talks to etcd through etcd's v3 gRPC gateway (`etcd3:`).
# Short DCS timings so a test sees a failover in seconds; with
# primary_start_timeout 0 a crashed primary is failed over at once instead
# of being restarted in place (Patroni's own setting, documented for this).
#
# pg_vip's settings are the lab's, word for word: node_common_conf and
# node_own_conf (test/lab/node.sh) are written to the node's directory and
# given to Patroni as `custom_conf`, which the postgresql.conf Patroni writes
# includes first. Nothing in it is specific to Patroni. One thing Patroni
# does not let through: it always starts PostgreSQL with
# --cluster_name=<scope>, so the node's name also goes in lab.node_name (node_own_conf writes it).
#
# Sourced by scripts/lab.sh. Functions: patroni_up, patroni_switchover,
# patroni_rejoin, patroni_service_status.

PATRONI=/usr/bin/patroni
PATRONICTL=/usr/bin/patronictl
ETCD=/usr/bin/etcd
PATRONI_SCOPE=pgvip-lab
PATRONI_PORT=8008

patroni_conf() { printf '%s/patroni.yml' "$(node_dir "$1")"; }

patroni_write_conf() {  # name
  local name=$1 dir addr hba line
  dir=$(node_dir "$name")
  addr=$(host_addr "$name")
  node_mkdir "$name"
  # The lab's settings, as every manager has them, included by Patroni's
  # postgresql.conf; their include_if_exists 'lab_node.conf' is this node's.
  node_common_conf "" | pg_write "$dir/lab.conf"
  node_own_conf "$name" | pg_write "$dir/lab_node.conf"
  hba=""
  while IFS= read -r line; do
    case $line in '#'* | '') continue ;; esac
    hba+="    - $line"$'\n'
  done < <(node_hba)
  pg_write "$(patroni_conf "$name")" <<YAML
scope: $PATRONI_SCOPE
name: $name
log:
  level: INFO
restapi:
  listen: $addr:$PATRONI_PORT
  connect_address: $addr:$PATRONI_PORT
etcd3:
  hosts: $LAB_SERVICES:2379
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 1
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    primary_start_timeout: 0
    postgresql:
      use_pg_rewind: true
      use_slots: true
  initdb:
    - encoding: UTF8
    - auth: trust
postgresql:
  listen: $addr,$LAB_VIP:5432
  connect_address: $addr:5432
  data_dir: $(node_data "$name")
  bin_dir: $PG_BINDIR
  custom_conf: $dir/lab.conf
  pgpass: $dir/pgpass
  authentication:
    superuser:
      username: postgres
    replication:
      username: replicator
    rewind:
      username: postgres
  basebackup:
    - checkpoint: fast
  pg_hba:
$hba
YAML
}

# The Patroni daemon of the node (its pid), if it runs.
patroni_pid() {  # name
  local pid
  for pid in $(ip netns pids "$(ns_of "$1")" 2>/dev/null); do
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "^/usr/bin/python3 $PATRONI $(patroni_conf "$1")"; then
      echo "$pid"; return 0
    fi
  done
  return 1
}

patroni_start() {  # name
  local name=$1
  patroni_pid "$name" >/dev/null && return 0
  as_pg_in_logged "$name" "$(node_dir "$name")/patroni.log" setsid "$PATRONI" "$(patroni_conf "$name")" \
    </dev/null >/dev/null 2>&1 &
}

# Patroni's daemon on the node stopped at once (SIGKILL): its PostgreSQL
# runs on, unmanaged.
patroni_kill() {  # name
  local pid
  pid=$(patroni_pid "$1") && kill -KILL "$pid" 2>/dev/null
  return 0
}

# The REST API's answer code for a path on the node (000: no answer).
patroni_api() {  # name path
  in_ns "$1" curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
    "http://$(host_addr "$1"):$PATRONI_PORT/$2" 2>/dev/null || true
}

patronictl_in() {  # name patronictl arguments...
  local name=$1
  shift
  as_pg_in "$name" "$PATRONICTL" -c "$(patroni_conf "$name")" "$@"
}

etcd_up() {
  local i
  in_ns router setsid "$ETCD" --name lab --data-dir "$LAB_DIR/etcd" \
    --listen-client-urls "http://$LAB_SERVICES:2379" --advertise-client-urls "http://$LAB_SERVICES:2379" \
    --listen-peer-urls "http://$LAB_SERVICES:2380" --initial-advertise-peer-urls "http://$LAB_SERVICES:2380" \
    --initial-cluster "lab=http://$LAB_SERVICES:2380" --initial-cluster-state new \
    >>"$LAB_DIR/etcd.log" 2>&1 </dev/null &
  for ((i = 0; i < 100; i++)); do
    [ "$(in_ns router curl -s --max-time 1 "http://$LAB_SERVICES:2379/health" 2>/dev/null)" = '{"health":"true"}' ] && return 0
    sleep 0.2
  done
  echo "etcd did not start:"; tail -n 20 "$LAB_DIR/etcd.log"; return 1
}

# Waits until $2 (seconds: $3) holds; says what it waited for if it never did.
patroni_wait() {  # what seconds command...
  local what=$1 secs=$2 i
  shift 2
  for ((i = 0; i < secs * 5; i++)); do
    "$@" && return 0
    sleep 0.2
  done
  echo "patroni: $what not after $secs s"
  return 1
}

patroni_is_leader() {  # name: leader, running and writable
  [ "$(patroni_api "$1" primary)" = 200 ] && [ "$(node_sql "$1" 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]
}

patroni_is_streaming() {  # name upstream
  [ "$(node_sql "$2" "SELECT state FROM pg_stat_replication WHERE application_name = '$1'" 2>/dev/null)" = streaming ]
}

patroni_up() {
  local n
  etcd_up
  for n in node-a node-b; do patroni_write_conf "$n"; done
  # node-a first: it bootstraps the cluster (initdb) and takes the leader key.
  patroni_start node-a
  patroni_wait "node-a the writable leader" 90 patroni_is_leader node-a ||
    { pg_show "$(node_dir node-a)/patroni.log"; return 1; }
  [ "${LAB_MOVER:-pg_vip}" = hook ] || node_sql node-a "CREATE EXTENSION IF NOT EXISTS pg_vip"
  # node-b: a replica made by Patroni (pg_basebackup from the leader).
  patroni_start node-b
  patroni_wait "node-b streaming from node-a" 120 patroni_is_streaming node-b node-a ||
    { pg_show "$(node_dir node-b)/patroni.log"; return 1; }
}

# Planned switchover to the standby, from the candidate's node.
patroni_switchover() {  # new primary
  local out
  out=$(patronictl_in "$1" switchover --candidate "$1" --force 2>&1)
  echo "$out"
  case $out in *"failed, details"* | *Error* | *rror:*) return 1 ;; esac
}

# Patroni brings a stale primary back on its own (pg_rewind onto the new
# timeline, then a standby of the leader): its daemon started if it does not
# run, then a wait until the node streams from the other.
patroni_rejoin() {  # name new_primary
  patroni_start "$1"
  patroni_wait "$1 streaming from $2" "${LAB_REJOIN_WAIT:-90}" patroni_is_streaming "$1" "$2" ||
    { pg_show "$(node_dir "$1")/patroni.log"; return 1; }
  echo "$1 streams from $2"
}

patroni_service_status() {
  local n=${1:-node-a}
  patronictl_in "$n" list 2>&1 || patronictl_in "$(other_node "$n")" list 2>&1
}
