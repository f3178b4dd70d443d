"""CIFAR ResNet-20/56/110 / HB-Net and ImageNet ResNet-34 / HB-Net-34.

Part of :mod:`glassnet.nn.optnets` (import from there).
"""

from __future__ import annotations

import typing

import torch
import torch.nn.functional as F
from torch import nn

from glassnet.nn._base import GlassModule, is_int
from glassnet.nn.optnets.structures import OptStructure

# ---------------------------------------------------------------- CIFAR ResNet / HB-Net

def _check_sizes(**sizes) -> None:
    """``ValueError`` unless every size (classes of the head, channels of the stem, depth,
    growth) is an int >= 1."""
    for name, v in sizes.items():
        if not is_int(v, 1):
            raise ValueError(f"{name} must be a positive int (>= 1), got {v!r}")


def _init_weights(model: nn.Module) -> None:
    """He init for convolutions [37], Xavier for the classifier [38], BN at (1, 0)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


class _Branch(nn.Module):
    """ResNet's residual branch T: conv-BN-ReLU-conv-BN (two weight layers, Sec. 6.1)."""

    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)

    def forward(self, x):
        return self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))


class _ShortcutA(nn.Module):
    """Option A: stride-2 subsampling and zero-padded channels (no parameters)."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.stride, self.pad = stride, c_out - c_in

    def forward(self, x):
        if self.stride > 1:
            x = x[:, :, :: self.stride, :: self.stride]
        if self.pad:
            x = F.pad(x, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        return x


class _ShortcutB(nn.Sequential):
    """Option B (torchvision): 1x1 convolution with stride, then BN."""

    def __init__(self, c_in, c_out, stride):
        super().__init__(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))


class _Stage(nn.Module):
    """One resolution stage: a first residual block ``x_1 = relu(T_0(x_0) + S(x_0))`` (the
    stride/width change; ``S`` the shortcut), then :class:`OptStructure` ``"hb"`` over the other
    blocks with ``x_{-1} := S(x_0)``: ``x_{k+1} = relu(T_k(x_k) + beta_1 x_k + beta_2 x_{k-1})``.
    ``beta = (1, 0)`` is ResNet's stage, ``(1, -1)`` HB-Net's.

    ``invertible=True``: the momentum blocks drop the ReLU after the addition (it would make
    the step non-invertible), ``x_{k+1} = T_k(x_k) + beta_1 x_k + beta_2 x_{k-1}``, and are
    trained without storing their activations; the stage's output gets the ReLU."""

    def __init__(self, c_in, c_out, n_blocks, stride, beta, learnable, shortcut, invertible=False):
        super().__init__()
        self.first = _Branch(c_in, c_out, stride)
        needs = stride != 1 or c_in != c_out
        self.shortcut = (shortcut(c_in, c_out, stride) if needs else nn.Identity())
        self.invertible = bool(invertible)
        self.hb = (OptStructure([_Branch(c_out, c_out) for _ in range(n_blocks - 1)], "hb",
                                beta=beta, learnable=learnable,
                                activation=None if invertible else nn.ReLU(), invertible=invertible)
                   if n_blocks > 1 else None)

    def forward(self, x):
        s = self.shortcut(x)
        x1 = F.relu(self.first(x) + s)
        if self.hb is None:
            return x1
        out = self.hb(x1, x_prev=s)
        return F.relu(out) if self.invertible else out


class CifarResNet(GlassModule):
    """CIFAR ResNet (He et al. 2016, option A shortcuts; 3x3 stem with 16 channels, stages of
    16/32/64 channels, ``n = (depth - 2)/6`` blocks each) and its heavy-ball version HB-Net
    (eq. 16 with ``beta = (1, -1)``: ``x_{k+1} = T(x_k) + x_k - x_{k-1}``).

    ``beta``: ``(1, 0)`` ResNet, ``(1, -1)`` HB-Net; ``learnable``: co-train (beta_1, beta_2)
    of every block (initialised at ``beta``). ``invertible=True`` (HB-Net only, e.g.
    ``create_model("hbnet110", invertible=True)``): the momentum blocks have no ReLU after the
    addition and are trained without storing activations (the backward pass reconstructs
    ``x_{k-1} = T_k(x_k) + x_k - x_{k+1}``); same parameters and state_dict as HB-Net."""

    def __init__(self, depth: int = 20, num_classes: int = 10, in_chans: int = 3,
                 beta: tuple = (1.0, 0.0), learnable: bool = False, invertible: bool = False):
        super().__init__()
        _check_sizes(num_classes=num_classes, in_chans=in_chans, depth=depth)
        if (depth - 2) % 6 != 0 or depth < 8:
            raise ValueError(f"CIFAR ResNet depth must be 6n + 2 (n >= 1), got {depth}")
        n = (depth - 2) // 6
        beta = tuple(float(b) for b in beta)
        self.stem = nn.Sequential(nn.Conv2d(in_chans, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.stages = nn.Sequential(
            _Stage(16, 16, n, 1, beta, learnable, _ShortcutA, invertible),
            _Stage(16, 32, n, 2, beta, learnable, _ShortcutA, invertible),
            _Stage(32, 64, n, 2, beta, learnable, _ShortcutA, invertible),
        )
        self.fc = nn.Linear(64, num_classes)
        _init_weights(self)

    def forward(self, x):
        x = self.stages(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class ResNetImageNet(GlassModule):
    """torchvision's ResNet-18/34 layout (BasicBlock, option B shortcut, 7x7 stem, max pool,
    stages of 64/128/256/512 channels) with the HB and invertible options of :class:`CifarResNet`."""

    LAYERS: typing.ClassVar[dict] = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}

    def __init__(self, depth: int = 34, num_classes: int = 1000, in_chans: int = 3,
                 beta: tuple = (1.0, 0.0), learnable: bool = False, invertible: bool = False):
        super().__init__()
        _check_sizes(num_classes=num_classes, in_chans=in_chans, depth=depth)
        if depth not in self.LAYERS:
            raise ValueError(f"depth must be one of {sorted(self.LAYERS)}, got {depth}")
        beta = tuple(float(b) for b in beta)
        self.stem = nn.Sequential(nn.Conv2d(in_chans, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                                  nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        widths, stages, c = (64, 128, 256, 512), [], 64
        for i, (w, n) in enumerate(zip(widths, self.LAYERS[depth])):
            stages.append(_Stage(c, w, n, 1 if i == 0 else 2, beta, learnable, _ShortcutB,
                                 invertible))
            c = w
        self.stages = nn.Sequential(*stages)
        self.fc = nn.Linear(512, num_classes)
        _init_weights(self)

    def forward(self, x):
        x = self.stages(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))
