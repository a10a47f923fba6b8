"""The record of every cross-validated run (`training/experiments/results.json`): what the
card's "levers" quote by row (`card.slim_card`) and what `experiments/RESULTS.md` tabulates."""

from __future__ import annotations

import json
from pathlib import Path

RECORD = Path(__file__).resolve().parents[1] / "experiments" / "results.json"


def load_record(path: Path = RECORD) -> dict:
    """{"about", "tried": [one row per run, oldest first], "history": {...}} as committed."""
    return json.loads(path.read_text())
