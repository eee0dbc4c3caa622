"""Calibration of the success probability, fitted on out-of-fold predictions and shipped in the bundle manifest.

The engine (src/inference/calibration.ts) applies exactly this arithmetic to the model's float32 output, in double
precision, then rounds to float32; `apply` here is the reference it must match (parity fixtures, self-check)."""
from __future__ import annotations

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

METHODS = ("none", "platt", "isotonic")
# Probabilities are clipped into [EPS, 1 - EPS] before the logit (Platt), so 0 and 1 map to finite values.
EPS = 1e-7


def logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p.astype(np.float64), EPS, 1 - EPS)
    return np.log(q / (1 - q))


def fit(method: str, p: np.ndarray, y: np.ndarray) -> dict:
    """The manifest form of a calibrator fitted on predictions `p` with outcomes `y` (0/1)."""
    if method == "none":
        return {"method": "none"}
    if method == "platt":
        # Unregularised logistic regression of the outcome on the model's logit: p' = sigmoid(a * logit(p) + b).
        lr = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000).fit(logit(p).reshape(-1, 1), y)
        return {"method": "platt", "a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}
    if method == "isotonic":
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip").fit(p.astype(np.float64), y.astype(np.float64))
        return {"method": "isotonic", "x": [float(v) for v in iso.X_thresholds_], "y": [float(v) for v in iso.y_thresholds_]}
    raise ValueError(f"unknown calibration method {method!r}")


def apply(cal: dict, p: np.ndarray) -> np.ndarray:
    """Calibrated probabilities (float32) of the model outputs `p`."""
    m = cal["method"]
    if m == "none":
        return p.astype(np.float32)
    if m == "platt":
        return (1.0 / (1.0 + np.exp(-(cal["a"] * logit(p) + cal["b"])))).astype(np.float32)
    if m == "isotonic":
        # Linear interpolation between the fitted thresholds, constant outside them (np.interp clips).
        return np.interp(p.astype(np.float64), np.asarray(cal["x"]), np.asarray(cal["y"])).astype(np.float32)
    raise ValueError(f"unknown calibration method {m!r}")
