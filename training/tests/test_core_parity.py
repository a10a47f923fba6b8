"""Python's windows, aggregation and metrics against the Rust core's, on the numbers the core
wrote into tests/fixtures/python/core.json (crates/core/tests/python_parity.rs keeps that file
equal to what the core computes). A model trained on windows or scored with metrics that differ
from the app's would be judged on something the app never does."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from heartbeat_training.data import aggregate, window_starts, windows_of
from heartbeat_training.metrics import binary_metrics

FIXTURE = json.loads((Path(__file__).resolve().parents[2] / "tests/fixtures/python/core.json").read_text())


@pytest.mark.parametrize("case", FIXTURE["windows"], ids=lambda c: f"{c['n_frames']}/{c['window']}/{c['hop']}")
def test_window_starts_are_the_cores(case):
    assert window_starts(case["n_frames"], case["window"], case["hop"]) == case["starts"]


def test_windows_of_cuts_the_frames_at_those_starts():
    frames = np.arange(1000 * 3, dtype=np.float32).reshape(1000, 3)
    windows = windows_of(frames, 300, 150)
    starts = window_starts(1000, 300, 150)
    assert windows.shape == (len(starts), 1, 3, 300)
    for w, s in zip(windows, starts, strict=True):
        np.testing.assert_array_equal(w[0], frames[s:s + 300].T)


@pytest.mark.parametrize("case", FIXTURE["aggregations"], ids=lambda c: f"{len(c['p'])}-{c['aggregation']}")
def test_aggregation_is_the_cores(case):
    # float32 throughout, as in the core; the sums' order may differ in the last bit.
    assert aggregate(np.asarray(case["p"]), case["aggregation"]) == pytest.approx(case["probability"], rel=1e-6)


@pytest.mark.parametrize("at", FIXTURE["metrics"]["at"], ids=lambda a: str(a["threshold"]))
def test_metrics_are_the_cores(at):
    y = np.asarray(FIXTURE["metrics"]["labels"])
    p = np.asarray(FIXTURE["metrics"]["probabilities"], dtype=np.float32)
    ours = binary_metrics(y, p, np.float32(at["threshold"]))
    core = at["metrics"]
    assert {k: ours[k] for k in ("tp", "fn", "fp", "tn")} == {
        "tp": core["confusion"]["tp"], "fn": core["confusion"]["fn_"],
        "fp": core["confusion"]["fp"], "tn": core["confusion"]["tn"]}
    for key in ("sensitivity", "specificity", "macc", "accuracy", "auc"):
        assert ours[key] == pytest.approx(core[key], abs=1e-12), key
    assert ours["auc"] == pytest.approx(FIXTURE["metrics"]["auc"], abs=1e-12)
    assert not math.isnan(ours["macc"])
