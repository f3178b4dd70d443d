"""Round 11 of DSRL clustering (issue 26): co-regularised fusion where late fusion fires.

Tuning data only: MSRC-v1, 3Sources and the 23 stand-ins of rounds 8-10 (``dsrl_standins.py``,
``dsrl_tune_round10.sets``), seeds 100-102, with and without a 30-column N(0, 1) view. One
default ``DSRLClustering`` fit per set, seed and case; the last step's inputs are captured and,
where round 10's late fusion fired (source ``"late"``), its k-means on the side-by-side
embeddings is replaced by co-regularised spectral clustering (``nn.dsrl_select.coreg_labels``)
of the kept views (``coreg_<lam>``) or of the kept views and the clustered graph
(``coregG_<lam>``); round 11b weights the views' embeddings by their eigengap at k
(``gw_<p>``, ``gwG_<p>``); round 11c takes them from dense RBF kernels (``rbf``, ``rbfknn``).
Elsewhere every variant equals the default. The rule was written before
the first run (docs/history/dsrl.md, round 11). Rows: ``dsrl_tune_round11.csv``.

``--fallback`` (round 11d) adds six two-view text stand-ins made from 3Sources and tries the
last step's fallback variants; ``--tau-factor F`` (round 11e) refits with the learned
objective's degree regularisation times F, on the same 31 sets.

    PYTHONPATH=src python benchmarks/dsrl_tuning/dsrl_tune_round11.py [--fallback | --tau-factor F] --out F.csv
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
from dsrl_tune_round10 import SEEDS, captured_cases, cases, sets

HERE = Path(__file__).resolve().parent
LAMS = (0.5, 1.0, 2.0)
POWERS = (0.5, 1.0, 2.0)


def rbf_graph(X):
    """Round 11c: mvlearn's MVSC affinity, a dense RBF kernel with gamma = 1 / (2 median
    distance^2), on the z-scored features (as DSRL's kNN graph); zero diagonal, as a sparse
    matrix for ``spectral_embedding``."""
    import scipy.sparse as sp
    from scipy.spatial.distance import pdist, squareform

    X = np.asarray(X, dtype=np.float64)
    sd = X.std(axis=0)
    X = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    d = pdist(X)
    K = squareform(np.exp(-(d**2) / (2.0 * max(np.median(d), 1e-12) ** 2)))
    return sp.csr_matrix(K)


def rbf_late(raw_kept, kept, G, k, n_init, seed):
    """Round 11c: late fusion on RBF-kernel embeddings (``rbf``) or on RBF and kNN ones
    (``rbfknn``) of the kept views, each with the clustered graph's embedding."""
    from sklearn.cluster import KMeans

    from glassnet.nn.dsrl import spectral_embedding

    R = [spectral_embedding(rbf_graph(x), k, seed) for x in raw_kept]
    E = [spectral_embedding(g, k, seed) for g in kept]
    EG = spectral_embedding(G, k, seed)
    return {"rbf": KMeans(k, n_init=n_init, random_state=seed).fit_predict(np.hstack(R + [EG])),
            "rbfknn": KMeans(k, n_init=n_init, random_state=seed).fit_predict(
                np.hstack(R + E + [EG]))}


def weighted_late(kept, G, k, n_init, seed):
    """Round 11b: late fusion with each kept view's embedding scaled by sqrt(w_v), w_v =
    (eigengap_v / max eigengap) ** p; {variant: labels} for every p, with the clustered graph's
    embedding at weight 1 (``gw_<p>``) or at its own relative gap, capped at 1 (``gwG_<p>``)."""
    from sklearn.cluster import KMeans

    from glassnet.nn.dsrl import spectral_embedding
    from glassnet.nn.dsrl_select import eigengap

    E = [spectral_embedding(g, k, seed) for g in kept]
    EG = spectral_embedding(G, k, seed)
    gaps = np.array([eigengap(g, k, 0.1) for g in kept])
    rel = np.clip(gaps, 0, None) / max(gaps.max(), 1e-12)
    relG = min(max(eigengap(G, k, 0.1), 0.0) / max(gaps.max(), 1e-12), 1.0)
    out = {}
    for p in POWERS:
        w = rel ** p
        for name, wG in ((f"gw_{p}", 1.0), (f"gwG_{p}", relG ** p)):
            F = np.hstack([np.sqrt(a) * e for a, e in zip(w, E)] + [np.sqrt(wG) * EG])
            out[name] = KMeans(k, n_init=n_init, random_state=seed).fit_predict(F)
    return out


def rows_for(d):
    from glassnet.metrics import clustering_scores
    from glassnet.nn.dsrl_select import coreg_labels, last_step

    k = d.n_classes
    rows = []
    for seed, noisy, views, m, args, kw, fit_s in captured_cases(d):
        kept, n_init = args[3], args[6]
        lab, G, src, _ = last_step(*args, **kw)
        out, extra = {"default": lab}, {}
        for lam in LAMS:
            t0 = time.perf_counter()
            out[f"coreg_{lam}"] = (coreg_labels(kept, k, lam, n_init=n_init, random_state=seed)
                                   if src == "late" else lab)
            t1 = time.perf_counter()
            out[f"coregG_{lam}"] = (coreg_labels([*kept, G], k, lam, n_init=n_init,
                                                 random_state=seed) if src == "late" else lab)
            t2 = time.perf_counter()
            extra.update({f"coreg_{lam}": t1 - t0, f"coregG_{lam}": t2 - t1})
        if src == "late":
            t0 = time.perf_counter()
            out.update(weighted_late(kept, G, k, n_init, seed))
            extra["gw"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            raw_kept = [views[i] for i in np.flatnonzero(m.view_weights_)]
            out.update(rbf_late(raw_kept, kept, G, k, n_init, seed))
            extra["rbf"] = extra["rbfknn"] = time.perf_counter() - t0
        else:
            out.update({f"{c}_{p}": lab for c in ("gw", "gwG") for p in POWERS})
            out.update({"rbf": lab, "rbfknn": lab})
        rows += [{"data": d.name, "seed": seed, "noise_view": noisy, "variant": c,
                  "source": src, "n_kept": len(kept), "fit_s": fit_s,
                  "extra_s": extra.get(c, 0.0), **clustering_scores(d.y, lb)}
                 for c, lb in out.items()]
    return rows


MARGINS = (0.0, 0.005)
AGREE = (0.0, 0.01, 0.02)


def bbc_shaped(three):
    """Round 11d: two-view text stand-ins from the tuning set 3Sources (the shape of BBCSport,
    whose round-3 report diagnosis motivated them): two of the three sources (``3S-pair<ab>``)
    and one source's words split into two random halves (``3S-split<v>``, columns permuted with
    ``default_rng(v)``; constant columns dropped): two views of the same documents."""
    from glassnet.datasets.multiview import MultiviewData

    for a, b in ((0, 1), (0, 2), (1, 2)):
        yield MultiviewData(f"3S-pair{a}{b}", [three.views[a], three.views[b]], three.y)
    for v, X in enumerate(three.views):
        p = np.random.default_rng(v).permutation(X.shape[1])
        halves = [X[:, p[: X.shape[1] // 2]], X[:, p[X.shape[1] // 2:]]]
        yield MultiviewData(f"3S-split{v}", [h[:, h.std(axis=0) > 0] for h in halves], three.y)


def fallback_rows(d):
    """Round 11d: the last step's fallback with margin 0 / 0.005 (``m<margin>``), or also
    when the input graph's partition agrees with the kept views' own partitions (mean NMI) by
    more than ``d`` better than the learned one (``agr_<d>``, two or more kept views)."""
    from sklearn.metrics import normalized_mutual_info_score as nmi

    from glassnet.metrics import clustering_scores
    from glassnet.nn.dsrl import multiview_graph, spectral_labels
    from glassnet.nn.dsrl_select import last_step

    k = d.n_classes
    rows = []
    for seed, noisy, _, _, args, kw, _ in captured_cases(d):
        labels, _, G0, kept, _, k, n_init, s = args
        lab, _, src, _ = last_step(*args, **kw)
        out = {"default": (lab, src)}
        for mg in MARGINS:
            r = last_step(*args, **{**kw, "margin": mg})
            out[f"m{mg:g}"] = (r[0], r[2])
        lab0 = spectral_labels(G0, k, n_init, s)
        gain = 0.0
        if len(kept) > 1:
            own = [spectral_labels(g, k, n_init, s) for g in kept]
            gain = (np.mean([nmi(lab0, o) for o in own])
                    - np.mean([nmi(labels, o) for o in own]))
        for a in AGREE:
            if len(kept) > 1 and gain > a:
                r = last_step(lab0, G0, G0, *args[3:], **kw)
                out[f"agr_{a:g}"] = (r[0], "input" if r[2] == "learned" else r[2])
            else:
                out[f"agr_{a:g}"] = out["default"]
        if not noisy:
            out["sc_avg"] = (spectral_labels(multiview_graph(d.views), k, n_init, seed), "sc")
        rows += [{"data": d.name, "seed": seed, "noise_view": noisy, "variant": c,
                  "source": sr, "n_kept": len(kept), "agree_gain": gain,
                  **clustering_scores(d.y, lb)} for c, (lb, sr) in out.items()]
    return rows


def tau_rows(d, factor):
    """Round 11e: one default fit per seed and case with the learned objective's degree
    regularisation scaled by ``factor`` (tau = 0.1 x factor x mean degree; the gate, fallback
    and view pick keep 0.1). Variant ``tau<0.1 x factor>``."""
    import glassnet.estimators.dsrl as E
    from glassnet.metrics import clustering_scores

    orig = E.spectral_gap_loss

    def scaled(x, rows, cols, n, k, tau, kind, v0):
        return orig(x, rows, cols, n, k, tau * factor, kind, v0)

    rows = []
    for seed, noisy, views in cases(d):
        E.spectral_gap_loss = scaled
        try:
            m = E.DSRLClustering(d.n_classes, metric="euclidean", n_neighbors=10,
                                 random_state=seed).fit(views)
        finally:
            E.spectral_gap_loss = orig
        rows.append({"data": d.name, "seed": seed, "noise_view": noisy,
                     "variant": f"tau{0.1 * factor:g}", "source": m.graph_source_,
                     **clustering_scores(d.y, m.labels_)})
    return rows


def metric_rows(d):
    """Round 11f: ``DSRLClustering(metric="auto")`` per seed and case (variant ``auto``), and
    spectral clustering on the averaged kNN graph of the views' points under each metric
    (``sc_euclidean``, ``sc_auto``: TF-IDF cosine for count views)."""
    from glassnet.estimators.dsrl import DSRLClustering
    from glassnet.metrics import clustering_scores
    from glassnet.nn.dsrl import knn_heat_graph, spectral_labels
    from glassnet.nn.dsrl_views import fit_view, transform, view_metric

    def avg_graph(metric):
        gs = []
        for V in d.views:
            m = view_metric(V, metric)
            gs.append(knn_heat_graph(transform(V, *fit_view(V, m), m), 10, standardize=False))
        return sum(gs) / len(gs)

    rows = []
    graphs = {f"sc_{m}": avg_graph(m) for m in ("euclidean", "auto")}
    for seed, noisy, views in cases(d):
        t0 = time.perf_counter()
        # k = 10 as in round 11 (n_neighbors="auto" came in 12b)
        m = DSRLClustering(d.n_classes, metric="auto", n_neighbors=10, random_state=seed).fit(views)
        out = {"auto": (m.labels_, m.graph_source_, time.perf_counter() - t0)}
        if not noisy:
            out.update({c: (spectral_labels(g, d.n_classes, 10, seed), "sc", 0.0)
                        for c, g in graphs.items()})
        rows += [{"data": d.name, "seed": seed, "noise_view": noisy, "variant": c,
                  "source": sr, "fit_s": t, "metrics": ",".join(m.view_metric_),
                  **clustering_scores(d.y, lb)} for c, (lb, sr, t) in out.items()]
    return rows


def semi_rows(d, metric):
    """Round 11g: the semi-supervised experiment's rows (``experiments.dsrl.semisupervised_rows``,
    10% labels, label splits SEEDS, learned objective) with ``DSRLClassifier(metric=metric)``;
    LabelSpreading on the Euclidean averaged graph as in the report."""
    from glassnet.experiments.dsrl import semisupervised_rows
    from glassnet.nn.dsrl import multiview_graph

    rows, _ = semisupervised_rows(d.name, d.y, multiview_graph(d.views), list(SEEDS), 0.1,
                                  dsrl_kw={"metric": metric}, views=d.views,
                                  objectives=("learned",))
    return [{**r, "metric": metric} for r in rows]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default="dsrl_tune_round11.csv",
                    help="rows file in benchmarks/dsrl_tuning/ (11d: dsrl_tune_round11_fallback.csv; 11e: "
                         "one per factor, joined into dsrl_tune_round11_tau.csv)")
    ap.add_argument("--fallback", action="store_true",
                    help="round 11d: fallback variants on the 25 sets and the 6 two-view ones")
    ap.add_argument("--tau-factor", type=float, default=None,
                    help="round 11e: the learned objective's tau scaled by this (on 11d's sets)")
    ap.add_argument("--metric", action="store_true",
                    help="round 11f: metric='auto' (TF-IDF cosine graphs of count views)")
    ap.add_argument("--semi", default=None, choices=["euclidean", "auto"],
                    help="round 11g: DSRLClassifier with this metric on the text sets")
    ap.add_argument("--only", nargs="*", default=None, help="set names (for a quick look)")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    out = HERE / args.out
    rows = []
    with threadpool_limits(limits=1):
        all_sets = sets(args.data_dir)
        if args.fallback or args.tau_factor is not None or args.metric or args.semi:
            from glassnet.datasets.multiview import load_multiview

            three = load_multiview("3Sources", args.data_dir)
            all_sets = itertools.chain(bbc_shaped(three), sets(args.data_dir))
        for d in all_sets:
            if args.only and d.name not in args.only:
                continue
            t0 = time.perf_counter()
            if args.semi:
                if d.name in ("MSRC-v1", "Yale-4v") or d.name.startswith(("USPS", "digits")):
                    continue  # image sets: metric="auto" is "euclidean" on every view
                rows += semi_rows(d, args.semi)
            elif args.metric:
                rows += metric_rows(d)
            elif args.tau_factor is not None:
                rows += tau_rows(d, args.tau_factor)
            else:
                rows += fallback_rows(d) if args.fallback else rows_for(d)
            pd.DataFrame(rows).to_csv(out, index=False)
            print(d.name, f"{time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
