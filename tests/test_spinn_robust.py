"""Huber's loss (the regressors' default ``loss="huber"``) with its scale
from a robust (MAD) estimate of the residuals, so heavy-tailed noise does not steer the screen,
the path and the CV."""

import numpy as np
import pytest
import torch

from glassnet import SPINNRegressor
from glassnet.datafits import Huber, Squared
from glassnet.estimators.spinn import HUBER_K, robust_scale
from glassnet.experiments.spinn import selection_problem


def test_huber_loss_value_and_gradient():
    gen = torch.Generator().manual_seed(0)
    g = 3 * torch.randn(200, 1, generator=gen, dtype=torch.float64)
    y = torch.randn(200, generator=gen, dtype=torch.float64)
    delta = 0.7
    r = (y - g.reshape(-1)).numpy()
    rho = np.where(np.abs(r) <= delta, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta))
    g.requires_grad_(True)
    val = Huber(delta)(g, y)
    val.backward()
    assert np.isclose(val.item(), rho.mean(), rtol=1e-12)
    # its derivative is the residual clipped to [-delta, delta] (mean over samples)
    np.testing.assert_allclose(-g.grad.reshape(-1).numpy() * len(r), np.clip(r, -delta, delta), rtol=1e-12)
    # quadratic where every residual is below delta: the MSE of Feng & Simon
    big = float(np.abs(r).max()) + 1.0
    assert np.isclose(Huber(big)(g, y).item(), Squared()(g, y).item(), rtol=1e-12)
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="delta"):
            Huber(bad)


def test_robust_scale_ignores_outliers():
    rng = np.random.default_rng(0)
    r = rng.standard_normal(2000)
    r[:100] = 1e3  # 5% gross outliers
    assert abs(robust_scale(r) - 1.0) < 0.15
    assert r.std() > 100
    assert robust_scale(np.zeros(10)) == 1.0  # no spread at all: a positive fallback
    assert robust_scale(np.r_[np.zeros(10), 1.0, -1.0]) > 0  # MAD 0: the standard deviation


def test_huber_default_keeps_noise_inputs_out_under_heavy_tails():
    """Heavy-tail problem of the selection suite (0.7 t(2) noise, p = 100, 6 true inputs),
    tuning seed 2, n = 300: under the squared loss a few huge residuals let about half of the
    noise inputs into the fit at the default lambda (51 inputs, held-out R2 below 0); Huber's
    loss keeps exactly the true inputs."""
    X, y, Xt, yt, support, _ = selection_problem("heavy-tail", 300, 2, n_test=500)
    huber = SPINNRegressor(max_epochs=30, random_state=0).fit(X, y)
    squared = SPINNRegressor(loss="squared_error", max_epochs=30, random_state=0).fit(X, y)
    assert set(huber.selected_features_) == set(support)
    assert huber.score(Xt, yt) > 0.5
    assert 0 < huber.huber_delta_ < HUBER_K  # MAD scale of the dense start's residuals (< sd of y)
    assert len(squared.selected_features_) > 20
    assert squared.score(Xt, yt) < huber.score(Xt, yt) - 0.3
    assert squared.huber_delta_ is None


def test_loss_is_validated():
    X, y = np.random.default_rng(0).standard_normal((30, 4)), np.arange(30.0)
    with pytest.raises(ValueError, match="'loss' parameter"):
        SPINNRegressor(loss="absolute", max_epochs=2).fit(X, y)


def test_float32_targets_fit_as_their_float64_values():
    """The target's scaling was computed in float32 for a float32 y (y_scale_ 5.2156648260 vs
    5.2156648494), so the same values gave another fit (0.024 apart under CV)."""
    from sklearn.datasets import make_friedman1
    from sklearn.preprocessing import StandardScaler

    X, y = make_friedman1(120, 8, random_state=0)
    X = StandardScaler().fit_transform(X)
    y32 = y.astype(np.float32)
    a = SPINNRegressor(random_state=0, max_epochs=20).fit(X, y32)
    b = SPINNRegressor(random_state=0, max_epochs=20).fit(X, y32.astype(np.float64))
    assert a.y_scale_ == b.y_scale_ and a.y_mean_ == b.y_mean_
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
