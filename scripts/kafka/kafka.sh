#!/usr/bin/env bash
# A real single-node Apache Kafka (KRaft, broker + controller in one JVM) for local runs and tests, without Docker.
#
#   kafka.sh start | stop | status | fetch | reset | logs
#
# The broker's jars come from Maven Central through Maven and are cached outside the repository
# (reused on the next run). Runtime state (data, pid, log) lives in $KAFKA_STATE_DIR/<port>/.
#
# Environment:
#   KAFKA_VERSION          Apache Kafka version (default 4.1.1)
#   KAFKA_PORT             client port on 127.0.0.1 (default 9092); the controller uses KAFKA_CONTROLLER_PORT
#   KAFKA_CONTROLLER_PORT  controller port (default KAFKA_PORT + 1)
#   KAFKA_CACHE_DIR        jar cache (default ${XDG_CACHE_HOME:-~/.cache}/opportunity-scorer/kafka)
#   KAFKA_STATE_DIR        data/pid/log root (default <repo>/.kafka-local)
#   KAFKA_HEAP_OPTS        JVM heap (default -Xms256m -Xmx512m)
#   KAFKA_START_TIMEOUT    seconds to wait for the broker to answer metadata requests (default 90)
#   KAFKA_SASL_PORT        also listen with SASL_PLAINTEXT on this port: PLAIN and SCRAM-SHA-256/512 for the user
#                          KAFKA_SASL_USER (default scorer) with KAFKA_SASL_PASS (default scorer-secret); SCRAM users
#                          are written when the storage is formatted (kafka.sh reset to add them to an old one).
#                          It also turns on ACLs: a resource without ACLs stays open to everyone, the plaintext
#                          listener's clients (User:ANONYMOUS) are super users, and the SASL user is held to the
#                          ACLs an admin sets (tests revoke and restore its group access)
#   KAFKA_PROXIED_PORT     also listen (plaintext) on this port, advertised as 127.0.0.1:KAFKA_PROXY_PORT: a client
#   KAFKA_PROXY_PORT       that bootstraps through a TCP proxy listening there (Toxiproxy, forwarding to
#                          KAFKA_PROXIED_PORT) is sent back to the proxy for every broker connection, so the faults
#                          the proxy injects reach all of that client's traffic and no other client's
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
KAFKA_VERSION=${KAFKA_VERSION:-4.1.1}
PORT=${KAFKA_PORT:-9092}
CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}
CACHE=${KAFKA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/opportunity-scorer/kafka}
LIB=$CACHE/$KAFKA_VERSION/lib
STATE=${KAFKA_STATE_DIR:-$ROOT/.kafka-local}/$PORT
PIDFILE=$STATE/broker.pid
LOGFILE=$STATE/broker.log
HEAP=${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
SASL_PORT=${KAFKA_SASL_PORT:-}
SASL_USER=${KAFKA_SASL_USER:-scorer}
SASL_PASS=${KAFKA_SASL_PASS:-scorer-secret}
PROXIED_PORT=${KAFKA_PROXIED_PORT:-}
PROXY_PORT=${KAFKA_PROXY_PORT:-}
LOG4J="-Dlog4j2.configurationFile=file:$HERE/log4j2.properties"

say() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

running_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid=$(cat "$PIDFILE")
  if kill -0 "$pid" 2>/dev/null; then echo "$pid"; return 0; fi
  return 1
}

check_java() {
  command -v java >/dev/null || die "java not found: Kafka 4.x needs Java 17+ (Debian: apt-get install openjdk-17-jre-headless)"
  local major
  major=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}' | cut -d. -f1)
  [ "${major:-0}" -ge 17 ] || die "Java $major found; Kafka 4.x needs Java 17+"
}

cmd_fetch() {
  if [ -f "$LIB/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found: it fetches the broker's jars from Maven Central (Debian: apt-get install maven)"
  say "fetching Apache Kafka $KAFKA_VERSION jars with Maven into $LIB"
  rm -rf "$LIB.tmp"
  mkdir -p "$LIB.tmp"
  mvn -q -B -f "$HERE/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DoutputDirectory="$LIB.tmp" -DincludeScope=runtime >&2
  ls "$LIB.tmp"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 || die "Maven did not deliver kafka_2.13-$KAFKA_VERSION.jar"
  rm -rf "$LIB"
  mv "$LIB.tmp" "$LIB"
  touch "$LIB/.complete"
}

probe() {
  if [ -f "$ROOT/node_modules/kafkajs/package.json" ]; then
    node "$HERE/probe.mjs" "127.0.0.1:$PORT"
  else
    # Without node_modules, the broker's own start-up line is the best signal available.
    grep -q "Kafka Server started" "$LOGFILE" 2>/dev/null
  fi
}

cmd_start() {
  if pid=$(running_pid); then
    say "Kafka already running on 127.0.0.1:$PORT (pid $pid)"
    return 0
  fi
  check_java
  cmd_fetch
  mkdir -p "$STATE/data" "$STATE/logs"
  sed -e "s#@PORT@#$PORT#g" -e "s#@CONTROLLER_PORT@#$CONTROLLER_PORT#g" -e "s#@DATA_DIR@#$STATE/data#g" \
    "$HERE/server.properties.template" >"$STATE/server.properties"
  if [ -n "$PROXIED_PORT" ]; then
    [ -n "$PROXY_PORT" ] || die "KAFKA_PROXIED_PORT needs KAFKA_PROXY_PORT (the proxy's listen port, advertised to clients)"
    sed -i -e "s#^listeners=\(.*\)#listeners=\1,PROXIED://127.0.0.1:$PROXIED_PORT#" \
      -e "s#^advertised.listeners=\(.*\)#advertised.listeners=\1,PROXIED://127.0.0.1:$PROXY_PORT#" \
      -e "s#^listener.security.protocol.map=\(.*\)#listener.security.protocol.map=\1,PROXIED:PLAINTEXT#" "$STATE/server.properties"
  fi
  local scram=()
  if [ -n "$SASL_PORT" ]; then
    # A second listener with SASL: PLAIN users come from the JAAS line, SCRAM users from the formatted storage.
    sed -i -e "s#^listeners=\(.*\)#listeners=\1,SASL_PLAINTEXT://127.0.0.1:$SASL_PORT#" \
      -e "s#^advertised.listeners=\(.*\)#advertised.listeners=\1,SASL_PLAINTEXT://127.0.0.1:$SASL_PORT#" \
      -e "s#^listener.security.protocol.map=\(.*\)#listener.security.protocol.map=\1,SASL_PLAINTEXT:SASL_PLAINTEXT#" "$STATE/server.properties"
    cat >>"$STATE/server.properties" <<PROPS
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SASL_USER="$SASL_PASS";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=true
super.users=User:ANONYMOUS
PROPS
    scram=(--add-scram "SCRAM-SHA-256=[name=$SASL_USER,password=$SASL_PASS]" --add-scram "SCRAM-SHA-512=[name=$SASL_USER,password=$SASL_PASS]")
  fi
  if [ ! -f "$STATE/data/meta.properties" ]; then
    local cluster_id
    cluster_id=$(java $LOG4J -cp "$LIB/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    java $LOG4J -cp "$LIB/*" kafka.tools.StorageTool format -t "$cluster_id" -c "$STATE/server.properties" "${scram[@]}" >"$STATE/format.log" 2>&1 ||
      { cat "$STATE/format.log" >&2; die "formatting the storage failed"; }
  fi
  local started=$SECONDS
  # setsid: the broker outlives the npm/vitest process that started it; kafka.sh stop ends it.
  # shellcheck disable=SC2086
  setsid nohup java $HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:MaxDirectMemorySize=256m -Djava.awt.headless=true \
    $LOG4J -Dkafka.logs.dir="$STATE/logs" -cp "$LIB/*" kafka.Kafka "$STATE/server.properties" \
    >"$LOGFILE" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local pid
  pid=$(cat "$PIDFILE")
  until probe >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$LOGFILE" >&2 || true
      rm -f "$PIDFILE"
      die "the broker exited during start-up (log: $LOGFILE)"
    fi
    if [ $((SECONDS - started)) -ge "$START_TIMEOUT" ]; then
      tail -n 30 "$LOGFILE" >&2 || true
      cmd_stop
      die "the broker did not answer metadata requests within ${START_TIMEOUT}s (log: $LOGFILE)"
    fi
    sleep 0.5
  done
  say "Apache Kafka $KAFKA_VERSION started on 127.0.0.1:$PORT${SASL_PORT:+ (SASL_PLAINTEXT on $SASL_PORT)} (pid $pid, $((SECONDS - started))s; log $LOGFILE)"
}

cmd_stop() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$PIDFILE"
    say "Kafka on 127.0.0.1:$PORT is not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "broker did not stop within 30s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
  say "Kafka on 127.0.0.1:$PORT stopped"
}

cmd_status() {
  if pid=$(running_pid); then
    echo "running: Apache Kafka $KAFKA_VERSION on 127.0.0.1:$PORT (pid $pid, state $STATE)"
  else
    echo "stopped: 127.0.0.1:$PORT"
    return 3
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  fetch) cmd_fetch ;;
  reset) cmd_stop; rm -rf "$STATE"; say "removed $STATE" ;;
  logs) tail -n "${2:-100}" "$LOGFILE" ;;
  *) die "usage: kafka.sh start|stop|status|fetch|reset|logs [lines]" ;;
esac
