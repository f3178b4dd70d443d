"""Independent fits fan out through joblib, so they run on a Dask cluster (DESIGN.md rule 8):
inside ``joblib.parallel_backend("dask")`` with a ``LocalCluster`` of 2 worker processes, the
CV losses and the selection equal the ``n_jobs=1`` results, and the work ran on the workers.

Needs the ``cluster`` extra (``pip install -e ".[dev,cluster]"``, which ``make test`` installs)."""

import os

import numpy as np
import pytest

pytest.importorskip("dask.distributed", reason="dask[distributed] is not installed "
                    "(the 'cluster' extra: pip install -e '.[dev,cluster]')")

import joblib
from dask.distributed import Client, LocalCluster
from sklearn.datasets import make_regression
from sklearn.linear_model import Lasso

from glassnet.model_selection import cv_path, make_folds, run_folds
from glassnet.stability import StabilitySelection

ALPHAS = np.geomspace(10.0, 0.01, 6)


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                      dashboard_address=None) as cluster, Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def data():
    X, y = make_regression(60, 8, n_informative=3, noise=1.0, random_state=0)
    return X, y


def _ridge_fold(X, y):
    """A fold function: held-out squared error of closed-form ridge at each alpha."""
    def fit_fold(k, tr, va):
        A, b = X[tr], y[tr]
        losses = []
        for a in ALPHAS:
            w = np.linalg.solve(A.T @ A + a * np.eye(A.shape[1]), A.T @ b)
            losses.append(float(np.mean((X[va] @ w - y[va]) ** 2)))
        return losses
    return fit_fold


def _pid_fold():
    """A fold function returning the pid of the process that ran it (a closure: pickled by
    value, so the workers need not import this test module)."""
    def pid(k, tr, va):
        return os.getpid()
    return pid


def test_cv_path_under_dask_equals_n_jobs_1(client, data):
    X, y = data
    folds = make_folds(len(y), 4, random_state=0)
    serial = cv_path(_ridge_fold(X, y), folds, n_jobs=1)
    with joblib.parallel_backend("dask"):
        on_cluster = cv_path(_ridge_fold(X, y), folds, n_jobs=2)
        pids = set(run_folds(_pid_fold(), folds, n_jobs=2))
    assert serial.shape == (4, len(ALPHAS))
    np.testing.assert_array_equal(on_cluster, serial)
    workers = set(client.run(os.getpid).values())
    assert pids <= workers and os.getpid() not in pids  # the folds ran on the 2 workers


def test_stability_selection_under_dask_equals_n_jobs_1(client, data):
    X, y = data
    kw = {"n_subsamples": 6, "random_state": 0}
    serial = StabilitySelection(Lasso(alpha=1.0), n_jobs=1, **kw).fit(X, y)
    with joblib.parallel_backend("dask"):
        on_cluster = StabilitySelection(Lasso(alpha=1.0), n_jobs=2, **kw).fit(X, y)
    np.testing.assert_array_equal(on_cluster.subsample_supports_, serial.subsample_supports_)
    np.testing.assert_array_equal(on_cluster.selected_features_, serial.selected_features_)
    assert serial.selected_features_.size > 0


@pytest.mark.slow
def test_spinn_cv_under_dask_equals_n_jobs_1(client):
    from glassnet import SPINNRegressorCV

    X, y = make_regression(80, 6, n_informative=2, noise=1.0, random_state=1)
    kw = {"cv": 3, "n_lambdas": 5, "hidden": (3,), "max_epochs": 30, "random_state": 0}
    serial = SPINNRegressorCV(n_jobs=1, **kw).fit(X, y)
    with joblib.parallel_backend("dask"):
        on_cluster = SPINNRegressorCV(n_jobs=2, **kw).fit(X, y)
    # n_jobs=2 trains the folds in other batches than n_jobs=1 (float32): losses agree to
    # rounding, the selection exactly
    for key in ("fold_val_loss", "mean_val_loss"):
        np.testing.assert_allclose(on_cluster.cv_results_[key], serial.cv_results_[key], rtol=1e-4)
    np.testing.assert_array_equal(on_cluster.cv_results_["support"], serial.cv_results_["support"])
    np.testing.assert_array_equal(on_cluster.selected_features_, serial.selected_features_)
    assert on_cluster.lambda_best_ == serial.lambda_best_


def test_irls_admm_selection_under_dask_equals_n_jobs_1(client):
    from sklearn.datasets import make_classification

    from glassnet import IRLSADMMNetClassifier

    X, y = make_classification(90, 12, n_informative=3, n_redundant=0, random_state=0)
    kw = {"cv": 3, "max_epochs": 20, "random_state": 0}
    serial = IRLSADMMNetClassifier(n_jobs=1, **kw).fit(X, y)
    with joblib.parallel_backend("dask"):
        on_cluster = IRLSADMMNetClassifier(n_jobs=2, **kw).fit(X, y)
    # each fold trains its own net with its own seed, whatever process runs it (float64)
    np.testing.assert_array_equal(on_cluster.cv_losses_, serial.cv_losses_)
    np.testing.assert_array_equal(on_cluster.selected_features_, serial.selected_features_)
    np.testing.assert_array_equal(on_cluster.coef_, serial.coef_)
    assert on_cluster.refit_C_ == serial.refit_C_ and 0 < serial.selected_features_.size < X.shape[1]
