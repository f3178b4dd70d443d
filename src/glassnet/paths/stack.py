"""Stacks of networks trained together: the fits a selection engine runs by the dozen.

A cross-validation fits the same kind of network to K folds, a relaxed refit to many
candidate supports, a stability selection to many subsamples. Each of those networks only
sees its own rows (a weight column that is zero elsewhere) and its own input columns (a
mask), so B of them train as one :class:`~glassnet.nn.spinn.StackedSPINN`, each taking exactly
the steps of its own fit, in one pass per epoch instead of B.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from glassnet import training

__all__ = ["Batch", "MaskProjection", "fit_stack", "masked_start"]


@dataclass
class Batch:
    """B fits over the rows of one ``X`` (n, p): network b fits targets ``Y[:, b]`` with the
    row weights ``W[:, b]`` (its training rows; zero elsewhere) and is scored on
    ``V[:, b]`` (its validation rows; None: no validation). ``extra``: further per-row tensors
    the networks take (the data-set index ``m`` of the integrative model)."""

    X: torch.Tensor
    Y: torch.Tensor
    W: torch.Tensor
    V: torch.Tensor | None = None
    extra: tuple = ()

    @property
    def size(self) -> int:
        return self.W.shape[1]

    def data(self):
        return (self.X, self.Y, self.W, *self.extra)

    def val(self):
        return (self.X, self.Y, self.V, *self.extra)

    def rows(self, b: int) -> np.ndarray:
        """The training rows of network b."""
        return np.flatnonzero(self.W[:, b].cpu().numpy() > 0)

    def select(self, idx) -> Batch:
        """The batch of networks ``idx`` only."""
        idx = torch.as_tensor(idx)
        return Batch(self.X, self.Y[:, idx], self.W[:, idx], None if self.V is None else self.V[:, idx],
                     self.extra)


def _mask_view(masks: torch.Tensor, W1: torch.Tensor) -> torch.Tensor:
    """Broadcast per-network group masks (B, p) or (B, M, p) against a stacked ``W1`` whose
    hidden axis is the second to last."""
    m = masks.unsqueeze(-2)
    while m.dim() < W1.dim():
        m = m.unsqueeze(1)
    return m.to(device=W1.device, dtype=W1.dtype)


class MaskProjection:
    """Projection keeping each network's ``W1`` columns outside its mask at zero (the masks
    restricted to the stack's columns)."""

    def __init__(self, masks, W1):
        self.view = _mask_view(torch.as_tensor(np.asarray(masks, bool)), W1)

    def __call__(self, model):
        model.W1.mul_(self.view)


def masked_start(net, mask, generator=None):
    """Fresh random ``W1`` (uniform, bound 1/sqrt(#inputs)) on the columns in ``mask`` (p,) or
    (M, p), the others zero: the dense start's and every relaxed refit's initialisation."""
    mask = torch.as_tensor(np.asarray(mask, bool))
    with torch.no_grad():
        n_in = int(mask.reshape(-1, mask.shape[-1]).any(0).sum())
        bound = 1.0 / np.sqrt(max(n_in, 1))
        # drawn on the CPU (a generator lives there), then moved to the network's device
        W = torch.empty(net.W1.shape, dtype=net.W1.dtype).uniform_(-bound, bound, generator=generator)
        W = W.to(net.W1.device)
        keep = _mask_view(mask[None], net.W1[None])[0].bool().expand_as(net.W1)
        net.W1.copy_(torch.where(keep, W, torch.zeros_like(W)))
    return net


def fit_stack(nets, masks, objective, batch: Batch, lr: float, max_epochs: int):
    """Train ``nets`` (``W1`` zero outside each ``masks[b]``) without a sparsity penalty,
    full-batch Adam, as one stack on the union of the masks' columns: network b minimises
    ``objective`` on its own rows and targets (its ridge may be its own). Returns ``nets``,
    trained, in eval mode."""
    from glassnet.nn.spinn import StackedSPINN

    masks = np.stack([np.asarray(mask, bool) for mask in masks])
    cols = np.flatnonzero(masks.reshape(-1, masks.shape[-1]).any(0))
    stack = StackedSPINN(nets, cols)
    project = MaskProjection(masks[..., cols], stack.W1)
    data = (batch.X[:, torch.as_tensor(cols)], batch.Y, batch.W, *batch.extra)
    training.fit(stack, objective, data, optimizer="adam", lr=lr, max_epochs=int(max_epochs),
                 project=project, verbose=False, n_threads=None)
    return [net.eval() for net in stack.unstack(nets)]
