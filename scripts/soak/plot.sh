#!/usr/bin/env bash
# Renders the soak's samples (test/soak/soak.test.ts writes them as JSON) as a PNG of RSS, heap and lag over time.
#   bash scripts/soak/plot.sh docs/soak/soak.json docs/soak/soak.png   (SOAK_PLOT_VENV overrides the venv's location)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=${SOAK_PLOT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/opportunity-scorer/soak-plot-venv}
bash "$ROOT/scripts/python-venv.sh" "$VENV" "$HERE/requirements.txt" "soak plot"
exec "$VENV/bin/python" "$HERE/plot.py" "$@"
