import numpy as np
import pytest

from opportunity_training import calibration
from opportunity_training import walkforward as W
from opportunity_training.config import DAY_MS, HOUR_MS, DecisionConfig, SimulationConfig, WalkForwardConfig


def events(days: int = 270, n: int = 20_000, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(0, days * DAY_MS, n)).astype(np.int64)
    # A label window per event: its realised hold, up to the longest hold the simulation allows.
    hold_h = rng.uniform(0, SimulationConfig().max_hold_hours, n)
    return t, hold_h


def test_at_least_four_monthly_test_folds_tile_the_end_of_the_span():
    t, _ = events()
    cfg = WalkForwardConfig()
    fs = W.folds(t, cfg)
    assert len(fs) >= 4
    for a, b in zip(fs, fs[1:]):
        assert a.test.end == b.test.start
    assert fs[-1].test.end == t.max() + 1
    for f in fs:
        assert f.test.end - f.test.start == pytest.approx(cfg.fold_days * DAY_MS, abs=1)


def test_no_test_event_and_no_label_window_inside_the_training_data():
    t, hold_h = events()
    cfg = WalkForwardConfig()
    label_end = t + (hold_h * HOUR_MS).astype(np.int64)
    for f in W.folds(t, cfg):
        fit, val, test = f.fit.mask(t), f.validation.mask(t), f.test.mask(t)
        assert fit.sum() and val.sum() and test.sum()
        assert not (fit & test).any() and not (val & test).any() and not (fit & val).any()
        # Every label of the fit window ends before validation starts, every validation label before the fold starts.
        assert label_end[fit].max() < f.validation.start
        assert label_end[val].max() < f.test.start
        # And with the longest possible hold, not only the holds drawn here.
        assert f.fit.end + cfg.gap_hours * HOUR_MS <= f.validation.start
        assert f.validation.end + cfg.gap_hours * HOUR_MS <= f.test.start
        # Rolling origin: the models of a fold never see it or anything after it.
        assert t[fit | val].max() < f.test.start


def test_the_gap_is_at_least_the_longest_hold():
    assert WalkForwardConfig().gap_hours >= SimulationConfig().max_hold_hours


def test_the_production_periods_end_with_the_newest_window():
    t, _ = events()
    cfg = WalkForwardConfig()
    f = W.final(t, cfg)
    assert f.test is None
    assert f.validation.mask(t).any() and t[f.validation.mask(t)].max() == t.max()
    assert f.fit.end + cfg.gap_hours * HOUR_MS <= f.validation.start
    assert f.validation.end - f.validation.start == cfg.validation_days * DAY_MS


def test_the_censored_tail_is_outside_the_labelled_span():
    t = np.array([0, 10, 100 * HOUR_MS, 200 * HOUR_MS], dtype=np.int64)
    keep = W.complete_labels(t, data_end_ms=200 * HOUR_MS, max_hold_hours=168)
    assert keep.tolist() == [True, True, False, False]


def test_too_short_a_span_is_refused():
    t, _ = events(days=100)
    with pytest.raises(ValueError, match="too short"):
        W.folds(t, WalkForwardConfig())


def test_ece_of_equal_count_bins():
    p = np.array([0.1, 0.2, 0.6, 0.9])
    y = np.array([0, 0, 0, 1])
    assert W.ece(p, y, 2) == pytest.approx((2 * 0.15 + 2 * 0.25) / 4)
    rng = np.random.default_rng(3)
    q = rng.random(200_000)
    assert W.ece(q, (rng.random(200_000) < q).astype(int), 10) < 0.005


def test_threshold_maximises_profit_per_trade_with_enough_trades_in_every_fold():
    score = np.arange(1000, dtype=np.float64)
    fold_of = np.arange(1000) % 4
    # Profit rises with the score, but the 5 best rows are huge losses: a threshold taking only them is not allowed.
    profit = score / 1000 - 0.8
    profit[-5:] = -3
    cfg = DecisionConfig(min_trades=100, min_trades_per_fold=20, quantiles=(0.5, 0.8, 0.9, 0.995))
    best = W.choose_threshold({"s": score}, profit, fold_of, cfg)["s"]
    assert best["trades"] >= 100 and min(best["trades_per_fold"]) >= 20
    assert best["quantile"] == 0.8
    none = W.choose_threshold({"s": score}, profit, fold_of, DecisionConfig(min_trades=5000, min_trades_per_fold=1, quantiles=(0.5,)))
    assert none["s"] is None


@pytest.mark.parametrize("method", calibration.METHODS)
def test_calibration_is_monotone_and_stays_a_probability(method):
    rng = np.random.default_rng(5)
    p = (rng.random(5000) ** 2).astype(np.float32)
    y = (rng.random(5000) < p * 0.5).astype(int)
    cal = calibration.fit(method, p, y)
    grid = np.linspace(0, 1, 101, dtype=np.float32)
    out = calibration.apply(cal, grid)
    assert out.dtype == np.float32
    assert np.all(np.diff(out) >= 0) and out.min() >= 0 and out.max() <= 1
    if method != "none":
        # Fitted on outcomes at half the predicted rate, the calibrated mean follows the outcomes.
        assert abs(calibration.apply(cal, p).mean() - y.mean()) < 0.01


def test_hindsight_ece_is_a_lower_bound_for_every_platt_map():
    rng = np.random.default_rng(7)
    true = rng.beta(1, 20, 20_000)
    y = (rng.random(true.size) < true).astype(int)
    # Scores miscalibrated by a logit-affine map (too confident, base rate too low): the bound undoes it.
    raw = (1 / (1 + np.exp(-(1.6 * calibration.logit(true) - 1.0)))).astype(np.float32)
    bound = W.hindsight_ece(raw, y, 10)
    assert W.ece(raw, y, 10) > 0.02
    assert bound < 0.005
    for a, b in [(0.5, 0.0), (0.625, 0.625), (1.0, 1.0), (0.7, 0.4)]:
        mapped = 1 / (1 + np.exp(-(a * calibration.logit(raw) + b)))
        assert bound <= W.ece(mapped, y, 10) + 1e-9
