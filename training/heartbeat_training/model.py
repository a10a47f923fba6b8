"""The window classifier over one [1, n_mels, window_frames] log-mel window. Two architectures:

* `cnn2d` (the default): a small 2D CNN. Four 3x3 conv blocks (conv, batch-norm, ReLU, 2x2
  max-pool on the first three), global average pooling, dropout, one linear unit and a sigmoid.
* `tcn`: a 1D CNN over time with the mel bands as input channels (`HeartTCN`), about a third of
  the 2D CNN's multiply-accumulates per window, so cheaper in the browser and faster to train on
  a CPU.

`CycleTCN` adds to the TCN a branch over the window folded on its own heart cycle, and
`SignalTCN` puts a filter bank learned on the waveform (`LearnedFilterBank`) in front of it, for
cross-validation experiments (`train.py --cycle-bins`, `--learned-front-end`); neither is exported.

Both keep the same module layout (`features`, `pool`, `flatten`, `dropout`, `fc`), so BatchNorm
folding and MAC counting serve both. BatchNorm is folded into the convolutions at export, so the
ONNX graph holds only Conv, Relu, MaxPool, GlobalAveragePool, Flatten, Gemm, Sigmoid and Reshape
(plus the Cast of each float16-stored weight, and Add/Div for an ensemble's mean):
opset 13, no control flow, loadable by tract-onnx.
"""

from __future__ import annotations

import math

import torch
from torch import nn

CHANNELS = (12, 24, 48, 64)
TCN_CHANNELS = (24, 32, 48, 64, 96)
TCN_KERNELS = (5, 5, 5, 5, 3)
CYCLE_CHANNELS = (32, 48)  # the circular CNN over a window folded on its heart cycle
ARCHS = ("cnn2d", "tcn")


class WindowNet(nn.Module):
    """Conv blocks (`features`, [N, C, H, W] out), then the head both architectures share: global
    average pooling, dropout and one linear unit, giving one abnormality logit per window ([N]).

    `max_pool` adds a global max pool beside the average (embedding [N, 2C]): the average
    dilutes a sound that only some beats of a window carry, the maximum keeps it."""

    def __init__(self, features: nn.Sequential, channels_out: int, dropout: float, max_pool: bool = False):
        super().__init__()
        self.features = features
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.max_pool = nn.AdaptiveMaxPool2d(1) if max_pool else None
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels_out * (2 if max_pool else 1), 1)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The pooled window embedding ([N, channels_out] or [N, 2 channels_out]) the head classifies."""
        h = self.features(x)
        if self.max_pool is None:
            return self.flatten(self.pool(h))
        return torch.cat([self.flatten(self.pool(h)), self.flatten(self.max_pool(h))], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))

    def head(self, e: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(e)).reshape(-1)


class HeartCNN(WindowNet):
    """Maps [N, 1, n_mels, frames] to one abnormality logit per window ([N])."""

    def __init__(self, channels: tuple[int, ...] = CHANNELS, dropout: float = 0.3):
        layers: list[nn.Module] = []
        c_in = 1
        for i, c in enumerate(channels):
            layers += [nn.Conv2d(c_in, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
            if i < len(channels) - 1:
                layers.append(nn.MaxPool2d(2))
            c_in = c
        super().__init__(nn.Sequential(*layers), c_in, dropout)


class HeartTCN(WindowNet):
    """Maps [N, 1, n_mels, frames] to one abnormality logit per window ([N]).

    A 1D CNN over time written with 2D ops, because the input the core feeds is [N, 1, n_mels,
    frames] and the Rust loader has no 1D-specific operators: the first conv's kernel covers all
    `n_mels` bands × k frames (no mel padding), giving [N, C, 1, frames]; every later conv is
    1 × k with time padding k // 2, each block but the last followed by a 1 × 2 max-pool.
    Collapsing the mel axis in the first layer is what makes it cheap: the 2D CNN runs its first
    blocks at full mel resolution. With the defaults: ~2.1 M MACs per window (2D CNN 11.75 M),
    ~50 k parameters, a receptive field of ~110 frames (2.2 s, two to three heart cycles).

    `dilations` (one per block, default all 1) widen the receptive field at no cost in MACs or
    parameters: with (1, 2, 2, 4, 4) it spans ~320 frames, the whole 6 s window, so one unit can
    compare several beats (a rhythm or a click that recurs every cycle) rather than two or three.
    """

    def __init__(self, channels: tuple[int, ...] = TCN_CHANNELS, kernels: tuple[int, ...] = TCN_KERNELS,
                 n_mels: int = 32, dropout: float = 0.3, dilations: tuple[int, ...] | None = None,
                 max_pool: bool = False):
        if len(kernels) != len(channels) or any(k % 2 == 0 for k in kernels):
            raise ValueError(f"need one odd kernel per block, got kernels {kernels} for channels {channels}")
        dilations = tuple(dilations) if dilations else (1,) * len(channels)
        if len(dilations) != len(channels) or min(dilations) < 1:
            raise ValueError(f"need one dilation ≥ 1 per block, got {dilations} for channels {channels}")
        layers: list[nn.Module] = []
        c_in = 1
        for i, (c, k, d) in enumerate(zip(channels, kernels, dilations)):
            height = n_mels if i == 0 else 1
            layers += [nn.Conv2d(c_in, c, (height, k), padding=(0, d * (k // 2)), dilation=(1, d), bias=False),
                       nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
            if i < len(channels) - 1:
                layers.append(nn.MaxPool2d((1, 2)))
            c_in = c
        super().__init__(nn.Sequential(*layers), c_in, dropout, max_pool)


class CycleFold(nn.Module):
    """Folds a log-mel window over its own heart cycle: [N, 1, n_mels, frames] → [N, 2, n_mels,
    bins], the mean and the standard deviation of the frames that fall in each of `bins` equal
    phase bins of the cycle.

    The cycle is found as the core's `rhythm::estimate` finds it (the highest local peak of the
    amplitude envelope's autocorrelation between 0.35 s and 2 s, refined by a parabola), here on
    the envelope the log-mel frames give at 50 frames per second. Averaging several beats keeps
    what recurs at the same phase (heart sounds, a murmur between them) and dilutes what does not
    (rubbing, speech, a cough); the spread says which is which. The phase origin is arbitrary:
    the branch that reads the fold is circular and ends in a global pool, so it needs no S1.
    """

    def __init__(self, bins: int, frame_rate: float = 50.0):
        super().__init__()
        self.bins = bins
        self.lo, self.hi = round(0.35 * frame_rate), round(2.0 * frame_rate)

    def cycle_frames(self, x: torch.Tensor) -> torch.Tensor:
        """The cycle length in frames (fractional) of each window, [N]. Written with ops that
        export to ONNX (one Gather for all lags, no loop), so the fold can live in the model."""
        env = torch.sqrt(torch.exp(x[:, 0] * (math.log(10.0) / 10.0)).mean(dim=1))  # [N, W] amplitude
        env = env - env.mean(dim=1, keepdim=True)
        energy = (env * env).sum(dim=1).clamp_min(1e-12)
        w = env.shape[1]
        lags = torch.arange(self.lo - 1, min(self.hi + 2, w - 1))
        # shifted[n, l, t] = env[n, t + lag_l], zero past the end: acf[l] = Σ_t env[t]·env[t + lag_l]
        padded = torch.cat([env, torch.zeros(env.shape[0], int(lags[-1]), dtype=env.dtype)], dim=1)
        idx = (lags[:, None] + torch.arange(w)[None, :]).reshape(-1)
        shifted = padded[:, idx].reshape(env.shape[0], len(lags), w)
        acf = (shifted * env[:, None, :]).sum(dim=2) / energy[:, None]
        mid = acf[:, 1:-1]
        is_peak = (mid >= acf[:, :-2]) & (mid >= acf[:, 2:])
        j = torch.where(is_peak, mid, torch.full_like(mid, -2.0)).argmax(dim=1, keepdim=True)  # none: shortest
        y0, y1, y2 = (acf.gather(1, j + d)[:, 0] for d in range(3))
        denom = y0 - 2 * y1 + y2
        safe = torch.where(denom.abs() > 1e-7, denom, torch.ones_like(denom))
        shift = torch.where(denom.abs() > 1e-7, 0.5 * (y0 - y2) / safe, torch.zeros_like(denom))
        return (j[:, 0] + int(lags[1])).to(x.dtype) + shift.clamp(-0.5, 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            period = self.cycle_frames(x)
            u = torch.arange(x.shape[-1], dtype=x.dtype)[None, :] / period[:, None]
            b = torch.floor((u - torch.floor(u)) * self.bins).clamp(max=self.bins - 1)  # [N, W] phase bin
            onehot = (b[:, :, None] == torch.arange(self.bins, dtype=x.dtype)[None, None, :]).to(x.dtype)
            count = onehot.sum(dim=1).clamp_min(1.0)[:, None, :]  # [N, 1, bins]
        m = x[:, 0]  # [N, M, W]
        mean = torch.bmm(m, onehot) / count
        var = (torch.bmm(m * m, onehot) / count - mean * mean).clamp_min(0.0)
        return torch.stack([mean, torch.sqrt(var + 1e-6)], dim=1)


class CycleTCN(nn.Module):
    """`HeartTCN` plus a second branch over the window folded on its heart cycle (`CycleFold`):
    a circular 1D CNN over the phase bins with the mel bands (mean and spread) as channels,
    globally pooled, its embedding concatenated with the TCN's before the one linear unit.
    Cross-validation only (`train.py --cycle-bins`): the fold is plain tensor ops and exports to
    ONNX, but the branch did not beat the TCN alone (the card's rows), so `export.py` never builds
    it and BatchNorm folding does not reach it."""

    def __init__(self, tcn: HeartTCN, bins: int, n_mels: int, channels: tuple[int, ...] = CYCLE_CHANNELS):
        super().__init__()
        self.tcn = tcn
        self.fold = CycleFold(bins)
        layers: list[nn.Module] = []
        c_in = 2
        for i, c in enumerate(channels):
            layers += [nn.Conv2d(c_in, c, (n_mels if i == 0 else 1, 3), padding=(0, 1), padding_mode="circular",
                                 bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
            c_in = c
        self.cycle = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.dropout = tcn.dropout
        self.fc = nn.Linear(tcn.fc.in_features + c_in, 1)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.tcn.embed(x), self.cycle(self.fold(x))], dim=1)

    def head(self, e: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(e)).reshape(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))


class LearnedFilterBank(nn.Module):
    """A filter bank learned on the conditioned waveform in place of the fixed mel one: [N,
    samples] → [N, 1, bands, frames], on the log-mel's frame grid (frame t centred on sample t ·
    hop) and dB scale, so the TCN behind it is unchanged.

    Each band is a pair of FIR filters (`kernel` taps, strided by `hop`) whose summed squared
    outputs are the band's power: initialised as a Hann-windowed cosine and sine at mel-spaced
    centre frequencies, the pair is the magnitude of the analytic signal, an STFT bin that needs
    no FFT; training may then reshape each band (width, skew, several lobes) and use the signal
    above the mel bank's 400 Hz. `offset` (set once from data, `calibrate`) puts the output on
    the log-mel's dB scale, so spec masks filled with 0 dB mean what they mean for log-mel.
    Cross-validation only (`train.py --learned-front-end`): the core feeds the model log-mel."""

    def __init__(self, bands: int, kernel: int, hop: int, sample_rate: float, fmin: float, fmax: float):
        super().__init__()
        self.conv = nn.Conv1d(1, 2 * bands, kernel, stride=hop, bias=False)
        mel = torch.linspace(2595 * math.log10(1 + fmin / 700), 2595 * math.log10(1 + fmax / 700), bands)
        centres = 700 * (10 ** (mel / 2595) - 1)
        n = torch.arange(kernel, dtype=torch.float32) - kernel / 2
        window = torch.hann_window(kernel, periodic=True)
        phase = 2 * math.pi * centres[:, None] * n[None, :] / sample_rate
        pairs = torch.stack([window * torch.cos(phase), window * torch.sin(phase)], dim=1)  # [B, 2, K]
        with torch.no_grad():
            self.conv.weight.copy_(pairs.reshape(2 * bands, 1, kernel) * 2 / window.sum())
        self.register_buffer("offset", torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`x` holds `kernel // 2` samples of context before the window's first frame centre and
        after its last, as `Data.gather` cuts it after `Data.use_signal`."""
        y = self.conv(x.unsqueeze(1))
        power = y[:, 0::2] ** 2 + y[:, 1::2] ** 2
        return (10 * torch.log10(power + 1e-10) + self.offset).unsqueeze(1)

    @torch.no_grad()
    def calibrate(self, signal: torch.Tensor, log_mel: torch.Tensor) -> None:
        """Sets `offset` so the median output on `signal` equals the median of `log_mel`."""
        self.offset.zero_()
        self.offset.fill_(float(log_mel.median() - self(signal).median()))


class SignalTCN(nn.Module):
    """`LearnedFilterBank` then `HeartTCN`: one logit per window of conditioned samples. The
    training loop calls `front` and `tcn` apart so augmentation acts on the bank's frames, as it
    acts on log-mel frames for the shipped model."""

    def __init__(self, front: LearnedFilterBank, tcn: HeartTCN):
        super().__init__()
        self.front, self.tcn = front, tcn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.tcn(self.front(x))


def default_channels(arch: str) -> tuple[int, ...]:
    return TCN_CHANNELS if arch == "tcn" else CHANNELS


def build_net(arch: str = "cnn2d", channels: tuple[int, ...] | None = None, kernels: tuple[int, ...] | None = None,
              n_mels: int = 32, dropout: float = 0.3, dilations: tuple[int, ...] | None = None,
              cycle_bins: int = 0, max_pool: bool = False) -> nn.Module:
    """The window classifier `arch` (one of ARCHS); `channels`/`kernels`/`dilations` None take the
    defaults. `kernels`, `dilations` and `n_mels` apply to `tcn` only (the 2D CNN is 3x3
    throughout and size-agnostic)."""
    channels = tuple(channels) if channels else default_channels(arch)
    if arch == "cnn2d":
        return HeartCNN(channels=channels, dropout=dropout)
    if arch == "tcn":
        tcn = HeartTCN(channels=channels, kernels=tuple(kernels) if kernels else TCN_KERNELS, n_mels=n_mels,
                       dropout=dropout, dilations=dilations, max_pool=max_pool)
        return CycleTCN(tcn, cycle_bins, n_mels) if cycle_bins else tcn
    raise ValueError(f"unknown architecture {arch!r} (one of {ARCHS})")


def net_config(net: nn.Module) -> dict:
    """What `build_net` needs to rebuild `net` (stored in checkpoints next to the weights)."""
    convs = [m for m in net.features if isinstance(m, nn.Conv2d)]
    cfg = {"arch": "tcn" if isinstance(net, HeartTCN) else "cnn2d", "channels": [c.out_channels for c in convs]}
    if cfg["arch"] == "tcn":
        cfg["kernels"] = [c.kernel_size[1] for c in convs]
        # Only when used, so checkpoints stay identical to those from before the option.
        if any(c.dilation[1] != 1 for c in convs):
            cfg["dilations"] = [c.dilation[1] for c in convs]
    return cfg


def architecture_text(arch: str, channels, kernels=None, n_nets: int = 1, dilations=None) -> str:
    """The card's one-line description of `n_nets` nets of architecture `arch` (their mean)."""
    if arch == "tcn":
        kernels = list(kernels or TCN_KERNELS)
        dilated = f", dilations {list(dilations)}" if dilations else ""
        s = (f"1D CNN over time with the mel bands as input channels, in 2D ops: {len(channels)} conv blocks "
             f"(first kernel all mel bands × {kernels[0]} frames, then 1×k with k = {kernels[1:]}{dilated}; "
             f"BatchNorm folded at export, ReLU; 1×2 max-pool after all but the last), channels {list(channels)}, "
             f"global average pool, dropout, linear → sigmoid")
    else:
        s = (f"4 conv blocks (3×3 conv, BatchNorm folded at export, ReLU; 2×2 max-pool after the first three), "
             f"channels {list(channels)}, global average pool, dropout, linear → sigmoid")
    if n_nets > 1:
        s = f"mean of {n_nets} such CNNs' probabilities; each: " + s
    return s


class ProbabilityHead(nn.Module):
    """What gets exported: the CNN (or the mean of several CNNs' probabilities) with the sigmoid
    inside the graph, so the output is P(abnormal) per window, shape [N].

    `bands[i] = (lo, hi)` gives CNN i only rows lo..hi of the input: a model over several views
    (the core's `extra_views`) gets their bands stacked, and each CNN reads its own view's. The
    rows are taken by a 0/1 selection matrix (a `MatMul`, exact in float32) rather than a
    `Slice`: tract's slicing operator would add 15.6 kB gzipped to the browser's worker, the
    matrix product is already there, and it costs 0.6 M MACs per view and window."""

    def __init__(self, nets: list[nn.Module], bands: list[tuple[int, int]] | None = None):
        super().__init__()
        self.nets = nn.ModuleList(nets)
        self.bands = bands
        if bands is not None:
            rows = max(hi for _, hi in bands)
            for lo, hi in sorted(set(bands)):
                select = torch.zeros(hi - lo, rows)
                select[torch.arange(hi - lo), torch.arange(lo, hi)] = 1.0
                self.register_buffer(f"select_{lo}_{hi}", select)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        views = {} if self.bands is None else {
            b: torch.matmul(getattr(self, f"select_{b[0]}_{b[1]}"), mel) for b in sorted(set(self.bands))}
        p = None
        for i, net in enumerate(self.nets):
            q = torch.sigmoid(net(mel if self.bands is None else views[self.bands[i]]))
            p = q if p is None else p + q
        if len(self.nets) > 1:
            p = p / float(len(self.nets))
        return p


def fold_batchnorm(net: nn.Module) -> nn.Module:
    """A copy of `net` in eval mode with every BatchNorm folded into the conv before it."""
    import copy

    from torch.nn.utils.fusion import fuse_conv_bn_eval

    net = copy.deepcopy(net).eval()
    mods = list(net.features)
    out: list[nn.Module] = []
    i = 0
    while i < len(mods):
        m = mods[i]
        if isinstance(m, nn.Conv2d) and i + 1 < len(mods) and isinstance(mods[i + 1], nn.BatchNorm2d):
            out.append(fuse_conv_bn_eval(m, mods[i + 1]))
            i += 2
        else:
            out.append(m)
            i += 1
    net.features = nn.Sequential(*out)
    return net


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def count_macs(net: nn.Module, n_mels: int, frames: int) -> int:
    """Multiply-accumulates of one window's forward pass: conv and linear layers (the rest,
    ReLU/pool/BN/sigmoid, is a rounding error and is not counted). Measured with forward hooks
    on a real forward pass, so it follows the architecture."""
    total = 0

    def conv_hook(m: nn.Conv2d, _inp, out):
        nonlocal total
        k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
        total += out.shape[1] * out.shape[2] * out.shape[3] * k

    def lin_hook(m: nn.Linear, _inp, _out):
        nonlocal total
        total += m.in_features * m.out_features

    hooks = []
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(lin_hook))
    was_training = net.training
    net.eval()
    with torch.no_grad():
        net(torch.zeros(1, 1, n_mels, frames))
    net.train(was_training)
    for h in hooks:
        h.remove()
    return total
