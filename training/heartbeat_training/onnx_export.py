"""Writing the ONNX graph and checking it with onnxruntime."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from .model import ProbabilityHead, fold_batchnorm

OPSET = 13


def build_head(nets, bands: list[tuple[int, int]] | None = None, int8: bool = False) -> ProbabilityHead:
    """The exported head: BatchNorm folded, every weight rounded to what the ONNX file stores.

    Weights are stored as float16 (`export_onnx`), or with `int8` convolution and linear weights
    as int8 with a float32 scale per output channel (biases stay float16): the model is part of
    the browser's first download, and int8 lets four CNNs cost what two cost in float16.
    Rounding here, before export, keeps PyTorch, onnxruntime and tract computing from the very
    same weights, so the parity checks stay at 1e-4. `head.int8` maps each int8 weight's name to
    its codes and scales."""
    head = ProbabilityHead([fold_batchnorm(n) for n in nets], bands).eval()
    head.int8 = {}
    with torch.no_grad():
        for name, p in head.named_parameters():
            if not int8 or p.dim() < 2:
                p.copy_(p.half().float())
                continue
            flat = p.reshape(p.shape[0], -1)
            scale = (flat.abs().amax(dim=1) / 127).clamp_min(1e-12)
            q = torch.round(flat / scale[:, None]).clamp(-127, 127)
            p.copy_((q * scale[:, None]).reshape(p.shape))
            head.int8[name] = (q.to(torch.int8).reshape(p.shape).numpy(), scale.numpy())
    return head


def _compact_weights(model, int8: dict) -> None:
    """Stores the weights `build_head` rounded as int8 codes times a float32 scale per output
    channel (`Cast` and `Mul` nodes at the graph's start) and every other float32 initializer as
    float16 (a `Cast`). Lossless for those weights, checked value by value; tract folds these
    nodes into float32 constants when it optimises the model, so inference stays float32."""
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    nodes, used = [], set()
    for init in list(graph.initializer):
        if init.data_type != TensorProto.FLOAT:
            continue
        w, name = numpy_helper.to_array(init), init.name
        graph.initializer.remove(init)
        if name in int8:
            q, scale = int8[name]
            scale = scale.reshape((-1,) + (1,) * (q.ndim - 1)).astype(np.float32)
            if not np.array_equal(q.astype(np.float32) * scale, w):
                raise RuntimeError(f"initializer {name} is not its int8 codes times their scales")
            graph.initializer.extend([numpy_helper.from_array(q, f"{name}.i8"),
                                      numpy_helper.from_array(scale, f"{name}.scale")])
            nodes += [helper.make_node("Cast", [f"{name}.i8"], [f"{name}.codes"], to=TensorProto.FLOAT,
                                       name=f"{name}.cast"),
                      helper.make_node("Mul", [f"{name}.codes", f"{name}.scale"], [name], name=f"{name}.dequantise")]
            used.add(name)
            continue
        if not np.array_equal(w.astype(np.float16).astype(np.float32), w):
            raise RuntimeError(f"initializer {name} is not float16-exact: round it in build_head")
        graph.initializer.append(numpy_helper.from_array(w.astype(np.float16), f"{name}.f16"))
        nodes.append(helper.make_node("Cast", [f"{name}.f16"], [name], to=TensorProto.FLOAT, name=f"{name}.cast"))
    if used != set(int8):
        raise RuntimeError(f"int8 weights missing from the exported graph: {sorted(set(int8) - used)}")
    nodes += list(graph.node)
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
    _compact_weights(model, head.int8)
    onnx.checker.check_model(model)
    ops = sorted({n.op_type for n in model.graph.node})
    allowed = {"Cast", "Conv", "Relu", "MaxPool", "GlobalAveragePool", "Flatten", "Gemm", "Sigmoid", "Reshape",
               "Add", "Div", "Mul", "Constant", "BatchNormalization", "MatMul", "AveragePool"}
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
