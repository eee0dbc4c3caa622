# Shared by the scripts that run a local service in the background (registry.sh, toxiproxy.sh): its pid lives in
# $PIDFILE. Source this after setting PIDFILE and defining say().

# Prints the pid of the running service; fails when none runs.
running_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid=$(cat "$PIDFILE")
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# Stops the service (TERM, then KILL after 10 s) and forgets its pid; $1 names it in the message.
stop_service() {
  local pid
  if ! pid=$(running_pid); then rm -f "$PIDFILE"; say "$1 is not running"; return 0; fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
  say "$1 stopped"
}
