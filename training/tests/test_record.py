"""The record of every run (training/experiments/results.json): all of it kept, the card's
levers quoted from it, and RESULTS.md what the renderer makes of it."""

import json
from pathlib import Path

from experiments.results import TABLE, render
from heartbeat_training.card import levers
from heartbeat_training.record import load_record

RECORD = load_record()
CARD = json.loads((Path(__file__).resolve().parents[2] / "models" / "heartbeat.card.json").read_text())


def test_every_run_and_loss_row_is_kept():
    assert len(RECORD["tried"]) >= 116
    assert len(RECORD["history"]["rows"]) == 936
    for row in RECORD["tried"]:
        assert {"name", "mean_subset_macc", "pooled_macc", "pooled_auc", "produced"} <= row.keys(), row["name"]
        assert row["produced"].get("by"), row["name"]


def test_the_cards_levers_are_quoted_from_the_record():
    assert levers(RECORD["tried"]) == CARD["training"]["levers"]


def test_results_md_is_rendered_from_the_record():
    assert TABLE.read_text() == render(RECORD)
