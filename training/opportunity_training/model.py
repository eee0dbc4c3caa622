"""The three models, their honest evaluation on the test period, and the naive baselines they must beat."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xgboost as xgb
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, mean_absolute_error, roc_auc_score

from .config import ModelConfig

TARGETS = {
    # name: (label column, xgboost objective)
    "profit": ("labelProfitPercent", "reg:squarederror"),
    "success": ("labelSuccess", "binary:logistic"),
    "duration": ("labelDurationHours", "reg:absoluteerror"),
}
# The duration model learns log1p(hours) with an L1 loss: the median commutes with a monotone transform, so
# expm1(output) is still the conditional median in hours, it can never be negative, and outputs stay small
# (<= ~5.2) where float32 is fine-grained enough for ONNX and xgboost to agree within 1e-5.
OUTPUT_TRANSFORM = {"duration": "expm1"}


def to_target(name: str, label: np.ndarray) -> np.ndarray:
    return np.log1p(label) if OUTPUT_TRANSFORM.get(name) == "expm1" else label


def to_label_units(name: str, output: np.ndarray) -> np.ndarray:
    """Model output -> label units (what the engine does with `outputTransform`)."""
    return np.expm1(output) if OUTPUT_TRANSFORM.get(name) == "expm1" else output


@dataclass
class Trained:
    model: xgb.XGBModel
    best_iteration: int
    base_score: float


def _estimator(objective: str, cfg: ModelConfig, n_estimators: int, base_score: float, early_stopping: bool) -> xgb.XGBModel:
    params = dict(
        n_estimators=n_estimators,
        max_depth=cfg.max_depth,
        learning_rate=cfg.learning_rate,
        subsample=cfg.subsample,
        colsample_bytree=cfg.colsample_bytree,
        random_state=cfg.seed,
        n_jobs=cfg.n_jobs,
        tree_method="hist",
        objective=objective,
        # Pinned, not estimated: the intercept is then explicit in the model card and in the ONNX base_values.
        base_score=base_score,
        early_stopping_rounds=cfg.early_stopping_rounds if early_stopping else None,
        eval_metric="logloss" if objective == "binary:logistic" else ("mae" if objective == "reg:absoluteerror" else "rmse"),
    )
    return xgb.XGBClassifier(**params) if objective == "binary:logistic" else xgb.XGBRegressor(**params)


def train(name: str, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, cfg: ModelConfig) -> Trained:
    """Early stopping on validation picks the tree count; the model is then refit with exactly that many trees,
    so the exported model holds no trees past the best iteration (xgboost's own predict would skip them, ONNX would not)."""
    objective = TARGETS[name][1]
    y_train, y_val = to_target(name, y_train), to_target(name, y_val)
    base = 0.5 if objective == "binary:logistic" else float(np.median(y_train) if objective == "reg:absoluteerror" else np.mean(y_train))
    probe = _estimator(objective, cfg, cfg.n_estimators, base, early_stopping=True)
    probe.fit(x_train, y_train, eval_set=[(x_val, y_val)], verbose=False)
    best = int(probe.best_iteration)
    final = _estimator(objective, cfg, best + 1, base, early_stopping=False)
    final.fit(x_train, y_train, verbose=False)
    return Trained(model=final, best_iteration=best, base_score=base)


def predict(t: Trained, x: np.ndarray) -> np.ndarray:
    """The model's native output (what ONNX must reproduce); see to_label_units for label units."""
    if isinstance(t.model, xgb.XGBClassifier):
        return t.model.predict_proba(x)[:, 1].astype(np.float32)
    return t.model.predict(x).astype(np.float32)


def precision_at_top(scores: np.ndarray, positives: np.ndarray, share: float = 0.1) -> float:
    k = max(1, int(len(scores) * share))
    top = np.argsort(-scores, kind="stable")[:k]
    return float(positives[top].mean())


def mean_label_at_top(scores: np.ndarray, values: np.ndarray, share: float = 0.1) -> float:
    k = max(1, int(len(scores) * share))
    return float(values[np.argsort(-scores, kind="stable")[:k]].mean())


def evaluate(
    preds: dict[str, np.ndarray],
    labels: dict[str, np.ndarray],
    carry_8h_pct_test: np.ndarray,
    carry_8h_pct_train: np.ndarray,
    success_train: np.ndarray,
    duration_train: np.ndarray,
    round_trip_fee_percent: float,
) -> dict:
    """Test-period metrics of the models next to the naive baselines the issue names."""
    success = labels["labelSuccess"]
    profit = labels["labelProfitPercent"]
    duration = labels["labelDurationHours"]
    median_hold = float(np.median(duration_train))
    # Baseline success: rank by the current funding differential; for Brier, a logistic fit of success on it (train).
    logit = LogisticRegression().fit(carry_8h_pct_train.reshape(-1, 1), success_train)
    baseline_prob = logit.predict_proba(carry_8h_pct_test.reshape(-1, 1))[:, 1]
    # Baseline profit: the current 8 h differential held for the training median hold, minus fees.
    baseline_profit = carry_8h_pct_test * (median_hold / 8) - round_trip_fee_percent
    composite = preds["success"] * preds["profit"]
    return {
        "rows": int(len(success)),
        "success_rate": float(success.mean()),
        "success": {
            "model": {
                "roc_auc": float(roc_auc_score(success, preds["success"])),
                "brier": float(brier_score_loss(success, preds["success"])),
                "precision_at_top_decile": precision_at_top(preds["success"], success),
            },
            "baseline_funding_differential": {
                "roc_auc": float(roc_auc_score(success, carry_8h_pct_test)),
                "brier": float(brier_score_loss(success, baseline_prob)),
                "precision_at_top_decile": precision_at_top(carry_8h_pct_test, success),
            },
        },
        "profit": {
            "model": {"mae": float(mean_absolute_error(profit, preds["profit"]))},
            "baseline_differential_times_median_hold": {"mae": float(mean_absolute_error(profit, baseline_profit)), "median_hold_hours": median_hold},
        },
        "duration": {
            "model": {"mae": float(mean_absolute_error(duration, preds["duration"]))},
            "baseline_training_median": {"mae": float(mean_absolute_error(duration, np.full_like(duration, median_hold))), "median_hours": median_hold},
        },
        "ranking": {
            "mean_profit_top_decile_by_composite": mean_label_at_top(composite, profit),
            "mean_profit_top_decile_by_predicted_profit": mean_label_at_top(preds["profit"], profit),
            "success_rate_top_decile_by_predicted_profit": precision_at_top(preds["profit"], success),
            "mean_profit_top_decile_by_differential": mean_label_at_top(carry_8h_pct_test, profit),
            "mean_profit_all": float(profit.mean()),
        },
    }
