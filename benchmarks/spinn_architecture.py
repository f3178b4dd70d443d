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

    python benchmarks/spinn_architecture.py [--draws 0 1 2] [--problems hastie_10_2 ...] [--fixed]
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--problems", nargs="+", choices=[*CLASSIFICATION, *REGRESSION])
    ap.add_argument("--fixed", action="store_true", help="fixed wider / ReLU defaults instead")
    ap.add_argument("--out", default=None, help="default: spinn_architecture[_fixed].csv here")
    args = ap.parse_args(argv)
    make = fixed_methods if args.fixed else methods
    out = args.out or Path(__file__).with_name(
        f"spinn_architecture{'_fixed' if args.fixed else ''}.csv")
    df = run(args.draws, args.problems,
             regressors=make(g.SPINNRegressorCV, g.SPINNRegressor, mlp_regressor),
             classifiers=make(g.SPINNClassifierCV, g.SPINNClassifier, mlp_classifier))
    df.to_csv(out, index=False)
    wide = df.pivot_table(index=["problem", "draw"], columns="estimator", values="test_score")
    other = list(FIXED) if args.fixed else ["grid"]
    for name in other:
        print(name, "minus default:")
        print((wide[name] - wide["default"]).groupby("problem").agg(["mean", "min", "max"]).round(3))
    print(wide.groupby("problem").mean().round(3))
    if args.fixed:
        print(df.pivot_table(index="problem", columns="estimator", values="fit_s").round(2))


if __name__ == "__main__":
    main()
