"""Writing the ONNX graph and checking it with onnxruntime."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from .model import ProbabilityHead, fold_batchnorm

OPSET = 13


def build_head(nets) -> ProbabilityHead:
    return ProbabilityHead([fold_batchnorm(n) for n in nets]).eval()


def export_onnx(head: ProbabilityHead, path: Path, n_mels: int, frames: int) -> int:
    """Exports `head` to `path` (input `mel` [N,1,n_mels,frames], output `p_abnormal` [N]);
    returns the file size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(2, 1, n_mels, frames)
    tmp = path.with_suffix(".onnx.tmp")
    torch.onnx.export(
        head,
        (dummy,),
        str(tmp),
        input_names=["mel"],
        output_names=["p_abnormal"],
        dynamic_axes={"mel": {0: "N"}, "p_abnormal": {0: "N"}},
        opset_version=OPSET,
        do_constant_folding=True,
        dynamo=False,
    )
    import onnx

    model = onnx.load(str(tmp))
    onnx.checker.check_model(model)
    ops = sorted({n.op_type for n in model.graph.node})
    allowed = {"Conv", "Relu", "MaxPool", "GlobalAveragePool", "Flatten", "Gemm", "Sigmoid", "Reshape",
               "Add", "Div", "Constant", "BatchNormalization", "MatMul", "AveragePool"}
    bad = set(ops) - allowed
    if bad:
        raise RuntimeError(f"ONNX graph uses unexpected ops {bad}")
    # Strip the doc strings the exporter writes (source paths): smaller and reproducible.
    model.doc_string = ""
    model.producer_name = "heartbeat-training"
    for n in model.graph.node:
        n.doc_string = ""
    onnx.save(model, str(tmp))
    os.replace(tmp, path)
    return path.stat().st_size


def onnx_predict(path: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (out,) = sess.run(["p_abnormal"], {"mel": x.astype(np.float32)})
    return out


def verify_onnx(path: Path, head: ProbabilityHead, x: np.ndarray, tol: float = 1e-4) -> float:
    """Runs `x` through onnxruntime and PyTorch; raises if they differ by more than `tol`.
    Returns the max absolute difference."""
    got = onnx_predict(path, x)
    with torch.no_grad():
        want = head(torch.from_numpy(x.astype(np.float32))).numpy()
    if got.shape != (x.shape[0],):
        raise RuntimeError(f"ONNX output shape {got.shape}, expected ({x.shape[0]},)")
    diff = float(np.max(np.abs(got - want)))
    if diff > tol or not np.all((got >= 0) & (got <= 1)):
        raise RuntimeError(f"ONNX/PyTorch mismatch {diff}")
    return diff
