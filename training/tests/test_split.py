import numpy as np

from opportunity_training.config import HOUR_MS, SplitConfig
from opportunity_training.split import assign, periods


def test_periods_do_not_overlap_and_keep_the_gap():
    t = np.sort(np.random.default_rng(0).integers(0, 270 * 24 * HOUR_MS, 10_000))
    cfg = SplitConfig()
    p = periods(t, cfg)
    gap = cfg.gap_hours * HOUR_MS
    assert p.train[0] <= p.train[1] <= p.validation[0] - gap
    assert p.validation[1] <= p.test[0] - gap
    part = assign(t, p)
    for name in ("train", "validation", "test"):
        assert (part == name).sum() > 0
    # Order by time, no mixing: every train event precedes every validation event, and so on.
    assert t[part == "train"].max() + gap <= t[part == "validation"].min()
    assert t[part == "validation"].max() + gap <= t[part == "test"].min()
    # Events inside the gaps belong to no period.
    assert set(part[(t >= p.train[1]) & (t < p.validation[0])]) <= {""}


def test_longest_hold_fits_in_the_gap():
    from opportunity_training.config import SimulationConfig

    assert SplitConfig().gap_hours >= SimulationConfig().max_hold_hours
