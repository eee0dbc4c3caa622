#!/usr/bin/env bash
# Installs the ops tools the deploy and observability tests run: promtool and prometheus (Debian's prometheus
# package), docker-compose (Debian's, to validate docker-compose.yml; no Docker engine needed) and helm (built from
# the Go module proxy when no package has it, cached in ~/.cache/opportunity-scorer/bin).
#   bash scripts/deploy/tools.sh        # idempotent; prints the versions
set -euo pipefail

HELM_VERSION=${HELM_VERSION:-v3.16.4}
BIN=${XDG_CACHE_HOME:-$HOME/.cache}/opportunity-scorer/bin
say() { printf 'tools.sh: %s\n' "$*" >&2; }

missing=()
command -v promtool >/dev/null || missing+=(prometheus)
command -v prometheus >/dev/null || missing+=(prometheus)
command -v docker-compose >/dev/null || missing+=(docker-compose)
if [ ${#missing[@]} -gt 0 ]; then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  [ "$(id -u)" -eq 0 ] || { say "need root to apt-get install $pkgs"; exit 1; }
  say "apt-get install $pkgs"
  apt-get update -qq
  # --no-install-recommends: the prometheus package recommends the node exporter, which we do not need.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
fi

if ! command -v helm >/dev/null && [ ! -x "$BIN/helm" ]; then
  command -v go >/dev/null || { say "helm is built with Go (1.21 or newer): install Go, or put helm on PATH"; exit 1; }
  say "building helm $HELM_VERSION from the Go module proxy into $BIN (a few minutes, once)"
  mkdir -p "$BIN"
  GOBIN="$BIN" GOFLAGS=-mod=mod CGO_ENABLED=0 go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi

helm_bin=$(command -v helm || echo "$BIN/helm")
say "promtool: $(promtool --version 2>&1 | head -n 1)"
say "docker-compose: $(docker-compose version --short 2>/dev/null || docker-compose --version)"
say "helm: $("$helm_bin" version --short 2>/dev/null) ($helm_bin)"
