#!/usr/bin/env bash
# Retrains the model bundle from the funding history, end to end (walk-forward evaluation, then the bundle):
#   bash training/train.sh [--data ../shared/data/funding] [--version 2.0.0] [--check | --walk-forward | --experiments]
# --check retrains in a scratch folder and compares models, calibration and decision with the committed bundle;
# --walk-forward only evaluates (prints the table, writes walk-forward.json and the card's table);
# --experiments measures each model variant of training/opportunity_training/experiments.py in walk-forward.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
VENV=${TRAINING_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/opportunity-scorer/training-venv}
bash "$HERE/setup.sh"
# Features come from the project's own TypeScript preprocessor (bin/opportunity-scorer.js features).
[ -f "$ROOT/dist/cli/bin.js" ] || (cd "$ROOT" && npm run build >/dev/null)
args=("$@")
if ! printf '%s\n' "${args[@]:-}" | grep -qx -- '--data'; then args=(--data "$ROOT/../shared/data/funding" "${args[@]}"); fi
# Byte-for-byte retraining needs the same floating-point kernels everywhere: OpenBLAS picks one per CPU (SkylakeX on
# AVX-512 machines), and the Platt calibration's last bits differ between them (2.0.0 was made with Haswell's). Pin
# Haswell (AVX2 + FMA) where the CPU has it, unless the machine sets a kernel itself.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo 2>/dev/null; then
  export OPENBLAS_CORETYPE=Haswell
fi
cd "$HERE"
exec "$VENV/bin/python" -m opportunity_training.pipeline "${args[@]}"
