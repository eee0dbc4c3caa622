"""What each model change did to the walk-forward averages (`train.sh --experiments`): the table in the model card.

Each variant changes the chosen configuration (config.ModelConfig / WalkForwardConfig) in one respect, or takes
back one choice, so every row reads as 'this change, all else as shipped'."""
from __future__ import annotations

import dataclasses

import numpy as np

from . import walkforward as W
from .config import TrainingConfig

VARIANTS: tuple[tuple[str, dict, dict], ...] = (
    ("shipped: depth 4, learning rate 0.05, <= 300 trees, monotone carry", {}, {}),
    ("bundle 1.0.0's parameters: depth 6, learning rate 0.1, <= 100 trees, no constraints",
     {"max_depth": 6, "learning_rate": 0.1, "n_estimators": 100, "monotone_carry": False}, {}),
    ("- monotone carry constraints", {"monotone_carry": False}, {}),
    ("+ min_child_weight 10, lambda 10", {"min_child_weight": 10.0, "reg_lambda": 10.0}, {}),
    ("+ pseudo-Huber profit objective", {"profit_objective": "reg:pseudohubererror"}, {}),
    ("+ recency weights, half-life 30 days", {"recency_half_life_days": 30.0}, {}),
    ("+ recency weights, half-life 90 days", {"recency_half_life_days": 90.0}, {}),
    ("validation/calibration window 14 days (not 28)", {}, {"validation_days": 14.0}),
    ("validation/calibration window 42 days (not 28)", {}, {"validation_days": 42.0}),
)


def run(x: np.ndarray, y: dict[str, np.ndarray], detected: np.ndarray, names: list[str], cfg: TrainingConfig, log) -> list[dict]:
    rows = []
    for label, model_changes, wf_changes in VARIANTS:
        mc = dataclasses.replace(cfg.model, **model_changes)
        wf = dataclasses.replace(cfg.walk_forward, **wf_changes)
        r = W.run(x, y, detected, names, mc, wf, cfg.decision, cfg.simulation.round_trip_fee_percent)
        c = r["choice"]["calibration"]
        a = r["average"]["model"][c]
        rows.append({
            "variant": label,
            "calibration": c,
            "roc_auc": a["roc_auc"],
            "worst_fold_margin": min(f["model"][c]["roc_auc"] - f["differential"]["roc_auc"] for f in r["folds"]),
            "ece": a["ece"],
            "brier": a["brier"],
            "profit_mae": a["profit_mae"],
            "duration_mae": a["duration_mae"],
            "top_decile_profit_by_success": a["top_decile_profit_by_success_probability"],
            "top_decile_profit_by_profit": a["top_decile_profit_by_predicted_profit_percent"],
            "best_threshold_profit_per_trade": max((t["mean_profit_per_trade"] for t in r["choice"]["thresholds"].values() if t), default=None),
            # The test folds do not depend on the variant, so neither does the differential's figure.
            "differential_roc_auc": r["average"]["differential"]["roc_auc"],
        })
        log(f"{label}: ROC-AUC {a['roc_auc']:.4f}, ECE {a['ece']:.4f}")
    return rows


def table(rows: list[dict], differential_auc: float) -> str:
    head = ("| change | ROC-AUC | worst fold vs differential | ECE | Brier | profit MAE | duration MAE (h) | top-decile profit by success / by profit (%) | best threshold, profit per trade (%) |\n"
            "|---|---|---|---|---|---|---|---|---|\n")
    body = "".join(
        f"| {r['variant']} | {r['roc_auc']:.4f} | {r['worst_fold_margin']:+.4f} | {r['ece']:.4f} | {r['brier']:.4f} | {r['profit_mae']:.4f} | "
        f"{r['duration_mae']:.2f} | {r['top_decile_profit_by_success']:.4f} / {r['top_decile_profit_by_profit']:.4f} | "
        f"{'-' if r['best_threshold_profit_per_trade'] is None else format(r['best_threshold_profit_per_trade'], '.4f')} |\n"
        for r in rows
    )
    return head + body + f"\nFunding-differential ranking on the same folds: ROC-AUC {differential_auc:.4f}.\n"
