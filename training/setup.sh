#!/usr/bin/env bash
# Sets up the training environment: a Python 3.11 virtualenv outside the repo with the pinned requirements.
#   bash training/setup.sh        (TRAINING_VENV overrides the location)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VENV=${TRAINING_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/opportunity-scorer/training-venv}
PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; assert sys.version_info[:2] >= (3, 11), sys.version' || { echo "training needs Python 3.11+" >&2; exit 1; }
STAMP="$VENV/.requirements.sha256"
WANT=$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
  echo "training venv up to date: $VENV" >&2
  exit 0
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
echo "$WANT" >"$STAMP"
echo "training venv ready: $VENV" >&2
