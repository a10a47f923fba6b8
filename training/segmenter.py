"""Trains and scores the heart-cycle segmenter on annotated recordings (CirCor layout).

    cargo build --release -p heartbeat-cli
    python training/segmenter.py --data ../shared/data/circor2022 cv     # patient-wise 5-fold CV
    python training/segmenter.py --data ../shared/data/circor2022 ship   # models/segmenter.json

`cv` fits the parameters on four folds of patients and has the Rust core segment the fifth
(`heartbeat segment-eval --segmenter FOLD.json`), so the numbers are the app's own. `ship` fits on
every patient except the fixed test slice (`tests/fixtures/segmentation/slice.txt`, which
`crates/cli/tests/segmentation.rs` scores in CI) and writes the parameters with the CV results.
Both take under two minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

# Run as a script, this file's folder (training/) is on the import path: no path edits needed.
from heartbeat_training.segmenter import fit, load_dump, patient_folds

ROOT = Path(__file__).resolve().parent.parent

CLI = ROOT / "target" / "release" / "heartbeat"
SLICE = ROOT / "tests" / "fixtures" / "segmentation" / "slice.txt"
SHIPPED = ROOT / "models" / "segmenter.json"
# Patients in the CI slice: enough recordings (~130) for a stable F1, few enough to run in seconds.
SLICE_PATIENTS = 40
SEED = 2022
# Frames each emission input stacks: ±80 ms densely, ±160 ms sparsely (a sound and its
# surroundings). Chosen in CV over ±2 and ±4 dense (F1 0.948, 0.950; this: 0.951, see
# training/README.md).
CONTEXT = [-8, -6, -4, -3, -2, -1, 0, 1, 2, 3, 4, 6, 8]


def heartbeat(*args: str) -> str:
    return subprocess.run([str(CLI), *args], check=True, capture_output=True, text=True).stdout


def export_frames(data: Path, segmenter: Path | None, out: Path) -> None:
    extra = ["--segmenter", str(segmenter)] if segmenter else []
    heartbeat(*extra, "segment-features", str(data), "--out", str(out))


def evaluate(data: Path, params: dict, records: list[str], tmp: Path, tag: str) -> dict:
    p, r = tmp / f"{tag}.json", tmp / f"{tag}.txt"
    p.write_text(json.dumps(params))
    r.write_text("\n".join(records) + "\n")
    return json.loads(heartbeat("--segmenter", str(p), "segment-eval", str(data), "--records", str(r)))


RATE_SHARES = ("rate_within_5_percent", "rate_within_10_percent", "rate_halved_or_doubled",
               "rate_not_found", "stretch_rate_within_5_percent")


def pooled(summaries: list[dict]) -> dict:
    """The core's summary over all folds: counts summed, rate shares weighted by rated recordings."""
    counts = ("true_positives", "false_positives", "false_negatives")
    out: dict = {sound: {k: sum(s[sound][k] for s in summaries) for k in counts} for sound in ("s1", "s2")}

    def f1(c: dict) -> float:
        return 2 * c["true_positives"] / max(2 * c["true_positives"] + c["false_positives"] + c["false_negatives"], 1)

    out.update(s1_f1=f1(out["s1"]), s2_f1=f1(out["s2"]),
               f1=f1({k: out["s1"][k] + out["s2"][k] for k in counts}),
               recordings=sum(s["recordings"] for s in summaries), rated=sum(s["rated"] for s in summaries))
    out.update({k: sum(s[k] * s["rated"] for s in summaries) / max(out["rated"], 1) for k in RATE_SHARES})
    return out


def physionet_rates(data: Path, params: dict, tmp: Path) -> dict:
    """The distribution of the rates the segmenter reports on PhysioNet 2016 (no annotations: a
    plausibility check), and the recordings at either end, for inspection."""
    p = tmp / "rates.json"
    p.write_text(json.dumps(params))
    reports = [json.loads(line) for line in heartbeat("--segmenter", str(p), "classify", str(data)).splitlines()]
    rated = [(r["heart_rate_bpm"], Path(r["file"]).stem) for r in reports if r.get("heart_rate_bpm") is not None]
    bpm = np.array([b for b, _ in rated])
    ranked = sorted(rated)
    return {
        "recordings": len(reports),
        "not_found": 1 - len(rated) / max(len(reports), 1),
        "percentiles_bpm": {str(q): float(np.percentile(bpm, q)) for q in (1, 5, 25, 50, 75, 95, 99)},
        "lowest": [{"record": n, "bpm": b} for b, n in ranked[:5]],
        "highest": [{"record": n, "bpm": b} for b, n in ranked[-5:]],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "circor2022")
    ap.add_argument("--physionet", type=Path, default=ROOT.parent / "shared" / "data" / "physionet2016",
                    help="PhysioNet 2016 data, whose rates `ship` reports as a plausibility check")
    ap.add_argument("--hidden", type=int, default=32,
                    help="hidden units of the emission network (0: softmax regression)")
    ap.add_argument("--max-frames", type=int, default=400_000, help="annotated frames sampled for fitting")
    ap.add_argument("--context", type=lambda v: [int(x) for x in v.split(",")], default=CONTEXT,
                    help="frame offsets (20 ms each) each emission input stacks, comma-separated")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--out", type=Path, help="where `cv` writes its results (default: print only)")
    ap.add_argument("command", choices=("cv", "ship"))
    args = ap.parse_args()
    if not CLI.exists():
        sys.exit(f"{CLI} is missing: run `cargo build --release -p heartbeat-cli` first")
    shipped = json.loads(SHIPPED.read_text())
    band = tuple(shipped["band_hz"])

    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        # The core exports the frame layout of the segmenter it is given; its weights are not read.
        per_frame = len(shipped["emission"]["layers"][0]["weights"][0]) // len(shipped["frames"]["context"])
        blank = {"weights": [[0.0] * (per_frame * len(args.context))] * 4, "bias": [0.0] * 4, "activation": "softmax"}
        layout = tmp / "layout.json"
        layout.write_text(json.dumps({**shipped, "frames": {"context": args.context},
                                      "emission": {**shipped["emission"], "layers": [blank]}}))
        export_frames(args.data, layout, tmp / "frames.npz")
        dump = load_dump(tmp / "frames.npz")
        kw = dict(hidden=args.hidden, seed=SEED, max_frames=args.max_frames, version=args.version, band_hz=band)
        folds = patient_folds(dump.patients, args.folds, SEED)
        results, rows = [], []
        for k, test in enumerate(folds):
            train = np.concatenate([f for j, f in enumerate(folds) if j != k])
            params = fit(dump, train, args.data, **kw)
            r = evaluate(args.data, params, [dump.records[i] for i in test], tmp, f"fold{k}")
            results.append(r["summary"])
            rows += r["records"]
            s = r["summary"]
            print(f"fold {k}: F1 {s['f1']:.3f} (S1 {s['s1_f1']:.3f}, S2 {s['s2_f1']:.3f}), "
                  f"rate within 5 % {s['rate_within_5_percent']:.3f}, halved/doubled {s['rate_halved_or_doubled']:.3f}",
                  file=sys.stderr)
        keys = ("f1", "s1_f1", "s2_f1", *RATE_SHARES)
        cv = {
            "method": f"{args.folds}-fold cross-validation by patient on {len(set(dump.patients))} patients, "
                      f"{dump.offsets.size - 1} recordings; onsets within ±60 ms",
            "pooled": pooled(results),
            "folds": {k: {"mean": float(np.mean([r[k] for r in results])), "sd": float(np.std([r[k] for r in results]))}
                      for k in keys},
        }
        print(json.dumps(cv["pooled"], indent=1))
        if args.command == "cv":
            if args.out:
                args.out.write_text(json.dumps({**cv, "records": rows}, indent=1) + "\n")
            return

        patients = sorted(set(dump.patients))
        rng = np.random.default_rng(SEED)
        held = set(rng.choice(patients, SLICE_PATIENTS, replace=False).tolist())
        train = np.array([i for i, p in enumerate(dump.patients) if p not in held])
        test = [dump.records[i] for i, p in enumerate(dump.patients) if p in held]
        # Rounded before scoring: the slice's counts are those of the file the core compiles in.
        params = _rounded(fit(dump, train, args.data, **kw))
        held_out = evaluate(args.data, params, test, tmp, "slice")["summary"]
        params["evaluation"] = {"cross_validation": cv, "test_slice": held_out,
                                "physionet_rates": physionet_rates(args.physionet, params, tmp)}
        SHIPPED.write_text(json.dumps(_rounded(params), indent=1) + "\n")
        SLICE.parent.mkdir(parents=True, exist_ok=True)
        SLICE.write_text("\n".join(test) + "\n")
        print(f"wrote {SHIPPED} and {SLICE} ({len(test)} recordings of {len(held)} patients)", file=sys.stderr)


def _rounded(v):
    """Floats to 6 significant digits: the file is compiled into the app."""
    if isinstance(v, float):
        return float(f"{v:.6g}")
    if isinstance(v, list):
        return [_rounded(x) for x in v]
    if isinstance(v, dict):
        return {k: _rounded(x) for k, x in v.items()}
    return v


if __name__ == "__main__":
    main()
