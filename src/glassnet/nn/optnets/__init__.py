"""Optimisation-algorithm-inspired network structures (Li, Yang, Chen, Lin, ACML 2018).

Three layers of the paper, as code:

* **Table 1 / Lemma 1** (:class:`Energy`): for an activation ``Phi`` with antiderivative
  ``Psi`` (``Psi' = Phi``) the energy ``f(z) = ||z||^2/2 - sum_i Psi(U_i^T z)`` (eq. 8) has
  ``grad f(z) = z - U Phi(U^T z)`` (eq. 9), so one gradient step with step 1 is
  ``z_{k+1} = U Phi(U^T z_k)`` (eq. 10); with ``W = U^2`` symmetric positive definite and
  ``x = U^{-1} z`` it is the feed-forward layer ``x_{k+1} = Phi(W x_k)`` (eq. 7). Several printed
  entries of Table 1 are not antiderivatives of their activation (sigmoid, tanh, softsign,
  ELU, swish); :data:`ANTIDERIVATIVES` holds correct ones (docs/optnets.md lists the
  differences), softplus and swish through a dilogarithm :func:`dilog_neg_exp`.
* **The structures** (:class:`OptStructure`): a module that wraps ANY transform ``T`` (one
  shared ``nn.Module`` applied ``depth`` times, or a list of per-layer modules) and runs GD (7),
  heavy ball (11)/(16), Nesterov AGD (12)/(17), AGD2 (13)/(18)/(21) or ADMM (14) / (20) on it,
  with the algorithm's coefficients fixed or learnable.
* **The networks**: CIFAR ResNet-20/56/110 (option A) and HB-Net-20/56/110, DenseNet-40/52
  (k = 12, non-BC) and AGD-Net-40/52, ImageNet ResNet-34 / HB-Net-34 and DenseNet-121 /
  AGD-Net-121, registered in :mod:`glassnet.registry`.

Nesterov's sequence: ``theta_0 = 1``, ``(1 - theta_k)/theta_k^2 = 1/theta_{k-1}^2``; the
momentum of (3)/(12) is ``beta_k = theta_k (1 - theta_{k-1})/theta_{k-1}`` (``beta_0 = 0``) and
the weights of (4)/(13) are ``h_{k+1,j}`` of eq. (5).
"""

from __future__ import annotations

import torch

from glassnet.nn.optnets.densenets import (
    AGDNet,
    AGDNetImageNet,
    DenseNet,
    DenseNetImageNet,
)
from glassnet.nn.optnets.energy import (
    ACTIVATIONS,
    ANTIDERIVATIVES,
    Energy,
    dilog_neg_exp,
    lemma1_unfold,
    nesterov_h,
    nesterov_momentum,
    nesterov_theta,
    table1_printed,
)
from glassnet.nn.optnets.resnets import CifarResNet, ResNetImageNet
from glassnet.nn.optnets.structures import SCHEMES, OptStructure, heavy_ball, nesterov
from glassnet.registry import register_model

__all__ = [
    "ACTIVATIONS",
    "ANTIDERIVATIVES",
    "OPTNETS_MODELS",
    "SCHEMES",
    "AGDNet",
    "AGDNetImageNet",
    "CifarResNet",
    "DenseNet",
    "DenseNetImageNet",
    "Energy",
    "OptStructure",
    "ResNetImageNet",
    "dilog_neg_exp",
    "heavy_ball",
    "lemma1_unfold",
    "nesterov",
    "nesterov_h",
    "nesterov_momentum",
    "nesterov_theta",
    "table1_printed",
]


# ---------------------------------------------------------------- registry

def _register(name: str, base: type, doc: str, **fixed):
    """Register ``name`` as a subclass of ``base`` whose constructor fixes ``fixed``."""

    def __init__(self, num_classes: int = 1000 if base in (ResNetImageNet, DenseNetImageNet) else 10,
                 in_chans: int = 3, **kwargs):
        clash = [k for k in fixed if k in kwargs]
        if clash:
            raise ValueError(f"{name} fixes {', '.join(f'{k}={fixed[k]!r}' for k in clash)}; use "
                             f"another registered name or {base.__name__} for other values")
        base.__init__(self, num_classes=num_classes, in_chans=in_chans, **fixed, **kwargs)

    cls = type(name.replace("-", "_"), (base,), {"__init__": __init__, "__doc__": doc,
                                                "__module__": __name__})
    big = base in (ResNetImageNet, DenseNetImageNet)
    example = (lambda: ({"num_classes": 7}, (torch.randn(2, 3, 32 if big else 16, 32 if big else 16),)))
    cls = register_model(name, example=example)(cls)
    globals()[cls.__name__] = cls
    return cls


for _d in (20, 56, 110):
    _register(f"resnet{_d}", CifarResNet, f"CIFAR ResNet-{_d} (option A).", depth=_d, beta=(1.0, 0.0))
    _register(f"hbnet{_d}", CifarResNet, f"CIFAR HB-Net-{_d} (eq. 16, beta = (1, -1)).", depth=_d,
              beta=(1.0, -1.0))
for _d in (40, 52):
    _register(f"densenet{_d}", DenseNet, f"CIFAR DenseNet-{_d} (k = 12).", depth=_d, agd=False)
    _register(f"agdnet{_d}", DenseNet, f"CIFAR AGD-Net-{_d} (eq. 21, k = 12, beta = 0.1).", depth=_d,
              agd=True)
_register("resnet34", ResNetImageNet, "ImageNet ResNet-34 (torchvision layout).", depth=34, beta=(1.0, 0.0))
_register("hbnet34", ResNetImageNet, "ImageNet HB-Net-34.", depth=34, beta=(1.0, -1.0))
_register("densenet121", DenseNetImageNet, "ImageNet DenseNet-121 (torchvision layout).", depth=121,
          agd=False)
_register("agdnet121", DenseNetImageNet, "ImageNet AGD-Net-121 (eq. 21).", depth=121, agd=True)

OPTNETS_MODELS = ("resnet20", "resnet56", "resnet110", "hbnet20", "hbnet56", "hbnet110",
                  "densenet40", "densenet52", "agdnet40", "agdnet52", "resnet34", "hbnet34",
                  "densenet121", "agdnet121")
