"""DSRL clustering's per-view structure test and last step: a view that agrees with no other is
kept when its features share variation beyond column-permuted copies of themselves (z > 5
against 30 copies, so a weakly structured real view passes), a view of pure noise is not, and
co-regularised spectral clustering is an option, not the default last step."""

import numpy as np
import torch

import glassnet.estimators.dsrl as E
from glassnet.datasets.multiview import make_multiview_mixture
from glassnet.estimators._dsrl_params import GATE_RESCUE
from glassnet.nn.dsrl import cluster_agreement_weights, multiview_graph

torch.set_num_threads(1)


def _views(factor_scale, noise_scale, n=150, k=3):
    """Two agreeing mixture views, a view of 20 features that share one factor unrelated to the
    clusters (it agrees with no view, but is no noise), and 30 N(0, 1) columns (last)."""
    d = make_multiview_mixture(n, k, 2, 20, 6.0, random_state=0)
    rng = np.random.default_rng(1)
    factor = factor_scale * rng.normal(size=(n, 1)) @ rng.normal(size=(1, 20)) + noise_scale * rng.normal(size=(n, 20))
    return [*d.views, factor, np.random.default_rng(2).normal(size=(n, 30))], d.y


def test_rescue_keeps_a_structured_view_and_leaves_noise_out():
    views, _ = _views(1.0, 0.5)
    graphs = multiview_graph(views, 10, return_views=True)[1]
    off, agree = cluster_agreement_weights(graphs, 3, random_state=0, views=views,
                                           return_agree=True)
    on = cluster_agreement_weights(graphs, 3, random_state=0, views=views, rescue=True)
    assert agree and off[2] == 0.0 and off[3] == 0.0  # without the rescue: the agreeing pair only
    assert on[2] > 0.0 and on[3] == 0.0  # the structured view is kept, the noise view is not
    assert np.isclose(on.sum(), 1.0) and np.all(on[:2] > 0)


def test_estimator_default_rescues_and_noise_weight_stays_zero():
    views, y = _views(1.0, 0.5)
    assert GATE_RESCUE
    m = E.DSRLClustering(3, random_state=0, max_epochs=3).fit(views)
    assert m.view_weights_[2] > 0.0 and m.view_weights_[3] == 0.0
    assert m.labels_.shape == y.shape


def test_weak_structured_view_is_kept_and_noise_is_not():
    views, _ = _views(0.45, 1.0)  # a weak factor: between z 5 over 30 copies and z 10 over 10
    graphs = multiview_graph(views, 10, return_views=True)[1]
    kw = {"random_state": 0, "views": views, "rescue": True}
    strict = cluster_agreement_weights(graphs, 3, structure_z=10.0, n_null=10, **kw)
    default = cluster_agreement_weights(graphs, 3, **kw)  # z 5 over 30 copies
    assert strict[2] == 0.0 and default[2] > 0.0  # the weak view: left out by the strict test only
    assert strict[3] == 0.0 and default[3] == 0.0  # the noise view: left out by both
    assert np.all(default[:2] > 0) and np.isclose(default.sum(), 1.0)


def test_default_last_step_has_no_coreg():
    from test_dsrl_noise import _weak_text_views  # tests/ is on pytest's pythonpath

    views, _ = _weak_text_views()  # no pair of these views agrees
    m = E.DSRLClustering(4, max_epochs=2, random_state=0).fit(views[:-1])
    assert not m.coreg and m.graph_source_ in ("learned", "input")
    on = E.DSRLClustering(4, max_epochs=2, random_state=0, coreg=True).fit(views[:-1])
    assert on.graph_source_ == "coreg"  # still reachable
