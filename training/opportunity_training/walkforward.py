"""Walk-forward (rolling-origin) evaluation: how the models hold up as the market moves, fold by fold.

Each fold's three models are fitted only on events before its validation window, stopped early and calibrated on
that window, and scored on the month after it; a gap of at least the longest hold separates fit, validation and
test, so no label window of an earlier period reaches into a later one. Baselines in the same folds: the funding
differential ranking, and the bundle trained once before the first fold and never again (the old method).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, replace

import numpy as np
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, mean_absolute_error, roc_auc_score

from . import calibration
from .config import DAY_MS, HOUR_MS, DecisionConfig, ModelConfig, WalkForwardConfig
from .model import TARGETS, Trained, predict, to_label_units, train

RANK_SCORES = ("predicted_profit_percent", "success_probability", "composite_score")


@dataclass(frozen=True)
class Window:
    """Half-open [start, end) in epoch ms."""

    start: int
    end: int

    def mask(self, t: np.ndarray) -> np.ndarray:
        return (t >= self.start) & (t < self.end)

    def iso(self) -> list[str]:
        f = lambda ms: dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).isoformat()  # noqa: E731
        return [f(self.start), f(self.end)]


@dataclass(frozen=True)
class Fold:
    index: int
    fit: Window
    validation: Window
    test: Window | None  # None for the production bundle: it is scored by the future


def complete_labels(detected_at: np.ndarray, data_end_ms: int, max_hold_hours: float) -> np.ndarray:
    """Events whose whole label window ends inside the data. Later ones are labelled only when they exited early
    (mostly losses after fees), a censored, biased sample that no period may learn from or be scored on."""
    return detected_at + int(max_hold_hours * HOUR_MS) <= data_end_ms


def folds(detected_at: np.ndarray, cfg: WalkForwardConfig) -> list[Fold]:
    """`cfg.folds` consecutive test windows ending at the last event, each with its own validation and fit window."""
    lo, hi = int(detected_at.min()), int(detected_at.max()) + 1
    fold_ms = int(cfg.fold_days * DAY_MS)
    out = []
    for k in range(cfg.folds):
        test_end = hi - (cfg.folds - 1 - k) * fold_ms
        test = Window(test_end - fold_ms, test_end)
        out.append(_before(k, lo, test.start, cfg, test))
    if out[0].fit.end - lo < 2 * fold_ms:
        raise ValueError("labelled span too short for the walk-forward folds")
    return out


def final(detected_at: np.ndarray, cfg: WalkForwardConfig) -> Fold:
    """The production bundle's periods: all history, the newest validation window for early stopping and calibration."""
    return _before(cfg.folds, int(detected_at.min()), int(detected_at.max()) + 1 + int(cfg.gap_hours * HOUR_MS), cfg, None)


def _before(index: int, lo: int, test_start: int, cfg: WalkForwardConfig, test: Window | None) -> Fold:
    gap = int(cfg.gap_hours * HOUR_MS)
    val_end = test_start - gap
    val_start = val_end - int(cfg.validation_days * DAY_MS)
    return Fold(index=index, fit=Window(lo, val_start - gap), validation=Window(val_start, val_end), test=test)


def ece(p: np.ndarray, y: np.ndarray, bins: int) -> float:
    """Expected calibration error over `bins` equal-count bins of the predicted probability."""
    order = np.argsort(p, kind="stable")
    parts = np.array_split(order, bins)
    return float(sum(len(b) / len(p) * abs(p[b].mean() - y[b].mean()) for b in parts if len(b)))


def reliability(p: np.ndarray, y: np.ndarray, bins: int) -> list[dict]:
    order = np.argsort(p, kind="stable")
    return [{"rows": int(len(b)), "predicted": float(p[b].mean()), "realised": float(y[b].mean())} for b in np.array_split(order, bins) if len(b)]


def top_mean(score: np.ndarray, values: np.ndarray, share: float) -> float:
    k = max(1, int(len(score) * share))
    return float(values[np.argsort(-score, kind="stable")[:k]].mean())


@dataclass
class FoldData:
    x: np.ndarray
    success: np.ndarray
    profit: np.ndarray
    duration: np.ndarray
    differential: np.ndarray  # carry_8h_bp


def fold_data(x: np.ndarray, y: dict[str, np.ndarray], names: list[str], m: np.ndarray) -> FoldData:
    """The rows of mask `m` with their labels and the differential the baseline ranks by."""
    carry = x[:, names.index("carry_8h_bp")].astype(np.float64)
    return FoldData(x[m], y["labelSuccess"][m], y["labelProfitPercent"][m], y["labelDurationHours"][m], carry[m])


def scores_of(trained: dict[str, Trained], cal: dict, x: np.ndarray) -> dict[str, np.ndarray]:
    """The served outputs in label units: calibrated success probability, profit %, duration hours, composite."""
    raw = {name: predict(t, x) for name, t in trained.items()}
    out = {
        "success_probability": calibration.apply(cal, raw["success"]).astype(np.float64),
        "predicted_profit_percent": raw["profit"].astype(np.float64),
        "predicted_duration_hours": to_label_units("duration", raw["duration"]).astype(np.float64),
        "raw_success": raw["success"].astype(np.float64),
    }
    out["composite_score"] = out["success_probability"] * out["predicted_profit_percent"]
    return out


def hindsight_ece(raw: np.ndarray, y: np.ndarray, bins: int) -> float:
    """The lowest ECE that any increasing logit-affine recalibration, p' = sigmoid(a * logit(p) + b) with a > 0 (Platt's
    family), reaches on the scored fold when it is fitted on that fold itself, outcomes included. Not a deployable
    figure: a bound. Such a map keeps the order of the scores, so the equal-count bins stay the same rows and only
    their means move; what this leaves is the scores' shape within the fold, which no Platt fitted before the fold
    can remove either."""
    order = np.argsort(raw, kind="stable")
    parts = [b for b in np.array_split(order, bins) if len(b)]
    z = calibration.logit(raw)
    weights = np.array([len(b) / len(raw) for b in parts])
    realised = np.array([y[b].mean() for b in parts])
    zs = [z[b] for b in parts]

    def err(ab: np.ndarray) -> float:
        a, b = float(ab[0]), float(ab[1])
        means = np.array([(1.0 / (1.0 + np.exp(-(a * v + b)))).mean() for v in zs])
        return float((weights * np.abs(means - realised)).sum()) if a > 0 else float("inf")

    # A coarse grid finds the basin (the error is piecewise smooth in a and b), Nelder-Mead refines it.
    grid = [(a, b) for a in np.linspace(0.1, 3.0, 30) for b in np.linspace(-6.0, 6.0, 61)]
    start = min(grid, key=lambda ab: err(np.array(ab)))
    # Nelder-Mead's simplex starts at `start`, so what it returns is never worse than the grid's best.
    return float(minimize(err, np.array(start), method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-7}).fun)


def metrics(s: dict[str, np.ndarray], d: FoldData, cfg: WalkForwardConfig) -> dict:
    p = s["success_probability"]
    return {
        "success_rate": float(d.success.mean()),
        "roc_auc": float(roc_auc_score(d.success, p)),
        "pr_auc": float(average_precision_score(d.success, p)),
        "brier": float(brier_score_loss(d.success, p)),
        "ece": ece(p, d.success, cfg.calibration_bins),
        # Mean predicted vs realised success rate: a gap here is a base-rate shift no ranking can fix.
        "mean_probability": float(p.mean()),
        "precision_at_top_decile": top_mean(p, d.success, cfg.top_share),
        "profit_mae": float(mean_absolute_error(d.profit, s["predicted_profit_percent"])),
        "duration_mae": float(mean_absolute_error(d.duration, s["predicted_duration_hours"])),
        **{f"top_decile_profit_by_{name}": top_mean(s[name], d.profit, cfg.top_share) for name in RANK_SCORES},
    }


def differential_metrics(fit: FoldData, d: FoldData, cfg: WalkForwardConfig, median_hold: float, fees: float) -> dict:
    """The one-line heuristic: rank by the current funding differential; its probability (for Brier and ECE) is a
    logistic fit of success on the differential over the fit window; its profit the differential held for the
    fit window's median hold, minus fees."""
    lr = LogisticRegression().fit(fit.differential.reshape(-1, 1), fit.success)
    prob = lr.predict_proba(d.differential.reshape(-1, 1))[:, 1]
    return {
        "roc_auc": float(roc_auc_score(d.success, d.differential)),
        "pr_auc": float(average_precision_score(d.success, d.differential)),
        "brier": float(brier_score_loss(d.success, prob)),
        "ece": ece(prob, d.success, cfg.calibration_bins),
        "mean_probability": float(prob.mean()),
        "precision_at_top_decile": top_mean(d.differential, d.success, cfg.top_share),
        "profit_mae": float(mean_absolute_error(d.profit, d.differential / 100 * (median_hold / 8) - fees)),
        "duration_mae": float(mean_absolute_error(d.duration, np.full_like(d.duration, median_hold))),
        "top_decile_profit": top_mean(d.differential, d.profit, cfg.top_share),
    }


def fit_fold(x: np.ndarray, y: dict[str, np.ndarray], fit_m: np.ndarray, val_m: np.ndarray, cfg: ModelConfig, names: list[str],
             detected: np.ndarray) -> dict[str, Trained]:
    weight = None
    if cfg.recency_half_life_days is not None:
        age_days = (detected[fit_m].max() - detected[fit_m]) / DAY_MS
        weight = 0.5 ** (age_days / cfg.recency_half_life_days)
    return {name: train(name, x[fit_m], y[label][fit_m], x[val_m], y[label][val_m], cfg, names, weight) for name, (label, _) in TARGETS.items()}


def calibrators(trained: dict[str, Trained], x_val: np.ndarray, success_val: np.ndarray) -> dict[str, dict]:
    raw = predict(trained["success"], x_val)
    return {method: calibration.fit(method, raw, success_val) for method in calibration.METHODS}


def choose_threshold(pooled: dict[str, np.ndarray], profit: np.ndarray, fold_of: np.ndarray, cfg: DecisionConfig) -> dict:
    """For each rank score, the threshold maximising mean realised profit per trade over the pooled test folds,
    with at least the minimum of trades (in all, and in every fold)."""
    out = {}
    n_folds = int(fold_of.max()) + 1
    for name, score in pooled.items():
        best: dict | None = None
        for q in cfg.quantiles:
            thr = float(np.quantile(score, q))
            take = score >= thr
            per_fold = [int((take & (fold_of == k)).sum()) for k in range(n_folds)]
            if take.sum() < cfg.min_trades or min(per_fold) < cfg.min_trades_per_fold:
                continue
            mean = float(profit[take].mean())
            if best is None or mean > best["mean_profit_per_trade"]:
                best = {
                    "threshold": thr,
                    "quantile": q,
                    "trades": int(take.sum()),
                    "trades_per_fold": per_fold,
                    "mean_profit_per_trade": mean,
                    "mean_profit_per_trade_per_fold": [float(profit[take & (fold_of == k)].mean()) for k in range(n_folds)],
                    "success_rate": float((profit[take] > 0).mean()),
                }
        out[name] = best
    return out


def summarise(rows: list[dict]) -> dict:
    keys = rows[0].keys()
    return {k: float(np.mean([r[k] for r in rows])) for k in keys}


def run(x: np.ndarray, y: dict[str, np.ndarray], detected: np.ndarray, names: list[str], model_cfg: ModelConfig,
        wf: WalkForwardConfig, decision: DecisionConfig, fees: float, log=lambda msg: None) -> dict:
    """Every fold, every calibration method, the baselines, and the choices they lead to (calibration, rank score,
    threshold)."""
    fs = folds(detected, wf)

    def data(m: np.ndarray) -> FoldData:
        return fold_data(x, y, names, m)

    once: tuple[dict[str, Trained], dict[str, dict]] | None = None
    rows: list[dict] = []
    pooled: dict[str, dict[str, list[np.ndarray]]] = {m: {s: [] for s in RANK_SCORES} for m in calibration.METHODS}
    pooled_profit: list[np.ndarray] = []
    pooled_fold: list[np.ndarray] = []
    for f in fs:
        fit_m, val_m, test_m = f.fit.mask(detected), f.validation.mask(detected), f.test.mask(detected)  # type: ignore[union-attr]
        trained = fit_fold(x, y, fit_m, val_m, model_cfg, names, detected)
        cals = calibrators(trained, x[val_m], y["labelSuccess"][val_m])
        if once is None:
            once = (trained, cals)
        d = data(test_m)
        median_hold = float(np.median(y["labelDurationHours"][fit_m]))
        row = {
            "fold": f.index + 1,
            "periods": {"fit": f.fit.iso(), "validation": f.validation.iso(), "test": f.test.iso()},  # type: ignore[union-attr]
            "rows": {"fit": int(fit_m.sum()), "validation": int(val_m.sum()), "test": int(test_m.sum())},
            "success_rate": float(d.success.mean()),
            "trees": {name: t.best_iteration + 1 for name, t in trained.items()},
            "model": {},
            "trained_once": {},
            "differential": differential_metrics(data(fit_m), d, wf, median_hold, fees),
        }
        for method in calibration.METHODS:
            s = scores_of(trained, cals[method], d.x)
            row["model"][method] = metrics(s, d, wf)
            row["trained_once"][method] = metrics(scores_of(once[0], once[1][method], d.x), d, wf)
            for name in RANK_SCORES:
                pooled[method][name].append(s[name])
        row["ece_hindsight"] = hindsight_ece(predict(trained["success"], d.x), d.success, wf.calibration_bins)
        pooled_profit.append(d.profit)
        pooled_fold.append(np.full(len(d.profit), f.index))
        rows.append(row)
        m = row["model"]["none"]
        log(f"fold {f.index + 1}: test {row['rows']['test']} rows, success rate {row['success_rate']:.3f}; ROC-AUC {m['roc_auc']:.4f} "
            f"(differential {row['differential']['roc_auc']:.4f}); ECE none/platt/isotonic "
            + "/".join(f"{row['model'][c]['ece']:.4f}" for c in calibration.METHODS))

    average = {
        "model": {method: summarise([r["model"][method] for r in rows]) for method in calibration.METHODS},
        "trained_once": {method: summarise([r["trained_once"][method] for r in rows]) for method in calibration.METHODS},
        "differential": summarise([r["differential"] for r in rows]),
        "ece_hindsight": float(np.mean([r["ece_hindsight"] for r in rows])),
    }
    # Calibration: the method with the lowest average ECE (Brier breaks ties); rank score: the best average
    # realised profit of its top decile.
    method = min(calibration.METHODS, key=lambda c: (round(average["model"][c]["ece"], 6), average["model"][c]["brier"]))
    rank = max(RANK_SCORES, key=lambda s: average["model"][method][f"top_decile_profit_by_{s}"])
    profit = np.concatenate(pooled_profit)
    fold_of = np.concatenate(pooled_fold)
    scores = {name: np.concatenate(v) for name, v in pooled[method].items()}
    thresholds = choose_threshold(scores, profit, fold_of, decision)
    best = thresholds[rank]
    # Out of sample for the threshold too: for each fold after the first, the threshold chosen on the folds before it.
    nested = []
    for k in range(1, len(fs)):
        past = fold_of < k
        chosen = choose_threshold({rank: scores[rank][past]}, profit[past], fold_of[past], _nested(decision, k))[rank]
        now = fold_of == k
        if chosen is None:
            nested.append({"fold": k + 1, "threshold": None, "trades": 0, "mean_profit_per_trade": None})
            continue
        take = now & (scores[rank] >= chosen["threshold"])
        nested.append({"fold": k + 1, "threshold": chosen["threshold"], "trades": int(take.sum()),
                       "mean_profit_per_trade": float(profit[take].mean()) if take.any() else None})
    makes_money = best is not None and best["mean_profit_per_trade"] > 0
    return {
        "config": {"walk_forward": asdict(wf), "decision": {k: v for k, v in asdict(decision).items() if k != "quantiles"}},
        "folds": rows,
        "average": average,
        "choice": {
            "calibration": method,
            "rank_score": rank,
            "thresholds": thresholds,
            "threshold": best["threshold"] if makes_money else None,
            "makes_money": makes_money,
            "nested_threshold": nested,
        },
    }


def _nested(cfg: DecisionConfig, folds_seen: int) -> DecisionConfig:
    return replace(cfg, min_trades=max(cfg.min_trades_per_fold * folds_seen, cfg.min_trades * folds_seen // 4))
