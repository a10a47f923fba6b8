"""How training windows are drawn: each recording's sampling weight."""

from __future__ import annotations

import numpy as np


def sampling_weights(d, recs: np.ndarray, mode: str, power: float) -> np.ndarray:
    """Sampling probability of each recording in `recs` (indices into dump `d`), summing to 1.

    "uniform": every recording alike. Otherwise ("balanced"), each subset gets a share
    proportional to (its size) ** `power`, split evenly between the classes present in it, and
    evenly between that class's recordings: small sites and the minority class are not drowned
    out, while `power` < 1 still lets a large site count for more than a small one.
    """
    if mode == "uniform":
        w = np.ones(len(recs))
    else:
        subs = np.asarray([d.subsets[i] for i in recs])
        labs = d.labels[recs]
        w = np.zeros(len(recs))
        for s in np.unique(subs):
            n_s = (subs == s).sum()
            present = [label for label in (0, 1) if ((subs == s) & (labs == label)).any()]
            for label in present:
                m = (subs == s) & (labs == label)
                w[m] = n_s ** power / len(present) / m.sum()
    return w / w.sum()
