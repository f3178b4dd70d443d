"""SPINN's relaxed CV: the refits of every (support, ridge) pair on every fold trained as one
``StackedSPINN`` against the same refits one by one (docs/spinn.md, item 11).

Both compute the same networks (each network's own gradient and Adam steps); this measures
the time and checks that the validation losses agree. One torch thread.

    PYTHONPATH=src python benchmarks/bench_spinn_refits.py [--out benchmarks/spinn_refits.csv]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
import torch
from sklearn.base import clone

from glassnet.estimators.spinn import SPINNRegressorCV, _relaxed_cv_losses, _relaxed_fit
from glassnet.model_selection import make_folds
from glassnet.utils import local_seed


def one_by_one(est, X, y, folds, pairs, seed, delta):
    """The refits as the code ran them before the stack: one network, one fit at a time."""
    out = np.zeros((len(folds), len(pairs)))
    for k, (tr, va) in enumerate(folds):
        with local_seed(seed + k + 1):
            e = clone(est)
            e.n_features_in_ = X.shape[1]
            yt, n_out = e._targets(y[tr])
            spec = e._spec(delta)
            Xt = e._tensor(X[tr])
            models = [_relaxed_fit(e, spec, (Xt, yt), n_out, mask, ridge) for mask, ridge in pairs]
        yv = e._targets(y[va], fitted=True)[0]
        with torch.no_grad():
            out[k] = [float(spec["data_loss"](m, e._tensor(X[va]), yv)) for m in models]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="benchmarks/spinn_refits.csv")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for n, p in [(300, 100), (1000, 1000)]:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((n, p))
        y = X[:, 0] ** 2 + np.sin(2 * X[:, 1]) + X[:, 2] * X[:, 3] + X[:, 4] + rng.standard_normal(n)
        folds = make_folds(n, 5, random_state=0)
        # 8 nested supports (as along a path) x the regressor's refit ridge grid's first entry,
        # then the 5 ridges of the grid on one support: the two relaxed CVs of a default fit
        supports = [np.arange(p) < k for k in range(1, 9)]
        est = SPINNRegressorCV()
        for what, pairs in [("supports' CV (8 supports)", [(m, 1e-2) for m in supports]),
                            ("refit ridge CV (5 ridges)",
                             [(supports[5], r) for r in est._relax_ridges])]:
            t0 = time.perf_counter()
            stacked = _relaxed_cv_losses(est, X, y, folds, pairs, seed=0, delta=1.0)
            t_stack = time.perf_counter() - t0
            t0 = time.perf_counter()
            single = one_by_one(est, X, y, folds, pairs, seed=0, delta=1.0)
            t_one = time.perf_counter() - t0
            rows.append({"n": n, "p": p, "what": what, "fits": single.size,
                         "one_by_one_s": round(t_one, 2), "stacked_s": round(t_stack, 2),
                         "speedup": round(t_one / t_stack, 2),
                         "max_rel_diff_val_loss": float(np.max(np.abs(stacked - single) / np.abs(single))),
                         "load_avg_1min": round(os.getloadavg()[0], 2)})
            print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    df.to_csv(args.out, index=False)
    print(df.to_markdown(index=False))


if __name__ == "__main__":
    main()
