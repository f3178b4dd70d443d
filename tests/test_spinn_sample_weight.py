"""``sample_weight`` and ``warm_start`` in the SPINN estimators."""

import numpy as np
import pytest

from glassnet import SPINNClassifier, SPINNRegressor, SPINNRegressorCV

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
