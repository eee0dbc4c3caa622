"""Drives the service with Triton's own HTTP client (tritonclient[http]), as any OIP v2 user would.

Usage: oip_client.py URL MODEL FEATURES_FILE  (float32 little-endian rows of 57 features)
Prints one JSON object: liveness, readiness, metadata, and the outputs of infer (binary and JSON tensor data).
"""
import json
import sys

import numpy as np
import tritonclient.http as httpclient

url, model, path = sys.argv[1], sys.argv[2], sys.argv[3]
rows = np.fromfile(path, dtype="<f4").reshape(-1, 57)
client = httpclient.InferenceServerClient(url=url)
out = {
    "server_live": client.is_server_live(),
    "server_ready": client.is_server_ready(),
    "model_ready": client.is_model_ready(model),
    "server_metadata": client.get_server_metadata(),
    "model_metadata": client.get_model_metadata(model),
}
names = ["predicted_profit_percent", "success_probability", "predicted_duration_hours", "composite_score", "rank_score", "take"]
for binary in (True, False):
    tensor = httpclient.InferInput("input", list(rows.shape), "FP32")
    tensor.set_data_from_numpy(rows, binary_data=binary)
    wanted = [httpclient.InferRequestedOutput(n, binary_data=binary) for n in names]
    result = client.infer(model, inputs=[tensor], outputs=wanted, request_id="oip-test")
    out["binary" if binary else "json"] = {
        "model_version": result.get_response()["model_version"],
        "id": result.get_response().get("id"),
        **{n: result.as_numpy(n).tolist() for n in names},
    }
# A wrong feature count comes back as the server's error, raised by the client.
try:
    bad = httpclient.InferInput("input", [1, 56], "FP32")
    bad.set_data_from_numpy(np.zeros((1, 56), dtype=np.float32))
    client.infer(model, inputs=[bad])
    out["wrong_count_error"] = None
except Exception as err:  # tritonclient raises InferenceServerException
    out["wrong_count_error"] = str(err)
print(json.dumps(out))
