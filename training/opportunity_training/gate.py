"""The champion/challenger gate: a candidate bundle against the serving one, on the same newest window.

The window is the candidate's newest walk-forward test fold: the candidate's figures there come from its fold model,
trained only on events before it. The serving bundle is scored on the same events when it never saw them (its
training periods end before the window); when it did (it was trained on the same history), its own walk-forward
row for that window is used instead, so both sides are out-of-time figures. The candidate must be at least as good
on every gated metric (within a stated tolerance) and rank better than the funding differential; the serving
bundle's live figures from the outcome monitor, when given, are a second bar on the metrics they share.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np

from . import calibration
from . import walkforward as W
from .export import onnx_predict

# (metric, +1 higher is better / -1 lower is better, tolerance): the candidate may trail by at most the tolerance,
# about the noise between two fits of one method on one window.
GATED = (
    ("roc_auc", +1, 0.005),
    ("brier", -1, 0.0005),
    ("ece", -1, 0.005),
    ("profit_mae", -1, 0.002),
    ("top_decile_profit", +1, 0.01),
)
# The monitor's names for the metrics both sides have.
LIVE = {"roc_auc": "rocAuc", "brier": "brier", "ece": "calibrationError", "profit_mae": "profitMae"}
MIN_LIVE_PAIRS = 1000


def _ms(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso).timestamp() * 1000)


def _figures(row: dict, calibration_method: str, rank_score: str) -> dict:
    m = row[calibration_method]
    return {**{k: m[k] for k, _, _ in GATED if k != "top_decile_profit"}, "top_decile_profit": m[f"top_decile_profit_by_{rank_score}"]}


def serving_scores(bundle_dir: Path, manifest: dict, x: np.ndarray) -> dict[str, np.ndarray]:
    """The serving bundle's outputs as the service serves them (ONNX, its calibration, composite)."""
    raw = {}
    for name, entry in manifest["models"].items():
        out = onnx_predict((bundle_dir / entry["file"]).read_bytes(), (entry["output"], entry.get("outputColumn")), x).astype(np.float64)
        raw[name] = np.expm1(out) if entry.get("outputTransform") == "expm1" else out
    cal = manifest.get("calibration") or {"method": "none"}
    s = {
        "success_probability": calibration.apply(cal, raw["success"]).astype(np.float64),
        "predicted_profit_percent": raw["profit"],
        "predicted_duration_hours": raw["duration"],
    }
    s["composite_score"] = s["success_probability"] * s["predicted_profit_percent"]
    return s


def saw(manifest: dict, window: W.Window) -> bool:
    """Whether any of the bundle's training periods reaches into the window (then its figures there are in-sample)."""
    periods = (manifest.get("training") or {}).get("periods") or {}
    # A held-out test period (the old single split's) was only scored, never learnt from or selected on.
    ends = [_ms(p[1]) for k, p in periods.items() if k != "test" and isinstance(p, list) and len(p) == 2]
    return not ends or max(ends) > window.start


def overlap(a: list[str], b: W.Window) -> float:
    lo, hi = max(_ms(a[0]), b.start), min(_ms(a[1]), b.end)
    return max(0, hi - lo) / (b.end - b.start)


def serving_figures(serving_dir: Path, x: np.ndarray, d: W.FoldData, window: W.Window, feature_hash: str, wf) -> dict:
    """The serving bundle's figures on the window, and how they were obtained."""
    manifest = json.loads((serving_dir / "manifest.json").read_text())
    who = f"{manifest['bundle']}@{manifest['version']}"
    out_of_sample = manifest["features"]["hash"] == feature_hash and not saw(manifest, window)
    wf_path = serving_dir / "walk-forward.json"
    if not out_of_sample and wf_path.exists():
        served = json.loads(wf_path.read_text())
        best = max(served["folds"], key=lambda r: overlap(r["periods"]["test"], window))
        if overlap(best["periods"]["test"], window) >= 0.9:
            return {"bundle": who, "how": f"its own walk-forward fold {best['fold']} on this window (it was trained on the window's events, so scoring it there would be in-sample)",
                    "figures": _figures(best["model"], served["choice"]["calibration"], served["choice"]["rank_score"])}
    rank = (manifest.get("decision") or {}).get("rankScore") or "success_probability"
    how = ("scored on the window's events (out of sample: trained before it)" if out_of_sample
           else "scored on the window's events although it saw them (in-sample: the bar is higher than it should be)")
    return {"bundle": who, "how": how, "figures": _figures({"m": W.metrics(serving_scores(serving_dir, manifest, x), d, wf)}, "m", rank)}


def decide(candidate: dict, serving: dict, differential_auc: float, live: dict | None) -> dict:
    checks = []
    for metric, sign, tol in GATED:
        c, s = candidate[metric], serving[metric]
        checks.append({"metric": metric, "against": "serving on the window", "candidate": c, "serving": s, "tolerance": tol,
                       "better": "higher" if sign > 0 else "lower", "ok": bool(sign * (c - s) >= -tol)})
    checks.append({"metric": "roc_auc", "against": "funding differential on the window", "candidate": candidate["roc_auc"], "serving": differential_auc,
                   "tolerance": 0.0, "better": "higher", "ok": bool(candidate["roc_auc"] > differential_auc)})
    if live is not None and live.get("pairs", 0) >= MIN_LIVE_PAIRS:
        for metric, sign, tol in GATED:
            if metric in LIVE:
                c, s = candidate[metric], float(live[LIVE[metric]])
                checks.append({"metric": metric, "against": f"serving live ({live['pairs']} joined outcomes)", "candidate": c, "serving": s, "tolerance": tol,
                               "better": "higher" if sign > 0 else "lower", "ok": bool(sign * (c - s) >= -tol)})
    failed = [c for c in checks if not c["ok"]]
    return {"passed": not failed, "checks": checks,
            "reason": "at least as good on every gated metric, and better than the funding differential" if not failed
            else "; ".join(f"{c['metric']} {c['candidate']:.4f} vs {c['serving']:.4f} ({c['against']}, {c['better']} is better, tolerance {c['tolerance']})" for c in failed)}


def run(report: dict, x_window: np.ndarray, d: W.FoldData, window: W.Window, serving_dir: Path, feature_hash: str, wf, live: dict | None) -> dict:
    newest = report["folds"][-1]
    choice = report["choice"]
    candidate = _figures(newest["model"], choice["calibration"], choice["rank_score"])
    serving = serving_figures(serving_dir, x_window, d, window, feature_hash, wf)
    decision = decide(candidate, serving["figures"], newest["differential"]["roc_auc"], live)
    return {
        "window": {"test": window.iso(), "rows": int(len(d.success)), "fold": newest["fold"]},
        "candidate": {"figures": candidate, "how": f"its walk-forward fold {newest['fold']} model (trained only on events before the window)",
                      "calibration": choice["calibration"], "rank_score": choice["rank_score"]},
        "serving": serving,
        "differential": {"roc_auc": newest["differential"]["roc_auc"]},
        "live": live,
        **decision,
    }


def table(result: dict) -> str:
    lines = [f"gate window {result['window']['test'][0][:10]} .. {result['window']['test'][1][:10]} ({result['window']['rows']} events); serving {result['serving']['bundle']}: {result['serving']['how']}",
             "| metric | against | candidate | serving | tolerance | ok |", "|---|---|---:|---:|---:|---|"]
    for c in result["checks"]:
        lines.append(f"| {c['metric']} ({c['better']} is better) | {c['against']} | {c['candidate']:.4f} | {c['serving']:.4f} | {c['tolerance']} | {'yes' if c['ok'] else '**no**'} |")
    lines.append(f"decision: {'PROMOTE to staging' if result['passed'] else 'REFUSE'}: {result['reason']}")
    return "\n".join(lines)
