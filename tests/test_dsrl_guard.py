"""DSRL clustering, round 4 (issue 26): the regularised normalised cut, the fallback to the
weighted input graph, and the hub-robust (degree-corrected) edge test of the view gate."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from glassnet.datasets.multiview import make_multiview_mixture
from glassnet.estimators.dsrl import DSRLClustering
from glassnet.nn import dsrl_gate
from glassnet.nn.dsrl import (
    cluster_agreement_weights,
    multiview_graph,
    regularised_ncut,
    spectral_labels,
)
from glassnet.nn.dsrl_gate import _edges, _shared

torch.set_num_threads(1)


def _two_blocks(n=10, bridge=0.01):
    W = np.zeros((2 * n, 2 * n))
    W[:n, :n] = W[n:, n:] = 1.0
    W[0, n] = W[n, 0] = bridge
    np.fill_diagonal(W, 0)
    return sp.csr_matrix(W)


def test_regularised_ncut_by_hand_and_prefers_the_blocks():
    W = _two_blocks()
    n = W.shape[0]
    blocks = np.repeat([0, 1], n // 2)
    tau = 0.5
    d = np.asarray(W.sum(1)).ravel()
    A = W.toarray() + tau / n  # the regularised graph, computed densely
    ref = np.mean([A[blocks == c][:, blocks != c].sum() / (d[blocks == c].sum() + tau * n / 2)
                   for c in (0, 1)])
    assert np.isclose(regularised_ncut(W, blocks, tau), ref)
    mixed = np.arange(n) % 2
    assert regularised_ncut(W, blocks, tau) < regularised_ncut(W, mixed, tau)
    # cutting off one node is a worse cut than the two blocks
    one = np.zeros(n, dtype=int)
    one[1] = 1
    assert regularised_ncut(W, blocks, tau) < regularised_ncut(W, one, tau)
    with pytest.raises(ValueError, match="one entry per node"):
        regularised_ncut(W, blocks[:-1], tau)


def _precomputed():
    d = make_multiview_mixture(150, 3, 3, 8, 3.0, random_state=3)
    return d, multiview_graph(d.views)


@pytest.mark.parametrize(("cuts", "source"), [((1.0, 0.0), "input"), ((0.0, 1.0), "learned"),
                                              ((1.005, 1.0), "learned"), ((1.02, 1.0), "input")])
def test_fallback_keeps_the_partition_that_cuts_the_views_better(monkeypatch, cuts, source):
    _, W = _precomputed()
    seen = []

    def fake(G, labels, tau):  # (learned, input) cuts; the learned partition is scored first
        seen.append(labels)
        return cuts[len(seen) - 1]

    monkeypatch.setattr(dsrl_gate, "regularised_ncut", fake)  # read by last_step
    m = DSRLClustering(3, affinity="precomputed", max_epochs=3, random_state=0).fit(W)
    assert len(seen) == 2 and m.graph_source_ == source  # worse by more than 1%: fallback
    if source == "input":  # the input graph's own spectral partition, and that graph
        assert np.array_equal(m.labels_, spectral_labels(W, 3, 10, 0))
        assert abs(m.graph_ - W).max() < 1e-12
    else:
        assert np.array_equal(m.labels_, spectral_labels(m.graph_, 3, 10, 0))
    assert not hasattr(m, "_input_graph")


def test_paper_objective_has_no_fallback():
    _, W = _precomputed()
    m = DSRLClustering(3, affinity="precomputed", objective="paper", random_state=0).fit(W)
    assert m.graph_source_ == "learned"


def _with_hub(g, w=1.0):
    """g with node 0 linked to every other node (a hub, as on kNN graphs of sparse text)."""
    g = sp.lil_matrix(g)
    g[0, 1:] = w
    g[1:, 0] = w
    return sp.csr_matrix(g)


def test_degree_corrected_overlap_is_robust_to_hubs():
    d = make_multiview_mixture(150, 3, 2, 8, 3.0, random_state=4)
    g = multiview_graph(d.views, return_views=True)[1]
    a, b = _edges(_with_hub(g[0])), _edges(_with_hub(g[1]))
    n = 150
    raw_a, raw_b = (*a[:3], np.ones_like(a[3])), (*b[:3], np.ones_like(b[3]))
    rng = np.random.default_rng(0)
    p = rng.permutation(n)
    j = int(np.flatnonzero(p == 0)[0])
    p[[j, 0]] = p[[0, j]]  # p maps the hub of b onto the hub of a
    q = p.copy()
    q[[0, 1]] = q[[1, 0]]  # the same relabelling but for the hub
    assert p[0] == 0 and q[0] != 0
    raw_jump = _shared(raw_a, raw_b, p, n) - _shared(raw_a, raw_b, q, n)
    dc_jump = _shared(a, b, p, n) - _shared(a, b, q, n)
    # the raw count of shared edges jumps by about n when the hubs align; the degree-corrected
    # count by about as much as a dozen ordinary edges (each weighing about 1 / deg^2)
    ordinary = np.median(a[3]) * np.median(b[3])
    assert raw_jump > 0.5 * n
    assert dc_jump < 20 * ordinary < 0.2 * raw_jump * ordinary
    # the statistic is symmetric in the relabelling's direction only through the degrees:
    # the identity equals the dot product of the weighted edge sets
    common = np.intersect1d(a[0], b[0])
    wa = dict(zip(a[0], a[3]))
    wb = dict(zip(b[0], b[3]))
    assert np.isclose(_shared(a, b, np.arange(n), n), sum(wa[c] * wb[c] for c in common))


def test_gate_keeps_hub_views_and_drops_noise():
    d = make_multiview_mixture(150, 3, 2, 8, 3.0, random_state=4)
    rng = np.random.default_rng(1)
    g = multiview_graph([*d.views, rng.normal(size=(150, 30))], return_views=True)[1]
    hubbed = [_with_hub(g[0]), _with_hub(g[1]), _with_hub(g[2])]
    a = cluster_agreement_weights(hubbed, 3, random_state=0)
    assert a[-1] == 0 and np.allclose(a[:-1], 0.5)
    with pytest.raises(ValueError, match="n_perm"):
        cluster_agreement_weights(hubbed, 3, n_perm=1)
