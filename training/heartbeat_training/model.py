"""The window classifier over one [1, n_mels, window_frames] log-mel window. Two architectures:

* `tcn` (shipped): a 1D CNN over time with the mel bands as input channels (`HeartTCN`), about a
  third of the 2D CNN's multiply-accumulates per window, so cheaper in the browser and faster to
  train on a CPU.
* `cnn2d`: a small 2D CNN (model 1.0.0; still the untrained placeholder's). Four 3x3 conv blocks
  (conv, batch-norm, ReLU, 2x2 max-pool on the first three), global average pooling, dropout,
  one linear unit and a sigmoid.

Both keep the same module layout (`features`, `pool`, `flatten`, `dropout`, `fc`), so BatchNorm
folding and MAC counting serve both. BatchNorm is folded into the convolutions at export, so the
ONNX graph holds only Conv, Relu, MaxPool, GlobalAveragePool, Flatten, Gemm, Sigmoid and Reshape
(plus the Cast of each float16-stored weight, and Add/Div for an ensemble's mean):
opset 13, no control flow, loadable by tract-onnx.
"""

from __future__ import annotations

import torch
from torch import nn

CHANNELS = (12, 24, 48, 64)
TCN_CHANNELS = (24, 32, 48, 64, 96)
TCN_KERNELS = (5, 5, 5, 5, 3)
ARCHS = ("cnn2d", "tcn")


class WindowNet(nn.Module):
    """Conv blocks (`features`, [N, C, H, W] out), then the head both architectures share: global
    average pooling, dropout and one linear unit, giving one abnormality logit per window ([N])."""

    def __init__(self, features: nn.Sequential, channels_out: int, dropout: float):
        super().__init__()
        self.features = features
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.flatten(self.pool(self.features(x))))).reshape(-1)


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
    blocks at full mel resolution. With the defaults: ~3.2 M MACs per 6 s window (2D CNN 11.75 M
    per 4 s window), ~50 k parameters, a receptive field of ~110 frames (2.2 s, two to three heart
    cycles).
    """

    def __init__(self, channels: tuple[int, ...] = TCN_CHANNELS, kernels: tuple[int, ...] = TCN_KERNELS,
                 n_mels: int = 32, dropout: float = 0.3):
        if len(kernels) != len(channels) or any(k % 2 == 0 for k in kernels):
            raise ValueError(f"need one odd kernel per block, got kernels {kernels} for channels {channels}")
        layers: list[nn.Module] = []
        c_in = 1
        for i, (c, k) in enumerate(zip(channels, kernels)):
            height = n_mels if i == 0 else 1
            layers += [nn.Conv2d(c_in, c, (height, k), padding=(0, k // 2), bias=False),
                       nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
            if i < len(channels) - 1:
                layers.append(nn.MaxPool2d((1, 2)))
            c_in = c
        super().__init__(nn.Sequential(*layers), c_in, dropout)


def default_channels(arch: str) -> tuple[int, ...]:
    return TCN_CHANNELS if arch == "tcn" else CHANNELS


def build_net(arch: str = "cnn2d", channels: tuple[int, ...] | None = None, kernels: tuple[int, ...] | None = None,
              n_mels: int = 32, dropout: float = 0.3) -> nn.Module:
    """The window classifier `arch` (one of ARCHS); `channels`/`kernels` None take the defaults.
    `kernels` and `n_mels` apply to `tcn` only (the 2D CNN is 3x3 throughout and size-agnostic)."""
    channels = tuple(channels) if channels else default_channels(arch)
    if arch == "cnn2d":
        return HeartCNN(channels=channels, dropout=dropout)
    if arch == "tcn":
        return HeartTCN(channels=channels, kernels=tuple(kernels) if kernels else TCN_KERNELS, n_mels=n_mels,
                        dropout=dropout)
    raise ValueError(f"unknown architecture {arch!r} (one of {ARCHS})")


def net_config(net: nn.Module) -> dict:
    """What `build_net` needs to rebuild `net` (stored in checkpoints next to the weights)."""
    convs = [m for m in net.features if isinstance(m, nn.Conv2d)]
    cfg = {"arch": "tcn" if isinstance(net, HeartTCN) else "cnn2d", "channels": [c.out_channels for c in convs]}
    if cfg["arch"] == "tcn":
        cfg["kernels"] = [c.kernel_size[1] for c in convs]
    return cfg


def architecture_text(arch: str, channels, kernels=None, n_nets: int = 1) -> str:
    """The card's one-line description of `n_nets` nets of architecture `arch` (their mean)."""
    if arch == "tcn":
        kernels = list(kernels or TCN_KERNELS)
        s = (f"1D CNN over time with the mel bands as input channels, in 2D ops: {len(channels)} conv blocks "
             f"(first kernel all mel bands × {kernels[0]} frames, then 1×k with k = {kernels[1:]}; "
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
