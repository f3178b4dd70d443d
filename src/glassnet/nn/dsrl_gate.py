"""DSRL clustering: which views to keep, and whether to keep the learned graph.

* :func:`cluster_agreement_weights` (``view_weights="clusters"``): a view is kept if it shares
  something with another view beyond chance: its own clustering's mutual information with the
  other view's, or a *degree-corrected* count of shared edges (robust to hub nodes), each
  against random relabellings of one view's samples. When no pair of views agrees, each view is
  tested alone (:func:`feature_structure_z`, parallel analysis against column-permuted copies
  of its features): a view of pure noise has no structure beyond those copies and is left out.
* :func:`regularised_ncut`: the degree-regularised normalised cut of a partition of a graph,
  the criterion by which the learned graph's clustering must beat the input graph's own
  (``DSRLClustering``'s fallback).

Both chosen on the tuning sets MSRC-v1 and 3Sources and on synthetic multi-view draws with
hub-heavy views (docs/history/dsrl.md, rounds 4-5).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["cluster_agreement_weights", "feature_structure_z", "mean_degree_ncut", "regularised_ncut"]


def _edges(g):
    """Upper-triangle edges of g as sorted keys ``i * n + j`` with the degree-corrected weight
    ``1 / sqrt(deg_i deg_j)`` of each (binary degrees), and their end points."""
    n = g.shape[0]
    c = sp.triu(g, k=1).tocoo()
    deg = np.diff(sp.csr_matrix(g != 0).indptr).astype(np.float64)
    key = c.row.astype(np.int64) * n + c.col
    o = np.argsort(key)
    r, cc = c.row[o].astype(np.int64), c.col[o].astype(np.int64)
    return key[o], r, cc, 1.0 / np.sqrt(deg[r] * deg[cc])


def _shared(ea, eb, perm, n):
    """Degree-corrected shared edges of graph a and graph b with its nodes relabelled by perm:
    ``sum over shared edges (i, j) of 1 / sqrt(da_i da_j db_i db_j)``. A hub (one node linked
    to most others, as on kNN graphs of sparse text) adds about as much as one ordinary edge
    instead of hundreds, so its chance alignment no longer dominates the relabellings."""
    r, c = perm[eb[1]], perm[eb[2]]
    key = np.minimum(r, c) * n + np.maximum(r, c)
    _, ia, ib = np.intersect1d(ea[0], key, assume_unique=True, return_indices=True)
    return float(ea[3][ia] @ eb[3][ib])


def _beyond_chance(stat, null, z: float) -> bool:
    return stat > np.mean(null) + z * max(np.std(null), 1e-12)


def _top_variance(Z: np.ndarray, n_components: int, seed: int) -> float:
    """Sum of the ``n_components`` largest eigenvalues of ``Z^T Z / n`` (randomized SVD with a
    fixed seed: the same approximation for a view and its null copies)."""
    from sklearn.utils.extmath import randomized_svd

    s = randomized_svd(Z, int(min(n_components, *Z.shape)), n_iter=4, random_state=seed)[1]
    return float(s @ s) / Z.shape[0]


def feature_structure_z(view, n_components: int, n_null: int = 30, random_state=0) -> float:
    """How far one view's features share variation beyond chance, in standard deviations of a
    null with none: parallel analysis (Horn 1965) with permutations.

    The statistic is the variance along the view's ``n_components`` leading principal axes (the
    sum of the largest eigenvalues of the z-scored features' correlation matrix; k clusters give
    k - 1 such axes); the null is the same statistic on ``n_null`` copies of the view with every
    column permuted on its own (each feature keeps its values, any dependence between features
    is gone). Returns ``(stat - mean(null)) / std(null)``. A view of independent noise (Gaussian
    or not) *is* such a copy in distribution, so its score is a draw of the null's (measured
    with 30 copies: at most 4.8 over 3,000 draws of Gaussian, uniform, exponential and sparse
    Poisson columns, 30 to 300 of them, n = 169 to 1000; with 10 copies at most 5.3 over 450
    Gaussian draws); a view whose samples form groups, or share any other factor (document
    length on text views), scores above (the tuning sets' real views: 49 to 856; weak text
    views with 5% of their words: 4 to 15). Costs ``n_null + 1`` randomized SVDs of an (n, d)
    matrix (n = d = 2000 on one core: 2.3 s with 10 copies, 3.5 s with 30); the permutations
    use a generator seeded by ``random_state``.
    """
    Z = np.asarray(view, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[0] < 2:
        raise ValueError(f"view must be a 2-D array with at least 2 rows, got shape {Z.shape}")
    if int(n_null) < 2:
        raise ValueError(f"n_null must be at least 2, got {n_null}")
    sd = Z.std(axis=0)
    Z = (Z - Z.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    q = max(int(n_components), 1)
    rng = np.random.default_rng(random_state)
    null = [_top_variance(rng.permuted(Z, axis=0), q, 0) for _ in range(int(n_null))]
    return float((_top_variance(Z, q, 0) - np.mean(null)) / max(np.std(null), 1e-12))


def cluster_agreement_weights(graphs, n_clusters: int, power: float = 0.0, z: float = 4.0,
                              n_perm: int = 100, random_state=0, views=None,
                              structure_z: float = 5.0, n_null: int = 30,
                              grade: str = "ami", tau: float = 0.1,
                              dominance: float = 2.0, return_agree: bool = False,
                              rescue: bool = False):
    """View weights from what the views share beyond chance: 0 for a view that shares nothing.

    Two tests per pair of views, each against ``n_perm`` random relabellings of one view's
    samples (the pair agrees if a statistic exceeds the relabellings' mean by ``z`` of their
    standard deviations): the mutual information of the views' own partitions (each graph
    clustered alone, :func:`glassnet.nn.dsrl.spectral_labels`, k = ``n_clusters``) and the
    degree-corrected number of edges the two graphs share (:func:`_shared`). A view is *kept*
    if it agrees with some other view in either test. A view of pure noise is independent of
    every other view, so relabelling it changes nothing in distribution: it is left out (weight
    exactly 0) up to the tests' false-positive rate. Kept views weigh ``score ** power``,
    normalised (``power=0``: the average of the kept views), the score set by ``grade``
    (:func:`_graded`; ``"ami"``: the mean AMI with the other kept views; ``"dominant"``, the
    estimator's: the NMI of each view's partition with the averaged kept graph's, graded only if
    the top view's is at least ``dominance`` times the second's). One view: weight 1.

    No pair agreeing (weak views, for instance text views whose kNN graphs are dominated by
    hubs): with the views' feature matrices ``views`` (the arrays the graphs were built from),
    each view is tested alone, :func:`feature_structure_z` against ``n_null`` column-permuted
    copies; the views scoring above ``structure_z`` are averaged, the others get 0. Without
    ``views``, or if no view passes: uniform (the pair tests alone cannot tell a weak real view
    from noise). The relabellings use a generator seeded by ``(random_state, v, u)``, the
    column permutations one seeded by ``(random_state, v)``, so appending a view leaves the other
    views' tests unchanged. ``O(n_views^2 n_perm nnz log nnz)``, plus ``n_views (n_null + 1)``
    randomized SVDs when no pair agrees. With ``rescue`` (the estimator's default since round
    8) and ``views``: when some pair agrees, a view that agrees with none is tested alone the
    same way and kept if it passes (a weak real view the pair tests missed; a noise view still
    fails), ``n_null + 1`` randomized SVDs per such view. With ``return_agree``: ``(weights, agree)``, ``agree``
    True if some pair of views agreed beyond chance (False for one view).
    """
    out = _cluster_agreement_weights(graphs, n_clusters, power, z, n_perm, random_state, views,
                                     structure_z, n_null, grade, tau, dominance, rescue)
    return out if return_agree else out[0]


def _cluster_agreement_weights(graphs, n_clusters, power, z, n_perm, random_state, views,
                               structure_z, n_null, grade, tau, dominance, rescue=False):
    """:func:`cluster_agreement_weights`, returning ``(weights, some pair agreed)``."""
    from sklearn.metrics import adjusted_mutual_info_score, mutual_info_score

    from glassnet.nn.dsrl import spectral_labels

    m = len(graphs)
    if m == 1:
        return np.ones(1), False
    if int(n_perm) < 2:
        raise ValueError(f"n_perm must be at least 2, got {n_perm}")
    seed = int(random_state) if random_state is not None else 0
    graphs = [sp.csr_matrix(g) for g in graphs]
    n = graphs[0].shape[0]
    labs = [spectral_labels(g, n_clusters, 3, seed) for g in graphs]
    edges = [_edges(g) for g in graphs]
    ident = np.arange(n)
    above = np.zeros((m, m), dtype=bool)
    ami = np.zeros((m, m))
    for i in range(m):
        for j in range(i + 1, m):
            rng = np.random.default_rng([seed, i, j])
            perms = [rng.permutation(n) for _ in range(int(n_perm))]
            # view j's node p[t] is view j's node t: its label moves with it
            mi = [mutual_info_score(labs[i], labs[j][np.argsort(p)]) for p in perms]
            shared = [_shared(edges[i], edges[j], p, n) for p in perms]
            above[i, j] = above[j, i] = (
                _beyond_chance(mutual_info_score(labs[i], labs[j]), mi, z)
                or _beyond_chance(_shared(edges[i], edges[j], ident, n), shared, z))
            ami[i, j] = ami[j, i] = adjusted_mutual_info_score(labs[i], labs[j])
    keep = above.any(axis=1)

    def structured(test):
        """Each view in ``test`` (a mask) against its own null: the per-view structure test."""
        if len(views) != m:
            raise ValueError(f"views must have one entry per graph ({m}), got {len(views)}")
        return np.array([test[v] and feature_structure_z(V, n_clusters - 1, n_null, [seed, v]) > structure_z
                         for v, V in enumerate(views)])

    if rescue and keep.any() and not keep.all() and views is not None:  # round 8
        keep = keep | structured(~keep)
    if not keep.any() and views is not None:  # no pair agrees: each view against its null
        keep = structured(~keep)
        return (keep / keep.sum() if keep.any() else np.full(m, 1.0 / m)), False
    if not keep.any():
        return np.full(m, 1.0 / m), False
    if grade not in GRADES:
        raise ValueError(f"grade must be one of {GRADES}, got {grade!r}")
    a = np.zeros(m)
    if float(power) == 0.0 or keep.sum() == 1:
        a[keep] = 1.0 / keep.sum()
        return a, True
    kept = np.flatnonzero(keep)
    if grade == "ami":
        sub = ami[np.ix_(keep, keep)]
        score = np.maximum(sub.sum(axis=1) / max(keep.sum() - 1, 1), 1e-12) ** float(power)
        a[keep] = score / score.sum()
        return a, True
    return _graded(graphs, labs, kept, n_clusters, float(power), grade, tau, seed, a,
                   dominance), True


GRADES = ("ami", "own_cut", "consensus", "amgl", "dominant")


def _graded(graphs, labs, kept, k, power, grade, tau, seed, a, dominance=2.0):
    """Kept views graded by the strength of their own structure (round 6, tuning only):
    ``own_cut``: ``(1 - ncut_v(own partition))``; ``consensus``: NMI of the view's partition
    with the averaged kept graph's; ``amgl``: ``ncut_v(consensus partition)^-1``, the consensus
    recomputed on the reweighted graph (5 alternations, AMGL-style); ``dominant`` (the
    estimator's default): the ``consensus`` scores, used only if the top one is at least
    ``dominance`` times the second (one view stands out), else the kept views are averaged.
    Weights ``score ** power``, normalised."""
    from sklearn.metrics import normalized_mutual_info_score

    from glassnet.nn.dsrl import spectral_labels

    if grade == "own_cut":
        score = np.array([1.0 - mean_degree_ncut(graphs[v], labs[v], tau) for v in kept])
        w = np.maximum(score, 1e-12) ** power
        a[kept] = w / w.sum()
        return a
    w = np.full(kept.size, 1.0 / kept.size)
    for _ in range(5 if grade == "amgl" else 1):
        G = sum(wi * graphs[v] for wi, v in zip(w, kept))
        cons = spectral_labels(G, k, 3, seed)
        if grade in ("consensus", "dominant"):
            score = np.array([normalized_mutual_info_score(cons, labs[v]) for v in kept])
        else:
            score = 1.0 / np.array([max(mean_degree_ncut(graphs[v], cons, tau), 1e-12)
                                    for v in kept])
        if grade == "dominant" and np.sort(score)[-1] < dominance * np.sort(score)[-2]:
            break  # no view stands out: the kept views are averaged
        w = np.maximum(score, 1e-12) ** power
        w = w / w.sum()
    a[kept] = w
    return a


def regularised_ncut(W, labels, tau: float) -> float:
    """Mean over the clusters of ``cut(C) / vol(C)`` on ``W + (tau/n) 1 1^T`` (the
    degree-regularised graph of :func:`glassnet.nn.dsrl.spectral_gap_loss`): lower is a better
    partition of W. The regularisation charges a cluster for every node it leaves out, so cutting
    off small groups of weakly linked nodes does not pay. Empty clusters count 1. ``O(nnz)``."""
    W = sp.csr_matrix(W)
    n = W.shape[0]
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"labels must have one entry per node ({n}), got shape {labels.shape}")
    k = int(labels.max()) + 1 if labels.size else 0
    deg = np.asarray(W.sum(axis=1)).ravel()
    coo = W.tocoo()
    same = labels[coo.row] == labels[coo.col]
    within = np.bincount(labels[coo.row[same]], weights=coo.data[same], minlength=k)
    size = np.bincount(labels, minlength=k).astype(np.float64)
    vol = np.bincount(labels, weights=deg, minlength=k) + tau * size
    within = within + tau * size**2 / n
    ratio = np.where(vol > 0, (vol - within) / np.where(vol > 0, vol, 1.0), 1.0)
    return float(ratio.mean())


def mean_degree_ncut(W, labels, tau: float) -> float:
    """:func:`regularised_ncut` with ``tau`` in units of W's mean degree (``tau sum(W) / n``,
    as the eigengap criterion's): the form every DSRL cut comparison uses."""
    return regularised_ncut(W, labels, tau * float(W.sum()) / W.shape[0])

