"""CIFAR DenseNet-40/52 / AGD-Net and ImageNet DenseNet-121 / AGD-Net-121.

Part of :mod:`glassnet.nn.optnets` (import from there).
"""

from __future__ import annotations

import typing

import torch
import torch.nn.functional as F
from torch import nn

from glassnet.nn._base import GlassModule
from glassnet.nn.optnets.energy import nesterov_momentum
from glassnet.nn.optnets.resnets import _check_sizes, _init_weights
from glassnet.nn.optnets.structures import check_coef

# ---------------------------------------------------------------- DenseNet / AGD-Net

class _DenseLayer(nn.Module):
    """DenseNet layer on the concatenation ``[z_0, ..., z_m]``: BN-ReLU-conv3x3 (non-BC) or
    BN-ReLU-conv1x1(4k)-BN-ReLU-conv3x3 (BC). With ``sizes`` (channels of each source) the
    first convolution's input channels of source ``j`` are scaled by ``alpha_j`` (eq. 21's
    ``sum_j alpha^j T(z_j)``: the convolution of a concatenation is the sum of the per-source
    convolutions, so scaling the weights is exact and costs no activation memory)."""

    def __init__(self, c_in, growth, bottleneck, alpha_sizes=None, alpha_learnable=True):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(c_in)
        mid = 4 * growth if bottleneck else growth
        self.conv1 = nn.Conv2d(c_in, mid, 1 if bottleneck else 3, 1, 0 if bottleneck else 1, bias=False)
        if bottleneck:
            self.norm2 = nn.BatchNorm2d(mid)
            self.conv2 = nn.Conv2d(mid, growth, 3, 1, 1, bias=False)
        self.bottleneck = bottleneck
        if alpha_sizes is not None:
            self.register_buffer("sizes", torch.tensor(alpha_sizes), persistent=False)
            a = torch.ones(len(alpha_sizes))
            if alpha_learnable:
                self.alpha = nn.Parameter(a)
            else:
                self.register_buffer("alpha", a)
        else:
            self.alpha = None

    def forward(self, cat):
        r = F.relu(self.norm1(cat))
        w = self.conv1.weight
        if self.alpha is not None:
            w = w * torch.repeat_interleave(self.alpha, self.sizes, output_size=w.shape[1]).view(1, -1, 1, 1)
        out = F.conv2d(r, w, None, 1, self.conv1.padding)
        if self.bottleneck:
            out = self.conv2(F.relu(self.norm2(out)))
        return out


class _DenseBlock(nn.Module):
    """A dense block. ``agd=False``: DenseNet (eq. 19), ``z_{m+1} = T([z_0..z_m])``.
    ``agd=True``: AGD-Net (eq. 21), ``z_{m+1} = sum_j alpha^j_{m+1} T(z_j) + beta (z_m - sum_j
    h_{m+1,j} z_j)`` where the momentum sum runs over the block's growth-``k`` outputs
    ``z_1..z_m`` (the sequence whose members all have ``k`` channels; the block input ``z_0``,
    of another width, enters through ``T`` only), ``h`` from eq. (5) re-indexed on that
    sequence. Every layer's output is concatenated as in DenseNet, so widths, transitions and
    parameter counts are DenseNet's (plus one alpha per source and layer)."""

    def __init__(self, c_in, n_layers, growth, bottleneck, agd, beta, alpha_learnable=True):
        super().__init__()
        self.growth, self.agd, self.beta = growth, agd, float(beta)
        self.layers = nn.ModuleList(
            _DenseLayer(c_in + m * growth, growth, bottleneck,
                        ([c_in] + [growth] * m) if agd else None, alpha_learnable)
            for m in range(n_layers))
        self.c_in = c_in
        # eq. (5) as a recurrence: with u_0, u_1, ... the growth outputs z_1, z_2, ... and
        # S_m = sum_{i<m} h_{m,i} u_i, S_1 = u_0 and S_{m+1} = c_{m+1} (S_m - u_{m-1}) +
        # (1 + c_{m+1}) u_m (c = Nesterov's momentum); layer m+1 adds beta (u_{m-1} - S_m).
        # One small tensor per layer instead of a weighted sum over all previous outputs.
        self.c = nesterov_momentum(n_layers + 2)

    def forward(self, x):
        cat, outs, S = x, [], None
        for m, layer in enumerate(self.layers):
            new = layer(cat)
            if self.agd and self.beta != 0.0:
                if m == 1:
                    S = outs[0]
                elif m >= 2:
                    c = self.c[m]
                    S = c * (S - outs[m - 2]) + (1 + c) * outs[m - 1]
                if m >= 1:
                    new = new + self.beta * (outs[m - 1] - S)
                outs.append(new)
            cat = torch.cat([cat, new], 1)
        return cat


class _Transition(nn.Sequential):
    def __init__(self, c_in, c_out):
        super().__init__(nn.BatchNorm2d(c_in), nn.ReLU(), nn.Conv2d(c_in, c_out, 1, bias=False),
                         nn.AvgPool2d(2))


class _DenseHead(GlassModule):
    """The DenseNet head both layouts share: BN-ReLU, global average pooling, linear."""

    def forward(self, x):
        x = F.relu(self.norm(self.blocks(self.stem(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class DenseNet(_DenseHead):
    """CIFAR DenseNet (Huang et al. 2017; k = 12, non-BC, 24-channel 3x3 stem, three dense
    blocks of ``(depth - 4)/3`` layers, transitions without compression) and AGD-Net (eq. 21,
    ``agd=True``, ``beta = 0.1``, alpha learnable and initialised at 1)."""

    def __init__(self, depth: int = 40, growth: int = 12, num_classes: int = 10, in_chans: int = 3,
                 agd: bool = False, beta: float = 0.1, alpha_learnable: bool = True):
        super().__init__()
        _check_sizes(num_classes=num_classes, in_chans=in_chans, depth=depth, growth=growth)
        check_coef("beta", beta)
        if (depth - 4) % 3 != 0 or depth < 7:
            raise ValueError(f"CIFAR DenseNet depth must be 3n + 4 (n >= 1), got {depth}")
        n = (depth - 4) // 3
        c = 2 * growth
        self.stem = nn.Conv2d(in_chans, c, 3, 1, 1, bias=False)
        blocks = []
        for i in range(3):
            blocks.append(_DenseBlock(c, n, growth, False, agd, beta, alpha_learnable))
            c += n * growth
            if i < 2:
                blocks.append(_Transition(c, c))
        self.blocks = nn.Sequential(*blocks)
        self.norm = nn.BatchNorm2d(c)
        self.fc = nn.Linear(c, num_classes)
        _init_weights(self)



class DenseNetImageNet(_DenseHead):
    """torchvision's DenseNet-BC layout (121: blocks 6/12/24/16, k = 32, 64-channel 7x7 stem,
    bottleneck 4k, compression 0.5) with the AGD option of :class:`DenseNet`."""

    CONFIGS: typing.ClassVar[dict] = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32)}

    def __init__(self, depth: int = 121, num_classes: int = 1000, in_chans: int = 3,
                 agd: bool = False, beta: float = 0.1, growth: int = 32, alpha_learnable: bool = True):
        super().__init__()
        _check_sizes(num_classes=num_classes, in_chans=in_chans, depth=depth, growth=growth)
        check_coef("beta", beta)
        if depth not in self.CONFIGS:
            raise ValueError(f"depth must be one of {sorted(self.CONFIGS)}, got {depth}")
        c = 2 * growth
        self.stem = nn.Sequential(nn.Conv2d(in_chans, c, 7, 2, 3, bias=False), nn.BatchNorm2d(c),
                                  nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        blocks = []
        cfg = self.CONFIGS[depth]
        for i, n in enumerate(cfg):
            blocks.append(_DenseBlock(c, n, growth, True, agd, beta, alpha_learnable))
            c += n * growth
            if i < len(cfg) - 1:
                blocks.append(_Transition(c, c // 2))
                c //= 2
        self.blocks = nn.Sequential(*blocks)
        self.norm = nn.BatchNorm2d(c)
        self.fc = nn.Linear(c, num_classes)
        _init_weights(self)



AGDNet = DenseNet  # AGD-Net is DenseNet(agd=True); the registered names fix the flag
AGDNetImageNet = DenseNetImageNet
