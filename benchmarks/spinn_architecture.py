"""Is SPINN's shortfall on a radial signal its architecture or its selection? (docs/spinn.md)

On every problem of ``defaults_public.py`` (draws 0-2 by default; that sweep reports 7-9),
75/25 split, standardised inputs (and targets), compares:

* ``default``: ``SPINN*CV()`` with the paper's 10 tanh units;
* ``dense``: the same network unpenalised (``lam=0``; its screen still runs), and
  scikit-learn's MLP with the same 10 tanh units (``mlp10tanh``): what the architecture can
  do before any selection;
* ``grid``: ``GridSearchCV(SPINN*CV(), {hidden: (10,) / (50,), activation: tanh / relu},
  cv=3)``, the architecture chosen by CV on the training part.

``seconds`` is the fit's process CPU time, the grid's wall time (3 folds x 4 candidates on
2 workers). Writes ``benchmarks/spinn_architecture.csv`` and prints the mean change of
``grid`` against ``default`` per problem.

    python benchmarks/spinn_architecture.py [--draws 0 1 2] [--problems hastie_10_2 ...]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

import glassnet as g

sys.path.insert(0, str(Path(__file__).resolve().parent))
from defaults_public import CLASSIFICATION, REGRESSION

GRID = {"hidden": [(10,), (50,)], "activation": ["tanh", "relu"]}


def one(task, make, draw):
    X, y = make(draw)
    clf = task == "classification"
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0,
                                          stratify=y if clf else None)
    sc = StandardScaler().fit(Xtr)
    Xtr, Xte = sc.transform(Xtr), sc.transform(Xte)
    if not clf:
        m, s = ytr.mean(), ytr.std()
        ytr, yte = (ytr - m) / s, (yte - m) / s
    cv_cls = g.SPINNClassifierCV if clf else g.SPINNRegressorCV
    mlp = (MLPClassifier if clf else MLPRegressor)(hidden_layer_sizes=(10,), activation="tanh",
                                                     max_iter=2000, random_state=0)
    fits = {"default": cv_cls(random_state=0),
            "dense": (g.SPINNClassifier if clf else g.SPINNRegressor)(lam=0.0, random_state=0),
            "mlp10tanh": mlp,
            "grid": GridSearchCV(cv_cls(random_state=0), GRID, cv=3, n_jobs=2)}
    for method, est in fits.items():
        t = time.process_time() if method != "grid" else time.time()
        est.fit(Xtr, ytr)
        secs = (time.process_time() if method != "grid" else time.time()) - t
        best = getattr(est, "best_estimator_", est)
        params = getattr(est, "best_params_", {})
        yield {"task": task, "draw": draw, "method": method,
               "test_score": round(float(est.score(Xte, yte)), 4),
               "n_selected": len(getattr(best, "selected_features_", range(X.shape[1]))),
               "architecture": f"{params['hidden']} {params['activation']}" if params else "",
               "seconds": round(secs, 2)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--problems", nargs="+", choices=[*CLASSIFICATION, *REGRESSION])
    ap.add_argument("--out", default=str(Path(__file__).with_name("spinn_architecture.csv")))
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    rows = []
    for task, problems in (("classification", CLASSIFICATION), ("regression", REGRESSION)):
        for name, make in problems.items():
            if args.problems and name not in args.problems:
                continue
            for draw in args.draws if name != "wine" else args.draws[:1]:
                for row in one(task, make, draw):
                    rows.append({"problem": name, **row})
                    print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    df.to_csv(args.out, index=False)
    wide = df.pivot_table(index=["problem", "draw"], columns="method", values="test_score")
    print((wide["grid"] - wide["default"]).groupby("problem").agg(["mean", "min", "max"]).round(3))
    print(wide.groupby("problem").mean().round(3))


if __name__ == "__main__":
    main()
