"""End to end: funding history -> historical opportunities + labels -> features (TypeScript CLI) -> time split ->
three XGBoost models -> evaluation against baselines -> ONNX bundle, parity fixtures and a demo sample.

Usage: python -m opportunity_training.pipeline --data ../shared/data/funding [--version 1.0.0] [--check]
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import export
from .config import TrainingConfig
from .data import fingerprint, load_candles, load_funding
from .events import opportunity_events, pair_grid, pairs, price_view
from .features import REPO, feature_matrix
from .model import TARGETS, evaluate, predict, to_label_units, train
from .simulate import simulate
from .split import assign, periods

LABELS = ["labelProfitPercent", "labelSuccess", "labelDurationHours", "labelPricesKnown"]


def log(msg: str) -> None:
    print(f"[train {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def build_events(data_dir: Path, cfg: TrainingConfig) -> list[dict]:
    funding = load_funding(data_dir)
    candles = load_candles(data_dir)
    events: list[dict] = []
    for base, a, b in pairs(funding):
        sa, sb = funding[(a, base)], funding[(b, base)]
        ca, cb = candles.get((a, base)), candles.get((b, base))
        grid = pair_grid(base, a, b, sa, sb, cfg.simulation)
        positions, evs = opportunity_events(grid, sa, sb, price_view(grid.t, ca, cb), cfg.simulation)
        labels = simulate(grid, positions, sa, sb, ca, cb, cfg.simulation)
        for i, ev in enumerate(evs):
            if labels["valid"][i]:
                for name in LABELS:
                    v = labels[name][i]
                    ev[name] = int(v) if name in ("labelSuccess", "labelPricesKnown") else float(v)
                events.append(ev)
    events.sort(key=lambda e: (e["detectedAt"], e["id"]))
    return events


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w") as f:
        for r in rows:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


def model_card(bundle: str, version: str, manifest_training: dict, metrics: dict, cfg: TrainingConfig, n_features: int) -> str:
    m = metrics
    s, p, d = m["success"], m["profit"], m["duration"]
    rows = manifest_training["rows"]
    per = manifest_training["periods"]
    return f"""# Model card: {bundle} {version}

Three XGBoost models over {n_features} features (see docs/features.md), exported to ONNX and served together:
expected net profit (%), probability that the trade is profitable, and the hold the exit rule would take (hours).
`composite = success_probability x profit`.

## Data
Settled funding of Binance, Bybit (USDT perps) and Hyperliquid (USDC perps) for 18 bases, 2025-08-21 to 2026-05-21
(source A), and hourly Binance/Bybit candles for BTC, ETH, SOL, DOGE until 2026-03-05 (source B) for spreads and
volumes. Training-data fingerprint `{manifest_training['dataFingerprint'][:16]}...`.

Events: one per base, venue pair and settlement of either venue (+{cfg.simulation.publish_delay_ms // 1000} s),
long the lower hourly rate, when the carry is at least {cfg.simulation.publish_min_apr_percent:g} % APR, built only
from information available then.

## Labels (training/opportunity_training/simulate.py)
Enter at detectedAt; accrue the actual settled funding of both legs; pay {cfg.simulation.taker_fee_percent} % taker
fee per leg per side ({cfg.simulation.round_trip_fee_percent} % round trip); add the price PnL of both legs where
candles exist. Exit at the first later decision time whose then-known carry is below
{cfg.simulation.exit_carry_bp_per_hour} bp/h, or after {cfg.simulation.max_hold_hours:g} h. Success = net profit > 0.
No label uses a hindsight-best exit.

## Split (by time, gaps of {cfg.split.gap_hours:g} h)
| period | from | to | rows |
|---|---|---|---|
| train | {per['train'][0]} | {per['train'][1]} | {rows['train']} |
| validation | {per['validation'][0]} | {per['validation'][1]} | {rows['validation']} |
| test | {per['test'][0]} | {per['test'][1]} | {rows['test']} |

## Test-period metrics (success rate {m['success_rate']:.3f}, {m['rows']} events)
| target | metric | model | naive baseline |
|---|---|---|---|
| success | ROC-AUC | {s['model']['roc_auc']:.4f} | {s['baseline_funding_differential']['roc_auc']:.4f} (rank by current funding differential) |
| success | Brier | {s['model']['brier']:.4f} | {s['baseline_funding_differential']['brier']:.4f} (logistic fit on the differential) |
| success | precision at top decile | {s['model']['precision_at_top_decile']:.4f} | {s['baseline_funding_differential']['precision_at_top_decile']:.4f} |
| profit | MAE (%) | {p['model']['mae']:.4f} | {p['baseline_differential_times_median_hold']['mae']:.4f} (8 h differential x {p['baseline_differential_times_median_hold']['median_hold_hours']:.1f} h / 8 - fees) |
| duration | MAE (h) | {d['model']['mae']:.3f} | {d['baseline_training_median']['mae']:.3f} (training median {d['baseline_training_median']['median_hours']:.1f} h) |

Mean realised profit of the top decile of events ranked by predicted profit:
{m['ranking']['mean_profit_top_decile_by_predicted_profit']:.4f} % (success rate {m['ranking']['success_rate_top_decile_by_predicted_profit']:.3f});
by composite score: {m['ranking']['mean_profit_top_decile_by_composite']:.4f} %; by funding differential:
{m['ranking']['mean_profit_top_decile_by_differential']:.4f} %; all events: {m['ranking']['mean_profit_all']:.4f} %.
Note: while expected profits are negative, `success x profit` is closest to zero where the success probability is
lowest, so the composite (kept for compatibility with the API it replaces) ranks losing opportunities backwards;
rank by predicted profit, or by composite only among opportunities with positive predicted profit.

## Parameters
{json.dumps(manifest_training['params'])}

## Caveats
- Rates are realised settlements; a live detector sees the venue's predicted next rate, which is close to but not
  the same as the last settled one.
- USDT and USDC perps are different instruments: Hyperliquid pairs carry stablecoin basis that no label prices.
- Candles end on 2026-03-05, so the test period has no spread or volume inputs (those features are missing there).
- Fills at the hourly close of the bar containing entry/exit; no slippage or market impact beyond the taker fee.
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="the funding data folder (../shared/data/funding)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/opportunity-scorer-training"), help="scratch folder for events and features (outside the repo)")
    ap.add_argument("--bundle", default="opportunity-scorer")
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--seed", type=int, default=None, help="model seed (default from config)")
    ap.add_argument("--trees", type=int, default=None, help="maximum trees per model (default from config)")
    ap.add_argument("--models-dir", type=Path, default=REPO / "models")
    ap.add_argument("--check", action="store_true", help="train in the work folder and compare model hashes with the committed bundle")
    ap.add_argument("--bundle-only", action="store_true", help="write only the bundle (not the parity fixture or the sample), e.g. for a candidate version")
    args = ap.parse_args(argv)

    cfg = TrainingConfig()
    if args.seed is not None or args.trees is not None:
        cfg = dataclasses.replace(
            cfg,
            model=dataclasses.replace(cfg.model, seed=args.seed if args.seed is not None else cfg.model.seed, n_estimators=args.trees or cfg.model.n_estimators),
        )
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.time()

    log(f"reading {args.data}")
    events = build_events(args.data, cfg)
    log(f"{len(events)} labelled events")
    events_path = args.work / "events.jsonl"
    write_jsonl(events_path, events)

    log("features through `opportunity-scorer features`")
    frame, summary = feature_matrix(events_path, args.work / "features.csv")
    names = [c for c in frame.columns if c != "id" and not c.startswith("label")]
    assert frame["id"].tolist() == [e["id"] for e in events], "feature rows must follow the events"
    x = frame[names].to_numpy(dtype=np.float32)
    detected = np.array([e["detectedAt"] for e in events], dtype=np.int64)

    per = periods(detected, cfg.split)
    part = assign(detected, per)
    masks = {name: part == name for name in ("train", "validation", "test")}
    y = {label: frame[label].to_numpy(dtype=np.float64) for label in LABELS}
    log("rows " + ", ".join(f"{k}={int(v.sum())}" for k, v in masks.items()))

    trained = {}
    for name, (label, _) in TARGETS.items():
        trained[name] = train(name, x[masks["train"]], y[label][masks["train"]], x[masks["validation"]], y[label][masks["validation"]], cfg.model)
        log(f"{name}: {trained[name].best_iteration + 1} trees")

    test_x = x[masks["test"]]
    preds = {name: to_label_units(name, predict(t, test_x)) for name, t in trained.items()}
    carry_idx = names.index("carry_8h_bp")
    metrics = evaluate(
        preds,
        {k: v[masks["test"]] for k, v in y.items()},
        carry_8h_pct_test=x[masks["test"], carry_idx] / 100,
        carry_8h_pct_train=x[masks["train"], carry_idx] / 100,
        success_train=y["labelSuccess"][masks["train"]],
        duration_train=y["labelDurationHours"][masks["train"]],
        round_trip_fee_percent=cfg.simulation.round_trip_fee_percent,
    )
    log("test metrics " + json.dumps({k: metrics[k] for k in ("success", "profit", "duration")}))

    onnx_models = {name: export.to_onnx(name, t, len(names), args.bundle) for name, t in trained.items()}
    hashes = {name: export.sha256(data) for name, data in onnx_models.items()}
    for name, h in hashes.items():
        log(f"{name}.onnx sha256 {h}")

    bundle_dir = args.models_dir / args.bundle / args.version
    if args.check:
        manifest = json.loads((bundle_dir / "manifest.json").read_text())
        committed = {name: m["sha256"] for name, m in manifest["models"].items()}
        same = committed == hashes
        log("reproduced the committed bundle byte for byte" if same else f"MISMATCH with the committed bundle: {committed}")
        return 0 if same else 1

    # Parity and self-check rows come from the held-out test period; their expected values are xgboost's own.
    rng = np.random.default_rng(cfg.model.seed)
    test_rows = np.nonzero(masks["test"])[0]
    parity_idx = np.sort(rng.choice(test_rows, size=min(cfg.parity_rows, len(test_rows)), replace=False))
    ids = frame["id"].to_numpy()

    def expected(rows: np.ndarray) -> dict[str, np.ndarray]:
        return {name: predict(t, x[rows]) for name, t in trained.items()}

    for name, data in onnx_models.items():
        out = export.onnx_output(data, name)
        diff = float(np.max(np.abs(export.onnx_predict(data, out, x[parity_idx]) - expected(parity_idx)[name])))
        log(f"{name}: max |onnxruntime - xgboost| over {len(parity_idx)} rows = {diff:.3g}")
        assert diff <= 1e-5, f"{name} ONNX disagrees with xgboost"

    feature_hash = summary["featureHash"]
    self_idx = parity_idx[: cfg.self_check_rows]
    self_check = export.rows_file([str(i) for i in ids[self_idx]], x[self_idx], expected(self_idx), feature_hash, 1e-5)
    training = {
        "dataFingerprint": fingerprint(args.data),
        "events": len(events),
        "periods": per.as_dict(),
        "rows": {k: int(v.sum()) for k, v in masks.items()},
        "params": dataclasses.asdict(cfg.model),
        "simulation": {**dataclasses.asdict(cfg.simulation), "round_trip_fee_percent": cfg.simulation.round_trip_fee_percent},
        "split": dataclasses.asdict(cfg.split),
        "featureCsvColumns": len(names),
    }
    card = model_card(args.bundle, args.version, training, metrics, cfg, len(names))
    created = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    manifest = export.write_bundle(
        bundle_dir, args.bundle, args.version, onnx_models, trained, names, feature_hash, summary.get("featureSpecVersion", 1),
        training, metrics, self_check, created, card,
    )
    if args.bundle_only:
        log(f"bundle {bundle_dir.relative_to(REPO)} written in {time.time() - started:.0f} s")
        return 0
    fixtures = REPO / "test" / "fixtures" / "parity"
    fixtures.mkdir(parents=True, exist_ok=True)
    parity = export.rows_file([str(i) for i in ids[parity_idx]], x[parity_idx], expected(parity_idx), feature_hash, 1e-5)
    (fixtures / f"{args.bundle}-{args.version}.json").write_text(json.dumps({"bundle": args.bundle, "version": args.version, **parity}) + "\n")

    # A small demo/backfill sample from the held-out test period, labels included.
    sample_idx = np.sort(rng.choice(test_rows, size=min(cfg.sample_size, len(test_rows)), replace=False))
    samples = REPO / "samples"
    samples.mkdir(exist_ok=True)
    write_jsonl(samples / "opportunities.jsonl", [events[i] for i in sample_idx])

    log(f"bundle {bundle_dir.relative_to(REPO)} written ({manifest['models']['profit']['trees']}/{manifest['models']['success']['trees']}/{manifest['models']['duration']['trees']} trees) in {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
