"""Reproductions of Wang, Chen, Du, Lin, "Learning Deep Sparse Regularizers ..." (TPAMI 2022).

* ``dsrl-clustering``: DSRL with its default learned objective (eigengap, views gated by the
  agreement of their own clusterings) and with the paper's objective (eq. 8), side by side, against spectral clustering on
  every single view's graph and on the averaged graph, k-means on the concatenated standardised
  features and co-regularised multi-view spectral clustering (mvlearn, optional); also on the
  authors' own graphs (``multiview/dsrl/*W.mat``), and with one extra view of pure Gaussian noise.
* ``dsrl-semisupervised``: DSRL's transductive classifier (learned and paper objective) at 10%
  labels against scikit-learn's ``LabelSpreading`` on the averaged graph and label propagation
  on the unlearned graph.

Repetitions differ in the k-means / training seed (clustering) and in the labelled split
(classification); every method sees the same graphs and split. Defaults were tuned on the
tuning sets ``TUNING_SETS`` with tuning seeds ``TUNING_SEEDS`` (see :func:`tune`); reported
repetitions use seeds ``cfg.seed + r``. Every verdict in a report is computed from its tables
(:mod:`glassnet.experiments.verdicts`).
"""

from __future__ import annotations

import functools
import time
import warnings

import numpy as np
import pandas as pd

from glassnet.experiments._base import Config, Result
from glassnet.experiments.dsrl_tables import (
    LABEL_FRACTION,
    LEARNED,
    MVSC,
    NOISE_DIM,
    PAPER_NOTE,  # noqa: F401  (re-exported: the reports cite it)
    PAPER_OBJ,
    SC_METRIC,
    TUNING_SEEDS,
    TUNING_SETS,
    clustering_tables,
    semisupervised_tables,
)
from glassnet.progress import log
from glassnet.registry import register_experiment

PAPER = ('S. Wang, Z. Chen, S. Du, Z. Lin, "Learning Deep Sparse Regularizers with Applications '
         'to Multi-View Clustering and Semi-Supervised Classification", IEEE TPAMI 2022')

SETS = ["Handwritten", "MSRC-v1", "ORL", "3Sources", "BBCSport", "20NewsGroups", "Reuters-1200",
        "ALOI", "MNIST"]
AUTHOR_GRAPHS = {"MSRC-v1": "MSRC-v1", "ORL": "ORL-dsrl", "ALOI": "ALOI", "MNIST": "MNIST"}
LS_ALPHA = 0.2  # LabelSpreading's clamping factor, tuned in tune() on TUNING_SETS / TUNING_SEEDS
MVSC_MAX_N = 2000  # co-regularised MVSC does dense eigendecompositions per view and iteration
QUICK_MVSC_MAX_N = 500  # --quick: the small sets only



# ---------------------------------------------------------------- helpers
# the paper objective runs on the released pipeline's graphs: z-scored Euclidean 10-NN
RELEASED = {"metric": "euclidean", "n_neighbors": 10}


def _sizes(cfg: Config):
    """(sets, repetitions, max sets with the authors' graphs) for full / quick / tiny."""
    if cfg.tiny:
        return ["MSRC-v1"], 2, ["MSRC-v1"]
    if cfg.quick:
        return ["MSRC-v1", "ORL", "3Sources", "ALOI"], 3, ["MSRC-v1", "ALOI"]
    return SETS, 10, list(AUTHOR_GRAPHS)


def load_set(name: str, data_dir):
    from glassnet.datasets.multiview import load_multiview
    from glassnet.nn.dsrl import knn_heat_graph

    d = load_multiview(name, data_dir)
    graphs = [knn_heat_graph(V) for V in d.views]
    W = (sum(graphs[1:], graphs[0]) / len(graphs)).tocsr()
    return d, graphs, W


def _metric_graphs(model):
    """The per-view kNN graphs the fitted DSRL ``model`` started from (of its ``fit_views_``),
    or None where they are the released pipeline's (:data:`RELEASED`: the averaged graph's)."""
    from glassnet.nn.dsrl import knn_heat_graph

    metrics = getattr(model, "view_metric_", None) if model is not None else None
    if not metrics or (all(m == RELEASED["metric"] for m in metrics)
                       and model.n_neighbors_ == RELEASED["n_neighbors"]):
        return None
    return [knn_heat_graph(Z, model.n_neighbors_, standardize=False) for Z in model.fit_views_]


def _std_concat(views):
    Z = []
    for V in views:
        sd = V.std(axis=0)
        Z.append((V - V.mean(axis=0)) / np.where(sd > 0, sd, 1.0))
    return np.hstack(Z)


def _mvsc_available() -> bool:
    try:
        from mvlearn.cluster import MultiviewCoRegSpectralClustering  # noqa: F401
    except (ImportError, AttributeError):  # missing, or an optional dependency missing/broken
        return False
    return True


@functools.lru_cache(maxsize=8)
def _mvsc_cached(name, k, seed, data_dir):
    """Co-reg MVSC on the views of multi-view set ``name`` (cached: the own-graph pair and the
    authors'-graph pair of one set share its views)."""
    from glassnet.datasets.multiview import load_multiview

    return _mvsc(load_multiview(name, data_dir).views, k, seed)


def _mvsc(views, k, seed):
    from mvlearn.cluster import MultiviewCoRegSpectralClustering

    Z = [(V - V.mean(0)) / np.where(V.std(0) > 0, V.std(0), 1.0) for V in views]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MultiviewCoRegSpectralClustering(
            n_clusters=k, affinity="nearest_neighbors", n_neighbors=10, random_state=seed
        ).fit_predict(Z)


def _xi_figure(theta, title):
    import matplotlib.pyplot as plt
    import torch

    from glassnet.penalties import learned_threshold, soft_threshold

    w1, w2, b1, b2 = theta
    x = torch.linspace(-3 * max(b2, 1e-3), 3 * max(b2, 1e-3), 601, dtype=torch.float64)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(x, learned_threshold(x, w1, w2, b1, b2), label=r"learned $\xi_\Theta$")
    ax.plot(x, soft_threshold(x, b1), "--", label=f"soft threshold at b1={b1:.3g}")
    ax.plot(x, x, ":", c="gray", label="identity")
    ax.set_xlabel("x")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def _sparsity_figure(curves: dict[str, np.ndarray], title):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, s in curves.items():
        ax.plot(np.arange(len(s)), s, marker="o", ms=3, label=name)
    ax.set_xlabel("layer (0 = input graph W)")
    ax.set_ylabel("sparsity (fraction of zero entries)")
    ax.set_title(title)
    ax.legend(fontsize=7)
    return fig


# ---------------------------------------------------------------- clustering

def clustering_rows(name, d, graphs, W, seeds, *, views_peers=True, mvsc=True, tag=None,
                    dsrl_kw=None, mvsc_max_n=MVSC_MAX_N, objectives=("learned", "paper"),
                    mvsc_set=None, data_dir=None):
    """Long-format rows (one per method and seed) on one data set and graph. With views
    (``views_peers``) DSRL is fitted on the views themselves (its own per-view graphs, one kNN
    search each, the same as ``graphs``); otherwise on the precomputed ``W``. Co-reg MVSC
    (``mvsc``) runs on the set's views, for the authors'-graph pairs too (it uses no graph),
    once per pair (first seed); with ``mvsc_set`` (the set's name) its labels are cached."""
    from sklearn.cluster import KMeans

    from glassnet.estimators.dsrl import DSRLClustering
    from glassnet.metrics import clustering_scores
    from glassnet.nn.dsrl import spectral_labels

    k = d.n_classes
    tag = tag or name
    rows, extra = [], {}
    X = d.views if views_peers else W
    aff = "knn" if views_peers else "precomputed"
    own = []  # (method, graph) of SC on DSRL's own input graphs where they are not Euclidean
    for s in seeds:
        for obj in objectives:
            method = LEARNED if obj == "learned" else PAPER_OBJ
            t0 = time.perf_counter()
            metric = RELEASED if obj == "paper" and views_peers else {}
            m = DSRLClustering(k, affinity=aff, objective=obj, random_state=s, **metric,
                               **(dsrl_kw or {})).fit(X)
            rows.append({"data": tag, "method": method, "seed": s,
                         "fit_s": time.perf_counter() - t0, **clustering_scores(d.y, m.labels_)})
            extra.setdefault(obj, m)
        t0 = time.perf_counter()
        lab = spectral_labels(W, k, 10, s)
        rows.append({"data": tag, "method": "SC averaged graph", "seed": s,
                     "fit_s": time.perf_counter() - t0, **clustering_scores(d.y, lab)})
        gs = _metric_graphs(extra.get("learned")) if views_peers and s == seeds[0] else None
        if gs is not None:  # once per set, from the first seed's fit
            own = [(SC_METRIC, sum(gs) / len(gs)),
                   *((f"SC view {v + 1} (DSRL's metric)", g) for v, g in enumerate(gs))]
        for method, G in own:
            rows.append({"data": tag, "method": method, "seed": s, "fit_s": np.nan,
                         **clustering_scores(d.y, spectral_labels(G, k, 10, s))})
        if views_peers:
            for v, G in enumerate(graphs):
                lab = spectral_labels(G, k, 10, s)
                rows.append({"data": tag, "method": f"SC view {v + 1}", "seed": s, "fit_s": np.nan,
                             **clustering_scores(d.y, lab)})
            t0 = time.perf_counter()
            lab = KMeans(k, n_init=10, random_state=s).fit_predict(_std_concat(d.views))
            rows.append({"data": tag, "method": "k-means concat", "seed": s,
                         "fit_s": time.perf_counter() - t0, **clustering_scores(d.y, lab)})
        if mvsc and d.n_samples <= mvsc_max_n and s == seeds[0]:
            t0 = time.perf_counter()
            lab = _mvsc(d.views, k, s) if mvsc_set is None else _mvsc_cached(mvsc_set, k, s,
                                                                             data_dir)
            rows.append({"data": tag, "method": MVSC, "seed": s,
                         "fit_s": time.perf_counter() - t0, **clustering_scores(d.y, lab)})
    return rows, extra


def noise_rows(name, d, seeds, dsrl_kw=None):
    """DSRL (learned) and SC on the averaged graph with one extra view of pure Gaussian noise
    (``NOISE_DIM`` columns, drawn with seed 0 of the set's size); rows as clustering_rows plus
    the noise view's learned weight."""
    from glassnet.estimators.dsrl import DSRLClustering
    from glassnet.metrics import clustering_scores
    from glassnet.nn.dsrl import multiview_graph, spectral_labels

    noise = np.random.default_rng(0).normal(size=(d.n_samples, NOISE_DIM))
    views = [*d.views, noise]
    Wn = multiview_graph(views)
    rows = []
    for s in seeds:
        m = DSRLClustering(d.n_classes, random_state=s, **(dsrl_kw or {})).fit(views)
        rows.append({"data": name, "method": LEARNED + " + noise view", "seed": s,
                     "noise_weight": float(m.view_weights_[-1]), **clustering_scores(d.y, m.labels_)})
        rows.append({"data": name, "method": "SC averaged graph + noise view", "seed": s,
                     "noise_weight": 1.0 / len(views),
                     **clustering_scores(d.y, spectral_labels(Wn, d.n_classes, 10, s))})
    return rows


def _one_blas_thread(run):
    """Run an experiment with one BLAS/OpenMP thread for every method alike (k-means' OpenMP
    spin-waits cost ~4x CPU on a shared 2-core machine); the caller's limits are restored."""

    @functools.wraps(run)
    def wrapped(cfg: Config) -> Result:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            return run(cfg)

    return wrapped


@register_experiment(
    "dsrl-clustering", paper=PAPER,
    description="DSRL multi-view clustering vs spectral (single views, averaged graph), k-means, "
                "co-regularised MVSC; our graphs and the authors' graphs",
    needs_data=["multiview/*.mat", "multiview/dsrl/*.mat"])
@_one_blas_thread
def run_clustering(cfg: Config) -> Result:
    from glassnet.datasets.multiview import load_dsrl_graph, load_multiview

    sets, reps, author_sets = _sizes(cfg)
    seeds = [cfg.seed + r for r in range(reps)]
    mvsc = _mvsc_available()
    mvsc_max_n = QUICK_MVSC_MAX_N if cfg.quick else MVSC_MAX_N
    kw = {"max_epochs": 3} if cfg.tiny else None
    rows, models, curves, nrows = [], {}, {}, []
    for name in sets:
        log(f"dsrl-clustering: {name} ({reps} repetitions)")
        d, graphs, W = load_set(name, cfg.data_dir)
        r, extra = clustering_rows(name, d, graphs, W, seeds, mvsc=mvsc and not cfg.tiny,
                                   dsrl_kw=kw, mvsc_max_n=mvsc_max_n, mvsc_set=name,
                                   data_dir=cfg.data_dir)
        rows += r
        models[name] = extra["learned"]
        curves[f"{name} (learned)"] = extra["learned"].layer_sparsity_
        curves[f"{name} (paper)"] = extra["paper"].layer_sparsity_
        nrows += noise_rows(name, d, seeds, kw)
    for name in author_sets:
        log(f"dsrl-clustering: {name} with the authors' graph")
        d = load_multiview(AUTHOR_GRAPHS[name], cfg.data_dir)
        Wa = load_dsrl_graph(AUTHOR_GRAPHS[name], cfg.data_dir)
        r, extra = clustering_rows(name, d, [], Wa, seeds, views_peers=False,
                                   mvsc=mvsc and not cfg.tiny, tag=f"{name} (authors' W)",
                                   dsrl_kw=kw, mvsc_max_n=mvsc_max_n,
                                   mvsc_set=AUTHOR_GRAPHS[name], data_dir=cfg.data_dir)
        rows += r
    tables, verdicts, lines = clustering_tables(pd.DataFrame(rows), pd.DataFrame(nrows), seeds,
                                                mvsc, mvsc_max_n)
    m0 = models[sets[0]]
    theta = tuple(float(v) for v in np.atleast_2d(m0.theta_)[0])
    figs = {"xi_vs_soft_threshold": _xi_figure(theta, f"learned xi on {sets[0]} (seed {seeds[0]})"),
            "sparsity_per_layer": _sparsity_figure(curves, "learned graph sparsity per layer")}
    return Result(tables=tables, figures=figs, report="\n\n".join(lines), verdicts=verdicts)


# ---------------------------------------------------------------- semi-supervised

def label_split(y, fraction, seed):
    """Random labelled indices (``floor(fraction n)``, at least one per class)."""
    rng = np.random.default_rng(seed)
    n = y.shape[0]
    m = max(int(np.floor(fraction * n)), 1)
    perm = rng.permutation(n)
    lab = list(perm[:m])
    for c in np.unique(y):  # every class gets a labelled sample
        if not np.any(y[lab] == c):
            lab.append(int(rng.choice(np.flatnonzero(y == c))))
    return np.array(sorted({int(i) for i in lab}))


def _label_spreading(W, y_semi, alpha):
    from sklearn.semi_supervised import LabelSpreading

    A = W.toarray()

    def kernel(a, b):
        return A[np.ix_(a[:, 0].astype(int), b[:, 0].astype(int))]

    idx = np.arange(W.shape[0], dtype=float)[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter
        return LabelSpreading(kernel=kernel, alpha=alpha, max_iter=100).fit(idx, y_semi).transduction_


def semisupervised_rows(tag, y, W, seeds, fraction, dsrl_kw=None, ls_alpha=LS_ALPHA, views=None,
                        objectives=("learned", "paper")):
    """Rows (one per method and split). DSRL is fitted on ``views`` when given (its own per-view
    graphs), else on the precomputed ``W``; the peers use ``W`` (the averaged graph)."""
    from sklearn.metrics import accuracy_score, f1_score

    from glassnet.estimators.dsrl import DSRLClassifier
    from glassnet.nn.dsrl import label_propagation, link_labelled_pairs

    rows, models = [], {}
    X, aff = (views, "knn") if views is not None else (W, "precomputed")
    own = None  # LabelSpreading's graph on DSRL's own inputs where they are not Euclidean
    for s in seeds:
        lab = label_split(y, fraction, s)
        test = np.setdiff1d(np.arange(y.shape[0]), lab)
        ys = np.full_like(y, -1)
        ys[lab] = y[lab]

        def score(pred, method, fit_s, s=s, lab=lab, test=test):
            rows.append({"data": tag, "method": method, "seed": s, "n_labelled": lab.size,
                         "fit_s": fit_s, "accuracy": accuracy_score(y[test], pred[test]),
                         "macro_f1": f1_score(y[test], pred[test], average="macro")})

        for obj in objectives:
            t0 = time.perf_counter()
            metric = RELEASED if obj == "paper" and views is not None else {}
            m = DSRLClassifier(affinity=aff, objective=obj, random_state=s, **metric,
                               **(dsrl_kw or {})).fit(X, ys)
            score(m.transduction_, LEARNED if obj == "learned" else PAPER_OBJ,
                  time.perf_counter() - t0)
            models.setdefault(obj, m)
        t0 = time.perf_counter()
        score(_label_spreading(W, ys, ls_alpha), f"LabelSpreading (alpha={ls_alpha})",
              time.perf_counter() - t0)
        gs = _metric_graphs(models.get("learned")) if views is not None and s == seeds[0] else None
        if gs is not None:  # DSRL's own averaged input graph, once per set (first seed's fit)
            own = sum(gs) / len(gs)
        if own is not None:  # where it is not the Euclidean averaged graph
            score(_label_spreading(own, ys, ls_alpha),
                  f"LabelSpreading (alpha={ls_alpha}, DSRL's metric)", np.nan)
        t0 = time.perf_counter()
        classes = np.unique(y)
        Y = np.zeros((y.shape[0], classes.size))
        Y[lab, np.searchsorted(classes, y[lab])] = 1
        F = label_propagation(W, Y, 1.0)
        score(classes[F.argmax(1)], "propagation on W (no learning)", time.perf_counter() - t0)
        t0 = time.perf_counter()
        F = label_propagation(link_labelled_pairs(W, lab, np.searchsorted(classes, y[lab])), Y, 1.0)
        score(classes[F.argmax(1)], "propagation on W + labelled pairs (no learning)",
              time.perf_counter() - t0)
    return rows, models


@register_experiment(
    "dsrl-semisupervised", paper=PAPER,
    description="DSRL transductive classification (learned and paper objective) at 10% labels "
                "vs LabelSpreading on the same graph",
    needs_data=["multiview/*.mat", "multiview/dsrl/*.mat"])
@_one_blas_thread
def run_semisupervised(cfg: Config) -> Result:
    from glassnet.datasets.multiview import load_dsrl_graph, load_multiview

    sets, reps, author_sets = _sizes(cfg)
    seeds = [cfg.seed + r for r in range(reps)]
    kw = {"max_epochs": 3} if cfg.tiny else None
    rows, curves, models = [], {}, {}
    for name in sets:
        log(f"dsrl-semisupervised: {name} ({reps} splits)")
        d, _, W = load_set(name, cfg.data_dir)
        r, m = semisupervised_rows(name, d.y, W, seeds, LABEL_FRACTION, kw, views=d.views)
        rows += r
        models[name] = m["learned"]
        curves[f"{name} (learned)"] = m["learned"].layer_sparsity_
        curves[f"{name} (paper)"] = m["paper"].layer_sparsity_
    for name in author_sets:
        log(f"dsrl-semisupervised: {name} with the authors' graph")
        d = load_multiview(AUTHOR_GRAPHS[name], cfg.data_dir)
        Wa = load_dsrl_graph(AUTHOR_GRAPHS[name], cfg.data_dir)
        r, _ = semisupervised_rows(f"{name} (authors' W)", d.y, Wa, seeds, LABEL_FRACTION, kw)
        rows += r
    tables, verdicts, lines = semisupervised_tables(pd.DataFrame(rows), seeds)
    m0 = models[sets[0]]
    theta = tuple(float(v) for v in np.atleast_2d(m0.theta_)[0])
    figs = {"xi_vs_soft_threshold": _xi_figure(theta, f"learned xi on {sets[0]} (seed {seeds[0]})"),
            "sparsity_per_layer": _sparsity_figure(curves, "learned graph sparsity per layer")}
    return Result(tables=tables, figures=figs, report="\n\n".join(lines), verdicts=verdicts)


# ---------------------------------------------------------------- tuning (not registered)

def tune(data_dir=None, clustering_grid=None, classification_grid=None,
         ls_alphas=(0.2, 0.5, 0.8, 0.99)):
    """Mean score of each candidate default of the learned objective (and of LabelSpreading's
    alpha) on TUNING_SETS x TUNING_SEEDS, DSRL fitted on the views (how the defaults were
    chosen; run by hand, results recorded in docs/history/dsrl.md)."""
    from glassnet.estimators.dsrl import DSRLClassifier, DSRLClustering
    from glassnet.metrics import clustering_scores

    clustering_grid = clustering_grid or [
        {"lr": lr, "max_epochs": e, "init_quantile": q}
        for lr in (0.02, 0.05) for e in (1, 10, 30) for q in (0.1, 0.5)]
    classification_grid = classification_grid or [
        {"init_quantile": q} for q in (0.1, 0.5, 0.9)] + [{"max_epochs": 5}]
    out = []
    for name in TUNING_SETS:
        d, _, W = load_set(name, data_dir)
        for kw in clustering_grid:
            sc = [clustering_scores(d.y, DSRLClustering(d.n_classes, random_state=s, **kw)
                                    .fit(d.views).labels_) for s in TUNING_SEEDS]
            out.append({"task": "clustering", "data": name, **kw,
                        "acc": np.mean([x["acc"] for x in sc]),
                        "nmi": np.mean([x["nmi"] for x in sc])})
        for kw in classification_grid:
            acc = []
            for s in TUNING_SEEDS:
                lab = label_split(d.y, LABEL_FRACTION, s)
                ys = np.full_like(d.y, -1)
                ys[lab] = d.y[lab]
                pred = DSRLClassifier(random_state=s, **kw).fit(d.views, ys).transduction_
                acc.append(np.mean(pred[ys == -1] == d.y[ys == -1]))
            out.append({"task": "classification", "data": name, **kw, "acc": np.mean(acc)})
        for a in ls_alphas:
            rows, _ = semisupervised_rows(name, d.y, W, TUNING_SEEDS, LABEL_FRACTION,
                                          {"max_epochs": 1}, ls_alpha=a, objectives=())
            r = pd.DataFrame(rows)
            out.append({"task": "labelspreading", "data": name, "alpha": a,
                        "acc": r[r.method.str.startswith("LabelSpreading")].accuracy.mean()})
    return pd.DataFrame(out)
