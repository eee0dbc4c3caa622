"""The three models: objectives, constraints, early stopping and the refit that exports exactly the best trees
(their evaluation is walkforward.py)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xgboost as xgb

from .config import CARRY_FEATURES, ModelConfig

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
    objective: str


def objective_of(name: str, cfg: ModelConfig) -> str:
    return cfg.profit_objective if name == "profit" else TARGETS[name][1]


def monotone(name: str, cfg: ModelConfig, feature_names: list[str]) -> str | None:
    """xgboost's constraint string: +1 on the carry features for profit and success, when enabled."""
    if not cfg.monotone_carry or name == "duration":
        return None
    return "(" + ",".join("1" if f in CARRY_FEATURES else "0" for f in feature_names) + ")"


def _estimator(objective: str, cfg: ModelConfig, n_estimators: int, base_score: float, early_stopping: bool, constraints: str | None) -> xgb.XGBModel:
    extra = {}
    if cfg.min_child_weight != 1.0:
        extra["min_child_weight"] = cfg.min_child_weight
    if cfg.reg_lambda != 1.0:
        extra["reg_lambda"] = cfg.reg_lambda
    if constraints is not None:
        extra["monotone_constraints"] = constraints
    params = dict(
        **extra,
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
        eval_metric="logloss" if objective == "binary:logistic" else ("mae" if objective in ("reg:absoluteerror", "reg:pseudohubererror") else "rmse"),
    )
    return xgb.XGBClassifier(**params) if objective == "binary:logistic" else xgb.XGBRegressor(**params)


def train(
    name: str, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, cfg: ModelConfig, feature_names: list[str],
    weight: np.ndarray | None = None,
) -> Trained:
    """Early stopping on validation picks the tree count; the model is then refit with exactly that many trees,
    so the exported model holds no trees past the best iteration (xgboost's own predict would skip them, ONNX would not)."""
    objective = objective_of(name, cfg)
    constraints = monotone(name, cfg, feature_names)
    y_train, y_val = to_target(name, y_train), to_target(name, y_val)
    base = 0.5 if objective == "binary:logistic" else float(np.median(y_train) if objective in ("reg:absoluteerror", "reg:pseudohubererror") else np.mean(y_train))
    probe = _estimator(objective, cfg, cfg.n_estimators, base, early_stopping=True, constraints=constraints)
    probe.fit(x_train, y_train, sample_weight=weight, eval_set=[(x_val, y_val)], verbose=False)
    best = int(probe.best_iteration)
    final = _estimator(objective, cfg, best + 1, base, early_stopping=False, constraints=constraints)
    final.fit(x_train, y_train, sample_weight=weight, verbose=False)
    return Trained(model=final, best_iteration=best, base_score=base, objective=objective)


def predict(t: Trained, x: np.ndarray) -> np.ndarray:
    """The model's native output (what ONNX must reproduce); see to_label_units for label units."""
    if isinstance(t.model, xgb.XGBClassifier):
        return t.model.predict_proba(x)[:, 1].astype(np.float32)
    return t.model.predict(x).astype(np.float32)
