"""IRLS-ADMM nets as feature selectors on p >> n gene-expression data (issue 24).

``--tune``: the tuning gene sets (``gene_expression/*.mat`` and Brain_Tumor1, never the
``report/`` folder), stratified 5-fold CV (shuffle seed 0), ``StandardScaler`` inside each fold.
One fit per fold with ``select_C=TUNE_CS`` keeps the fold x C x g table of held-out losses, from
which every (select_C, rule) pair is evaluated without training again; peers on the same folds.
Writes ``docs/irls_admm_results/gene_tuning.csv``.

``--tune-extra``: the same on breast cancer's tuning splits (shuffle seeds 1-2) and the paper's
simulation at tuning seeds 900000-900003 (FP / FN too); ``selection_tuning_extra.csv``.

``--report``: the six report sets (``gene_expression/report/``) and breast cancer (10 report
splits, shuffle seeds 100-109), defaults only, against the peers; run once after every choice.
Writes ``docs/irls_admm_results/gene_report.csv``.

``--table1``: Table I's default rows (FP, FN, accuracy) on the simulation's reporting seeds
(``--reps``, 5 data sets per noise level by default); ``docs/irls_admm_results/table1_default.csv``.

``--timing``: 5-fold CV with defaults on a 77 x 5,469 draw of the paper's simulation (the shape
of the issue's target), the fit's own thread choice (one thread at this size; 2 forced until the
fits chose); ``docs/irls_admm_results/timing.csv``.

    python benchmarks/bench_irls_admm_genes.py --tune | --report | --table1 | --timing
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import pandas as pd
from scipy.io import loadmat
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from glassnet import IRLSADMMNetClassifier, MultinomialIRLSADMMNetClassifier
from glassnet.datasets import data_dir, load_brain_tumor1, load_gene_expression
from glassnet.estimators.irls_admm_base import REFIT_CS
from glassnet.estimators.irls_admm_scores import held_out_log_loss, ridge_logistic
from glassnet.experiments._base import l1_logistic_cv
from glassnet.model_selection import choose, cv_path
from glassnet.utils import threads

OUT = "docs/irls_admm_results"
TUNING_SETS = ("ALLAML", "leukemia", "colon", "Prostate_GE", "CNS", "GLIOMA", "Brain_Tumor1")
REPORT_SETS = ("arcene", "Brain_Tumor_2", "TOX_171", "lymphoma", "9_Tumor", "nci9")
TUNE_CS = (0.01, 0.1, 1.0)
RULES = ("1se", "paired")
PEER_MAX_ITER = 1000


def _load(name):
    if name == "Brain_Tumor1":
        d = load_brain_tumor1(data_dir())
        return d.X, d.y
    if name in REPORT_SETS:
        mat = loadmat(data_dir() / "gene_expression" / "report" / f"{name}.mat")
        return np.asarray(mat["X"], float), np.asarray(mat["Y"]).ravel().astype(int)
    d = load_gene_expression(name, data_dir())
    return d.X, d.y


# the multinomial peer's C grid in the report: saga with scikit-learn's 10 Cs (1e-4..1e4) and
# 1000 epochs took 75-140 s per fold on GLIOMA (50 x 4434) at load 10-13 on 2 cores, and 5 Cs
# with 300 epochs 330 s on Brain_Tumor_2; 5 Cs over the range that matters for standardised
# expression data and 100 epochs are what the time allowed (the tuning run used the full grid)
REPORT_MULTI_CS = np.logspace(-3, 1, 5)
REPORT_MULTI_MAX_ITER = 100


def peer(y, seed=0, report=False):
    """L1 LogisticRegressionCV (liblinear, log-loss) for two classes; multinomial L1 with C by
    5-fold CV (saga) for more. A gene counts if any class uses it."""
    if len(np.unique(y)) == 2:
        return "L1-LR CV (liblinear)", l1_logistic_cv(10, seed, "liblinear", "neg_log_loss", PEER_MAX_ITER)
    if report:
        return "multinomial L1-LR CV (saga)", l1_logistic_cv(REPORT_MULTI_CS, seed, "saga", "neg_log_loss",
                                                             REPORT_MULTI_MAX_ITER)
    return "multinomial L1-LR CV (saga)", l1_logistic_cv(10, seed, "saga", "neg_log_loss", PEER_MAX_ITER)


def _net(y, **kw):
    cls = IRLSADMMNetClassifier if len(np.unique(y)) == 2 else MultinomialIRLSADMMNetClassifier
    return cls(random_state=0, **kw)


def _n_used(coef):
    return int(np.count_nonzero(np.any(np.atleast_2d(coef) != 0, axis=0)))


def _refit_score(Xtr, yi_tr, Xte, yte, S, folds, classes):
    losses = cv_path(lambda f, tr, va: [held_out_log_loss(ridge_logistic(Xtr[np.ix_(tr, S)], yi_tr[tr], C),
                                                          Xtr[np.ix_(va, S)], yi_tr[va]) for C in REFIT_CS], folds)
    m = ridge_logistic(Xtr[:, S], yi_tr, REFIT_CS[choose(losses, "min")[0]])
    return float(np.mean(classes[m.predict(Xte[:, S])] == yte))


def _tuning_problems(extra: bool, sets=TUNING_SETS):
    """(name, X, y, splits, true support or None): the tuning gene sets (stratified 5-fold,
    shuffle seed 0), or with ``extra`` breast cancer's tuning splits (shuffle seeds 1-2) and the
    paper's simulation at tuning seeds 900000-900003 per noise level (fit on 350, test on 150)."""
    if not extra:
        for name in sets:
            X, y = _load(name)
            yield name, X, y, list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y)), None
        return
    d = load_breast_cancer()
    for seed in (1, 2):
        yield (f"breast cancer (shuffle {seed})", d.data, d.target,
               list(StratifiedKFold(5, shuffle=True, random_state=seed).split(d.data, d.target)), None)
    from glassnet.datasets import make_irls_admm_simulation

    for noise in (0.0, 0.1, 0.5, 1.0):
        for seed in range(900_000, 900_004):
            X, y, _, support = make_irls_admm_simulation(noise_std=noise, random_state=seed)
            yield f"simulation noise {noise}", X, y, [(np.arange(350), np.arange(350, 500))], support


def tune(extra=False, sets=TUNING_SETS, peers=True):
    from glassnet.metrics import selection_rates

    rows, out = [], f"{OUT}/{'selection_tuning_extra' if extra else 'gene_tuning'}.csv"
    if sets != TUNING_SETS:
        out = out.replace(".csv", "_" + "_".join(sets) + ".csv")
    for name, X, y, splits, support in _tuning_problems(extra, sets):
        for f, (tr, te) in enumerate(splits):
            sc = StandardScaler().fit(X[tr])
            Xtr, Xte = sc.transform(X[tr]), sc.transform(X[te])
            t0 = time.perf_counter()
            est = _net(y, select_C=TUNE_CS).fit(Xtr, y[tr])
            sec = time.perf_counter() - t0
            table, Cs, gs, single, consensus, *_ = est._cv_table
            yi_tr = np.searchsorted(est.classes_, y[tr])
            folds = est._folds(yi_tr, 0)
            for ci, C in enumerate([*Cs, "best of 3"]):
                losses = table[:, ci] if C != "best of 3" else table[:, table.mean(0).argmin(0), np.arange(len(gs))]
                for rule in RULES:
                    g = gs[choose(losses, rule)[0]]
                    for order, (ranked, sizes) in (("full net", single), ("consensus", consensus)):
                        S = np.sort(ranked[: sizes[min(g, len(sizes)) - 1]])
                        acc = _refit_score(Xtr, yi_tr, Xte, y[te], S, folds, est.classes_)
                        row = {"data": name, "fold": f, "method": f"net select_C={C} rule={rule} order={order}",
                               "accuracy": acc, "n_genes": S.size, "seconds": sec}
                        if support is not None:
                            r = selection_rates(S, support, X.shape[1])
                            row.update(fp_rate=r["fp_rate"], fn_rate=r["fn_rate"])
                        rows.append(row)
            if not peers:
                continue
            pname, pm = peer(y)
            t0 = time.perf_counter()
            pm.fit(Xtr, y[tr])
            rows.append({"data": name, "fold": f, "method": pname, "accuracy": float(np.mean(pm.predict(Xte) == y[te])),
                         "n_genes": _n_used(pm.coef_), "seconds": time.perf_counter() - t0})
            print(pd.DataFrame(rows[-17:]).to_string(), flush=True)
        pd.DataFrame(rows).to_csv(out, index=False)
    return rows


def _cv_rows(name, X, y, splits, make_methods):
    rows = []
    for s, (tr, te) in enumerate(splits):
        sc = StandardScaler().fit(X[tr])
        Xtr, Xte = sc.transform(X[tr]), sc.transform(X[te])
        for method, est in make_methods(y).items():
            t0 = time.perf_counter()
            est.fit(Xtr, y[tr])
            rows.append({"data": name, "split": s, "method": method, "accuracy": float(np.mean(est.predict(Xte) == y[te])),
                         "n_genes": _n_used(est.coef_), "seconds": time.perf_counter() - t0,
                         # a peer's solver iterations (= max_iter: stopped before converging)
                         "max_n_iter": int(np.max(est.n_iter_)) if hasattr(est, "n_iter_") else np.nan})
        print(pd.DataFrame(rows[-2:]).to_string(header=s == 0), flush=True)
    return rows


def _default_and_peer(y, part="both"):
    """The default net and its peer (``part``: "both", "net" (the net, plus the fast binary
    peer) or "peer" (the multinomial peer only))."""
    name, p = peer(y, report=True)
    net_name = "IRLS-ADMM net (default)" if len(np.unique(y)) == 2 else "multinomial IRLS-ADMM net (default)"
    methods = {net_name: _net(y), name: p}
    if part == "net" and len(np.unique(y)) > 2:
        methods.pop(name)
    if part == "peer":
        methods.pop(net_name)
    return methods


def report(part="both", sets=REPORT_SETS, breast_cancer=True):
    """The report run (once, after every choice). ``part="net"`` and ``part="peer"`` split it
    in two processes (the multinomial saga peer took 330 s per fold at load 15); their rows go
    to ``gene_report_net.csv`` / ``gene_report_peer.csv``."""
    tag = "" if sets == REPORT_SETS else "_" + "_".join(sets) if sets else "_bc"
    rows, out = [], f"{OUT}/gene_report{'' if part == 'both' else '_' + part}{tag}.csv"
    for name in sets:
        X, y = _load(name)
        if part == "peer" and len(np.unique(y)) == 2:
            continue
        splits = StratifiedKFold(5, shuffle=True, random_state=0).split(X, y)
        rows += _cv_rows(name, X, y, splits, lambda y: _default_and_peer(y, part))
        pd.DataFrame(rows).to_csv(out, index=False)
    if part != "peer" and breast_cancer:
        d = load_breast_cancer()
        for seed in range(100, 110):  # the report splits of breast cancer
            splits = list(StratifiedKFold(5, shuffle=True, random_state=seed).split(d.data, d.target))[:1]
            for r in _cv_rows("breast cancer", d.data, d.target, splits, _default_and_peer):
                rows.append({**r, "split": seed})
            pd.DataFrame(rows).to_csv(out, index=False)
    df = pd.DataFrame(rows)
    print(df.groupby(["data", "method"], sort=False)[["accuracy", "n_genes", "seconds"]].mean().to_string())


def timing():
    from glassnet.datasets import make_irls_admm_simulation

    X, y = make_irls_admm_simulation(n_samples=77, n_features=5469, noise_std=0.5, random_state=77)[:2]
    load0 = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    # the fit's own thread choice (one thread at this size, glassnet.utils.SMALL_WORK); until
    # the change that made that the default, this run forced 2 torch/BLAS threads
    rows = _cv_rows("simulation 77 x 5469", X, y, StratifiedKFold(5, shuffle=True, random_state=0).split(X, y),
                    lambda y: {"IRLS-ADMM net (default)": _net(y)})
    total = time.perf_counter() - t0
    df = pd.DataFrame(rows)
    df["cv_seconds_total"] = total
    df["cv_cpu_seconds_total"] = time.process_time() - c0  # all threads of this process: less load-bound
    df["machine"] = (f"{os.cpu_count()} cores shared with other agents; load average {load0:.1f} at start, "
                     f"{os.getloadavg()[0]:.1f} at end; the fit's default threads (1 at this size)")
    df.to_csv(f"{OUT}/timing.csv", index=False)
    print(df.to_string(), f"\n5-fold CV: {total:.1f} s wall, {df.cv_cpu_seconds_total[0]:.1f} s CPU")


def table1(n_reps=5):
    """Table I's default rows on the experiment's reporting seeds (seed 0: data set seeds
    10000 x 0 + 100 rep + 10 noise, rep < n_reps; 5-fold CV with each fold's own selection)."""
    from glassnet.experiments.irls_admm import NOISE_LEVELS, _simulate
    from glassnet.metrics import selection_rates
    from glassnet.model_selection import make_folds

    rows = []
    for noise in NOISE_LEVELS:
        for rep in range(n_reps):
            X, y, _, support = _simulate(noise, rep, 0)
            for f, (tr, te) in enumerate(make_folds(len(y), 5, y, classification=True, random_state=rep)):
                t0 = time.perf_counter()
                est = IRLSADMMNetClassifier(random_state=f).fit(X[tr], y[tr])
                r = selection_rates(est.selected_features_, support, X.shape[1])
                rows.append({"noise_std": noise, "rep": rep, "fold": f, "accuracy": est.score(X[te], y[te]),
                             "fp_rate": r["fp_rate"], "fn_rate": r["fn_rate"], "n_selected": r["n_selected"],
                             "seconds": time.perf_counter() - t0})
            print(pd.DataFrame(rows[-5:]).mean(numeric_only=True).to_dict(), flush=True)
        pd.DataFrame(rows).to_csv(f"{OUT}/table1_default.csv", index=False)
    df = pd.DataFrame(rows)
    print(df.groupby("noise_std")[["accuracy", "fp_rate", "fn_rate", "n_selected", "seconds"]].mean().to_string())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--tune", action="store_true")
    g.add_argument("--report", action="store_true")
    g.add_argument("--timing", action="store_true")
    g.add_argument("--table1", action="store_true")
    g.add_argument("--tune-extra", action="store_true")
    ap.add_argument("--sets", default=None, help="--tune: comma-separated tuning sets (default: all)")
    ap.add_argument("--no-peers", action="store_true", help="--tune: the net only")
    ap.add_argument("--reps", type=int, default=5, help="--table1: data sets per noise level")
    ap.add_argument("--part", default="both", choices=("both", "net", "peer"), help="--report: which half")
    ap.add_argument("--report-sets", default=None, help="--report: comma-separated report sets (default: all)")
    ap.add_argument("--no-breast-cancer", action="store_true", help="--report: the gene sets only")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", (FutureWarning, ConvergenceWarning, UserWarning))
    os.makedirs(OUT, exist_ok=True)
    if args.timing:
        return timing()
    with threads(1):
        if args.table1:
            return table1(args.reps)
        if args.tune_extra:
            return tune(extra=True)
        if args.tune:
            sets = tuple(args.sets.split(",")) if args.sets else TUNING_SETS
            if set(sets) - set(TUNING_SETS):
                raise SystemExit(f"--sets: tuning sets only ({', '.join(TUNING_SETS)})")
            return tune(sets=sets, peers=not args.no_peers)
        sets = tuple(args.report_sets.split(",")) if args.report_sets else REPORT_SETS
        sets = () if args.report_sets == "none" else sets  # breast cancer only
        if set(sets) - set(REPORT_SETS):
            raise SystemExit(f"--report-sets: report sets only ({', '.join(REPORT_SETS)})")
        return report(args.part, sets, breast_cancer=not args.no_breast_cancer)


if __name__ == "__main__":
    main()
