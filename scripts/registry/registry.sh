#!/usr/bin/env bash
# A real Confluent-compatible schema registry for local runs and tests: Apicurio Registry (in-memory storage),
# fetched from Maven Central with Maven and cached outside the repository. Its Confluent API is served at
# http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7 .
#
#   registry.sh start | stop | status | fetch | url
#
# Environment:
#   APICURIO_VERSION   default 3.3.3 (needs Java 21+; REGISTRY_JAVA, else the newest JDK found)
#   REGISTRY_PORT      default 8081
#   REGISTRY_CACHE_DIR default ${XDG_CACHE_HOME:-~/.cache}/opportunity-scorer/apicurio
#   REGISTRY_STATE_DIR default <repo>/.kafka-local/registry
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VERSION=${APICURIO_VERSION:-3.3.3}
PORT=${REGISTRY_PORT:-8081}
CACHE=${REGISTRY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/opportunity-scorer/apicurio}
HOME_DIR=$CACHE/$VERSION
STATE=${REGISTRY_STATE_DIR:-$ROOT/.kafka-local/registry}/$PORT
PIDFILE=$STATE/registry.pid
LOGFILE=$STATE/registry.log
URL="http://127.0.0.1:$PORT/apis/ccompat/v7"

say() { printf 'registry.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

java_major() { "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}' | cut -d. -f1; }

find_java() {
  local candidates=()
  [ -n "${REGISTRY_JAVA:-}" ] && candidates+=("$REGISTRY_JAVA")
  command -v java >/dev/null && candidates+=("$(command -v java)")
  for j in /usr/lib/jvm/*/bin/java /opt/*/bin/java; do [ -x "$j" ] && candidates+=("$j"); done
  for j in "${candidates[@]}"; do
    if [ "$(java_major "$j" 2>/dev/null || echo 0)" -ge 21 ]; then echo "$j"; return 0; fi
  done
  return 1
}

# shellcheck source=../lib/pidfile.sh
. "$HERE/../lib/pidfile.sh"

cmd_fetch() {
  [ -f "$HOME_DIR/quarkus-run.jar" ] && return 0
  command -v mvn >/dev/null || die "mvn not found (Debian: apt-get install maven)"
  say "fetching Apicurio Registry $VERSION with Maven into $HOME_DIR"
  rm -rf "$CACHE/dl" "$HOME_DIR.tmp"
  mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="io.apicurio:apicurio-registry-app:$VERSION:tar.gz:all" -DoutputDirectory="$CACHE/dl" >&2
  mkdir -p "$HOME_DIR.tmp"
  tar xzf "$CACHE/dl/apicurio-registry-app-$VERSION-all.tar.gz" -C "$HOME_DIR.tmp"
  rm -rf "$CACHE/dl" "$HOME_DIR"
  mv "$HOME_DIR.tmp" "$HOME_DIR"
}

cmd_start() {
  if pid=$(running_pid); then say "registry already running at $URL (pid $pid)"; return 0; fi
  local java
  java=$(find_java) || die "Apicurio Registry $VERSION needs Java 21+; none found (set REGISTRY_JAVA)"
  cmd_fetch
  mkdir -p "$STATE"
  local started=$SECONDS
  # In-memory H2 storage: schemas live as long as the process (what tests and local runs want).
  setsid nohup "$java" -Xms64m -Xmx384m -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$PORT" \
    -jar "$HOME_DIR/quarkus-run.jar" >"$LOGFILE" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local pid
  pid=$(cat "$PIDFILE")
  wait_http "$URL/subjects" "the registry" 90
  say "Apicurio Registry $VERSION started at $URL (pid $pid, $((SECONDS - started))s, $("$java" -version 2>&1 | head -n 1))"
}

cmd_stop() {
  stop_service "registry on port $PORT"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) if pid=$(running_pid); then echo "running: $URL (pid $pid)"; else echo "stopped: $URL"; exit 3; fi ;;
  fetch) cmd_fetch ;;
  url) echo "$URL" ;;
  *) die "usage: registry.sh start|stop|status|fetch|url" ;;
esac
