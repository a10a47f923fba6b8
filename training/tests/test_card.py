"""The shipped card and its Markdown: MODEL_CARD.md is exactly what training's card writer makes
of heartbeat.card.json (so no number in it was edited by hand), and the card has the fields the
Rust side reads (crates/core/src/card.rs for the analysis, src/card.rs for the Model page)."""

import json
from pathlib import Path

from heartbeat_training.card import loss_curves, write_card_json, write_model_card_md

MODELS = Path(__file__).resolve().parents[2] / "models"
CARD = json.loads((MODELS / "heartbeat.card.json").read_text())


def test_model_card_md_is_regenerated_from_the_card(tmp_path):
    out = tmp_path / "MODEL_CARD.md"
    write_model_card_md(CARD, out)
    assert out.read_text() == (MODELS / "MODEL_CARD.md").read_text()


def test_the_card_json_is_written_as_committed(tmp_path):
    out = tmp_path / "card.json"
    write_card_json(CARD, out)
    assert out.read_text() == (MODELS / "heartbeat.card.json").read_text()


def test_the_card_has_what_the_app_reads():
    for key, kind in {"name": str, "version": str, "trained": bool, "threshold": float,
                      "features": dict, "aggregation": dict, "metrics": dict, "roc": list,
                      "confusion": dict, "loss_curves": list, "weaknesses": list, "parameters": int,
                      "macs_per_window": int, "onnx_bytes": int, "training": dict, "architecture": str}.items():
        assert isinstance(CARD[key], kind), key
    features = CARD["features"]
    for key in ("sample_rate", "n_fft", "hop_length", "n_mels", "window_frames", "window_hop_frames"):
        assert isinstance(features[key], int), key
    assert 0.0 < CARD["threshold"] < 1.0
    assert CARD["aggregation"]["kind"] in {"mean", "top_k_mean"}
    assert {"tp", "fn", "fp", "tn"} <= CARD["confusion"].keys()
    assert all({"fpr", "tpr"} <= point.keys() for point in CARD["roc"])
    for key in ("records", "split", "shipped", "threshold_rule", "levers"):
        assert key in CARD["training"], key
    assert "tried" not in CARD["training"] and "history" not in CARD, "the app ships no per-run records"
    assert all({"name", "points"} <= curve.keys() for curve in CARD["loss_curves"])


def test_an_ensembles_cnns_share_one_loss_curve_per_fold():
    history = [
        {"fold": 0, "epoch": 1, "train_loss": 0.6, "member": 0},
        {"fold": 0, "epoch": 2, "train_loss": 0.4, "member": 0},
        {"fold": 0, "epoch": 1, "train_loss": 0.8, "member": 1},
        {"fold": 0, "epoch": 2, "train_loss": 0.2, "member": 1},
        {"fold": "all", "epoch": 1, "train_loss": 0.5, "member": 0},
        {"fold": "all", "epoch": 1, "train_loss": 0.7, "member": 1},
        {"fold": 1, "epoch": 1, "train_loss": 0.3, "member": 0},
    ]
    assert loss_curves(history) == [
        {"name": "fold 0", "points": [[1, 0.7], [2, 0.3]]},
        {"name": "fold 1", "points": [[1, 0.3]]},
        {"name": "final model", "points": [[1, 0.6]]},
    ]
