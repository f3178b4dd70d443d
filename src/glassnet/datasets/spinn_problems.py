"""Synthetic problems of the SPINN reproductions: the selection suite of issue 8 (inputs that
act linearly, through even functions or only through products) and the fresh test draws of the
integrative simulation. ``selection_problem(name, n, seed)`` returns training and test data."""

from __future__ import annotations

import numpy as np

from glassnet.datasets.synthetic import _spinn_mean

__all__ = ["SELECTION_PROBLEMS", "integrative_test_draw", "selection_problem"]


def _toeplitz_normal(n, p, rho, rng):
    from scipy.linalg import toeplitz

    L = np.linalg.cholesky(toeplitz(rho ** np.arange(p)))
    return rng.standard_normal((n, p)) @ L.T


def _friedman(p):
    def gen(n, rng):
        X = rng.uniform(size=(n, p))
        f = (10 * np.sin(np.pi * X[:, 0] * X[:, 1]) + 20 * (X[:, 2] - 0.5) ** 2 + 10 * X[:, 3]
             + 5 * X[:, 4])
        return (X - 0.5) * np.sqrt(12), f + rng.standard_normal(n)  # standardised uniform inputs
    return gen


def _even(n, rng):
    X = rng.standard_normal((n, 100))
    return X, X[:, 0] ** 2 + 1.5 * np.abs(X[:, 1]) + 2 * np.cos(X[:, 2]) + rng.standard_normal(n)


def _interaction(n, rng):
    X = rng.standard_normal((n, 100))
    return X, 2 * X[:, 0] * X[:, 1] + 2 * X[:, 2] * X[:, 3] + rng.standard_normal(n)


def _xor(n, rng):
    X = rng.standard_normal((n, 100))
    return X, (X[:, 0] * X[:, 1] + 0.2 * rng.standard_normal(n) > 0).astype(int)


def _mix(n, rng):
    X = _toeplitz_normal(n, 100, 0.5, rng)
    return X, 1.5 * X[:, 0] + X[:, 5] ** 2 + 2 * X[:, 10] * X[:, 15] + rng.standard_normal(n)


def _softmax3(n, rng):
    X = rng.standard_normal((n, 100))
    g = 3 * np.column_stack([X[:, 0] * X[:, 1], X[:, 2] * X[:, 3], np.zeros(n)])
    P = np.exp(g - g.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    return X, (P.cumsum(1) > rng.uniform(size=(n, 1))).argmax(1)


def _heavy_tail(n, rng):
    X = rng.standard_normal((n, 100))
    return X, _spinn_mean(X) + 0.7 * rng.standard_t(2, n)


def _even_logistic(n, rng):
    X = rng.standard_normal((n, 100))
    g = 1.5 * (X[:, 0] ** 2 - 1) + 2 * np.cos(2 * X[:, 1]) + 1.5 * X[:, 2]
    return X, (rng.uniform(size=n) < 1 / (1 + np.exp(-g))).astype(int)


def _additive(n, rng):
    X = rng.standard_normal((n, 100))
    return X, _spinn_mean(X) + rng.standard_normal(n)


# name -> (generator(n, rng) -> (X, y), task, true support, what it is)
SELECTION_PROBLEMS = {
    "friedman1-p100": (_friedman(100), "regression", [0, 1, 2, 3, 4], "Friedman 1, p = 100"),
    "friedman1-p1000": (_friedman(1000), "regression", [0, 1, 2, 3, 4], "Friedman 1, p = 1000"),
    "even": (_even, "regression", [0, 1, 2], "x0^2 + 1.5|x1| + 2 cos x2, p = 100"),
    "interaction": (_interaction, "regression", [0, 1, 2, 3], "2 x0 x1 + 2 x2 x3, p = 100"),
    "xor": (_xor, "classification", [0, 1], "sign-XOR of x0, x1, p = 100"),
    "mix-toeplitz": (_mix, "regression", [0, 5, 10, 15],
                     "1.5 x0 + x5^2 + 2 x10 x15, Toeplitz rho = 0.5, p = 100"),
    "softmax3": (_softmax3, "classification", [0, 1, 2, 3],
                 "3 classes, logits 3 x0 x1, 3 x2 x3, 0; p = 100"),
    "heavy-tail": (_heavy_tail, "regression", [0, 1, 2, 3, 4, 5],
                   "additive + interaction mean, 0.7 t(2) noise, p = 100"),
    "even-logistic": (_even_logistic, "classification", [0, 1, 2],
                      "logit 1.5(x0^2 - 1) + 2 cos 2x1 + 1.5 x2, p = 100"),
    "additive": (_additive, "regression", [0, 1, 2, 3, 4, 5],
                 "make_spinn_simulation's mean, N(0,1) noise, p = 100"),
}


def selection_problem(name, n, seed, n_test=1000):
    """(X, y, X_test, y_test, support, task) of a suite problem; the test draw is independent."""
    gen, task, support, _ = SELECTION_PROBLEMS[name]
    X, y = gen(n, np.random.default_rng([seed, n]))
    Xt, yt = gen(n_test, np.random.default_rng([seed, n, 1]))
    return X, y, Xt, yt, np.array(support), task


def integrative_test_draw(sizes, p, seed, n_test=1000):
    """Fresh samples from the same data-set-specific mean functions as
    ``make_integrative_simulation(sizes, p, random_state=seed)`` drew (its test sets)."""
    rng = np.random.default_rng(seed)
    coefs = []
    for n in sizes:  # replay the training generator's draws to recover each set's effects
        rng.standard_normal((int(n), p))
        coefs.append(tuple(rng.uniform(0.4, 1.2, 4)))
        rng.normal(0.0, 1.0, int(n))
    test_rng = np.random.default_rng(seed + 10_000)
    Xt, yt = [], []
    for c in coefs:
        X = test_rng.standard_normal((n_test, p))
        Xt.append(X)
        yt.append(_spinn_mean(X, c) + test_rng.normal(0.0, 1.0, n_test))
    return Xt, yt
