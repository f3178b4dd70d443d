"""``sample_weight`` in the MatNet estimators (issue 23): the loss is the weighted mean over the
samples, a zero weight is the row left out, an integer weight the row repeated; and
``warm_start``: a new fit continues the last module."""

import numpy as np
import pytest
import torch

from glassnet import MatNetClassifier, MatNetRegressor
from glassnet.nn.matnet import kl_sparsity


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4, 4))
    y = (X[:, 0, 0] + X[:, 1, 1] > 0).astype(int)
    t = X[:, 0, 0] - 2 * X[:, 2, 3] + 0.1 * rng.normal(size=n)
    return X, y, t


# float64, few epochs: equal fits agree to rounding
FAST = {"dtype": "float64", "max_epochs": 8, "random_state": 0, "hidden_shapes": [(3, 3)]}


@pytest.mark.parametrize("lam", ["auto", 1e-3])
def test_zero_weight_is_the_row_left_out(lam):
    X, y, t = _data()
    w = np.ones(len(y))
    w[::7] = 0.0
    keep = w > 0
    kw = {**FAST, "lam": lam, "batch_size": 16}
    a = MatNetClassifier(**kw).fit(X, y, sample_weight=w)
    b = MatNetClassifier(**kw).fit(X[keep], y[keep])
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-12)
    assert a.lam_ == b.lam_
    r = MatNetRegressor(**kw).fit(X, t, sample_weight=w)
    s = MatNetRegressor(**kw).fit(X[keep], t[keep])
    np.testing.assert_allclose(r.predict(X), s.predict(X), atol=1e-12)


def test_integer_weights_are_repeated_rows_full_batch():
    """Full batch, fixed ``lam``, no validation split: weights 1-3 give the fit on the rows
    repeated that many times (up to summation order), the KL term included."""
    X, y, t = _data()
    w = np.tile([1.0, 2.0, 3.0], len(y) // 3)
    rep = np.repeat(np.arange(len(y)), w.astype(int))
    kw = {**FAST, "lam": 1e-3, "batch_size": None}
    a = MatNetClassifier(**kw, activation="sigmoid", beta=0.1).fit(X, y, sample_weight=w)
    b = MatNetClassifier(**kw, activation="sigmoid", beta=0.1).fit(X[rep], y[rep])
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-8)
    r = MatNetRegressor(**kw).fit(X, t, sample_weight=w)
    s = MatNetRegressor(**kw).fit(X[rep], t[rep])
    np.testing.assert_allclose(r.y_mean_, s.y_mean_, rtol=1e-12)
    np.testing.assert_allclose(r.y_scale_, s.y_scale_, rtol=1e-12)
    np.testing.assert_allclose(r.predict(X), s.predict(X), atol=1e-8)
    # and the weights change the fit (they are not ignored)
    u = MatNetRegressor(**kw).fit(X, t)
    assert np.abs(u.predict(X) - r.predict(X)).max() > 1e-4


def test_equal_weights_are_the_unweighted_fit():
    X, y, t = _data()
    a = MatNetClassifier(**FAST).fit(X, y, sample_weight=np.full(len(y), 2.5))
    b = MatNetClassifier(**FAST).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    r = MatNetRegressor(**FAST).fit(X, t, sample_weight=np.full(len(t), 0.3))
    np.testing.assert_array_equal(r.predict(X), MatNetRegressor(**FAST).fit(X, t).predict(X))


def test_weighted_kl_is_the_kl_of_repeated_rows():
    H = torch.rand(5, 3, 2, dtype=torch.float64)
    w = torch.tensor([1.0, 0.0, 2.0, 1.0, 3.0], dtype=torch.float64)
    rep = torch.repeat_interleave(torch.arange(5), w.long())
    torch.testing.assert_close(kl_sparsity(H, 0.1, w), kl_sparsity(H[rep], 0.1))


@pytest.mark.parametrize("w, match", [
    ([1.0] * 59, "sample_weight"),
    ([-1.0] + [1.0] * 59, "(?i)negative"),
    ([np.nan] + [1.0] * 59, "NaN"),
    ([0.0] * 60, "(sums to zero|at least one non-zero)"),
])
def test_bad_weights_are_refused(w, match):
    X, y, t = _data()
    for est, target in ((MatNetClassifier(**FAST), y), (MatNetRegressor(**FAST), t)):
        with pytest.raises(ValueError, match=match):
            est.fit(X, target, sample_weight=np.array(w))


def test_weights_that_leave_one_class_are_refused():
    X, y, _ = _data()
    with pytest.raises(ValueError, match="single class"):
        MatNetClassifier(**FAST).fit(X, y, sample_weight=(y == 1).astype(float))


def test_warm_start_continues_the_last_module():
    """Plain SGD, full batch, fixed lam: two warm fits of 6 epochs are one fit of 12."""
    X, y, t = _data()
    kw = {**FAST, "lam": 1e-3, "batch_size": None, "optimizer": "sgd", "lr": 0.05}
    for cls, target in ((MatNetClassifier, y), (MatNetRegressor, t)):
        warm = cls(**{**kw, "max_epochs": 6}, warm_start=True).fit(X, target).fit(X, target)
        once = cls(**{**kw, "max_epochs": 12}).fit(X, target)
        for a, b in zip(warm.module_.parameters(), once.module_.parameters()):
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)


def test_warm_start_keeps_lam_and_starts_cold_on_other_classes_or_shapes():
    X, y, _ = _data()
    m = MatNetClassifier(**FAST, warm_start=True).fit(X, y)
    lam, scores = m.lam_, list(m.lam_scores_)
    first = [p.detach().clone() for p in m.module_.parameters()]
    m.fit(X, y)  # continues at lam_, no new choice of lam
    assert m.lam_ == lam and m.lam_scores_ == scores
    assert any(not torch.equal(a, b) for a, b in zip(first, m.module_.parameters()))
    cold = MatNetClassifier(**FAST).fit(X, y + 2)  # other labels: a fresh start
    np.testing.assert_array_equal(m.fit(X, y + 2).predict_proba(X), cold.predict_proba(X))
    wide = MatNetClassifier(**FAST).fit(X[:, :3, :], y)
    np.testing.assert_array_equal(m.fit(X[:, :3, :], y).predict_proba(X[:, :3, :]),
                                  wide.predict_proba(X[:, :3, :]))
