"""Cross-validated training of one view's window CNNs, then the shipped CNNs on all data.

    python -m heartbeat_training.train --features target/features.npz --out target/run-features

(`retrain.sh` runs this once per feature view, then `heartbeat_training.ensemble` and
`heartbeat_training.export`.) Reads only the Rust core's feature dump, never recomputes features.
The recipe, every number of which is an option below with the shipped value as its default:

* record-wise 5-fold CV, stratified by subset × label (fixed seed);
* each epoch draws `--samples-per-epoch` random windows (random crop = random time shift within
  the recording); records are drawn so every subset has 50 % normal / 50 % abnormal and subsets
  weigh ∝ n_subset^`--subset-power`, so the model cannot score by recognising the site (sites
  have very different abnormal rates; training-e is two thirds of the data);
* each window gets one time and one mel mask, then mixup Beta(`--mixup`, `--mixup`) blends pairs;
* validation uses the exact windowing and aggregation of the Rust core;
* the epoch count and aggregation are chosen on the mean over subsets a, b, e, f of the
  out-of-fold MAcc; the threshold on the pooled out-of-fold probabilities (max MAcc subject to
  sensitivity ≥ `--min-sensitivity`);
* the shipped model is `--members` CNNs (the 1D CNN `HeartTCN`) from different seeds trained on
  all records for the chosen number of epochs, their window probabilities averaged, as in
  cross-validation (K CNNs per fold). Fold models are not shipped: five would cost 5× the MACs.

Writes OUT/final_model.pt, OUT/results.json (everything the card needs), OUT/cv_summary.json (the
run's row for experiments/results.json), OUT/oof.npz (out-of-fold probabilities of records and of
their windows, for the ensemble and the studies).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.model_selection import StratifiedKFold

from .card import normalization_text
from .data import aggregate, load_features, make_synthetic, window_starts
from .metrics import aggregation_grid, binary_metrics, mean_scored_macc, r5, shipped_report, subset_scores
from .model import TCN_CHANNELS, build_net, count_macs, count_parameters, net_config
from .sampling import sampling_weights

ARCH = "tcn"
# Member m of an ensemble trains with seed + fold + m * MEMBER_SEED_STRIDE (member 0: a single model's seeds).
MEMBER_SEED_STRIDE = 1000


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


class Data:
    """The dump plus fast window gathering."""

    def __init__(self, dump, keep: np.ndarray):
        self.d = dump
        self.idx = keep  # record indices used (long enough for one window)
        self.W, self.H = dump.window, dump.hop
        self.lengths = dump.lengths()
        self.feats = torch.from_numpy(dump.features)

    def gather(self, recs: np.ndarray, starts: np.ndarray) -> torch.Tensor:
        """The windows at `starts` of records `recs`, as [B, 1, n_mels, W]."""
        rows = (self.d.offsets[recs] + starts)[:, None] + np.arange(self.W)[None, :]
        x = self.feats[torch.from_numpy(rows.reshape(-1))].reshape(len(recs), self.W, -1)
        return x.transpose(1, 2).unsqueeze(1).contiguous()  # [B, 1, n_mels, W]

    def eval_index(self, recs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r, s, owner = [], [], []
        for j, i in enumerate(recs):
            st = window_starts(int(self.lengths[i]), self.W, self.H)
            r += [i] * len(st)
            s += st
            owner += [j] * len(st)
        return np.asarray(r), np.asarray(s), np.asarray(owner)


@torch.no_grad()
def predict_windows(net, data: Data, r: np.ndarray, s: np.ndarray, bs: int = 512) -> np.ndarray:
    net.eval()
    dev = next(net.parameters()).device
    out = []
    for k in range(0, len(r), bs):
        out.append(torch.sigmoid(net(data.gather(r[k:k + bs], s[k:k + bs]).to(dev))).cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """One frequency band mask (≤ 4 mel bands) and one time mask (≤ 20 frames) per window, filled
    with 0 dB."""
    B, _, M, W = x.shape
    f0 = torch.randint(0, M, (B,), generator=gen)
    fw = torch.randint(0, 5, (B,), generator=gen)
    t0 = torch.randint(0, W, (B,), generator=gen)
    tw = torch.randint(0, 21, (B,), generator=gen)
    mi = torch.arange(M)[None, :]
    ti = torch.arange(W)[None, :]
    fm = (mi >= f0[:, None]) & (mi < (f0 + fw)[:, None])
    tm = (ti >= t0[:, None]) & (ti < (t0 + tw)[:, None])
    mask = fm[:, None, :, None] | tm[:, None, None, :]
    return torch.where(mask, torch.zeros(B, 1, 1, 1), x)


def train_model(data: Data, train_recs: np.ndarray, args, seed: int, epochs_total: int, stop_at: int,
                on_epoch=None) -> torch.nn.Module:
    """One CNN trained on `train_recs` for `stop_at` epochs of a one-cycle schedule planned for
    `epochs_total` (the final models stop at the CV-chosen epoch of the same schedule). Every
    random draw comes from `seed`: the torch, numpy and generator streams, in a fixed order."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    net = build_net(ARCH, n_mels=data.d.n_mels, dropout=args.dropout).to(args.device)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = math.ceil(args.samples_per_epoch / args.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=epochs_total * steps_per_epoch,
                                                pct_start=0.15)
    w = sampling_weights(data.d, train_recs, "balanced", args.subset_power)
    train_seconds = 0.0
    for epoch in range(1, stop_at + 1):
        net.train()
        recs = rng.choice(train_recs, size=steps_per_epoch * args.batch_size, p=w)
        # A random crop of each drawn recording: a random shift in time.
        starts = (rng.random(len(recs)) * (data.lengths[recs] - data.W + 1)).astype(np.int64)
        labels = torch.from_numpy(data.d.labels[recs].astype(np.float32))
        tot = 0.0
        t_epoch = time.time()
        for b in range(steps_per_epoch):
            sl = slice(b * args.batch_size, (b + 1) * args.batch_size)
            x = augment(data.gather(recs[sl], starts[sl]), gen).to(args.device)
            y = labels[sl].to(args.device)
            if args.mixup:
                # Mixup: convex blends of two windows and their labels (one weight per batch).
                lam = float(rng.beta(args.mixup, args.mixup))
                perm = torch.randperm(len(y), generator=gen).to(args.device)
                x, y = lam * x + (1 - lam) * x[perm], lam * y + (1 - lam) * y[perm]
            loss = F.binary_cross_entropy_with_logits(net(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss.detach())
        train_seconds += time.time() - t_epoch
        if on_epoch is not None:
            on_epoch(epoch, net, tot / steps_per_epoch)
    # Training throughput without the validation passes, to size longer schedules.
    log(f"trained {stop_at * steps_per_epoch * args.batch_size} windows at "
        f"{stop_at * steps_per_epoch * args.batch_size / max(train_seconds, 1e-9):.0f} windows/s")
    return net.cpu().eval()


def variant_name(args, dump) -> str:
    """The run's row name in the results, from its options and the dump's features (the same
    words as every earlier row of experiments/results.json, so rows compare by name)."""
    cfg = dump.config
    sec = cfg["hop_length"] / cfg["sample_rate"]
    seeds = ", ".join(str(args.seed + MEMBER_SEED_STRIDE * m) for m in range(args.members))
    net = f"{args.members} × 1D CNN ({'-'.join(map(str, TCN_CHANNELS))})"
    if cfg.get("filter_bank", "mel") == "mel_bins":
        mel = (f"{cfg['n_mels']} log-power STFT bins at mel-spaced {cfg['fmin']:g}–{cfg['fmax']:g} Hz "
               f"({1000 * cfg['win_length'] / cfg['sample_rate']:g} ms Hann window, band-pass to "
               f"{cfg['band_high_hz']:g} Hz)")
    else:
        # 20 ms is the frame hop of every earlier row; the results keep their names as they were.
        hop_ms = 1000 * cfg["hop_length"] / cfg["sample_rate"]
        every = f" every {hop_ms:g} ms" if hop_ms != 20 else ""
        mel = (f"{cfg['n_mels']} log-mel bands {cfg['fmin']:g}–{cfg['fmax']:g} Hz "
               f"({1000 * cfg['win_length'] / cfg['sample_rate']:g} ms STFT window{every}, {cfg['n_fft']}-point FFT)")
    norm = cfg["normalization"]
    parts = [net + (f" from seeds {seeds}" if args.members > 1 else f", seed {seeds}"),
             f"{dump.window * sec:g} s windows every {dump.hop * sec:g} s",
             # The core refuses recordings shorter than a window, so a longer window is scored on fewer.
             f"{dump.n} recordings ({len(dump.refused)} too short or unreadable, refused by the core)",
             f"{mel} without band-mean normalisation" if norm == "none" else f"{mel}, {normalization_text(norm)}"]
    parts += [mixup_text(args)] if args.mixup else []
    parts += ["spec masks"]
    # What the sampler draws is part of the recipe: the shipped one is balanced, subsets ∝ n^0.5.
    parts += [f"subsets sampled ∝ n^{args.subset_power:g}"] if args.subset_power != 0.5 else []
    parts += [f"dropout {args.dropout:g}", f"weight decay {args.weight_decay:g}",
              f"{args.epochs} epochs x {args.samples_per_epoch} windows"]
    return ", ".join(parts)


def augmentation_summary(args) -> str:
    """The card's one-line account of what train_model() did to the training windows."""
    parts = ["random window crops", "one time mask (≤ 20 frames) and one mel mask (≤ 4 bands) filled with 0 dB"]
    if args.mixup:
        parts.append(mixup_text(args))
    return " + ".join(parts)


def mixup_text(args) -> str:
    return f"mixup Beta({args.mixup:g}, {args.mixup:g})"


def record_probs(wp: np.ndarray, owner: np.ndarray, n: int, agg: dict) -> np.ndarray:
    return np.asarray([aggregate(wp[owner == j], agg) for j in range(n)])


def cross_validate(data: Data, args, t0: float) -> tuple[dict, np.ndarray, list[dict]]:
    """Trains `args.members` CNNs per fold and scores each on its fold's windows at every
    evaluated epoch. Returns the out-of-fold window probabilities {epoch: [per kept record]},
    each kept record's fold, and the loss history."""
    dump, keep = data.d, data.idx
    subs_all = np.asarray(dump.subsets)
    strat = np.asarray([f"{dump.subsets[i]}|{dump.labels[i]}" for i in keep])
    skf = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=args.fold_seed)
    eval_epochs = sorted(set(list(range(args.eval_from, args.epochs + 1, args.eval_every)) + [args.epochs]))
    # oof[e]: window probabilities of every kept record at eval epoch e, per record position in `keep`
    oof = {e: [None] * len(keep) for e in eval_epochs}
    fold_of = np.zeros(len(keep), int)
    history = []
    for k, (tr, va) in enumerate(skf.split(np.zeros(len(keep)), strat)):
        fold_of[va] = k
        tr_recs, va_recs = keep[tr], keep[va]
        r, s, owner = data.eval_index(va_recs)
        wy = dump.labels[r].astype(np.float32)
        y_va, sub_va = dump.labels[va_recs], subs_all[va_recs]

        for member in range(args.members):

            def on_epoch(epoch, net, train_loss):
                h = {"fold": k, "epoch": epoch, "train_loss": round(train_loss, 5)}
                if args.members > 1:
                    h["member"] = member
                if epoch in eval_epochs:
                    wp = predict_windows(net, data, r, s)
                    # The ensemble's window probability is the mean of its members' (as exported).
                    for j, pos in enumerate(va):
                        share = wp[owner == j] / args.members
                        oof[epoch][pos] = share if member == 0 else oof[epoch][pos] + share
                    pe = np.clip(wp, 1e-7, 1 - 1e-7)
                    h["val_loss"] = round(float(-np.mean(wy * np.log(pe) + (1 - wy) * np.log(1 - pe))), 5)
                    p = record_probs(wp, owner, len(va_recs), {"kind": "mean"})
                    per = subset_scores(y_va, p, sub_va, 0.5)
                    h["val_macc"] = r5(mean_scored_macc(per))
                    h["val_pooled_macc"] = r5(binary_metrics(y_va, p, 0.5)["macc"])
                    h["val_pooled_auc"] = r5(binary_metrics(y_va, p, 0.5)["auc"])
                    log(f"fold {k} member {member} epoch {epoch}: train {train_loss:.4f} val {h['val_loss']:.4f} "
                        f"subset-MAcc@0.5 {h['val_macc']} pooled AUC {h['val_pooled_auc']}")
                history.append(h)

            train_model(data, tr_recs, args, seed=args.seed + k + MEMBER_SEED_STRIDE * member,
                        epochs_total=args.epochs, stop_at=args.epochs, on_epoch=on_epoch)
        log(f"fold {k} done, {time.time() - t0:.0f} s elapsed")
    return oof, fold_of, history


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m heartbeat_training.train", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", type=Path, default=Path("target/features.npz"),
                    help="the view's dump from `heartbeat features` (default: %(default)s)")
    ap.add_argument("--out", type=Path, default=Path("target/heartbeat-training"), help="run folder")
    ap.add_argument("--synthetic", action="store_true", help="write and use a small synthetic npz (development)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=2016, help="training seed (fold k uses seed + k)")
    ap.add_argument("--fold-seed", type=int, default=2016, help="seed of the CV split (keep it fixed to compare runs)")
    ap.add_argument("--epochs", type=int, default=40, help="the one-cycle schedule's length")
    ap.add_argument("--eval-every", type=int, default=4, help="epochs between evaluations in CV")
    ap.add_argument("--eval-from", type=int, default=16, help="first evaluated epoch")
    ap.add_argument("--samples-per-epoch", type=int, default=6144, help="windows drawn per epoch")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3, help="AdamW's peak learning rate (one-cycle)")
    ap.add_argument("--weight-decay", type=float, default=1e-2)
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--members", type=int, default=2,
                    help="CNNs per model, trained with different seeds; the model outputs their mean probability")
    ap.add_argument("--mixup", type=float, default=0.4, help="mixup Beta(alpha, alpha) (0: off)")
    ap.add_argument("--subset-power", type=float, default=0.5, help="subsets are drawn ∝ their size to this power")
    ap.add_argument("--min-sensitivity", type=float, default=0.90, help="the threshold rule's floor")
    ap.add_argument("--threads", type=int, default=2,
                    help="CPU threads (1 per run when two runs share two cores: oversubscribed threads slow both "
                         "several-fold; one thread also makes a run reproducible bit for bit)")
    ap.add_argument("--device", default="cpu",
                    help="torch device (cuda for quick trials: not bit-identical to CPU runs, and the shipped "
                         "model is trained on the CPU)")
    ap.add_argument("--no-final", action="store_true", help="cross-validate only (experiments)")
    ap.add_argument("--variant", default=None,
                    help="the run's row name (default: built from the options and the dump's features)")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.synthetic:
        args.features = args.out / "synthetic.npz"
        make_synthetic(args.features)
    t0 = time.time()
    dump = load_features(args.features)
    lengths = dump.lengths()
    keep = np.flatnonzero(lengths >= dump.window)
    data = Data(dump, keep)
    subs_all = np.asarray(dump.subsets)
    log(f"{dump.n} records, {len(keep)} with ≥ {dump.window} frames, {dump.features.shape[0]} frames")
    if args.variant is None:
        args.variant = variant_name(args, dump)

    counts = {}
    for s in sorted(set(dump.subsets)):
        m = subs_all[keep] == s
        counts[s] = {"normal": int((dump.labels[keep][m] == 0).sum()), "abnormal": int((dump.labels[keep][m] == 1).sum())}

    oof, fold_of, history = cross_validate(data, args, t0)

    # --- selection on out-of-fold predictions: epoch × aggregation, threshold for screening
    y_all, sub_all = dump.labels[keep], subs_all[keep]
    grid = [{"epoch": e, **g} for e in oof for g in aggregation_grid(oof[e], y_all, sub_all, args.min_sensitivity)]
    best = max(grid, key=lambda g: (round(g["mean_subset_macc"], 6), g["epoch"]))
    e_best, agg, thr, p_oof = best["epoch"], best["aggregation"], best["threshold"], best["p"]
    log(f"selected epoch {e_best}, aggregation {agg}, threshold {thr:.4f}, "
        f"mean subset MAcc {best['mean_subset_macc']:.4f}")
    for g in grid:
        if g["epoch"] == e_best:
            log(f"  aggregation {g['aggregation']}: mean subset MAcc {g['mean_subset_macc']:.4f} "
                f"pooled MAcc {g['pooled']['macc']:.4f} AUC {g['pooled']['auc']:.4f}")

    # --- metrics at the shipped threshold: per fold (mean ± std) and pooled out-of-fold
    report = shipped_report(y_all, sub_all, fold_of, p_oof, thr)
    oof_pooled, oof_sub = report["pooled"], report["per_subset"]
    summary_json = {
        "name": args.variant, "mean_subset_macc": r5(best["mean_subset_macc"]), "pooled_macc": r5(oof_pooled["macc"]),
        "pooled_auc": r5(oof_pooled["auc"]), "epoch": e_best, "aggregation": agg, "threshold": r5(thr),
        "per_subset_macc": {s: r5(o["macc"]) for s, o in oof_sub.items()},
        "per_subset_auc": {s: r5(o["auc"]) for s, o in oof_sub.items()},
        "note": f"arch={ARCH}, balanced sampling, spec_mask=1, epochs={args.epochs}, "
                f"samples/epoch={args.samples_per_epoch}",
        "aggregation_grid": [{"epoch": g["epoch"], "aggregation": g["aggregation"],
                              "mean_subset_macc": r5(g["mean_subset_macc"]), "pooled_auc": r5(g["pooled"]["auc"])}
                             for g in grid],
        "cv_seconds": round(time.time() - t0),
    }
    (args.out / "cv_summary.json").write_text(json.dumps(summary_json, indent=1) + "\n")
    # Window probabilities too (selected epoch), for the ensemble of views and for studies of
    # other ways of pooling windows, on the same predictions without retraining.
    w_owner = np.concatenate([np.full(len(w), j) for j, w in enumerate(oof[e_best])])
    w_start = np.concatenate([window_starts(int(lengths[i]), dump.window, dump.hop) for i in keep])
    np.savez(args.out / "oof.npz", records=np.asarray([dump.records[i] for i in keep]), subsets=sub_all,
             labels=y_all, fold=fold_of, p=p_oof, window_p=np.concatenate(oof[e_best]),
             window_owner=w_owner, window_start=w_start,
             frame_seconds=dump.config["hop_length"] / dump.config["sample_rate"])
    log(f"CV done in {time.time() - t0:.0f} s: pooled {oof_pooled}")
    if args.no_final:
        return

    # --- the shipped model: all records, the CV-chosen number of epochs (same schedule)
    final_hist, nets = [], []
    for member in range(args.members):
        def on_final_epoch(e, _net, loss, member=member):
            final_hist.append({"fold": "all", "epoch": e, "train_loss": round(loss, 5),
                               **({"member": member} if args.members > 1 else {})})

        nets.append(train_model(data, keep, args, seed=args.seed + 100 + MEMBER_SEED_STRIDE * member,
                                epochs_total=args.epochs, stop_at=e_best, on_epoch=on_final_epoch))
    torch.save({**net_config(nets[0]), "state_dicts": [n.state_dict() for n in nets]}, args.out / "final_model.pt")

    summary_json.pop("aggregation_grid")
    aggs_tried = [{"name": f"aggregation {json.dumps(g['aggregation'])} (epoch {e_best})",
                   "mean_subset_macc": r5(g["mean_subset_macc"]), "pooled_macc": r5(g["pooled"]["macc"]),
                   "pooled_auc": r5(g["pooled"]["auc"]), "note": "same CV predictions, threshold re-chosen"}
                  for g in grid if g["epoch"] == e_best]
    results = {
        "features": dump.config,
        "features_path": str(args.features.resolve()),
        "threshold": round(float(thr), 6),
        "aggregation": agg,
        "training": {
            "records": counts,
            "records_total": int(len(keep)),
            "records_refused": dump.refused + [f"{dump.records[i]}: shorter than one window"
                                               for i in np.setdiff1d(np.arange(dump.n), keep)],
            "split": f"{args.folds}-fold record-wise CV stratified by subset × label, seed {args.fold_seed}",
            "shipped": (f"{args.members} CNNs (seeds apart) trained on all records for the CV-chosen epoch count, "
                        f"their window probabilities averaged, as in cross-validation" if args.members > 1 else
                        "one CNN trained on all records for the CV-chosen epoch count"),
            "epochs": e_best,
            "schedule_epochs": args.epochs,
            "samples_per_epoch": args.samples_per_epoch,
            "batch_size": args.batch_size,
            "optimizer": f"AdamW lr {args.lr} (one-cycle), weight decay {args.weight_decay}, dropout {args.dropout}",
            "sampling": f"balanced: each subset 50 % normal / 50 % abnormal, subsets ∝ n^{args.subset_power}",
            "augmentation": augmentation_summary(args),
            "seed": args.seed,
            "selection": "epoch count and aggregation maximising the mean over a, b, e, f of out-of-fold MAcc",
            "threshold_rule": f"max pooled out-of-fold MAcc subject to sensitivity ≥ {args.min_sensitivity}",
            "tried": [summary_json] + aggs_tried,
            "wall_seconds": round(time.time() - t0),
        },
        "metrics": report["metrics"],
        "roc": report["roc"],
        "confusion": report["confusion"],
        "history": history + final_hist,
        "weaknesses": report["weaknesses"],
        "parameters_trained": sum(count_parameters(n) for n in nets),
        "macs": sum(count_macs(n, dump.n_mels, dump.window) for n in nets),
    }
    (args.out / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    log(f"wrote {args.out / 'final_model.pt'} and results.json in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
