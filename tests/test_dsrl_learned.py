"""DSRL's learned objectives (issue 26): the differentiable propagation solve, the eigengap
criterion and its gradient, cross-view agreement weights (a pure-noise view gets a small weight),
the clustering default's cluster-agreement gate (a pure-noise view gets exactly 0 and the fit is
the one without it), one kNN search per view, the device parameter and bad values."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from glassnet.datasets.multiview import make_multiview_mixture
from glassnet.estimators.dsrl import DSRLClassifier, DSRLClustering
from glassnet.metrics import clustering_scores
from glassnet.nn.dsrl import (
    cluster_agreement_weights,
    knn_heat_graph,
    label_propagation,
    link_labelled_pairs,
    multiview_graph,
    propagate,
    spectral_gap_loss,
    stack_views,
    view_agreement_weights,
)

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def mix():
    return make_multiview_mixture(120, 3, 3, 8, 4.0, random_state=0)


def test_stack_views_is_the_weighted_sum(mix):
    _, graphs, _ = multiview_graph(mix.views, 5, return_views=True)
    P, V = stack_views(graphs)
    a = np.array([0.5, 0.3, 0.2])
    G = P.copy()
    G.data = a @ V
    ref = sum(w * g for w, g in zip(a, graphs))
    assert abs(G - ref).max() < 1e-15
    assert abs(multiview_graph(mix.views, 5, weights=a) - ref).max() < 1e-15
    with pytest.raises(ValueError, match="one entry per view"):
        multiview_graph(mix.views, 5, weights=[1.0])


def test_one_knn_search_per_view_and_bandwidths(mix, monkeypatch):
    from sklearn.neighbors import NearestNeighbors

    calls = []
    orig = NearestNeighbors.fit
    monkeypatch.setattr(NearestNeighbors, "fit", lambda self, X, *a, **k: (calls.append(1), orig(self, X))[1])
    m = DSRLClustering(3, max_epochs=1, random_state=0).fit(mix.views)
    assert len(calls) == len(mix.views)
    ts = [knn_heat_graph(v, 10, return_bandwidth=True)[1] for v in mix.views]
    assert np.allclose(m.view_bandwidth_, ts)


def test_propagate_is_the_linear_solve_and_differentiable(mix):
    W = multiview_graph(mix.views, 5).tocoo()
    x = torch.tensor(W.data, requires_grad=True)
    Y = torch.zeros(120, 3, dtype=torch.float64)
    Y[[0, 1, 2], mix.y[[0, 1, 2]]] = 1
    F = propagate(x, W.row, W.col, 120, Y, 0.7)
    assert np.allclose(F.detach().numpy(), label_propagation(W.tocsr(), Y.numpy(), 0.7), atol=1e-9)
    sub = torch.tensor(W.data[:40], requires_grad=True)  # gradcheck on a part of the values

    def f(s):
        return (propagate(torch.cat([s, x.detach()[40:]]), W.row, W.col, 120, Y, 0.7)[5:30] ** 2).sum()

    assert torch.autograd.gradcheck(f, (sub,), eps=1e-6, atol=1e-6)
    # duplicate entries add up (the labelled pairs appended to the graph's values)
    r, c = np.r_[W.row, 0, 1], np.r_[W.col, 1, 0]
    F2 = propagate(torch.cat([x.detach(), torch.ones(2, dtype=torch.float64)]), r, c, 120, Y, 0.7)
    A = W.tocsr() + sp.csr_matrix(([1.0, 1.0], ([0, 1], [1, 0])), shape=(120, 120))
    assert np.allclose(F2.numpy(), label_propagation(A, Y.numpy(), 0.7), atol=1e-9)


def test_implicit_label_groups_equal_the_linked_pairs_in_value_and_gradient(mix):
    """``groups`` links same-code members at weight 1 without storing the pairs: the solve and
    the gradient in the stored values equal those with the pairs appended (duplicates add)."""
    W = multiview_graph(mix.views, 5).tocoo()
    rng = np.random.default_rng(0)
    members = rng.choice(120, 45, replace=False)
    codes = rng.integers(0, 3, 45) * 7  # any integers: codes need not be 0..k-1
    Y = torch.zeros(120, 3, dtype=torch.float64)
    Y[members, codes // 7] = 1.0
    L = link_labelled_pairs(sp.csr_matrix((120, 120)), members, codes).tocoo()
    x1 = torch.tensor(W.data, requires_grad=True)
    x2 = torch.tensor(W.data, requires_grad=True)
    implicit = propagate(x1, W.row, W.col, 120, Y, 0.7, groups=(members, codes))
    explicit = propagate(torch.cat([x2, torch.ones(L.nnz, dtype=torch.float64)]),
                         np.r_[W.row, L.row], np.r_[W.col, L.col], 120, Y, 0.7)
    np.testing.assert_allclose(implicit.detach().numpy(), explicit.detach().numpy(), atol=1e-10)
    A = W.tocsr() + L.tocsr()
    np.testing.assert_allclose(implicit.detach().numpy(), label_propagation(A, Y.numpy(), 0.7),
                               atol=1e-9)
    weights = torch.randn(120, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    (implicit * weights).sum().backward()
    (explicit * weights).sum().backward()
    np.testing.assert_allclose(x1.grad.numpy(), x2.grad.numpy(), atol=1e-10)
    for bad in [(members, codes[:-1]), (np.r_[members, members[:1]], np.r_[codes, codes[:1]])]:
        with pytest.raises(ValueError, match="groups"):
            propagate(x1, W.row, W.col, 120, Y, 0.7, groups=bad)


def test_classifier_propagates_over_the_learned_graph_with_labelled_pairs_set_to_one(mix):
    """The fit's last step equals the released code's: same-class labelled pairs of the learned
    graph set to 1 (stored values overwritten), then ``F = (I + alpha (D - W))^{-1} Y``."""
    X = np.hstack(mix.views)
    y = np.where(np.random.default_rng(2).random(120) < 0.5, mix.y, -1)
    est = DSRLClassifier(random_state=0, max_epochs=5).fit(X, y)
    idx = np.flatnonzero(y >= 0)
    code = np.searchsorted(est.classes_, y[idx])
    W = link_labelled_pairs(est.graph_, idx, code)
    Y = np.zeros((120, est.classes_.size))
    Y[idx, code] = 1.0
    F = np.clip(label_propagation(W, Y, est.alpha), 0, None)
    np.testing.assert_allclose(est.label_distributions_, F / F.sum(1, keepdims=True), atol=1e-6)


def _two_cliques(n=20, eps=0.0):
    A = np.kron(np.eye(2), np.ones((n // 2, n // 2))) + eps
    np.fill_diagonal(A, 0)
    return sp.coo_matrix(A)


def test_eigengap_values_gradient_and_no_trivial_minimiser(mix):
    W = multiview_graph(mix.views, 5).tocoo()
    x = torch.tensor(W.data, requires_grad=True)
    tau, k = 0.3, 3
    loss, mu, _ = spectral_gap_loss(x, W.row, W.col, 120, k, tau)
    A = W.toarray()
    s = 1 / np.sqrt(A.sum(1) + tau)
    ev = np.sort(np.linalg.eigvalsh(s[:, None] * (A + tau / 120) * s[None, :]))[::-1]
    assert np.allclose(mu, ev[: k + 1], atol=1e-10) and np.isclose(mu[0], 1.0)
    assert np.isclose(float(loss.detach()), ev[k] - ev[k - 1])
    loss.backward()  # exact eigenvalue derivative: against central differences
    e = torch.as_tensor(np.random.default_rng(0).normal(size=x.shape[0]))
    h = 1e-6
    fd = (spectral_gap_loss(x.detach() + h * e, W.row, W.col, 120, k, tau)[0]
          - spectral_gap_loss(x.detach() - h * e, W.row, W.col, 120, k, tau)[0]) / (2 * h)
    assert np.isclose(float(fd), float((x.grad * e).sum()), rtol=1e-5)
    # two cliques: gap close to its best (-1); the empty graph (what a threshold that removes
    # every edge gives) is no minimiser, nor is the identity on a noisy graph
    C = _two_cliques()
    best = float(spectral_gap_loss(torch.as_tensor(C.data), C.row, C.col, 20, 2, 0.1)[0])
    empty = float(spectral_gap_loss(torch.zeros(C.nnz, dtype=torch.float64), C.row, C.col, 20, 2, 0.1)[0])
    N = _two_cliques(eps=0.3)
    noisy = float(spectral_gap_loss(torch.as_tensor(N.data), N.row, N.col, 20, 2, 0.1)[0])
    assert best < -0.8 and empty == pytest.approx(0.0, abs=1e-9) and best < noisy < empty


def test_agreement_weights():
    rng = np.random.default_rng(0)
    d = make_multiview_mixture(150, 3, 3, 8, 4.0, random_state=1)
    _, g, _ = multiview_graph(d.views, return_views=True)
    a = view_agreement_weights(g)
    assert np.isclose(a.sum(), 1) and a.min() > 0.25
    assert np.allclose(view_agreement_weights([g[0], g[0]]), [0.5, 0.5])
    assert np.array_equal(view_agreement_weights([g[0]]), [1.0])
    _, gn, _ = multiview_graph([*d.views, rng.normal(size=(150, 30))], return_views=True)
    assert view_agreement_weights(gn)[-1] < 0.1


def test_cluster_agreement_gate():
    d = make_multiview_mixture(150, 3, 3, 8, 4.0, random_state=1)
    rng = np.random.default_rng(0)
    _, g, _ = multiview_graph([*d.views, rng.normal(size=(150, 30))], return_views=True)
    a = cluster_agreement_weights(g, 3, random_state=0)
    # the noise view's partition shares no information with the others beyond chance: exactly 0;
    # the informative views are averaged (power 0)
    assert a[-1] == 0 and np.allclose(a[:-1], 1 / 3)
    # appending the noise view leaves the other views' weights exactly as without it
    assert np.array_equal(cluster_agreement_weights(g[:-1], 3, random_state=0), a[:-1])
    # power > 0 grades the kept views by their mean AMI (a weaker view weighs less)
    weak = multiview_graph([d.views[0], d.views[1], d.views[2] + 3 * rng.normal(size=(150, 8))],
                           return_views=True)[1]
    a2 = cluster_agreement_weights(weak, 3, power=2, random_state=0)
    assert np.isclose(a2.sum(), 1) and a2[2] < min(a2[0], a2[1])
    assert np.array_equal(cluster_agreement_weights(g[:1], 3), [1.0])
    # no pair above chance (two noise views): uniform
    noise2 = multiview_graph([rng.normal(size=(150, 30)) for _ in range(2)], return_views=True)[1]
    assert np.allclose(cluster_agreement_weights(noise2, 3, random_state=0), 0.5)


def test_clustering_default_drops_a_noise_view_exactly():
    d = make_multiview_mixture(200, 4, 3, 10, 3.0, random_state=2)
    noise = np.random.default_rng(0).normal(size=(200, 30))
    clean = DSRLClustering(4, max_epochs=5, random_state=0).fit(d.views)
    noisy = DSRLClustering(4, max_epochs=5, random_state=0).fit([*d.views, noise])
    assert noisy.view_weights_[-1] == 0 and np.allclose(noisy.view_weights_[:-1], 1 / 3)
    assert np.array_equal(noisy.labels_, clean.labels_)
    assert abs(noisy.graph_ - clean.graph_).max() == 0


def test_pure_noise_view_gets_a_small_weight_and_changes_little():
    d = make_multiview_mixture(200, 4, 3, 10, 3.0, random_state=2)
    noise = np.random.default_rng(0).normal(size=(200, 30))
    clean = DSRLClustering(4, view_weights="agreement", random_state=0).fit(d.views)
    noisy = DSRLClustering(4, view_weights="agreement", random_state=0).fit([*d.views, noise])
    assert noisy.view_weights_[-1] < 0.1  # uniform over 4 views: 0.25
    assert np.isclose(noisy.view_weights_.sum(), 1) and noisy.view_weights_[:-1].min() > 0.2
    if noisy.view_weights_[-1] == 0:  # left out: the fit is the one without it
        assert np.array_equal(noisy.labels_, clean.labels_)
    delta = abs(clustering_scores(d.y, noisy.labels_)["nmi"] - clustering_scores(d.y, clean.labels_)["nmi"])
    assert delta < 0.02
    # the paper objective averages the views
    paper = DSRLClustering(4, objective="paper", max_epochs=2, random_state=0).fit([*d.views, noise])
    assert np.allclose(paper.view_weights_, 0.25)


def test_learned_clustering_objective_moves_theta_and_lowers_the_gap(mix):
    m = DSRLClustering(3, random_state=0).fit(mix.views)
    assert m.loss_curve_[-1] < m.loss_curve_[0] < 0  # minus the eigengap
    assert not np.allclose(m.theta_, DSRLClustering(3, max_epochs=1, random_state=0).fit(mix.views).theta_)
    assert clustering_scores(mix.y, m.labels_)["acc"] > 0.95
    # trained view weights move with Theta and stay on the simplex
    t = DSRLClustering(3, view_weights="trained", max_epochs=5, random_state=0).fit(mix.views)
    a0 = view_agreement_weights(multiview_graph(mix.views, return_views=True)[1])
    assert not np.allclose(t.view_weights_, a0) and np.isclose(t.view_weights_.sum(), 1)


def test_learned_classifier_lowers_the_heldout_loss(mix):
    ys = np.full(120, -1)
    lab = np.random.default_rng(0).choice(120, 15, replace=False)
    ys[lab] = mix.y[lab]
    c = DSRLClassifier(max_epochs=8, random_state=0).fit(mix.views, ys)
    assert min(c.loss_curve_) < c.loss_curve_[0]
    assert np.mean(c.transduction_[ys == -1] == mix.y[ys == -1]) > 0.9
    assert np.isclose(c.view_weights_.sum(), 1)
    assert c.graph_source_ == "learned"  # it beats its input graph here


def test_classifier_keeps_the_input_graph_when_learning_does_not_beat_it(mix):
    """Thresholds at the largest input value empty the first layer's graph: every held-out
    label is then predicted uniform, the input graph scores better on the same folds, and the
    labels are propagated over the weighted input graph itself."""
    ys = np.full(120, -1)
    lab = np.random.default_rng(0).choice(120, 15, replace=False)
    ys[lab] = mix.y[lab]
    c = DSRLClassifier(max_epochs=2, init_quantile=1.0, random_state=0).fit(mix.views, ys)
    assert c.graph_source_ == "input"
    W = multiview_graph(c.fit_views_, c.n_neighbors_, standardize=False, weights=c.view_weights_)
    assert abs(c.graph_ - W).max() < 1e-12
    idx = np.flatnonzero(ys >= 0)
    code = np.searchsorted(c.classes_, ys[idx])
    Y = np.zeros((120, c.classes_.size))
    Y[idx, code] = 1.0
    F = np.clip(label_propagation(link_labelled_pairs(W, idx, code), Y, c.alpha), 0, None)
    np.testing.assert_allclose(c.label_distributions_, F / F.sum(1, keepdims=True), atol=1e-6)
    assert np.mean(c.transduction_[ys == -1] == mix.y[ys == -1]) > 0.7
    paper = DSRLClassifier(objective="paper", max_epochs=2, random_state=0).fit(mix.views, ys)
    assert paper.graph_source_ == "learned"  # the paper's objective has no such check


def test_classifier_with_one_label_per_class_propagates_over_the_input_graph(mix):
    """No held-out label can be predicted from the others: no training signal, a warning, and
    the input graph (this used to fail inside the training loop), with no epoch trained (it
    trained max_epochs epochs of zero loss)."""
    ys = np.full(120, -1)
    first = [int(np.flatnonzero(mix.y == c)[0]) for c in np.unique(mix.y)]
    ys[first] = mix.y[first]
    with pytest.warns(UserWarning, match="no class has two labelled samples"):
        c = DSRLClassifier(max_epochs=3, random_state=0).fit(mix.views, ys)
    assert c.graph_source_ == "input" and c.loss_curve_ == []
    W = multiview_graph(c.fit_views_, c.n_neighbors_, standardize=False, weights=c.view_weights_)
    assert abs(c.graph_ - W).max() < 1e-12
    assert np.mean(c.transduction_ == mix.y) > 0.5


def test_device_cpu_equals_auto_and_bad_values(mix):
    a = DSRLClustering(3, max_epochs=3, random_state=0, device="cpu").fit(mix.views)
    if not torch.cuda.is_available():
        b = DSRLClustering(3, max_epochs=3, random_state=0).fit(mix.views)
        assert np.array_equal(a.labels_, b.labels_) and abs(a.graph_ - b.graph_).max() == 0
    assert isinstance(a.view_weights_, np.ndarray) and isinstance(a.graph_, sp.csr_matrix)
    with pytest.raises(ValueError, match="device"):
        DSRLClustering(3, device="tpu").fit(mix.views)
    with pytest.raises(ValueError, match="objective"):
        DSRLClustering(3, objective="J").fit(mix.views)
    with pytest.raises(ValueError, match="view_weights"):
        DSRLClustering(3, view_weights="equal").fit(mix.views)
    with pytest.raises(ValueError, match="n_folds"):
        DSRLClassifier(n_folds=1).fit(mix.views, np.where(np.arange(120) < 30, mix.y, -1))
    with pytest.raises(ValueError, match="max_epochs"):
        DSRLClustering(3, max_epochs=0).fit(mix.views)
    with pytest.raises(ValueError, match="n_clusters < n_samples"):
        DSRLClustering(4).fit([v[:4] for v in mix.views])


def test_paper_objective_classifier_predicts_new_samples_from_every_view():
    """The paper objective averages the views into one graph, and view_weights_ came out [1.]:
    predict_proba zipped the views with it and read view 0 alone (accuracy 0.53 on data whose
    view 0 is noise); now every view weighs 1/V, as in the graph."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    V0, V1 = rng.normal(size=(60, 4)), np.eye(3)[y] * 4 + rng.normal(size=(60, 3))  # view 0: noise
    ys = np.full(60, -1)
    ys[::5] = y[::5]
    clf = DSRLClassifier(objective="paper", max_epochs=3, random_state=0).fit([V0, V1], ys)
    np.testing.assert_array_equal(clf.view_weights_, [0.5, 0.5])
    yn = np.repeat([0, 1, 2], 5)
    N0, N1 = rng.normal(size=(15, 4)), np.eye(3)[yn] * 4 + rng.normal(size=(15, 3))
    assert (clf.predict([N0, N1]) == yn).mean() > 0.9
    assert not np.allclose(clf.predict_proba([N0, N1]), clf.predict_proba([N0, rng.normal(size=(15, 3))]))
