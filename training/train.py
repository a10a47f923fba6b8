"""Cross-validated training of the HeartBeat window CNN, then the shipped model on all data.

    python training/train.py --features target/features.npz --out target/heartbeat-training

Reads only the Rust core's feature dump (never recomputes features). Protocol:

* record-wise 5-fold CV, stratified by subset × label (fixed seed);
* each epoch draws `--samples-per-epoch` random windows (random crop = random time shift within
  the recording); records are drawn so every subset has 50 % normal / 50 % abnormal and subsets
  weigh ∝ n_subset^`--subset-power` (0.5 by default), so the model cannot score by recognising the
  site (sites have very different abnormal rates; training-e is two thirds of the data);
  `--sampling uniform` draws records uniformly instead (the naive baseline);
* validation uses the exact windowing and aggregation of the Rust core;
* the epoch count and aggregation are chosen on the mean over subsets a, b, e, f of the
  out-of-fold MAcc; the threshold on the pooled out-of-fold probabilities (max MAcc subject to
  sensitivity ≥ `--min-sensitivity`);
* the shipped model is trained on all records for the chosen number of epochs: one CNN, or with
  `--members K` K CNNs from different seeds whose window probabilities are averaged, evaluated in
  cross-validation exactly so (K CNNs per fold). Fold models are not shipped: five would cost 5×
  the MACs and the download.

Writes OUT/final_model.pt, OUT/results.json (everything the card needs), OUT/cv_summary.json,
OUT/oof.npz (out-of-fold probabilities of records and of their windows); then
`python training/export.py --run OUT` writes the model files.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))

from heartbeat_training.card import normalization_text  # noqa: E402
from heartbeat_training.data import aggregate, load_features, make_synthetic, window_starts  # noqa: E402
from heartbeat_training.sampling import sampling_weights  # noqa: E402
from heartbeat_training.metrics import (binary_metrics, mean_scored_macc, r5, screening_threshold,  # noqa: E402
                                        shipped_report, subset_scores)
from heartbeat_training.model import (ARCHS, CYCLE_CHANNELS, LearnedFilterBank, SignalTCN,  # noqa: E402
                                      build_net, count_macs, count_parameters, default_channels, net_config)

# Member m of an ensemble trains with seed + fold + m * MEMBER_SEED_STRIDE (member 0: a single model's seeds).
MEMBER_SEED_STRIDE = 1000
AGGREGATIONS = [{"kind": "mean"}, {"kind": "top_k_mean", "fraction": 0.5}, {"kind": "top_k_mean", "fraction": 0.25}]


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
        self.signal = None

    def use_signal(self, kernel: int) -> None:
        """Makes `gather` cut conditioned samples ([B, samples]) instead of frames, for a learned
        filter bank of `kernel` taps at the frames' hop: each recording is zero-padded by
        kernel / 2 on both sides, as the core's spectrogram treats samples outside the signal."""
        d, half = self.d, kernel // 2
        hop = d.config["hop_length"]
        lengths = np.diff(d.signal_offsets)
        self.sig_starts = d.signal_offsets[:-1] + (2 * half) * np.arange(d.n)  # padded record starts
        padded = np.zeros(d.signal.shape[0] + 2 * half * d.n, np.float32)
        for i in range(d.n):
            padded[self.sig_starts[i] + half:self.sig_starts[i] + half + lengths[i]] = d.signal[d.signal_offsets[i]:d.signal_offsets[i + 1]]
        self.signal = torch.from_numpy(padded)
        # frame t (centred on sample t · hop) to frame t + W − 1 need these many padded samples
        self.signal_width = self.W * hop + kernel - hop
        self.hop_samples = hop

    def gather(self, recs: np.ndarray, starts: np.ndarray, width: int | None = None) -> torch.Tensor:
        """Windows of `width` frames (default: the model's) at `starts`, as [B, 1, n_mels, width]."""
        if self.signal is not None:
            first = self.sig_starts[recs] + starts * self.hop_samples
            idx = first[:, None] + np.arange(self.signal_width)[None, :]
            return self.signal[torch.from_numpy(idx.reshape(-1))].reshape(len(recs), -1)
        width = width or self.W
        rows = (self.d.offsets[recs] + starts)[:, None] + np.arange(width)[None, :]
        x = self.feats[torch.from_numpy(rows.reshape(-1))].reshape(len(recs), width, -1)
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


def augment(x: torch.Tensor, args, gen: torch.Generator) -> torch.Tensor:
    B, _, M, W = x.shape
    if args.colour_aug:
        # A random stethoscope colour per window: gain, tilt and two smooth bumps across the mel
        # bands (each up to ±colour_aug dB), constant over time, as a different chest piece and
        # microphone would add to features without band-mean normalisation.
        c = (torch.rand(B, 4, generator=gen) * 2 - 1) * args.colour_aug
        u = torch.linspace(-1, 1, M)
        basis = torch.stack([torch.ones(M), u, torch.cos(math.pi * u), torch.cos(2 * math.pi * u)])
        x = x + (c @ basis)[:, None, :, None]
    if args.noise_aug:
        x = add_noise(x, args.noise_aug, args.frame_rate, gen)
    if args.spec_mask:
        # one frequency band mask (≤ 4 mel bands) and one time mask (≤ 20 frames) per window
        f0 = torch.randint(0, M, (B,), generator=gen)
        fw = torch.randint(0, 5, (B,), generator=gen)
        t0 = torch.randint(0, W, (B,), generator=gen)
        tw = torch.randint(0, 21, (B,), generator=gen)
        mi = torch.arange(M)[None, :]
        ti = torch.arange(W)[None, :]
        fm = (mi >= f0[:, None]) & (mi < (f0 + fw)[:, None])
        tm = (ti >= t0[:, None]) & (ti < (t0 + tw)[:, None])
        mask = fm[:, None, :, None] | tm[:, None, None, :]
        fill = x.mean(dim=(2, 3), keepdim=True) if args.mask_fill == "mean" else torch.zeros(B, 1, 1, 1)
        x = torch.where(mask, fill, x)
    return x


def add_noise(x: torch.Tensor, prob: float, frame_rate: float, gen: torch.Generator) -> torch.Tensor:
    """Adds, to a random `prob` of the windows, noise that is not locked to the heart cycle:
    a random spectral shape (level, tilt, one bump) under a random time course (breathing-like
    slow swell plus up to three bursts), with chi-square-like cell-to-cell fluctuation, summed
    in power with the window. Its level is drawn from 5 dB below to 15 dB above the window's
    median frame, so it fills the gaps between heart sounds as the noisy windows that raise
    training-a's false alarms do; the label is kept. The hypothesis: a murmur recurs at the same phase of every beat and such
    noise does not, so the network must learn the former to keep separating the classes."""
    B, _, M, W = x.shape
    on = torch.rand(B, generator=gen) < prob
    level = x.mean(dim=2).median(dim=-1).values.view(B, 1, 1, 1) + (torch.rand(B, 1, 1, 1, generator=gen) * 20 - 5)
    u = torch.linspace(-1, 1, M).view(1, 1, M, 1)
    tilt = (torch.rand(B, 1, 1, 1, generator=gen) * 2 - 1) * 10
    centre = torch.rand(B, 1, 1, 1, generator=gen) * 2 - 1
    bump = (torch.rand(B, 1, 1, 1, generator=gen) * 2 - 1) * 8 * torch.exp(-((u - centre) / 0.3) ** 2)
    t = torch.arange(W, dtype=torch.float32).view(1, 1, 1, W)
    rate = 0.2 + 0.4 * torch.rand(B, 1, 1, 1, generator=gen)  # swells per second
    phase = torch.rand(B, 1, 1, 1, generator=gen) * 2 * math.pi
    swell = 6 * torch.rand(B, 1, 1, 1, generator=gen) * torch.sin(2 * math.pi * rate * t / frame_rate + phase)
    bursts = torch.zeros(B, 1, 1, W)
    for _ in range(3):
        t0 = torch.rand(B, 1, 1, 1, generator=gen) * W
        width = (0.1 + 1.4 * torch.rand(B, 1, 1, 1, generator=gen)) * frame_rate
        gain = 10 * torch.rand(B, 1, 1, 1, generator=gen) * (torch.rand(B, 1, 1, 1, generator=gen) < 0.5)
        bursts = bursts + gain * ((t >= t0) & (t < t0 + width))
    cells = 10 * torch.log10(-torch.log(torch.rand(B, 1, M, W, generator=gen).clamp_min(1e-6)))
    n = level + tilt * u + bump + swell + bursts + cells
    noisy = 10 * torch.log10(10 ** (x / 10) + 10 ** (n / 10))
    return torch.where(on.view(B, 1, 1, 1), noisy, x)


class GradReverse(torch.autograd.Function):
    """Identity forward; the gradient times -weight backward."""

    @staticmethod
    def forward(ctx, x, weight):
        ctx.weight = weight
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return -ctx.weight * g, None


def site_rank_loss(logits: torch.Tensor, y: torch.Tensor, site: torch.Tensor) -> torch.Tensor:
    """Pairwise logistic loss over the batch's pairs from one site, each pair weighted by how much
    more abnormal its first window is (mixup makes labels soft): the within-site AUC's smooth
    surrogate. Balanced sampling already equalises the classes per site, but the cross-entropy
    also rewards separating site a's normals from site e's abnormals, which the per-site MAcc never
    asks for; this term spends the gradient on the ranking inside each site, where a and f fail."""
    w = (y[:, None] - y[None, :]).clamp_min(0) * (site[:, None] == site[None, :])
    if not bool(w.any()):
        return logits.sum() * 0
    return (w * F.softplus(logits[None, :] - logits[:, None])).sum() / w.sum()


def bag_loss(logits: torch.Tensor, y: torch.Tensor, args) -> torch.Tensor:
    """Multiple-instance loss over bags of `args.bag` consecutive rows of the batch (one
    recording's windows): cross-entropy of each bag's top-k mean window probability (k =
    ceil(bag_fraction * bag), as the core aggregates a recording) against its label, plus
    `args.window_loss` times the plain per-window loss. Training the way the core scores lets a
    murmur heard in some windows carry the recording without every window having to show it."""
    p = torch.sigmoid(logits).reshape(-1, args.bag)
    k = max(1, math.ceil(args.bag_fraction * args.bag))
    p_bag = p.topk(k, dim=1).values.mean(dim=1).clamp(1e-6, 1 - 1e-6)
    y_bag = y.reshape(-1, args.bag)[:, 0]
    loss = F.binary_cross_entropy(p_bag, y_bag)
    if args.window_loss:
        loss = loss + args.window_loss * F.binary_cross_entropy_with_logits(logits, y)
    return loss


def train_model(data: Data, train_recs: np.ndarray, args, seed: int, epochs_total: int, stop_at: int,
                on_epoch=None) -> torch.nn.Module:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    net = build_net(args.arch, args.channels, args.kernels, n_mels=data.d.n_mels, dropout=args.dropout,
                    dilations=args.dilations, cycle_bins=args.cycle_bins, max_pool=args.max_pool)
    if data.signal is not None:
        cfg = data.d.config
        front = LearnedFilterBank(data.d.n_mels, cfg["win_length"], cfg["hop_length"], cfg["sample_rate"],
                                  cfg["fmin"], cfg["band_high_hz"])
        probe = train_recs[:64]
        rows = data.d.offsets[probe][:, None] + np.arange(data.W)[None, :]
        front.calibrate(data.gather(probe, np.zeros(len(probe), np.int64)), data.feats[torch.from_numpy(rows)])
        net = SignalTCN(front, net)
    net.to(args.device)
    params = list(net.parameters())
    # Domain-adversarial training: a subset classifier on the window embedding whose gradient
    # reaches the CNN reversed, so the embedding is pushed to carry the heart, not the site.
    adversary = None
    site_of = {s: i for i, s in enumerate(sorted(set(data.d.subsets)))}
    sites = np.asarray([site_of[s] for s in data.d.subsets])
    if args.adversary:
        adversary = torch.nn.Linear(net.fc.in_features, len(site_of)).to(args.device)
        params += list(adversary.parameters())
    groups = [{"params": params}]
    if data.signal is not None:
        # Adam moves every weight by about lr per step whatever its size, and the bank's taps are
        # ~0.03: at the network's rate they would be redrawn within a few steps, so the bank
        # learns at --front-lr-scale of it, from its mel-like start, without weight decay (or,
        # at 0, stays the fixed bank it starts as: the control that tells learning from the band).
        front = set(map(id, net.front.parameters()))
        groups = [{"params": [p for p in params if id(p) not in front]}]
        if args.front_lr_scale > 0:
            groups.append({"params": list(net.front.parameters()), "lr": args.lr * args.front_lr_scale,
                           "weight_decay": 0.0})
        else:
            net.front.requires_grad_(False)
    opt = torch.optim.AdamW(groups, lr=args.lr, weight_decay=args.weight_decay)
    # An exponential moving average of the weights (and BatchNorm statistics) is what gets
    # evaluated and shipped when --ema is set: it smooths the epoch-to-epoch noise of SGD.
    ema = (torch.optim.swa_utils.AveragedModel(net, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(args.ema),
                                               use_buffers=True) if args.ema else None)
    steps_per_epoch = math.ceil(args.samples_per_epoch / args.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[g["lr"] for g in opt.param_groups], total_steps=epochs_total * steps_per_epoch,
                                                pct_start=0.15)
    w = sampling_weights(data.d, train_recs, args.sampling, args.subset_power)
    train_seconds = 0.0
    for epoch in range(1, stop_at + 1):
        net.train()
        # With --bag B, each batch holds batch_size / B recordings, B random windows of each: a bag
        # whose label is the recording's, scored as the core scores a recording (top-k mean).
        recs = np.repeat(rng.choice(train_recs, size=steps_per_epoch * args.batch_size // args.bag, p=w), args.bag)
        # Time stretch: each batch reads `width` frames and resamples them to the model's W, so the
        # model sees heart rates ±`time_stretch` around the recorded one.
        widths = np.full(steps_per_epoch, data.W)
        if args.time_stretch:
            widths = np.round(widths * (1 + args.time_stretch * (2 * rng.random(steps_per_epoch) - 1))).astype(int)
            widths = np.minimum(widths, [data.lengths[recs[b * args.batch_size:(b + 1) * args.batch_size]].min()
                                         for b in range(steps_per_epoch)])
        starts = (rng.random(len(recs)) * (data.lengths[recs] - np.repeat(widths, args.batch_size) + 1))
        starts = starts.astype(np.int64)
        labels = torch.from_numpy(data.d.labels[recs].astype(np.float32))
        tot = 0.0
        t_epoch = time.time()
        for b in range(steps_per_epoch):
            sl = slice(b * args.batch_size, (b + 1) * args.batch_size)
            x = data.gather(recs[sl], starts[sl], int(widths[b]))
            if data.signal is not None:
                x = net.front(x)  # the bank's frames, augmented below as log-mel frames are
            if x.shape[-1] != data.W:
                x = F.interpolate(x, size=(x.shape[2], data.W), mode="bilinear", align_corners=False)
            x = augment(x, args, gen).to(args.device)
            y = labels[sl].to(args.device)
            site = torch.from_numpy(sites[recs[sl]]).to(args.device)
            ranked_site = site  # the site each (blended) window is ranked within by --site-rank
            if args.mixup:
                # Mixup: convex blends of two windows and their labels (one weight per batch); with
                # bags, window j of one bag blends with window j of another.
                lam = float(rng.beta(args.mixup, args.mixup))
                perm = torch.randperm(len(y) // args.bag, generator=gen)
                perm = (perm[:, None] * args.bag + torch.arange(args.bag)[None, :]).reshape(-1).to(args.device)
                x, y = lam * x + (1 - lam) * x[perm], lam * y + (1 - lam) * y[perm]
                ranked_site = site if lam >= 0.5 else site[perm]  # the site of the blend's larger part
            if args.label_smoothing:
                y = y * (1 - args.label_smoothing) + 0.5 * args.label_smoothing
            if args.bag > 1:
                loss = bag_loss(net(x), y, args)
            elif data.signal is not None:
                loss = F.binary_cross_entropy_with_logits(net.tcn(x), y)
            elif adversary is None:
                logits = net(x)
                loss = F.binary_cross_entropy_with_logits(logits, y)
                if args.site_rank:
                    loss = loss + args.site_rank * site_rank_loss(logits, y, ranked_site)
            else:
                e = net.embed(x)
                ramp = 2 / (1 + math.exp(-10 * (epoch - 1) / stop_at)) - 1
                site_logits = adversary(GradReverse.apply(e, args.adversary * ramp))
                loss = (F.binary_cross_entropy_with_logits(net.head(e), y)
                        + F.cross_entropy(site_logits, site))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if ema is not None:
                ema.update_parameters(net)
            tot += float(loss.detach())
        train_seconds += time.time() - t_epoch
        if on_epoch is not None:
            on_epoch(epoch, net if ema is None else ema.module, tot / steps_per_epoch)
    # Training throughput without the validation passes, to size longer schedules.
    log(f"trained {stop_at * steps_per_epoch * args.batch_size} windows at "
        f"{stop_at * steps_per_epoch * args.batch_size / max(train_seconds, 1e-9):.0f} windows/s")
    return (net if ema is None else ema.module).cpu().eval()


def variant_name(args, dump) -> str:
    """The run's row name in the card's "tried" table, from its options and the dump's features."""
    sec = dump.config["hop_length"] / dump.config["sample_rate"]
    channels = "-".join(map(str, args.channels or default_channels(args.arch)))
    net = f"{args.members} × {'1D' if args.arch == 'tcn' else '2D'} CNN ({channels})"
    if args.dilations:
        net += f" with time dilations {'-'.join(map(str, args.dilations))}"
    if args.max_pool:
        net += " pooled by average and maximum over time"
    if args.learned_front_end:
        cfg = dump.config
        learning = (f"learned at {args.front_lr_scale:g} × the network's rate" if args.front_lr_scale > 0
                    else "kept fixed")
        net += (f" on a filter bank over the signal ({cfg['n_mels']} bands, {cfg['win_length']}-tap cosine/sine "
                f"pairs initialised at mel-spaced {cfg['fmin']:g}–{cfg['band_high_hz']:g} Hz, {learning}, over the core's "
                f"{cfg['band_low_hz']:g}–{cfg['band_high_hz']:g} Hz band-passed signal) instead of log-mel")
    if args.cycle_bins:
        net += f" + a circular CNN ({'-'.join(map(str, CYCLE_CHANNELS))}) over the window folded on its heart cycle ({args.cycle_bins} phase bins)"
    cfg = dump.config
    seeds = ", ".join(str(args.seed + MEMBER_SEED_STRIDE * m) for m in range(args.members))
    if cfg.get("filter_bank", "mel") == "mel_bins":
        mel = (f"{cfg['n_mels']} log-power STFT bins at mel-spaced {cfg['fmin']:g}–{cfg['fmax']:g} Hz "
               f"({1000 * cfg['win_length'] / cfg['sample_rate']:g} ms Hann window, band-pass to "
               f"{cfg['band_high_hz']:g} Hz)")
    else:
        # 20 ms is the frame hop of every earlier row; the card keeps their names as they were.
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
    parts += [noise_text(args)] if args.noise_aug else []
    parts += ["spec masks"] if args.spec_mask else []
    parts += [stretch_text(args)] if args.time_stretch else []
    parts += [colour_text(args)] if args.colour_aug else []
    parts += ["masks filled with the window's mean level"] if args.spec_mask and args.mask_fill == "mean" else []
    parts += [bag_text(args)] if args.bag > 1 else []
    parts += [site_rank_text(args)] if args.site_rank else []
    parts += [f"subset-adversarial embedding (reversed gradient, weight {args.adversary:g})"] if args.adversary else []
    parts += [f"EMA of the weights (decay {args.ema:g})"] if args.ema else []
    # What the sampler draws is part of the recipe: the shipped one is balanced, subsets ∝ n^0.5.
    parts += [f"{args.sampling} sampling"] if args.sampling != "balanced" else []
    parts += [f"subsets sampled ∝ n^{args.subset_power:g}"] if args.subset_power != 0.5 else []
    parts += [f"trained on {' + '.join(args.train_subsets)} only"] if args.train_subsets else []
    parts += [f"dropout {args.dropout:g}", f"weight decay {args.weight_decay:g}",
              f"{args.epochs} epochs x {args.samples_per_epoch} windows"]
    return ", ".join(parts)


def augmentation_summary(args) -> str:
    """The card's one-line account of what train_model() did to the training windows."""
    parts = ["random window crops"]
    if args.time_stretch:
        parts.append(stretch_text(args))
    if args.colour_aug:
        parts.append(colour_text(args))
    if args.noise_aug:
        parts.append(noise_text(args))
    if args.spec_mask:
        fill = "the window's mean level" if args.mask_fill == "mean" else "0 dB"
        parts.append(f"one time mask (≤ 20 frames) and one mel mask (≤ 4 bands) filled with {fill}")
    if args.mixup:
        parts.append(mixup_text(args))
    return " + ".join(parts)


def stretch_text(args) -> str:
    return f"time stretch ± {args.time_stretch:.0%}"


def colour_text(args) -> str:
    return f"random stethoscope colour ± {args.colour_aug:g} dB"


def bag_text(args) -> str:
    return (f"trained on bags of {args.bag} windows per recording scored by their top {args.bag_fraction:g} mean"
            + (f" (+ {args.window_loss:g} × window loss)" if args.window_loss else ""))


def site_rank_text(args) -> str:
    return f"+ {args.site_rank:g} × within-site pairwise ranking loss"


def noise_text(args) -> str:
    return f"added non-cardiac noise on {args.noise_aug:.0%} of windows"


def mixup_text(args) -> str:
    return f"mixup Beta({args.mixup:g}, {args.mixup:g})"


def record_probs(wp: np.ndarray, owner: np.ndarray, n: int, agg: dict) -> np.ndarray:
    return np.asarray([aggregate(wp[owner == j], agg) for j in range(n)])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", type=Path, default=Path("target/features.npz"))
    ap.add_argument("--out", type=Path, default=Path("target/heartbeat-training"))
    ap.add_argument("--synthetic", action="store_true", help="write and use a small synthetic npz (development)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=2016, help="training seed (fold k uses seed + k)")
    ap.add_argument("--fold-seed", type=int, default=2016, help="seed of the CV split (keep it fixed to compare runs)")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--eval-every", type=int, default=4)
    ap.add_argument("--eval-from", type=int, default=16, help="first evaluated epoch")
    ap.add_argument("--samples-per-epoch", type=int, default=6144)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-2)
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--members", type=int, default=2,
                    help="CNNs per model, trained with different seeds; the model outputs their mean probability")
    ap.add_argument("--time-stretch", type=float, default=0.0,
                    help="random time stretch per batch, ± this fraction (0: off)")
    ap.add_argument("--ema", type=float, default=0.0,
                    help="decay of an exponential moving average of the weights to evaluate and ship (0: off)")
    ap.add_argument("--colour-aug", type=float, default=0.0,
                    help="random per-window gain, tilt and spectral bumps, each up to ± this many dB (0: off)")
    ap.add_argument("--noise-aug", type=float, default=0.0,
                    help="fraction of training windows given added noise not locked to the heart cycle (0: off)")
    ap.add_argument("--mask-fill", choices=["zero", "mean"], default="zero",
                    help="value of masked cells: 0 dB, or the window's mean level")
    ap.add_argument("--adversary", type=float, default=0.0,
                    help="weight of the reversed gradient of a subset classifier on the embedding (0: off)")
    ap.add_argument("--mixup", type=float, default=0.4, help="mixup Beta(alpha, alpha) (0: off)")
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--site-rank", type=float, default=0.0,
                    help="weight of a within-site pairwise ranking loss added to the cross-entropy (0: off)")
    ap.add_argument("--bag", type=int, default=1,
                    help="multiple-instance training: windows per recording in a batch, scored as a bag (1: off)")
    ap.add_argument("--bag-fraction", type=float, default=0.25, help="a bag's score: mean of its top fraction")
    ap.add_argument("--window-loss", type=float, default=0.0,
                    help="with --bag: weight of the per-window loss added to the bag loss")
    ap.add_argument("--arch", choices=ARCHS, default="tcn",
                    help="cnn2d: the 2D CNN; tcn: a 1D CNN over time with mel bands as channels (~3x fewer MACs)")
    ap.add_argument("--channels", type=int, nargs="+", default=None, help="per conv block (default: the arch's)")
    ap.add_argument("--kernels", type=int, nargs="+", default=None,
                    help="tcn only: odd time kernel per block (default 5 5 5 5 3)")
    ap.add_argument("--dilations", type=int, nargs="+", default=None,
                    help="tcn only: time dilation per block (default all 1)")
    ap.add_argument("--cycle-bins", type=int, default=0,
                    help="tcn only: add a branch over each window folded on its heart cycle into this many "
                         "phase bins (0: off; cross-validation only)")
    ap.add_argument("--max-pool", action="store_true",
                    help="tcn only: pool each window by average and maximum over time, not the average alone "
                         "(cross-validation only)")
    ap.add_argument("--learned-front-end", action="store_true",
                    help="tcn only: feed the conditioned signal (a dump made with `heartbeat features --signal`) "
                         "through a learned filter bank instead of log-mel (cross-validation only)")
    ap.add_argument("--front-lr-scale", type=float, default=0.01,
                    help="with --learned-front-end: the filter bank's learning rate as a fraction of the "
                         "network's (0: the bank stays as initialised)")
    ap.add_argument("--train-subsets", nargs="+", default=None,
                    help="train only on these subsets (e.g. training-a), still validating on every fold's "
                         "records: does a site's own data reach further than the pooled model?")
    ap.add_argument("--sampling", choices=["balanced", "uniform"], default="balanced")
    ap.add_argument("--subset-power", type=float, default=0.5)
    ap.add_argument("--spec-mask", type=int, default=1, help="1: one time + one mel mask per window, 0: none")
    ap.add_argument("--min-sensitivity", type=float, default=0.90)
    ap.add_argument("--threads", type=int, default=2,
                    help="CPU threads (the shipped model's runs use the default; use 1 per run when two runs "
                         "share two cores: oversubscribed threads slow both several-fold)")
    ap.add_argument("--device", default="cpu",
                    help="torch device to train on (cuda when a GPU is at hand, for ablations: results are not "
                         "bit-identical to CPU runs, and the shipped model is trained on the CPU)")
    ap.add_argument("--no-final", action="store_true", help="cross-validate only (ablations)")
    ap.add_argument("--variant", default=None,
                    help="the run's name in the card (default: built from the options and the dump's features)")
    ap.add_argument("--tried", type=Path, nargs="*", default=[], help="cv_summary.json of ablation runs to list")
    args = ap.parse_args(argv)
    if args.batch_size % args.bag or (args.bag > 1 and args.adversary):
        ap.error("--bag must divide --batch-size, and does not combine with --adversary")
    if args.site_rank and (args.bag > 1 or args.adversary or args.learned_front_end):
        ap.error("--site-rank adds to the plain window loss: it does not combine with --bag, --adversary "
                 "or --learned-front-end")
    if args.cycle_bins and (args.arch != "tcn" or args.adversary or not args.no_final):
        ap.error("--cycle-bins is a cross-validation experiment of the tcn without --adversary: "
                 "use it with --arch tcn --no-final")
    if args.max_pool and (args.arch != "tcn" or args.cycle_bins or not args.no_final):
        ap.error("--max-pool is a cross-validation experiment of the tcn: use it with --arch tcn --no-final")
    if args.learned_front_end and (args.arch != "tcn" or args.cycle_bins or args.adversary or args.bag > 1
                                   or args.time_stretch or not args.no_final):
        ap.error("--learned-front-end is a cross-validation experiment of the plain tcn: use it with --arch tcn "
                 "--no-final, without --cycle-bins, --adversary, --bag or --time-stretch")
    if args.train_subsets and not args.no_final:
        # The filter is a cross-validation diagnostic; a shipped model trained on some sites only
        # would contradict the card's training-data summary.
        ap.error("--train-subsets is a diagnostic: use it with --no-final")
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.synthetic:
        args.features = args.out / "synthetic.npz"
        make_synthetic(args.features)
    t0 = time.time()
    dump = load_features(args.features)
    args.frame_rate = dump.config["sample_rate"] / dump.config["hop_length"]
    lengths = dump.lengths()
    keep = np.flatnonzero(lengths >= dump.window)
    data = Data(dump, keep)
    if args.learned_front_end:
        if dump.signal is None:
            ap.error(f"{args.features} holds no signal: dump it with `heartbeat features ... --signal`")
        data.use_signal(dump.config["win_length"])
    subs_all = np.asarray(dump.subsets)
    log(f"{dump.n} records, {len(keep)} with ≥ {dump.window} frames, {dump.features.shape[0]} frames")
    if args.variant is None:
        args.variant = variant_name(args, dump)

    counts = {}
    for s in sorted(set(dump.subsets)):
        m = subs_all[keep] == s
        counts[s] = {"normal": int((dump.labels[keep][m] == 0).sum()), "abnormal": int((dump.labels[keep][m] == 1).sum())}

    strat = np.asarray([f"{dump.subsets[i]}|{dump.labels[i]}" for i in keep])
    skf = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=args.fold_seed)
    first = args.eval_from if args.eval_from is not None else max(2 * args.epochs // 3, 1)
    eval_epochs = sorted(set(list(range(first, args.epochs + 1, args.eval_every)) + [args.epochs]))
    # oof[e]: window probabilities of every kept record at eval epoch e, per record position in `keep`
    oof = {e: [None] * len(keep) for e in eval_epochs}
    fold_of = np.zeros(len(keep), int)
    history = []
    for k, (tr, va) in enumerate(skf.split(np.zeros(len(keep)), strat)):
        fold_of[va] = k
        tr_recs, va_recs = keep[tr], keep[va]
        if args.train_subsets:
            tr_recs = tr_recs[np.isin(subs_all[tr_recs], args.train_subsets)]
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

    # --- selection on out-of-fold predictions: epoch × aggregation, threshold for screening
    y_all, sub_all = dump.labels[keep], subs_all[keep]
    grid = []
    for e in eval_epochs:
        for agg in AGGREGATIONS:
            p = np.asarray([aggregate(w, agg) for w in oof[e]])
            thr = screening_threshold(y_all, p, args.min_sensitivity)
            per = subset_scores(y_all, p, sub_all, thr)
            pooled = binary_metrics(y_all, p, thr)
            grid.append({"epoch": e, "aggregation": agg, "threshold": thr, "mean_subset_macc": mean_scored_macc(per),
                         "pooled_macc": pooled["macc"], "pooled_auc": pooled["auc"], "p": p})
    best = max(grid, key=lambda g: (round(g["mean_subset_macc"], 6), g["epoch"]))
    e_best, agg, thr, p_oof = best["epoch"], best["aggregation"], best["threshold"], best["p"]
    log(f"selected epoch {e_best}, aggregation {agg}, threshold {thr:.4f}, "
        f"mean subset MAcc {best['mean_subset_macc']:.4f}")
    for g in grid:
        if g["epoch"] == e_best:
            log(f"  aggregation {g['aggregation']}: mean subset MAcc {g['mean_subset_macc']:.4f} "
                f"pooled MAcc {g['pooled_macc']:.4f} AUC {g['pooled_auc']:.4f}")

    # --- metrics at the shipped threshold: per fold (mean ± std) and pooled out-of-fold
    report = shipped_report(y_all, sub_all, fold_of, p_oof, thr)
    oof_pooled, oof_sub = report["pooled"], report["per_subset"]
    summary_json = {
        "name": args.variant, "mean_subset_macc": r5(best["mean_subset_macc"]), "pooled_macc": r5(oof_pooled["macc"]),
        "pooled_auc": r5(oof_pooled["auc"]), "epoch": e_best, "aggregation": agg, "threshold": r5(thr),
        "per_subset_macc": {s: r5(o["macc"]) for s, o in oof_sub.items()},
        "per_subset_auc": {s: r5(o["auc"]) for s, o in oof_sub.items()},
        "note": f"arch={args.arch}, {args.sampling} sampling, spec_mask={args.spec_mask}, epochs={args.epochs}, "
                f"samples/epoch={args.samples_per_epoch}"
                + (f", bag={args.bag}, bag_fraction={args.bag_fraction:g}, window_loss={args.window_loss:g}"
                   if args.bag > 1 else "")
                + (f", dilations={'-'.join(map(str, args.dilations))}" if args.dilations else "")
                + (f", cycle_bins={args.cycle_bins}" if args.cycle_bins else "")
                + (f", train_subsets={'+'.join(args.train_subsets)}" if args.train_subsets else ""),
        "aggregation_grid": [{"epoch": g["epoch"], "aggregation": g["aggregation"],
                              "mean_subset_macc": r5(g["mean_subset_macc"]), "pooled_auc": r5(g["pooled_auc"])}
                             for g in grid],
        "cv_seconds": round(time.time() - t0),
    }
    (args.out / "cv_summary.json").write_text(json.dumps(summary_json, indent=1) + "\n")
    # Window probabilities too (selected epoch), so other ways of pooling windows can be studied
    # on the same predictions without retraining.
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

    tried = [summary_json] + [json.loads(Path(t).read_text()) for t in args.tried]
    for t in tried:
        t.pop("aggregation_grid", None)
    aggs_tried = [{"name": f"aggregation {json.dumps(g['aggregation'])} (epoch {e_best})",
                   "mean_subset_macc": r5(g["mean_subset_macc"]), "pooled_macc": r5(g["pooled_macc"]),
                   "pooled_auc": r5(g["pooled_auc"]), "note": "same CV predictions, threshold re-chosen"}
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
            "sampling": (f"{args.sampling}: each subset 50 % normal / 50 % abnormal, subsets ∝ n^{args.subset_power}"
                         if args.sampling == "balanced" else "uniform over records"),
            "augmentation": augmentation_summary(args),
            "seed": args.seed,
            "selection": "epoch count and aggregation maximising the mean over a, b, e, f of out-of-fold MAcc",
            "threshold_rule": f"max pooled out-of-fold MAcc subject to sensitivity ≥ {args.min_sensitivity}",
            "tried": tried + aggs_tried,
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
