#!/usr/bin/env bash
# pg_vip's lab: a VPC in a box on this machine (test/lab/net.sh draws it).
# A router namespace with real routing for the VIP, two database nodes with
# the VIP bound, a failover manager, pg_vip, and a client writing through
# the VIP; an Elastic IP whose public address the router NATs to the node
# holding it, and a host outside the VPC that can write through it; a
# Route 53 record pg_vip points at the primary, served by the lab's
# resolver. Run as root; needs network namespaces (iproute2) and nftables.
#
#   scripts/lab.sh up [--manager repmgr|patroni|pg_auto_failover] [--tables N]
#                     [--sync] [--mover pg_vip|hook] [--no-client] [--eip-client] [--dns-client]
#   scripts/lab.sh status          who is primary, pg_vip on each node, where the VIP's and the Elastic IP's packets go, what the name answers
#   scripts/lab.sh failover [--how kill|cut]   the primary dies (its PostgreSQL killed, or its link cut)
#   scripts/lab.sh switchover      the manager's planned switchover to the standby
#   scripts/lab.sh down            everything removed: namespaces, links, processes, files
# Plumbing (the tests use it; so can you):
#   sql NODE SQL | kill NODE | cut NODE | heal NODE | start NODE | rejoin NODE |
#   primary | client [--via vip|eip|dns] start|stop|report | wait-primary OLD SECONDS |
#   vip-host | vip-route | eip-host | dns-host (where Route 53 points the name) |
#   dns-system (what the client host's system resolver answers for it) |
#   aws-control PATH [JSON] (the endpoint's /_fake/ API) |
#   dns-ask [--from HOST] [--type A|AAAA] NAME (the lab's resolver, test/lab/dns.sh) |
#   aws NODE ARGS... (the AWS CLI against the lab's endpoint, as NODE's instance role) | env
# --eip-client (or client --via eip start): a second client, on the lab's
# internet, writing through the Elastic IP's public address. --dns-client
# (or client --via dns start): a third, in the client's namespace,
# connecting by the name primary.db.example.internal (resolved by libpq
# with the system resolver, which asks the lab's; TTL: LAB_DNS_TTL, 5 s).
# The lab's files: $PG_VIP_LAB_DIR (default /run/pg_vip_lab; root's own: it
# refuses a directory someone else owns or may write to, or one below such a
# directory). Each node's directory in it is postgres's alone (0700, the
# socket's too); root never writes, reads or links there. Nothing in it
# reaches beyond the machine: the router has no link out, and the AWS
# endpoint, the instance metadata and the resolver are the project's own
# (10.0.0.1); the "internet" is one namespace on a documentation range.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/common.sh
source "$TOP/scripts/common.sh"
LAB_DIR=$(realpath -m -- "${PG_VIP_LAB_DIR:-/run/pg_vip_lab}")
for f in net aws dns node client; do
  # shellcheck disable=SC1090
  source "$TOP/test/lab/$f.sh"
done

die() { echo "lab: $*" >&2; exit 1; }

# The lab's directory goes, unquoted, into the managers' settings and
# commands: letters, digits and . _ - / only.
[[ $LAB_DIR =~ ^/[A-Za-z0-9._/-]*$ ]] ||
  die "PG_VIP_LAB_DIR '$LAB_DIR': only letters, digits and . _ - / may name the lab's directory"

# Root sources lab.env and writes its files in $LAB_DIR: only a directory
# and file no one else controls, below directories no one else controls
# (root's, and no one else may write to them, or only with the sticky bit,
# as /tmp, where no one may move what is root's).
check_owner() {  # path
  [ -z "$(find "$1" -maxdepth 0 \( ! -user 0 -o -perm -g+w -o -perm -o+w \) 2>/dev/null)" ] ||
    die "$1 is not root's own (or others may write to it): refused"
  check_above "$1"
}
check_above() {  # path
  local up=$1
  while [ "$up" != / ]; do
    up=$(dirname "$up")
    [ -z "$(find "$up" -maxdepth 0 \( ! -user 0 -o \( \( -perm -g+w -o -perm -o+w \) ! -perm -1000 \) \) 2>/dev/null)" ] ||
      die "$up, above $1, is not root's own (or others may write to it without the sticky bit): refused"
  done
}

load_env() {
  [ -f "$LAB_DIR/lab.env" ] || die "no lab in $LAB_DIR (scripts/lab.sh up)"
  check_owner "$LAB_DIR"
  check_owner "$LAB_DIR/lab.env"
  # shellcheck disable=SC1091
  source "$LAB_DIR/lab.env"
  load_manager
}
load_manager() {
  case ${LAB_MANAGER:-} in
    repmgr | patroni | pg_auto_failover) ;;
    *) die "unknown manager '${LAB_MANAGER:-}' (repmgr, patroni or pg_auto_failover)" ;;
  esac
  # shellcheck disable=SC1090
  source "$TOP/test/lab/$LAB_MANAGER.sh"
}

other_node() { [ "$1" = node-a ] && echo node-b || echo node-a; }

# The node that is primary now (empty if none answers as one).
lab_primary() {
  local n
  for n in node-a node-b; do
    [ "$(node_role "$n")" = primary ] && { echo "$n"; return; }
  done
  echo ""
}

# Waits for a primary other than $1 holding the VIP: the router's route to
# it, its NAT of the Elastic IP, and the record in Route 53.
wait_new_primary() {  # old seconds
  local new end=$((SECONDS + $2))
  while [ "$SECONDS" -lt "$end" ]; do
    new=$(other_node "$1")
    if [ "$(node_role "$new")" = primary ] && [ "$(vip_host_now)" = "$new" ] && [ "$(eip_host_now)" = "$new" ] &&
       [ "$(dns_host_now)" = "$new" ] &&
       { [ "$LAB_MOVER" = hook ] || [ "$(node_vip_state "$new")" = held ]; }; then
      echo "$new"; return 0
    fi
    sleep 0.1
  done
  echo "no new primary holding the VIP after $2 s" >&2
  return 1
}

cmd_up() {
  local manager=repmgr tables=3 sync=0 mover=pg_vip client=1 eip_client=0 dns_client=0
  while [ $# -gt 0 ]; do
    case $1 in
      --manager) manager=$2; shift 2 ;;
      --tables) tables=$2; shift 2 ;;
      --sync) sync=1; shift ;;
      --mover) mover=$2; shift 2 ;;
      --no-client) client=0; shift ;;
      --eip-client) eip_client=1; shift ;;
      --dns-client) dns_client=1; shift ;;
      *) die "up: unknown option $1" ;;
    esac
  done
  [[ $tables =~ ^[0-9]+$ ]] && [ "$tables" -ge 1 ] && [ "$tables" -le 50 ] || die "--tables: 1 to 50"
  case $mover in pg_vip | hook) ;; *) die "--mover: pg_vip or hook" ;; esac
  [[ $LAB_DNS_TTL =~ ^[0-9]{1,5}$ ]] && [ "$LAB_DNS_TTL" -le 86400 ] ||
    die "LAB_DNS_TTL '$LAB_DNS_TTL': the record's TTL in whole seconds, 0 to 86400"
  net_check >&2 || exit 1
  if [ -f "$LAB_DIR/lab.env" ]; then
    die "a lab is up in $LAB_DIR already: scripts/lab.sh down (or PG_VIP_LAB_DIR=another directory)"
  fi
  check_above "$LAB_DIR"
  mkdir -p "$LAB_DIR"
  check_owner "$LAB_DIR"
  # postgres goes through it to the nodes' directories (its own, 0700).
  chmod 755 "$LAB_DIR"
  LAB_MANAGER=$manager LAB_TABLES=$tables LAB_SYNC=$sync LAB_MOVER=$mover
  load_manager
  # Whatever stops the setup half-way (a failure, Ctrl-C) removes what it made.
  UP_DONE=0
  trap '[ "$UP_DONE" = 1 ] || { echo "lab: up did not finish; removing the lab" >&2; cmd_down >/dev/null 2>&1; }' EXIT
  trap 'exit 130' INT TERM
  net_claim_id || exit 1
  printf 'LAB_ID=%s\nLAB_MANAGER=%s\nLAB_TABLES=%s\nLAB_SYNC=%s\nLAB_MOVER=%s\nLAB_DNS_TTL=%s\n' \
    "$LAB_ID" "$LAB_MANAGER" "$LAB_TABLES" "$LAB_SYNC" "$LAB_MOVER" "$LAB_DNS_TTL" >"$LAB_DIR/lab.env"
  net_up_router
  net_up_host node-a vip
  net_up_host node-b vip
  net_up_host client
  net_up_internet
  net_route_tables
  aws_up
  resolver_up
  resolver_conf_up
  dns_record_to node-a
  "${LAB_MANAGER}_up"
  local primary
  primary=$(lab_primary)
  [ -n "$primary" ] || { echo "lab: no primary after the manager's setup" >&2; false; }
  if [ "$mover" = pg_vip ]; then
    node_wait_vip_state "$primary" held 30
  fi
  # The name answers the primary through the client host's system resolver
  # (once an answer cached before the record was set has expired).
  local i
  for ((i = 0; i < (LAB_DNS_TTL + 10) * 10; i++)); do
    [ "$(dns_system_answer client)" = "$(host_addr "$primary")" ] && break
    sleep 0.1
  done
  [ "$(dns_system_answer client)" = "$(host_addr "$primary")" ] || {
    echo "lab: the client host's system resolver does not answer ${LAB_DNS_NAME%.} with $primary's address" \
      "($(dns_system_answer client | tr '\n' ' ')); its /etc/nsswitch.conf must ask dns for hosts" >&2
    false
  }
  node_sql "$primary" "CREATE TABLE IF NOT EXISTS lab_writes (seq bigint PRIMARY KEY, sent timestamptz NOT NULL,
    node text NOT NULL DEFAULT current_setting('lab.node_name'), at timestamptz NOT NULL DEFAULT clock_timestamp())"
  node_sql "$primary" "CREATE TABLE IF NOT EXISTS lab_eip_writes (LIKE lab_writes INCLUDING ALL)"
  node_sql "$primary" "CREATE TABLE IF NOT EXISTS lab_dns_writes (LIKE lab_writes INCLUDING ALL)"
  [ "$client" = 1 ] && client_start vip
  [ "$eip_client" = 1 ] && client_start eip
  [ "$dns_client" = 1 ] && client_start dns
  UP_DONE=1
  trap - INT TERM
  echo "lab $LAB_ID is up in $LAB_DIR: $LAB_MANAGER, $LAB_TABLES route tables, the VIP moved by $LAB_MOVER"
  echo "  connect through the VIP:  ip netns exec $(ns_of client) psql -h $LAB_VIP -U postgres"
  echo "  the nodes:                ip netns exec $(ns_of client) psql -h $(host_addr node-a) -U postgres   (node-b: $(host_addr node-b))"
  echo "  from outside the VPC:     ip netns exec $(ns_of internet) psql -h $LAB_EIP_PUBLIC -U postgres   (the Elastic IP)"
  echo "  by name:                  ip netns exec $(ns_of client) psql -h ${LAB_DNS_NAME%.} -U postgres   (TTL $LAB_DNS_TTL s)"
  echo "  then: scripts/lab.sh status | failover | switchover | down"
}

cmd_status() {
  load_env
  local n
  echo "lab $LAB_ID ($LAB_MANAGER, $LAB_TABLES route tables, VIP $LAB_VIP moved by $LAB_MOVER)"
  for n in node-a node-b; do
    printf '  %-7s %-15s %-8s pg_vip: %s\n' "$n" "$(host_addr "$n")" "$(node_role "$n")" \
      "$(node_sql "$n" "SELECT state || ', holder ' || coalesce(holder, '-') || ', timeline ' || timeline FROM vip_status()" 2>/dev/null || echo -)"
  done
  echo "  the client's packets for the VIP: $(vip_route_now || true)  -> $(vip_host_now || true)"
  echo "  the Elastic IP $LAB_EIP_PUBLIC ($LAB_EIP_ALLOCATION) NATed to: $(eip_host_now || true)"
  echo "  $LAB_DNS_NAME in Route 53: $(dns_host_now || true); the client host's resolver answers: $(dns_system_answer client | tr '\n' ' ')"
  client_running vip && echo "  client (VIP): $(client_report --brief)"
  client_running eip && echo "  client (Elastic IP): $(client_report --via eip --brief)"
  client_running dns && echo "  client (by name): $(client_report --via dns --brief)"
  return 0
}

cmd_failover() {
  local how=kill
  [ "${1:-}" = --how ] && { how=$2; shift 2; }
  load_env
  local old new
  old=$(lab_primary)
  [ -n "$old" ] || die "no primary to fail"
  case $how in
    kill) node_kill "$old" ;;
    cut) net_cut "$old" ;;
    *) die "--how: kill or cut" ;;
  esac
  echo "$old failed ($how) at $(date +%T.%3N)"
  new=$(wait_new_primary "$old" "${LAB_FAILOVER_WAIT:-90}") || exit 1
  echo "$new is primary and holds the VIP at $(date +%T.%3N)"
}

cmd_switchover() {
  load_env
  local old new
  old=$(lab_primary)
  [ -n "$old" ] || die "no primary"
  new=$(other_node "$old")
  "${LAB_MANAGER}_switchover" "$new" >"$LAB_DIR/switchover.log" 2>&1 || { cat "$LAB_DIR/switchover.log"; exit 1; }
  wait_new_primary "$old" 90 >/dev/null || { cat "$LAB_DIR/switchover.log"; exit 1; }
  echo "$new is primary and holds the VIP; $old is $(node_role "$old")"
}

cmd_down() {
  if [ ! -f "$LAB_DIR/lab.env" ]; then echo "no lab in $LAB_DIR"; return 0; fi
  check_owner "$LAB_DIR/lab.env"
  # shellcheck disable=SC1091
  source "$LAB_DIR/lab.env"
  net_down
  resolver_conf_down
  rm -rf "$LAB_DIR"
  echo "lab $LAB_ID removed"
}

main() {
  local cmd=${1:-}
  shift || true
  case $cmd in
    up) cmd_up "$@" ;;
    status) cmd_status ;;
    failover) cmd_failover "$@" ;;
    switchover) cmd_switchover ;;
    down) cmd_down ;;
    sql) load_env; node_sql "$1" "$2" ;;
    kill) load_env; node_kill "$1" ;;
    cut) load_env; net_cut "$1" ;;
    heal) load_env; net_heal "$1" ;;
    start) load_env; node_start "$1" ;;
    stop) load_env; node_stop "$1" "${2:-fast}" ;;
    rejoin) load_env; "${LAB_MANAGER}_rejoin" "$1" "$(other_node "$1")" ;;
    primary) load_env; lab_primary ;;
    role) load_env; node_role "$1" ;;
    vip-host) load_env; vip_host_now ;;
    vip-route) load_env; vip_route_now ;;
    eip-host) load_env; eip_host_now ;;
    dns-host) load_env; dns_host_now ;;
    dns-system) load_env; dns_system_answer "${1:-client}" ;;
    dns-ask) load_env; dns_ask "$@" ;;
    aws) load_env; lab_aws "$@" ;;
    aws-control) load_env; aws_control "$1" "${2:-}" ;;
    wait-primary) load_env; wait_new_primary "$1" "${2:-60}" ;;
    client)
      load_env
      local via=vip
      if [ "${1:-}" = --via ]; then via=${2:-}; shift 2; fi
      client_of "$via" || exit 2
      case ${1:-} in
        start) client_start "$via" ;;
        stop) client_stop "$via" ;;
        report) shift; client_report --via "$via" "$@" ;;
        *) die "client [--via vip|eip|dns] start|stop|report" ;;
      esac ;;
    service-status) load_env; "${LAB_MANAGER}_service_status" "$@" ;;
    env) load_env; cat "$LAB_DIR/lab.env"; echo "LAB_DIR=$LAB_DIR" ;;
    *) sed -n '2,28p' "$0"; [ -z "$cmd" ] || exit 2 ;;
  esac
}
main "$@"
