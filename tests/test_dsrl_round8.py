"""DSRL clustering, round 8: when some pair of views agrees, a view that agrees with no other is
still kept if its features share variation beyond column-permuted copies of themselves (the
per-view test of round 5); a view of pure noise fails that test and stays at weight 0."""

import numpy as np
import torch

import glassnet.estimators.dsrl as E
from glassnet.datasets.multiview import make_multiview_mixture
from glassnet.nn.dsrl import cluster_agreement_weights, multiview_graph

torch.set_num_threads(1)


def _views(n=150, k=3):
    """Two agreeing mixture views, a view whose 20 features share one factor unrelated to the
    clusters (it agrees with no view, but is no noise), and 30 N(0, 1) columns (last)."""
    d = make_multiview_mixture(n, k, 2, 20, 6.0, random_state=0)
    rng = np.random.default_rng(1)
    factor = rng.normal(size=(n, 1)) @ rng.normal(size=(1, 20)) + 0.5 * rng.normal(size=(n, 20))
    return [*d.views, factor, np.random.default_rng(2).normal(size=(n, 30))], d.y


def test_rescue_keeps_a_structured_view_and_leaves_noise_out():
    views, _ = _views()
    graphs = multiview_graph(views, 10, return_views=True)[1]
    off, agree = cluster_agreement_weights(graphs, 3, random_state=0, views=views,
                                           return_agree=True)
    on = cluster_agreement_weights(graphs, 3, random_state=0, views=views, rescue=True)
    assert agree and off[2] == 0.0 and off[3] == 0.0  # round 7: only the agreeing pair
    assert on[2] > 0.0 and on[3] == 0.0  # the structured view is kept, the noise view is not
    assert np.isclose(on.sum(), 1.0) and np.all(on[:2] > 0)


def test_estimator_default_rescues_and_noise_weight_stays_zero():
    views, y = _views()
    assert E.GATE_RESCUE
    m = E.DSRLClustering(3, random_state=0, max_epochs=3).fit(views)
    assert m.view_weights_[2] > 0.0 and m.view_weights_[3] == 0.0
    assert m.labels_.shape == y.shape
