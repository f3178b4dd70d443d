"""The second-order screen of a sparse-input network's path start (SPINN, issue 8).

At ``W1 = 0`` the gradient of ``W1[:, j]`` is feature j's *linear* correlation with the
residual, so an input whose effect is even (``x^2``, ``|x|``, ``cos x``) or a pure interaction
(``x_i x_j``) has zero gradient there and, under any penalty with a kink at zero, ``W1[:, j] = 0``
is a local minimum at every lambda. :func:`screen_features` finds such inputs from the null
model's residuals, so the path can start from a dense fit on them (docs/spinn.md).
"""

from __future__ import annotations

import numpy as np

__all__ = ["SCREEN_LEVEL", "SCREEN_PERMUTATIONS", "robust_scale", "screen_features"]

# The screen's threshold per statistic: the k-th largest of SCREEN_PERMUTATIONS permutation
# maxima, k = SCREEN_LEVEL x (SCREEN_PERMUTATIONS + 1), so that on null data each statistic
# passes any feature with probability SCREEN_LEVEL (docs/history/spinn.md).
SCREEN_PERMUTATIONS, SCREEN_LEVEL = 23, 1.0 / 6.0
_MAD_TO_SD = 1.4826  # median absolute deviation -> standard deviation at the normal


def _standardise(A, w=None):
    """Columns of A centred and scaled to unit standard deviation (weighted by ``w``)."""
    if w is None:
        return (A - A.mean(0)) / np.maximum(A.std(0), 1e-12)
    mean = w @ A / w.sum()
    sd = np.sqrt(w @ (A - mean) ** 2 / w.sum())
    return (A - mean) / np.maximum(sd, 1e-12)


def _screen_stats(Xs, Q, R, scaled=False):
    """Per feature: max over outputs of |corr(r, x_j)|, |corr(r, q_j)| (``Q``: the even term,
    ``|x_j|`` standardised; None: the linear statistic only) and max_i |corr(r, x_i x_j)|
    (times sqrt n, so each is about N(0, 1) under independence). ``scaled``: the columns of
    ``R`` are already centred and scaled (the weighted screen's ``w_i r_i``)."""
    n = Xs.shape[0]
    Rs = R if scaled else _standardise(R)
    lin = np.abs(Xs.T @ Rs).max(1) / np.sqrt(n)
    if Q is None:
        return (lin,)
    quad = np.abs(Q.T @ Rs).max(1) / np.sqrt(n)
    inter = np.zeros(Xs.shape[1], dtype=Xs.dtype)
    for k in range(Rs.shape[1]):
        C = np.abs((Xs * Rs[:, [k]]).T @ Xs)  # sum_i r_i x_ia x_ib
        np.fill_diagonal(C, 0.0)
        inter = np.maximum(inter, C.max(1) / np.sqrt(n))
    return lin, quad, inter


def weighted_residuals(R, w):
    """``w_i r_i`` with each output centred and scaled by its weighted moments: the statistics
    sum ``w_i x_ij r_i``, so a row of weight 2 counts as the row twice, and the max over outputs
    compares them as the repeated rows would (pass ``scaled=True`` to ``_screen_stats``)."""
    return _standardise(R, w) * w[:, None]


def screen_features(X, R, random_state=None, n_permutations: int = SCREEN_PERMUTATIONS,
                    linear_only: bool = False, level: float = SCREEN_LEVEL, sample_weight=None):
    """Second-order screen (issue 8): a boolean mask of the features whose linear term
    ``x_j``, even term ``|x_j|`` or a pairwise product ``x_i x_j`` correlates with the
    residuals ``R`` (n, K) more than the same statistic's maximum over the features does
    under permutations of the rows of ``R``: each statistic's threshold is the k-th largest of
    ``n_permutations`` permutation maxima, ``k = level x (n_permutations + 1)``
    (rounded, at least 1), so that with no signal anywhere each statistic passes any feature
    with probability ``level`` (default ``SCREEN_LEVEL``, 1/6; the union of the three, at most
    1/2).

    The linear and product terms are the first- and second-order terms of the loss around
    ``W1 = 0`` (the gradient and the Hessian of a network with curved activations), so even
    effects and pure interactions, invisible to the gradient, pass the screen. The even term
    is ``|x_j|`` rather than the Taylor term ``x_j^2``: it correlates nearly as well with ``x^2``
    (0.94 at the normal) and better with bounded even effects (``cos 2x``: 0.79 against
    0.55), and its lighter tail keeps the permutation maxima low. Cost: O(n p^2) per
    permutation. ``linear_only``: the linear statistic alone, O(n p) per permutation (the
    second screen of SPINN's start, on the dense fit's residuals). ``sample_weight``: positive
    row weights (the fit's): the features are standardised with weighted moments and each
    statistic sums ``w_i r_i`` (residuals centred at their weighted mean) in place of ``r_i``,
    as if a row of weight 2 were there twice; the permutations move ``w_i r_i`` between rows (a
    row's weight goes with its residual, so residual spreads that differ with the weight do
    not inflate the statistics). None or equal weights: the unweighted screen, exactly.
    """
    B = int(n_permutations)
    if B < 1:
        raise ValueError(f"n_permutations must be at least 1, got {n_permutations}")
    if not 0 < level <= 1:
        raise ValueError(f"level must be in (0, 1], got {level}")
    X = np.asarray(X, dtype=np.float64)
    R = np.asarray(R, dtype=np.float64).reshape(X.shape[0], -1)
    w = None
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=np.float64).ravel()
        if w.shape != (X.shape[0],) or not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise ValueError(f"sample_weight must hold one positive weight per row ({X.shape[0]})")
        if np.ptp(w) == 0:
            w = None  # equal weights: the unweighted screen, exactly
    Xs = _standardise(X, w)
    Xs32, Q32 = Xs.astype(np.float32), None  # the p x p products dominate: float32
    if not linear_only:
        Q = np.abs(Xs)  # the even term: |x_j| catches x^2, |x|, cos x and bounded even effects alike
        Q32 = _standardise(Q, w).astype(np.float32)
    R32 = (R if w is None else weighted_residuals(R, w)).astype(np.float32)
    stats = _screen_stats(Xs32, Q32, R32, scaled=w is not None)
    rng = np.random.default_rng(random_state)
    maxima = np.sort([[float(s.max()) for s in _screen_stats(Xs32, Q32, R32[rng.permutation(len(R))],
                                                                scaled=w is not None)]
                      for _ in range(B)], axis=0)  # (B, 1 or 3): each statistic's permutation maxima, ascending
    k = min(max(round(level * (B + 1)), 1), B)
    thr = maxima[B - k]  # the k-th largest per statistic
    keep = np.zeros(X.shape[1], dtype=bool)
    for s, t in zip(stats, thr):
        keep |= s > t
    return keep


def _median(x, w=None) -> float:
    """The median of ``x``, of the rows repeated by their weights ``w`` when given: the value
    where the cumulative weight passes half the total, the midpoint of two values where it
    lands on half exactly (for integer weights, ``np.median`` of the repeated rows)."""
    if w is None:
        return float(np.median(x))
    x, w = x[w > 0], w[w > 0]
    order = np.argsort(x, kind="stable")
    xs, cum = x[order], np.cumsum(w[order])
    half = cum[-1] / 2.0
    i = int(np.searchsorted(cum, half))  # first cumulative weight >= half
    return float(0.5 * (xs[i] + xs[i + 1])) if cum[i] == half and i + 1 < xs.size else float(xs[i])


def robust_scale(r, sample_weight=None) -> float:
    """``1.4826 x`` the median absolute deviation of ``r`` (the standard deviation at the
    normal, unmoved by a few huge values); falls back to the standard deviation, then 1, where
    it is zero. ``sample_weight``: the medians and deviation of the rows repeated by their
    weights (equal weights: the unweighted scale, exactly)."""
    r = np.asarray(r, dtype=np.float64).ravel()
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).ravel()
    if w is not None and (w.shape != r.shape or not np.all(np.isfinite(w) & (w >= 0)) or w.sum() <= 0):
        raise ValueError(f"sample_weight must hold one finite weight >= 0 per residual ({r.size}), "
                         "not all zero")
    if w is not None and np.ptp(w) == 0:
        w = None
    s = _MAD_TO_SD * _median(np.abs(r - _median(r, w)), w)
    if not s > 1e-12:
        s = float(np.sqrt(np.average((r - np.average(r, weights=w)) ** 2, weights=w)))
    return s if s > 1e-12 else 1.0
