"""Labelled recordings from the data sets' own layouts, and the PhysioNet layout the Rust CLI
reads (`heartbeat features`, `heartbeat evaluate`): a data set in another layout is read here
into `Recording`s, then laid out as PhysioNet's (links and a REFERENCE.csv per subset) for the
core, which computes every feature.

* PhysioNet/CinC 2016 (`../shared/data/physionet2016`): `training-a` … `training-f`, each with
  `REFERENCE.csv` (`record,label`, 1 abnormal, -1 normal) and `RECORD.flac` (or `.wav`).
* CirCor DigiScope 2022 (`../shared/data/circor2022`): one `PATIENT.txt` per patient (its first
  line `PATIENT N_LOCATIONS RATE`, then one `LOCATION HEA WAV TSV` line per recording, then
  `#Key: value` lines, among them `#Murmur: Present | Absent | Unknown`) beside the recordings
  `PATIENT_LOCATION.flac`. A recording is labelled by its patient's murmur: Present abnormal,
  Absent normal, Unknown left out. Split it by patient (`Recording.patient`), never by recording.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

AUDIO = ("wav", "flac")


@dataclass(frozen=True)
class Recording:
    subset: str  # the site or data set, the core's `subset` (a folder in PhysioNet layout)
    record: str  # unique within the subset
    abnormal: bool
    path: Path
    patient: str  # recordings of one patient must stay on one side of a split


def _audio(folder: Path, record: str) -> Path:
    for ext in AUDIO:
        if (p := folder / f"{record}.{ext}").is_file():
            return p
    raise FileNotFoundError(f"{folder}: no {record}.wav or {record}.flac")


def physionet(root: Path, every: int = 1) -> list[Recording]:
    """Every `every`-th row of each subset's REFERENCE.csv (in file order), subsets sorted. Each
    recording is its own patient: PhysioNet 2016 does not say which recordings share one."""
    out = []
    for ref in sorted(Path(root).glob("*/REFERENCE.csv")):
        rows = [r for r in csv.reader(ref.open()) if r]
        for record, label in (r[:2] for r in rows[::every]):
            if label.strip() not in ("1", "-1"):
                raise ValueError(f"{ref}: label of {record} must be 1 or -1, found {label!r}")
            out.append(Recording(ref.parent.name, record, label.strip() == "1", _audio(ref.parent, record), record))
    if not out:
        raise ValueError(f"{root} is not in PhysioNet layout: no */REFERENCE.csv")
    return out


def circor(root: Path, subset: str = "circor") -> list[Recording]:
    """Every recording of every patient with a known murmur status, patients sorted by number."""
    out = []
    for txt in sorted(Path(root).glob("*.txt"), key=lambda p: (not p.stem.isdigit(), len(p.stem), p.stem)):
        lines = txt.read_text().splitlines()
        head = lines[0].split()
        if len(head) != 3 or head[0] != txt.stem:
            continue  # not a patient file
        fields = dict(line[1:].split(":", 1) for line in lines if line.startswith("#") and ":" in line)
        murmur = fields.get("Murmur", "").strip()
        if murmur not in ("Present", "Absent"):
            continue
        for line in lines[1:1 + int(head[1])]:
            wav = line.split()[2]
            record = wav.rsplit(".", 1)[0]
            out.append(Recording(subset, record, murmur == "Present", _audio(txt.parent, record), txt.stem))
    if not out:
        raise ValueError(f"{root} is not in CirCor layout: no patient file with a known murmur status")
    return out


def write_physionet_layout(recordings: list[Recording], folder: Path) -> Path:
    """Lays `recordings` out in PhysioNet layout under `folder` (links to the audio, one
    REFERENCE.csv per subset, in the given order), for `heartbeat features` and `evaluate`."""
    folder = Path(folder)
    for r in recordings:
        sub = folder / r.subset
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{r.record}{r.path.suffix}").symlink_to(r.path.resolve())
        with (sub / "REFERENCE.csv").open("a") as f:
            f.write(f"{r.record},{1 if r.abnormal else -1}\n")
    return folder
