"""Tables, target counts and verdicts of the DSRL reproductions (:mod:`glassnet.experiments.dsrl`),
computed from their long-format rows; also used by ``benchmarks/bench_dsrl.py --report``, which
runs the same rows one set at a time. Kept apart so each module stays under 600 lines."""

from __future__ import annotations

import numpy as np
import pandas as pd

from glassnet.experiments.verdicts import Ref, render, target

TUNING_SETS = ["MSRC-v1", "3Sources"]
TUNING_SEEDS = [100, 101, 102]
LABEL_FRACTION = 0.1
NOISE_DIM = 30  # columns of the pure-noise view added in the robustness check (issue 26)
LEARNED, PAPER_OBJ = "DSRL (learned)", "DSRL (paper objective)"
MVSC = "Co-reg MVSC (mvlearn)"
# spectral clustering on DSRL's own averaged input graph where its metric is not the Euclidean
# one of "SC averaged graph" (metric="auto" on text views: TF-IDF cosine kNN graphs)
SC_METRIC = "SC averaged graph (DSRL's metric)"
# Our copy of the paper is the appendix only: its result tables are not available to us, so the
# paper's numbers cannot be quoted beside ours (the column stays empty rather than invented).
# The comparison tables' paper_* columns are something else: our runs of the paper's objective.
PAPER_NOTE = ("our copy of the paper is the appendix only (no result tables), so no published "
              "number is quoted: the summary's published_acc / published_accuracy column is "
              f"empty; the comparison table's paper_* columns are our runs of {PAPER_OBJ}")



def _wins_target(text, wins, row, at_least):
    """The verdict "row ``row`` of the wins table won on at least ``at_least`` pairs outside
    the tuning sets"; not comparable when the run has fewer such pairs (a quick run's 3
    cannot reach a target of 8, and "not met" would read as a result)."""
    which = wins.comparison[row]
    enough = target(f"the run has at least {at_least} pairs outside the tuning sets",
                    Ref("wins", "pairs_excluding_tuning", comparison=which), ">=", at_least)
    return target(text, Ref("wins", "won_excluding_tuning", comparison=which), ">=", at_least,
                  guards=(enough,))


def _summary(long: pd.DataFrame, keys, metrics) -> pd.DataFrame:
    g = long.groupby(keys, sort=False)[metrics]
    out = g.mean().round(3).add_suffix("_mean").join(g.std(ddof=0).round(3).add_suffix("_std"))
    out["reps"] = long.groupby(keys, sort=False).size()
    return out.reset_index()



def clustering_tables(long, nlong, seeds, mvsc, mvsc_max_n):
    """(tables, verdicts, report lines) of dsrl-clustering from its long-format rows (``long``:
    clustering_rows, ``nlong``: noise_rows)."""
    reps = len(seeds)
    metrics = ["acc", "nmi", "ari", "purity", "acc_majority", "fit_s"]
    summ = _summary(long, ["data", "method"], metrics)
    summ["published_acc"] = np.nan  # see PAPER_NOTE

    # best single view per set (chosen by mean ACC over the repetitions, an optimistic peer)
    views = summ[summ.method.str.startswith("SC view")]
    best_view = views.loc[views.groupby("data", sort=False).acc_mean.idxmax()] if len(views) else views
    head = summ[summ.method.isin([LEARNED, PAPER_OBJ, "SC averaged graph", SC_METRIC,
                                  "k-means concat", "Co-reg MVSC (mvlearn)"])]
    headline = pd.concat([head, best_view.assign(method="SC best single view")])
    headline = headline.sort_values(["data", "method"], kind="stable").reset_index(drop=True)

    cmp = _clustering_comparison(headline)
    wins = pd.DataFrame([
        _count(cmp, "learned_ge_sc", f"{LEARNED} ACC and NMI >= SC averaged graph"),
        _count(cmp, "paper_ge_sc", f"{PAPER_OBJ} ACC and NMI >= SC averaged graph"),
        _count(cmp, "learned_ge_paper", f"{LEARNED} ACC and NMI >= {PAPER_OBJ}"),
        _count(cmp, "learned_ge_mvsc", f"{LEARNED} ACC and NMI >= Co-reg MVSC (mvlearn)"),
        _count(cmp, "learned_ge_best_view", f"{LEARNED} ACC and NMI >= SC best single view"),
        _count(cmp, "learned_ge_sc_input", f"{LEARNED} ACC and NMI >= SC on its own input graph "
               "(the averaged graph, or the TF-IDF one where metric='auto' chose it)"),
    ])
    noise = _noise_table(nlong, summ)
    noise_summary = pd.DataFrame([{
        "sets": len(noise), "max_abs_delta_nmi": float(noise.abs_delta_nmi.max()),
        "max_noise_weight": float(noise.noise_weight.max()),
        "sc_max_abs_delta_nmi": float(noise.sc_abs_delta_nmi.max())}])

    verdicts = [
        _wins_target(f"{LEARNED}: ACC and NMI >= SC averaged graph on >= 8 set/graph pairs outside the "
                     "tuning sets", wins, 0, 8),
        _wins_target(f"{PAPER_OBJ}: the same count (for the record)", wins, 1, 8),
        _wins_target(f"{LEARNED}: ACC and NMI >= Co-reg MVSC on >= 6 pairs outside the tuning sets "
                     "(pairs where mvlearn ran)", wins, 3, 6),
    ]
    for data in ("ALOI", "ORL"):
        for m in ("acc", "nmi"):
            verdicts.append(target(f"{LEARNED} {m.upper()} >= SC best single view on {data}",
                                   Ref("comparison", f"learned_{m}", data=data), ">=",
                                   Ref("comparison", f"best_view_{m}", data=data)))
    verdicts.append(target(f"one pure-noise view ({NOISE_DIM} columns) changes {LEARNED}'s NMI "
                           "by < 0.02 on every set", Ref("noise_summary", "max_abs_delta_nmi"),
                           "<", 0.02))
    tables = {"headline": headline, "comparison": cmp, "wins": wins, "noise": noise,
              "noise_summary": noise_summary, "all_methods": summ, "repetitions": long.round(4)}
    lines = [
        (f"{LEARNED} is the default: Theta and L maximise the eigengap at k clusters of the "
         "learned graph; views that share nothing with another view beyond chance (their "
         "own clusterings' mutual information, their degree-corrected shared edges; 100 "
         "relabellings) get weight 0, the others are averaged unless one view's partition "
         "agrees with the averaged graph's at least twice as well as the next view's (then "
         "weighted by that agreement ** 0.5); a view is also kept when its features share "
         "variation beyond column-permuted copies (z > 5 against 30 copies, round 9), whether "
         "or not any pair agrees (round 8); if the learned graph's "
         "partition cuts the kept views worse (mean regularised normalised cut per view) by "
         "more than 1% than the weighted input graph's spectral partition, the latter is kept "
         "(fallback; round 7's co-regularised spectral clustering after it is off since round "
         "9); when some pair "
         "agrees and one kept view's own graph has an eigengap at k at least 2x the clustered "
         "graph's and 3x every other view's, that view's own partition is returned (round 7); "
         "otherwise, if the kept views' own partitions agree (mean pairwise NMI >= 0.2), "
         "k-means on their spectral embeddings and the clustered graph's side by side (late "
         "fusion, round 10), each embedding weighted by its graph's spectrum where that "
         "partition cuts the kept views less than equal weights' (late_fusion='auto', round "
         "19). Text views (nonnegative, at least 90% zeros: counts or stored "
         "weights) get TF-IDF cosine kNN graphs, the others z-scored Euclidean ones "
         "(metric='auto', rounds 11-12), with k = n / n_clusters / 2 neighbours between 3 and "
         "10 (n_neighbors='auto', round 12b; 10 where classes average 20 samples or more); "
         f"'{SC_METRIC}' is spectral clustering on that input graph (DSRL's metric and k) "
         "where it differs from the "
         "averaged graph, and 'SC view v (DSRL's metric)' rows count for the best single view. "
         f"{PAPER_OBJ} is the paper's eq. (8) on the averaged (Euclidean) graph. Tuning sets: "
         f"{', '.join(TUNING_SETS)} (seeds {TUNING_SEEDS}); counts below exclude them."),
        "Targets (issue 26), computed from the tables:",
        render(verdicts, tables),
        (f"Mean and std over {reps} repetitions (seeds {seeds[0]}..{seeds[-1]}: k-means and "
         "training seed); the graphs are fixed per data set. `acc_majority` is the released "
         "code's majority-vote ACC (equal to purity). 'SC best single view' picks the view with "
         "the best mean ACC after the fact (optimistic). Co-regularised MVSC runs once (first "
         f"seed) and only for n <= {mvsc_max_n}, on the set's views (for the authors'-graph "
         "pairs too: it uses no graph)"
         + ("" if mvsc else "; mvlearn is not installed here, so it is skipped") + ". The noise "
         f"table adds one view of N(0, 1) noise with {NOISE_DIM} columns to each set."),
        f"Paper: {PAPER_NOTE}.",
    ]
    return tables, verdicts, lines


def _row(a, method):
    return a.loc[method] if method in a.index else None


def _clustering_comparison(headline):
    out = []
    for data, g in headline.groupby("data", sort=False):
        a = g.set_index("method")
        ln, pp, sc = _row(a, LEARNED), _row(a, PAPER_OBJ), _row(a, "SC averaged graph")
        bv, mv = _row(a, "SC best single view"), _row(a, "Co-reg MVSC (mvlearn)")
        if ln is None or sc is None:
            continue
        si = _row(a, SC_METRIC)
        si = sc if si is None else si  # DSRL's input graph is the averaged one
        r = {"data": data, "tuning_set": data.split(" (")[0] in TUNING_SETS}
        for key, x in (("learned", ln), ("paper", pp), ("sc", sc), ("best_view", bv), ("mvsc", mv),
                       ("sc_input", si)):
            r[f"{key}_acc"] = np.nan if x is None else x.acc_mean
            r[f"{key}_nmi"] = np.nan if x is None else x.nmi_mean
        for key in ("sc", "paper", "mvsc", "best_view", "sc_input"):
            if np.isnan(r[f"{key}_acc"]):
                r[f"learned_ge_{key}"] = np.nan
            else:
                r[f"learned_ge_{key}"] = bool(r["learned_acc"] >= r[f"{key}_acc"]
                                              and r["learned_nmi"] >= r[f"{key}_nmi"])
        r["paper_ge_sc"] = bool(r["paper_acc"] >= r["sc_acc"] and r["paper_nmi"] >= r["sc_nmi"])
        out.append(r)
    return pd.DataFrame(out)


def _count(cmp, column, comparison):
    """One row: on how many data set/graph pairs ``cmp[column]`` holds (NaN: not run)."""
    ran = cmp[cmp[column].notna()]
    out = ran[~ran.tuning_set.astype(bool)]
    return {"comparison": comparison, "won": int(ran[column].astype(bool).sum()), "pairs": len(ran),
            "won_excluding_tuning": int(out[column].astype(bool).sum()),
            "pairs_excluding_tuning": len(out), "pairs_in_run": len(cmp)}


def _noise_table(nlong, summ):
    a = _summary(nlong, ["data", "method"], ["nmi", "acc", "noise_weight"])
    base = summ.set_index(["data", "method"])
    out = []
    for data in a.data.unique():
        g = a[a.data == data].set_index("method")
        ln, sc = g.loc[LEARNED + " + noise view"], g.loc["SC averaged graph + noise view"]
        clean, sclean = base.loc[(data, LEARNED)], base.loc[(data, "SC averaged graph")]
        out.append({"data": data, "tuning_set": data in TUNING_SETS,
                    "nmi_clean": clean.nmi_mean, "nmi_with_noise": ln.nmi_mean,
                    "abs_delta_nmi": round(abs(ln.nmi_mean - clean.nmi_mean), 3),
                    "noise_weight": ln.noise_weight_mean,
                    "sc_nmi_clean": sclean.nmi_mean, "sc_nmi_with_noise": sc.nmi_mean,
                    "sc_abs_delta_nmi": round(abs(sc.nmi_mean - sclean.nmi_mean), 3)})
    return pd.DataFrame(out)


def semisupervised_tables(long, seeds):
    """(tables, verdicts, report lines) of dsrl-semisupervised from its long-format rows."""
    reps = len(seeds)
    summ = _summary(long, ["data", "method"], ["accuracy", "macro_f1", "fit_s"])
    summ["published_accuracy"] = np.nan  # see PAPER_NOTE
    cmp = []
    for data, g in summ.groupby("data", sort=False):
        a = g.set_index("method")
        peers = a.loc[a.index.str.startswith("LabelSpreading")]
        own = peers.index.str.endswith("DSRL's metric)")
        ls = peers[~own].iloc[0]  # on the (Euclidean) averaged graph
        ls_in = peers[own].iloc[0] if own.any() else ls  # on DSRL's own input graph
        ln, pp = a.loc[LEARNED], a.loc[PAPER_OBJ]
        cmp.append({"data": data, "learned_accuracy": ln.accuracy_mean,
                    "paper_objective_accuracy": pp.accuracy_mean, "ls_accuracy": ls.accuracy_mean,
                    "ls_input_accuracy": ls_in.accuracy_mean,
                    "learned_ge_ls": bool(ln.accuracy_mean >= ls.accuracy_mean),
                    "learned_ge_ls_input": bool(ln.accuracy_mean >= ls_in.accuracy_mean),
                    "paper_ge_ls": bool(pp.accuracy_mean >= ls.accuracy_mean),
                    "learned_ge_paper": bool(ln.accuracy_mean >= pp.accuracy_mean),
                    "tuning_set": data.split(" (")[0] in TUNING_SETS})
    cmp = pd.DataFrame(cmp)
    at = f"accuracy at {LABEL_FRACTION:.0%} labels"
    wins = pd.DataFrame([
        _count(cmp, "learned_ge_ls", f"{LEARNED} >= LabelSpreading ({at})"),
        _count(cmp, "paper_ge_ls", f"{PAPER_OBJ} >= LabelSpreading ({at})"),
        _count(cmp, "learned_ge_paper", f"{LEARNED} >= {PAPER_OBJ} ({at})"),
        _count(cmp, "learned_ge_ls_input", f"{LEARNED} >= LabelSpreading on its own input graph "
               f"({at}; TF-IDF where metric='auto' chose it)")])
    verdicts = [
        _wins_target(f"{LEARNED}: accuracy >= LabelSpreading on >= 8 set/graph pairs outside the "
                     "tuning sets", wins, 0, 8),
        _wins_target(f"{PAPER_OBJ}: the same count (for the record)", wins, 1, 8),
    ]
    tables = {"comparison": cmp, "wins": wins, "all_methods": summ, "repetitions": long.round(4)}
    lines = [
        (f"{LEARNED} is the default: Theta and L minimise the cross-entropy of label propagation "
         "through the learned graph on held-out folds of the labelled set, the views weighted by "
         "cross-view agreement; text views (nonnegative, at least 90% zeros) get TF-IDF cosine "
         f"kNN graphs (metric='auto', rounds 11-12). {PAPER_OBJ} trains eq. (8) on the "
         "averaged (Euclidean) graph with the "
         f"same-class labelled pairs linked. Tuning sets: {', '.join(TUNING_SETS)} (seeds "
         f"{TUNING_SEEDS}); counts below exclude them."),
        "Targets (issue 26), computed from the tables:",
        render(verdicts, tables),
        (f"Mean and std over {reps} random labelled splits (seeds {seeds[0]}..{seeds[-1]}), "
         "at least one labelled sample per class; accuracy on the unlabelled samples. "
         "'propagation on W (+ labelled pairs)' is DSRL's propagation step on the unlearned "
         "averaged graph (with the same-class labelled pairs set to 1): ablations of the learned "
         "regulariser."),
        f"Paper: {PAPER_NOTE}.",
    ]
    return tables, verdicts, lines
