"""IRLS-ADMM net vs Algorithm 1 (ADMM) vs scikit-learn's L1 logistic regression, one run.

Sections (column ``task`` of the CSV):

- ``simulation``: Table-I-style data (500 x 50, 8 correlated true features) at noise 0, 0.1,
  0.5, 1 on REPORTING seeds ``700000 + 100 x rep + 10 x noise`` (never used to choose
  anything); fit on 70 %, FP/FN of the selected set and accuracy on the held-out 30 %.
- ``breast cancer``: 5-fold stratified CV accuracy, standardised in each fold: on the split of
  shuffle seed 0 (the split earlier rounds reported) and, because one 5-fold split moves the
  accuracies of these methods by up to 0.016, on ten more report splits (shuffle seeds 100-109;
  ``rep`` counts their 50 folds). Seeds 1-12 were used for tuning (``--tune``: 1-4).
- ``fit 500x50``: fit time on one whole simulation data set, each method.
- ``wide 30x2000``: n = 30, p = 2000 fit time (defaults; and ``max_epochs=5``, the issue's
  setting), and one forward pass of the net in the primal (p x p) and kernel (n x n) forms.

``--tune`` instead runs the measurement that chose the default selection rule, on TUNING data
only: simulation seeds ``900000 + rep`` (70/30 split; each rule's FP/FN and accuracy) and
breast-cancer 5-fold splits with shuffle seeds 1-4 (accuracy, beside scikit-learn's L1-LR CV),
written to ``benchmarks/irls_admm_tuning.csv``. ``--tune-lr`` runs the same measurement over
Adam's learning rate (0.05-0.5; fit seconds and epochs beside the selection), written to
``benchmarks/irls_admm_lr_tuning.csv``. ``--tune-select-c`` does the same over ``select_C``,
the ridge ``C`` that scores the candidate sets (0.001-1), written to
``benchmarks/irls_admm_select_c_tuning.csv``. ``--spread N`` scores the default net on the split of
shuffle seed 0 with N random states (how much of its gap there is the net's own randomness),
beside scikit-learn's L1-LR CV and a ridge logistic regression on all features; chooses nothing.
``--other-data`` scores the default on public problems no choice has seen (two of scikit-learn's
``make_classification`` problems, wine and iris as binary tasks), written to
``benchmarks/irls_admm_other_data.csv``; chooses nothing. ``--wide-selection`` compares
selection rules when p >> n on tuning seeds (exploratory; ``benchmarks/irls_admm_wide_selection.csv``).

    python benchmarks/bench_irls_admm.py [--repeats 5] [--out benchmarks/irls_admm.csv]
    python benchmarks/bench_irls_admm.py --tune [--repeats 5] [--bc-shuffles 1,2,3,4]
    python benchmarks/bench_irls_admm.py --tune-lr
    python benchmarks/bench_irls_admm.py --tune-select-c --repeats 10 --bc-shuffles 1,2,3,4,5,6,7,8,9,10,11,12
    python benchmarks/bench_irls_admm.py --spread 10
    python benchmarks/bench_irls_admm.py --other-data
    python benchmarks/bench_irls_admm.py --wide-selection

Wall-clock times depend on the machine's load (printed with the table): measure peers in the
same run and compare ratios.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.preprocessing import StandardScaler

from glassnet import ADMMLogisticRegression, IRLSADMMNetClassifier
from glassnet.datasets import make_irls_admm_simulation
from glassnet.estimators.irls_admm import SELECT_C_GRID
from glassnet.experiments.irls_admm import PEER_MAX_ITER, sklearn_l1_cv
from glassnet.metrics import selection_rates
from glassnet.utils import threads

NOISES = (0.0, 0.1, 0.5, 1.0)
# the net's defaults: selection="1se"; select_C and duplicate_corr "auto" (3 and 0.97 on the n >= p
# data here, 0.1 and 0.9 when p > n); variants name what they change
METHODS = {
    "IRLS-ADMM net (default)": lambda s: IRLSADMMNetClassifier(random_state=s),
    "IRLS-ADMM net (single, rule=1se)": lambda s: IRLSADMMNetClassifier(random_state=s, n_features_to_select="single"),
    "IRLS-ADMM net (rule=min)": lambda s: IRLSADMMNetClassifier(random_state=s, selection="min"),
    "ADMM (Alg. 1, lambda=1)": lambda s: ADMMLogisticRegression(lam=1.0, k_max=30, i_max=200, tol=1e-6),
    "sklearn L1-LR (C=1)": lambda s: LogisticRegression(l1_ratio=1.0, C=1.0, solver="liblinear",
                                                        max_iter=PEER_MAX_ITER, random_state=s),
    "sklearn L1-LR (C by CV)": sklearn_l1_cv,
}


def support_of(est):
    if hasattr(est, "get_support"):
        return est.get_support(indices=True)
    return np.flatnonzero(np.ravel(est.coef_))


def timed_fit(est, X, y):
    t0 = time.perf_counter()
    est.fit(X, y)
    return time.perf_counter() - t0


def bench_simulation(repeats):
    rows = []
    for noise in NOISES:
        for rep in range(repeats):
            X, y, _, support = make_irls_admm_simulation(
                noise_std=noise, random_state=700_000 + 100 * rep + int(10 * noise))
            X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=rep, stratify=y)
            for method, make in METHODS.items():
                est = make(rep)
                dt = timed_fit(est, X_tr, y_tr)
                r = selection_rates(support_of(est), support, X.shape[1])
                rows.append({"task": "simulation", "data": f"noise {noise}", "method": method, "rep": rep,
                             "fit_seconds": dt, "accuracy": accuracy_score(y_te, est.predict(X_te)),
                             "n_selected": r["n_selected"], "fp_rate": r["fp_rate"], "fn_rate": r["fn_rate"]})
    return rows


BREAST_CANCER_SPLITS = {"569x30, 5-fold CV (shuffle seed 0)": (0,),
                        "569x30, 10 x 5-fold CV (shuffle seeds 100-109)": tuple(range(100, 110))}


def breast_cancer_folds(shuffles):
    """``(shuffle, fold, X_tr, X_te, y_tr, y_te)`` of stratified 5-fold splits of breast cancer,
    one split per shuffle seed, standardised on each fold's training rows."""
    X, y = load_breast_cancer(return_X_y=True)
    for shuffle in shuffles:
        for f, (tr, te) in enumerate(StratifiedKFold(5, shuffle=True, random_state=shuffle).split(X, y)):
            sc = StandardScaler().fit(X[tr])
            yield shuffle, f, sc.transform(X[tr]), sc.transform(X[te]), y[tr], y[te]


def bench_breast_cancer(methods=lambda shuffles: METHODS):
    """Each method of ``methods(shuffles)`` on every fold of each of ``BREAST_CANCER_SPLITS``."""
    rows = []
    for data, shuffles in BREAST_CANCER_SPLITS.items():
        for rep, (_, f, X_tr, X_te, y_tr, y_te) in enumerate(breast_cancer_folds(shuffles)):
            for method, make in methods(shuffles).items():
                est = make(f)
                dt = timed_fit(est, X_tr, y_tr)
                rows.append({"task": "breast cancer", "data": data, "method": method, "rep": rep,
                             "fit_seconds": dt, "n_selected": len(support_of(est)),
                             "accuracy": accuracy_score(y_te, est.predict(X_te))})
    return rows


def bench_fit_500x50(repeats):
    X, y, _, _ = make_irls_admm_simulation(noise_std=0.5, random_state=700_005)
    rows = []
    for rep in range(repeats):
        for method, make in METHODS.items():
            rows.append({"task": "fit 500x50", "data": "simulation noise 0.5", "method": method, "rep": rep,
                         "fit_seconds": timed_fit(make(rep), X, y)})
    return rows


def bench_wide(repeats):
    from glassnet.nn.irls_admm import IRLSADMMNet

    X, y, _, support = make_irls_admm_simulation(n_samples=30, n_features=2000, noise_std=0.5, random_state=700_007)
    rows = []
    for rep in range(repeats):
        for method, est in (("IRLS-ADMM net (default)", IRLSADMMNetClassifier(random_state=rep)),
                            ("IRLS-ADMM net (max_epochs=5)", IRLSADMMNetClassifier(random_state=rep, max_epochs=5)),
                            ("sklearn L1-LR (C by CV)", sklearn_l1_cv(rep))):
            dt = timed_fit(est, X, y)
            r = selection_rates(support_of(est), support, X.shape[1])
            rows.append({"task": "wide 30x2000", "data": "simulation noise 0.5", "method": method, "rep": rep,
                         "fit_seconds": dt, "n_selected": r["n_selected"], "fp_rate": r["fp_rate"],
                         "fn_rate": r["fn_rate"]})
    P = torch.as_tensor(np.where(y > 0, 1.0, -1.0)[:, None] * X)
    for solver in ("primal", "kernel"):
        net = IRLSADMMNet(n_features=X.shape[1], solver=solver)
        with torch.no_grad():
            t0 = time.perf_counter()
            net(P)
            dt = time.perf_counter() - t0
        rows.append({"task": "wide 30x2000", "data": "one forward pass (3 x 4 layers)",
                     "method": f"IRLSADMMNet solver={solver}", "rep": 0, "fit_seconds": dt})
    return rows


RULES = {  # --tune: the selection rules (rule=1se, the default, unless named; all tuning data have n >= p)
    "auto (groups at |r| >= 0.8)": {"duplicate_corr": 0.8},
    "auto (groups at |r| >= 0.97 when n >= p, rule=1se: default)": {},
    "auto (groups at |r| >= 0.95)": {"duplicate_corr": 0.95},
    "auto, rule=paired": {"selection": "paired"},
    "auto, rule=min": {"selection": "min"},
    "single (rule=1se over single features)": {"n_features_to_select": "single"},
}
LRS = {f"lr={lr}": {"lr": lr} for lr in (0.05, 0.1, 0.2, 0.3, 0.5)}  # --tune-lr: Adam's step
SELECT_CS = {f"select_C={c}": {"select_C": c} for c in (0.001, 0.003, 0.01, 0.03, 0.1, 1.0)}  # --tune-select-c


def summarise(rows, out, floatfmt=".3f"):
    """Mean of each numeric column per (data, method), in first-seen order, written to ``out``
    and printed."""
    df = pd.DataFrame(rows).groupby(["data", "method"], sort=False).mean(numeric_only=True)
    df = df.drop(columns="rep", errors="ignore").reset_index()
    df.to_csv(out, index=False)
    print(df.to_markdown(index=False, floatfmt=floatfmt))
    return df


# the default beside the fifth round's select_C, in --other-data (n >= p: the default's select_C is 3)
DEFAULT_AND_OLD_SELECT_C = {
    "IRLS-ADMM net (default)": lambda s: IRLSADMMNetClassifier(random_state=s),
    "IRLS-ADMM net (select_C=0.1)": lambda s: IRLSADMMNetClassifier(random_state=s, select_C=0.1),
}


def spread(n_states, out):
    """How much of the breast-cancer gap on the split of shuffle seed 0 is the net's own
    randomness: the default net with ``random_state = fold + 1000 j`` for ``j < n_states``
    (the report uses j = 0), beside scikit-learn's L1-LR CV and, as the no-selection reference,
    a ridge logistic regression on all 30 features with C by 5-fold CV (log-loss). Chooses
    nothing; the peers are also scored on the ten report splits."""
    from sklearn.linear_model import LogisticRegressionCV

    def ridge_cv(s):
        return LogisticRegressionCV(Cs=10, cv=5, scoring="neg_log_loss", max_iter=PEER_MAX_ITER)

    def methods(shuffles):
        makers = {"sklearn L1-LR (C by CV)": sklearn_l1_cv, "sklearn ridge LR, all features (C by CV)": ridge_cv}
        if shuffles == (0,):
            makers.update({f"IRLS-ADMM net (default), random_state = fold + {1000 * j}":
                           lambda s, j=j: IRLSADMMNetClassifier(random_state=s + 1000 * j)
                           for j in range(n_states)})
        return makers

    df = summarise(bench_breast_cancer(methods), out, ".4f")
    nets = df[df.method.str.startswith("IRLS-ADMM")].accuracy
    print(f"\nnet on shuffle seed 0 over {n_states} random states: mean {nets.mean():.4f}, "
          f"range {nets.min():.4f}-{nets.max():.4f}; wrote {out}")


def other_data(out):
    """The default on public problems that no choice has seen (scikit-learn's generators and
    bundled sets, 5-fold stratified CV with shuffle seed 0, standardised per fold), beside the
    fifth round's ``select_C`` 0.1 and scikit-learn's L1-LR CV. Chooses nothing."""
    from sklearn.datasets import load_iris, load_wine, make_classification

    sets = {"make_classification 500x50 (5 informative, 5 redundant)":
            make_classification(500, 50, n_informative=5, n_redundant=5, random_state=1),
            "make_classification 300x200 (10 informative, 5% flipped)":
            make_classification(300, 200, n_informative=10, n_redundant=0, flip_y=0.05, random_state=2)}
    wine, iris = load_wine(), load_iris()
    sets["wine, class 1 vs rest (178x13)"] = (wine.data, (wine.target == 1).astype(int))
    sets["iris, versicolor vs virginica (100x4)"] = (iris.data[iris.target > 0], iris.target[iris.target > 0])
    methods = {**DEFAULT_AND_OLD_SELECT_C, "sklearn L1-LR (C by CV)": sklearn_l1_cv}
    rows = []
    for data, (X, y) in sets.items():
        for f, (tr, te) in enumerate(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y)):
            sc = StandardScaler().fit(X[tr])
            for method, make in methods.items():
                est = make(f)
                dt = timed_fit(est, sc.transform(X[tr]), y[tr])
                rows.append({"data": data, "method": method, "fit_seconds": dt, "n_selected": len(support_of(est)),
                             "accuracy": accuracy_score(y[te], est.predict(sc.transform(X[te])))})
    summarise(rows, out)
    print(f"\nwrote {out}")


def wide_selection(out):
    """p >> n on TUNING seeds (exploratory, chooses nothing yet): the paper's simulation with
    n = 60, 120 training rows and p = 500, 2000 features (8 true), seeds 900200-900205, 200
    held-out rows each. The default (when p > n: select_C 0.1 and rule "1se", which earlier runs
    compared as variants of the old default) beside the oracle count q = 8, select_C per set and
    scikit-learn's L1-LR CV: which part of the selection fails when p >> n."""
    methods = {"IRLS-ADMM net (default)": lambda s: IRLSADMMNetClassifier(random_state=s),
               "IRLS-ADMM net (q=8, the true count)": lambda s: IRLSADMMNetClassifier(random_state=s,
                                                                                      n_features_to_select=8),
               "IRLS-ADMM net (select_C per set from 0.001-1)":
               lambda s: IRLSADMMNetClassifier(random_state=s, select_C=SELECT_C_GRID),
               "sklearn L1-LR (C by CV)": sklearn_l1_cv}
    rows = []
    for n, p in ((60, 500), (120, 500), (60, 2000), (120, 2000)):
        for seed in range(900_200, 900_206):
            X, y, _, support = make_irls_admm_simulation(n_samples=n + 200, n_features=p, noise_std=0.5,
                                                         random_state=seed)
            X_tr, X_te, y_tr, y_te = train_test_split(X, y, train_size=n, random_state=seed, stratify=y)
            for method, make in methods.items():
                est = make(seed)
                dt = timed_fit(est, X_tr, y_tr)
                r = selection_rates(support_of(est), support, p)
                rows.append({"data": f"n = {n}, p = {p}", "method": method, "fit_seconds": dt,
                             "n_selected": r["n_selected"], "fp_rate": r["fp_rate"], "fn_rate": r["fn_rate"],
                             "accuracy": accuracy_score(y_te, est.predict(X_te))})
    summarise(rows, out)
    print(f"\nwrote {out}")


def tune(repeats, out, bc_shuffles=(1, 2, 3, 4), variants=RULES):
    """The measurement behind a default (the selection rule, or with ``variants=LRS`` the
    learning rate), on tuning data only: simulation seeds 900000 + rep, breast-cancer shuffle
    seeds ``bc_shuffles``. Fit seconds and epochs are recorded beside the selection."""
    rows = []

    def record(est, dt, **row):
        rows.append({**row, "fit_seconds": dt, "epochs": len(est.history_.train_loss)
                     if hasattr(est, "history_") else np.nan})

    # tuning splits; the report uses shuffle seeds 0 and 100-109
    for shuffle, f, X_tr, X_te, y_tr, y_te in breast_cancer_folds(bc_shuffles):
        ests = {name: IRLSADMMNetClassifier(random_state=f, **kw) for name, kw in variants.items()}
        ests["sklearn L1-LR (C by CV)"] = sklearn_l1_cv(f)
        for name, est in ests.items():
            dt = timed_fit(est, X_tr, y_tr)
            record(est, dt, data="breast cancer", noise_std=np.nan, seed=shuffle, rule=name,
                   n_selected=len(support_of(est)), accuracy=accuracy_score(y_te, est.predict(X_te)))
        if f == 4:
            print(f"tuning: breast cancer shuffle seed {shuffle} done", flush=True)
    for noise in NOISES:
        for rep in range(repeats):
            seed = 900_000 + rep
            X, y, _, support = make_irls_admm_simulation(noise_std=noise, random_state=seed)
            X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
            for name, kw in variants.items():
                est = IRLSADMMNetClassifier(random_state=seed, **kw)
                dt = timed_fit(est, X_tr, y_tr)
                r = selection_rates(est.selected_features_, support, X.shape[1])
                record(est, dt, data="simulation", noise_std=noise, seed=seed, rule=name,
                       fp_rate=r["fp_rate"], fn_rate=r["fn_rate"], n_selected=r["n_selected"],
                       accuracy=accuracy_score(y_te, est.predict(X_te)))
            print(f"tuning: noise {noise} seed {seed} done", flush=True)
    df = pd.DataFrame(rows)
    summary = df.groupby(["data", "rule", "noise_std"], sort=False, dropna=False)[
        ["fp_rate", "fn_rate", "n_selected", "accuracy", "fit_seconds", "epochs"]].mean()
    summary = summary.reset_index()
    summary.to_csv(out, index=False)
    print(summary.to_markdown(index=False, floatfmt=".3f"))
    print(f"\nwrote {out}; simulation tuning seeds 900000..{900_000 + repeats - 1} (70/30 split), "
          f"breast-cancer 5-fold splits with shuffle seeds {list(bc_shuffles)}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default=None)
    ap.add_argument("--tune", action="store_true", help="re-run the selection-rule tuning (tuning seeds)")
    ap.add_argument("--tune-lr", action="store_true", help="re-run the learning-rate tuning (tuning seeds)")
    ap.add_argument("--tune-select-c", action="store_true",
                    help="re-run the tuning of select_C, the ridge C that scores candidate sets (tuning seeds)")
    ap.add_argument("--spread", type=int, default=0, metavar="N",
                    help="breast cancer, shuffle seed 0: the default net over N random states (chooses nothing)")
    ap.add_argument("--other-data", action="store_true",
                    help="the default on public problems no choice has seen (chooses nothing)")
    ap.add_argument("--wide-selection", action="store_true",
                    help="p >> n selection on tuning seeds (exploratory; chooses nothing)")
    ap.add_argument("--bc-shuffles", default="1,2,3,4",
                    help="--tune: breast-cancer shuffle seeds (tuning seeds are 1-12; 0, 100-109 report)")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", FutureWarning)
    with threads(1):
        if args.wide_selection:
            return wide_selection(args.out or "benchmarks/irls_admm_wide_selection.csv")
        if args.other_data:
            return other_data(args.out or "benchmarks/irls_admm_other_data.csv")
        if args.spread:
            return spread(args.spread, args.out or "benchmarks/irls_admm_spread.csv")
        if args.tune or args.tune_lr or args.tune_select_c:
            shuffles = tuple(int(s) for s in args.bc_shuffles.split(","))
            if {0, *range(100, 110)} & set(shuffles):
                raise SystemExit("--bc-shuffles: 0 and 100-109 are the report splits")
            if args.tune_lr:
                return tune(args.repeats, args.out or "benchmarks/irls_admm_lr_tuning.csv", shuffles, LRS)
            if args.tune_select_c:
                return tune(args.repeats, args.out or "benchmarks/irls_admm_select_c_tuning.csv", shuffles,
                            SELECT_CS)
            return tune(args.repeats, args.out or "benchmarks/irls_admm_tuning.csv", shuffles)
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        rows = bench_fit_500x50(args.repeats) + bench_wide(3) + bench_breast_cancer() + bench_simulation(args.repeats)
        elapsed = time.perf_counter() - t0
    keys = ["task", "data", "method"]
    df = pd.DataFrame(rows).groupby(keys, sort=False).mean(numeric_only=True).drop(columns="rep").reset_index()
    df["fit_seconds_max"] = pd.DataFrame(rows).groupby(keys, sort=False).fit_seconds.max().to_numpy()
    for task in df.task.unique():  # time ratio to the peer users know, per task and data
        ref = df[(df.task == task) & (df.method == "sklearn L1-LR (C by CV)")].set_index("data").fit_seconds
        m = df.task == task
        df.loc[m, "time_ratio_to_sklearn_cv"] = df.loc[m, "fit_seconds"] / df.loc[m, "data"].map(ref)
    load1 = os.getloadavg()[0]
    df["machine"] = (f"{os.cpu_count()} cores shared with other jobs; load average {load0:.1f} at start, "
                     f"{load1:.1f} at end; 1 torch thread")
    out = args.out or "benchmarks/irls_admm.csv"
    df.to_csv(out, index=False)
    print(df.drop(columns="machine").to_markdown(index=False, floatfmt=".3g"))
    print(f"\nwrote {out} in {elapsed:.0f} s; {df.machine.iloc[0]}")


if __name__ == "__main__":
    main()
