"""Per-beat features from a heart-cycle segmentation, studied beside the CNNs' cross-validation.

    heartbeat features DATA --out target/frames10.npz --config training/features-10ms.json
    PYTHONPATH=training python -m experiments.beat_study --frames target/frames10.npz \
        --runs target/cv400-s2016 target/cv800-s2016 --out target/beats --label "the shipped ensemble"

Every CNN the card lists ranks the recordings of training-a and training-f with an AUC of about
0.82 within the site, which caps their MAcc below 0.80 at any threshold. The heart-sound
literature classifies features of each heart cycle instead (Springer's segmentation, the 2016
winner): how loud systole and diastole are against S1 and S2 in each band, how long each phase
lasts. Ratios of levels in the same band cancel the stethoscope's colour, which the CNNs are
suspected of learning. This asks whether such features rank a's and f's recordings better, alone
or beside the CNNs, without changing the core: it reads the core's own frames.

Segmentation, per recording: the 10 ms log-mel frames (`features-10ms.json`: 32 bands 25–800 Hz,
a 32 ms STFT window, so a 100 ms S1 spans several frames) are paired to 20 ms; the loudness of the
bands below about 420 Hz, smoothed and robustly standardised, is the envelope. The heart cycle
and the systolic interval come from its autocorrelation (Schmidt et al. 2010); a four-state
explicit-duration HSMM (S1, systole, S2, diastole) with Springer et al.'s (2016) Gaussian duration
priors is decoded by Viterbi. Springer's emission model is trained on annotated S1/S2, which this
data does not have, so emissions are a logistic of the envelope: sounds loud, intervals quiet.

Per beat (S1 to the next S1), in 8 groups of 4 bands: systole and diastole against the mean of S1
and S2, systole against diastole, S2 against S1, each third of systole against diastole, early
against late diastole (all dB differences within a band), the five durations and two ratios, and
the envelope's spread in each interval. A recording is the median and interquartile range of its
beats, its RR variability and how well the HSMM fitted.

Rows (`cv_summary.json`-style, for `experiments.results add`), all on the runs' folds and
scored as `heartbeat_training.train` scores (threshold by the shipped rule, max pooled MAcc at sensitivity ≥ 0.90):
* `beats.json`: logistic regression on the beat features alone, weighted by subset × label as
  `heartbeat_training.train` samples;
* `cnn_beats.json`: the same with the runs' ensemble logit as one more input;
* `site_experts.json`, a diagnostic: a beat model per site for a and f, each trained on that site
  only and added to the ensemble logit where the recording comes from that site. It is told the
  site, which the app never knows: the most these features could add.

`--phase-dump SRC OUT` instead gives a CNN the segmentation itself: OUT is the 20 ms-hop dump SRC
with four more input rows, 10 where the HSMM puts S1, systole, S2 or diastole and 0 elsewhere
(`n_mels` grows by four, so the trainer names them as bands; record such runs through
`experiments.ensemble_study --label`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from experiments.ensemble_study import nearest_windows
from heartbeat_training.data import load_features
from heartbeat_training.ensemble import ensemble_scores
from heartbeat_training.metrics import (binary_metrics, mean_scored_macc, screening_threshold,
                                        subset_scores)
from heartbeat_training.sampling import sampling_weights

RATE = 50.0  # the envelope's frame rate (two 10 ms frames each)
# The lower 16 of the dump's 32 bands, 25 Hz to about 420 Hz (the mel scale is linear below
# 1 kHz): where S1 and S2 are loudest.
LOW_BANDS = 16
GROUPS = 8
# Per beat: five durations and two ratios, eight dB differences per band group, four envelope terms.
BEAT_FEATURES = 7 + 8 * GROUPS + 4
C = 0.03  # logistic regression's inverse L2 strength; the ranking barely moved from 0.003 to 0.1
EXPERT_SITES = ("training-a", "training-f")
# Springer et al. (2016): S1 and S2 durations (mean, sd) in seconds.
S1, S2 = (0.122, 0.022), (0.094, 0.022)


def envelope(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the robustly standardised loudness envelope [T], the log-mel frames [T, bands]) at 20 ms."""
    t = len(frames) // 2
    mel = 0.5 * (frames[0:2 * t:2] + frames[1:2 * t:2])
    env = np.log((10.0 ** (mel[:, :LOW_BANDS] / 10.0)).sum(axis=1) + 1e-12)
    env = np.convolve(env, np.array([1, 2, 3, 2, 1]) / 9.0, mode="same")
    med = np.median(env)
    return (env - med) / (1.4826 * np.median(np.abs(env - med)) + 1e-6), mel


def cycle_and_systole(env: np.ndarray) -> tuple[float, float]:
    """Seconds of one heart cycle (the autocorrelation's peak at 0.5–2 s) and of the S1-to-S2
    interval (its peak between 0.2 s and half the cycle)."""
    x = env - env.mean()
    ac = np.correlate(x, x, mode="full")[len(x) - 1:]
    lo, hi = int(0.5 * RATE), min(int(2.0 * RATE), len(x) - 1)
    cycle = lo + int(np.argmax(ac[lo:hi]))
    slo = int(0.2 * RATE)
    systole = slo + int(np.argmax(ac[slo:max(slo + 1, cycle // 2)]))
    return cycle / RATE, systole / RATE


def viterbi(logb: np.ndarray, logdur: np.ndarray, dmin: np.ndarray) -> tuple[np.ndarray, float]:
    """The most likely state sequence of a cyclic explicit-duration HSMM (state j follows j - 1)
    and its log-likelihood per frame. `logb` [T, 4] are emission log-probabilities, `logdur`
    [4, D + 1] duration log-priors (−inf beyond a state's longest duration). The first and last
    segments may be cut by the recording's ends, so they carry no duration prior."""
    n, states = logb.shape
    dmax = logdur.shape[1] - 1
    cum = np.vstack([np.zeros((1, states)), np.cumsum(logb, axis=0)])
    delta = np.full((n + 1, states), -np.inf)
    best_d = np.zeros((n + 1, states), dtype=np.int64)
    prev = (np.arange(states) - 1) % states
    d = np.arange(1, dmax + 1)
    allowed = d[None, :] >= dmin[:, None]
    for t in range(1, n + 1):
        dd = d[:min(t, dmax)]
        s = t - dd  # segment starts
        prior = logdur[:, dd]
        enter = delta[s][:, prev].T + np.where(allowed[:, :len(dd)], prior, -np.inf)
        score = np.where(s[None, :] == 0, np.where(np.isfinite(prior), 0.0, -np.inf), enter)
        score = score + (cum[t][:, None] - cum[s].T)
        k = np.argmax(score, axis=1)
        delta[t] = score[np.arange(states), k]
        best_d[t] = dd[k]
    # The last segment: any duration up to the longest, no prior.
    end = np.full((states, dmax), -np.inf)
    for j in range(states):
        for i, length in enumerate(d[:min(n, dmax)]):
            s = n - length
            if np.isfinite(logdur[j, length]):
                end[j, i] = (0.0 if s == 0 else delta[s, prev[j]]) + cum[n, j] - cum[s, j]
    j, i = np.unravel_index(np.argmax(end), end.shape)
    loglik = float(end[j, i]) / n
    path = np.empty(n, dtype=np.int64)
    t, length = n, int(d[i])
    while t > 0:
        path[t - length:t] = j
        t -= length
        if t > 0:
            j = prev[j]
            length = int(best_d[t, j])
    return path, loglik


def segment(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float, float]:
    """(states at 20 ms: 0 S1, 1 systole, 2 S2, 3 diastole; envelope; 20 ms frames; cycle and
    systolic interval in seconds; log-likelihood per frame) of one recording's 10 ms frames."""
    env, mel = envelope(frames)
    cycle, systole = cycle_and_systole(env)
    loud = -np.log1p(np.exp(-1.5 * (env - 0.5)))
    quiet = -np.log1p(np.exp(1.5 * (env - 0.5)))
    logb = np.stack([loud, quiet, loud, quiet], axis=1)
    sys_mean = max(systole - S1[0], 0.1)
    dia_mean = max(cycle - systole - S2[0], 0.1)
    means = np.array([S1[0], sys_mean, S2[0], dia_mean]) * RATE
    sds = np.array([S1[1], 0.025, S2[1], 0.07 * dia_mean + 0.006]) * RATE
    dmax = (means + 3 * sds).astype(int) + 1
    dmin = np.maximum(1, (means - 3 * sds).astype(int))
    d = np.arange(int(dmax.max()) + 1)
    logdur = -0.5 * ((d[None, :] - means[:, None]) / sds[:, None]) ** 2 - np.log(sds[:, None])
    logdur[d[None, :] > dmax[:, None]] = -np.inf
    path, loglik = viterbi(logb, logdur, dmin)
    return path, env, mel, cycle, systole, loglik


def beat_rows(path: np.ndarray, env: np.ndarray, mel: np.ndarray) -> np.ndarray:
    """One feature row per complete beat, S1 onset to the next S1 onset ([beats, BEAT_FEATURES])."""
    onsets = np.flatnonzero((path[1:] == 0) & (path[:-1] == 3)) + 1
    width = mel.shape[1] // GROUPS
    groups = mel[:, :GROUPS * width].reshape(len(mel), GROUPS, width).mean(axis=2)
    rows = []
    for b0, b1 in zip(onsets[:-1], onsets[1:]):
        st, g, e = path[b0:b1], groups[b0:b1], env[b0:b1]
        idx = [np.flatnonzero(st == j) for j in range(4)]
        if any(len(ix) == 0 for ix in idx):
            continue
        level = [g[ix].mean(axis=0) for ix in idx]
        sounds = 0.5 * (level[0] + level[2])
        thirds = [g[ix].mean(axis=0) if len(ix) else level[1] for ix in np.array_split(idx[1], 3)]
        dia = [g[ix].mean(axis=0) if len(ix) else level[3] for ix in np.array_split(idx[3], 3)]
        rows.append(np.concatenate([
            [(b1 - b0) / RATE] + [len(ix) / RATE for ix in idx]
            + [len(idx[1]) / (b1 - b0), len(idx[3]) / len(idx[1])],
            level[1] - sounds, level[3] - sounds, level[1] - level[3], level[2] - level[0],
            thirds[0] - level[3], thirds[1] - level[3], thirds[2] - level[3], dia[0] - dia[2],
            [e[idx[1]].max() - e[idx[0]].max(), e[idx[1]].std(), e[idx[3]].std(), e[idx[0]].max() - e[idx[2]].max()],
        ]))
    return np.asarray(rows)


def recording_features(frames: np.ndarray) -> np.ndarray:
    """The median and interquartile range of a recording's beats, its RR variability, the HSMM's
    fit, cycle and systolic interval; NaN where no complete beat was found."""
    path, env, mel, cycle, systole, loglik = segment(frames)
    beats = beat_rows(path, env, mel)
    if len(beats) == 0:
        return np.full(2 * BEAT_FEATURES + 4, np.nan)
    q25, q50, q75 = np.percentile(beats, [25, 50, 75], axis=0)
    rr_cv = beats[:, 0].std() / beats[:, 0].mean()
    return np.concatenate([q50, q75 - q25, [rr_cv, loglik, cycle, systole]])


def fit_predict(x: np.ndarray, y: np.ndarray, w: np.ndarray, train: np.ndarray, test: np.ndarray):
    """Decision values on `test` and on `train` of a standardised L2 logistic regression."""
    scale = StandardScaler().fit(x[train])
    lr = LogisticRegression(C=C, max_iter=5000).fit(scale.transform(x[train]), y[train], sample_weight=w[train])
    return lr.decision_function(scale.transform(x[test])), lr.decision_function(scale.transform(x[train]))


def out_of_fold(x: np.ndarray, y: np.ndarray, w: np.ndarray, fold: np.ndarray) -> np.ndarray:
    """Decision values of a pooled model weighted by `w`, each recording's from the folds that
    left it out."""
    out = np.zeros(len(y))
    for k in np.unique(fold):
        out[fold == k] = fit_predict(x, y, w, fold != k, fold == k)[0]
    return out


def site_experts(x: np.ndarray, y: np.ndarray, subs: np.ndarray, fold: np.ndarray) -> np.ndarray:
    """Out-of-fold decision values of one model per site of `EXPERT_SITES`, trained on that
    site's recordings only (labels weighted equally), standardised by its training scores so its
    site's prevalence does not move it; 0 elsewhere."""
    out = np.zeros(len(y))
    for k in np.unique(fold):
        for s in EXPERT_SITES:
            train, test = (fold != k) & (subs == s), (fold == k) & (subs == s)
            w = np.where(y == 1, 0.5 / y[train].mean(), 0.5 / (1 - y[train].mean()))
            z, z_train = fit_predict(x, y, w, train, test)
            out[test] = (z - z_train.mean()) / z_train.std()
    return out


def row(name: str, y: np.ndarray, subs: np.ndarray, score: np.ndarray, note: str) -> dict:
    """The card's row for out-of-fold logits `score`, at the shipped rule's threshold."""
    p = 1 / (1 + np.exp(-score))
    thr = screening_threshold(y, p, 0.90)
    per, pooled = subset_scores(y, p, subs, thr), binary_metrics(y, p, thr)
    return {
        "name": name, "mean_subset_macc": round(mean_scored_macc(per), 5),
        "pooled_macc": round(pooled["macc"], 5), "pooled_auc": round(pooled["auc"], 5),
        "threshold": round(thr, 5),
        "per_subset_macc": {s: round(m["macc"], 5) for s, m in per.items()},
        "per_subset_auc": {s: round(m["auc"], 5) for s, m in per.items()},
        "note": f"sensitivity {pooled['sensitivity']:.3f}; {note} (experiments/beat_study.py)",
    }


def phase_dump(frames, src: Path, out: Path) -> None:
    """Writes `src` (a 20 ms-hop dump of the same recordings as `frames`) with one row per HSMM
    state appended: 10 in the state's frames, else 0 (the log-mel rows span about −70 to 20)."""
    dump = load_features(src)
    if dump.config["hop_length"] * 1000 != 20 * dump.config["sample_rate"] or dump.records != frames.records:
        sys.exit(f"{src}: need the recordings of the frames' dump on a 20 ms hop")
    rows = np.zeros((len(dump.features), 4), dtype=np.float32)
    for i in range(dump.n):
        path = segment(frames.frames(i))[0]
        n = dump.offsets[i + 1] - dump.offsets[i]
        # Pairs of 10 ms frames centred 5 ms after the 20 ms frame; the last may be unpaired.
        path = np.concatenate([path, np.full(max(0, n - len(path)), path[-1])])[:n]
        rows[dump.offsets[i] + np.arange(n), path] = 10.0
    config = {**dump.config, "n_mels": dump.config["n_mels"] + 4}
    np.savez(out, features=np.concatenate([dump.features, rows], axis=1), offsets=dump.offsets,
             labels=dump.labels.astype(np.int8), records=np.array(dump.records), subsets=np.array(dump.subsets),
             config=np.array([json.dumps(config, separators=(",", ":"))]), refused=np.array(dump.refused))
    print(f"wrote {out}: {dump.n} recordings, {config['n_mels']} rows per frame")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=Path, required=True,
                    help="a `heartbeat features` dump on a 10 ms hop: 32 bands 25–800 Hz, 32 ms STFT window")
    ap.add_argument("--runs", type=Path, nargs="+",
                    help="heartbeat_training.train cross-validation folders (oof.npz) on one split: the CNN ensemble")
    ap.add_argument("--out", type=Path, help="folder for the rows' JSON files")
    ap.add_argument("--label", help="what the runs' ensemble is, for the rows' names")
    ap.add_argument("--phase-dump", type=Path, nargs=2, metavar=("SRC", "OUT"),
                    help="write the 20 ms-hop dump SRC with the segmentation's four rows to OUT, and stop")
    args = ap.parse_args(argv)
    if not args.phase_dump and not (args.runs and args.out and args.label):
        ap.error("give --runs, --out and --label, or --phase-dump")

    dump = load_features(args.frames)
    cfg = dump.config
    if cfg["hop_length"] * 1000 != 10 * cfg["sample_rate"] or cfg["n_mels"] != 4 * GROUPS or cfg.get("extra_views"):
        sys.exit(f"{args.frames}: need one view of {4 * GROUPS} bands on a 10 ms hop, got {cfg}")
    if args.phase_dump:
        phase_dump(dump, *args.phase_dump)
        return
    first, _, best = ensemble_scores(args.runs, nearest_windows)
    p, agg = best["p"], best["aggregation"]
    if list(first["records"]) != dump.records:
        sys.exit(f"{args.frames} and {args.runs[0]} hold different recordings")
    y, subs, fold = first["labels"], first["subsets"], first["fold"]

    x = np.asarray([recording_features(dump.frames(i)) for i in range(dump.n)])
    x = np.where(np.isfinite(x), x, np.nanmedian(x, axis=0))
    # As the trainer samples: each subset by the square root of its size, its labels equally
    # (scaled to mean 1, the scale the regularisation strength C was chosen at).
    w = sampling_weights(dump, np.arange(dump.n), "balanced", 0.5)
    w = w / w.mean()
    cnn = np.log(np.clip(p, 1e-6, 1 - 1e-6) / np.clip(1 - p, 1e-6, 1))
    what = ("per-beat features from a duration-HSMM segmentation of the core's 10 ms log-mel frames "
            "(median and spread of each beat's band levels per phase, as dB differences, and its intervals)")
    cnn_name = f"{args.label} (their window probabilities averaged, {json.dumps(agg)})"
    experts = site_experts(x, y, subs, fold)
    alone = ", ".join(f"{s} {roc_auc_score(y[subs == s], experts[subs == s]):.3f}" for s in EXPERT_SITES)
    rows = {
        "beats": row(f"{what}: logistic regression", y, subs, out_of_fold(x, y, w, fold),
                     "no CNN"),
        "cnn_beats": row(f"{cnn_name} + {what}: logistic regression on both", y, subs,
                         out_of_fold(np.c_[cnn, x], y, w, fold), "stacked on the CNNs' out-of-fold logit"),
        "site_experts": row(f"diagnostic: {cnn_name} + a model of the {what} per site for "
                            f"{', '.join(EXPERT_SITES)}, told the recording's site (the app is not)",
                            y, subs, cnn + experts, f"each expert's score standardised and added to the CNNs' "
                            f"logit; alone, the experts rank their sites with AUC {alone}"),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    for key, r in rows.items():
        (args.out / f"{key}.json").write_text(json.dumps(r, indent=1, ensure_ascii=False) + "\n")
        auc = r["per_subset_auc"]
        print(f"{key:13s} mean subset MAcc {r['mean_subset_macc']:.3f} pooled {r['pooled_macc']:.3f} "
              f"AUC {r['pooled_auc']:.3f} | within-site AUC a {auc['training-a']:.3f} f {auc['training-f']:.3f} | "
              f"MAcc a {r['per_subset_macc']['training-a']:.3f} f {r['per_subset_macc']['training-f']:.3f}")


if __name__ == "__main__":
    main()
