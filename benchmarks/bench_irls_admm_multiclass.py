"""Multinomial IRLS-ADMM net: the selection rule on many-class tuning data (issue 24).

The report sets with 9 classes (2-9 samples per class) showed that the multi-class tuning sets
(GLIOMA, Brain_Tumor1: 4-5 classes) did not cover many small classes. This tunes the multinomial
net's selection on tuning data only, with two many-class stand-ins beside the gene sets:

- ``GLIOMA`` (50 x 4434, 4 classes) and ``Brain_Tumor1`` (90 x 5920, 5 classes): tuning gene sets;
- ``Yale-7``: Yale faces (``faces/Yale_32x32.mat``), 7 images of each of the 15 people
  (105 x 1024, subsample seed 0): many classes, 5-6 training samples per class, p > n;
- ``Handwritten-7``: UCI multiple features (``multiview/Handwritten.mat``, the six views side by
  side, 649 columns), 7 digits of each of the 10 classes (70 x 649, subsample seed 0).

Stratified 5-fold CV (shuffle seed 0), ``StandardScaler`` inside each fold. One fit per fold with
``select_C=(0.01, 0.1)`` and candidate sets up to the screened width keeps the fold x C x g
table; every (select_C, rule, candidate cap) is read off it without training again (cap "rows":
the candidates of at most as many features as training rows, the old default). The peer is the
report's multinomial L1 ``LogisticRegressionCV`` (saga, 5 Cs 1e-3..10, 100 epochs).
Writes ``docs/irls_admm_results/multiclass_tuning.csv``.

``--small-classes`` (issue 24, third pass): stand-ins with classes of 2-9 samples, where the
outer training rows hold a single member of the smallest class on some folds, so a selection
fold can hold out a class it never trained on:

- ``synth9-s0``, ``-s1``, ``-s2``: ``make_classification`` (9 classes, 5,000 columns of which
  10 informative and 300 linear combinations of them, ``class_sep=2``, seeds 0-2), class sizes
  9, 9, 8, 8, 7, 7, 6, 4, 2 (60 rows): a ridge logistic regression on all columns scores
  about 0.67 there;
- ``Yale-2to7``: Yale faces, the 15 people with 2, 3, ..., 7, 2, 3, ... images (63 x 1024);
- ``digits-2to9``: scikit-learn's digits, class sizes 9, 9, 8, 8, 7, 7, 6, 4, 3, 2 (63 x 64).

Each fit (``select_C=0.01``, the default) keeps the fold x g table of held-out losses over the
seen classes and each fold's count of held-out samples of unseen classes, from which the
losses as before (every held-out sample, unseen ones at p = 1e-15) are rebuilt exactly; every
rule is read off both. Writes ``docs/irls_admm_results/multiclass_tuning_small_classes.csv``.

``--select-c`` (issue 24, fifth pass): every multi-class tuning set above (both lists), one fit
per fold with ``select_C=VARIANT_CS`` (or ``--select-cs``; ``--cv``, ``--screen``,
``--random-state``: the net's selection folds, screen size, seed),
every (select_C, rule) and each set at its best C read off the fold x C x g table; the refit is
the estimator's own (``C`` from ``REFIT_CS`` on the warm-started path). No peers (their rows are
in the files above). Writes ``docs/irls_admm_results/multiclass_tuning_select_c[_cvN]_<sets>.csv``.

    python benchmarks/bench_irls_admm_multiclass.py [--sets GLIOMA,Yale-7] [--small-classes]
    python benchmarks/bench_irls_admm_multiclass.py --select-c [--select-cs 0.01 --cv 10] [--folds 0,1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd
from scipy.io import loadmat
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(__file__))
from bench_irls_admm_genes import OUT, _load, _n_used, _refit_score, peer

from glassnet import MultinomialIRLSADMMNetClassifier
from glassnet.datasets import data_dir  # $GLASSNET_DATA, else ../shared/data
from glassnet.estimators.irls_admm_base import REFIT_CS
from glassnet.estimators.irls_admm_scores import ridge_logistic, ridge_path_losses
from glassnet.model_selection import choose, cv_path
from glassnet.utils import threads

SETS = ("GLIOMA", "Brain_Tumor1", "Yale-7", "Handwritten-7")
SMALL_CLASS_SETS = ("synth9-s0", "synth9-s1", "synth9-s2", "Yale-2to7", "digits-2to9")
SYNTH_SIZES = (9, 9, 8, 8, 7, 7, 6, 4, 2)
TUNE_CS = (0.01, 0.1)
RULES = ("1se", "min", "paired")
VARIANT_CS = (0.003, 0.01, 0.03)  # fifth pass: the default and its neighbours on SELECT_C_GRID
UNSEEN_LOSS = -np.log(1e-15)  # held_out_log_loss's loss of a sample whose class was never trained on


def _sized(X, y, sizes, seed=0):
    """Rows of each class ``c`` (in ``np.unique(y)`` order): ``sizes[c % len(sizes)]`` of them."""
    rng = np.random.default_rng(seed)
    idx = np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), sizes[i % len(sizes)], replace=False)
                                  for i, c in enumerate(np.unique(y))]))
    return X[idx], y[idx]


def _subsample(X, y, per_class, seed=0):
    rng = np.random.default_rng(seed)
    idx = np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False)
                                  for c in np.unique(y)]))
    return X[idx], y[idx]


def load(name):
    if name.startswith("synth9-s"):
        from sklearn.datasets import make_classification

        seed = int(name.rsplit("s", 1)[1])
        X, y = make_classification(n_samples=900, n_features=5000, n_informative=10, n_redundant=300,
                                   n_classes=9, n_clusters_per_class=1, class_sep=2.0, flip_y=0,
                                   random_state=seed)
        return _sized(X, y, SYNTH_SIZES, seed)
    if name == "Yale-2to7":
        m = loadmat(data_dir() / "faces" / "Yale_32x32.mat")
        return _sized(np.asarray(m["fea"], float), np.asarray(m["gnd"]).ravel().astype(int), (2, 3, 4, 5, 6, 7))
    if name == "digits-2to9":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        return _sized(X.astype(float), y, (9, 9, 8, 8, 7, 7, 6, 4, 3, 2))
    if name == "Yale-7":
        m = loadmat(data_dir() / "faces" / "Yale_32x32.mat")
        return _subsample(np.asarray(m["fea"], float), np.asarray(m["gnd"]).ravel().astype(int), 7)
    if name == "Handwritten-7":
        m = loadmat(data_dir() / "multiview" / "Handwritten.mat")
        X = np.hstack([np.asarray(v, float) for v in m["X"].ravel()])
        return _subsample(X, np.asarray(m["y"]).ravel().astype(int), 7)
    return _load(name)


def _fitted_folds(X, y, only=None, **net_kw):
    """Stratified 5-fold CV (shuffle seed 0), ``StandardScaler`` inside each fold: per fold
    ``(f, tr, te, Xtr, Xte, est, seconds)`` with the multinomial net fitted on the training part."""
    for f, (tr, te) in enumerate(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y)):
        if only is not None and f not in only:
            continue
        sc = StandardScaler().fit(X[tr])
        Xtr, Xte = sc.transform(X[tr]), sc.transform(X[te])
        est = MultinomialIRLSADMMNetClassifier(**{"random_state": 0, **net_kw})  # net_kw may set it
        t0 = time.perf_counter()
        est.fit(Xtr, y[tr])
        yield f, tr, te, Xtr, Xte, est, time.perf_counter() - t0


def _peer_row(name, f, y, tr, te, Xtr, Xte, **extra):
    """The report's multinomial L1 peer fitted on the fold's training part, as a result row."""
    pname, pm = peer(y, report=True)
    t0 = time.perf_counter()
    pm.fit(Xtr, y[tr])
    return {"data": name, "fold": f, "method": pname, "accuracy": float(np.mean(pm.predict(Xte) == y[te])),
            "n_genes": _n_used(pm.coef_), "seconds": time.perf_counter() - t0, **extra}


def run(sets, peers=True):
    rows = []
    out = f"{OUT}/multiclass_tuning{'' if sets == SETS else '_' + '_'.join(sets)}.csv"
    for name in sets:
        X, y = load(name)
        for f, tr, te, Xtr, Xte, est, sec in _fitted_folds(X, y, select_C=TUNE_CS):
            table, Cs, gs, _single, (ranked, sizes), *_ = est._cv_table
            at = np.array([sizes[min(g, len(sizes)) - 1] for g in gs])
            yi_tr = np.searchsorted(est.classes_, y[tr])
            folds = est._folds(yi_tr, 0)
            cache = {}
            for cap in ("rows", "all"):
                keep = np.flatnonzero(at <= len(tr)) if cap == "rows" else np.arange(len(gs))
                for ci, C in enumerate([*Cs, "best"]):
                    t = table[:, :, keep]
                    losses = t[:, ci] if C != "best" else t[:, t.mean(0).argmin(0), np.arange(len(keep))]
                    for rule in RULES:
                        k = int(at[keep[choose(losses, rule)[0]]])
                        if k not in cache:
                            cache[k] = _refit_score(Xtr, yi_tr, Xte, y[te], np.sort(ranked[:k]), folds,
                                                    est.classes_)
                        rows.append({"data": name, "fold": f, "method": f"net C={C} rule={rule} cap={cap}",
                                     "accuracy": cache[k], "n_genes": k, "seconds": sec})
            if peers:
                rows.append(_peer_row(name, f, y, tr, te, Xtr, Xte))
            print(name, f, f"{sec:.1f} s", flush=True)
            pd.DataFrame(rows).to_csv(out, index=False)
        df = pd.DataFrame(rows)
        print(df[df.data == name].groupby("method", sort=False)[["accuracy", "n_genes", "seconds"]]
              .mean().to_string(), flush=True)
    return rows


def run_small_classes(sets=SMALL_CLASS_SETS, peers=True):
    """The default (``select_C=0.01``, candidates up to the screened width) on the small-class
    stand-ins; every rule on the held-out losses over seen classes (new) and over every held-out
    sample (old, rebuilt from the same fit)."""
    rows = []
    out = f"{OUT}/multiclass_tuning_small_classes{'' if sets == SMALL_CLASS_SETS else '_' + '_'.join(sets)}.csv"
    for name in sets:
        X, y = load(name)
        for f, tr, te, Xtr, Xte, est, sec in _fitted_folds(X, y):
            table, _Cs, gs, _single, (ranked, sizes), _imps, n_unseen = est._cv_table
            at = np.array([sizes[min(g, len(sizes)) - 1] for g in gs])
            yi_tr = np.searchsorted(est.classes_, y[tr])
            folds = est._folds(yi_tr, 0)
            n_va = np.array([len(va) for _, va in folds], float)
            new = table[:, 0]
            old = ((n_va - n_unseen)[:, None] * new + n_unseen[:, None] * UNSEEN_LOSS) / n_va[:, None]
            min_class = int(np.bincount(yi_tr).min())
            cache = {}
            for loss_name, losses in (("seen classes", new), ("all held-out", old)):
                for rule in RULES:
                    k = int(at[choose(losses, rule)[0]])
                    if k not in cache:
                        cache[k] = _refit_score(Xtr, yi_tr, Xte, y[te], np.sort(ranked[:k]), folds, est.classes_)
                    rows.append({"data": name, "fold": f, "method": f"net rule={rule} loss={loss_name}",
                                 "accuracy": cache[k], "n_genes": k, "seconds": sec,
                                 "smallest_training_class": min_class,
                                 "unseen_held_out": int(n_unseen.sum())})
            if peers:
                rows.append(_peer_row(name, f, y, tr, te, Xtr, Xte, smallest_training_class=min_class))
            print(name, f, f"{sec:.1f} s", pd.DataFrame(rows[-7:])[["method", "accuracy", "n_genes"]]
                  .to_string(header=False), flush=True)
            pd.DataFrame(rows).to_csv(out, index=False)
        df = pd.DataFrame(rows)
        print(df[df.data == name].groupby("method", sort=False)[["accuracy", "n_genes", "seconds"]]
              .agg(["mean", "min"]).to_string(), flush=True)
    return rows


def _refit_path_score(Xtr, yi_tr, Xte, yte, S, folds, classes):
    """The estimator's own refit on the columns ``S`` (``C`` from ``REFIT_CS`` by the warm-started
    path on the selection's folds, the lowest mean held-out loss): test accuracy."""
    XS = Xtr[:, S]
    losses = cv_path(lambda f, tr, va: ridge_path_losses(XS, yi_tr, tr, va, REFIT_CS), folds)
    m = ridge_logistic(XS, yi_tr, float(REFIT_CS[choose(losses, "min")[0]]))
    return float(np.mean(classes[m.predict(Xte[:, S])] == yte))


def run_select_c(sets, Cs=VARIANT_CS, folds_only=None, tag="select_c", **net_kw):
    """Fifth pass: one fit per fold with ``select_C=Cs`` (the nets are the default's: the same
    seeds, so ``C = 0.01`` reproduces the default's selection); every (C, rule) and each set at
    its best C over ``Cs`` read off the fold x C x g table (held-out rows of seen classes)."""
    rows = []
    out = f"{OUT}/multiclass_tuning_{tag}_{'_'.join(sets)}.csv"
    for name in sets:
        X, y = load(name)
        for f, tr, te, Xtr, Xte, est, sec in _fitted_folds(X, y, select_C=Cs, only=folds_only, **net_kw):
            table, Cs_, gs, _single, (ranked, sizes), *_ = est._cv_table
            at = np.array([sizes[min(g, len(sizes)) - 1] for g in gs])
            yi_tr = np.searchsorted(est.classes_, y[tr])
            folds = est._folds(yi_tr, 0)
            cache = {}
            for ci, C in enumerate([*Cs_, "best"]):
                losses = table[:, ci] if C != "best" else table[:, table.mean(0).argmin(0), np.arange(len(gs))]
                for rule in RULES:
                    k = int(at[choose(losses, rule)[0]])
                    if k not in cache:
                        cache[k] = _refit_path_score(Xtr, yi_tr, Xte, y[te], np.sort(ranked[:k]), folds,
                                                     est.classes_)
                    rows.append({"data": name, "fold": f, "method": f"net C={C} rule={rule}",
                                 "accuracy": cache[k], "n_genes": k, "seconds": sec,
                                 "smallest_training_class": int(np.bincount(yi_tr).min())})
            print(name, f, f"{sec:.1f} s", flush=True)
            pd.DataFrame(rows).to_csv(out, index=False)
        df = pd.DataFrame(rows)
        print(df[df.data == name].groupby("method", sort=False)[["accuracy", "n_genes"]].mean().to_string(),
              flush=True)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default=None, help="comma-separated tuning sets (default: all)")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--small-classes", action="store_true", help="the small-class stand-ins (docstring)")
    ap.add_argument("--select-c", action="store_true",
                    help="fifth pass: select_C in VARIANT_CS on every multi-class tuning set, every rule")
    ap.add_argument("--folds", default=None, help="with --select-c: comma-separated outer folds only")
    ap.add_argument("--cv", type=int, default=None, help="with --select-c: the net's selection folds")
    ap.add_argument("--select-cs", default=None, help="with --select-c: comma-separated select_C values")
    ap.add_argument("--screen", type=int, default=None, help="with --select-c: the net's screen size")
    ap.add_argument("--random-state", type=int, default=None,
                    help="with --select-c: the net's random_state (its split and selection folds; 0)")
    args = ap.parse_args(argv)
    allowed = SMALL_CLASS_SETS + SETS if args.select_c else SMALL_CLASS_SETS if args.small_classes else SETS
    sets = tuple(args.sets.split(",")) if args.sets else allowed
    if set(sets) - set(allowed):
        raise SystemExit(f"--sets: tuning sets only ({', '.join(allowed)})")
    warnings.simplefilter("ignore", (FutureWarning, ConvergenceWarning, UserWarning))
    with threads(1):
        if args.select_c:
            only = None if args.folds is None else {int(v) for v in args.folds.split(",")}
            Cs = VARIANT_CS if args.select_cs is None else tuple(float(v) for v in args.select_cs.split(","))
            kw = {} if args.cv is None else {"cv": args.cv, "tag": f"select_c_cv{args.cv}"}
            if args.screen is not None:
                kw.update(screen=args.screen, tag=kw.get("tag", "select_c") + f"_screen{args.screen}")
            if args.random_state is not None:
                kw.update(random_state=args.random_state, tag=kw.get("tag", "select_c") + f"_rs{args.random_state}")
            run_select_c(sets, Cs, folds_only=only, **kw)
            return
        (run_small_classes if args.small_classes else run)(sets, peers=not args.no_peers)


if __name__ == "__main__":
    main()
