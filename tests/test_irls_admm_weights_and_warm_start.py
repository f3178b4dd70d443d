"""``sample_weight`` in the IRLS-ADMM estimators (issue 23): each sample's loss term times its
weight, in the unfolded IRLS steps as in the selection's and the refit's ridge regressions; and
``ADMMLogisticRegression``'s ``warm_start``."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from glassnet import ADMMLogisticRegression, IRLSADMMNetClassifier, MultinomialIRLSADMMNetClassifier
from glassnet.nn.irls_admm import IRLSADMMNet, MultinomialIRLSADMMNet


def _binary(n=80, p=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = (X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=n) > 0).astype(int)
    return X, y


def _weights_and_repeats(n, seed=1):
    w = np.random.default_rng(seed).integers(1, 4, size=n).astype(float)
    return w, np.repeat(np.arange(n), w.astype(int))


def test_weighted_unfolded_steps_equal_repeated_rows():
    """Algorithm 1 (line search, F = I) and the net's stages with integer weights give the
    output of the same module on the rows repeated, in both least-squares forms."""
    X, y = _binary()
    w, rep = _weights_and_repeats(len(y))
    P = torch.as_tensor(np.where(y > 0, 1.0, -1.0)[:, None] * np.c_[X, np.ones(len(y))])
    for kw in ({"line_search": True, "trainable": False, "k_max": 20, "i_max": 100, "F": 1.0},
               {"solver": "kernel"}, {"solver": "primal"}):
        net = IRLSADMMNet(P.shape[1], **kw)
        a = net(P, sample_weight=torch.as_tensor(w)).beta
        b = net(P[rep]).beta
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-10)
    Phi = torch.as_tensor(np.c_[X, np.ones(len(y))])
    Y = torch.eye(3, dtype=torch.float64)[torch.as_tensor(y + (X[:, 2] > 1))]
    for solver in ("primal", "kernel"):
        net = MultinomialIRLSADMMNet(Phi.shape[1], n_classes=3, solver=solver)
        torch.testing.assert_close(net(Phi, Y, sample_weight=torch.as_tensor(w)).beta,
                                   net(Phi[rep], Y[rep]).beta, rtol=1e-8, atol=1e-10)


def test_admm_logistic_regression_weights_are_repeated_rows_and_match_sklearn():
    X, y = _binary()
    w, rep = _weights_and_repeats(len(y))
    a = ADMMLogisticRegression(lam=2.0).fit(X, y, sample_weight=w)
    b = ADMMLogisticRegression(lam=2.0).fit(X[rep], y[rep])
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-7)
    ref = LogisticRegression(l1_ratio=1.0, C=0.5, solver="liblinear", tol=1e-10, max_iter=10_000,
                             intercept_scaling=1e4).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(a.coef_, ref.coef_, atol=2e-3)
    u = ADMMLogisticRegression(lam=2.0).fit(X, y)
    assert np.abs(u.coef_ - a.coef_).max() > 1e-2  # the weights are not ignored


@pytest.mark.parametrize("cls", [IRLSADMMNetClassifier, MultinomialIRLSADMMNetClassifier])
def test_zero_weight_is_the_row_left_out(cls):
    X, y = _binary(n=90, p=8)
    if cls is MultinomialIRLSADMMNetClassifier:
        y = y + (X[:, 2] > 0.5)
    w = np.ones(len(y))
    w[::6] = 0.0
    w[1::6] = 2.0
    kw = {"random_state": 0, "max_epochs": 3, "cv": 3}
    a = cls(**kw).fit(X, y, sample_weight=w)
    keep = w > 0
    b = cls(**kw).fit(X[keep], y[keep], sample_weight=w[keep])
    np.testing.assert_array_equal(a.get_support(), b.get_support())
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-12)
    # the weights reach the fit: the same rows unweighted give another classifier
    c = cls(**kw).fit(X[keep], y[keep])
    assert np.abs(c.predict_proba(X) - b.predict_proba(X)).max() > 1e-6


def test_unit_weights_are_the_unweighted_fit():
    X, y = _binary()
    kw = {"random_state": 0, "max_epochs": 3, "cv": 2}
    a = IRLSADMMNetClassifier(**kw).fit(X, y, sample_weight=np.ones(len(y)))
    b = IRLSADMMNetClassifier(**kw).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_weights_that_leave_one_class_are_refused():
    X, y = _binary()
    with pytest.raises(ValueError, match="single class|binary|two"):
        IRLSADMMNetClassifier(max_epochs=2).fit(X, y, sample_weight=(y == 1).astype(float))
    with pytest.raises(ValueError, match="single class"):
        MultinomialIRLSADMMNetClassifier(max_epochs=2).fit(X, y, sample_weight=(y == 1).astype(float))
    with pytest.raises(ValueError, match="sample_weight"):
        IRLSADMMNet(3)(torch.zeros(4, 3, dtype=torch.float64), sample_weight=torch.ones(5))


def test_admm_warm_start_follows_a_path_to_the_same_optimum_in_fewer_stages():
    X, y = _binary(n=120, p=10)
    warm = ADMMLogisticRegression(lam=8.0, warm_start=True).fit(X, y)
    for lam in (4.0, 2.0, 1.0):
        warm.set_params(lam=lam).fit(X, y)
        cold = ADMMLogisticRegression(lam=lam).fit(X, y)
        np.testing.assert_allclose(warm.coef_, cold.coef_, atol=1e-6)
        assert warm.n_stages_ < cold.n_stages_
    # another width: a cold start, not an error
    assert warm.fit(X[:, :5], y).coef_.shape == (1, 5)
