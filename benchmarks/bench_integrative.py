"""IntegrativeSPINN against separate SPINNRegressorCV fits on related data sets (issue 23).

Data: :func:`glassnet.datasets.make_related_datasets` (M sets sharing 4 of p = 40 inputs, effects
and input distributions of each set's own), n = 100 per set, 500 test samples per set. Both
sides run with their defaults. Tuning seeds 0-4 (``--tune``) are where any choice was made;
report seeds 100-104 (``--report``) are run once. Writes ``benchmarks/integrative_<split>.csv``
and prints mean test R2 and TPR / FPR of the selected inputs per method.

    python benchmarks/bench_integrative.py --report [--datasets 3]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import r2_score

from glassnet import IntegrativeSPINN, SPINNRegressorCV
from glassnet.datasets import make_related_datasets

ROOT = Path(__file__).resolve().parents[1]
SEEDS = {"tune": [0, 1, 2, 3, 4], "report": [100, 101, 102, 103, 104]}


def _rates(selected, support, p):
    sel = {int(j) for j in selected}
    truth = {int(j) for j in support}
    return len(sel & truth) / len(truth), len(sel - truth) / (p - len(truth))


def run(seed, M, n, p):
    Xs, ys, support, Xt, yt = make_related_datasets(M, n, p, random_state=seed, n_test=500)
    rows = []
    t = time.perf_counter()
    est = IntegrativeSPINN(random_state=seed).fit(Xs, ys)
    fit_s = time.perf_counter() - t
    for m in range(M):
        tpr, fpr = _rates(np.flatnonzero(est.support_per_dataset_[m]), support, p)
        rows.append({"seed": seed, "method": "IntegrativeSPINN", "dataset": m, "fit_s": fit_s / M,
                     "r2": r2_score(yt[m], est.predict(Xt[m], m)), "tpr": tpr, "fpr": fpr})
    for m in range(M):
        t = time.perf_counter()
        sep = SPINNRegressorCV(random_state=seed).fit(Xs[m], ys[m])
        tpr, fpr = _rates(sep.selected_features_, support, p)
        rows.append({"seed": seed, "method": "separate SPINNRegressorCV", "dataset": m,
                     "fit_s": time.perf_counter() - t, "r2": r2_score(yt[m], sep.predict(Xt[m])),
                     "tpr": tpr, "fpr": fpr})
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    split = ap.add_mutually_exclusive_group(required=True)
    split.add_argument("--tune", action="store_const", dest="split", const="tune")
    split.add_argument("--report", action="store_const", dest="split", const="report")
    ap.add_argument("--datasets", type=int, default=3)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--p", type=int, default=40)
    ap.add_argument("--seeds", type=int, nargs="*")
    args = ap.parse_args(argv)
    rows = []
    for seed in args.seeds or SEEDS[args.split]:
        rows += run(seed, args.datasets, args.n, args.p)
        print(pd.DataFrame(rows).groupby("method")[["r2", "tpr", "fpr", "fit_s"]].mean().round(3), flush=True)
    df = pd.DataFrame(rows)
    df.to_csv(ROOT / "benchmarks" / f"integrative_{args.split}.csv", index=False)
    print(df.groupby(["method", "seed"])[["r2", "tpr", "fpr"]].mean().round(3).to_string())
    print(df.groupby("method")[["r2", "tpr", "fpr", "fit_s"]].mean().round(3).to_string())


if __name__ == "__main__":
    main()
