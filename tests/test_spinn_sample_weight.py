"""``sample_weight`` and ``warm_start`` in the SPINN estimators."""

import numpy as np
import pytest

from glassnet import SPINNClassifier, SPINNClassifierCV, SPINNRegressor, SPINNRegressorCV

GLM = {"hidden": (), "activation": "identity", "penalty": "l1", "n_path": 5, "max_epochs": 3000,
       "tol": 1e-12, "dtype": "float64", "random_state": 0}


def _data(n=120, p=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = 2 * X[:, 0] - X[:, 1] + np.sin(2 * X[:, 2]) + 0.3 * rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("cls", [SPINNRegressor, SPINNClassifier])
def test_zero_weights_are_dropped_rows(cls):
    """Every stage (scaling, null model, screen, starts, path) reads only the rows that carry
    weight, so a weight of zero is the row left out."""
    X, y = _data()
    if cls is SPINNClassifier:
        y = (y > np.median(y)).astype(int)
    keep = np.arange(len(y)) % 3 != 0
    kw = {"max_epochs": 60, "n_path": 3, "random_state": 0, "dtype": "float64"}
    a = cls(**kw).fit(X, y, sample_weight=keep.astype(float))
    b = cls(**kw).fit(X[keep], y[keep])
    np.testing.assert_array_equal(a.support_, b.support_)
    out = "predict_proba" if cls is SPINNClassifier else "predict"
    np.testing.assert_allclose(getattr(a, out)(X), getattr(b, out)(X), rtol=1e-6, atol=1e-8)


def test_integer_weights_match_repeated_rows_in_a_convex_fit():
    """On a convex problem (a lasso GLM, squared loss) the weighted fit is the fit on repeated
    rows: the loss is the weighted mean and the solution is unique."""
    X, y = _data()
    w = np.random.default_rng(1).integers(1, 4, len(y))
    kw = dict(GLM, lam=0.05, loss="squared_error", lr=0.5)
    a = SPINNRegressor(**kw).fit(X, y, sample_weight=w)
    b = SPINNRegressor(**kw).fit(np.repeat(X, w, 0), np.repeat(y, w))
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-5, atol=1e-6)


def test_integer_weights_match_repeated_rows_under_the_huber_loss():
    """The Huber delta comes from the MAD of the null residuals, which was unweighted (delta
    1.710 against 1.848 for the repeated rows; predictions 0.11 apart): now the weighted MAD."""
    from glassnet.paths.screen import robust_scale

    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 8))
    y = 2 * X[:, 0] + 0.5 * rng.standard_normal(80)
    y[:3] += 8
    w = rng.integers(0, 4, 80)
    kw = {"hidden": (), "activation": "identity", "penalty": "l1", "lam": 0.05, "n_path": 3,
          "max_epochs": 3000, "tol": 1e-12, "dtype": "float64", "random_state": 0}
    a = SPINNRegressor(**kw).fit(X, y, sample_weight=w)
    b = SPINNRegressor(**kw).fit(np.repeat(X, w, 0), np.repeat(y, w))
    assert a.huber_delta_ == pytest.approx(b.huber_delta_, rel=1e-12)
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-5, atol=1e-6)
    r = rng.standard_normal(9)
    for wr in (rng.integers(1, 4, 9), np.r_[0, rng.integers(1, 4, 8)]):  # the repeated rows' MAD
        assert robust_scale(r, wr) == pytest.approx(robust_scale(np.repeat(r, wr)), rel=1e-12)
    assert robust_scale(r, np.full(9, 3.0)) == robust_scale(r)
    for bad in (np.zeros(9), np.ones(8), np.r_[-1.0, np.ones(8)], np.r_[np.nan, np.ones(8)]):
        with pytest.raises(ValueError, match="one finite weight >= 0 per residual"):
            robust_scale(r, bad)


def test_sample_weight_is_checked_and_changes_the_cv_fit():
    X, y = _data()
    with pytest.raises(ValueError, match="sample_weight|negative"):
        SPINNRegressor(max_epochs=5).fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="[Ss]ample weights|sums to zero"):
        SPINNRegressor(max_epochs=5).fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match="sample_weight"):
        SPINNRegressor(max_epochs=5).fit(X, y, sample_weight=np.ones(3))
    kw = {"cv": 3, "n_lambdas": 5, "max_epochs": 30, "random_state": 0, "relax": False}
    w = np.where(X[:, 0] > 0, 5.0, 1.0)
    a = SPINNRegressorCV(**kw).fit(X, y)
    b = SPINNRegressorCV(**kw).fit(X, y, sample_weight=w)
    assert not np.allclose(a.predict(X), b.predict(X))


def test_warm_start_continues_the_path_to_the_same_solution():
    """A convex lasso GLM: continuing from the fit at a larger lambda reaches the solution of a
    cold fit at the new lambda, through a path that starts where the last fit ended."""
    X, y = _data()
    kw = dict(GLM, loss="squared_error", lr=0.5)
    warm = SPINNRegressor(lam=0.2, warm_start=True, **kw).fit(X, y)
    first = warm.lambda_fit_
    warm.set_params(lam=0.02).fit(X, y)
    cold = SPINNRegressor(lam=0.02, **kw).fit(X, y)
    np.testing.assert_allclose(warm.predict(X), cold.predict(X), rtol=1e-5, atol=1e-6)
    lams = [r.lam for r in warm.path_]
    assert first > max(lams) and min(lams) == pytest.approx(0.02)
    assert warm.n_features_in_ == X.shape[1]


def test_warm_start_on_data_of_another_width_fits_anew():
    """The docstring's "same width": on X with other columns the fit starts again (it used to
    carry the old network's input mask into the new path and fail reshaping it)."""
    X, y = _data()
    kw = dict(GLM, loss="squared_error", lr=0.5)
    warm = SPINNRegressor(lam=0.05, warm_start=True, **kw).fit(X, y)
    warm.fit(X[:, :-1], y)
    cold = SPINNRegressor(lam=0.05, **kw).fit(X[:, :-1], y)
    assert warm.n_features_in_ == X.shape[1] - 1
    np.testing.assert_allclose(warm.predict(X[:, :-1]), cold.predict(X[:, :-1]), rtol=1e-6, atol=1e-7)
    clf = SPINNClassifier(lam=0.05, warm_start=True, max_epochs=20).fit(X, y > np.median(y))
    assert clf.fit(X[:, :-1], y > np.median(y)).predict(X[:, :-1]).shape == (X.shape[0],)


def test_warm_start_keeps_the_default_lambda_and_refits_new_classes_anew():
    """``lam=None`` is 0.1 x ``lambda_max_`` on every warm refit (it used to be 0.1 x the last
    fit's lambda, a tenth smaller each time); labels other than the last fit's start anew
    (they used to keep the old ``classes_`` and a binary head for three classes)."""
    X, y = _data()
    reg = SPINNRegressor(warm_start=True, max_epochs=30, n_path=3, random_state=0)
    lams = [reg.fit(X, y).lambda_fit_ for _ in range(3)]
    assert lams == pytest.approx([0.1 * reg.lambda_max_] * 3)
    y3 = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    kw = {"max_epochs": 10, "n_path": 2, "random_state": 0}
    clf = SPINNClassifier(warm_start=True, **kw).fit(X, (y3 > 0).astype(int))
    clf.fit(X, y3)
    cold = SPINNClassifier(**kw).fit(X, y3)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    np.testing.assert_allclose(clf.predict_proba(X), cold.predict_proba(X), rtol=1e-6, atol=1e-7)
    assert list(clf.fit(X, np.where(y3 > 0, "a", "b")).classes_) == ["a", "b"]


@pytest.mark.parametrize("cls", [SPINNRegressorCV, SPINNClassifierCV])
def test_cv_with_zero_weights_is_the_cv_on_the_kept_rows(cls):
    """Zero-weight rows are left out before the folds are drawn: with one row in ten weighted
    the CV fit used to meet folds without weight (NaN losses, "All-NaN slice")."""
    X, y = _data(n=100)
    if cls is SPINNClassifierCV:
        y = (y > np.median(y)).astype(int)
    w = (np.random.default_rng(1).random(len(y)) < 0.3).astype(float)
    kw = {"cv": 2, "n_lambdas": 3, "max_epochs": 10, "random_state": 0, "dtype": "float64"}
    a = cls(**kw).fit(X, y, sample_weight=w)
    b = cls(**kw).fit(X[w > 0], y[w > 0])
    np.testing.assert_array_equal(a.support_, b.support_)
    out = "predict_proba" if cls is SPINNClassifierCV else "predict"
    np.testing.assert_allclose(getattr(a, out)(X), getattr(b, out)(X), rtol=1e-6, atol=1e-8)


def test_path_checks_validation_data_and_takes_lambdas_in_any_order():
    X, y = _data()
    kw = {"max_epochs": 30, "random_state": 0, "dtype": "float64"}
    grid = [0.03, 0.1, 0.3, 1.0]
    up = SPINNRegressor(**kw).path(X, y, lambdas=grid)
    down = SPINNRegressor(**kw).path(X, y, lambdas=grid[::-1])
    assert [r.lam for r in up] == grid[::-1]
    for a, b in zip(up, down):
        np.testing.assert_array_equal(a.selected, b.selected)
    reg = SPINNRegressor(**kw)
    bad = [({"X_val": X[:5]}, "together"), ({"X_val": X[:5], "y_val": np.full(5, np.nan)}, "NaN"),
           ({"X_val": X[:5], "y_val": np.array(list("abcde"))}, "numeric"),
           ({"X_val": X[:5], "y_val": y[:5, None]}, "1-d"), ({"X_val": X[:5], "y_val": y[:4]}, "rows")]
    for extra, match in bad:
        with pytest.raises(ValueError, match=match):
            reg.path(X, y, n_lambdas=2, **extra)
    with pytest.raises(ValueError, match=r"labels not in the training y: \[7\]"):
        SPINNClassifier(**kw).path(X, (y > 0).astype(int), n_lambdas=2, X_val=X[:3], y_val=[0, 1, 7])
