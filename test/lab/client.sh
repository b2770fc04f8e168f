# shellcheck shell=bash
# The lab's clients (test/lab/client.py), writing as a service would: "vip"
# in the client's namespace through the VIP, into lab_writes; "eip" on the
# lab's internet through the Elastic IP's public address, into
# lab_eip_writes; "dns" in the client's namespace by the record's name
# (primary.db.example.internal), into lab_dns_writes: libpq resolves it at
# each connection with the system resolver, which asks the lab's
# (test/lab/dns.sh), so what it sees includes the resolver's cache. Each
# has its record, $LAB_DIR/client.csv, client-eip.csv and client-dns.csv,
# read by report.py.
# Sourced by scripts/lab.sh.

# Sets, for a client (vip, eip or dns): CLIENT_NS, CLIENT_HOST, CLIENT_TABLE and
# CLIENT_FILES (the prefix of its record, pid and log in $LAB_DIR).
client_of() {
  case ${1:-vip} in
    vip) CLIENT_NS=client CLIENT_HOST=$LAB_VIP CLIENT_TABLE=lab_writes CLIENT_FILES=$LAB_DIR/client ;;
    eip) CLIENT_NS=internet CLIENT_HOST=$LAB_EIP_PUBLIC CLIENT_TABLE=lab_eip_writes CLIENT_FILES=$LAB_DIR/client-eip ;;
    dns) CLIENT_NS=client CLIENT_HOST=${LAB_DNS_NAME%.} CLIENT_TABLE=lab_dns_writes CLIENT_FILES=$LAB_DIR/client-dns ;;
    *) echo "no client '$1' (vip, eip or dns)" >&2; return 2 ;;
  esac
}

client_running() {  # [vip|eip|dns]
  client_of "${1:-vip}" || return 2
  [ -f "$CLIENT_FILES.pid" ] && kill -0 "$(cat "$CLIENT_FILES.pid")" 2>/dev/null
}

client_start() {  # [vip|eip|dns]
  client_running "${1:-vip}" && return 0
  client_of "${1:-vip}" || return 2
  # ip netns exec and setsid exec what follows: $! is the client's own pid.
  ip netns exec "$(ns_of "$CLIENT_NS")" setsid /usr/bin/python3 "$TOP/test/lab/client.py" --host "$CLIENT_HOST" \
    --table "$CLIENT_TABLE" --out "$CLIENT_FILES.csv" --interval-ms "${LAB_CLIENT_INTERVAL_MS:-5}" \
    >>"$CLIENT_FILES.log" 2>&1 </dev/null &
  echo $! >"$CLIENT_FILES.pid"
}

client_stop() {  # [vip|eip|dns]
  client_running "${1:-vip}" || return 0
  local pid i
  pid=$(cat "$CLIENT_FILES.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$CLIENT_FILES.pid"
}

# What a client saw ([--via vip|eip|dns], vip by default); with --check NODE,
# also which acknowledged commits NODE (the final primary) lacks. Other
# options: report.py's.
client_report() {
  local args=() present via=vip
  if [ "${1:-}" = --via ]; then via=$2; shift 2; fi
  client_of "$via" || return 2
  while [ $# -gt 0 ]; do
    case $1 in
      --check)
        # Only what was acknowledged before the read can be asked of it.
        args+=(--until "$(date +%s.%N)")
        present=$LAB_DIR/present.$$
        node_sql "$2" "SELECT seq FROM $CLIENT_TABLE ORDER BY seq" >"$present"
        args+=(--present "$present"); shift 2 ;;
      *) args+=("$1"); shift ;;
    esac
  done
  /usr/bin/python3 "$TOP/test/lab/report.py" "$CLIENT_FILES.csv" "${args[@]}"
  [ -n "${present:-}" ] && rm -f "$present"
  return 0
}
