"""HeartBeat training: the CNN, data loading from the Rust core's feature dump, metrics,
cross-validated training and ONNX/model-card export.

Features are never computed here: they come from `heartbeat features DIR --out FILE.npz`
(the Rust core), so training sees exactly what the browser and the CLI will compute.
"""

MODEL_NAME = "heartbeat-cnn"
