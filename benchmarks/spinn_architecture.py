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

    python benchmarks/spinn_architecture.py [--draws 0 1 2] [--problems hastie_10_2 ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sklearn.model_selection import GridSearchCV

import glassnet as g

sys.path.insert(0, str(Path(__file__).resolve().parent))
from defaults_public import CLASSIFICATION, REGRESSION, mlp_classifier, mlp_regressor, run

GRID = {"hidden": [(10,), (50,)], "activation": ["tanh", "relu"]}


def methods(cv_cls, single_cls, mlp):
    return {"default": lambda: cv_cls(random_state=0),
            "dense": lambda: single_cls(lam=0.0, random_state=0),
            "mlp10tanh": lambda: mlp(hidden_layer_sizes=(10,), activation="tanh"),
            "grid": lambda: GridSearchCV(cv_cls(random_state=0), GRID, cv=3, n_jobs=2)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--problems", nargs="+", choices=[*CLASSIFICATION, *REGRESSION])
    ap.add_argument("--out", default=str(Path(__file__).with_name("spinn_architecture.csv")))
    args = ap.parse_args(argv)
    df = run(args.draws, args.problems,
             regressors=methods(g.SPINNRegressorCV, g.SPINNRegressor, mlp_regressor),
             classifiers=methods(g.SPINNClassifierCV, g.SPINNClassifier, mlp_classifier))
    df.to_csv(args.out, index=False)
    wide = df.pivot_table(index=["problem", "draw"], columns="estimator", values="test_score")
    print((wide["grid"] - wide["default"]).groupby("problem").agg(["mean", "min", "max"]).round(3))
    print(wide.groupby("problem").mean().round(3))


if __name__ == "__main__":
    main()
