"""End to end: funding history -> historical opportunities + labels -> features (TypeScript CLI) -> walk-forward
evaluation (which also chooses the calibration, the rank score and the `take` threshold) -> three XGBoost models on
all labelled history -> ONNX bundle with calibration and decision, model card, parity fixtures.

Usage: python -m opportunity_training.pipeline --data ../shared/data/funding [--version 2.0.0]
           [--check | --walk-forward | --experiments | --candidate [--data-share 0.1] [--against REF] [--monitor-url URL]]
With MLFLOW_TRACKING_URI set, a written bundle is registered in MLflow (`opportunity-scorer models push`): a run with
its parameters, walk-forward metrics, card and files, and a new model version.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from . import calibration, experiments, export, gate
from . import walkforward as W
from .card import model_card, walk_forward_table
from .config import TrainingConfig
from .data import fingerprint, load_candles, load_funding
from .events import opportunity_events, pair_grid, pairs, price_view
from .features import REPO, feature_matrix
from .model import predict
from .simulate import simulate

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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="the funding data folder (../shared/data/funding)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/opportunity-scorer-training"), help="scratch folder for events and features (outside the repo)")
    ap.add_argument("--bundle", default="opportunity-scorer")
    ap.add_argument("--version", default="2.0.0", help="the bundle version to write; auto names a scheduled candidate by its UTC time")
    ap.add_argument("--seed", type=int, default=None, help="model seed (default from config)")
    ap.add_argument("--trees", type=int, default=None, help="maximum trees per model (default from config)")
    ap.add_argument("--models-dir", type=Path, default=REPO / "models")
    ap.add_argument("--data-share", type=float, default=1.0, help="train on this share of the events (every k-th), e.g. 0.1 for a deliberately weaker candidate")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="retrain in the work folder; exit 0 only if models, calibration and decision equal the committed bundle's")
    mode.add_argument("--walk-forward", action="store_true", help="only the walk-forward evaluation: print it, write walk-forward.json and its table into the version's model card")
    mode.add_argument("--experiments", action="store_true", help="the walk-forward averages of each model variant (experiments.py), written to walk-forward-experiments.json")
    mode.add_argument("--candidate", action="store_true", help="train a candidate bundle (--version, written like --bundle-only), then gate it against --against and move --promote-alias only if it passes")
    ap.add_argument("--bundle-only", action="store_true", help="write only the bundle (not the parity fixture), e.g. for a candidate version")
    ap.add_argument("--against", default=None, help="with --candidate: the serving model ref (default <bundle>@production; models:/… with MLFLOW_TRACKING_URI)")
    ap.add_argument("--promote-alias", default="staging", help="with --candidate: the alias a passing candidate gets")
    ap.add_argument("--monitor-url", default=None, help="with --candidate: the outcome monitor's URL; the serving version's live figures are a second bar")
    args = ap.parse_args(argv)
    if args.version == "auto":
        # A scheduled candidate: a version that sorts by when it was trained.
        args.version = dt.datetime.now(dt.timezone.utc).strftime("candidate-%Y%m%d-%H%M%S")

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
    detected_all = np.array([e["detectedAt"] for e in events], dtype=np.int64)
    # Labelled span: events whose whole label window lies inside the data (the censored tail is biased).
    keep = W.complete_labels(detected_all, int(detected_all.max()), cfg.simulation.max_hold_hours)
    if args.data_share < 1.0:
        keep &= np.arange(len(events)) % round(1 / args.data_share) == 0
    x = frame[names].to_numpy(dtype=np.float32)[keep]
    detected = detected_all[keep]
    ids = frame["id"].to_numpy()[keep]
    y = {label: frame[label].to_numpy(dtype=np.float64)[keep] for label in LABELS}
    log(f"labelled span: {int(keep.sum())} events (dropped {int((~keep).sum())} censored or unsampled)")
    bundle_dir = args.models_dir / args.bundle / args.version
    fees = cfg.simulation.round_trip_fee_percent

    if args.experiments:
        rows = experiments.run(x, y, detected, names, cfg, log)
        out = {"variants": rows, "differential_roc_auc": rows[0]["differential_roc_auc"]}
        bundle_dir.mkdir(parents=True, exist_ok=True)
        (bundle_dir / "walk-forward-experiments.json").write_text(json.dumps(out, indent=2) + "\n")
        print(experiments.table(rows, out["differential_roc_auc"]))
        return 0

    log("walk-forward evaluation")
    report = W.run(x, y, detected, names, cfg.model, cfg.walk_forward, cfg.decision, fees, log)
    choice = report["choice"]
    log(f"chosen: calibration {choice['calibration']}, rank by {choice['rank_score']}, threshold {choice['threshold']}")
    if args.walk_forward:
        print(walk_forward_table(report))
        bundle_dir.mkdir(parents=True, exist_ok=True)
        (bundle_dir / "walk-forward.json").write_text(json.dumps(report, indent=2) + "\n")
        card_path = bundle_dir / "model-card.md"
        if card_path.exists():
            text = card_path.read_text()
            a, b = text.find(WF_START), text.find(WF_END)
            if a >= 0 and b > a:
                card_path.write_text(text[: a + len(WF_START)] + "\n" + walk_forward_table(report) + text[b:])
        return 0

    # The production bundle: all labelled history; the newest window stops the trees early and fits the calibration.
    final = W.final(detected, cfg.walk_forward)
    fit_m, val_m = final.fit.mask(detected), final.validation.mask(detected)
    trained = W.fit_fold(x, y, fit_m, val_m, cfg.model, names, detected)
    for name, t in trained.items():
        log(f"{name}: {t.best_iteration + 1} trees")
    cal = calibration.fit(choice["calibration"], predict(trained["success"], x[val_m]), y["labelSuccess"][val_m])
    decision = {
        "rankScore": choice["rank_score"],
        "threshold": choice["threshold"],
        "feeModel": {
            "takerFeePercentPerLegPerSide": cfg.simulation.taker_fee_percent,
            "legs": 2,
            "sidesPerLeg": 2,
            "roundTripPercent": fees,
        },
        "minTrades": cfg.decision.min_trades,
        "minTradesPerFold": cfg.decision.min_trades_per_fold,
        "objective": "mean realised net profit per trade taken, pooled walk-forward test folds",
    }

    onnx_models = {name: export.to_onnx(name, t, len(names), args.bundle) for name, t in trained.items()}
    hashes = {name: export.sha256(data) for name, data in onnx_models.items()}
    for name, h in hashes.items():
        log(f"{name}.onnx sha256 {h}")

    if args.check:
        manifest = json.loads((bundle_dir / "manifest.json").read_text())
        committed = {name: m["sha256"] for name, m in manifest["models"].items()}
        problems = []
        if committed != hashes:
            problems.append(f"model hashes differ: committed {committed}")
        if manifest.get("calibration") != cal:
            problems.append("calibration differs")
        if manifest.get("decision") != decision:
            problems.append(f"decision differs: committed {manifest.get('decision')}, retrained {decision}")
        log("reproduced the committed bundle byte for byte (models, calibration, decision)" if not problems else "MISMATCH: " + "; ".join(problems))
        return 0 if not problems else 1

    # Parity and self-check rows: xgboost's own outputs, and the served (calibrated) success probability.
    rng = np.random.default_rng(cfg.model.seed)
    parity_idx = np.sort(rng.choice(len(x), size=min(cfg.parity_rows, len(x)), replace=False))

    def expected(rows: np.ndarray) -> dict[str, np.ndarray]:
        out = {name: predict(t, x[rows]) for name, t in trained.items()}
        out["successCalibrated"] = calibration.apply(cal, out["success"])
        return out

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
        "labelledSpanEvents": int(keep.sum()),
        "dataShare": args.data_share,
        "periods": {"fit": final.fit.iso(), "validation": final.validation.iso()},
        "rows": {"fit": int(fit_m.sum()), "validation": int(val_m.sum())},
        "params": dataclasses.asdict(cfg.model),
        "simulation": {**dataclasses.asdict(cfg.simulation), "round_trip_fee_percent": fees},
        "walkForward": dataclasses.asdict(cfg.walk_forward),
        "featureCsvColumns": len(names),
    }
    exp_path = bundle_dir / "walk-forward-experiments.json"
    exp = json.loads(exp_path.read_text()) if exp_path.exists() else None
    card = model_card(args.bundle, args.version, training, report, cal, decision, exp, cfg, len(names), WF_START, WF_END)
    created = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    manifest = export.write_bundle(
        bundle_dir, args.bundle, args.version, onnx_models, trained, names, feature_hash, summary.get("featureSpecVersion", 1),
        training, {"walk_forward": {"folds": len(report["folds"]), "average": report["average"], "choice": report["choice"]}}, self_check, created, card, cal, decision,
    )
    (bundle_dir / "walk-forward.json").write_text(json.dumps(report, indent=2) + "\n")
    if args.candidate:
        window = W.folds(detected, cfg.walk_forward)[-1].test
        assert window is not None
        test_m = window.mask(detected)
        held = W.fold_data(x, y, names, test_m)
        against = args.against or f"{args.bundle}@production"
        serving_dir = Path(json.loads(cli(args, "models", "show", against))["dir"])
        live = monitor_figures(args.monitor_url, serving_dir) if args.monitor_url else None
        result = gate.run(report, x[test_m], held, window, serving_dir, feature_hash, cfg.walk_forward, live)
        result = {"candidate_bundle": f"{args.bundle}@{args.version}", "against": against, **result}
        (bundle_dir / "gate.json").write_text(json.dumps(result, indent=2) + "\n")
        print(gate.table(result))
        if os.environ.get("MLFLOW_TRACKING_URI"):
            aliases = ["--alias", args.promote_alias] if result["passed"] else []
            # The candidate becomes a version of the registered model that serves (models:/<name>@…), else of the bundle's name.
            registered = re.match(r"^models:/([^/@]+)", against)
            name = ["--name", registered.group(1)] if registered else []
            pushed = json.loads(cli(args, "models", "push", f"{args.bundle}@{args.version}", *name, "--tag", f"gate={'passed' if result['passed'] else 'refused'}",
                                    "--tag", f"gate_reason={result['reason'][:4000]}", "--tag", f"gate_against={against}", *aliases))
            result["mlflow"] = pushed
            log(f"registered in MLflow as {pushed['name']} version {pushed['modelVersion']}" + (f", alias {args.promote_alias}" if result["passed"] else ", aliases left alone"))
        elif result["passed"]:
            cli(args, "models", "promote", args.bundle, args.version, "--alias", args.promote_alias)
            log(f"{args.bundle}@{args.promote_alias} -> {args.version} in {args.models_dir / 'registry.json'}")
        else:
            log("refused: aliases left alone")
        print(json.dumps({"passed": result["passed"], "reason": result["reason"], "candidate": result["candidate_bundle"], "against": against}))
        return 0
    if os.environ.get("MLFLOW_TRACKING_URI"):
        pushed = json.loads(cli(args, "models", "push", f"{args.bundle}@{args.version}"))
        log(f"registered in MLflow ({os.environ['MLFLOW_TRACKING_URI']}) as {pushed['name']} version {pushed['modelVersion']}, run {pushed['runId']}")
    if args.bundle_only:
        log(f"bundle {bundle_dir} written in {time.time() - started:.0f} s")
        return 0
    fixtures = REPO / "test" / "fixtures" / "parity"
    fixtures.mkdir(parents=True, exist_ok=True)
    parity = export.rows_file([str(i) for i in ids[parity_idx]], x[parity_idx], expected(parity_idx), feature_hash, 1e-5)
    (fixtures / f"{args.bundle}-{args.version}.json").write_text(json.dumps({"bundle": args.bundle, "version": args.version, **parity}) + "\n")
    log(f"bundle {bundle_dir.relative_to(REPO)} written ({manifest['models']['profit']['trees']}/{manifest['models']['success']['trees']}/{manifest['models']['duration']['trees']} trees) in {time.time() - started:.0f} s")
    return 0


WF_START = "<!-- walk-forward:start -->"
WF_END = "<!-- walk-forward:end -->"


def cli(args: argparse.Namespace, *argv: str) -> str:
    """The project's own CLI (models show / push / promote) on this run's models folder; its stdout."""
    env = {**os.environ, "MODEL_DIR": str(args.models_dir.resolve()), "LOG_LEVEL": os.environ.get("LOG_LEVEL", "warn"), "LOG_FORMAT": "json"}
    done = subprocess.run(["node", str(REPO / "bin" / "opportunity-scorer.js"), *argv], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"opportunity-scorer {' '.join(argv[:2])} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return done.stdout


def monitor_figures(url: str, serving_dir: Path) -> dict | None:
    """The serving version's live figures from the outcome monitor, or None while it has joined none."""
    manifest = json.loads((serving_dir / "manifest.json").read_text())
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/models/{manifest['bundle']}/{manifest['version']}/performance", timeout=10) as r:
            return json.loads(r.read())["live"]
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise


if __name__ == "__main__":
    sys.exit(main())
