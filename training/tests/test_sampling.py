"""Training's sampling weights: every site and class is heard, in the intended proportions."""

from types import SimpleNamespace

import numpy as np
import pytest
from heartbeat_training.sampling import sampling_weights


@pytest.fixture
def dump():
    # Site a: 80 normal, 20 abnormal; site b: 5 normal, 15 abnormal; site c: 10 normal only.
    subsets = ["a"] * 100 + ["b"] * 20 + ["c"] * 10
    labels = np.array([0] * 80 + [1] * 20 + [0] * 5 + [1] * 15 + [0] * 10)
    return SimpleNamespace(subsets=subsets, labels=labels)


def share(w, d, recs, site, label=None):
    subs = np.asarray([d.subsets[i] for i in recs])
    m = subs == site
    if label is not None:
        m &= d.labels[recs] == label
    return w[m].sum()


def test_uniform_weighs_every_recording_alike(dump):
    recs = np.arange(130)
    w = sampling_weights(dump, recs, "uniform", 0.5)
    np.testing.assert_allclose(w, 1 / 130)


@pytest.mark.parametrize("power", [0.0, 0.5, 1.0])
def test_balanced_gives_sites_size_to_the_power_split_evenly_between_classes(dump, power):
    recs = np.arange(130)
    w = sampling_weights(dump, recs, "balanced", power)
    assert w.sum() == pytest.approx(1.0)
    sizes = {"a": 100, "b": 20, "c": 10}
    total = sum(n ** power for n in sizes.values())
    for site, n in sizes.items():
        assert share(w, dump, recs, site) == pytest.approx(n ** power / total)
    # Within a site, each class present gets half, spread evenly over its recordings.
    assert share(w, dump, recs, "a", 1) == pytest.approx(share(w, dump, recs, "a", 0))
    assert share(w, dump, recs, "c", 0) == pytest.approx(share(w, dump, recs, "c"))
    site_a_abnormal = w[80:100]
    np.testing.assert_allclose(site_a_abnormal, site_a_abnormal[0])


def test_weights_follow_the_records_asked_for(dump):
    recs = np.array([0, 1, 85, 129])
    w = sampling_weights(dump, recs, "balanced", 1.0)
    assert len(w) == 4 and w.sum() == pytest.approx(1.0)
