"""Features come from the Rust core only: `heartbeat features` writes the model-input frames of
every recording of a PhysioNet-layout folder to an npz (`data.load_features` reads it), so training
sees exactly what the browser and the CLI compute."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from .datasets import Recording, write_physionet_layout

REPO = Path(__file__).resolve().parents[2]
CLI = REPO / "target" / "release" / "heartbeat"


def build_cli() -> Path:
    """Builds the `heartbeat` CLI (release), which bundles the model in `models/`."""
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "heartbeat-cli"], cwd=REPO, check=True)
    return CLI


def dump(data: Path | list[Recording], out: Path, config: Path | None = None, cli: Path = CLI) -> Path:
    """`heartbeat features` of `data` (a folder in PhysioNet layout, or recordings read by
    `datasets`) to `out`, with the feature configuration `config` (default: the shipped model's)."""
    if not isinstance(data, (str, Path)):
        with tempfile.TemporaryDirectory() as tmp:
            return dump(write_physionet_layout(data, Path(tmp)), out, config, cli)
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(cli), "features", str(data), "--out", str(out)]
                   + (["--config", str(config)] if config else []), check=True)
    return out


def evaluate(data: Path | list[Recording], cli: Path = CLI) -> str:
    """`heartbeat evaluate` of `data` (as `dump` takes it) with the bundled model: its JSON."""
    if not isinstance(data, (str, Path)):
        with tempfile.TemporaryDirectory() as tmp:
            return evaluate(write_physionet_layout(data, Path(tmp)), cli)
    return subprocess.run([str(cli), "evaluate", str(data)], check=True, capture_output=True, text=True).stdout
