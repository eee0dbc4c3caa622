"""ONNX export and the model bundle: manifest, model files, model card, metrics, self-check rows, parity fixtures."""
from __future__ import annotations

import base64
import hashlib
import json
from importlib.metadata import version as pkg_version
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import xgboost as xgb
from onnxmltools import convert_xgboost
from onnxmltools.convert.common.data_types import FloatTensorType

from .model import OUTPUT_TRANSFORM, TARGETS, Trained

BUNDLE_FORMAT = "opportunity-scorer-bundle/1"
INPUT_NAME = "input"
TARGET_OPSET = 15  # the highest onnxmltools 1.16 converts XGBoost to


def to_onnx(name: str, t: Trained, n_features: int, bundle: str) -> bytes:
    model = convert_xgboost(
        t.model,
        name=f"{bundle}-{name}",
        initial_types=[(INPUT_NAME, FloatTensorType([None, n_features]))],
        target_opset=TARGET_OPSET,
    )
    if isinstance(t.model, xgb.XGBClassifier):
        # Tensor outputs only: onnxruntime-node cannot return ZipMap's sequence of maps.
        assert all(o.type.HasField("tensor_type") for o in model.graph.output), "classifier exported a non-tensor output"
    model.producer_name = "opportunity-scorer-training"
    model.producer_version = "1"
    model.doc_string = ""
    return model.SerializeToString()


def onnx_output(data: bytes, name: str) -> tuple[str, int | None]:
    """(output name, column) holding the value the engine reads: P(success) is column 1 of the probabilities."""
    outputs = [o.name for o in onnx.load_from_string(data).graph.output]
    if TARGETS[name][1] == "binary:logistic":
        return ("probabilities", 1) if "probabilities" in outputs else (outputs[-1], 1)
    return outputs[0], None


def onnx_predict(data: bytes, output: tuple[str, int | None], x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    out = session.run([output[0]], {INPUT_NAME: x})[0]
    return (out[:, output[1]] if output[1] is not None else out.reshape(-1)).astype(np.float32)


def b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode()


def rows_file(ids: list[str], x: np.ndarray, expected: dict[str, np.ndarray], feature_hash: str, tolerance: float) -> dict:
    """Feature rows and expected outputs, float32 little-endian in base64 (compact and exact): each model's native
    output and `successCalibrated`, the success probability as served after the bundle's calibration."""
    return {
        "featureHash": feature_hash,
        "featureCount": int(x.shape[1]),
        "rows": int(x.shape[0]),
        "tolerance": tolerance,
        "ids": ids,
        "features": b64(x),
        "expected": {k: b64(v) for k, v in expected.items()},
    }


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def versions() -> dict[str, str]:
    return {p: pkg_version(p) for p in ("xgboost-cpu", "onnxmltools", "onnx", "onnxruntime", "scikit-learn", "numpy", "pandas")}


def write_bundle(
    out_dir: Path,
    bundle: str,
    version: str,
    onnx_models: dict[str, bytes],
    trained: dict[str, Trained],
    feature_names: list[str],
    feature_hash: str,
    feature_spec_version: int,
    training: dict,
    metrics: dict,
    self_check: dict,
    created_at: str,
    model_card: str,
    calibration: dict,
    decision: dict,
) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    models = {}
    for name, data in onnx_models.items():
        (out_dir / f"{name}.onnx").write_bytes(data)
        output, column = onnx_output(data, name)
        models[name] = {
            "file": f"{name}.onnx",
            "sha256": sha256(data),
            "input": INPUT_NAME,
            "output": output,
            **({"outputColumn": column} if column is not None else {}),
            **({"outputTransform": OUTPUT_TRANSFORM[name]} if name in OUTPUT_TRANSFORM else {}),
            "label": TARGETS[name][0],
            "objective": trained[name].objective,
            "trees": trained[name].best_iteration + 1,
            "baseScore": trained[name].base_score,
        }
    (out_dir / "self-check.json").write_text(json.dumps(self_check) + "\n")
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (out_dir / "model-card.md").write_text(model_card)
    manifest = {
        "format": BUNDLE_FORMAT,
        "bundle": bundle,
        "version": version,
        "createdAt": created_at,
        "features": {"specVersion": feature_spec_version, "hash": feature_hash, "count": len(feature_names), "names": feature_names},
        "models": models,
        "composite": "success.probability * profit",
        "calibration": calibration,
        "decision": decision,
        "selfCheck": {"file": "self-check.json", "rows": self_check["rows"], "tolerance": self_check["tolerance"]},
        "modelCard": "model-card.md",
        "metrics": "metrics.json",
        "training": {**training, "versions": versions(), "onnxTargetOpset": TARGET_OPSET},
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
