"""The model card: what each part of the bundle saw, walk-forward figures beside their baselines, what did not work."""
from __future__ import annotations

import json

from .config import TrainingConfig
from .experiments import table as experiments_table
from .walkforward import RANK_SCORES

SCORE_LABEL = {
    "predicted_profit_percent": "predicted profit",
    "success_probability": "success probability",
    "composite_score": "composite",
}


def _f(v: float | None, digits: int = 4) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def walk_forward_table(r: dict) -> str:
    """Per fold and on average: the model (served, calibrated) beside the differential ranking and the bundle trained once."""
    c = r["choice"]["calibration"]
    lines = [
        f"Served success probability calibrated with `{c}`. Model / trained once (fitted before fold 1, never again) / "
        "funding-differential ranking (its probability for Brier and ECE: a logistic fit on the differential).",
        "",
        "| fold | test period | rows | success rate (mean predicted) | ROC-AUC | PR-AUC | Brier | ECE (10 bins) | precision top decile | profit MAE (%) | duration MAE (h) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def cells(m: dict, o: dict, d: dict) -> str:
        keys = ("roc_auc", "pr_auc", "brier", "ece", "precision_at_top_decile", "profit_mae")
        out = [f"{m[k]:.4f} / {o[k]:.4f} / {d[k]:.4f}" for k in keys]
        out.append(f"{m['duration_mae']:.1f} / {o['duration_mae']:.1f} / {d['duration_mae']:.1f}")
        return " | ".join(out)

    for f in r["folds"]:
        period = f"{f['periods']['test'][0][:10]} to {f['periods']['test'][1][:10]}"
        lines.append(f"| {f['fold']} | {period} | {f['rows']['test']} | {f['success_rate']:.3f} ({f['model'][c]['mean_probability']:.3f}) | {cells(f['model'][c], f['trained_once'][c], f['differential'])} |")
    a = r["average"]
    gap = sum(abs(f["model"][c]["mean_probability"] - f["success_rate"]) for f in r["folds"]) / len(r["folds"])
    lines.append(f"| **average** | | | mean gap {gap:.4f} | {cells(a['model'][c], a['trained_once'][c], a['differential'])} |")
    lines += [
        "",
        "Mean realised net profit (%) of the top decile ranked by each score:",
        "",
        "| fold | " + " | ".join(SCORE_LABEL[s] for s in RANK_SCORES) + " | differential | trained once, by " + SCORE_LABEL[r["choice"]["rank_score"]] + " |",
        "|---|" + "---|" * (len(RANK_SCORES) + 2),
    ]
    rank = r["choice"]["rank_score"]
    for f in [*r["folds"], {"fold": "**average**", "model": a["model"], "trained_once": a["trained_once"], "differential": a["differential"]}]:
        m = f["model"][c]
        lines.append(
            f"| {f['fold']} | " + " | ".join(f"{m[f'top_decile_profit_by_{s}']:.4f}" for s in RANK_SCORES)
            + f" | {f['differential']['top_decile_profit']:.4f} | {f['trained_once'][c][f'top_decile_profit_by_{rank}']:.4f} |"
        )
    wins = sum(f["model"][c][f"top_decile_profit_by_{rank}"] > f["differential"]["top_decile_profit"] for f in r["folds"])
    lines += ["", f"The top decile by {SCORE_LABEL[rank]} earns more than the top decile by the differential on {wins} of {len(r['folds'])} folds."]
    lines += [
        "",
        "Calibration methods (fitted on each fold's validation window, averaged over the folds):",
        "",
        "| method | ROC-AUC | PR-AUC | Brier | ECE |",
        "|---|---|---|---|---|",
    ]
    for method, m in a["model"].items():
        lines.append(f"| {method} | {m['roc_auc']:.4f} | {m['pr_auc']:.4f} | {m['brier']:.4f} | {m['ece']:.4f} |")
    if "ece_hindsight" in a:
        per = ", ".join(f"{f['ece_hindsight']:.4f}" for f in r["folds"])
        lines += [
            "",
            f"Calibration in hindsight, a bound and not a deployable figure: the lowest ECE any Platt-family map "
            f"(sigmoid(a x logit(p) + b), a > 0) reaches on each test fold when fitted on that fold's own outcomes: {per}; "
            f"average {a['ece_hindsight']:.4f}. No such calibration fitted before a fold can do better on it; the gap to the served "
            f"{a['model'][c]['ece']:.4f} is what calibrating on the weeks before a fold costs while the base rate moves.",
        ]
    return "\n".join(lines) + "\n"


def decision_section(r: dict, decision: dict) -> str:
    ch = r["choice"]
    lines = [
        "| rank score | best threshold | quantile | trades | per fold | mean profit per trade (%) | per fold (%) | success rate |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, t in ch["thresholds"].items():
        if t is None:
            lines.append(f"| {SCORE_LABEL[name]} | none with enough trades | | | | | | |")
            continue
        per = " / ".join(f"{v:.3f}" for v in t["mean_profit_per_trade_per_fold"])
        lines.append(
            f"| {SCORE_LABEL[name]} | {t['threshold']:.5f} | {t['quantile']:.3f} | {t['trades']} | {'/'.join(map(str, t['trades_per_fold']))} | "
            f"{t['mean_profit_per_trade']:.4f} | {per} | {t['success_rate']:.3f} |"
        )
    nested = "; ".join(
        f"fold {n['fold']}: " + ("no threshold" if n["threshold"] is None else f"threshold {n['threshold']:.5f}, {n['trades']} trades, {_f(n['mean_profit_per_trade'])} %")
        for n in ch["nested_threshold"]
    )
    verdict = (
        f"`take` is true when {SCORE_LABEL[decision['rankScore']]} >= {decision['threshold']:.5f}."
        if decision["threshold"] is not None
        else "**No threshold makes money under the fee model** on the pooled walk-forward folds, so this bundle carries no "
        "threshold and `take` is always false. That is the result, not a gap: on this history the best-ranked trades still "
        "lose their fees on average."
    )
    return "\n".join(lines) + f"\n\nOut of sample for the threshold as well (chosen on the folds before each fold): {nested}.\n\n{verdict}\n"


def did_not_work(r: dict, exp: dict | None) -> str:
    """Findings read off this run's figures, so the card cannot claim what its own tables contradict."""
    a = r["average"]["model"]
    ch = r["choice"]
    out = []
    eces = [v["ece"] for v in exp["variants"]] if exp else [a[ch["calibration"]]["ece"]]
    if min(eces) > 0.01:
        out.append(f"- No variant brings the calibration error to 0.01 (best {min(eces):.4f}): the base rate moves from month to month "
                   f"(success rate per fold {', '.join(format(f['success_rate'], '.3f') for f in r['folds'])}) by more than any feature of a single "
                   "event predicts, and a calibration fitted on the weeks before a fold carries their base rate into it."
                   + (f" Even fitted on each test fold's own outcomes, the best Platt-family calibration of the shipped scores averages ECE "
                      f"{r['average']['ece_hindsight']:.4f}." if "ece_hindsight" in r["average"] else ""))
    if not ch["makes_money"]:
        out.append("- No threshold on any score turns a profit per trade under the fee model on the pooled folds.")
    comp = a[ch["calibration"]]["top_decile_profit_by_composite_score"]
    if comp < min(a[ch["calibration"]][f"top_decile_profit_by_{s}"] for s in ("predicted_profit_percent", "success_probability")):
        out.append(f"- The composite's top decile earns least ({comp:.4f} %): it is closest to zero where success is least likely, so it "
                   "ranks losing trades backwards. It stays in the output because the API it replaces defines it; never rank by it.")
    if a["isotonic"]["roc_auc"] < a["platt"]["roc_auc"]:
        out.append(f"- Isotonic calibration ties scores (ROC-AUC {a['isotonic']['roc_auc']:.4f} vs {a['platt']['roc_auc']:.4f}, "
                   f"PR-AUC {a['isotonic']['pr_auc']:.4f} vs {a['platt']['pr_auc']:.4f}) and was "
                   + ("not better calibrated than Platt out of time." if a["isotonic"]["ece"] >= a["platt"]["ece"] else "better calibrated than Platt."))
    if exp:
        shipped = exp["variants"][0]["roc_auc"]
        small = [v["variant"] for v in exp["variants"][1:] if abs(v["roc_auc"] - shipped) < 0.01]
        if small:
            out.append("- Within 0.01 ROC-AUC of the shipped configuration (less than the fold-to-fold spread): " + "; ".join(small) + ".")
    return "\n".join(out) + "\n"


def model_card(bundle: str, version: str, training: dict, r: dict, cal: dict, decision: dict, exp: dict | None,
               cfg: TrainingConfig, n_features: int, wf_start: str, wf_end: str) -> str:
    per, rows = training["periods"], training["rows"]
    ch = r["choice"]
    fee = decision["feeModel"]
    a = r["average"]["model"][ch["calibration"]]
    d = r["average"]["differential"]
    cal_text = {
        "platt": f"Platt scaling, `p' = sigmoid({cal.get('a', 0):.6f} x logit(p) {'-' if cal.get('b', 0) < 0 else '+'} {abs(cal.get('b', 0)):.6f})`",
        "isotonic": f"isotonic regression ({len(cal.get('x', []))} thresholds, linear between them)",
        "none": "none",
    }[cal["method"]]
    experiments = (
        experiments_table(exp["variants"], exp["differential_roc_auc"]) if exp else "(run `bash training/train.sh --experiments`)\n"
    )
    return f"""# Model card: {bundle} {version}

Three XGBoost models over {n_features} features (see docs/features.md), exported to ONNX and served together:
expected net profit (%), probability that the trade is profitable (calibrated), and the hold the exit rule would take
(hours). `composite = success_probability x profit` (kept exactly: the API this replaces defines it). Every output
also carries `rank_score` (the score to rank by: **{SCORE_LABEL[decision['rankScore']]}**) and `take`.

## What each part of the bundle saw
| part | period | rows |
|---|---|---|
| trees (fit) | {per['fit'][0]} to {per['fit'][1]} | {rows['fit']} |
| early stopping and calibration ({cfg.walk_forward.validation_days:g} days, newest) | {per['validation'][0]} to {per['validation'][1]} | {rows['validation']} |
| rank score, calibration method, `take` threshold | chosen on the walk-forward test folds below | |

A gap of {cfg.walk_forward.gap_hours:g} h (the longest hold) separates fit and validation. Labelled span: the
{training['labelledSpanEvents']} of {training['events']} events whose whole label window ends inside the data;
events of the last {cfg.simulation.max_hold_hours:g} h are labelled only when they exited early (mostly losses), a
censored sample no period learns from or is scored on. Training-data fingerprint `{training['dataFingerprint'][:16]}...`.
Nothing here is held out: the figures below are walk-forward figures of the same method, not of these trees.

## Data
Settled funding of Binance, Bybit (USDT perps) and Hyperliquid (USDC perps) for 18 bases, 2025-08-21 to 2026-05-21
(source A), and hourly Binance/Bybit candles for BTC, ETH, SOL, DOGE until 2026-03-05 (source B) for spreads and
volumes. Events: one per base, venue pair and settlement of either venue (+{cfg.simulation.publish_delay_ms // 1000} s),
long the lower hourly rate, when the carry is at least {cfg.simulation.publish_min_apr_percent:g} % APR, built only
from information available then.

## Labels and fee model (training/opportunity_training/simulate.py)
Enter at detectedAt; accrue the actual settled funding of both legs; pay {fee['takerFeePercentPerLegPerSide']} % taker
fee per leg per side ({fee['roundTripPercent']} % round trip, the bundle's `decision.feeModel`); add the price PnL of
both legs where candles exist. Exit at the first later decision time whose then-known carry is below
{cfg.simulation.exit_carry_bp_per_hour} bp/h, or after {cfg.simulation.max_hold_hours:g} h. Success = net profit > 0.

## Walk-forward evaluation ({len(r['folds'])} folds of {cfg.walk_forward.fold_days:g} days)
Each fold: fit on everything before its validation window, stop early and calibrate on the {cfg.walk_forward.validation_days:g}
days before the fold, test on the fold; {cfg.walk_forward.gap_hours:g} h gaps between the three.

{wf_start}
{walk_forward_table(r)}{wf_end}

Against the acceptance targets: average ROC-AUC {a['roc_auc']:.4f} vs the differential's {d['roc_auc']:.4f}
(margin {a['roc_auc'] - d['roc_auc']:+.4f}; target +0.03), ECE {a['ece']:.4f} (target <= 0.01).

## Calibration
{cal_text}, fitted on the newest {cfg.walk_forward.validation_days:g} days' out-of-fold predictions (trees fitted
before them). The method was chosen by the lowest walk-forward average ECE. Every path (Kafka, HTTP, backfill) serves
the calibrated value; the parity fixture and self-check rows hold it (`successCalibrated`).

Calibration error stays near {a['ece']:.3f} whatever the method: the base rate moves from month to month (success rate
per fold above), and a calibration fitted on the previous weeks carries last month's base rate into the next.

## Decision: `take` and `rank_score`
`rank_score` is the {SCORE_LABEL[decision['rankScore']]}: the score whose top decile earned most on average over the
folds. Thresholds, chosen on the pooled test folds to maximise mean realised net profit per trade, with at least
{decision['minTrades']} trades in all and {decision['minTradesPerFold']} in every fold:

{decision_section(r, decision)}
## What each model change did (walk-forward averages)
{experiments}
## What did not work
{did_not_work(r, exp)}
## Parameters
{json.dumps(training['params'])}

## Caveats
- Rates are realised settlements; a live detector sees the venue's predicted next rate, which is close to but not
  the same as the last settled one.
- USDT and USDC perps are different instruments: Hyperliquid pairs carry stablecoin basis that no label prices.
- Candles end on 2026-03-05, so later events have no spread or volume inputs (those features are missing there).
- Fills at the hourly close of the bar containing entry/exit; no slippage or market impact beyond the taker fee.
- `samples/opportunities.jsonl` comes from bundle 1.0.0's test period, which this bundle trained on: a backtest of
  2.0.0 on it is in-sample. The walk-forward figures above are the honest ones.
"""
