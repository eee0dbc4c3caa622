"""Features come only from the project's own preprocessor, through `opportunity-scorer features`."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]


def feature_matrix(events_jsonl: Path, out_csv: Path) -> tuple[pd.DataFrame, dict]:
    """Runs the TypeScript features command on the events file; returns the CSV as a frame and its summary."""
    cli = REPO / "bin" / "opportunity-scorer.js"
    rejects = out_csv.with_suffix(".rejects.jsonl")
    proc = subprocess.run(
        ["node", str(cli), "features", "--input", str(events_jsonl), "--output", str(out_csv), "--rejects", str(rejects)],
        check=True,
        capture_output=True,
        text=True,
    )
    summary = json.loads(proc.stderr.strip().splitlines()[-1])
    if summary["rejected"]:
        raise RuntimeError(f"{summary['rejected']} generated events failed validation; see {rejects}")
    # float32 end to end: the CSV prints each float32 as the shortest decimal that reads back to it exactly.
    frame = pd.read_csv(out_csv, dtype={"id": str}, float_precision="round_trip")
    return frame, summary


def as_float32(frame: pd.DataFrame, names: list[str]) -> np.ndarray:
    return frame[names].to_numpy(dtype=np.float32)
