"""DSRL clustering, round 5 (issue 26): when no pair of views agrees beyond chance, each view is
tested alone against column-permuted copies of its features (parallel analysis), so a view of
pure noise is left out while weak real views keep their weight."""

import numpy as np
import pytest
import torch

from glassnet.datasets.multiview import make_multiview_mixture
from glassnet.estimators.dsrl import DSRLClustering
from glassnet.nn.dsrl import cluster_agreement_weights, feature_structure_z, multiview_graph

torch.set_num_threads(1)


def _weak_text_views(n=200, k=4, n_views=3, n_words=500, boost=0.1, draw=0):
    """Poisson word counts with log-normal document lengths (hub-heavy kNN graphs) and a topic
    per cluster too weak for any two views to agree beyond chance, plus one view of 30
    N(0, 1) columns (last)."""
    y = np.arange(n) % k
    np.random.default_rng(draw).shuffle(y)
    views = []
    for v in range(n_views):
        rng = np.random.default_rng([draw, v])
        base = rng.dirichlet(np.full(n_words, 0.1))
        topics = []
        for _ in range(k):
            t = base.copy()
            t[rng.choice(n_words, 40, replace=False)] += boost / 40
            topics.append(t / t.sum())
        lens = rng.lognormal(3.5, 1.0, n)
        views.append(rng.poisson(np.array(topics)[y] * lens[:, None]).astype(float))
    return [*views, np.random.default_rng(draw).normal(size=(n, 30))], y


def test_structure_score_separates_noise_from_views_with_groups():
    d = make_multiview_mixture(200, 4, 1, 20, 6.0, random_state=0)
    noise = np.random.default_rng(1).normal(size=(200, 30))
    real = feature_structure_z(d.views[0], 3, random_state=0)
    assert real > 10 > feature_structure_z(noise, 3, random_state=0)
    # the same view with every column permuted on its own is a null draw: its score collapses
    shuffled = np.random.default_rng(2).permuted(d.views[0], axis=0)
    assert feature_structure_z(shuffled, 3, random_state=0) < 10
    # deterministic for a seed; the scale of the features does not matter
    assert feature_structure_z(d.views[0], 3, random_state=0) == real
    assert np.isclose(feature_structure_z(5.0 * d.views[0] + 3.0, 3, random_state=0), real)


def test_structure_score_errors():
    with pytest.raises(ValueError, match="2-D"):
        feature_structure_z(np.ones(5), 2)
    with pytest.raises(ValueError, match="n_null"):
        feature_structure_z(np.ones((5, 3)), 2, n_null=1)


def test_no_agreeing_pair_noise_view_gets_zero_real_views_keep_weight():
    views, _ = _weak_text_views()
    graphs = multiview_graph(views, return_views=True)[1]
    # the failure mode: no pair of views agrees, so the pair gate alone (round 4) falls back to
    # uniform weights and the noise view counts fully; this assertion is what round 4 fails
    assert np.allclose(cluster_agreement_weights(graphs, 4, random_state=0), 0.25)
    a = cluster_agreement_weights(graphs, 4, random_state=0, views=views)
    assert a[-1] == 0.0
    assert np.allclose(a[:-1], 1 / 3)
    with pytest.raises(ValueError, match="one entry per graph"):
        cluster_agreement_weights(graphs, 4, random_state=0, views=views[:-1])


def test_noise_view_leaves_the_fit_unchanged_when_no_pair_agrees():
    views, _ = _weak_text_views()
    kw = {"max_epochs": 5, "random_state": 0}
    m = DSRLClustering(4, **kw).fit(views[:-1])
    mn = DSRLClustering(4, **kw).fit(views)
    assert mn.view_weights_[-1] == 0.0 and np.allclose(mn.view_weights_[:-1], 1 / 3)
    assert np.allclose(m.view_weights_, 1 / 3)
    assert np.array_equal(m.labels_, mn.labels_)


def _strong_weak_views(n=240, k=4, d=20, draw=0):
    """One strong Gaussian view (separation 6) and three weak ones (separation 2)."""
    rng = np.random.default_rng(draw)
    y = np.arange(n) % k
    rng.shuffle(y)
    views = []
    for sep in (6.0, 2.0, 2.0, 2.0):
        means = rng.normal(0.0, sep / np.sqrt(2.0 * d), (k, d))
        views.append(means[y] + rng.normal(size=(n, d)))
    return views, y


def test_dominant_view_gets_the_largest_weight_and_equal_views_stay_averaged():
    """Round 6: the kept views are graded (NMI of each view's partition with the averaged kept
    graph's, ** 0.5) only when one view's score is at least twice the second's."""
    views, _ = _strong_weak_views()
    graphs = multiview_graph(views, return_views=True)[1]
    a = cluster_agreement_weights(graphs, 4, power=0.5, grade="dominant")
    assert a.sum() == pytest.approx(1.0)
    assert a[0] > 1.5 * a[1:].max()  # the strong view weighs most
    flat = cluster_agreement_weights(graphs, 4, power=0.0)
    np.testing.assert_allclose(flat, 0.25)  # power 0: the average, as rounds 3-5
    even = make_multiview_mixture(240, 4, 3, 20, 4.0, random_state=1)
    b = cluster_agreement_weights(multiview_graph(even.views, return_views=True)[1], 4, power=0.5, grade="dominant")
    np.testing.assert_allclose(b, 1.0 / 3.0)  # no view stands out: averaged
    with pytest.raises(ValueError, match="grade"):
        cluster_agreement_weights(graphs, 4, power=1.0, grade="nope")


def test_estimator_weights_the_strong_view_and_still_drops_noise():
    views, y = _strong_weak_views(draw=1)
    noise = np.random.default_rng(5).normal(size=(len(y), 30))
    m = DSRLClustering(4, random_state=0, max_epochs=3).fit([*views, noise])
    w = m.view_weights_
    assert w[-1] == 0.0 and w[0] == w.max() and w[0] > 1.5 * w[1:4].max()
