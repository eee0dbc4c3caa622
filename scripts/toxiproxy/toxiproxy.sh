#!/usr/bin/env bash
# Toxiproxy, the TCP proxy that injects network faults (latency, resets, timeouts, bandwidth caps), for the fault
# suite: built once from the Go module proxy (cmd/server of github.com/Shopify/toxiproxy/v2) and cached outside the
# repository, like helm. Its HTTP API listens on 127.0.0.1:$TOXIPROXY_PORT; proxies are created through it.
#
#   toxiproxy.sh start | stop | status | fetch | url
#
# Environment:
#   TOXIPROXY_VERSION   default v2.5.0
#   TOXIPROXY_PORT      default 8474
#   TOXIPROXY_CACHE_DIR default ${XDG_CACHE_HOME:-~/.cache}/opportunity-scorer/toxiproxy
#   TOXIPROXY_STATE_DIR default <repo>/.kafka-local/toxiproxy
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VERSION=${TOXIPROXY_VERSION:-v2.5.0}
PORT=${TOXIPROXY_PORT:-8474}
CACHE=${TOXIPROXY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/opportunity-scorer/toxiproxy}
BIN=$CACHE/$VERSION/toxiproxy-server
STATE=${TOXIPROXY_STATE_DIR:-$ROOT/.kafka-local/toxiproxy}/$PORT
PIDFILE=$STATE/toxiproxy.pid
LOGFILE=$STATE/toxiproxy.log
URL="http://127.0.0.1:$PORT"

say() { printf 'toxiproxy.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# shellcheck source=../lib/pidfile.sh
. "$HERE/../lib/pidfile.sh"

cmd_fetch() {
  [ -x "$BIN" ] && return 0
  command -v go >/dev/null || die "Toxiproxy is built with Go (1.17 or newer): install Go"
  say "building Toxiproxy $VERSION from the Go module proxy into $(dirname "$BIN") (a minute or two, once)"
  mkdir -p "$CACHE/$VERSION.tmp"
  GOBIN="$CACHE/$VERSION.tmp" GOFLAGS=-mod=mod CGO_ENABLED=0 go install "github.com/Shopify/toxiproxy/v2/cmd/server@$VERSION"
  mv "$CACHE/$VERSION.tmp/server" "$CACHE/$VERSION.tmp/toxiproxy-server"
  rm -rf "$CACHE/$VERSION"
  mv "$CACHE/$VERSION.tmp" "$CACHE/$VERSION"
}

cmd_start() {
  if pid=$(running_pid); then say "Toxiproxy already running at $URL (pid $pid)"; return 0; fi
  cmd_fetch
  mkdir -p "$STATE"
  local started=$SECONDS
  setsid nohup "$BIN" -host 127.0.0.1 -port "$PORT" >"$LOGFILE" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local pid
  pid=$(cat "$PIDFILE")
  wait_http "$URL/version" "Toxiproxy" 30
  say "Toxiproxy $VERSION started at $URL (pid $pid, $((SECONDS - started))s)"
}

cmd_stop() {
  stop_service "Toxiproxy on port $PORT"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) if pid=$(running_pid); then echo "running: $URL (pid $pid)"; else echo "stopped: $URL"; exit 3; fi ;;
  fetch) cmd_fetch ;;
  url) echo "$URL" ;;
  *) die "usage: toxiproxy.sh start|stop|status|fetch|url" ;;
esac
