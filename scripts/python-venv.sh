#!/usr/bin/env bash
# A Python 3.11+ virtualenv with pinned requirements, made once and reused while the requirements are unchanged:
#   bash scripts/python-venv.sh <venv dir> <requirements.txt> <what it is for>
# Used by training/setup.sh (the training pipeline) and scripts/test-clients/setup.sh (foreign test clients).
set -euo pipefail
VENV=$1 REQUIREMENTS=$2 WHAT=$3
PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; assert sys.version_info[:2] >= (3, 11), sys.version' || { echo "$WHAT needs Python 3.11+" >&2; exit 1; }
STAMP="$VENV/.requirements.sha256"
WANT=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
  echo "$WHAT venv up to date: $VENV" >&2
  exit 0
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
echo "$WANT" >"$STAMP"
echo "$WHAT venv ready: $VENV" >&2
