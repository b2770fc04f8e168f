# shellcheck shell=bash
# The lab's client (test/lab/client.py) in the client's namespace, writing
# through the VIP; its record, $LAB_DIR/client.csv, read by report.py.
# Sourced by scripts/lab.sh.

client_running() { [ -f "$LAB_DIR/client.pid" ] && kill -0 "$(cat "$LAB_DIR/client.pid")" 2>/dev/null; }

client_start() {
  client_running && return 0
  # ip netns exec and setsid exec what follows: $! is the client's own pid.
  ip netns exec "$(ns_of client)" setsid /usr/bin/python3 "$TOP/test/lab/client.py" --host "$LAB_VIP" \
    --out "$LAB_DIR/client.csv" --interval-ms "${LAB_CLIENT_INTERVAL_MS:-5}" \
    >>"$LAB_DIR/client.log" 2>&1 </dev/null &
  echo $! >"$LAB_DIR/client.pid"
}

client_stop() {
  client_running || return 0
  local pid i
  pid=$(cat "$LAB_DIR/client.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$LAB_DIR/client.pid"
}

# What the client saw; with --check NODE, also which acknowledged commits
# NODE (the final primary) lacks. Other options: report.py's.
client_report() {
  local args=() present
  while [ $# -gt 0 ]; do
    case $1 in
      --check)
        # Only what was acknowledged before the read can be asked of it.
        args+=(--until "$(date +%s.%N)")
        present=$LAB_DIR/present.$$
        node_sql "$2" "SELECT seq FROM lab_writes ORDER BY seq" >"$present"
        args+=(--present "$present"); shift 2 ;;
      *) args+=("$1"); shift ;;
    esac
  done
  /usr/bin/python3 "$TOP/test/lab/report.py" "$LAB_DIR/client.csv" "${args[@]}"
  [ -n "${present:-}" ] && rm -f "$present"
  return 0
}
