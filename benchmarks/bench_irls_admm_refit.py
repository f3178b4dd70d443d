"""Multinomial IRLS-ADMM net: the final refit on many-class tuning data, several CV seeds (issue 24,
sixth pass).

The fifth pass found every selection candidate's gain within a redraw of one seed. This pass
redraws the outer CV (stratified 5-fold with shuffle seeds ``--seeds``, default 0-2,
``StandardScaler`` inside each fold) so each candidate's mean has a standard error, and tests
the step that predicts: the ridge logistic refit on the selected genes. One default fit per
outer fold (``MultinomialIRLSADMMNetClassifier(random_state=0)``: its selected genes ``S`` and
its selection folds); every refit variant is read off the same fit:

- the test accuracy of the ridge refit on ``S`` at every ``C`` of ``GRID`` (``REFIT_CS`` with the
  geometric midpoints between its values, 19 values from 1e-4 to 1e4), unweighted and with
  balanced class weights (``n / (K n_c)`` per row, in the fits and in the held-out losses);
- the selection folds' held-out log-loss and accuracy at every ``C`` of ``GRID``, from which a
  rule picks ``C``: ``min`` on ``REFIT_CS`` (the default, checked against the estimator's own
  prediction), ``min`` and ``1se`` (towards smaller ``C``) on ``GRID``, the best held-out
  accuracy (ties: the lower loss);
- the trained net itself on the selected genes it saw (``refit=False``'s classifier on this
  ``S``).

With ``--rules`` the same fits also score the selection rules ``min`` and ``paired`` (read off
the fit's fold x g table as in ``bench_irls_admm_multiclass.py --select-c``, refitted as the
estimator does); ``--no-refits`` skips the refit variants.

Writes ``docs/irls_admm_results/refit_tuning_[rules_]<sets>.csv`` (one row per set, seed, fold,
variant; ``--summary`` prints accuracy per set and the differences from the estimator's own
prediction with standard errors over the seeds and over the (set, seed) units). The sixth
pass's files: seeds 0-2 on every set (Handwritten-7, Yale-7: refit variants and rules in one file), seeds 3-4
on the small-class sets (``refit_tuning_seeds34_*.csv``).

    python benchmarks/bench_irls_admm_refit.py [--sets synth9-s0,digits-2to9] [--seeds 0,1,2] [--rules]
    python benchmarks/bench_irls_admm_refit.py --summary

Seventh pass: ``--no-refits --screen N`` fits the net with that screen width on the same folds
(``screen_tuning_<N>_<sets>.csv``); ``--screen-summary`` pairs each width's folds with the
default's rows above (accuracy, genes, seconds; differences with se over the (set, seed) units).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(__file__))
from bench_irls_admm_genes import OUT
from bench_irls_admm_multiclass import SETS, SMALL_CLASS_SETS, _refit_path_score, load

from glassnet import MultinomialIRLSADMMNetClassifier
from glassnet.estimators.irls_admm_base import REFIT_CS
from glassnet.estimators.irls_admm_scores import held_out_log_loss
from glassnet.model_selection import choose
from glassnet.utils import threads

ORDER = SMALL_CLASS_SETS + ("GLIOMA", "Brain_Tumor1") + tuple(s for s in SETS if s not in ("GLIOMA", "Brain_Tumor1"))
GRID = np.logspace(-4, 4, 19)  # REFIT_CS (every other value) and the midpoints between them
COARSE = np.flatnonzero(np.isin(np.round(np.log10(GRID), 9), np.round(np.log10(REFIT_CS), 9)))


def _balanced(yi):
    counts = np.bincount(yi)
    return len(yi) / (np.count_nonzero(counts) * counts[yi])


def _inner(XS, yi, folds, sw):
    """Selection folds x GRID: held-out log-loss and accuracy (weighted by ``sw`` when given)."""
    L, A = np.zeros((len(folds), len(GRID))), np.zeros((len(folds), len(GRID)))
    for f, (tr, va) in enumerate(folds):
        m = LogisticRegression(C=1.0, max_iter=10_000, tol=1e-8, warm_start=True)
        w_tr, w_va = (None, None) if sw is None else (sw[tr], sw[va])
        for c, C in enumerate(GRID):
            m.set_params(C=float(C)).fit(XS[tr], yi[tr], sample_weight=w_tr)
            L[f, c] = held_out_log_loss(m, XS[va], yi[va], w_va)
            A[f, c] = np.average(m.predict(XS[va]) == yi[va], weights=w_va)
    return L, A


def _test_path(XS, yi, XteS, sw):
    """Test predictions (class indices) of the refit at every ``C`` of GRID."""
    m = LogisticRegression(C=1.0, max_iter=10_000, tol=1e-8, warm_start=True)
    preds = []
    for C in GRID:
        m.set_params(C=float(C)).fit(XS, yi, sample_weight=sw)
        preds.append(m.predict(XteS))
    return np.array(preds)


def _rules(L, A):
    """Index into GRID chosen by each rule."""
    coarse = COARSE[choose(L[:, COARSE], "min")[0]]
    acc = A.mean(0)
    tied = np.flatnonzero(acc >= acc.max() - 1e-12)
    return {"min-coarse": coarse, "min": choose(L, "min")[0], "1se": choose(L, "1se")[0],
            "acc": tied[np.argmin(L.mean(0)[tied])]}


def _rule_rows(est, Xtr, yi, Xte, yte, folds, base):
    """The selection rules ``min`` and ``paired`` (and the default ``1se``, a check) read off the
    fit's own fold x g table, each set refitted as the estimator does."""
    table, _Cs, gs, _single, (ranked, sizes), *_ = est._cv_table
    at = np.array([sizes[min(g, len(sizes)) - 1] for g in gs])
    rows = []
    for rule in ("1se", "min", "paired"):
        k = int(at[choose(table[:, 0], rule)[0]])
        acc = _refit_path_score(Xtr, yi, Xte, yte, np.sort(ranked[:k]), folds, est.classes_)
        rows.append({**base, "variant": f"select rule={rule}", "C": np.nan, "n_genes": k, "accuracy": acc})
    return rows


def run(sets, seeds, refits=True, rules=False, screen=None):
    out = (f"{OUT}/refit_tuning_{'rules_' if rules else ''}{'_'.join(sets)}.csv" if screen is None
           else f"{OUT}/screen_tuning_{screen}_{'_'.join(sets)}.csv")
    rows = []
    for name in sets:
        X, y = load(name)
        for seed in seeds:
            for f, (tr, te) in enumerate(StratifiedKFold(5, shuffle=True, random_state=seed).split(X, y)):
                sc = StandardScaler().fit(X[tr])
                Xtr, Xte = sc.transform(X[tr]), sc.transform(X[te])
                est = MultinomialIRLSADMMNetClassifier(random_state=0, **({} if screen is None else {"screen": screen}))
                t0 = time.perf_counter()
                est.fit(Xtr, y[tr])
                sec = time.perf_counter() - t0
                yi = np.searchsorted(est.classes_, y[tr])
                yte = y[te]
                S = est.selected_features_
                folds = est._folds(yi, 0)
                base = {"data": name, "seed": seed, "fold": f, "n_genes": int(S.size), "seconds": sec,
                        "smallest_training_class": int(np.bincount(yi).min()), "refit_C": est.refit_C_}
                rows.append({**base, "variant": "estimator", "C": est.refit_C_,
                             "accuracy": float(np.mean(est.predict(Xte) == yte))})
                if rules:
                    rows += _rule_rows(est, Xtr, yi, Xte, yte, folds, base)
                seen = S[np.isin(S, est.screened_features_)]
                if refits and seen.size:
                    coef, b0 = est._net_on(Xtr, yi, seen)
                    pred = est.classes_[(Xte @ coef.T + b0).argmax(1)]
                    rows.append({**base, "variant": "net", "C": np.nan, "n_genes": int(seen.size),
                                 "accuracy": float(np.mean(pred == yte))})
                t1 = time.perf_counter()
                for wname, sw in (("none", None), ("balanced", _balanced(yi))) if refits else ():
                    L, A = _inner(Xtr[:, S], yi, folds, sw)
                    P = _test_path(Xtr[:, S], yi, Xte[:, S], sw)
                    accs = (est.classes_[P] == yte).mean(1)
                    for c, C in enumerate(GRID):
                        rows.append({**base, "variant": f"w={wname} C={C:.3g}", "C": C, "accuracy": accs[c],
                                     "inner_loss": L[:, c].mean(), "inner_acc": A[:, c].mean()})
                    for rule, c in _rules(L, A).items():
                        rows.append({**base, "variant": f"w={wname} rule={rule}", "C": GRID[c], "accuracy": accs[c]})
                print(name, seed, f, f"fit {sec:.1f} s, refits {time.perf_counter() - t1:.1f} s,",
                      pd.DataFrame(rows[-8:])[["variant", "C", "accuracy"]].to_string(header=False, index=False)
                      .replace("\n", " |"), flush=True)
                pd.DataFrame(rows).to_csv(out, index=False)
    return rows


def summary(files=None, variants=None):
    """Per variant: accuracy mean over each set's folds and seeds, and the differences from the
    estimator's own prediction with standard errors over the seeds (small-class and other means)
    and over the (set, seed) units."""
    df = pd.concat([pd.read_csv(f) for f in (files or glob.glob(f"{OUT}/refit_tuning_*.csv"))])
    acc = df.groupby(["data", "seed", "variant"]).accuracy.mean().unstack("variant")
    genes = df[df.variant == "estimator"].groupby("data").n_genes.mean()
    variants = variants or [v for v in acc.columns if "C=" not in v or v.endswith(("C=0.0001", "C=0.01", "C=1",
                                                                                   "C=0.129", "C=0.0464"))]
    out = []
    for v in ["estimator", *[v for v in variants if v != "estimator"]]:
        d = acc[v] - acc["estimator"]
        row = {"variant": v, **acc[v].groupby("data").mean().round(3).to_dict()}
        for part, names in (("small", SMALL_CLASS_SETS), ("other", SETS)):
            sub = d[d.index.get_level_values("data").isin(names)]
            if sub.empty:
                continue
            by_seed = sub.groupby("seed").mean()  # each seed: the mean over the part's sets
            mean_v = acc[v][acc.index.get_level_values("data").isin(names)].groupby("seed").mean()
            row[f"{part} mean"] = round(mean_v.mean(), 3)
            row[f"{part} diff"] = round(by_seed.mean(), 4)
            row[f"{part} se(seeds)"] = round(by_seed.std(ddof=1) / np.sqrt(len(by_seed)), 4) if len(by_seed) > 1 else np.nan
            row[f"{part} se(units)"] = round(sub.std(ddof=1) / np.sqrt(len(sub)), 4)
        out.append(row)
    return pd.DataFrame(out).set_index("variant"), genes


def _default_rows():
    """The default's per-fold rows (variant ``estimator``) from the sixth pass's files, one per
    (set, seed, fold); the files that fitted the same fold agree (checked)."""
    df = pd.concat([pd.read_csv(f) for f in glob.glob(f"{OUT}/refit_tuning_*.csv")])
    df = df[df.variant == "estimator"]
    key = ["data", "seed", "fold"]
    if (df.groupby(key)[["accuracy", "n_genes"]].nunique() > 1).any().any():
        raise SystemExit("the sixth pass's files disagree on a default fold")
    return df.groupby(key)[["accuracy", "n_genes", "seconds"]].first()


def screen_summary():
    """Seventh pass: each screen width's accuracy against the default's on the same folds; the
    paired difference per (set, seed) unit (mean over 5 folds) with its standard error over the
    units, small-class stand-ins and GLIOMA / Brain_Tumor1 apart. digits-2to9 (64 columns) and
    Yale-2to7 at widths >= 1024 see every column: their fits equal the default's / are run."""
    base = _default_rows()
    out = []
    for f in sorted(glob.glob(f"{OUT}/screen_tuning_*.csv")):
        d = pd.read_csv(f).set_index(["data", "seed", "fold"])
        j = d[["accuracy", "n_genes", "seconds"]].merge(base, left_index=True, right_index=True, suffixes=("", "_default"))
        j["diff"] = j.accuracy - j.accuracy_default
        width = int(os.path.basename(f).split("_")[2])
        for name, g in j.groupby(level="data"):
            unit = g.groupby(level="seed")["diff"].mean()
            out.append({"screen": width, "data": name, "units": len(unit), "folds": len(g),
                        "accuracy": g.accuracy.mean(), "default": g.accuracy_default.mean(),
                        "diff": unit.mean(), "genes": g.n_genes.mean(), "genes_default": g.n_genes_default.mean(),
                        "seconds": g.seconds.mean(), "seconds_default": g.seconds_default.mean(),
                        "unit_diffs": list(unit.round(4))})
    return pd.DataFrame(out)


def _pooled(table, names):
    """Mean paired difference and its se over the (set, seed) units of ``names``."""
    u = np.concatenate([np.asarray(r) for r in table[table.data.isin(names)].unit_diffs])
    return u.mean(), u.std(ddof=1) / np.sqrt(len(u)) if len(u) > 1 else np.nan, len(u)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default=None, help="comma-separated tuning sets (default: all, small-class first)")
    ap.add_argument("--seeds", default="0,1,2", help="outer CV shuffle seeds")
    ap.add_argument("--summary", action="store_true")
    ap.add_argument("--rules", action="store_true", help="also the selection rules min and paired (same fits)")
    ap.add_argument("--no-refits", action="store_true", help="skip the refit variants")
    ap.add_argument("--screen", type=int, default=None,
                    help="the net's screen width (seventh pass; writes screen_tuning_<screen>_<sets>.csv)")
    ap.add_argument("--screen-summary", action="store_true", help="seventh pass: screen widths vs the default")
    args = ap.parse_args(argv)
    if args.screen_summary:
        t = screen_summary()
        pd.set_option("display.width", 250)
        print(t.round(3).to_string(index=False))
        for w, tw in t.groupby("screen"):
            for part, names in (("small", SMALL_CLASS_SETS), ("GLIOMA/Brain_Tumor1", ("GLIOMA", "Brain_Tumor1"))):
                if tw.data.isin(names).any():
                    m, se, n = _pooled(tw, names)
                    print(f"screen {w}, {part}: diff {m:+.4f} +- {se:.4f} over {n} units (run sets only)")
        return
    if args.summary:
        table, genes = summary()
        pd.set_option("display.width", 250)
        print(table.to_string())
        print("genes kept (estimator):", genes.round(1).to_dict())
        return
    sets = tuple(args.sets.split(",")) if args.sets else ORDER
    if set(sets) - set(ORDER):
        raise SystemExit(f"--sets: tuning sets only ({', '.join(ORDER)})")
    warnings.simplefilter("ignore", (FutureWarning, ConvergenceWarning, UserWarning))
    with threads(1):
        run(sets, [int(s) for s in args.seeds.split(",")], refits=not args.no_refits, rules=args.rules,
            screen=args.screen)


if __name__ == "__main__":
    main()
