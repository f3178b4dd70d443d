"""SPINN vs LassoNet vs the L1 GLM, side by side in one run (DESIGN.md rule 14).

On the p = 1000 simulation (n = 500, regression; optional classification) it measures fit
time of a whole path and of a single lambda, the default selection's TPR/FPR, and the test
loss at the same number k of selected features; on a gene-expression set, CV accuracy at k
genes. Writes ``bench_spinn.csv`` / ``bench_spinn.md`` under ``--out`` and prints the tables.

    PYTHONPATH=src python benchmarks/bench_spinn.py [--quick] [--out DIR] [--data-dir D]

``--tune-lambda0`` instead fits the CV estimators of ``spinn-simulation`` (p = 1000, 5 folds, 30
lambdas) on draws of tuning seeds (default 900-902: data seed ``1000 x seed + n``, as the
reproduction draws its seed 0) for each ``lambda_0`` of a grid per task, and writes one row per
fit to ``--out``/lambda0_tuning.csv. It is how ``DEFAULT_LAMBDA_0`` is chosen; the
reproduction's own draws (seed 0) are not used.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from glassnet.datasets import make_spinn_simulation
from glassnet.estimators.spinn import SPINNRegressor, SPINNRegressorCV
from glassnet.experiments.spinn import (
    _accuracy_at_k,
    _lassonet_predict,
    gene_matrix,
    lassonet_available,
    lassonet_path,
)
from glassnet.metrics import selection_rates


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def simulation(n, p, n_lambdas, seed):
    from sklearn.linear_model import Lasso, LassoCV, lasso_path

    X, y, S = make_spinn_simulation(n, p, random_state=seed)
    Xt, yt, _ = make_spinn_simulation(2000, p, random_state=seed + 1)
    mse = lambda pred: float(np.mean((pred - yt) ** 2))
    rows = []

    # SPINN: default CV selection, a whole n_lambdas path, one lambda (short warm-start path)
    cv, t_cv = _timed(lambda: SPINNRegressorCV(random_state=seed).fit(X, y))
    k = len(cv.selected_features_)
    rows.append({"method": "SPINN", "what": "default selection (SPINNRegressorCV(), 5-fold, relaxed)",
                 "k": k, **_rates(cv.selected_features_, S, p), "test_mse": mse(cv.predict(Xt)), "time_s": t_cv})
    sp = SPINNRegressor(random_state=seed)
    path, t_path = _timed(lambda: sp.path(X, y, n_lambdas=n_lambdas))
    rows.append({"method": "SPINN", "what": f"whole path ({n_lambdas} lambdas)", "time_s": t_path,
                 "n_lambdas": len(path)})
    one, t_one = _timed(lambda: SPINNRegressor(lam=cv.lambda_best_, random_state=seed).fit(X, y))
    rows.append({"method": "SPINN", "what": "single lambda (lambda_best_, 10 warm starts)", "k": len(one.selected_features_),
                 **_rates(one.selected_features_, S, p), "test_mse": mse(one.predict(Xt)), "time_s": t_one})

    # LassoNet: default path, the path point with k features, the best-validation point, one lambda
    if lassonet_available():
        from sklearn.model_selection import train_test_split

        tr, va = train_test_split(np.arange(n), test_size=0.2, random_state=seed)
        mu, sd = y.mean(), y.std()
        est, hist, t_ln = lassonet_path("regression", X, (y - mu) / sd, seed=seed)
        nsel = np.array([int(h.selected.sum()) for h in hist])
        rows.append({"method": "LassoNet", "what": "whole path (default multiplier 1.02)", "time_s": t_ln,
                     "n_lambdas": len(hist)})
        j = int(np.argmin(np.abs(nsel - k) + 1e-3 * np.arange(len(nsel))))
        sel = np.flatnonzero(hist[j].selected.numpy())
        rows.append({"method": "LassoNet", "what": f"path point with k = {k} (ours)", "k": len(sel),
                     **_rates(sel, S, p), "test_mse": mse(_lassonet_predict("regression", est, hist[j], Xt, mu, sd))})
        est2, hist2, _ = lassonet_path("regression", X[tr], (y[tr] - mu) / sd, X[va], (y[va] - mu) / sd, seed=seed)
        b = int(np.argmin([h.val_loss for h in hist2]))
        sel = np.flatnonzero(hist2[b].selected.numpy())
        rows.append({"method": "LassoNet", "what": "best validation point (20% held out)", "k": len(sel),
                     **_rates(sel, S, p), "test_mse": mse(_lassonet_predict("regression", est2, hist2[b], Xt, mu, sd))})
        from lassonet import LassoNetRegressor

        ln1 = LassoNetRegressor(hidden_dims=(10,), verbose=0, random_state=seed, torch_seed=seed)
        _, t_ln1 = _timed(lambda: ln1.path(X, (y - mu) / sd, lambda_seq=[hist[j].lambda_], return_state_dicts=False))
        rows.append({"method": "LassoNet", "what": "single lambda (dense fit + that lambda)", "time_s": t_ln1})
    else:
        print("LassoNet not installed (pip install glassnet[peers]): its rows are skipped")

    # L1 linear
    l1, t_l1 = _timed(lambda: LassoCV(cv=5, random_state=seed).fit(X, y))
    sel = np.flatnonzero(l1.coef_)
    rows.append({"method": "L1 (lasso)", "what": "LassoCV default selection", "k": len(sel),
                 **_rates(sel, S, p), "test_mse": mse(l1.predict(Xt)), "time_s": t_l1})
    _, t_lp = _timed(lambda: lasso_path(X, y - y.mean(), n_alphas=n_lambdas))
    rows.append({"method": "L1 (lasso)", "what": f"whole path ({n_lambdas} alphas)", "time_s": t_lp, "n_lambdas": n_lambdas})
    _, t_l1one = _timed(lambda: Lasso(alpha=l1.alpha_).fit(X, y))
    rows.append({"method": "L1 (lasso)", "what": "single alpha", "time_s": t_l1one})
    return pd.DataFrame(rows)


def tune_lambda0(seeds, ns, grids, out_csv):
    """One row per (task, n, seed, lambda_0): the reproduction's SPINN CV on a tuning draw."""
    from glassnet.experiments.spinn import run_spinn_cv

    rows = []
    for task, values in grids.items():
        for n in ns:
            for seed in seeds:
                X, y, S = make_spinn_simulation(n, 1000, task=task, random_state=1000 * seed + n)
                Xt, yt, _ = make_spinn_simulation(2000, 1000, task=task, random_state=1000 * seed + n + 1)
                for lam0 in values:
                    _, row = run_spinn_cv(task, X, y, Xt, yt, S, seed=seed, lambda_0=lam0)
                    rows.append({"task": task, "n": n, "seed": seed, "lambda_0": lam0, **row})
                    pd.DataFrame(rows).to_csv(out_csv, index=False)  # a run cut short keeps its rows
                    print({k: rows[-1][k] for k in ("task", "n", "seed", "lambda_0", "n_selected", "tpr", "fpr",
                                                    "test_loss", "fit_time_s")}, flush=True)
    df = pd.DataFrame(rows)
    return df.groupby(["task", "n", "lambda_0"])[["n_selected", "tpr", "fpr", "test_loss"]].mean().reset_index()


def _rates(sel, S, p):
    r = selection_rates(sel, S, p)
    return {"tpr": r["tpr"], "fpr": r["fpr"]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="p = 200, n = 300, 20 lambdas")
    ap.add_argument("--out", default="results/bench_spinn")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tune-lambda0", action="store_true", help="choose DEFAULT_LAMBDA_0 on tuning draws")
    ap.add_argument("--tune-seeds", default="900,901,902")
    ap.add_argument("--tune-ns", default="250,500")
    ap.add_argument("--tune-tasks", default="regression,classification")
    ap.add_argument("--grid-regression", default="0.03,0.1,0.3")
    ap.add_argument("--grid-classification", default="0.1,0.3,1.0")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    if args.tune_lambda0:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        ints = lambda s: [int(v) for v in s.split(",")]
        grids = {t: [float(v) for v in getattr(args, f"grid_{t}").split(",")] for t in args.tune_tasks.split(",")}
        print(tune_lambda0(ints(args.tune_seeds), ints(args.tune_ns), grids, out / "lambda0_tuning.csv")
              .to_markdown(index=False, floatfmt=".4g"))
        return
    n, p, n_lambdas = (300, 200, 20) if args.quick else (500, 1000, 50)
    sim = simulation(n, p, n_lambdas, args.seed)
    t = sim.set_index(["method", "what"])["time_s"]
    ratios = {}
    if "LassoNet" in sim.method.values:
        ratios["SPINN path / LassoNet path (time)"] = t[("SPINN", f"whole path ({n_lambdas} lambdas)")] / t[
            ("LassoNet", "whole path (default multiplier 1.02)")]
        ours = sim[(sim.method == "SPINN") & sim.what.str.startswith("default")].test_mse.iloc[0]
        theirs = sim[(sim.method == "LassoNet") & sim.what.str.startswith("path point")].test_mse.iloc[0]
        ratios["SPINN / LassoNet test MSE at the same k"] = ours / theirs
    ratios = pd.DataFrame({"ratio": list(ratios), "value": list(ratios.values())})
    gene = None
    try:
        from glassnet.datasets import load_gene_expression

        d = load_gene_expression("ALLAML", args.data_dir)
        X = gene_matrix(d)
        folds = _accuracy_at_k(X, d.y, [5, 10, 20] if not args.quick else [10], 3, args.seed, lassonet_available())
        gene = folds.groupby(["method", "k"]).agg(accuracy=("accuracy", "mean"), n_selected=("n_selected", "mean"),
                                                  path_time_s=("path_time_s", "mean")).reset_index()
    except FileNotFoundError as err:
        print(f"gene-expression part skipped: {err}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sim.to_csv(out / "bench_spinn.csv", index=False)
    md = [f"# SPINN benchmark (simulation n = {n}, p = {p}; 1 CPU thread)", "", sim.to_markdown(index=False, floatfmt=".4g"),
          "", ratios.to_markdown(index=False, floatfmt=".3g")]
    if gene is not None:
        md += ["", "## ALLAML (72 x 7129), 3-fold CV accuracy at k genes", "", gene.to_markdown(index=False, floatfmt=".3g")]
    (out / "bench_spinn.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
