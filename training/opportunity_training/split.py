"""Time-ordered train / validation / test split with gaps at least as long as the longest hold."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import HOUR_MS, SplitConfig


@dataclass(frozen=True)
class Periods:
    """Half-open [start, end) windows in epoch ms."""

    train: tuple[int, int]
    validation: tuple[int, int]
    test: tuple[int, int]

    def as_dict(self) -> dict[str, list[str]]:
        import datetime as dt

        iso = lambda ms: dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).isoformat()  # noqa: E731
        return {name: [iso(a), iso(b)] for name, (a, b) in (("train", self.train), ("validation", self.validation), ("test", self.test))}


def periods(detected_at: np.ndarray, cfg: SplitConfig) -> Periods:
    """Cuts [first, last] event time by shares; each later period starts a full gap after the previous one ends.
    A label covers at most the longest hold after detectedAt, so with gap >= longest hold no label of an
    earlier period can see the time of a later one."""
    lo, hi = int(detected_at.min()), int(detected_at.max()) + 1
    gap = int(cfg.gap_hours * HOUR_MS)
    usable = hi - lo - 2 * gap
    if usable <= 0:
        raise ValueError("time span too short for the gaps")
    train_end = lo + int(usable * cfg.train)
    val_start = train_end + gap
    val_end = val_start + int(usable * cfg.validation)
    test_start = val_end + gap
    return Periods(train=(lo, train_end), validation=(val_start, val_end), test=(test_start, hi))


def assign(detected_at: np.ndarray, p: Periods) -> np.ndarray:
    """'train' / 'validation' / 'test', or '' for events inside a gap (dropped)."""
    out = np.full(detected_at.shape, "", dtype=object)
    for name, (a, b) in (("train", p.train), ("validation", p.validation), ("test", p.test)):
        out[(detected_at >= a) & (detected_at < b)] = name
    return out
