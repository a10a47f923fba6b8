"""Writes the shipped model: `models/heartbeat.onnx`, `models/heartbeat.card.json`,
`models/MODEL_CARD.md`, and regenerates the tract/PyTorch parity fixtures in
`tests/fixtures/parity/`.

Untrained placeholder (random weights, fixed seed; lets the Rust workspace build):

    python training/export.py --untrained

Trained model, from a `training/train.py` run directory, or an ensemble of runs on several feature
views made by `training/ensemble_study.py --ship` (its features dump: the ensemble's configuration):

    python training/export.py --run target/heartbeat-training --features target/features.npz

Ablations run after a model shipped, added to its card's "tried" list (the model, its numbers and
the parity fixtures untouched):

    python training/export.py --update-card --tried target/pooling-s2016/*.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "training"))

from heartbeat_training import MODEL_NAME  # noqa: E402
from heartbeat_training.card import (DEFAULT_FEATURES, feature_views, today, write_card_json,  # noqa: E402
                                     write_model_card_md)
from heartbeat_training.data import aggregate, load_features, windows_of  # noqa: E402
from heartbeat_training.model import (CHANNELS, ProbabilityHead, architecture_text, build_net,  # noqa: E402
                                      count_macs, count_parameters, fold_batchnorm)
from heartbeat_training.onnx_export import build_head, export_onnx, verify_onnx  # noqa: E402

MODELS = REPO / "models"
ONNX_PATH = MODELS / "heartbeat.onnx"
CARD_PATH = MODELS / "heartbeat.card.json"
MD_PATH = MODELS / "MODEL_CARD.md"
PARITY_DIR = REPO / "tests" / "fixtures" / "parity"
VERSION = "7.0.0"


def regenerate_parity(features: Path | None) -> None:
    spec = importlib.util.spec_from_file_location("parity_generate_io", PARITY_DIR / "generate_io.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.generate(onnx_path=ONNX_PATH, features=features, out_dir=PARITY_DIR)


def add_tried(doc: dict, summaries: list[Path]) -> None:
    """Appends ablation runs' summaries to `doc["training"]["tried"]` (a card or a run's results)."""
    for path in summaries:
        t = json.loads(path.read_text())
        t.pop("aggregation_grid", None)
        doc.setdefault("training", {}).setdefault("tried", []).append(t)


def carried_rows(previous: dict, version: str) -> list[dict]:
    """The rows of the committed card's "tried" table that belong in the card replacing it (of
    `version`), so exporting a model never loses the record of what was tried before: every
    ablation, and the previous model's headline row (its first) named as that model when it is
    another version. Its aggregation rows describe its pooling, not the new model's: dropped."""
    if not previous.get("trained"):
        return []
    rows = previous.get("training", {}).get("tried", [])
    out = []
    for i, r in enumerate(rows):
        if r["name"].startswith("aggregation "):
            continue
        if i == 0:
            if previous.get("version") == version:
                continue
            r = {**r, "name": f"model {previous['version']}, shipped before this one: {r['name']}"}
        out.append(r)
    return out


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


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--untrained", action="store_true", help="export the randomly initialised placeholder")
    ap.add_argument("--run", type=Path, default=REPO / "target" / "heartbeat-training",
                    help="training run directory (final_model.pt, results.json)")
    ap.add_argument("--features", type=Path, default=None,
                    help="feature npz for real parity windows (default: none → deterministic random windows)")
    ap.add_argument("--seed", type=int, default=2016)
    ap.add_argument("--tried", type=Path, nargs="*", default=[],
                    help="cv_summary.json of ablation runs (train.py --no-final) to list in the card")
    ap.add_argument("--no-parity", action="store_true", help="do not regenerate tests/fixtures/parity")
    ap.add_argument("--int8", action="store_true",
                    help="store convolution and linear weights as int8 (a scale per output channel) instead of "
                         "float16: half the bytes, for models of more CNNs (e.g. several views)")
    ap.add_argument("--update-card", action="store_true",
                    help="only append --tried rows to the committed card and regenerate MODEL_CARD.md")
    args = ap.parse_args(argv)

    if args.update_card:
        if args.untrained:
            ap.error("--update-card edits the committed trained card; it does not combine with --untrained")
        card = json.loads(CARD_PATH.read_text())
        add_tried(card, args.tried)
        write_card_json(card, CARD_PATH)
        write_model_card_md(card, MD_PATH)
        print(f"added {len(args.tried)} rows to {CARD_PATH} and {MD_PATH}")
        return

    if args.untrained:
        torch.manual_seed(args.seed)
        features_cfg = dict(DEFAULT_FEATURES)
        arch, channels, kernels, dilations = "cnn2d", CHANNELS, None, None
        nets = [build_net(arch, channels)]
        view_bands = [(0, int(features_cfg["n_mels"]))]
        results: dict = {}
        version = "0.0.0-untrained"
    else:
        ckpt = torch.load(args.run / "final_model.pt", map_location="cpu", weights_only=True)
        results = json.loads((args.run / "results.json").read_text())
        features_cfg = results["features"]
        # A run of `ensemble_study.py --ship` holds one checkpoint per feature view.
        ckpts = ckpt["views"] if "views" in ckpt else [ckpt]
        # Checkpoints from before the architecture option hold the 2D CNN and no "arch" key.
        arch, channels, kernels = ckpts[0].get("arch", "cnn2d"), tuple(ckpts[0]["channels"]), ckpts[0].get("kernels")
        dilations = ckpts[0].get("dilations")
        nets, view_bands, row = [], [], 0
        for view, c in zip(feature_views(features_cfg), ckpts, strict=True):
            if (c.get("arch", "cnn2d"), tuple(c["channels"]), c.get("kernels"), c.get("dilations")) != \
                    (arch, channels, kernels, dilations):
                ap.error("the views' CNNs differ in architecture: the card describes one")
            n = int(view["n_mels"])
            for sd in c["state_dicts"]:
                net = build_net(arch, channels, kernels, n_mels=n, dilations=dilations)
                net.load_state_dict(sd)
                nets.append(net.eval())
                view_bands.append((row, row + n))
            row += n
        version = VERSION

    bands, frames = view_bands[-1][1], int(features_cfg["window_frames"])
    for n in nets:
        n.eval()
    # A single view's CNNs read the whole input: no row selection in its graph.
    head = build_head(nets, view_bands if len(set(view_bands)) > 1 else None, int8=args.int8)
    nbytes = export_onnx(head, ONNX_PATH, bands, frames)
    x = np.random.default_rng(0).standard_normal((3, 1, bands, frames)).astype(np.float32)
    diff = verify_onnx(ONNX_PATH, head, x)
    arch_text = architecture_text(arch, channels, kernels, len(nets), dilations)
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
    add_tried(results, args.tried)
    if not args.untrained and CARD_PATH.exists():
        tried = results.setdefault("training", {}).setdefault("tried", [])
        names = {r["name"] for r in tried}
        tried += [r for r in carried_rows(json.loads(CARD_PATH.read_text()), version) if r["name"] not in names]
    for key in ("training", "metrics", "roc", "confusion", "history", "weaknesses"):
        if key in results:
            card[key] = results[key]
    if args.features is not None and not args.untrained:
        card["weight_rounding"] = rounding_effect(nets, head, args.features, card["aggregation"], card["threshold"])
        print(f"weight rounding: {card['weight_rounding']}")
    write_card_json(card, CARD_PATH)
    write_model_card_md(card, MD_PATH)
    print(f"wrote {ONNX_PATH} ({nbytes} bytes, onnxruntime vs torch max diff {diff:.2e}), {CARD_PATH}, {MD_PATH}")
    print(f"parameters {card['parameters']}, MACs/window {card['macs_per_window']}, "
          f"threshold {card['threshold']}, aggregation {card['aggregation']}")
    if not args.no_parity:
        feats = args.features
        if feats is None and not args.untrained:
            feats = results.get("features_path")
            feats = Path(feats) if feats and Path(feats).exists() else None
        regenerate_parity(feats)


if __name__ == "__main__":
    main()
