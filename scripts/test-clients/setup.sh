#!/usr/bin/env bash
# A Python virtualenv outside the repo with the foreign test clients (test/clients/requirements.txt: tritonclient[http]).
#   bash scripts/test-clients/setup.sh   (TEST_CLIENTS_VENV overrides the location)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV=${TEST_CLIENTS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/opportunity-scorer/test-clients-venv}
exec bash "$ROOT/scripts/python-venv.sh" "$VENV" "$ROOT/test/clients/requirements.txt" "test clients"
