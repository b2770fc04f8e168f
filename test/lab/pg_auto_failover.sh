# shellcheck shell=bash
# pg_auto_failover in the lab (Debian's postgresql-15-auto-failover and
# pg-auto-failover-cli, pg_autoctl 2.0): a monitor on its own host
# (10.0.4.10, no VIP), node-a and node-b as keepers. node-a is registered
# first and becomes the primary; node-b is a copy of it that joins as the
# secondary. pg_auto_failover's own defaults otherwise (synchronous
# replication with one standby), with short health-check and demotion
# timeouts so a test sees the failover in seconds. pg_vip's settings are the
# lab's, the same as with every manager (node.sh): nothing in them names
# pg_auto_failover.
# Sourced by scripts/lab.sh. Functions: pg_auto_failover_up,
# pg_auto_failover_switchover, pg_auto_failover_rejoin,
# pg_auto_failover_service_status.
#
# How pg_autoctl meets the lab:
# - Each host's pg_autoctl has its own HOME (its node directory), so its
#   configuration, state and runtime files stay under $LAB_DIR.
# - pg_autoctl runs postgres itself (`postgres -D .. -p .. -h <--listen>`);
#   PG_REGRESS_SOCK_DIR makes it add `-k <node dir>`, so the socket is where
#   node_sql looks for it (and never in the shared /var/run/postgresql),
#   whatever the data directory's files say; PGHOST tells pg_autoctl where.
# - pg_autoctl prepends `include 'postgresql-auto-failover.conf'` to
#   postgresql.conf: the lab's settings, appended by node_init, come later
#   and win (shared_preload_libraries = 'pg_vip', logging_collector = off:
#   the server's log is data/startup.log, linked as postgresql.log).
# - node-b is copied with pg_basebackup by the lab (as repmgr's standby
#   clone does), its lab_node.conf rewritten, and only then registered:
#   pg_autoctl registers an existing, stopped data directory as a secondary
#   without a base backup of its own, so node-b never starts with node-a's
#   lab_node.conf.
# - pg_rewind (pg_autoctl's way back for an old primary) copies the new
#   primary's configuration files, lab_node.conf too: the rejoin puts the
#   node's own back and restarts it.

PGAF_MONITOR_DB=pg_auto_failover

pgaf_monitor_uri() { printf 'postgres://autoctl_node@%s:5432/%s?sslmode=disable' "$(host_addr monitor)" "$PGAF_MONITOR_DB"; }

# Runs pg_autoctl (or anything) as postgres in the host's namespace, with the
# environment pg_autoctl needs for that host.
pgaf_as() {  # host command...
  local name=$1
  shift
  # pg_autoctl's runtime files (pid file...) go to /tmp/pg_autoctl unless
  # XDG_RUNTIME_DIR exists.
  [ -d "$(node_dir "$name")/run" ] || as_pg mkdir -m 700 "$(node_dir "$name")/run"
  as_pg_in "$name" env PGDATA="$(node_data "$name")" PGHOST="$(node_dir "$name")" PGPORT=5432 \
    PG_REGRESS_SOCK_DIR="$(node_dir "$name")" XDG_RUNTIME_DIR="$(node_dir "$name")/run" \
    PG_CONFIG="$PG_BINDIR/pg_config" "$@"
}

# The pg_autoctl service of a host in the background, as its own session.
pgaf_run() {  # host
  local name=$1
  pgaf_as "$name" "${LOGGED_TO[@]}" "$(node_dir "$name")/pg_autoctl.out" \
    setsid pg_autoctl run --pgdata "$(node_data "$name")" </dev/null >/dev/null 2>&1 &
}

# SQL on the monitor's database, through its socket.
pgaf_monitor_sql() {  # sql
  lab_psql "$(node_dir monitor)" "$PGAF_MONITOR_DB" "$1"
}

# What the monitor says of a node: reported state/goal state.
pgaf_node_state() {  # name
  pgaf_monitor_sql "SELECT reportedstate || '/' || goalstate FROM pgautofailover.node WHERE nodename = '$1'" 2>/dev/null || true
}

pgaf_wait_state() {  # name state seconds
  local i s
  for ((i = 0; i < $3 * 5; i++)); do
    s=$(pgaf_node_state "$1")
    [ "$s" = "$2/$2" ] && return 0
    sleep 0.2
  done
  echo "pg_auto_failover: $1 is '$s', not $2, after $3 s" >&2
  pgaf_service_log "$1" >&2
  return 1
}

pgaf_service_log() { pg_show "$(node_dir "$1")/pg_autoctl.out"; }

# The monitor: its own PostgreSQL (pgautofailover preloaded by pg_autoctl),
# trusting the lab's VPC (the keepers are on other subnets than its own), and
# short timeouts (see below).
pgaf_monitor_up() {
  local dir
  dir=$(node_dir monitor)
  net_up_host monitor
  node_mkdir monitor
  pgaf_as monitor "${LOGGED_TO[@]}" "$dir/create.log" \
    pg_autoctl create monitor --pgctl "$PG_BINDIR/pg_ctl" --pgdata "$(node_data monitor)" \
    --hostname "$(host_addr monitor)" --pgport 5432 --auth trust --no-ssl --ssl-mode disable ||
    { pg_show "$dir/create.log" 50; return 1; }
  node_hba | pg_append "$(node_data monitor)/pg_hba.conf"
  # Failover in seconds rather than pg_auto_failover's ~30-50 s: a health
  # check every second (1 s to connect, one retry after 0.5 s), a node with
  # failed checks and no report for 3 s is unhealthy, and the old primary is
  # given 5 s to demote (drain) before the secondary is promoted; each
  # keeper's network_partition_timeout (3 s, below) stays under it, so a cut
  # primary has demoted itself by then. startup_grace_period: the monitor
  # was just started.
  pg_append "$(node_data monitor)/postgresql.conf" <<CONF
# The lab's settings (test/lab/pg_auto_failover.sh)
unix_socket_directories = '$dir'
unix_socket_permissions = 0700
pgautofailover.health_check_period = 1000
pgautofailover.health_check_timeout = 1000
pgautofailover.health_check_max_retries = 1
pgautofailover.health_check_retry_delay = 500
pgautofailover.node_considered_unhealthy_timeout = 3000
pgautofailover.primary_demote_timeout = 5000
pgautofailover.startup_grace_period = 2000
CONF
  as_pg ln -sfn "$(node_data monitor)/log" "$dir/log"
  # pg_autoctl create may leave the server running: stop it, the service
  # starts it again with the settings above.
  as_pg_in monitor pg_ctl -D "$(node_data monitor)" -m fast -w stop >/dev/null 2>&1 || true
  pgaf_run monitor
  local i
  for ((i = 0; i < 300; i++)); do
    pgaf_monitor_sql "SELECT 1 FROM pgautofailover.formation" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "pg_auto_failover: the monitor did not start" >&2
  pgaf_service_log monitor >&2
  return 1
}

# Registers a node's (stopped) data directory with the monitor and starts its
# keeper.
pgaf_keeper_up() {  # name
  local name=$1 dir
  dir=$(node_dir "$name")
  pgaf_as "$name" "${LOGGED_TO[@]}" "$dir/create.log" \
    pg_autoctl create postgres --pgctl "$PG_BINDIR/pg_ctl" --pgdata "$(node_data "$name")" \
    --pghost "$dir" --pgport 5432 --listen "$(host_addr "$name"),$LAB_VIP" \
    --hostname "$(host_addr "$name")" --name "$name" --monitor "$(pgaf_monitor_uri)" \
    --auth trust --no-ssl --ssl-mode disable || { pg_show "$dir/create.log" 50; return 1; }
  # The keeper's side of the short timeouts: a primary that reaches neither
  # the monitor nor its standby demotes itself after 3 s.
  pgaf_as "$name" pg_autoctl config set --pgdata "$(node_data "$name")" timeout.network_partition_timeout 3 >/dev/null
  pgaf_as "$name" pg_autoctl config set --pgdata "$(node_data "$name")" timeout.prepare_promotion_walreceiver 2 >/dev/null
  as_pg ln -sfn "$(node_data "$name")/startup.log" "$dir/postgresql.log"
  # pg_autoctl create stops the server it started: the service runs it.
  node_stop "$name" fast
  pgaf_run "$name"
  pgaf_wait_sql "$name" 60
}

pgaf_wait_sql() {  # name seconds
  local i
  for ((i = 0; i < $2 * 5; i++)); do
    node_sql "$1" "SELECT 1" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "pg_auto_failover: $1's PostgreSQL does not answer after $2 s" >&2
  pgaf_service_log "$1" >&2
  return 1
}

pg_auto_failover_up() {
  pgaf_monitor_up
  # node-a: the lab's data directory (initdb, the lab's settings, its HBA),
  # registered first: the monitor makes it the primary (single).
  node_init node-a
  pgaf_keeper_up node-a
  pgaf_wait_state node-a single 60
  [ "${LAB_MOVER:-pg_vip}" = hook ] || node_sql node-a "CREATE EXTENSION pg_vip"
  # node-b: a copy of node-a with its own lab_node.conf, then registered.
  node_mkdir node-b
  as_pg_in_logged node-b "$(node_dir node-b)/clone.log" pg_basebackup -h "$(host_addr node-a)" -p 5432 -U postgres \
    -D "$(node_data node-b)" -X stream --checkpoint=fast ||
    { pg_show "$(node_dir node-b)/clone.log" 50; return 1; }
  node_write_own_conf node-b
  pgaf_keeper_up node-b
  pgaf_wait_state node-b secondary 90
  pgaf_wait_state node-a primary 30
}

# The planned switchover, orchestrated by the monitor: `perform promotion`
# picks the node to promote (`perform switchover` lets the monitor choose).
pg_auto_failover_switchover() {  # new primary
  pgaf_as monitor pg_autoctl perform promotion --pgdata "$(node_data monitor)" --name "$1" 2>&1
}

# The way back for a failed node: its link healed and its keeper (re)started;
# the keeper demotes it and rewinds it (or takes a base backup) onto the new
# primary; the monitor makes it a secondary. pg_rewind brings the new
# primary's lab_node.conf along: the node's own goes back, and PostgreSQL is
# restarted by its keeper.
pg_auto_failover_rejoin() {  # name new_primary
  local name=$1 i
  net_heal "$name"
  if ! pgrep -u postgres -f "pg_autoctl run --pgdata $(node_data "$name")\$" >/dev/null 2>&1; then
    pgaf_run "$name"
  fi
  pgaf_wait_state "$name" secondary 120 || return 1
  if ! as_pg grep -q "cluster_name = '$name'" "$(node_data "$name")/lab_node.conf" 2>/dev/null; then
    node_write_own_conf "$name"
    # The keeper starts its PostgreSQL again when it stops.
    node_stop "$name" fast
    for ((i = 0; i < 300; i++)); do
      [ "$(node_sql "$name" "SELECT current_setting('cluster_name')" 2>/dev/null)" = "$name" ] && break
      sleep 0.2
    done
  fi
  # Secondary for the monitor for 4 s in a row, streaming from the primary:
  # the monitor notices a restart a moment later (catchingup, then secondary).
  local ok=0
  for ((i = 0; i < 600 && ok < 20; i++)); do
    if [ "$(pgaf_node_state "$name")" = secondary/secondary ] &&
       [ "$(node_sql "$name" "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null)" = streaming ]; then
      ok=$((ok + 1))
    else
      ok=0
    fi
    sleep 0.2
  done
  [ "$ok" -ge 20 ] || { echo "pg_auto_failover: $name is not a streaming secondary" >&2; pgaf_service_log "$name" >&2; return 1; }
  pgaf_as monitor pg_autoctl show state --pgdata "$(node_data monitor)" 2>&1
}

pg_auto_failover_service_status() {
  pgaf_as monitor pg_autoctl show state --pgdata "$(node_data monitor)" 2>&1
}
