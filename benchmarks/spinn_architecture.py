"""Is SPINN's shortfall on a radial signal its architecture or its selection? (docs/spinn.md)

On every problem of ``defaults_public.py`` and through its ``run`` (same splits, scaling,
timing and columns; draws 0-2 by default, that sweep reports 7-9), compares:

* ``SPINN*CV()``: the default, with the paper's 10 tanh units;
* ``SPINN*(lam=0)``: the same network unpenalised (its screen still runs), and scikit-learn's
  MLP with the same 10 tanh units (on standardised targets, as the sweep's MLP peer): what the
  architecture can do before any selection;
* ``grid``: ``GridSearchCV(SPINN*CV(), {hidden: (10,) / (50,), activation: tanh / relu},
  cv=3, n_jobs=2)``, the architecture chosen by CV on the training part (``best_params``).

Writes ``benchmarks/spinn_architecture.csv`` and prints the change of ``grid`` against the
default per problem (mean, min, max over draws) and each method's mean score.

``--fixed`` asks what a different fixed default would cost instead: ``SPINN*CV()`` against
the same estimator with 50 ReLU, 20 ReLU and 50 tanh units (``spinn_architecture_fixed.csv``;
the ``fit_s`` column is the price, so run it on an otherwise idle machine).

``--own-cv`` asks whether a CV fit could choose the architecture on its own folds (the
proposed "SPINN CV chooses its architecture"): ``own_cv`` fits ``SPINN*CV()`` with 10 tanh and
with 50 ReLU units (same ``random_state``, so the same folds) and keeps the one whose final
model has the lower out-of-fold loss (``final_cv_loss``: the relaxed refit's CV loss when the
fit kept the refit, else the lambda CV's at the chosen lambda; the comparison each fit already
makes). Rows ``spinn_architecture_own_cv.csv``; ``fit_s`` is both fits.

    python benchmarks/spinn_architecture.py [--draws 0 1 2] [--problems hastie_10_2 ...] [--fixed | --own-cv]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import GridSearchCV

import glassnet as g

sys.path.insert(0, str(Path(__file__).resolve().parent))
from defaults_public import CLASSIFICATION, REGRESSION, mlp_classifier, mlp_regressor, run

GRID = {"hidden": [(10,), (50,)], "activation": ["tanh", "relu"]}
FIXED = {"relu50": ((50,), "relu"), "relu20": ((20,), "relu"), "tanh50": ((50,), "tanh")}


def methods(cv_cls, single_cls, mlp):
    return {"default": lambda: cv_cls(random_state=0),
            "dense": lambda: single_cls(lam=0.0, random_state=0),
            "mlp10tanh": lambda: mlp(hidden_layer_sizes=(10,), activation="tanh"),
            "grid": lambda: GridSearchCV(cv_cls(random_state=0), GRID, cv=3, n_jobs=2)}


def fixed_methods(cv_cls, *_):
    out = {"default": lambda: cv_cls(random_state=0)}
    for name, (hidden, act) in FIXED.items():
        out[name] = lambda h=hidden, a=act: cv_cls(hidden=h, activation=a, random_state=0)
    return out


def final_cv_loss(est) -> float:
    """The out-of-fold loss of a fitted ``SPINN*CV``'s final model: its relaxed refit's
    (lowest over the refit ridges) if the fit kept the refit, else the lambda CV's mean at
    ``lambda_best_``."""
    if est.relaxed_:
        return float(min(est.relax_cv_loss_.values()))
    lam = np.asarray(est.cv_results_["lambda"], float)
    return float(np.asarray(est.cv_results_["mean_val_loss"])[np.argmin(np.abs(lam - est.lambda_best_))])


class OwnCV(BaseEstimator):
    """Fit ``cv_cls`` with each architecture of ``candidates`` and keep the lowest
    :func:`final_cv_loss` (a probe for the benchmark, not a library estimator)."""

    def __init__(self, cv_cls=None, candidates=(((10,), "tanh"), ((50,), "relu"))):
        self.cv_cls = cv_cls
        self.candidates = candidates

    def fit(self, X, y):
        fits = [self.cv_cls(hidden=h, activation=a, random_state=0).fit(X, y)
                for h, a in self.candidates]
        losses = [final_cv_loss(f) for f in fits]
        best = int(np.argmin(losses))
        self.best_estimator_ = fits[best]
        self.best_params_ = {"hidden": self.candidates[best][0],
                             "activation": self.candidates[best][1],
                             "final_cv_losses": [round(v, 4) for v in losses]}
        return self

    def predict(self, X):
        return self.best_estimator_.predict(X)

    def score(self, X, y):
        return self.best_estimator_.score(X, y)


def own_cv_methods(cv_cls, *_):
    return {"default": lambda: cv_cls(random_state=0),
            "relu50": lambda: cv_cls(hidden=(50,), activation="relu", random_state=0),
            "own_cv": lambda: OwnCV(cv_cls)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--problems", nargs="+", choices=[*CLASSIFICATION, *REGRESSION])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--fixed", action="store_true", help="fixed wider / ReLU defaults instead")
    mode.add_argument("--own-cv", action="store_true", help="the architecture chosen by its own CV")
    ap.add_argument("--out", default=None, help="default: spinn_architecture[_fixed].csv here")
    args = ap.parse_args(argv)
    make, suffix = ((fixed_methods, "_fixed") if args.fixed else
                    (own_cv_methods, "_own_cv") if args.own_cv else (methods, ""))
    out = args.out or Path(__file__).with_name(f"spinn_architecture{suffix}.csv")
    df = run(args.draws, args.problems,
             regressors=make(g.SPINNRegressorCV, g.SPINNRegressor, mlp_regressor),
             classifiers=make(g.SPINNClassifierCV, g.SPINNClassifier, mlp_classifier))
    df.to_csv(out, index=False)
    wide = df.pivot_table(index=["problem", "draw"], columns="estimator", values="test_score")
    other = list(FIXED) if args.fixed else ["relu50", "own_cv"] if args.own_cv else ["grid"]
    for name in other:
        print(name, "minus default:")
        print((wide[name] - wide["default"]).groupby("problem").agg(["mean", "min", "max"]).round(3))
    print(wide.groupby("problem").mean().round(3))
    if args.fixed or args.own_cv:
        print(df.pivot_table(index="problem", columns="estimator", values="fit_s").round(2))
    if args.own_cv:
        print(df[df.estimator.str.startswith("own_cv")][["problem", "draw", "best_params"]].to_string())


if __name__ == "__main__":
    main()
