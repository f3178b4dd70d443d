"""IRLS-ADMM net vs Algorithm 1 (ADMM) vs scikit-learn's L1 logistic regression, one run.

Measures fit time, test accuracy and (on the simulation, where the truth is known) FP/FN rates
of the selected set, and prints ratios to the IRLS-ADMM net. Usage:

    python benchmarks/bench_irls_admm.py [--repeats 5] [--out benchmarks/irls_admm.csv]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from glassnet import ADMMLogisticRegression, IRLSADMMNetClassifier
from glassnet.datasets import make_irls_admm_simulation
from glassnet.experiments.irls_admm import sklearn_l1_cv
from glassnet.metrics import selection_rates

METHODS = {
    "IRLS-ADMM net": lambda s: IRLSADMMNetClassifier(random_state=s),
    "ADMM (Alg. 1, lambda=1)": lambda s: ADMMLogisticRegression(lam=1.0, k_max=30, i_max=200, tol=1e-6),
    "sklearn L1-LR (C=1)": lambda s: LogisticRegression(l1_ratio=1.0, C=1.0, solver="liblinear"),
    "sklearn L1-LR (C by CV)": sklearn_l1_cv,
}


def support_of(est):
    if hasattr(est, "get_support"):
        return est.get_support(indices=True)
    return np.flatnonzero(np.ravel(est.coef_))


def bench(name, X, y, support, repeats):
    rows = []
    for rep in range(repeats):
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=rep, stratify=y)
        sc = StandardScaler().fit(X_tr)
        X_tr, X_te = sc.transform(X_tr), sc.transform(X_te)
        for method, make in METHODS.items():
            est = make(rep)
            t0 = time.perf_counter()
            est.fit(X_tr, y_tr)
            dt = time.perf_counter() - t0
            row = {"data": name, "method": method, "rep": rep, "fit_seconds": dt,
                   "test_accuracy": accuracy_score(y_te, est.predict(X_te)), "n_selected": len(support_of(est))}
            if support is not None:
                r = selection_rates(support_of(est), support, X.shape[1])
                row.update(fp_rate=r["fp_rate"], fn_rate=r["fn_rate"])
            rows.append(row)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default="benchmarks/irls_admm.csv")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    X, y, _, support = make_irls_admm_simulation(noise_std=0.5, random_state=0)
    rows = bench("simulation 500x50 (noise 0.5)", X, y, support, args.repeats)
    bc = load_breast_cancer()
    rows += bench("breast cancer 569x30", bc.data, bc.target, None, args.repeats)
    df = pd.DataFrame(rows).groupby(["data", "method"], sort=False).mean(numeric_only=True).drop(columns="rep").reset_index()
    ref = df[df.method == "IRLS-ADMM net"].set_index("data")
    df["time_ratio_to_net"] = df.fit_seconds / df.data.map(ref.fit_seconds)
    df["accuracy_ratio_to_net"] = df.test_accuracy / df.data.map(ref.test_accuracy)
    df.to_csv(args.out, index=False)
    print(df.to_markdown(index=False, floatfmt=".3g"))
    print(f"\nwrote {args.out}; torch threads = 1, {args.repeats} train/test splits per data set")


if __name__ == "__main__":
    main()
