"""The retraining gate's rules (training/opportunity_training/gate.py); the whole command runs against a real MLflow
server in test/integration/registry/mlflow.test.ts."""
from opportunity_training import gate
from opportunity_training import walkforward as W

FIGURES = {"roc_auc": 0.70, "brier": 0.046, "ece": 0.020, "profit_mae": 0.058, "top_decile_profit": -0.09}


def test_equal_figures_pass_and_each_worse_metric_beyond_its_tolerance_is_named():
    assert gate.decide(FIGURES, FIGURES, 0.63, None)["passed"]
    for metric, sign, tol in gate.GATED:
        worse = {**FIGURES, metric: FIGURES[metric] - sign * (tol * 2 + 1e-9)}
        d = gate.decide(worse, FIGURES, 0.63, None)
        assert not d["passed"]
        assert [c["metric"] for c in d["checks"] if not c["ok"]] == [metric]
        assert d["reason"].startswith(metric)
        within = {**FIGURES, metric: FIGURES[metric] - sign * tol * 0.5}
        assert gate.decide(within, FIGURES, 0.63, None)["passed"]


def test_a_candidate_must_rank_better_than_the_funding_differential():
    d = gate.decide(FIGURES, FIGURES, 0.70, None)
    assert not d["passed"] and "funding differential" in d["reason"]


def test_live_figures_are_a_second_bar_once_the_monitor_has_enough_outcomes():
    live = {"pairs": 5_000, "rocAuc": 0.75, "brier": 0.040, "calibrationError": 0.010, "profitMae": 0.050}
    d = gate.decide(FIGURES, FIGURES, 0.63, live)
    assert not d["passed"]
    assert {c["metric"] for c in d["checks"] if not c["ok"]} == {"roc_auc", "brier", "ece", "profit_mae"}
    assert all("live" in c["against"] for c in d["checks"] if not c["ok"])
    assert gate.decide(FIGURES, FIGURES, 0.63, {**live, "pairs": 10})["passed"]


def test_a_bundle_saw_the_window_when_a_fit_or_validation_period_reaches_into_it_never_for_its_test_period():
    window = W.Window(gate._ms("2026-04-14T00:00:00+00:00"), gate._ms("2026-05-14T00:00:00+00:00"))
    old_split = {"training": {"periods": {"train": ["2025-08-21T00:00:00+00:00", "2026-01-23T00:00:00+00:00"],
                                          "validation": ["2026-01-30T00:00:00+00:00", "2026-03-10T00:00:00+00:00"],
                                          "test": ["2026-03-17T00:00:00+00:00", "2026-05-21T00:00:00+00:00"]}}}
    all_history = {"training": {"periods": {"fit": ["2025-08-21T00:00:00+00:00", "2026-04-09T00:00:00+00:00"],
                                            "validation": ["2026-04-16T00:00:00+00:00", "2026-05-14T00:00:00+00:00"]}}}
    assert not gate.saw(old_split, window)
    assert gate.saw(all_history, window)
    assert gate.saw({"training": {}}, window)  # unknown periods: assume it did
    assert gate.overlap(["2026-04-14T00:00:00+00:00", "2026-05-14T00:00:00+00:00"], window) == 1.0
    assert gate.overlap(["2026-03-14T00:00:00+00:00", "2026-04-14T00:00:00+00:00"], window) == 0.0
