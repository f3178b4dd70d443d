"""Round 12 of DSRL (issue 26): text stored as non-integer weights, tuning data only.

``metric="auto"`` gives TF-IDF cosine graphs to views of integer counts (round 11f) and z-scored
Euclidean graphs to everything else, text stored as weights (term frequencies, TF-IDF) included.
This probe asks what ``"auto"`` should do with a view that is nonnegative, at least 90% zeros and
not integer: ``euclidean`` (before), ``cosine`` (unit rows of the weights as given) or ``tfidf``
(idf of the weights' document frequencies, unit rows). ``tfidf`` was adopted: since round 12
``"auto"`` takes it for every such view, and the probe puts the variants back by wrapping
``view_metric`` in ``estimators.dsrl``.

Data: the 25 text tuning sets of round 11 (3Sources, its 18 weakened draws and 6 two-view
stand-ins; ``dsrl_tune_round10.sets``, ``dsrl_tune_round11.bbc_shaped``), each stored in three
forms made from its counts C: ``tf`` (C / row sum), ``tfidf-l2`` (scikit-learn's
``TfidfTransformer()``) and ``tfidf-raw`` (``TfidfTransformer(norm=None)``, C x idf). Clustering:
one ``DSRLClustering()`` fit per seed (100-102), with and without the 30-column noise view, and
spectral clustering on the Euclidean averaged graph; ``--semi``: the semi-supervised
experiment's rows at 10% labels, label splits 100-102. The rule was written before the first
run (docs/history/dsrl.md, round 12). Rows: ``dsrl_tune_round12.csv``,
``dsrl_tune_round12_semi.csv``.

``--dominant`` (round 12c, a screen: no variant was fitted): the image tuning sets and a copy of
each with one dominant view (:func:`dominant`); rows ``dsrl_tune_round12_dominant.csv``.

``--small-k`` (round 12b): ``DSRLClustering`` with k = 10 against ``n_neighbors="auto"``
(:func:`auto_k`, adopted) on 13 small-class image sets (:func:`small_class_sets`), with spectral
clustering (k = 10) on the averaged graph and on each view; rows ``dsrl_tune_round12_k.csv``.

    PYTHONPATH=src python benchmarks/dsrl_tuning/dsrl_tune_round12.py [--semi] [--variants ...] [--small-k]
    PYTHONPATH=src python benchmarks/dsrl_tuning/dsrl_tune_round12.py --dominant
    PYTHONPATH=src python benchmarks/dsrl_tuning/dsrl_tune_round12.py --summary
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dsrl_tune_round10 import SEEDS, cases, sets
from dsrl_tune_round11 import bbc_shaped

HERE = Path(__file__).resolve().parent
VARIANTS = ("euclidean", "cosine", "tfidf")
FORMS = ("tf", "tfidf-l2", "tfidf-raw")


def text_sets(data_dir=None):
    """The 25 text tuning sets (views of integer counts)."""
    from glassnet.datasets.multiview import load_multiview

    three = load_multiview("3Sources", data_dir)
    for d in itertools.chain(bbc_shaped(three), sets(data_dir)):
        if d.name.startswith("3S"):
            yield d


def stored(d, form):
    """Set d with every count view C stored as ``form``."""
    from sklearn.feature_extraction.text import TfidfTransformer

    from glassnet.datasets.multiview import MultiviewData

    def one(C):
        C = np.asarray(C, dtype=np.float64)
        if form == "tf":
            return C / np.maximum(C.sum(axis=1, keepdims=True), 1.0)
        norm = "l2" if form == "tfidf-l2" else None
        return TfidfTransformer(norm=norm).fit_transform(C).toarray()

    return MultiviewData(f"{d.name}/{form}", [one(C) for C in d.views], d.y)


def clustering_rows(d, variant):
    from glassnet.estimators.dsrl import DSRLClustering
    from glassnet.metrics import clustering_scores
    from glassnet.nn.dsrl import multiview_graph, spectral_labels

    rows = []
    g = multiview_graph(d.views) if variant == "euclidean" else None  # the SC peer's graph
    for seed, noisy, views in cases(d):
        t0 = time.perf_counter()
        m = DSRLClustering(d.n_classes, random_state=seed).fit(views)
        out = {variant: (m.labels_, m.graph_source_, time.perf_counter() - t0)}
        if not noisy and g is not None:
            out["sc_euclidean"] = (spectral_labels(g, d.n_classes, 10, seed), "sc", 0.0)
        rows += [{"data": d.name, "seed": seed, "noise_view": noisy, "variant": c,
                  "source": sr, "fit_s": t, "metrics": ",".join(m.view_metric_),
                  **clustering_scores(d.y, lb)} for c, (lb, sr, t) in out.items()]
    return rows


def semi_rows(d, variant):
    from glassnet.experiments.dsrl import semisupervised_rows
    from glassnet.nn.dsrl import multiview_graph

    rows, _ = semisupervised_rows(d.name, d.y, multiview_graph(d.views), list(SEEDS), 0.1,
                                  dsrl_kw={"metric": "auto"}, views=d.views,
                                  objectives=("learned",))
    return [{**r, "variant": variant} for r in rows]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--semi", action="store_true", help="DSRLClassifier rows (10%% labels)")
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=VARIANTS)
    ap.add_argument("--small-k", action="store_true",
                    help="round 12b: n_neighbors from the class size on small-class sets")
    ap.add_argument("--dominant", action="store_true",
                    help="round 12c: image tuning sets with one dominant view (screen)")
    ap.add_argument("--out", default=None, help="rows file in benchmarks/dsrl_tuning/")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    import torch
    from threadpoolctl import threadpool_limits

    import glassnet.estimators.dsrl_base as E  # where _input_graphs reads view_metric
    from glassnet.nn.dsrl_views import is_text, view_metric

    def variant_metric(variant):
        def metric(V, option, name="view"):
            if option == "auto" and is_text(V) and not np.array_equal(V, np.round(V)):
                return variant
            return view_metric(V, option, name)
        return metric

    torch.set_num_threads(1)
    out = HERE / (args.out or ("dsrl_tune_round12_semi.csv" if args.semi
                               else "dsrl_tune_round12.csv"))
    rows = []
    with threadpool_limits(limits=1):
        if args.small_k or args.dominant:
            out = HERE / (args.out or ("dsrl_tune_round12_k.csv" if args.small_k
                                       else "dsrl_tune_round12_dominant.csv"))
            images = itertools.chain((d for d in sets(args.data_dir) if not d.name.startswith("3S")),
                                     (d for d in small_class_sets(args.data_dir) if "-c" in d.name))
            for d in small_class_sets(args.data_dir) if args.small_k else images:
                t0 = time.perf_counter()
                rows += k_rows(d) if args.small_k else (dominant_rows(d, "regular")
                                                         + dominant_rows(dominant(d)[0], "dominant"))
                pd.DataFrame(rows).to_csv(out, index=False)
                print(d.name, f"{time.perf_counter() - t0:.0f} s", flush=True)
            return
        for d0 in text_sets(args.data_dir):
            for form in FORMS:
                d = stored(d0, form)
                t0 = time.perf_counter()
                for variant in args.variants:
                    E.view_metric = variant_metric(variant)
                    rows += semi_rows(d, variant) if args.semi else clustering_rows(d, variant)
                pd.DataFrame(rows).to_csv(out, index=False)
                print(d.name, f"{time.perf_counter() - t0:.0f} s", flush=True)



def auto_k(n, n_clusters):
    """Round 12b's candidate (adopted as ``nn.dsrl_views.neighbors``): half the mean class
    size, between 3 and 10."""
    from glassnet.nn.dsrl_views import neighbors

    return neighbors("auto", n, n_clusters)


def small_class_sets(data_dir=None, draws=(0, 1, 2)):
    """Round 12b: tuning sets whose classes hold about 10 samples (ORL's shape): Yale-4v, Yale at
    8 per class and MSRC-v1, USPS and scikit-learn's digits (6-view stand-ins) at 10 per class,
    draws 0-2 (``default_rng(1000 + draw)``; Yale-4v itself only with draw 0; round 17 takes
    draws 3-5)."""
    from dsrl_standins import _balanced, digits, usps, yale

    from glassnet.datasets.multiview import MultiviewData, load_multiview

    def small(d, per, draw):
        idx = _balanced(d.y, per, np.random.default_rng(1000 + draw))
        return MultiviewData(f"{d.name}-c{per}-{draw}", [v[idx] for v in d.views], d.y[idx])

    y = yale(data_dir)
    if 0 in draws:
        yield y
    ms = load_multiview("MSRC-v1", data_dir)
    for draw in draws:
        yield small(y, 8, draw)
        yield small(ms, 10, draw)
        yield usps(draw, per_class=10, data_dir=data_dir)
        yield digits(draw, per_class=10)


def k_rows(d):
    """Round 12b: ``DSRLClustering()`` with k = 10 and with :func:`auto_k`, per seed and case,
    and spectral clustering (k = 10) on the averaged graph and on each view."""
    from glassnet.estimators.dsrl import DSRLClustering
    from glassnet.metrics import clustering_scores
    from glassnet.nn.dsrl import knn_heat_graph, spectral_labels
    from glassnet.nn.dsrl_views import fit_view, transform

    graphs = [knn_heat_graph(transform(V, *fit_view(V, "euclidean"), "euclidean"), 10,
                             standardize=False) for V in d.views]
    peers = {"sc_avg": sum(graphs) / len(graphs), **{f"sc_v{i}": g for i, g in enumerate(graphs)}}
    rows = []
    for seed, noisy, views in cases(d):
        for variant, k in (("k10", 10), ("auto_k", auto_k(d.n_samples, d.n_classes))):
            m = DSRLClustering(d.n_classes, n_neighbors=k, random_state=seed).fit(views)
            rows.append({"data": d.name, "seed": seed, "noise_view": noisy, "variant": variant,
                         "k": k, "source": m.graph_source_, **clustering_scores(d.y, m.labels_)})
        if not noisy:
            rows += [{"data": d.name, "seed": seed, "noise_view": False, "variant": c, "k": 10,
                      "source": "sc", **clustering_scores(d.y, spectral_labels(g, d.n_classes,
                                                                               10, seed))}
                     for c, g in peers.items()]
    return rows


def dominant(d, s=1.0, seed=7):
    """Round 12c: set d with one dominant view: the view whose own spectral partition (k from
    :func:`auto_k`) has the best ACC keeps its z-scores, every other view gets N(0, s^2) added
    (ORL's shape: one view far ahead of the rest). Returns (set, index of that view)."""
    from glassnet.datasets.multiview import MultiviewData
    from glassnet.metrics import clustering_scores
    from glassnet.nn.dsrl import knn_heat_graph, spectral_labels
    from glassnet.nn.dsrl_views import fit_view, transform

    k = auto_k(d.n_samples, d.n_classes)
    Z = [transform(V, *fit_view(V, "euclidean"), "euclidean") for V in d.views]
    acc = [clustering_scores(d.y, spectral_labels(knn_heat_graph(z, k, standardize=False),
                                                  d.n_classes, 10, 0))["acc"] for z in Z]
    b, rng = int(np.argmax(acc)), np.random.default_rng(seed)
    views = [z if i == b else z + s * rng.normal(size=z.shape) for i, z in enumerate(Z)]
    return MultiviewData(f"{d.name}-dom", views, d.y), b


def dominant_rows(d, kind):
    """Round 12c screen: the default ``DSRLClustering`` (seeds 100-102) against each view's own
    spectral partition, and two label-free scores per view that a rule could use to find the
    strongest view: its partition's mean NMI with the other views' (``agreement``) and its
    graph's eigengap at k."""
    from sklearn.metrics import normalized_mutual_info_score as nmi

    from glassnet.estimators.dsrl import DSRLClustering
    from glassnet.metrics import clustering_scores
    from glassnet.nn.dsrl import knn_heat_graph, spectral_labels
    from glassnet.nn.dsrl_select import eigengap
    from glassnet.nn.dsrl_views import fit_view, transform

    k = auto_k(d.n_samples, d.n_classes)
    gs = [knn_heat_graph(transform(V, *fit_view(V, "euclidean"), "euclidean"), k,
                         standardize=False) for V in d.views]
    own = [spectral_labels(g, d.n_classes, 10, 100) for g in gs]
    agr = [np.mean([nmi(o, p) for j, p in enumerate(own) if j != i]) for i, o in enumerate(own)]
    rows = [{"data": d.name, "kind": kind, "method": f"view {i}", "agreement": agr[i],
             "eigengap": eigengap(g, d.n_classes), **clustering_scores(d.y, own[i])}
            for i, g in enumerate(gs)]
    for seed in SEEDS:
        m = DSRLClustering(d.n_classes, random_state=seed).fit(d.views)
        rows.append({"data": d.name, "kind": kind, "method": "DSRL", "seed": seed,
                     "source": m.graph_source_, **clustering_scores(d.y, m.labels_)})
    return rows


def summary(clustering_csv=HERE / "dsrl_tune_round12.csv",
            semi_csv=HERE / "dsrl_tune_round12_semi.csv"):
    """The rule's numbers per variant: pooled and per-form means, counts >= the peers, the
    noise view's largest mean |dNMI|."""
    out = {}
    if Path(clustering_csv).exists():
        r = pd.read_csv(clustering_csv)
        r["form"] = r.data.str.split("/").str[1]
        clean = r[~r.noise_view]
        sc = clean[clean.variant == "sc_euclidean"].groupby("data")[["acc", "nmi"]].mean()
        for v in VARIANTS:
            c = clean[clean.variant == v]
            if c.empty:
                continue
            per = c.groupby("data")[["acc", "nmi"]].mean()
            wins = ((per.acc >= sc.acc.reindex(per.index) - 1e-9)
                    & (per.nmi >= sc.nmi.reindex(per.index) - 1e-9)).sum()
            both = r[r.variant == v].pivot_table(index=["data", "seed"], columns="noise_view",
                                                 values="nmi")
            dn = (both[True] - both[False]).abs().groupby("data").mean()
            out[v] = {"acc": c.acc.mean(), "nmi": c.nmi.mean(), "ge_sc": int(wins),
                      "sets": len(per), "max_dnmi": dn.max(),
                      **{f"{f}_acc": c[c.form == f].acc.mean() for f in FORMS},
                      **{f"{f}_nmi": c[c.form == f].nmi.mean() for f in FORMS}}
    if Path(semi_csv).exists():
        s = pd.read_csv(semi_csv)
        for v in VARIANTS:
            sv = s[s.variant == v]
            if sv.empty:
                continue
            acc = sv.groupby(["data", "method"]).accuracy.mean().unstack()
            ls = acc["LabelSpreading (alpha=0.2)"]
            out.setdefault(v, {}).update(
                {"semi_acc": acc["DSRL (learned)"].mean(), "ls_acc": ls.mean(),
                 "semi_ge_ls": int((acc["DSRL (learned)"] >= ls - 1e-9).sum())})
    return pd.DataFrame(out).T


if __name__ == "__main__":
    if "--summary" in sys.argv:
        print(summary().round(3).T.to_string())
    else:
        main()
