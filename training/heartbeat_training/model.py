"""The window classifier: a small 2D CNN over one [1, n_mels, window_frames] log-mel window.

Four 3x3 conv blocks (conv, batch-norm, ReLU, 2x2 max-pool on the first three), global average
pooling, dropout, one linear unit and a sigmoid. BatchNorm is folded into the convolutions at
export, so the ONNX graph holds only Conv, Relu, MaxPool, GlobalAveragePool, Flatten, Gemm,
Sigmoid and Reshape: opset 13, no control flow, loadable by tract-onnx.
"""

from __future__ import annotations

import torch
from torch import nn

CHANNELS = (12, 24, 48, 64)


class HeartCNN(nn.Module):
    """Maps [N, 1, n_mels, frames] to one abnormality logit per window ([N])."""

    def __init__(self, channels: tuple[int, ...] = CHANNELS, dropout: float = 0.3):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 1
        for i, c in enumerate(channels):
            layers += [nn.Conv2d(c_in, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
            if i < len(channels) - 1:
                layers.append(nn.MaxPool2d(2))
            c_in = c
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(c_in, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.flatten(self.pool(self.features(x)))
        return self.fc(self.dropout(x)).reshape(-1)


class ProbabilityHead(nn.Module):
    """What gets exported: the CNN (or the mean of several CNNs' probabilities) with the sigmoid
    inside the graph, so the output is P(abnormal) per window, shape [N]."""

    def __init__(self, nets: list[nn.Module]):
        super().__init__()
        self.nets = nn.ModuleList(nets)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        p = torch.sigmoid(self.nets[0](mel))
        for net in self.nets[1:]:
            p = p + torch.sigmoid(net(mel))
        if len(self.nets) > 1:
            p = p / float(len(self.nets))
        return p


def fold_batchnorm(net: HeartCNN) -> nn.Module:
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
