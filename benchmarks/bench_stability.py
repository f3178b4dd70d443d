"""Stability selection (glassnet.stability) around SPINN on the selection suite at n = 300.

Issue 23's target: FPR <= 0.01 with TPR >= 0.85 on every problem (report seeds), and on the
p >> n gene sets far fewer genes than the plain default fit.

The recipe measured is the path recipe: each half-sample fits one warm-started SPINN path
(``SPINNRegressor()`` / ``SPINNClassifier()``, defaults otherwise) from its own lambda_max down
to 0.01 lambda_max (10 points), and every fit's support at every point is kept. A rule is a
region ``[r lambda_max, lambda_max]`` (a feature's probability: its maximum over the region) and
a threshold; ``r = 0.1`` with "at" (the probability at that one point) is the earlier recipe
(SPINN's default lam, one fit per half). Every rule is scored from the same fits, so the rule
is chosen on the tuning seeds 0-4 (``--tune``) and the report seeds 100-104 are fitted once and
scored at the chosen rule (``--report``). The plain estimator fitted once on all n rows is
the comparison.

    PYTHONPATH=src nice -n 10 python benchmarks/bench_stability.py --tune [--pairs 10]
    PYTHONPATH=src nice -n 10 python benchmarks/bench_stability.py --report --ratio R --threshold T
    PYTHONPATH=src nice -n 10 python benchmarks/bench_stability.py --genes [--report-sets]

``--genes``: p >> n gene sets: the linear softmax SPINN (``SPINNClassifier(hidden=())``) with
its default lam against stability selection with the path recipe at the library defaults
(``StabilitySelection(SPINNClassifier(hidden=()))``); genes kept, the same base refitted on
them, held-out accuracy on a stratified third (seed 0). Without ``--report-sets`` the older
sets in ``$GLASSNET_DATA/gene_expression/`` (tuning); with it the six in ``report/`` (report
only; nothing is chosen there). Classes with fewer than 3 samples are dropped.

Outputs: benchmarks/stability_path_{tuning,report}_probs.csv (per problem, seed and feature:
the probability at each of the 10 path points, ``p0``..``p9``, and the mean size of the union
over the region down to each point, ``q0``..``q9``), stability_path_tuning.csv (every rule per
problem), stability_path_report.csv, stability_path_genes{,_tuning}.csv and stability.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from glassnet.datasets.spinn_problems import SELECTION_PROBLEMS, selection_problem
from glassnet.stability import MIN_REGION_Q, StabilitySelection, error_bound

HERE = Path(__file__).parent
TUNING_SEEDS = (0, 1, 2, 3, 4)
REPORT_SEEDS = (100, 101, 102, 103, 104)
THRESHOLDS = np.round(np.arange(0.55, 1.0001, 0.05), 2)
FIT_RATIO, N_POINTS = 0.01, 10  # every half-sample's path: lambda_max .. 0.01 lambda_max
RATIOS = np.geomspace(1.0, FIT_RATIO, N_POINTS)
PFERS = (0.5, 1.0, 2.0, 4.0)  # the bound-limited regions tried
TARGET_FPR, TARGET_TPR = 0.01, 0.85
# --rescore: the saved fits read (--suffix S: ..._probs<S>.csv instead). Tuning: its two halves;
# report: the current fits (W1 ridge); ..._second_screen.csv and the one-screen files are superseded
FITS = {"tuning": "stability_path_tuning_probs*.csv", "report": "stability_path_report_probs_w1_ridge.csv"}


def _base(task, **kw):
    from glassnet.estimators.spinn import SPINNClassifier, SPINNRegressor

    return (SPINNRegressor if task == "regression" else SPINNClassifier)(**kw)


def _union_sizes(supports):
    """(n_points,) mean size over fits of the union of the supports down to each point."""
    return np.cumsum(supports, axis=1).astype(bool).sum(axis=2).mean(axis=0)


def run_suite(seeds, pairs, n, problems, out_csv, n_jobs):
    rows = []
    for name in problems:
        for seed in seeds:
            X, y, _, _, support, task = selection_problem(name, n, seed)
            t0 = time.perf_counter()
            plain = _base(task, random_state=seed).fit(X, y).get_support()
            t_plain = time.perf_counter() - t0
            t0 = time.perf_counter()
            st = StabilitySelection(_base(task), n_subsamples=pairs, lambda_min_ratio=FIT_RATIO,
                                    n_lambdas=N_POINTS, n_jobs=n_jobs, random_state=seed).fit(X, y)
            t = time.perf_counter() - t0
            truth = np.isin(np.arange(X.shape[1]), support)
            q = _union_sizes(st.subsample_supports_)
            base = {"problem": name, "n": n, "seed": seed, "pairs": pairs, "time_s": t,
                    "plain_time_s": t_plain, **{f"q{k}": q[k] for k in range(N_POINTS)}}
            rows += [{**base, "feature": j, "true": bool(truth[j]), "plain": bool(plain[j]),
                      **{f"p{k}": float(st.stability_path_[k, j]) for k in range(N_POINTS)}}
                     for j in range(X.shape[1])]
            pd.DataFrame(rows).to_csv(out_csv, index=False)
            top = np.round(st.stability_path_.max(0)[support], 2)
            print(f"{name} seed {seed}: q(0.1) {q[4]:.1f} q(0.01) {q[-1]:.1f}, true max-probs "
                  f"{top}, noise max {st.stability_path_.max(0)[~truth].max():.2f} ({t:.0f} s)",
                  flush=True)
    return pd.DataFrame(rows)


def bound_region(q, p, threshold, pfer):
    """glassnet.stability.path_region from the saved union sizes ``q`` (per path point)."""
    min_q = min(MIN_REGION_Q, p / 4)
    ok = [k for k in range(len(q)) if q[k] <= min_q or error_bound(min(q[k], p), p, threshold) <= pfer]
    return max(ok) if ok else 0


def rates(df, param, threshold, how="max"):
    """TPR/FPR per (problem, seed) and of the plain fit. ``how="max"``: the region down to path
    point ``param``; ``"at"``: the probability at point ``param`` alone; ``"bound"``: the
    library's region (down to the last point whose bound at ``threshold`` is at most the PFER
    ``param``)."""
    out = []
    for (prob, seed), g in df.groupby(["problem", "seed"], sort=False):
        qs = np.array([g[f"q{i}"].iloc[0] for i in range(N_POINTS)])
        k = bound_region(qs, len(g), threshold, param) if how == "bound" else int(param)
        cols = [f"p{k}"] if how == "at" else [f"p{i}" for i in range(k + 1)]
        sel = g[cols].to_numpy().max(axis=1) >= threshold - 1e-9
        t, pl = g.true.to_numpy(), g.plain.to_numpy()
        q = g[f"p{k}"].sum() if how == "at" else qs[k]
        out.append({"problem": prob, "seed": seed, "how": how,
                    "param": float(param) if how == "bound" else round(RATIOS[k], 4),
                    "ratio": round(RATIOS[k], 4), "threshold": threshold, "tpr": sel[t].mean(), "fpr": sel[~t].mean(),
                    "n_selected": int(sel.sum()), "plain_tpr": pl[t].mean(),
                    "plain_fpr": pl[~t].mean(), "plain_n_selected": int(pl.sum()), "q": q,
                    "bound_ss": q**2 / ((2 * threshold - 1) * len(g)),
                    "time_s": g.time_s.iloc[0]})
    return pd.DataFrame(out)


def per_problem(r):
    keys = ["problem", "how", "param", "threshold"]
    s = r.groupby(keys, sort=False).agg(ratio=("ratio", "mean"),
        tpr=("tpr", "mean"), fpr=("fpr", "mean"), n_selected=("n_selected", "mean"),
        plain_tpr=("plain_tpr", "mean"), plain_fpr=("plain_fpr", "mean"),
        plain_n_selected=("plain_n_selected", "mean"), q=("q", "mean"),
        bound_ss=("bound_ss", "mean"), time_s=("time_s", "median")).reset_index()
    s["met"] = (s.fpr <= TARGET_FPR) & (s.tpr >= TARGET_TPR)
    return s


def all_rules(df):
    fixed = [per_problem(rates(df, k, t, how)) for how in ("max", "at")
             for k in range(N_POINTS) for t in THRESHOLDS]
    return pd.concat(fixed + [per_problem(rates(df, e, t, "bound")) for e in PFERS
                              for t in THRESHOLDS])


def choose_rule(summary):
    """Most problems meeting both targets; ties: higher mean TPR, lower mean FPR, then the
    smaller region and the larger threshold (fewer features per fit, a tighter bound)."""
    g = summary.groupby(["how", "param", "threshold"]).agg(
        met=("met", "sum"), tpr=("tpr", "mean"), fpr=("fpr", "mean"),
        worst_tpr=("tpr", "min"), worst_fpr=("fpr", "max"), ratio=("ratio", "mean"),
        q=("q", "mean")).reset_index()
    g = g.sort_values(["met", "tpr", "fpr", "ratio", "threshold"],
                      ascending=[False, False, True, False, False])
    return g


def _gene_sets(report):
    from scipy.io import loadmat
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from glassnet.datasets import data_dir

    root = data_dir() / "gene_expression"  # $GLASSNET_DATA, else ../shared/data
    root = root / "report" if report else root
    for f in sorted(root.glob("*.mat")):
        d = loadmat(f)
        X, y = np.asarray(d["X"], float), np.asarray(d["Y"]).ravel()
        keep = np.isin(y, [c for c, m in zip(*np.unique(y, return_counts=True)) if m >= 3])
        X, y = X[keep], y[keep]  # a stratified split and halves need >= 3 members per class
        tr, te = train_test_split(np.arange(len(y)), test_size=1 / 3, stratify=y, random_state=0)
        sc = StandardScaler().fit(X[tr])
        yield (f.stem, np.nan_to_num(sc.transform(X[tr])), y[tr],
               np.nan_to_num(sc.transform(X[te])), y[te])


def genes(pairs, n_jobs, report, only=None, ratio=None, penalty="group_mcp", n_lambdas=10):
    """Plain linear SPINN vs the path recipe around it: genes kept, refit accuracy."""
    from glassnet.estimators.spinn import SPINNClassifier

    out = HERE / ("stability_path_genes.csv" if report else "stability_path_genes_tuning.csv")
    rows = pd.read_csv(out).to_dict("records") if out.exists() else []
    for name, Xtr, ytr, Xte, yte in _gene_sets(report):
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        plain = SPINNClassifier(hidden=(), random_state=0).fit(Xtr, ytr)
        t_plain = time.perf_counter() - t0
        kw = {"n_lambdas": n_lambdas, **({} if ratio is None else {"lambda_min_ratio": ratio})}
        t0 = time.perf_counter()
        st = StabilitySelection(SPINNClassifier(hidden=(), penalty=penalty), n_subsamples=pairs,
                                n_jobs=n_jobs, random_state=0, **kw).fit(Xtr, ytr)
        t = time.perf_counter() - t0
        keep = st.support_
        acc = np.nan
        if keep.any():
            ref = SPINNClassifier(hidden=(), random_state=0).fit(Xtr[:, keep], ytr)
            acc = float(np.mean(ref.predict(Xte[:, keep]) == yte))
        top = np.sort(st.selection_probabilities_)[::-1]
        rows.append({"data": name, "penalty": penalty, "n_lambdas": n_lambdas,
                     "fit_ratio": st.lambda_min_ratio_, "n_train": len(ytr), "p": Xtr.shape[1],
                     "classes": len(np.unique(ytr)), "plain_genes": int(plain.get_support().sum()),
                     "plain_acc": float(np.mean(plain.predict(Xte) == yte)),
                     "stable_genes": int(keep.sum()), "stable_refit_acc": acc,
                     "max_prob": top[0], "prob_5th": top[4], "q": st.q_,
                     "region": st.region_ratio_, "threshold": st.threshold_,
                     "bound_ss": st.error_bounds_["ss"], "pairs": pairs, "time_s": t,
                     "plain_time_s": t_plain})
        pd.DataFrame(rows).to_csv(out, index=False)
        print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)


def markdown(rule, pairs):
    """benchmarks/stability.md from the CSVs this script wrote."""
    how, param, threshold = rule
    cols = ["problem", "tpr", "fpr", "n_selected", "plain_tpr", "plain_fpr", "plain_n_selected",
            "q", "bound_ss", "met", "time_s"]
    tune = pd.read_csv(HERE / "stability_path_tuning.csv")
    g = choose_rule(tune)
    at = (tune.how == how) & np.isclose(tune.param, param) & np.isclose(tune.threshold, threshold)
    old = (tune.how == "at") & np.isclose(tune.param, 0.1292) & np.isclose(tune.threshold, 0.6)
    md = ["# Stability selection around SPINN: selection suite at n = 300", "",
          (f"`benchmarks/bench_stability.py`; base `SPINNRegressor()` / `SPINNClassifier()`, "
           f"{pairs} complementary pairs ({2 * pairs} half-sample paths) per data set, each path "
           f"from its lambda_max down to {FIT_RATIO} lambda_max ({N_POINTS} points). Target: "
           f"FPR <= {TARGET_FPR} and TPR >= {TARGET_TPR} per problem (means over seeds). "
           "`plain_*`: the base with its defaults fitted once on all 300 rows. `q`: mean "
           "features per half-sample (union over the region); `bound_ss`: Shah-Samworth "
           "worst-case bound on E[false positives]."), "",
          (f"## Rule chosen on tuning seeds {list(TUNING_SEEDS)}: {how} {param}, threshold "
           f"{threshold}"), "",
          ("The 15 best rules. `bound`: the library's region (down the path while the bound at "
           "the threshold is at most the PFER `param`, or q <= min(6, p/4)); `max`: the maximum "
           "over a fixed region down to `param` lambda_max; `at`: the probability at that one "
           "point; `ratio`: the region's mean lower end."), "",
          g.head(15).to_markdown(index=False, floatfmt=".3g"), "", "At the chosen rule:", "",
          tune[at][cols].to_markdown(index=False, floatfmt=".3g"), "",
          "The nearest rule to the earlier recipe (one point, 0.129 lambda_max, threshold 0.6):",
          "", tune[old][cols].to_markdown(index=False, floatfmt=".3g"), ""]
    rep = HERE / "stability_path_report.csv"
    if rep.exists():
        r = pd.read_csv(rep)
        md += [f"## Report seeds {list(REPORT_SEEDS)} (fitted once, scored at the chosen rule)",
               "", f"{int(r.met.sum())}/{len(r)} problems meet both targets.", "",
               ("Fits: `stability_path_report_probs_w1_ridge.csv`, SPINN with the second "
                "screen and the regressors' W1 ridge where screened inputs correlate (f7ae23f; "
                "it fires on mix-toeplitz only: there stable FPR 0 -> 0.002, 4.0 -> 4.2 inputs, "
                "and the plain fit 11.2 -> 4.8 inputs; every other row as before). The rule "
                "above was chosen on the tuning seeds' fits, made before any report fit. The "
                "same seeds before the W1 ridge: `stability_path_report_probs_second_screen.csv` "
                "(10 of 10); with one screen (`stability_path_report_one_screen_probs_{a,b}.csv`) "
                "8 of 10 (friedman1-p1000 TPR 0.72, heavy-tail 0.83)."),
               "",
               r[cols].to_markdown(index=False, floatfmt=".3g"), ""]
    for name, title in (("stability_path_genes_tuning.csv", "older gene sets (tuning)"),
                        ("stability_path_genes.csv", "p >> n report gene sets (report only)")):
        if (HERE / name).exists():
            d = pd.read_csv(HERE / name)
            md += [f"## {title}", "",
                   ("Linear softmax SPINN (`SPINNClassifier(hidden=())`, default lam and "
                    "penalty) vs `StabilitySelection(SPINNClassifier(hidden=(), penalty=...))` "
                    "(`penalty` column; the path recipe with `n_lambdas` points down to "
                    "`fit_ratio` lambda_max); held-out accuracy on a stratified third (seed 0); "
                    "`stable_refit_acc`: the same base refitted on the stable genes; "
                    "`max_prob`, `prob_5th`: the largest and 5th largest selection probability."),
                   "", d.to_markdown(index=False, floatfmt=".3g"), ""]
    md += ["## Protocol notes", "",
           ("The tuning fits and the one-screen report fits ran as two processes each "
            "(problems split in two halves, files `_a` / `_b`); the second-screen report fits "
            "as one process with `--n-jobs 2`; 10 pairs instead of the library's 50, at load "
            "2-10 on the shared 2-core machine (times are wall seconds per data set). The rule "
            "was chosen on the tuning fits before any report fits were scored. The one-screen "
            "report fits were scored with `--rescore`; the library's own "
            "selection (`StabilitySelection(SPINNRegressor(), n_subsamples=10)`, defaults) "
            "was checked to give the same probabilities, region and TPR/FPR on mix-toeplitz "
            "seed 100 (region cut at 0.22 lambda_max) and additive seed 101. Gene sets: one "
            "process, 10 pairs; the report sets were run once with the base chosen on the "
            "older sets."), ""]
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
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--param", type=float, default=None,
                    help="--report/--markdown: the rule's PFER (bound) or region end (max, at)")
    ap.add_argument("--ratio", type=float, default=None, help="--genes: lambda_min_ratio")
    ap.add_argument("--how", default="bound", choices=("bound", "max", "at"))
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--problems", default=",".join(SELECTION_PROBLEMS))
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--rescore", action="store_true",
                    help="score the saved fits only (FITS, or ..._probs<suffix>.csv with --suffix)")
    ap.add_argument("--report-sets", action="store_true", help="--genes: the report gene sets")
    ap.add_argument("--sets", default=None, help="--genes: comma-separated subset")
    ap.add_argument("--penalty", default="group_mcp", help="--genes: the base's penalty")
    ap.add_argument("--n-lambdas", type=int, default=10, help="--genes: points on each path")
    ap.add_argument("--suffix", default="",
                    help="write the fits to ..._probs<suffix>.csv (with --rescore: read them)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    if args.markdown:
        markdown((args.how, args.param, args.threshold), args.pairs)
        return
    if args.genes:
        genes(args.pairs, args.n_jobs, args.report_sets,
              args.sets.split(",") if args.sets else None, args.ratio, args.penalty,
              args.n_lambdas)
        return
    which = "tuning" if args.tune else "report"
    seeds = TUNING_SEEDS if args.tune else REPORT_SEEDS
    if args.rescore:  # every saved part of the current fits; a (problem, seed) fitted twice counts once
        pattern = f"stability_path_{which}_probs{args.suffix}.csv" if args.suffix else FITS[which]
        files = sorted(HERE.glob(pattern))
        if not files:
            raise SystemExit(f"--rescore: no saved fits {HERE / pattern}")
        df = pd.concat([pd.read_csv(f) for f in files])
        df = df.drop_duplicates(["problem", "seed", "feature"])
    else:
        df = run_suite(seeds, args.pairs, args.n, args.problems.split(","),
                       HERE / f"stability_path_{which}_probs{args.suffix}.csv", args.n_jobs)
    if args.tune:
        summary = all_rules(df)
        summary.to_csv(HERE / "stability_path_tuning.csv", index=False)
        g = choose_rule(summary)
        print(g.head(20).to_string(index=False))
        best = g.iloc[0]
        print(f"chosen on tuning seeds {sorted(set(df.seed))}: {best.how} {best.param}, "
              f"threshold {best.threshold}")
        sel = summary[(summary.how == best.how) & (summary.param == best.param)
                      & (summary.threshold == best.threshold)]
        print(sel.to_string(index=False))
    else:
        if args.threshold is None or args.param is None:
            raise SystemExit("--report needs --param and --threshold (the rule --tune chose)")
        param = args.param
        if args.how != "bound":
            param = int(np.argmin(np.abs(np.log(RATIOS) - np.log(args.param))))
        summary = per_problem(rates(df, param, args.threshold, args.how))
        summary.to_csv(HERE / "stability_path_report.csv", index=False)
        print(summary.to_string(index=False))
        print(f"{int(summary.met.sum())}/{len(summary)} problems meet FPR <= {TARGET_FPR} "
              f"and TPR >= {TARGET_TPR}")


if __name__ == "__main__":
    main()
