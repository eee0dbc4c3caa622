#!/usr/bin/env bash
# A real MLflow tracking server and model registry for local runs and the tests: the PyPI `mlflow` package in a
# cached virtualenv (like the Kafka jars), a SQLite backend store and a local artifact folder served through the
# server (`mlflow-artifacts:/` URIs), so clients need nothing but its HTTP API.
#
#   mlflow.sh start | stop | status | fetch | url
#
# Environment:
#   MLFLOW_PORT       default 5000
#   MLFLOW_VENV       default ${XDG_CACHE_HOME:-~/.cache}/opportunity-scorer/mlflow-venv
#   MLFLOW_STATE_DIR  default <repo>/.kafka-local/mlflow (store and artifacts live in <state>/<port>)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PORT=${MLFLOW_PORT:-5000}
VENV=${MLFLOW_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/opportunity-scorer/mlflow-venv}
STATE=${MLFLOW_STATE_DIR:-$ROOT/.kafka-local/mlflow}/$PORT
PIDFILE=$STATE/mlflow.pid
LOGFILE=$STATE/mlflow.log
URL="http://127.0.0.1:$PORT"

say() { printf 'mlflow.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# shellcheck source=../lib/pidfile.sh
. "$HERE/../lib/pidfile.sh"

cmd_fetch() {
  bash "$ROOT/scripts/python-venv.sh" "$VENV" "$HERE/requirements.txt" "MLflow server"
}

cmd_start() {
  if pid=$(running_pid); then say "MLflow already running at $URL (pid $pid)"; return 0; fi
  cmd_fetch
  mkdir -p "$STATE/artifacts"
  local started=$SECONDS
  # One worker: the tests and a local run need no more, and the machine has two cores. No job execution or
  # telemetry; the server only listens on the loopback interface.
  MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true setsid nohup "$VENV/bin/mlflow" server \
    --host 127.0.0.1 --port "$PORT" --workers 1 \
    --backend-store-uri "sqlite:///$STATE/mlflow.db" \
    --artifacts-destination "$STATE/artifacts" --serve-artifacts \
    >"$LOGFILE" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local pid
  pid=$(cat "$PIDFILE")
  wait_http "$URL/health" "MLflow" 120
  say "MLflow $("$VENV/bin/python" -c 'import mlflow; print(mlflow.__version__)') started at $URL (pid $pid, $((SECONDS - started))s; store and artifacts in $STATE)"
}

cmd_stop() {
  stop_service "MLflow on port $PORT"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) if pid=$(running_pid); then echo "running: $URL (pid $pid)"; else echo "stopped: $URL"; exit 3; fi ;;
  fetch) cmd_fetch ;;
  url) echo "$URL" ;;
  *) die "usage: mlflow.sh start|stop|status|fetch|url" ;;
esac
