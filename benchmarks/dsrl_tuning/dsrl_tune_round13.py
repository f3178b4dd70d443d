"""Round 13 of DSRL (issue 26): weighted late fusion, tuning data only.

Late fusion (round 10, ``nn.dsrl_select.late_fusion``) runs k-means on the kept views'
row-normalised spectral embeddings side by side, every view's block with the same weight. This
probe asks whether weighting each view's block by a label-free score helps, so that weak views
count less (ORL's shape: one view far ahead of the rest). Variants (the clustered graph's block
keeps weight 1; a block is multiplied by ``sqrt(s_v)``):

* ``equal``: today;
* ``agr-p`` (p = 1, 2, 4): ``s_v = (a_v / max a)^p``, ``a_v`` the mean NMI of view v's own
  partition with the other kept views' own partitions;
* ``cons-p`` (p = 2, 4): the same with ``c_v`` = NMI of v's own partition with ``equal``'s;
* round 13b, ``coreg-0.5``, ``coreg-0.5+G``, ``coreg-2+G``: co-regularised spectral clustering
  (``nn.dsrl_select.coreg_labels``) of the kept views (and the clustered graph), lambda 0.5 / 2,
  instead of the k-means vote.

Data: the 12 image tuning sets of round 12c and their one-dominant-view copies
(``dsrl_tune_round12.dominant``), ``DSRLClustering()`` with today's defaults, seeds 100-102,
with and without the 30-column noise view; only the last step is rerun per variant (its inputs
captured from one fit). References: spectral clustering on the uniform average of DSRL's view
graphs and on each view's graph. Late fusion fires only where the kept views' own partitions
agree (images); nothing was adopted, so the text tuning sets were not rerun. The rule was
written before the first run (docs/history/dsrl.md, round 13). Rows:
``dsrl_tune_round13.csv``.

``--restarts`` (a screen, nothing chosen): on three ORL-shaped synthetic draws
(:func:`orl_shaped`: 400 samples, 40 classes of 10, one strong view and three weak ones), does
late fusion's k-means gain from 100 restarts instead of 10 (inertia and ACC)?

``--stability`` (a screen, nothing chosen): on the fits that end in late fusion (seed 100, no
noise view), is the candidate partition (the fused one or one kept view's own) that is most
stable under 80% subsamples (:func:`stability`) also the most accurate? Rows
``dsrl_tune_round13_stability.csv``.

``--dense-metric`` (round 13d): what ``metric="auto"`` should give nonnegative dense views
(histograms, pixel intensities): ``euclidean`` (z-scores, today), ``cosine`` (unit rows as
given) or ``hellinger`` (square roots of the row-normalised view); on the 12 regular image
tuning sets (clustering, seeds 100-102, with and without the noise view) and, with ``--semi``,
``DSRLClassifier`` at 10% labels on four of them (label splits 100-102). Rows
``dsrl_tune_round13_metric.csv``, ``dsrl_tune_round13_metric_semi.csv``.

    PYTHONPATH=src python benchmarks/dsrl_tuning/dsrl_tune_round13.py [--restarts] [--stability]
    PYTHONPATH=src python benchmarks/dsrl_tuning/dsrl_tune_round13.py --dense-metric [--semi]
    PYTHONPATH=src python benchmarks/dsrl_tuning/dsrl_tune_round13.py --summary
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
from dsrl_tune_round8 import _capture_fit
from dsrl_tune_round10 import SEEDS, cases, sets
from dsrl_tune_round12 import dominant, small_class_sets

HERE = Path(__file__).resolve().parent
VARIANTS = {"equal": None, "agr-1": ("agr", 1), "agr-2": ("agr", 2), "agr-4": ("agr", 4),
            "cons-2": ("cons", 2), "cons-4": ("cons", 4)}
COREG = {"coreg-0.5": (0.5, False), "coreg-0.5+G": (0.5, True), "coreg-2+G": (2.0, True)}


def image_sets(data_dir=None):
    """Round 12c's 12 image tuning sets."""
    return itertools.chain((d for d in sets(data_dir) if not d.name.startswith("3S")),
                           (d for d in small_class_sets(data_dir) if "-c" in d.name))


def capture(views, k, seed):
    """One ``DSRLClustering`` fit with today's defaults; returns (model, last_step's positional
    args, fit seconds)."""
    # late_fusion=True: the default up to round 19 (equal weights), so rounds 13-19 reproduce
    m, args, _, fit_s = _capture_fit(views, k, seed, settings={"late_fusion": True})
    return m, args, fit_s


def fused_variants(args, G):
    """{variant: labels} of the weighted late fusions on one fit's captured last-step inputs
    and the graph late fusion saw, ``G`` (the views' embeddings and own partitions computed
    once, as ``late_fusion`` does); and the views' agreement scores."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import normalized_mutual_info_score as nmi
    from threadpoolctl import threadpool_limits

    from glassnet.nn.dsrl import spectral_embedding
    from glassnet.nn.dsrl_select import coreg_labels

    views, k, n_init, seed = args[3], args[5], args[6], args[7]
    with threadpool_limits(limits=1):
        E = [spectral_embedding(g, k, seed) for g in views]
        own = [KMeans(k, n_init=n_init, random_state=seed).fit_predict(e) for e in E]
        EG = spectral_embedding(G, k, seed)

        def km(s):
            X = np.hstack([np.sqrt(w) * e for w, e in zip(s, E)] + [EG])
            return KMeans(k, n_init=n_init, random_state=seed).fit_predict(X)

        out = {"equal": km(np.ones(len(E)))}
        agr = np.array([np.mean([nmi(o, p) for j, p in enumerate(own) if j != i])
                        for i, o in enumerate(own)])
        cons = np.array([nmi(o, out["equal"]) for o in own])
        for name, spec in VARIANTS.items():
            if spec is not None:
                score = agr if spec[0] == "agr" else cons
                out[name] = km((score / score.max()) ** spec[1])
    for name, (lam, with_G) in COREG.items():
        out[name] = coreg_labels([*views, G] if with_G else list(views), k, lam, n_init=n_init,
                                 random_state=seed)
    return out, agr


def _view_graphs(views, k):
    """DSRL's own per-view input graphs of ``views`` (today's metric and k; seed-free)."""
    import glassnet.estimators.dsrl as E

    return E.DSRLClustering(k)._input_graphs(list(views), k)


def rows_for(d, kind):
    from glassnet.metrics import clustering_scores
    from glassnet.nn.dsrl import spectral_labels

    k = d.n_classes
    graphs = _view_graphs(d.views, k)  # the references' graphs, once per set
    refs = {"sc_avg": sum(graphs) / len(graphs), **{f"view {i}": g for i, g in enumerate(graphs)}}
    rows = []
    for seed, noisy, views in cases(d):
        m, args, fit_s = capture(views, k, seed)
        base = {"data": d.name, "kind": kind, "seed": seed, "noise_view": noisy,
                "source": m.graph_source_, "fit_s": fit_s,
                "weights": np.round(m.view_weights_, 3).tolist()}
        if m.graph_source_ == "late":
            labs, agr = fused_variants(args, m.graph_)  # graph_: the graph late fusion saw
            assert np.array_equal(labs["equal"], m.labels_), "equal != the fit's late fusion"
            base["agreement"] = np.round(agr, 3).tolist()
        else:
            labs = {v: m.labels_ for v in [*VARIANTS, *COREG]}
        rows += [{**base, "variant": v, **clustering_scores(d.y, lab)} for v, lab in labs.items()]
        if not noisy:  # references on DSRL's own view graphs (metric and k as the fit's)
            rows += [{"data": d.name, "kind": kind, "seed": seed, "noise_view": False,
                      "variant": r, "source": "sc",
                      **clustering_scores(d.y, spectral_labels(g, k, 10, seed))}
                     for r, g in refs.items()]
    return rows


def orl_shaped(draw, n=400, k=40, d=30, strong=6.0, weak=3.0, n_weak=3):
    """ORL's shape without ORL: k Gaussian classes of n / k samples; one strong view (class means
    at separation ``strong``) and ``n_weak`` weak views (own means, separation ``weak``), each
    with its own N(0, 1) noise, so the weak views err on different pairs."""
    from glassnet.datasets.multiview import MultiviewData

    rng = np.random.default_rng(2000 + draw)
    y = np.arange(n) % k
    rng.shuffle(y)
    views = [rng.normal(0, s / np.sqrt(2 * d), (k, d))[y] + rng.normal(size=(n, d))
             for s in [strong] + [weak] * n_weak]
    return MultiviewData(f"orl-shaped-{draw}", views, y)


def restarts_screen(seed=100):
    """Print, per ORL-shaped draw: DSRL's source and ACC, each view's own ACC, and late fusion's
    k-means (same embeddings) with 10 and 100 restarts: inertia and ACC."""
    from sklearn.cluster import KMeans

    from glassnet.metrics import clustering_scores
    from glassnet.nn.dsrl import spectral_embedding, spectral_labels

    for draw in range(3):
        d = orl_shaped(draw)
        m, args, _ = capture(list(d.views), d.n_classes, seed)
        views, k = args[3], args[5]
        own = [clustering_scores(d.y, spectral_labels(g, k, 10, seed))["acc"] for g in views]
        print(d.name, m.graph_source_, f"DSRL ACC {clustering_scores(d.y, m.labels_)['acc']:.3f}",
              "kept views' own ACC", np.round(own, 3))
        if m.graph_source_ == "late":
            X = np.hstack([spectral_embedding(g, k, seed) for g in [*views, m.graph_]])
            for n_init in (10, 100):
                km = KMeans(k, n_init=n_init, random_state=seed).fit(X)
                print(f"  n_init {n_init}: inertia {km.inertia_:.1f}, "
                      f"ACC {clustering_scores(d.y, km.labels_)['acc']:.3f}")


def _fuse(graphs, k, seed):
    """Late fusion's k-means on the graphs' row-normalised embeddings side by side (one graph:
    its spectral partition)."""
    from sklearn.cluster import KMeans

    from glassnet.nn.dsrl import spectral_embedding

    X = np.hstack([spectral_embedding(g, k, seed) for g in graphs])
    return KMeans(k, n_init=10, random_state=seed).fit_predict(X)


def stability(candidates, k, seed, n_draws=8, frac=0.8):
    """{name: partition of all samples}, {name: stability}: the mean NMI, over ``n_draws``
    subsamples of ``frac`` of the samples, between a candidate's partition of the subsample's
    induced subgraphs and its full partition restricted to the subsample (Ben-Hur et al. 2002;
    Lange et al. 2004). ``candidates``: {name: list of graphs} (several: late fusion)."""
    from sklearn.metrics import normalized_mutual_info_score as nmi

    n = next(iter(candidates.values()))[0].shape[0]
    rng = np.random.default_rng(seed)
    full = {c: _fuse(gs, k, seed) for c, gs in candidates.items()}
    score = {c: [] for c in candidates}
    for _ in range(n_draws):
        idx = np.sort(rng.choice(n, int(frac * n), replace=False))
        for c, gs in candidates.items():
            score[c].append(nmi(full[c][idx], _fuse([g[idx][:, idx] for g in gs], k, seed)))
    return full, {c: float(np.mean(v)) for c, v in score.items()}


def stability_rows(d, kind, seed=100):
    from glassnet.metrics import clustering_scores

    m, args, _ = capture(list(d.views), d.n_classes, seed)
    if m.graph_source_ != "late":
        return []
    views, k = args[3], args[5]
    cands = {"fused": [*views, m.graph_], **{f"view {i}": [g] for i, g in enumerate(views)}}
    full, stab = stability(cands, k, seed)
    return [{"data": d.name, "kind": kind, "seed": seed, "candidate": c, "stability": stab[c],
             **clustering_scores(d.y, lab)} for c, lab in full.items()]


def stability_summary(path=HERE / "dsrl_tune_round13_stability.csv"):
    df = pd.read_csv(path)
    out = []
    for (kind, data), g in df.groupby(["kind", "data"], sort=False):
        g = g.set_index("candidate")
        pick, best = g.stability.idxmax(), g.acc.idxmax()
        out.append({"kind": kind, "data": data, "pick": pick, "best": best,
                    "fused": g.acc["fused"], "picked": g.acc[pick], "best acc": g.acc[best]})
    t = pd.DataFrame(out)
    print(t.round(3).to_string(index=False))
    print(t.groupby("kind")[["fused", "picked", "best acc"]].mean().round(3).to_string())


DENSE = ("euclidean", "cosine", "hellinger")
SEMI_SETS = ("MSRC-v1", "Yale-4v", "USPS-6v-0", "digits-6v-0")


def _histogram(V):
    """Whether ``metric="auto"`` would give view V Euclidean graphs although it is nonnegative
    (round 13d's candidates: dense histograms, pixel intensities)."""
    from glassnet.nn.dsrl_views import is_text

    V = np.asarray(V)
    return bool(V.size and V.min() >= 0 and not is_text(V))


def dense_setup(variant):
    """Patch ``estimators.dsrl_base.view_metric`` so that ``"auto"`` gives nonnegative dense views
    ``"cosine"`` (variants cosine and hellinger); returns the views' preprocessing (hellinger:
    square roots of the row-normalised view, whose rows then have unit length)."""
    import glassnet.estimators.dsrl_base as E
    from glassnet.nn.dsrl_views import view_metric

    def metric(V, option, name="view"):
        if option == "auto" and variant != "euclidean" and _histogram(V):
            return "cosine"
        return view_metric(V, option, name)

    E.view_metric = metric

    def prep(views):
        if variant != "hellinger":
            return list(views)
        out = []
        for V in views:
            if _histogram(V):
                r = V.sum(axis=1, keepdims=True)
                V = np.sqrt(V / np.where(r > 0, r, 1.0))
            out.append(V)
        return out
    return prep


def dense_rows(d, variants=DENSE):
    import glassnet.estimators.dsrl as E
    from glassnet.metrics import clustering_scores
    from glassnet.nn.dsrl import spectral_labels

    k, rows = d.n_classes, []
    for variant in variants:
        prep = dense_setup(variant)
        graphs = _view_graphs(prep(d.views), k)  # the references' graphs, once per variant
        refs = {f"view {i} {variant}": g for i, g in enumerate(graphs)}
        if variant == "euclidean":
            refs["sc_avg"] = sum(graphs) / len(graphs)
        for seed, noisy, views in cases(d):
            t0 = time.perf_counter()
            m = E.DSRLClustering(k, random_state=seed).fit(prep(views))
            rows.append({"data": d.name, "seed": seed, "noise_view": noisy, "variant": variant,
                         "source": m.graph_source_, "fit_s": time.perf_counter() - t0,
                         "metrics": ",".join(m.view_metric_),
                         "weights": np.round(m.view_weights_, 3).tolist(),
                         **clustering_scores(d.y, m.labels_)})
            if not noisy:  # each view's own partition (and, Euclidean, the averaged graph)
                rows += [{"data": d.name, "seed": seed, "noise_view": False, "variant": r,
                          "source": "sc", **clustering_scores(d.y, spectral_labels(g, k, 10, seed))}
                         for r, g in refs.items()]
    dense_setup("euclidean")
    return rows


def dense_semi_rows(d, variants=DENSE):
    from glassnet.experiments.dsrl import semisupervised_rows
    from glassnet.nn.dsrl import multiview_graph

    rows = []
    for variant in variants:
        prep = dense_setup(variant)
        r, _ = semisupervised_rows(d.name, d.y, multiview_graph(d.views), list(SEEDS), 0.1,
                                   dsrl_kw={"metric": "auto"}, views=prep(d.views),
                                   objectives=("learned",))
        rows += [{**x, "variant": variant} for x in r]
    dense_setup("euclidean")
    return rows


def dense_summary(path=HERE / "dsrl_tune_round13_metric.csv", variants=DENSE,
                  semi=HERE / "dsrl_tune_round13_metric_semi.csv"):
    df = pd.read_csv(path)
    clean = df[~df.noise_view.astype(bool)]
    per = clean.groupby(["data", "variant"])[["acc", "nmi"]].mean()
    datas = clean.data.unique()
    out = []
    for var in variants:
        best = {s: per.loc[s].loc[[v for v in per.loc[s].index if v.startswith("view")
                                   and v.split()[-1] in ("euclidean", var)]].max() for s in datas}
        sc = per.xs(var, level=1)
        base = per.xs("euclidean", level=1)
        dn = df[df.variant == var].groupby(["data", "noise_view"]).nmi.mean().unstack()
        out.append({"variant": var, "acc": sc.acc.mean(), "nmi": sc.nmi.mean(),
                    "sets losing > 0.02 ACC": int((sc.acc < base.acc - 0.02).sum()),
                    ">= best view": sum((sc.loc[s] >= best[s] - 1e-12).all() for s in datas),
                    ">= sc_avg": sum((sc.loc[s] >= per.loc[(s, "sc_avg")] - 1e-12).all()
                                     for s in datas),
                    "noise max dNMI": (dn[True] - dn[False]).abs().max()})
    print(pd.DataFrame(out).round(3).to_string(index=False))
    print(per.unstack("variant")[["acc", "nmi"]].loc[:, (slice(None), list(variants))]
          .round(3).to_string())
    if semi.exists():
        sm = pd.read_csv(semi)
        sm = sm[sm.method.str.startswith("DSRL")]
        t = sm.groupby(["data", "variant"]).accuracy.mean().unstack()[list(variants)]
        print(pd.concat([t, t.mean().to_frame("mean").T]).round(3).to_string())


def summary(path=HERE / "dsrl_tune_round13.csv"):
    df = pd.read_csv(path)
    clean = df[~df.noise_view]
    per = clean.groupby(["kind", "data", "variant"])[["acc", "nmi"]].mean()
    out = []
    for kind in ("regular", "dominant"):
        p = per.loc[kind]
        datas = p.index.get_level_values(0).unique()
        views = [v for v in p.index.get_level_values(1).unique() if v.startswith("view")]
        best = {s: p.loc[s].loc[[v for v in views if v in p.loc[s].index]].max() for s in datas}
        for var in [*VARIANTS, *COREG]:
            sc = p.xs(var, level=1)
            out.append({"kind": kind, "variant": var, "acc": sc.acc.mean(), "nmi": sc.nmi.mean(),
                        ">=best view": sum((sc.loc[s] >= best[s] - 1e-12).all() for s in datas),
                        ">=sc_avg": sum((sc.loc[s] >= p.loc[(s, "sc_avg")] - 1e-12).all()
                                        for s in datas)})
    t = pd.DataFrame(out)
    noise = df[df.variant.isin([*VARIANTS, *COREG])].groupby(["variant", "data",
                                                             "noise_view"]).nmi.mean()
    dn = noise.unstack("noise_view")
    t = t.merge((dn[True] - dn[False]).abs().groupby("variant").max().rename("noise max dNMI"),
                left_on="variant", right_index=True)
    pooled = clean[clean.variant.isin([*VARIANTS, *COREG])].groupby("variant")[["acc", "nmi"]].mean()
    print(t.round(3).to_string(index=False))
    print("pooled (24 sets):\n", pooled.round(4).to_string())
    late = df[(df.variant == "equal")].groupby("kind").source.value_counts()
    print(late.to_string())
    return t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--restarts", action="store_true", help="k-means restarts screen")
    ap.add_argument("--stability", action="store_true", help="subsample-stability screen")
    ap.add_argument("--dense-metric", action="store_true", help="round 13d")
    ap.add_argument("--semi", action="store_true", help="with --dense-metric: the classifier")
    ap.add_argument("--summary", action="store_true")
    ap.add_argument("--out", default="dsrl_tune_round13.csv")
    args = ap.parse_args(argv)
    if args.summary:
        summary(HERE / args.out)
        if (HERE / "dsrl_tune_round13_stability.csv").exists():
            stability_summary()
        if (HERE / "dsrl_tune_round13_metric.csv").exists():
            dense_summary()
        return
    warnings.filterwarnings("ignore")
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    if args.restarts:
        with threadpool_limits(limits=1):
            restarts_screen()
        return
    if args.dense_metric:
        rows, out = [], HERE / ("dsrl_tune_round13_metric_semi.csv" if args.semi
                                else "dsrl_tune_round13_metric.csv")
        with threadpool_limits(limits=1):
            for d in image_sets(args.data_dir):
                if args.semi and d.name not in SEMI_SETS:
                    continue
                t0 = time.perf_counter()
                rows += dense_semi_rows(d) if args.semi else dense_rows(d)
                pd.DataFrame(rows).to_csv(out, index=False)
                print(d.name, f"{time.perf_counter() - t0:.0f} s", flush=True)
        return
    if args.stability:
        rows = []
        with threadpool_limits(limits=1):
            for d in image_sets(args.data_dir):
                rows += stability_rows(d, "regular") + stability_rows(dominant(d)[0], "dominant")
            for draw in range(3):
                rows += stability_rows(orl_shaped(draw), "orl-shaped")
        pd.DataFrame(rows).to_csv(HERE / "dsrl_tune_round13_stability.csv", index=False)
        stability_summary()
        return
    out = HERE / args.out
    rows = []
    with threadpool_limits(limits=1):
        for d in image_sets(args.data_dir):
            t0 = time.perf_counter()
            rows += rows_for(d, "regular") + rows_for(dominant(d)[0], "dominant")
            pd.DataFrame(rows).to_csv(out, index=False)
            print(d.name, f"{time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
