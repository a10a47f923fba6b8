"""Writing the ONNX graph and checking it with onnxruntime."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from .model import ProbabilityHead, fold_batchnorm

OPSET = 13


def build_head(nets, bands: list[tuple[int, int]] | None = None) -> ProbabilityHead:
    """The exported head: BatchNorm folded, every weight rounded to the nearest float16.

    The ONNX file stores weights as float16 (`export_onnx`), which halves the model's share of
    the browser's first download. Rounding here, before export, keeps PyTorch, onnxruntime and
    tract computing from the very same weights, so the parity checks stay at 1e-4."""
    head = ProbabilityHead([fold_batchnorm(n) for n in nets], bands).eval()
    with torch.no_grad():
        for p in head.parameters():
            p.copy_(p.half().float())
    return head


def _weights_to_float16(model) -> None:
    """Stores every float32 initializer as float16, cast back to float32 by a `Cast` node at the
    graph's start. Lossless for weights `build_head` rounded; tract folds the casts away when it
    optimises the model, so inference stays float32."""
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    casts = []
    for init in list(graph.initializer):
        if init.data_type != TensorProto.FLOAT:
            continue
        w = numpy_helper.to_array(init)
        if not np.array_equal(w.astype(np.float16).astype(np.float32), w):
            raise RuntimeError(f"initializer {init.name} is not float16-exact: round it in build_head")
        graph.initializer.remove(init)
        graph.initializer.append(numpy_helper.from_array(w.astype(np.float16), f"{init.name}.f16"))
        casts.append(helper.make_node("Cast", [f"{init.name}.f16"], [init.name], to=TensorProto.FLOAT,
                                      name=f"{init.name}.cast"))
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)


def export_onnx(head: ProbabilityHead, path: Path, bands: int, frames: int) -> int:
    """Exports `head` to `path` (input `mel` [N,1,bands,frames], output `p_abnormal` [N]);
    returns the file size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(2, 1, bands, frames)
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
    _weights_to_float16(model)
    onnx.checker.check_model(model)
    ops = sorted({n.op_type for n in model.graph.node})
    allowed = {"Cast", "Conv", "Relu", "MaxPool", "GlobalAveragePool", "Flatten", "Gemm", "Sigmoid", "Reshape",
               "Add", "Div", "Constant", "BatchNormalization", "MatMul", "AveragePool", "Slice"}
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
