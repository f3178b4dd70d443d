"""Synthetic generators of the papers' simulations."""

from __future__ import annotations

import numpy as np

from glassnet.datasets._base import check_draw


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
    check_draw(random_state, {"noise_std": noise_std, "pair_noise_std": pair_noise_std},
               n_samples=n_samples, n_features=n_features, n_true=n_true)
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


def _spinn_mean(X, coefs=(1.0, 1.0, 1.0, 1.0)):
    """Feng & Simon-style mean: additive nonlinear terms plus interactions on inputs 0..5.

    ``f(x) = 2 c0 sin(x0) + 2 c1 tanh(2 x1) + c2 (x2 + x3 + x2 x3) + 2 c3 tanh(x4 + x5)``.
    Every relevant input has a monotone marginal trend (a network started at ``W1 = 0`` sees only
    linear correlations in its first gradient), and ``x2 x3`` and ``tanh(x4 + x5)`` are
    non-additive.
    """
    c0, c1, c2, c3 = coefs
    return (2 * c0 * np.sin(X[:, 0]) + 2 * c1 * np.tanh(2 * X[:, 1])
            + c2 * (X[:, 2] + X[:, 3] + X[:, 2] * X[:, 3]) + 2 * c3 * np.tanh(X[:, 4] + X[:, 5]))


SPINN_SUPPORT = np.arange(6)


def make_spinn_simulation(n_samples: int = 500, n_features: int = 1000, task: str = "regression",
                          n_classes: int = 2, noise_std: float = 1.0, random_state=None):
    """High-dimensional sparse nonlinear simulation for SPINN (after Feng & Simon, Sec. 5).

    ``X ~ N(0, I_p)``; the mean ``f`` (see :func:`_spinn_mean`) uses inputs 0..5 only. The
    exact function of the paper is not reproduced; this one keeps its structure (p = 1000, six
    relevant inputs, additive plus interaction terms). ``task="regression"``: ``y = f(x) + eps``,
    ``eps ~ N(0, noise_std^2)``. ``task="classification"``: ``n_classes = 2`` draws
    ``y ~ Bernoulli(sigmoid(f(x)))``; ``n_classes = K >= 3`` cuts ``f(x) + eps`` at the
    population quantiles ``k/K`` into K ordered classes. Returns ``X, y, support``.
    """
    check_draw(random_state, {"noise_std": noise_std}, n_samples=n_samples, n_features=n_features,
               n_classes=n_classes)
    if n_features < 7:
        raise ValueError("n_features must be >= 7 (six relevant inputs plus noise)")
    if task not in ("regression", "classification"):
        raise ValueError(f"task must be 'regression' or 'classification', got {task!r}")
    rng = np.random.default_rng(random_state)
    X = rng.standard_normal((n_samples, n_features))
    f = _spinn_mean(X)
    if task == "regression":
        return X, f + rng.normal(0.0, noise_std, n_samples), SPINN_SUPPORT.copy()
    if n_classes == 2:
        return X, (rng.uniform(size=n_samples) < 1 / (1 + np.exp(-f))).astype(int), SPINN_SUPPORT.copy()
    if n_classes < 2:
        raise ValueError("n_classes must be >= 2")
    ref = np.random.default_rng(12345).standard_normal((20000, 6))  # population quantiles of f + eps
    cuts = np.quantile(_spinn_mean(ref) + np.random.default_rng(1).normal(0, noise_std, 20000),
                       np.arange(1, n_classes) / n_classes)
    return X, np.searchsorted(cuts, f + rng.normal(0.0, noise_std, n_samples)), SPINN_SUPPORT.copy()


def make_integrative_simulation(n_samples=(150, 100, 200), n_features: int = 200, task: str = "regression",
                                noise_std: float = 1.0, random_state=None):
    """M data sets sharing the support {0..5} with data-set-specific effect sizes.

    Data set m uses the mean of :func:`make_spinn_simulation` with its own coefficients
    ``c_m ~ U(0.4, 1.2)`` per term, its own sample size ``n_samples[m]`` and its own inputs.
    Returns ``Xs, ys, support`` (lists of arrays). Classification: ``y ~ Bernoulli(sigmoid(f_m))``.
    """
    if np.ndim(n_samples) != 1:
        raise ValueError(f"n_samples must be a sequence of sizes, one per data set, got {n_samples!r}")
    check_draw(random_state, {"noise_std": noise_std}, n_features=n_features, n_samples=list(n_samples))
    if n_features < 6:
        raise ValueError("n_features must be >= 6 (the six relevant inputs)")
    if task not in ("regression", "classification"):
        raise ValueError(f"task must be 'regression' or 'classification', got {task!r}")
    rng = np.random.default_rng(random_state)
    Xs, ys = [], []
    for n in n_samples:
        X = rng.standard_normal((int(n), n_features))
        f = _spinn_mean(X, tuple(rng.uniform(0.4, 1.2, 4)))
        y = (f + rng.normal(0.0, noise_std, int(n)) if task == "regression"
             else (rng.uniform(size=int(n)) < 1 / (1 + np.exp(-f))).astype(int))
        Xs.append(X)
        ys.append(y)
    return Xs, ys, SPINN_SUPPORT.copy()


def make_related_datasets(n_datasets: int = 4, n_samples=100, n_features: int = 40,
                          n_informative: int = 4, noise_std: float = 0.5, n_test: int = 0,
                          random_state=None):
    """M related regression data sets for integrative analysis: a shared support, effects of
    each set's own size and sign pattern, and inputs drawn from each set's own distribution.

    - Support: the first ``n_informative`` inputs in every set.
    - Mean of set m: ``f_m(x) = sum_j c_mj g_j(x_j)`` with ``g_j`` cycling through
      ``x``, ``sin(2x)``, ``tanh(2x)`` and ``x |x| / 2``, and ``c_mj ~ U(0.6, 1.4)`` times a sign
      that flips with probability 0.2 (related, not identical, effects).
    - Inputs of set m: ``N(mu_m, Sigma_m)``, a mean shift ``mu_m ~ N(0, 0.3^2)`` per input and
      a Toeplitz correlation ``rho_m^|i-j|`` with ``rho_m ~ U(0, 0.5)``, scaled by ``s_m ~ U(0.8, 1.25)``.
    - ``y = f_m(x) + N(0, noise_std^2)``.

    ``n_samples``: one size for all sets or one per set. With ``n_test`` > 0 also returns
    ``n_test`` fresh samples per set from the same distributions. Returns ``Xs, ys, support``
    (and ``Xs_test, ys_test``).
    """
    check_draw(random_state, {"noise_std": noise_std}, n_datasets=n_datasets, n_features=n_features,
               n_informative=n_informative, n_test_or_0=n_test,
               n_samples=list(n_samples) if np.ndim(n_samples) else n_samples)
    rng = np.random.default_rng(random_state)
    M, p, k = int(n_datasets), int(n_features), int(n_informative)
    if M < 1 or k < 1 or k > p:
        raise ValueError("need n_datasets >= 1 and 1 <= n_informative <= n_features")
    sizes = [int(n_samples)] * M if np.ndim(n_samples) == 0 else [int(n) for n in n_samples]
    if len(sizes) != M:
        raise ValueError(f"n_samples must be one size or {M} sizes, got {len(sizes)}")
    terms = (lambda x: x, lambda x: np.sin(2 * x), lambda x: np.tanh(2 * x), lambda x: x * np.abs(x) / 2)
    Xs, ys, Xt, yt = [], [], [], []
    for m in range(M):
        mu = rng.normal(0.0, 0.3, p)
        rho, scale = rng.uniform(0.0, 0.5), rng.uniform(0.8, 1.25)
        L = np.linalg.cholesky(rho ** np.abs(np.subtract.outer(np.arange(p), np.arange(p))))
        c = rng.uniform(0.6, 1.4, k) * np.where(rng.uniform(size=k) < 0.2, -1.0, 1.0)

        def draw(n, mu=mu, scale=scale, L=L, c=c):
            X = mu + scale * rng.standard_normal((n, p)) @ L.T
            f = sum(c[j] * terms[j % 4](X[:, j]) for j in range(k))
            return X, f + rng.normal(0.0, noise_std, n)

        X, y = draw(sizes[m])
        Xs.append(X)
        ys.append(y)
        if n_test:
            X, y = draw(int(n_test))
            Xt.append(X)
            yt.append(y)
    support = np.arange(k)
    return (Xs, ys, support, Xt, yt) if n_test else (Xs, ys, support)
