"""DSRL clustering, round 9: the per-view structure test compares a view with 30 column-permuted
copies at z > 5 (was 10 copies, z > 10), so a weakly structured real view is kept where it was
left out, and a view of pure noise still is not; co-reg is no longer the default last step."""

import sys
from pathlib import Path

import numpy as np
import torch

from glassnet.datasets.multiview import make_multiview_mixture
from glassnet.estimators.dsrl import DSRLClustering
from glassnet.nn.dsrl import cluster_agreement_weights, multiview_graph

torch.set_num_threads(1)


def _views(n=150, k=3):
    """Two agreeing mixture views, a view of 20 features that share one weak factor unrelated to
    the clusters (between round 8's threshold and round 9's), and 30 N(0, 1) columns (last)."""
    d = make_multiview_mixture(n, k, 2, 20, 6.0, random_state=0)
    rng = np.random.default_rng(1)
    weak = 0.45 * rng.normal(size=(n, 1)) @ rng.normal(size=(1, 20)) + rng.normal(size=(n, 20))
    return [*d.views, weak, np.random.default_rng(2).normal(size=(n, 30))]


def test_weak_structured_view_is_kept_and_noise_is_not():
    views = _views()
    graphs = multiview_graph(views, 10, return_views=True)[1]
    kw = {"random_state": 0, "views": views, "rescue": True}
    old = cluster_agreement_weights(graphs, 3, structure_z=10.0, n_null=10, **kw)  # round 8
    new = cluster_agreement_weights(graphs, 3, **kw)  # the defaults: z 5 over 30 copies
    assert old[2] == 0.0 and new[2] > 0.0  # the weak view: left out before, kept now
    assert old[3] == 0.0 and new[3] == 0.0  # the noise view: left out by both
    assert np.all(new[:2] > 0) and np.isclose(new.sum(), 1.0)


def test_default_last_step_has_no_coreg():
    sys.path.insert(0, str(Path(__file__).parent))
    from test_dsrl_noise import _weak_text_views

    views, _ = _weak_text_views()  # no pair of these views agrees
    m = DSRLClustering(4, max_epochs=2, random_state=0).fit(views[:-1])
    assert not m.coreg and m.graph_source_ in ("learned", "input")
    on = DSRLClustering(4, max_epochs=2, random_state=0, coreg=True).fit(views[:-1])
    assert on.graph_source_ == "coreg"  # still reachable
