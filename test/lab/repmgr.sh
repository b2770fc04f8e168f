# shellcheck shell=bash
# repmgr in the lab, as the tutorial sets it up (Debian's postgresql-15-repmgr):
# node-a registered as primary, node-b cloned with `repmgr standby clone` and
# registered, repmgrd on both with failover=automatic; short reconnect
# settings, so a test sees the failover in seconds. The tutorial's hook is
# gone: pg_vip moves the VIP. With LAB_MOVER=hook the tutorial's hook
# (test/lab/repmgr-hook.sh) runs on standby_promote instead, for the
# benchmark's side-by-side.
# Sourced by scripts/lab.sh. Functions: repmgr_up, repmgr_switchover,
# repmgr_rejoin, repmgr_service_status.

# shellcheck source=test/lab/ssh.sh
source "$TOP/test/lab/ssh.sh"

REPMGR=$PG_BINDIR/repmgr
declare -gA REPMGR_ID=([node-a]=1 [node-b]=2)

repmgr_conf() { printf '%s/repmgr.conf' "$(node_dir "$1")"; }

repmgr_write_conf() {  # name
  local name=$1 conf
  conf=$(repmgr_conf "$name")
  pg_write "$conf" <<CONF
node_id=${REPMGR_ID[$name]}
node_name='$name'
conninfo='host=$(host_addr "$name") port=5432 user=repmgr dbname=repmgr connect_timeout=2'
data_directory='$(node_data "$name")'
pg_bindir='$PG_BINDIR'
use_replication_slots=yes
log_file='$(node_dir "$name")/repmgrd.log'
log_level=INFO
repmgrd_pid_file='$(node_dir "$name")/repmgrd.pid'
failover='automatic'
promote_command='$REPMGR standby promote -f $conf --log-to-file'
follow_command='$REPMGR standby follow -f $conf --log-to-file --upstream-node-id=%n'
monitor_interval_secs=1
reconnect_attempts=${LAB_RECONNECT_ATTEMPTS:-2}
reconnect_interval=${LAB_RECONNECT_INTERVAL:-1}
standby_disconnect_on_failover=false
service_start_command='$PG_BINDIR/pg_ctl -D $(node_data "$name") -l $(node_dir "$name")/postgresql.log -w start'
service_stop_command='$PG_BINDIR/pg_ctl -D $(node_data "$name") -m fast -w stop'
service_restart_command='$PG_BINDIR/pg_ctl -D $(node_data "$name") -l $(node_dir "$name")/postgresql.log -m fast -w restart'
service_promote_command='$PG_BINDIR/pg_ctl -D $(node_data "$name") -w promote'
ssh_options='$(ssh_lab_options)'
CONF
  if [ "${LAB_MOVER:-pg_vip}" = hook ]; then
    # The tutorial's line; the hook and its settings are the node's own copy
    # (the server's OS user may not read the project's tree).
    pg_append "$conf" <<CONF
event_notification_command='$(node_dir "$name")/repmgr-hook.sh %n %e %s "%t" "%d"'
event_notifications='standby_promote'
CONF
    pg_write "$(node_dir "$name")/repmgr-hook.sh" <"$TOP/test/lab/repmgr-hook.sh"
    as_pg chmod 755 "$(node_dir "$name")/repmgr-hook.sh"
    pg_write "$(node_dir "$name")/hook.env" <<ENV
VIP=$LAB_VIP/32
ROUTE_TABLES='$(lab_tables | tr , ' ')'
EIP_ALLOCATION=$LAB_EIP_ALLOCATION
ENI=${LAB_ENI[$name]}
EC2_ENDPOINT=$LAB_EC2
IMDS_ENDPOINT=$(imds_of "$name")
REGION=us-east-1
DNS_ZONE=$LAB_DNS_ZONE
DNS_NAME=$LAB_DNS_NAME
DNS_TTL=$LAB_DNS_TTL
DNS_VALUE=$(host_addr "$name")
ENV
  fi
}

repmgr_as() {  # name repmgr arguments...
  local name=$1
  shift
  as_pg_in "$name" "$REPMGR" -f "$(repmgr_conf "$name")" "$@"
}

# The same, its output in a log of the node's directory (written by postgres).
repmgr_logged() {  # name log-file-name repmgr arguments...
  local name=$1 log=$2
  shift 2
  as_pg_in_logged "$name" "$(node_dir "$name")/$log" "$REPMGR" -f "$(repmgr_conf "$name")" "$@"
}

repmgrd_start() {  # name
  local name=$1
  as_pg_in_logged "$name" "$(node_dir "$name")/repmgrd.out" \
    setsid "$PG_BINDIR/repmgrd" -f "$(repmgr_conf "$name")" --daemonize=false </dev/null >/dev/null 2>&1 &
}

repmgr_up() {
  ssh_up
  node_init node-a repmgr
  node_start node-a
  node_sql node-a "CREATE USER repmgr SUPERUSER"
  node_sql node-a "CREATE DATABASE repmgr OWNER repmgr"
  [ "${LAB_MOVER:-pg_vip}" = hook ] || node_sql node-a "CREATE EXTENSION pg_vip"
  repmgr_write_conf node-a
  repmgr_logged node-a register.log primary register
  node_mkdir node-b
  repmgr_write_conf node-b
  repmgr_logged node-b clone.log -h "$(host_addr node-a)" -U repmgr -d repmgr standby clone --fast-checkpoint ||
    { pg_show "$(node_dir node-b)/clone.log" 50; return 1; }
  node_write_own_conf node-b
  node_start node-b
  repmgr_logged node-b register.log standby register
  if [ "${LAB_SYNC:-}" = 1 ]; then
    # On both, for whichever is the standby (a switchover swaps them); only
    # now, since a primary without its standby would wait on every commit.
    local n
    for n in node-a node-b; do
      echo "synchronous_standby_names = '*'" | pg_append "$(node_data "$n")/postgresql.conf"
      node_sql "$n" "SELECT pg_reload_conf()" >/dev/null
    done
  fi
  repmgrd_start node-a
  repmgrd_start node-b
}

# Planned switchover to the standby: repmgr reaches the old primary by ssh
# (test/lab/ssh.sh gives each node an sshd of the lab's own).
repmgr_switchover() {  # new primary
  repmgr_as "$1" standby switchover --siblings-follow --force-rewind 2>&1
}

# The tutorial's way back for a stale primary: stop it, rewind it onto the
# new primary's timeline, start it as a standby.
repmgr_rejoin() {  # name new_primary
  # pg_rewind reads the new primary's timeline from its control file, which
  # says the old timeline until the checkpoint after promotion ends: without
  # this one, a rejoin just after a failover rewinds nothing and the node
  # waits for ever on the old timeline.
  node_sql "$2" CHECKPOINT >/dev/null
  node_stop "$1" fast
  local since
  since=$(node_sql "$2" "SELECT now()")
  repmgr_as "$1" node rejoin -d "host=$(host_addr "$2") port=5432 user=repmgr dbname=repmgr" \
    --force-rewind --config-files=lab_node.conf --verbose 2>&1 || return 1
  # The rejoined node's repmgrd was watching it as a primary; it finds its
  # new upstream only at a later check, and records that on the primary as
  # a repmgrd_standby_reconnect event. Until then it cannot fail over: a
  # primary lost in that gap leaves it looking for a primary for ever
  # ("unable to determine a new primary node"). An operator checks that
  # repmgrd follows the rejoined node before calling the cluster whole; the
  # lab waits for the same event.
  local i
  for ((i = 0; i < 300; i++)); do
    [ "$(node_sql "$2" "SELECT count(*) FROM repmgr.events WHERE node_id = ${REPMGR_ID[$1]}
           AND event = 'repmgrd_standby_reconnect' AND event_timestamp >= '$since'" -d repmgr)" -gt 0 ] && return 0
    sleep 0.1
  done
  echo "repmgrd on $1 did not follow $2 within 30 s (no repmgrd_standby_reconnect event)"
  pg_show "$(node_dir "$1")/repmgrd.log" 20
  return 1
}

repmgr_service_status() { repmgr_as "${1:-node-a}" service status 2>&1; }
