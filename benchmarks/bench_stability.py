"""Stability selection (glassnet.stability) around SPINN on the selection suite at n = 300.

Issue 23's target: FPR <= 0.01 with TPR >= 0.85 on every problem (report seeds). The base is
``SPINNRegressor()`` / ``SPINNClassifier()`` with their defaults (lam = 0.1 lambda_max); the
threshold is chosen on the tuning seeds 0-4 only (``--tune``), then the report seeds 100-104 run
once with it (``--report``). Each fit's selection probabilities are kept, so every threshold is
scored from the same fits. The plain estimator fitted once on all n rows is the comparison.

    PYTHONPATH=src nice -n 10 python benchmarks/bench_stability.py --tune [--pairs 20]
    PYTHONPATH=src nice -n 10 python benchmarks/bench_stability.py --report --threshold T
    PYTHONPATH=src nice -n 10 python benchmarks/bench_stability.py --genes [--pairs 20]

``--genes``: the p >> n sets in ``$GLASSNET_DATA/gene_expression/report/`` (report only; nothing
is chosen there; classes with fewer than 3 samples dropped): the number of genes stability
selection keeps around a linear softmax SPINN (``SPINNClassifier(hidden=())``) against the plain
fit's, with held-out accuracy of each (a stratified 2/3 : 1/3 split, seed 0); ``--genes
--rescore --threshold T`` scores the saved probabilities at the threshold chosen on the suite.

Outputs: benchmarks/stability_{tuning,report}_probs.csv (one row per feature per fit),
benchmarks/stability_tuning.csv (TPR/FPR per problem and threshold), benchmarks/stability.md.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

try:  # the suite's generators moved in issue 23; either location
    from glassnet.datasets.spinn_problems import SELECTION_PROBLEMS, selection_problem
except ImportError:  # pragma: no cover
    from glassnet.experiments.spinn import SELECTION_PROBLEMS, selection_problem
from glassnet.stability import StabilitySelection

HERE = Path(__file__).parent
TUNING_SEEDS = (0, 1, 2, 3, 4)
REPORT_SEEDS = (100, 101, 102, 103, 104)
THRESHOLDS = np.round(np.arange(0.55, 1.0001, 0.05), 2)
TARGET_FPR, TARGET_TPR = 0.01, 0.85


def _base(task, **kw):
    from glassnet.estimators.spinn import SPINNClassifier, SPINNRegressor

    return (SPINNRegressor if task == "regression" else SPINNClassifier)(**kw)


def run_suite(seeds, pairs, n, problems, out_csv, n_jobs):
    rows = []
    for name in problems:
        for seed in seeds:
            X, y, _, _, support, task = selection_problem(name, n, seed)
            t0 = time.perf_counter()
            plain = _base(task, random_state=seed).fit(X, y).get_support()
            t_plain = time.perf_counter() - t0
            t0 = time.perf_counter()
            st = StabilitySelection(_base(task), n_subsamples=pairs, n_jobs=n_jobs,
                                    random_state=seed).fit(X, y)
            t = time.perf_counter() - t0
            truth = np.isin(np.arange(X.shape[1]), support)
            rows += [{"problem": name, "n": n, "seed": seed, "pairs": pairs, "feature": j,
                      "true": bool(truth[j]), "prob": float(st.selection_probabilities_[j]),
                      "plain": bool(plain[j]), "q": st.q_, "time_s": t, "plain_time_s": t_plain}
                     for j in range(X.shape[1])]
            pd.DataFrame(rows).to_csv(out_csv, index=False)
            print(f"{name} seed {seed}: q {st.q_:.1f}, top probs "
                  f"{np.round(np.sort(st.selection_probabilities_)[::-1][:8], 2)}, true "
                  f"{np.round(st.selection_probabilities_[support], 2)} ({t:.0f} s)", flush=True)
    return pd.DataFrame(rows)


def rates(df, threshold):
    """TPR/FPR per (problem, seed) at ``threshold``, and of the plain fit."""
    out = []
    for (prob, seed), g in df.groupby(["problem", "seed"], sort=False):
        sel = g.prob.to_numpy() >= threshold - 1e-9
        t, pl = g.true.to_numpy(), g.plain.to_numpy()
        p = len(g)
        out.append({"problem": prob, "seed": seed, "threshold": threshold,
                    "tpr": sel[t].mean(), "fpr": sel[~t].mean(), "n_selected": int(sel.sum()),
                    "plain_tpr": pl[t].mean(), "plain_fpr": pl[~t].mean(),
                    "plain_n_selected": int(pl.sum()), "q": g.q.iloc[0],
                    "bound_ss": g.q.iloc[0] ** 2 / ((2 * threshold - 1) * p),
                    "time_s": g.time_s.iloc[0]})
    return pd.DataFrame(out)


def per_problem(r):
    s = r.groupby(["problem", "threshold"], sort=False).agg(
        tpr=("tpr", "mean"), fpr=("fpr", "mean"), n_selected=("n_selected", "mean"),
        plain_tpr=("plain_tpr", "mean"), plain_fpr=("plain_fpr", "mean"),
        plain_n_selected=("plain_n_selected", "mean"), q=("q", "mean"),
        bound_ss=("bound_ss", "mean"), time_s=("time_s", "median")).reset_index()
    s["met"] = (s.fpr <= TARGET_FPR) & (s.tpr >= TARGET_TPR)
    return s


def choose_threshold(summary):
    """Most problems meeting both targets; ties: higher mean TPR, then lower mean FPR, then
    the larger threshold (the same selections with a tighter bound)."""
    g = summary.groupby("threshold").agg(met=("met", "sum"), tpr=("tpr", "mean"),
                                         fpr=("fpr", "mean")).reset_index()
    g = g.sort_values(["met", "tpr", "fpr", "threshold"], ascending=[False, False, True, False])
    return float(g.threshold.iloc[0]), g


def _gene_sets():
    from scipy.io import loadmat
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    root = Path(os.environ.get("GLASSNET_DATA", "/work/shared/data")) / "gene_expression" / "report"
    for f in sorted(root.glob("*.mat")):
        d = loadmat(f)
        X, y = np.asarray(d["X"], float), np.asarray(d["Y"]).ravel()
        keep = np.isin(y, [c for c, m in zip(*np.unique(y, return_counts=True)) if m >= 3])
        X, y = X[keep], y[keep]  # a stratified split and halves need >= 3 members per class
        tr, te = train_test_split(np.arange(len(y)), test_size=1 / 3, stratify=y, random_state=0)
        sc = StandardScaler().fit(X[tr])
        yield f.stem, np.nan_to_num(sc.transform(X[tr])), y[tr], np.nan_to_num(sc.transform(X[te])), y[te]


def genes(pairs, n_jobs, only=None, suffix=""):
    """Fit the plain and the stability-selected linear SPINN; keep every gene's probability."""
    from glassnet.estimators.spinn import SPINNClassifier

    rows = []
    for name, Xtr, ytr, Xte, yte in _gene_sets():
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        plain = SPINNClassifier(hidden=(), random_state=0).fit(Xtr, ytr)
        t_plain = time.perf_counter() - t0
        acc = float(np.mean(plain.predict(Xte) == yte))
        t0 = time.perf_counter()
        st = StabilitySelection(SPINNClassifier(hidden=()), n_subsamples=pairs, n_jobs=n_jobs,
                                random_state=0).fit(Xtr, ytr)
        t = time.perf_counter() - t0
        rows += [{"data": name, "n_train": len(ytr), "p": Xtr.shape[1],
                  "classes": len(np.unique(ytr)), "gene": j, "prob": float(pr),
                  "plain": bool(sel), "plain_acc": acc, "q": st.q_, "pairs": pairs,
                  "time_s": t, "plain_time_s": t_plain}
                 for j, (pr, sel) in enumerate(zip(st.selection_probabilities_, plain.get_support()))]
        pd.DataFrame(rows).to_csv(HERE / f"stability_genes_probs{suffix}.csv", index=False)
        print(f"{name}: plain {int(plain.get_support().sum())} genes (acc {acc:.3f}), q "
              f"{st.q_:.1f}, {t:.0f} s", flush=True)


def genes_summary(threshold):
    """Genes kept at ``threshold`` vs the plain fit, and the held-out accuracy of the linear
    SPINN refitted on the stable genes."""
    from glassnet.estimators.spinn import SPINNClassifier

    df = pd.concat([pd.read_csv(f) for f in sorted(HERE.glob("stability_genes_probs*.csv"))])
    rows = []
    for name, Xtr, ytr, Xte, yte in _gene_sets():
        g = df[df.data == name]
        if g.empty:
            continue
        keep = g.prob.to_numpy() >= threshold - 1e-9
        acc = np.nan
        if keep.any():
            ref = SPINNClassifier(hidden=(), random_state=0).fit(Xtr[:, keep], ytr)
            acc = float(np.mean(ref.predict(Xte[:, keep]) == yte))
        p = len(g)
        rows.append({"data": name, "n_train": g.n_train.iloc[0], "p": p,
                     "classes": g.classes.iloc[0], "plain_genes": int(g.plain.sum()),
                     "plain_acc": g.plain_acc.iloc[0], "stable_genes": int(keep.sum()),
                     "stable_refit_acc": acc, "q": g.q.iloc[0], "threshold": threshold,
                     "bound_ss": g.q.iloc[0] ** 2 / ((2 * threshold - 1) * p),
                     "pairs": g.pairs.iloc[0], "time_s": g.time_s.iloc[0]})
    out = pd.DataFrame(rows)
    out.to_csv(HERE / "stability_genes.csv", index=False)
    print(out.to_string(index=False))


def _commit():
    snap = Path("/tmp/gn_head/COMMIT")
    return snap.read_text().strip()[:7] if snap.exists() else "HEAD"


def markdown(threshold, pairs, tune_seeds, report_seeds):
    """benchmarks/stability.md from the CSVs this script wrote."""
    cols = ["problem", "tpr", "fpr", "n_selected", "plain_tpr", "plain_fpr", "plain_n_selected",
            "q", "bound_ss", "met", "time_s"]
    tune = pd.read_csv(HERE / "stability_tuning.csv")
    md = ["# Stability selection around SPINN: selection suite at n = 300", "",
          (f"`benchmarks/bench_stability.py`; base `SPINNRegressor()` / `SPINNClassifier()` "
          f"(defaults), {pairs} complementary pairs ({2 * pairs} half-sample fits) per data set. "
          f"Target: FPR <= {TARGET_FPR} and TPR >= {TARGET_TPR} per problem (means over seeds). "
          "`plain_*`: the base fitted once on all 300 rows. `bound_ss`: Shah-Samworth worst-case "
          "bound on E[false positives] at the threshold; `q`: mean features per half-sample fit."),
          "", f"## Threshold chosen on tuning seeds {tune_seeds}: {threshold}", "",
          "Problems meeting both targets, mean TPR and FPR over problems, per threshold:", ""]
    g = tune.groupby("threshold").agg(met=("met", "sum"), tpr=("tpr", "mean"),
                                      fpr=("fpr", "mean")).reset_index()
    md += [g.to_markdown(index=False, floatfmt=".3g"), "", "At the chosen threshold:", "",
           tune[tune.threshold == threshold][cols].to_markdown(index=False, floatfmt=".3g"), ""]
    rep = HERE / "stability_report.csv"
    if rep.exists():
        r = pd.read_csv(rep)
        md += [f"## Report seeds {report_seeds} (run once, threshold {threshold})", "",
               f"{int(r.met.sum())}/{len(r)} problems meet both targets.", "",
               r[cols].to_markdown(index=False, floatfmt=".3g"), ""]
    gen = HERE / "stability_genes.csv"
    if gen.exists():
        d = pd.read_csv(gen)
        md += ["## p >> n gene sets (report only)", "",
               ("Linear softmax SPINN (`SPINNClassifier(hidden=())`, defaults) vs stability "
               "selection around it (threshold from the suite); held-out accuracy on a "
               "stratified third (seed 0); `stable_refit_acc`: the same base refitted on the "
               "stable genes."), "", d.to_markdown(index=False, floatfmt=".3g"), ""]
    md += ["## Protocol notes", "",
           "The shared 2-core machine ran at load 10-18, so the runs were cut to fit the "
           "session: 10 pairs instead of the default 50; friedman1-p100 and -p1000 were fitted "
           "on tuning seeds 0-4 and report seeds 100-104 / 100-102 before the cut, the other "
           "eight problems on seeds 0-2 and 100-102 only; every table above uses seeds 0-2 and "
           "100-102 for every problem. The threshold was chosen (and written into "
           "glassnet.stability.DEFAULT_THRESHOLD) before the report fits were scored. The "
           "runs used the committed tree at " + _commit() + " (the working tree was being "
           "reshaped) with glassnet/stability.py copied in.", ""]
    (HERE / "stability.md").write_text("\n".join(md))
    print("\n".join(md))


def main(argv=None):
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--tune", action="store_true")
    mode.add_argument("--report", action="store_true")
    mode.add_argument("--genes", action="store_true")
    mode.add_argument("--markdown", action="store_true")
    ap.add_argument("--pairs", type=int, default=20)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--problems", default=",".join(SELECTION_PROBLEMS))
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--rescore", action="store_true", help="score the saved fits only")
    ap.add_argument("--seeds", default=None, help="comma-separated subset of the seeds")
    ap.add_argument("--report-seeds", default=None, help="--markdown: the report seeds used")
    ap.add_argument("--suffix", default="", help="write the fits to stability_<mode>_probs<suffix>.csv")
    args = ap.parse_args(argv)
    args.problems_given = args.problems != ",".join(SELECTION_PROBLEMS)
    torch.set_num_threads(1)
    problems = args.problems.split(",")
    if args.markdown:
        markdown(args.threshold, args.pairs, args.seeds or list(TUNING_SEEDS),
                 args.report_seeds or list(REPORT_SEEDS))
        return
    if args.genes:
        if args.rescore:
            genes_summary(args.threshold)
        else:
            genes(args.pairs, args.n_jobs, args.problems.split(",") if args.problems_given else None,
                  args.suffix)
        return
    which = "tuning" if args.tune else "report"
    csv = HERE / f"stability_{which}_probs{args.suffix}.csv"
    seeds = TUNING_SEEDS if args.tune else REPORT_SEEDS
    if args.seeds:
        seeds = [int(s) for s in args.seeds.split(",")]
        assert set(seeds) <= set(TUNING_SEEDS if args.tune else REPORT_SEEDS), "seeds of the mode"
    if args.rescore:  # every saved part; a (problem, seed) fitted twice counts once
        df = pd.concat([pd.read_csv(f) for f in sorted(HERE.glob(f"stability_{which}_probs*.csv"))])
        df = df[df.seed.isin(seeds)].drop_duplicates(["problem", "seed", "feature"])
    else:
        df = run_suite(seeds, args.pairs, args.n, problems, csv, args.n_jobs)
    if args.tune:
        summary = pd.concat([per_problem(rates(df, t)) for t in THRESHOLDS])
        summary.to_csv(HERE / "stability_tuning.csv", index=False)
        best, table = choose_threshold(summary)
        print(table.to_string(index=False))
        print(f"chosen threshold on tuning seeds {sorted(set(df.seed))}: {best}")
        print(summary[summary.threshold == best].to_string(index=False))
    else:
        if args.threshold is None:
            raise SystemExit("--report needs --threshold (the one --tune chose)")
        summary = per_problem(rates(df, args.threshold))
        summary.to_csv(HERE / "stability_report.csv", index=False)
        print(summary.to_string(index=False))
        print(f"{int(summary.met.sum())}/{len(summary)} problems meet FPR <= {TARGET_FPR} "
              f"and TPR >= {TARGET_TPR}")


if __name__ == "__main__":
    main()
