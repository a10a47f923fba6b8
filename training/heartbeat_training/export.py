"""Writes the shipped model: `models/heartbeat.onnx`, `models/heartbeat.card.json`,
`models/MODEL_CARD.md`, and regenerates the tract/PyTorch parity fixtures in
`tests/fixtures/parity/`.

Trained model, from the views' ensemble (`heartbeat_training.ensemble`; its features dump: the
ensemble's configuration) or a single `heartbeat_training.train` run:

    python -m heartbeat_training.export --run target/heartbeat-training --features target/features-views.npz --int8

Untrained placeholder (random weights, fixed seed; lets the Rust workspace build):

    python -m heartbeat_training.export --untrained
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import numpy as np
import torch

from . import MODEL_NAME
from .card import DEFAULT_FEATURES, feature_views, slim_card, today, write_card_json, write_model_card_md
from .data import aggregate, load_features, windows_of
from .model import CHANNELS, ProbabilityHead, architecture_text, build_net, count_macs, count_parameters, fold_batchnorm
from .onnx_export import build_head, export_onnx, verify_onnx
from .record import load_record

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
PARITY_DIR = REPO / "tests" / "fixtures" / "parity"
VERSION = "7.0.0"


def regenerate_parity(onnx_path: Path, features: Path | None, out_dir: Path) -> None:
    spec = importlib.util.spec_from_file_location("parity_generate_io", PARITY_DIR / "generate_io.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.generate(onnx_path=onnx_path, features=features, out_dir=out_dir)


def rounding_effect(nets, head, features: Path, agg: dict, thr: float) -> dict:
    """How far the stored (int8 / float16) weights move the model from the float32 one that
    cross-validation scored, on every recording of `features` (the shipped model's own dump):
    recording probabilities, and decisions at the threshold."""
    exact = ProbabilityHead([fold_batchnorm(n) for n in nets], head.bands).eval()
    d = load_features(features)
    window, hop = int(d.config["window_frames"]), int(d.config["window_hop_frames"])
    lengths = d.lengths()
    diffs, flips, n = [], 0, 0
    with torch.no_grad():
        for i in range(d.n):
            if lengths[i] < window:
                continue
            x = torch.from_numpy(windows_of(d.frames(i), window, hop))
            p0, p1 = aggregate(exact(x).numpy(), agg), aggregate(head(x).numpy(), agg)
            diffs.append(abs(p1 - p0))
            flips += (p0 >= thr) != (p1 >= thr)
            n += 1
    diffs = np.asarray(diffs)
    return {"recordings": n, "max_abs_probability_change": round(float(diffs.max()), 6),
            "median_abs_probability_change": round(float(np.median(diffs)), 6), "decisions_changed": int(flips),
            "about": "the stored weights against the float32 model cross-validation scored, on every "
                     "training recording"}


def load_nets(run: Path) -> tuple[dict, list, list[tuple[int, int]], tuple]:
    """A run's results, its CNNs and the input rows each reads, and their (arch, channels,
    kernels): an ensemble's run (`heartbeat_training.ensemble`) holds one checkpoint per view."""
    ckpt = torch.load(run / "final_model.pt", map_location="cpu", weights_only=True)
    results = json.loads((run / "results.json").read_text())
    ckpts = ckpt["views"] if "views" in ckpt else [ckpt]
    # Checkpoints from before the architecture option hold the 2D CNN and no "arch" key.
    shape = ckpts[0].get("arch", "cnn2d"), tuple(ckpts[0]["channels"]), ckpts[0].get("kernels")
    nets, view_bands, row = [], [], 0
    for view, c in zip(feature_views(results["features"]), ckpts, strict=True):
        if (c.get("arch", "cnn2d"), tuple(c["channels"]), c.get("kernels")) != shape:
            raise SystemExit("the views' CNNs differ in architecture: the card describes one")
        n = int(view["n_mels"])
        for sd in c["state_dicts"]:
            net = build_net(*shape, n_mels=n)
            net.load_state_dict(sd)
            nets.append(net.eval())
            view_bands.append((row, row + n))
        row += n
    return results, nets, view_bands, shape


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m heartbeat_training.export", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--untrained", action="store_true", help="export the randomly initialised placeholder")
    ap.add_argument("--run", type=Path, default=REPO / "target" / "heartbeat-training",
                    help="training run directory (final_model.pt, results.json)")
    ap.add_argument("--features", type=Path, default=None,
                    help="the run's feature npz: real parity windows and the weight rounding's effect (default: "
                         "none → deterministic random windows)")
    ap.add_argument("--seed", type=int, default=2016, help="the untrained placeholder's seed")
    ap.add_argument("--int8", action="store_true",
                    help="store convolution and linear weights as int8 (a scale per output channel) instead of "
                         "float16: half the bytes, for models of more CNNs (e.g. several views)")
    ap.add_argument("--models", type=Path, default=MODELS,
                    help="where heartbeat.onnx, heartbeat.card.json and MODEL_CARD.md go (default: models/)")
    ap.add_argument("--parity", type=Path, default=PARITY_DIR,
                    help="where the parity fixtures go (default: tests/fixtures/parity/)")
    ap.add_argument("--no-parity", action="store_true", help="do not regenerate the parity fixtures")
    args = ap.parse_args(argv)
    onnx_path, card_path, md_path = (args.models / n for n in ("heartbeat.onnx", "heartbeat.card.json",
                                                                "MODEL_CARD.md"))

    if args.untrained:
        torch.manual_seed(args.seed)
        features_cfg = dict(DEFAULT_FEATURES)
        shape = ("cnn2d", CHANNELS, None)
        nets = [build_net(*shape).eval()]
        view_bands = [(0, int(features_cfg["n_mels"]))]
        results: dict = {}
        version = "0.0.0-untrained"
    else:
        results, nets, view_bands, shape = load_nets(args.run)
        features_cfg = results["features"]
        version = VERSION

    bands, frames = view_bands[-1][1], int(features_cfg["window_frames"])
    # A single view's CNNs read the whole input: no row selection in its graph.
    head = build_head(nets, view_bands if len(set(view_bands)) > 1 else None, int8=args.int8)
    nbytes = export_onnx(head, onnx_path, bands, frames)
    x = np.random.default_rng(0).standard_normal((3, 1, bands, frames)).astype(np.float32)
    diff = verify_onnx(onnx_path, head, x)
    arch_text = architecture_text(*shape, len(nets))
    if head.bands is not None:
        arch_text += "; " + ", ".join(f"{view_bands.count(b)} read input rows {b[0]}–{b[1] - 1}"
                                      for b in sorted(set(view_bands)))

    card = {
        "name": MODEL_NAME,
        "version": version,
        "trained": not args.untrained,
        "created": today(),
        "input": {"name": "mel", "shape": ["N", 1, bands, frames]},
        "output": {"name": "p_abnormal", "shape": ["N"]},
        "features": features_cfg,
        "threshold": float(results.get("threshold", 0.5)),
        "aggregation": results.get("aggregation", {"kind": "mean"}),
        "architecture": arch_text,
        "parameters": int(count_parameters(head)),
        # Each CNN's own MACs, plus the selection of each view's rows (`ProbabilityHead`).
        "macs_per_window": int(sum(count_macs(n, hi - lo, frames) for n, (lo, hi) in zip(nets, view_bands))
                               + (sum((hi - lo) * bands * frames for lo, hi in set(view_bands))
                                  if head.bands is not None else 0)),
        "onnx_bytes": int(nbytes),
        "weight_storage": ("int8 with a float32 scale per output channel, biases float16" if args.int8
                           else "float16"),
        "onnx_opset": 13,
    }
    for key in ("training", "metrics", "roc", "confusion", "history", "weaknesses"):
        if key in results:
            card[key] = results[key]
    if args.features is not None and not args.untrained:
        card["weight_rounding"] = rounding_effect(nets, head, args.features, card["aggregation"], card["threshold"])
        print(f"weight rounding: {card['weight_rounding']}")
    if not args.untrained:
        # The app ships loss curves and the levers that mattered, not every row of the record.
        card = slim_card(card, load_record()["tried"])
    write_card_json(card, card_path)
    write_model_card_md(card, md_path)
    print(f"wrote {onnx_path} ({nbytes} bytes, onnxruntime vs torch max diff {diff:.2e}), {card_path}, {md_path}")
    print(f"parameters {card['parameters']}, MACs/window {card['macs_per_window']}, "
          f"threshold {card['threshold']}, aggregation {card['aggregation']}")
    if not args.no_parity:
        feats = args.features
        if feats is None and not args.untrained:
            feats = results.get("features_path")
            feats = Path(feats) if feats and Path(feats).exists() else None
        regenerate_parity(onnx_path, feats, args.parity)


if __name__ == "__main__":
    main()
