"""Every supervised estimator with default arguments on scikit-learn's generators and bundled
sets that no default was chosen on, beside scikit-learn's peers (a check, not a tuning run).

    .venv/bin/python benchmarks/defaults_public.py [--draws 7 8 9] [--out benchmarks/defaults_public.csv]
    .venv/bin/python benchmarks/defaults_public.py --problems hastie_10_2 --lassonet \
        --out benchmarks/defaults_public_lassonet.csv   # + LassoNet CV (the peers extra; ~1 min a fit)

Each problem is drawn with ``random_state`` in ``--draws`` (the bundled sets once), split 75/25
(``random_state=0``), standardised in a pipeline (the MLP regressor's targets too), fitted on
the training part and scored on the held-out part (R2 or accuracy). ``n_selected``: inputs
the fitted model uses (-1: no selection; one-vs-rest: the union over the classes).
Rows whose estimator name ends in ``*`` are not defaults: a wider ReLU SPINN, the setting the
docs point to for radial signals (``docs/spinn.md``, known limits). Estimators keep their
default ``random_state=None``, so a rerun gives other numbers within the seeds' spread.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from sklearn import datasets
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LassoCV, LogisticRegressionCV
from sklearn.model_selection import train_test_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import glassnet as g


def _moons(seed):
    X, y = datasets.make_moons(400, noise=0.3, random_state=seed)
    return np.hstack([X, np.random.RandomState(seed).randn(400, 18)]), y


REGRESSION = {
    "friedman2": lambda s: datasets.make_friedman2(300, noise=10, random_state=s),
    "friedman3": lambda s: datasets.make_friedman3(300, noise=0.1, random_state=s),
    "sparse_uncorrelated": lambda s: datasets.make_sparse_uncorrelated(300, 20, random_state=s),
    "regression_p100": lambda s: datasets.make_regression(200, 100, n_informative=5, noise=10,
                                                          random_state=s),
}
CLASSIFICATION = {
    "hastie_10_2": lambda s: datasets.make_hastie_10_2(600, random_state=s),
    "moons_18_noise": _moons,
    "classification_3class_p40": lambda s: datasets.make_classification(
        300, 40, n_informative=4, n_redundant=2, n_classes=3, random_state=s),
    "wine": lambda s: datasets.load_wine(return_X_y=True),
}


def mlp_regressor(**params):
    """scikit-learn's MLP on standardised targets, its best version (Friedman 2's targets are in
    the hundreds; every other method here is scale-free or rescales them itself)."""
    return TransformedTargetRegressor(MLPRegressor(max_iter=2000, random_state=0, **params),
                                      transformer=StandardScaler())


def mlp_classifier(**params):
    return MLPClassifier(max_iter=2000, random_state=0, **params)


REGRESSORS = {
    "SPINNRegressorCV": lambda: g.SPINNRegressorCV(),
    "SPINNRegressor": lambda: g.SPINNRegressor(),
    "LassoCV": lambda: LassoCV(),
    "MLPRegressor": mlp_regressor,
    "RandomForest": lambda: RandomForestRegressor(random_state=0),
}
CLASSIFIERS = {
    "SPINNClassifierCV": lambda: g.SPINNClassifierCV(),
    "SPINNClassifier": lambda: g.SPINNClassifier(),
    "SPINNClassifierCV(hidden=(50,), relu)*": lambda: g.SPINNClassifierCV(hidden=(50,),
                                                                          activation="relu"),
    "IRLSADMMNetClassifier": lambda: g.IRLSADMMNetClassifier(),
    "MultinomialIRLSADMMNetClassifier": lambda: g.MultinomialIRLSADMMNetClassifier(),
    "ADMMLogisticRegression": lambda: g.ADMMLogisticRegression(),
    "LogisticRegressionCV(l1)": lambda: LogisticRegressionCV(penalty="l1", solver="saga",
                                                             max_iter=5000),
    "MLPClassifier": mlp_classifier,
    "RandomForest": lambda: RandomForestClassifier(random_state=0),
}
BINARY_ONLY = ("IRLSADMMNetClassifier", "ADMMLogisticRegression")


def _support(est):
    """The column indices a fitted model uses, or None for a model that selects nothing."""
    est = getattr(est, "best_estimator_", est)  # a search: its refitted best estimator
    if isinstance(est, OneVsRestClassifier):  # the union of the per-class supports
        parts = [S for S in map(_support, est.estimators_) if S is not None]
        return np.unique(np.concatenate(parts)) if parts else None
    if hasattr(est, "selected_features_"):
        return np.asarray(est.selected_features_)
    if hasattr(est, "best_selected_"):  # LassoNet CV: a mask
        return np.flatnonzero(np.asarray(est.best_selected_))
    if hasattr(est, "coef_"):
        return np.flatnonzero(np.any(np.atleast_2d(est.coef_) != 0, axis=0))
    return None


def n_selected(est):
    """The number of inputs the fitted model ``est`` uses, -1 when it selects nothing: a
    search's refitted best estimator is read; a selector's ``selected_features_``, LassoNet's
    ``best_selected_``, else the columns with a nonzero ``coef_`` in any output; a
    ``OneVsRestClassifier`` (the binary-only selectors on more classes) uses the union of its
    per-class estimators' inputs, each read as above."""
    S = _support(est)
    return -1 if S is None else len(S)


def run(draws, only=None, lassonet=False, regressors=REGRESSORS, classifiers=CLASSIFIERS):
    """One row per problem, draw and estimator (``regressors`` / ``classifiers``: name ->
    builder); a search's chosen parameters go in ``best_params``."""
    rows = []
    for task, problems, estimators in (("regression", REGRESSION, regressors),
                                       ("classification", CLASSIFICATION, classifiers)):
        if lassonet:  # SPINN's peer (pip install -e ".[peers]"), default arguments
            import lassonet as ln

            estimators = {**estimators, "LassoNetCV": (ln.LassoNetRegressorCV if task == "regression"
                                                       else ln.LassoNetClassifierCV)}
        for name, make in problems.items():
            if only and name not in only:
                continue
            for draw in draws if name != "wine" else draws[:1]:
                X, y = make(draw)
                if task == "classification":  # labels 0..K-1 (LassoNet needs them; the
                    y = np.unique(y, return_inverse=True)[1]  # others are label-invariant)
                Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
                multiclass = len(np.unique(y)) > 2 if task == "classification" else False
                for ename, build in estimators.items():
                    est = build()
                    if multiclass and ename in BINARY_ONLY:  # they refuse K > 2 by design
                        est = OneVsRestClassifier(est)
                        ename += " (one-vs-rest)"
                    model = make_pipeline(StandardScaler(), est)
                    start = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        model.fit(Xtr, ytr)
                    rows.append({"task": task, "problem": name, "draw": draw,
                                 "estimator": ename,
                                 "fit_s": round(time.perf_counter() - start, 2),
                                 "test_score": round(model.score(Xte, yte), 4),
                                 "train_score": round(model.score(Xtr, ytr), 4),
                                 "n_selected": n_selected(model[-1]),
                                 "n_features": X.shape[1]})
                    if hasattr(model[-1], "best_params_"):
                        rows[-1]["best_params"] = str(model[-1].best_params_)
                    print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, nargs="+", default=[7, 8, 9])
    ap.add_argument("--out", default="benchmarks/defaults_public.csv")
    ap.add_argument("--problems", nargs="+", default=None, help="a subset of the problems")
    ap.add_argument("--lassonet", action="store_true", help="add LassoNet CV (slow)")
    args = ap.parse_args()
    unknown = set(args.problems or ()) - set(REGRESSION) - set(CLASSIFICATION)
    if unknown:
        ap.error(f"unknown problems {sorted(unknown)}; known: {[*REGRESSION, *CLASSIFICATION]}")
    df = run(args.draws, args.problems, args.lassonet)
    df.to_csv(args.out, index=False)
    summary = df.groupby(["problem", "estimator"], sort=False)[
        ["test_score", "n_selected", "fit_s"]].mean().round(3)
    print(summary.to_string())


if __name__ == "__main__":
    main()
