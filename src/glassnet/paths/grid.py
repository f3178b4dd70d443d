"""The lambda grid: where a path starts (``lambda_max``) and the geometric grid below it.

Every sparse family builds its grid here, once: ``lambda_max`` by bisection with the
penalty's own prox (so one search serves L1, group, sparse-group, MCP-type and integrative
penalties), then ``lambda_max .. lambda_max * lambda_min_ratio`` on a log scale.
"""

from __future__ import annotations

import numpy as np
import torch

from glassnet.penalties import Penalty

__all__ = ["geometric_grid", "grid_to", "lambda_max"]

_MAX_DOUBLINGS = 200  # bracket search: 2**200 covers any finite float32/64 gradient


def lambda_max(W1: torch.Tensor, grad: torch.Tensor, penalty: Penalty, step: float = 1e-4) -> float:
    """Smallest lambda at which one proximal-gradient step of size ``step`` from ``W1`` gives
    zero: ``prox(W1 - step * grad, step) = 0``. At ``W1 = 0`` (small step) this is where
    ``W1 = 0`` is stationary. The bracket search stops after ``_MAX_DOUBLINGS`` doublings with
    a clear error (a gradient that large means the data were not scaled)."""
    point = W1.detach() - step * grad
    if not torch.any(point != 0):
        return 0.0
    if not torch.isfinite(point).all():
        raise ValueError("the gradient of the loss at the start is not finite; rescale X "
                         "(e.g. StandardScaler) or use dtype='float64'")

    def is_zero(lam):
        return bool(torch.all(penalty.with_lambda(lam).prox(point, step) == 0))

    hi = float(point.abs().max()) / step * max(1.0, float(np.sqrt(point[..., 0].numel())))
    for _ in range(_MAX_DOUBLINGS):
        if is_zero(hi):
            break
        hi *= 2.0
    else:
        raise ValueError(f"lambda_max search did not terminate (lambda > {hi:.3g}); rescale X "
                         "(e.g. StandardScaler)")
    lo = 0.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if is_zero(mid) else (mid, hi)
        if hi - lo <= 1e-9 * hi:
            break
    return hi


def geometric_grid(lam_max: float, lambda_min_ratio: float, n_lambdas: int) -> np.ndarray:
    """``n_lambdas`` values from ``lam_max`` down to ``lam_max * lambda_min_ratio`` (log scale);
    a single zero when ``lam_max`` is zero (nothing to penalise)."""
    n_lambdas = int(n_lambdas)
    if n_lambdas < 1:
        raise ValueError(f"n_lambdas must be >= 1, got {n_lambdas}")
    if not 0 < lambda_min_ratio < 1:
        raise ValueError(f"lambda_min_ratio must be in (0, 1), got {lambda_min_ratio}")
    if not lam_max > 0:
        return np.zeros(1)
    return np.geomspace(lam_max, lam_max * lambda_min_ratio, n_lambdas)


def grid_to(lam_max: float, end: float, n_path: int, down: bool,
            lambda_min_ratio: float = 1e-2) -> tuple[np.ndarray, int]:
    """The warm-start grid of a fit at one ``end`` lambda and the index of ``end`` in it.

    ``down`` (a path from ``W1 = 0``): ``n_path`` points from ``lam_max`` down to ``end``.
    Otherwise (the dense-to-sparse path, which runs upward from a dense fit): the geometric grid
    with ``end`` inserted, decreasing; the path runs up the whole grid and the fit is the
    state at ``end``.
    """
    n_path = max(int(n_path), 1)
    if down:
        lambdas = np.geomspace(lam_max, end, n_path + 1)[1:] if 0 < end < lam_max else np.array([end])
        return lambdas, len(lambdas) - 1
    grid = np.geomspace(lam_max, lam_max * lambda_min_ratio, n_path) if lam_max > 0 else []
    lambdas = np.unique(np.append(grid, end))[::-1]
    return lambdas, int(np.flatnonzero(lambdas == end)[0])
