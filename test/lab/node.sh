# shellcheck shell=bash
# A database node of the lab: PostgreSQL 15 as the postgres OS user inside
# the node's namespace, listening on its own address and on the VIP, port
# 5432 (each node has its own network), its socket in $LAB_DIR/<node>.
# pg_vip as a user would set it up (the route tables, the Elastic IP and
# the Route 53 record the lab's resolver serves, test/lab/dns.sh):
# the instance's metadata service (the lab's endpoint, never
# 169.254.169.254) gives the interface, region and role credentials;
# nothing in it names the failover manager.
# Sourced by scripts/lab.sh, after net.sh and aws.sh.

node_dir() { printf '%s/%s' "$LAB_DIR" "$1"; }
node_data() { printf '%s/%s/data' "$LAB_DIR" "$1"; }

# Root and postgres. The lab runs as root; a node's directory is postgres's
# (its data, its socket, its logs). Whoever is postgres may put a link
# anywhere in it, so root never writes, reads, links or changes the owner
# of anything there: postgres does (pg_write, pg_append, pg_show, as_pg),
# and what root itself writes (sshd's files) lives in root's directories.
# The sockets are postgres's alone: each node's directory is 0700 and
# unix_socket_permissions 0700 besides, so the trust in pg_hba.conf is for
# the postgres OS user only (otherwise any local user would be a superuser,
# then postgres by COPY ... TO PROGRAM).

# The whole environment of what the lab runs as postgres: nothing of the
# caller's (no AWS_* keys or profile, no PG* settings) reaches a server, a
# manager or the hook. One variable a line; read into an array, never
# split on spaces.
lab_pg_env() {  # name
  printf '%s\n' "PATH=$PG_BINDIR:/usr/sbin:/usr/bin:/sbin:/bin" "HOME=$(node_dir "$1")" "LANG=C.UTF-8"
}

# Runs a command as postgres, outside the namespaces.
as_pg() {
  local env
  mapfile -t env < <(lab_pg_env "")
  runuser -u postgres -- env -i "${env[@]}" "$@"
}

# Runs a command as postgres inside the node's namespace.
as_pg_in() {
  local name=$1 env
  shift
  mapfile -t env < <(lab_pg_env "$name")
  in_ns "$name" runuser -u postgres -- env -i "${env[@]}" "$@"
}

# Words that put before LOG and a command make the command append its
# output and errors to LOG, opened by whoever runs them (postgres, never
# root): as_pg_in NODE "${LOGGED_TO[@]}" LOG command...
# shellcheck disable=SC2016 # $0 and $@ are the inner shell's
LOGGED_TO=(sh -c 'exec >>"$0" 2>&1 </dev/null; exec "$@"')

# as_pg_in, its output and errors appended to LOG. A daemon started with it
# in the background also needs `</dev/null >/dev/null 2>&1 &` on that line:
# runuser waits for the daemon, and would hold the caller's output open.
as_pg_in_logged() {  # name log command...
  local name=$1
  shift
  as_pg_in "$name" "${LOGGED_TO[@]}" "$@"
}

# A file where postgres may write: stdin becomes it (pg_write) or is added
# to its end (pg_append), written by postgres.
# shellcheck disable=SC2016 # $0 is the inner shell's
pg_write() { as_pg sh -c 'cat >"$0"' "$1"; }
# shellcheck disable=SC2016
pg_append() { as_pg sh -c 'cat >>"$0"' "$1"; }

# The end of a file where postgres may write, read by postgres (a link
# there shows only what postgres may read), and given up on after 10 s (a
# link to a pipe or to /dev/zero never ends).
pg_show() {  # file [lines]
  as_pg timeout -k 2 10 tail -n "${2:-30}" -- "$1" 2>/dev/null || true
}

# A node's directory: postgres's, 0700. Made by root in $LAB_DIR, which is
# root's alone.
node_mkdir() {  # name
  install -d -m 700 -o postgres -g postgres "$(node_dir "$1")"
}

# psql through a socket directory, as postgres; it gives up: connecting
# after 5 s, a statement after LAB_SQL_TIMEOUT seconds (60), and psql
# itself 10 s later (a server that answers nothing).
lab_psql() {  # socket directory, database, sql, [psql options]
  local dir=$1 db=$2 sql=$3 env secs=${LAB_SQL_TIMEOUT:-60}
  shift 3
  [[ $secs =~ ^[1-9][0-9]{0,4}$ ]] || { echo "LAB_SQL_TIMEOUT: whole seconds, 1 to 99999 (not '$secs')" >&2; return 2; }
  mapfile -t env < <(lab_pg_env "")
  runuser -u postgres -- env -i "${env[@]}" HOME="$dir" PGCONNECT_TIMEOUT=5 PGOPTIONS="-c statement_timeout=${secs}s" \
    timeout -k 5 $((secs + 10)) "$PG_BINDIR/psql" -X -q -At -h "$dir" -p 5432 -d "$db" -v ON_ERROR_STOP=1 "$@" -c "$sql"
}

# psql on a node through its socket (works whatever its network does).
node_sql() {  # name sql [psql options]
  local name=$1 sql=$2
  shift 2
  lab_psql "$(node_dir "$name")" postgres "$sql" "$@"
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
unix_socket_permissions = 0700
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
pg_vip.elastic_ips = '$LAB_EIP_ALLOCATION'
pg_vip.network_interface = 'auto'
pg_vip.ec2_endpoint = '$LAB_EC2'
pg_vip.check_interval = '1s'
pg_vip.dns_records = '$LAB_DNS_ZONE:$LAB_DNS_NAME'
pg_vip.route53_endpoint = '$LAB_EC2'
pg_vip.dns_value = 'private'
pg_vip.dns_ttl = '${LAB_DNS_TTL}s'
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
# The lab is sealed (no route out of it): trust inside its VPC, and on the
# node's socket, which only the postgres OS user can reach (node.sh).
local all all trust
local replication all trust
host all all $LAB_VPC_CIDR trust
host replication all $LAB_VPC_CIDR trust
# The outside world's host, by the Elastic IP (the NAT keeps its address).
host all all $LAB_INTERNET_NET trust
HBA
}

node_write_own_conf() {  # name
  node_own_conf "$1" | pg_write "$(node_data "$1")/lab_node.conf"
}

# A new primary's data directory: initdb, the lab's settings.
node_init() {  # name preload
  local name=$1
  node_mkdir "$name"
  as_pg_in "$name" initdb -D "$(node_data "$name")" -A trust -U postgres >/dev/null
  node_common_conf "${2:-}" | pg_append "$(node_data "$name")/postgresql.conf"
  node_hba | pg_write "$(node_data "$name")/pg_hba.conf"
  node_write_own_conf "$name"
}

node_start() {  # name
  node_wait_reaped "$1"
  as_pg_in "$1" pg_ctl -D "$(node_data "$1")" -l "$(node_dir "$1")/postgresql.log" -w -t 60 start >/dev/null
}
node_stop() {  # name [mode]
  as_pg_in "$1" pg_ctl -D "$(node_data "$1")" -m "${2:-fast}" -w -t 60 stop >/dev/null 2>&1 || true
}

# The node's PostgreSQL dies at once: SIGKILL to the postmaster and to every
# process it started (a crash of the whole server, nothing shut down).
node_kill() {  # name
  local pid
  pid=$(as_pg head -n 1 "$(node_data "$1")/postmaster.pid" 2>/dev/null) || return 0
  [[ $pid =~ ^[1-9][0-9]*$ ]] || return 0
  # A stale file's pid may be any process now: only the node's own postmaster.
  [ "$(ip netns identify "$pid" 2>/dev/null)" = "$(ns_of "$1")" ] || return 0
  kill -STOP "$pid" 2>/dev/null || return 0
  pkill -KILL -P "$pid" 2>/dev/null || true
  kill -KILL "$pid" 2>/dev/null || true
}

# A killed postmaster is dead at once but stays a zombie until its parent,
# init, reaps it, and some inits take seconds. While it does, its pid still
# answers kill -0, so a new postmaster refuses the data directory ("lock file
# already exists"), which a real machine, whose init reaps at once, never
# does. Waits (30 s at most) for the pid in postmaster.pid to be reaped when it
# is a zombie; any other process there is left to pg_ctl to judge.
node_wait_reaped() {  # name
  local pid i
  pid=$(as_pg head -n 1 "$(node_data "$1")/postmaster.pid" 2>/dev/null) || return 0
  [[ $pid =~ ^[1-9][0-9]*$ ]] || return 0
  for ((i = 0; i < 300; i++)); do
    [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ] || return 0
    sleep 0.1
  done
  echo "$1: the killed postmaster $pid is still a zombie after 30 s (its parent does not reap it)" >&2
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
