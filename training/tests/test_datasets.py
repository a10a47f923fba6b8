"""The data sets' readers, and the PhysioNet layout they hand to the Rust CLI."""

import json
from pathlib import Path

import pytest
from heartbeat_training.datasets import circor, physionet, write_physionet_layout

REPO = Path(__file__).resolve().parents[2]
PHYSIONET = REPO.parent / "shared" / "data" / "physionet2016"


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


@pytest.fixture
def physionet_tree(tmp_path):
    for sub, rows in {"training-b": [("b0002", "-1")], "training-a": [("a0001", "1"), ("a0002", "-1"), ("a0003", "1")]}.items():
        for record, _ in rows:
            touch(tmp_path / sub / f"{record}.flac")
        (tmp_path / sub / "REFERENCE.csv").write_text("".join(f"{r},{label}\n" for r, label in rows))
    return tmp_path


def test_physionet_reads_every_subset_in_order(physionet_tree):
    got = physionet(physionet_tree)
    assert [(r.subset, r.record, r.abnormal) for r in got] == [
        ("training-a", "a0001", True), ("training-a", "a0002", False), ("training-a", "a0003", True),
        ("training-b", "b0002", False)]
    assert got[0].path == physionet_tree / "training-a" / "a0001.flac"


def test_physionet_every_nth_row_of_each_subset(physionet_tree):
    assert [r.record for r in physionet(physionet_tree, every=2)] == ["a0001", "a0003", "b0002"]


def test_a_folder_in_another_layout_is_refused(tmp_path):
    with pytest.raises(ValueError, match="PhysioNet layout"):
        physionet(tmp_path)


def test_circor_labels_recordings_by_their_patients_murmur(tmp_path):
    patients = {"85": ("Present", ["AV", "MV"]), "9": ("Absent", ["PV"]), "77": ("Unknown", ["TV"])}
    for patient, (murmur, locations) in patients.items():
        lines = [f"{patient} {len(locations)} 4000"]
        for loc in locations:
            lines.append(f"{loc} {patient}_{loc}.hea {patient}_{loc}.wav {patient}_{loc}.tsv")
            touch(tmp_path / f"{patient}_{loc}.flac")
        lines += ["#Age: Child", f"#Murmur: {murmur}", "#Campaign: CC2015"]
        (tmp_path / f"{patient}.txt").write_text("\n".join(lines) + "\n")
    got = circor(tmp_path)
    assert [(r.record, r.abnormal, r.patient) for r in got] == [
        ("9_PV", False, "9"), ("85_AV", True, "85"), ("85_MV", True, "85")]
    assert {r.subset for r in got} == {"circor"}


def test_the_layout_written_reads_back_the_same(physionet_tree, tmp_path):
    recordings = physionet(physionet_tree)
    out = write_physionet_layout(recordings, tmp_path / "laid-out")
    again = physionet(out)
    assert [(r.subset, r.record, r.abnormal) for r in again] == [(r.subset, r.record, r.abnormal) for r in recordings]
    assert all(r.path.resolve() == s.path.resolve() for r, s in zip(again, recordings, strict=True))


@pytest.mark.skipif(not PHYSIONET.is_dir(), reason="the shared data is not beside the repository")
def test_the_regression_slice_is_the_cards():
    card = json.loads((REPO / "models" / "heartbeat.card.json").read_text())
    assert [f"{r.subset}/{r.record}" for r in physionet(PHYSIONET, every=10)] == card["regression"]["records"]
