"""Synthetic generators of the papers' simulations."""

from __future__ import annotations

import numpy as np


def make_irls_admm_simulation(
    n_samples: int = 500,
    n_features: int = 50,
    n_true: int = 8,
    noise_std: float = 0.0,
    pair_noise_std: float = 0.1,
    random_state=None,
):
    """IRLS-ADMM paper, Sec. IV.A: correlated true features, labels by a noisy linear model.

    ``Phi`` is standard normal; the true features are split into S1 (first half) and S2 (second
    half) with ``phi_{S2,m} = phi_{S1,m} + N(0, pair_noise_std)``. ``y = sign(Phi beta + eps)``
    with ``eps ~ N(0, noise_std^2)``. The paper does not give ``beta``; we draw the true weights
    as U(1, 2) magnitudes with one random sign per pair (S1_m, S2_m), so a pair does not
    cancel itself and every true feature matters. Returns ``X, y, beta, support``
    with the true features at random positions.
    """
    if n_true % 2 or n_true < 2 or n_true > n_features:
        raise ValueError("n_true must be even, >= 2 and <= n_features")
    rng = np.random.default_rng(random_state)
    X = rng.standard_normal((n_samples, n_features))
    support = np.sort(rng.choice(n_features, n_true, replace=False))
    s1, s2 = support[: n_true // 2], support[n_true // 2 :]
    X[:, s2] = X[:, s1] + rng.normal(0.0, pair_noise_std, size=(n_samples, s1.size))
    beta = np.zeros(n_features)
    signs = rng.choice([-1.0, 1.0], n_true // 2)  # one sign per correlated pair (S1_m, S2_m)
    beta[s1] = signs * rng.uniform(1.0, 2.0, s1.size)
    beta[s2] = signs * rng.uniform(1.0, 2.0, s2.size)
    score = X @ beta + rng.normal(0.0, noise_std, n_samples) if noise_std > 0 else X @ beta
    y = np.where(score > 0, 1, -1)
    return X, y, beta, support
