"""SPINN CV estimators at large n: which true inputs a default fit keeps, its held-out score (R2
or accuracy) and fit time, for given upper-layer ridges ``lambda_0`` (``none``: the estimator's
default; ``1000/n``: ``DEFAULT_LAMBDA_0`` of the loss times ``min(1, 1000/n)``).

Problems: ``friedman1`` (``make_friedman1(n + 5000, 50, noise=1, random_state=draw)``, the first
n rows train, the rest test; true inputs 0-4; x2 acts only through an even term) and the
problems of the selection suite (``glassnet.datasets.spinn_problems.selection_problem``, 1000
test rows; ``SPINNClassifierCV`` for its classification problems). Rows are appended to
``--out`` as they finish. Tuning draws and report draws are the caller's choice;
docs/history/spinn.md names which were which.

    python benchmarks/spinn_large_n.py --problems friedman1 --n 20000 --draws 10 11 \
        --lambda-0 none 0.015 --out rows.csv
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

FIELDS = ["problem", "n", "draw", "lambda_0", "kept", "tpr", "n_selected", "score", "fit_s"]


def data(problem, n, draw):
    """Training and test data and the true support."""
    if problem == "friedman1":
        from sklearn.datasets import make_friedman1

        X, y = make_friedman1(n + 5000, 50, noise=1.0, random_state=draw)
        return X[:n], y[:n], X[n:], y[n:], np.arange(5), "regression"
    from glassnet.datasets.spinn_problems import selection_problem

    X, y, X_te, y_te, support, task = selection_problem(problem, n, draw)
    return X, y, X_te, y_te, np.asarray(support), task


def run(problem, n, draw, lambda_0):
    import glassnet
    from glassnet.estimators.spinn.single import DEFAULT_LAMBDA_0, LAMBDA_0_ROWS

    X, y, X_te, y_te, support, task = data(problem, n, draw)
    if lambda_0 == "1000/n":
        loss = "mse" if task == "regression" else ("logistic" if len(np.unique(y)) == 2 else "softmax")
        lambda_0 = round(DEFAULT_LAMBDA_0[loss] * min(1.0, LAMBDA_0_ROWS / n), 6)
    cls = glassnet.SPINNRegressorCV if task == "regression" else glassnet.SPINNClassifierCV
    t0 = time.perf_counter()
    est = cls(lambda_0=lambda_0, random_state=0).fit(X, y)
    fit_s = time.perf_counter() - t0
    kept = np.flatnonzero(est.support_)
    return {"problem": problem, "n": n, "draw": draw,
            "lambda_0": "default" if lambda_0 is None else lambda_0,
            "kept": " ".join(map(str, kept)), "tpr": float(np.isin(support, kept).mean()),
            "n_selected": len(kept), "score": round(float(est.score(X_te, y_te)), 4),
            "fit_s": round(fit_s, 1)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--problems", nargs="+", default=["friedman1"])
    ap.add_argument("--n", type=int, nargs="+", default=[20000])
    ap.add_argument("--draws", type=int, nargs="+", required=True)
    ap.add_argument("--lambda-0", nargs="+", default=["none"])
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    lambdas = [None if v == "none" else v if v == "1000/n" else float(v) for v in args.lambda_0]
    new = not args.out.exists()
    with open(args.out, "a", newline="") as fh:
        w = csv.DictWriter(fh, FIELDS)
        if new:
            w.writeheader()
        for problem in args.problems:
            for n in args.n:
                for draw in args.draws:
                    for lam in lambdas:
                        row = run(problem, n, draw, lam)
                        w.writerow(row)
                        fh.flush()
                        print(row, flush=True)


if __name__ == "__main__":
    main()
