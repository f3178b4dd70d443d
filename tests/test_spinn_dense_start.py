"""SPINN regression's dense start and path carry a small ridge on W1 where the screened inputs
are correlated (docs/history/spinn.md). Without it the dense fit splits the weight of
correlated inputs arbitrarily and the path up from it keeps neighbours of the true inputs
instead of the true inputs; on independent inputs the fit is the one without the ridge."""

import numpy as np
import pytest
import torch

from glassnet.datafits import Squared
from glassnet.estimators.spinn import SPINNRegressor, single
from glassnet.estimators.spinn._engine import w1_ridge_where_correlated
from glassnet.experiments.spinn import selection_problem
from glassnet.paths import Batch, Problem
from glassnet.penalties import GroupMCP


def _supports(records):
    return {tuple(np.flatnonzero(r.selected).tolist()) for r in records}


def test_correlated_neighbours_leave_the_path_before_the_true_inputs(monkeypatch):
    # the suite's mix-toeplitz (1.5 x0 + x5^2 + 2 x10 x15, Toeplitz rho = 0.5, p = 100) at
    # n = 300, tuning seed 14: without the W1 ridge no point of the path has the true inputs
    # alone (their neighbours 9, 11, 14, 16, 17 stay on it as long)
    X, y, *_, support, _ = selection_problem("mix-toeplitz", 300, 14)
    true = tuple(support.tolist())
    assert true in _supports(SPINNRegressor(random_state=14).path(X, y))
    monkeypatch.setitem(single.PATH_W1_RIDGE, "mse", 0.0)
    assert true not in _supports(SPINNRegressor(random_state=14).path(X, y))


def test_independent_inputs_fit_as_without_the_ridge(monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 20))
    y = X[:, 0] + X[:, 1] ** 2 + 0.5 * rng.standard_normal(200)
    a = SPINNRegressor(random_state=0, n_path=4).fit(X, y)
    monkeypatch.setitem(single.PATH_W1_RIDGE, "mse", 0.0)
    b = SPINNRegressor(random_state=0, n_path=4).fit(X, y)
    for k, v in a.module_.state_dict().items():
        assert torch.equal(v, b.module_.state_dict()[k])


@pytest.mark.parametrize("rho, kept", [(0.6, True), (0.0, False)])
def test_ridge_kept_only_where_two_screened_inputs_correlate(rho, kept):
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((300, 4))
    Z[:, 1] = rho * Z[:, 0] + np.sqrt(1 - rho**2) * Z[:, 1]
    X = torch.as_tensor(Z, dtype=torch.float32)
    ones = torch.ones(300, 1)
    batch = Batch(X, ones, ones / 300)
    problem = Problem(Squared(), 0.3, GroupMCP(), w1_ridge=0.02)
    mask = np.array([True, True, False, True])
    assert w1_ridge_where_correlated(problem, batch, mask).w1_ridge == (0.02 if kept else 0.0)
    # no screened inputs (a path down from W1 = 0): no ridge
    assert w1_ridge_where_correlated(problem, batch, None).w1_ridge == 0.0
    assert problem.objective.lambda_w1 == pytest.approx(0.3 * 0.02)
