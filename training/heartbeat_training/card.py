"""The model card: `models/heartbeat.card.json` (read by the Rust core and charted by the app)
and `models/MODEL_CARD.md` (for people), both generated, never hand-edited."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

# The Rust core's default FeatureConfig (crates/core/src/config.rs); used only by the untrained
# placeholder when no feature dump exists. Trained cards copy the npz's `config` verbatim.
DEFAULT_FEATURES = {
    "sample_rate": 2000, "band_low_hz": 25.0, "band_high_hz": 400.0, "n_fft": 256, "win_length": 128,
    "hop_length": 40, "n_mels": 32, "fmin": 25.0, "fmax": 400.0, "normalization": "band_mean",
    "window_frames": 200, "window_hop_frames": 100,
}


def write_card_json(card: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n")


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def _ms(m: dict | None, key: str) -> str:
    if not m or key not in m:
        return "–"
    v = m[key]
    if isinstance(v, dict):
        s = f"{100 * v['mean']:.1f}"
        if v.get("std") is not None:
            s += f" ± {100 * v['std']:.1f}"
        return s + " %"
    return _pct(v)


def bank_text(f: dict) -> str:
    """What the feature configuration `f`'s frames are, in a few words."""
    if f.get("filter_bank", "mel") == "mel_bins":
        return (f"log-power ({f['win_length'] * 1000 / f['sample_rate']:g} ms Hann-windowed spectrum at mel-spaced "
                f"frequencies {f['fmin']:g}–{f['fmax']:g} Hz)")
    return f"log-mel ({f['fmin']:g}–{f['fmax']:g} Hz)"


def feature_views(f: dict) -> list[dict]:
    """Each view of the feature configuration `f` as a configuration of its own (the core's
    `FeatureConfig::views`): the first view, then each of `extra_views` over its settings."""
    first = {k: v for k, v in f.items() if k != "extra_views"}
    return [first] + [{**first, "filter_bank": "mel", **v} for v in f.get("extra_views", [])]


def input_bands(f: dict) -> int:
    """Rows of one model input window: every view's bands, stacked (`FeatureConfig::input_bands`)."""
    return sum(int(v["n_mels"]) for v in feature_views(f))


def normalization_text(norm) -> str:
    """A feature config's `normalization` in words: the core writes "none", "band_mean" or
    {"pcen": {"time_constant_s": T}}."""
    if isinstance(norm, dict) and "pcen" in norm:
        return f"PCEN normalisation (per-channel energy, {norm['pcen']['time_constant_s']:g} s time constant)"
    return f"`{norm}` normalisation"


def input_text(f: dict) -> str:
    """The model's input rows in words: which bands of which view."""
    views = feature_views(f)
    if len(views) == 1:
        return f"{bank_text(f)} windows of {f['n_mels']} bands"
    parts, row = [], 0
    for v in views:
        parts.append(f"rows {row}–{row + v['n_mels'] - 1}: {v['n_mels']} bands {bank_text(v)} of the signal "
                     f"band-passed to {v['band_low_hz']:g}–{v['band_high_hz']:g} Hz")
        row += v["n_mels"]
    return f"windows of {len(views)} views stacked ({'; '.join(parts)})"


# The levers that mattered, each as (what changed, row before, row after): indices into the
# record of every run (training/experiments/results.json "tried", in the order the runs were
# made), so the card's summary quotes measured numbers, never typed ones.
LEVERS = (
    ("a 1D CNN over time, mel bands as channels, instead of a 2D CNN (model 1.0.0)", 45, 42),
    ("no band-mean normalisation of the log-mel bands (one CNN)", 32, 39),
    ("two CNNs from two seeds, window probabilities averaged (6 s windows)", 24, 47),
    ("stronger mixup, Beta(1, 1) instead of Beta(0.4, 0.4)", 12, 14),
    ("a subset-adversarial embedding, to unlearn the recording site (one CNN)", 40, 31),
    ("per-beat features from the heart-cycle segmentation instead of the CNN", 47, 111),
    ("a second view, 48 log-mel bands to 800 Hz, ensembled with the 400 Hz one", 1, 0),
    ("aggregation: mean of the top 25 % windows instead of the mean of all", 3, 5),
    ("diagnostic: the shipped recipe trained on training-a alone", 47, 20),
)


def loss_curves(history: list[dict]) -> list[dict]:
    """Training loss per fold and epoch, averaged over the CNNs that logged it (an ensemble's
    members and views): one curve per fold, the final model's (fold "all") last. What the Model
    page draws, so the page never ships or sums the per-CNN rows."""
    curves: dict[str, dict[int, list[float]]] = {}
    for row in history:
        name = "final model" if row["fold"] == "all" else f"fold {row['fold']}"
        curves.setdefault(name, {}).setdefault(int(row["epoch"]), []).append(float(row["train_loss"]))
    ordered = sorted(curves, key=lambda n: n == "final model")
    return [{"name": name, "points": [[epoch, round(sum(v) / len(v), 5)] for epoch, v in curves[name].items()]}
            for name in ordered]


def levers(tried: list[dict]) -> list[dict]:
    """The card's "what was tried": each lever in LEVERS with its pooled MAcc and AUC before and
    after, from the recorded runs."""
    def scores(row: dict) -> dict:
        return {"pooled_macc": row["pooled_macc"], "pooled_auc": row["pooled_auc"]}

    return [{"lever": text, "before": scores(tried[before]), "after": scores(tried[after])}
            for text, before, after in LEVERS]


def slim_card(card: dict, tried: list[dict]) -> dict:
    """The card as the app ships it: `history` (one row per CNN, fold and epoch) becomes the
    `loss_curves` the Model page draws, and `training.tried` (every run ever made, kept in
    training/experiments/results.json) becomes the short `training.levers`."""
    slim = {k: v for k, v in card.items() if k != "history"}
    slim["loss_curves"] = loss_curves(card["history"])
    slim["training"] = {k: v for k, v in card["training"].items() if k != "tried"}
    slim["training"]["levers"] = levers(tried)
    return slim


def write_model_card_md(card: dict, path: Path) -> None:
    f = card["features"]
    lines = [
        f"# Model card: {card['name']} {card['version']}",
        "",
        "_Generated by `training/export.py` from `models/heartbeat.card.json`; do not edit by hand._",
        "",
    ]
    if not card.get("trained"):
        lines += [
            "**This is the untrained placeholder** (random weights, fixed seed). Its outputs mean nothing;",
            "it exists so the Rust workspace builds before a model has been trained.",
            "Run `bash training/retrain.sh` to produce the real model.",
            "",
        ]
    lines += [
        "## Intended use",
        "",
        "A **screening aid**: it flags phonocardiogram (heart-sound) recordings that may be abnormal so that a",
        "clinician listens more closely or refers the patient. It is **not a diagnosis**, does not say which",
        "pathology is present, and a \"normal\" output does not rule disease out. The threshold is chosen for",
        "high sensitivity, so false alarms are expected and accepted.",
        "",
        "## Model",
        "",
        f"- Input `{card['input']['name']}`: float32 `{card['input']['shape']}` — {input_text(f)} × "
        f"{f['window_frames']} frames ({f['window_frames'] * f['hop_length'] / f['sample_rate']:.1f} s), "
        f"computed by the Rust core ({normalization_text(f['normalization'])}).",
        "- Output `p_abnormal`: probability of abnormal per window (sigmoid in the graph).",
        f"- Architecture: {card.get('architecture', 'small 2D CNN')}.",
        f"- Parameters: {card['parameters']:,}; MACs per window: {card['macs_per_window']:,}; "
        f"ONNX size: {card['onnx_bytes']:,} bytes (weights stored as {card.get('weight_storage', 'float16')}; "
        f"computed in float32).",
        *([f"- Rounding the weights for storage moved the recording probability by at most "
           f"{r['max_abs_probability_change']:.4f} (median {r['median_abs_probability_change']:.6f}) and changed "
           f"{r['decisions_changed']} of {r['recordings']} decisions, against the float32 CNNs that "
           f"cross-validation scored."] if (r := card.get("weight_rounding")) else []),
        f"- Recording decision: windows every {f['window_hop_frames']} frames (plus one aligned to the end), "
        f"aggregation `{json.dumps(card['aggregation'])}`, abnormal iff probability ≥ {card['threshold']:.4f}.",
        "",
        "## Data and attribution",
        "",
        "PhysioNet/CinC Challenge 2016 training set (https://physionet.org/content/challenge-2016/1.0.0/),",
        "ODC-BY 1.0. Liu C, Springer D, Li Q, et al. An open access database for the evaluation of heart sound",
        "algorithms. Physiol Meas. 2016;37(12):2181-2213. Goldberger A, et al. PhysioBank, PhysioToolkit, and",
        "PhysioNet. Circulation. 2000;101(23):e215-e220.",
        "",
        "The 2,753 distributed recordings of the 3,240 (about 15 % are held out by the maintainers as an",
        "independent test set not seen here). Labels: 1 = abnormal, -1 = normal.",
        "",
    ]
    tr = card.get("training")
    if tr:
        lines += ["## Training", ""]
        counts = tr.get("records")
        if counts:
            lines += ["| subset | normal | abnormal |", "| --- | --- | --- |"]
            for s, c in counts.items():
                lines.append(f"| {s} | {c.get('normal', 0)} | {c.get('abnormal', 0)} |")
            lines.append("")
        for r in tr.get("records_refused", []):
            lines.append(f"- not used (the core refuses it, as the app would): {r}")
        for k in ("split", "shipped", "epochs", "seed", "selection", "threshold_rule"):
            if k in tr:
                lines.append(f"- {k.replace('_', ' ')}: {tr[k]}")
        tried = tr.get("levers")
        if tried:
            lines += ["", "What mattered (5-fold CV, pooled MAcc and AUC before → after; every run is in "
                      "`training/experiments/RESULTS.md`):", "",
                      "| lever | pooled MAcc | pooled AUC |", "| --- | --- | --- |"]
            for t in tried:
                b, a = t["before"], t["after"]
                lines.append(f"| {t['lever']} | {_pct(b['pooled_macc'])} → {_pct(a['pooled_macc'])} | "
                             f"{_pct(b['pooled_auc'])} → {_pct(a['pooled_auc'])} |")
        lines.append("")
    m = card.get("metrics")
    if m:
        lines += [
            "## Cross-validated metrics",
            "",
            f"{m.get('description', '')}",
            "",
            "| scope | records | sensitivity | specificity | MAcc | AUC | accuracy |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        rows = [("pooled", m["pooled"])] + list(m.get("per_subset", {}).items())
        for name, r in rows:
            lines.append(
                f"| {name} | {r.get('n', '–')} | {_ms(r, 'sensitivity')} | {_ms(r, 'specificity')} | {_ms(r, 'macc')} | "
                f"{_ms(r, 'auc')} | {_ms(r, 'accuracy')} |"
            )
        lines += [
            "",
            "Values are mean ± std over the 5 validation folds (each fold's metrics computed on that fold's records "
            "at the shipped threshold); the `n` column counts all out-of-fold records.",
            f"Mean of per-subset MAcc over a, b, e, f: {_pct(m.get('mean_subset_macc'))}.",
            "",
        ]
        c = card.get("confusion")
        if c:
            lines += [
                f"Out-of-fold confusion at the threshold: TP {c['tp']}, FN {c['fn']}, FP {c['fp']}, TN {c['tn']}.",
                "",
            ]
    weak = card.get("weaknesses")
    lines += ["## Limitations", ""]
    if weak:
        lines += [f"- {w}" for w in weak]
    lines += [
        "- Trained on 6 PhysioNet 2016 sources (different stethoscopes, sites, populations); performance on other",
        "  devices, children vs adults, or noisy real-world recordings is unknown and probably lower.",
        "- Cross-validation estimates come from the same sources as training; the maintainers' held-out 15 % is",
        "  the honest test. Subsets c and d are too small (26 and 47 records) for reliable per-subset numbers.",
    ]
    if f.get("normalization") == "none":
        lines += [
            "- The features keep each recording's average spectrum (no band-mean normalisation: it scored better",
            "  in cross-validation), so a stethoscope or microphone with a frequency response unlike the six",
            "  training sources' may shift the model's outputs more than it would with band-mean normalisation.",
        ]
    lines += [
        "- Recordings shorter than one window are rejected; poor-quality recordings are not scored by this model",
        "  (the Rust core's quality checks gate them).",
        "- Binary normal/abnormal only; abnormal covers many pathologies with different prevalence per site.",
        "",
        f"Created {card['created']}.",
        "",
    ]
    path.write_text("\n".join(lines))


def today() -> str:
    return _dt.date.today().isoformat()
