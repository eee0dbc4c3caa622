#!/usr/bin/env bash
# Sets up the training environment: a Python 3.11 virtualenv outside the repo with the pinned requirements.
#   bash training/setup.sh        (TRAINING_VENV overrides the location)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VENV=${TRAINING_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/opportunity-scorer/training-venv}
exec bash "$HERE/../scripts/python-venv.sh" "$VENV" "$HERE/requirements.txt" training
