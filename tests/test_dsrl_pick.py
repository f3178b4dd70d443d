"""DSRL clustering, round 7 (issue 26): one kept view much better separated at k than the
multi-view graph replaces it (``pick_view``); co-regularised spectral clustering and the
leave-one-view-out pick (tried, not the default) behave as documented."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy.linalg import eigh

from glassnet.datasets.multiview import make_multiview_mixture
from glassnet.estimators.dsrl import DSRLClustering
from glassnet.metrics import clustering_scores
from glassnet.nn.dsrl import knn_heat_graph, multiview_graph, spectral_labels
from glassnet.nn.dsrl_select import coreg_labels, eigengap, held_out_pick, strongest_view

torch.set_num_threads(1)


def _agree_views(draw=0, n=300, k=6, d=20):
    """One strong view, and three weak views that rotate one shared latent sample in which
    cluster pairs lie close: the weak views agree with each other, errors included, and
    outvote the strong view in the averaged graph (``benchmarks/dsrl_tuning/dsrl_tune_pick.py``)."""
    rng = np.random.default_rng(1000 + draw)
    y = np.arange(n) % k
    rng.shuffle(y)
    views = [rng.normal(0.0, 5.0 / np.sqrt(2.0 * d), (k, d))[y] + rng.normal(size=(n, d))]
    cm = rng.normal(0.0, 5.0 / np.sqrt(2.0 * d), (k // 2, d))
    fm = cm[np.arange(k) // 2] + rng.normal(0.0, 2.0 / np.sqrt(2.0 * d), (k, d))
    Z = fm[y] + rng.normal(size=(n, d))
    for _ in range(3):
        R = np.linalg.qr(rng.normal(size=(d, d)))[0]
        views.append(Z @ R + 0.5 * rng.normal(size=(n, d)))
    return views, y


def test_eigengap_is_the_regularised_normalised_adjacency_gap():
    W = knn_heat_graph(make_multiview_mixture(120, 3, 1, 10, 5.0, random_state=0).views[0])
    n, tau = W.shape[0], 0.1 * W.sum() / W.shape[0]
    r = 1.0 / np.sqrt(np.asarray(W.sum(1)).ravel() + tau)
    mu = eigh(r[:, None] * (W.toarray() + tau / n) * r[None, :], eigvals_only=True)[::-1]
    assert np.isclose(eigengap(W, 3), mu[2] - mu[3], atol=1e-8)
    with pytest.raises(ValueError, match="n_clusters"):
        eigengap(W, n)


def test_strong_view_is_picked_and_beats_the_averaged_views():
    views, y = _agree_views()
    old = DSRLClustering(6, random_state=0, pick_view=False).fit(views)
    new = DSRLClustering(6, random_state=0).fit(views)
    assert new.graph_source_ == "view"
    assert np.array_equal(new.view_weights_, [1.0, 0.0, 0.0, 0.0])
    # the strong view's own spectral partition, and better than the averaged views' one
    alone = spectral_labels(knn_heat_graph(views[0]), 6, 10, 0)
    assert np.array_equal(new.labels_, alone)
    assert clustering_scores(y, new.labels_)["acc"] > clustering_scores(y, old.labels_)["acc"]
    # predict on the fitted samples goes through the strong view only
    assert np.mean(new.predict(views) == new.labels_) > 0.9


def test_equal_views_are_left_alone():
    d = make_multiview_mixture(200, 4, 3, 20, 3.0, random_state=0)
    old = DSRLClustering(4, random_state=0, pick_view=False).fit(d.views)
    new = DSRLClustering(4, random_state=0).fit(d.views)
    assert new.graph_source_ != "view"
    assert np.array_equal(new.labels_, old.labels_)
    assert np.array_equal(new.view_weights_, old.view_weights_)


def test_noise_view_stays_at_zero_and_changes_nothing():
    views, _ = _agree_views(draw=1)
    noise = np.random.default_rng(0).normal(size=(views[0].shape[0], 30))
    a = DSRLClustering(6, random_state=0).fit(views)
    b = DSRLClustering(6, random_state=0).fit([*views, noise])
    assert b.view_weights_[-1] == 0.0
    assert np.array_equal(a.labels_, b.labels_)


def test_strongest_view_rules():
    g = [knn_heat_graph(v) for v in _agree_views()[0]]
    avg = sum(g[1:], g[0]) / 4
    idx, gaps, ref = strongest_view(g, avg, 6, 2.0)
    assert idx == 0 and gaps[0] >= 2.0 * ref
    # a ratio above what the strong view reaches leaves the multi-view graph
    assert strongest_view(g, avg, 6, 1.01 * gaps[0] / ref)[0] is None
    assert strongest_view(g[:1], avg, 6)[0] is None
    with pytest.raises(ValueError, match="ratio"):
        strongest_view(g, avg, 6, 0.0)
    with pytest.raises(ValueError, match="pick_view"):
        DSRLClustering(6, pick_view="yes").fit(_agree_views()[0])


def test_coreg_recovers_separated_clusters_and_held_out_pick_keeps_a_consensus():
    d = make_multiview_mixture(150, 3, 2, 10, 8.0, random_state=0)
    graphs = multiview_graph(d.views, return_views=True)[1]
    lab = coreg_labels(graphs, 3, 0.5, random_state=0)
    assert clustering_scores(d.y, lab)["nmi"] > 0.95
    # a partition equal to each view's own: no gain, nothing picked
    idx, gains = held_out_pick(graphs, [0.5, 0.5], lab, [lab, lab])
    assert idx is None and np.allclose(gains, 0.0)
    with pytest.raises(ValueError, match="one entry"):
        held_out_pick(graphs, [1.0], lab, [lab, lab])
    assert sp.issparse(graphs[0])


def test_no_agreeing_pair_is_clustered_by_coreg_and_noise_still_counts_zero():
    from test_dsrl_noise import _weak_text_views  # tests/ is on pytest's pythonpath

    views, _ = _weak_text_views()
    kw = {"max_epochs": 5, "random_state": 0, "coreg": True}  # off by default since round 9
    m = DSRLClustering(4, **kw).fit(views[:-1])
    assert m.graph_source_ == "coreg" and np.allclose(m.view_weights_, 1 / 3)
    graphs = multiview_graph(m.fit_views_, standardize=False, return_views=True)[1]
    assert np.array_equal(m.labels_, coreg_labels(graphs, 4, 0.5, random_state=0))
    mn = DSRLClustering(4, **kw).fit(views)  # the noise view: weight 0, the same partition
    assert mn.view_weights_[-1] == 0.0 and np.array_equal(m.labels_, mn.labels_)
    old = DSRLClustering(4, **{**kw, "coreg": False}).fit(views[:-1])  # round 6 (and 9)
    assert old.graph_source_ in ("learned", "input")


def test_fallback_with_several_views_goes_to_coreg(monkeypatch):
    from glassnet.nn import dsrl_gate

    d = make_multiview_mixture(150, 3, 3, 8, 3.0, random_state=3)
    cuts = iter([1.0, 0.0])  # the learned partition cuts worse: the fallback fires
    monkeypatch.setattr(dsrl_gate, "regularised_ncut", lambda *a: next(cuts, 0.0))
    m = DSRLClustering(3, max_epochs=3, random_state=0, coreg=True, late_fusion=False).fit(d.views)
    assert m.graph_source_ == "coreg"
    assert clustering_scores(d.y, m.labels_)["acc"] > 0.9
