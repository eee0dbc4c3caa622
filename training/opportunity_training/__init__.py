"""Training pipeline for opportunity-scorer: historical opportunities, simulated labels, XGBoost models, ONNX bundle."""
