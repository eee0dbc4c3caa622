# Shared by the scripts that run a local service in the background (registry.sh, toxiproxy.sh, mlflow.sh): its pid lives in
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

# Waits until $1 (a URL) answers 2xx. Fails, naming $2 and the log $LOGFILE, when the service's process exits first
# (its log's tail shown) or when $3 seconds pass (then it is stopped). Uses $PIDFILE and the caller's `started`.
wait_http() {
  local url=$1 what=$2 limit=$3 pid
  pid=$(cat "$PIDFILE")
  until curl -sf "$url" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$LOGFILE" >&2; rm -f "$PIDFILE"; die "$what exited during start-up (log: $LOGFILE)"; }
    [ $((SECONDS - started)) -lt "$limit" ] || { cmd_stop; die "$what did not answer within ${limit}s (log: $LOGFILE)"; }
    sleep 0.3
  done
}
