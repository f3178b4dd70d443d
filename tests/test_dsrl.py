"""DSRL: the regulariser g and its prox xi_Theta, constraint (7), the unfolded net against ISTA
and the appendix's gradients (12)-(17), graphs, estimators, bad input, save/load."""

import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg
import torch
from scipy.sparse.csgraph import connected_components

import glassnet
from glassnet.datasets.multiview import make_multiview_mixture
from glassnet.estimators.dsrl import DSRLClassifier, DSRLClustering
from glassnet.metrics import clustering_accuracy, clustering_scores, majority_vote_accuracy, purity
from glassnet.nn.dsrl import (
    DSRLNet,
    DSRLThreshold,
    knn_heat_graph,
    label_propagation,
    leading_eigenvectors,
    multiview_graph,
    project_theta,
    spectral_embedding,
    spectral_labels,
    stack_views,
)
from glassnet.penalties import DSRLRegularizer, check_dsrl_theta, learned_threshold, soft_threshold

torch.set_num_threads(1)


def random_theta(rng):
    """A random Theta inside constraint (7), covering w1 < 1 and w1 > 1."""
    w1 = rng.uniform(0.2, 2.5)
    w2 = rng.uniform(0.05, 1.0)
    b2 = rng.uniform(0.1, 2.0)
    lo = max(0.0, (w1 - 1) / w1 * b2)
    b1 = rng.uniform(lo, b2)
    return w1, w2, b1, b2


def satisfies_7(w1, w2, b1, b2, tol=1e-10):
    return (w1 > 0 and 0 < w2 <= 1 + tol and b2 + tol >= b1
            and b1 + tol >= max(0.0, (w1 - 1) / w1 * b2))


# ---------------------------------------------------------------- g and xi

@pytest.mark.parametrize("seed", range(6))
def test_xi_is_numerical_prox_of_g(seed):
    rng = np.random.default_rng(seed)
    pen = DSRLRegularizer(*random_theta(rng))
    x = torch.linspace(-3, 3, 61, dtype=torch.float64)
    z = torch.linspace(-5, 5, 100_001, dtype=torch.float64)
    for step in (1.0, 0.6):
        if pen.w1 > 1 and step >= pen.w1 / (pen.w1 - 1):
            continue
        obj = (z[None, :] - x[:, None]) ** 2 / (2 * step) + pen.g(z)[None, :]
        numeric = z[obj.argmin(dim=1)]
        assert torch.allclose(pen.prox(x, step), numeric, atol=2e-4)
    # at step 1 the prox is xi_Theta itself
    assert torch.allclose(pen.prox(x, 1.0), learned_threshold(x, pen.w1, pen.w2, pen.b1, pen.b2),
                          atol=1e-14)


def test_g_nonnegative_under_7_and_negative_outside():
    rng = np.random.default_rng(0)
    z = torch.linspace(-50, 50, 20001, dtype=torch.float64)
    for _ in range(200):
        pen = DSRLRegularizer(*random_theta(rng))
        assert pen.g(z).min() >= -1e-12
        assert pen.value(z) >= 0
    # w2 > 1 (excluded by (7)) makes g negative for large |x| (appendix, case 2)
    bad = DSRLRegularizer.__new__(DSRLRegularizer)
    bad.w1, bad.w2, bad.b1, bad.b2, bad.lam = 1.0, 1.5, 0.5, 1.0, 1.0
    assert bad.g(z).min() < 0


def test_constraint_7_is_checked():
    with pytest.raises(ValueError, match="constraint \\(7\\)"):
        DSRLRegularizer(1.0, 1.2, 0.5, 1.0)  # w2 > 1
    with pytest.raises(ValueError, match="constraint \\(7\\)"):
        DSRLRegularizer(2.0, 0.5, 0.1, 1.0)  # b1 < (w1 - 1)/w1 b2 = 0.5
    with pytest.raises(ValueError, match="unique minimiser"):
        DSRLRegularizer(2.0, 0.5, 0.6, 1.0).prox(torch.zeros(3), 5.0)


def test_xi_reduces_to_soft_threshold():
    x = torch.linspace(-4, 4, 801, dtype=torch.float64)
    for b1, b2 in [(0.3, 0.3), (0.3, 1.7), (0.0, 2.0)]:
        xi = DSRLThreshold(1.0, 1.0, b1, b2)
        assert torch.allclose(xi(x), soft_threshold(x, b1), atol=1e-14)
    # and xi is odd and zero on the dead zone for any Theta
    rng = np.random.default_rng(3)
    th = random_theta(rng)
    assert torch.allclose(learned_threshold(-x, *th), -learned_threshold(x, *th))
    assert torch.all(learned_threshold(x, *th)[x.abs() < th[2]] == 0)


def test_projection_onto_7():
    rng = np.random.default_rng(1)
    for _ in range(300):
        th = rng.normal(0, 2, 4)
        p = project_theta(*th)
        assert satisfies_7(*p)
        assert np.allclose(project_theta(*p), p)  # idempotent
    for _ in range(50):  # feasible points are left alone
        th = random_theta(rng)
        assert np.allclose(project_theta(*th), th)
    # nearest feasible (b1, b2) for the clamped w's: compare with a brute-force grid
    w1, w2, b1, b2 = 2.0, 0.5, -0.3, 1.4
    p = project_theta(w1, w2, b1, b2)
    g = np.stack(np.meshgrid(np.linspace(0, 3, 601), np.linspace(0, 3, 601)), -1).reshape(-1, 2)
    ok = (g[:, 1] >= g[:, 0]) & (g[:, 0] >= 0.5 * g[:, 1])
    d = ((g[ok] - [b1, b2]) ** 2).sum(1)
    assert abs(np.sqrt(d.min()) - np.hypot(p[2] - b1, p[3] - b2)) < 5e-3


# ---------------------------------------------------------------- the unfolded net

def test_ista_is_the_net_with_soft_threshold_and_fixed_params():
    rng = np.random.default_rng(0)
    W = torch.as_tensor(rng.uniform(-1, 1, (30, 30)))
    lam, L, t = 0.3, 2.0, 7
    net = DSRLNet.ista(lam, L=L, n_layers=t)
    assert not any(p.requires_grad for p in net.parameters())
    X = W.clone()
    for _ in range(t):  # ISTA on 1/2 ||X - W||^2 + lam ||X||_1
        X = soft_threshold(X - (X - W) / L, lam / L)
    assert torch.allclose(net(W), X, atol=1e-14)
    # enough layers reach the exact minimiser soft_threshold(W, lam)
    assert torch.allclose(DSRLNet.ista(lam, L=L, n_layers=80)(W), soft_threshold(W, lam), atol=1e-12)


def test_net_on_sparse_values_equals_dense_net():
    rng = np.random.default_rng(1)
    d = make_multiview_mixture(60, 3, 2, 5, 4.0, random_state=0)
    W = multiview_graph(d.views, 5)
    net = DSRLNet(5, theta=(1.3, 0.7, 0.1, 0.4), L=1.7, tied=False)
    with torch.no_grad():
        for L in net.L:
            L.fill_(rng.uniform(1, 3))
        dense = net(torch.as_tensor(W.toarray()))
        vals = net(torch.as_tensor(W.data))
    G = W.copy()
    G.data = vals.numpy()
    assert np.allclose(G.toarray(), dense.numpy(), atol=1e-14)


def _appendix_gradients(Wv, theta, L, t):
    """dJ/d(w1, w2, b1, b2, L) by the appendix's recursion, eqs. (10)-(17), forward mode."""
    w1, w2, b1, b2 = theta
    X = Wv.copy()
    dX = np.zeros((5,) + Wv.shape)  # d X_(i) / d (w1, w2, b1, b2, L)
    for _ in range(t):
        gradf = X - Wv
        Z = X - gradf / L
        hi, mid = Z >= b2, (Z >= b1) & (Z < b2)
        zero = (Z >= -b1) & (Z < b1)
        mneg, hneg = (Z >= -b2) & (Z < -b1), Z < -b2
        # eq. (14): slope of xi at Z
        slope = np.select([hi, mid, zero, mneg, hneg], [w2, w1, 0.0, w1, w2])
        # eqs. (12), (13): partial derivatives w.r.t. Theta at fixed X_(i-1)
        p_w1 = np.select([hi, mid, zero, mneg, hneg], [b2 - b1, Z - b1, 0.0, Z + b1, b1 - b2])
        p_w2 = np.select([hi, hneg], [Z - b2, Z + b2], 0.0)
        p_b1 = np.select([Z >= b1, Z < -b1], [-w1, w1], 0.0)
        p_b2 = np.select([hi, hneg], [w1 - w2, w2 - w1], 0.0)
        # eq. (17): partial w.r.t. L at fixed X_(i-1)
        p_L = slope * gradf / L**2
        dZ_dXprev = 1.0 - 1.0 / L  # grad f(X) = X - W
        # eqs. (11), (16): total = partial + chain through X_(i-1)
        dX = np.stack([p_w1, p_w2, p_b1, p_b2, p_L]) + slope * dZ_dXprev * dX
        X = learned_threshold(torch.as_tensor(Z), *theta).numpy()
    return np.array([((X - Wv) * d).sum() for d in dX])  # eqs. (10), (15)


@pytest.mark.parametrize("seed", range(3))
def test_appendix_gradients_equal_autograd(seed):
    rng = np.random.default_rng(seed)
    Wv = rng.uniform(-2, 2, (15, 15))
    theta, L, t = random_theta(rng), rng.uniform(1.1, 3.0), 6
    net = DSRLNet(t, theta=theta, L=L)
    loss = net.loss(net(torch.as_tensor(Wv)), torch.as_tensor(Wv))
    loss.backward()
    xi = net.xi[0]
    auto = np.array([xi.w1.grad, xi.w2.grad, xi.b1.grad, xi.b2.grad, net.L[0].grad], dtype=float)
    assert np.allclose(auto, _appendix_gradients(Wv, theta, L, t), rtol=1e-10, atol=1e-10)
    assert np.abs(auto).max() > 1e-3  # the test is not vacuous


def test_constraint_7_holds_after_training():
    d = make_multiview_mixture(150, 3, 2, 8, 4.0, random_state=0)
    for tied in (True, False):
        # a large learning rate pushes Theta against the boundary of (7)
        m = DSRLClustering(3, objective="paper", max_epochs=40, lr=0.5, init_quantile=0.5,
                           tied=tied, random_state=0).fit(d.views)
        for th in np.atleast_2d(m.theta_):
            assert satisfies_7(*th)
            check_dsrl_theta(*th)
        assert np.all(np.atleast_1d(m.L_) >= 1.0)
        assert m.graph_.data.min() > 0 and abs(m.graph_ - m.graph_.T).max() < 1e-12
        assert len(m.loss_curve_) == 40


# ---------------------------------------------------------------- graphs, spectral, propagation

def test_spectral_uses_d_minus_half():
    rng = np.random.default_rng(0)
    A = sp.random(40, 40, density=0.3, random_state=1)
    A = (A + A.T).tocsr()
    E = spectral_embedding(A, 3, 0)
    d = np.asarray(A.sum(1)).ravel()
    N = A.toarray() / np.sqrt(np.outer(d, d))  # D^{-1/2} A D^{-1/2}
    top = np.linalg.eigh(N)[1][:, -3:]
    # same span as the top eigenvectors (rows normalised afterwards)
    raw = top / np.linalg.norm(top, axis=1, keepdims=True)
    P = raw @ np.linalg.pinv(raw)
    assert np.allclose(P @ E, E, atol=1e-8)
    # two cliques with a weak link are split exactly
    B = np.kron(np.eye(2), np.ones((10, 10))) + 0.01 * rng.uniform(size=(20, 20))
    B = (B + B.T) / 2
    np.fill_diagonal(B, 0)
    lab = spectral_labels(B, 2, 5, 0)
    assert clustering_accuracy(np.repeat([0, 1], 10), lab) == 1.0


def test_spectral_embedding_finds_every_component():
    """On a disconnected graph the eigenvalue 1 repeats once per component; Lanczos on the
    whole matrix found it twice of five times (ARI 0.58 on these blobs, n > 200 so the sparse
    solver runs)."""
    from sklearn.cluster import KMeans
    from sklearn.datasets import make_blobs, make_circles
    from sklearn.metrics import adjusted_rand_score

    X, y = make_blobs(500, 10, centers=5, random_state=3)
    W = knn_heat_graph(X)
    assert connected_components(W, directed=False)[0] == 5
    assert adjusted_rand_score(y, spectral_labels(W, 5, 10, 0)) == 1.0
    assert adjusted_rand_score(y, DSRLClustering(5, random_state=0).fit(X).labels_) == 1.0
    # stray components (a pair, a triple: below a tenth of the mean cluster size) are left out
    # as lone nodes are, instead of taking two of the five clusters with their eigenvalues 1
    stray = sp.block_diag([W, sp.csr_matrix(np.ones((2, 2)) - np.eye(2)),
                           sp.csr_matrix(np.ones((3, 3)) - np.eye(3)), sp.csr_matrix((1, 1))]).tocsr()
    E = spectral_embedding(stray, 5, 0)
    assert np.allclose(E[500:], 0)
    assert adjusted_rand_score(y, KMeans(5, n_init=10, random_state=0).fit_predict(E)[:500]) == 1.0
    # scikit-learn's two rings are two components, each a cluster
    Xc, yc = make_circles(600, noise=0.05, factor=0.5, random_state=0)
    assert adjusted_rand_score(yc, DSRLClustering(2, random_state=0).fit(Xc).labels_) == 1.0
    # one component with edges and lone nodes besides: no repeated eigenvalue, solved as before
    one = knn_heat_graph(X[y == 0])
    lone = sp.block_diag([one, sp.csr_matrix((3, 3))]).tocsr()
    s = 1 / np.sqrt(np.r_[np.asarray(one.sum(1)).ravel(), np.ones(3)])
    s[-3:] = 0
    n = lone.shape[0]  # <= 200: the dense solver
    ref = scipy.linalg.eigh((sp.diags(s) @ lone @ sp.diags(s)).toarray(), subset_by_index=[n - 2, n - 1])[1]
    ref[:-3] /= np.linalg.norm(ref[:-3], axis=1, keepdims=True)
    assert np.allclose(spectral_embedding(lone, 2, 0), ref, rtol=0, atol=1e-12)


def test_leading_eigenvectors_match_dense_solver():
    """The returned vectors span the k leading eigenvalues of the whole matrix, with and
    without components (and lone nodes); on a tie the larger component comes first."""
    rng = np.random.default_rng(0)
    blocks = [sp.random(m, m, density=0.3, random_state=i) for i, m in enumerate((260, 240, 30))]
    A = sp.block_diag([(b + b.T) for b in blocks] + [sp.csr_matrix((3, 3))]).tocsr()  # 3 lone nodes
    s = 1 / np.sqrt(np.maximum(np.asarray(A.sum(1)).ravel(), 1e-300))
    s[np.asarray(A.sum(1)).ravel() == 0] = 0
    N = sp.diags(s) @ A @ sp.diags(s)
    mu = np.linalg.eigvalsh(N.toarray())[::-1]
    for k in (2, 3, 5):
        U = leading_eigenvectors(N, k, rng.uniform(-1, 1, N.shape[0]))
        assert np.allclose(U.T @ U, np.eye(k), atol=1e-8)
        assert np.allclose(np.sort(np.diag(U.T @ N @ U))[::-1], mu[:k], atol=1e-7)
    U = leading_eigenvectors(N, 2, rng.uniform(-1, 1, N.shape[0]))  # three components tie at 1
    assert (np.abs(U[:260]) > 0).any(0).sum() == 1 and (np.abs(U[260:500]) > 0).any(0).sum() == 1
    assert np.allclose(U[500:], 0)
    # a connected graph: the same vectors as the sparse solver gives directly
    C = (blocks[0] + blocks[0].T).tocsr()
    v0 = rng.uniform(-1, 1, 260)
    ref = sp.linalg.eigsh(C, k=3, which="LA", v0=v0, tol=1e-8)[1]
    assert np.array_equal(leading_eigenvectors(C, 3, v0), ref)


def test_label_propagation_is_the_linear_solve():
    A = sp.random(30, 30, density=0.2, random_state=2)
    A = (A + A.T).tocsr()
    Y = np.zeros((30, 3))
    Y[[0, 1, 2], [0, 1, 2]] = 1
    D = np.diag(np.asarray(A.sum(1)).ravel())
    F = np.linalg.inv(np.eye(30) + 0.7 * (D - A.toarray())) @ Y
    assert np.allclose(label_propagation(A, Y, 0.7), F)


def test_clustering_metrics():
    y = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    assert clustering_accuracy(y, (y + 1) % 3) == 1.0  # any relabelling
    pred = np.array([0, 0, 1, 1, 1, 1, 1, 1])  # 2 clusters for 3 classes
    assert clustering_accuracy(y, pred) == pytest.approx(5 / 8)
    assert purity(y, pred) == majority_vote_accuracy(y, pred) == pytest.approx(5 / 8)
    s = clustering_scores(y, y)
    assert s["nmi"] == pytest.approx(1) and s["ari"] == pytest.approx(1)
    with pytest.raises(ValueError, match="differ in length"):
        clustering_accuracy(y, y[:-1])


# ---------------------------------------------------------------- estimators

@pytest.fixture(scope="module")
def mixture():
    return make_multiview_mixture(200, 4, 3, 10, 4.0, random_state=0)


def test_clustering_recovers_mixture_and_views_equal_precomputed(mixture, monkeypatch):
    import glassnet.nn.dsrl_gate as G

    d = mixture
    m = DSRLClustering(4, random_state=0).fit(d.views)
    assert clustering_accuracy(d.y, m.labels_) > 0.95
    # with uniform view weights, fitting the views is fitting their averaged graph (the
    # fallback's criterion is per view, so it is switched off here: every cut scores 0; late
    # fusion, which needs the views, too)
    W = multiview_graph(d.views)
    with monkeypatch.context() as mp:
        mp.setattr(G, "regularised_ncut", lambda *a: 0.0)  # the fallback, nn.dsrl_select.last_step
        mu = DSRLClustering(4, view_weights="uniform", late_fusion=False,
                            random_state=0).fit(d.views)
        m2 = DSRLClustering(4, affinity="precomputed", random_state=0).fit(W)
    assert mu.graph_source_ == m2.graph_source_ == "learned"
    assert np.array_equal(mu.labels_, m2.labels_)
    # (1/3 as softmax(0) vs as a division: rounding, amplified by 10 Adam steps)
    assert abs(mu.graph_ - m2.graph_).max() < 1e-5
    a = DSRLClustering(4, objective="paper", random_state=0).fit(d.views)
    b = DSRLClustering(4, objective="paper", affinity="precomputed", random_state=0).fit(W)
    assert abs(a.graph_ - b.graph_).max() < 1e-12 and np.allclose(a.view_weights_, 1 / 3)
    assert m.layer_sparsity_.shape == (11,) and m.layer_sparsity_[0] == 1 - W.nnz / 200**2
    # random_state reproduces the fit and leaves the caller's RNG alone
    state = torch.get_rng_state()
    m3 = DSRLClustering(4, random_state=0).fit(d.views)
    assert torch.equal(state, torch.get_rng_state())
    assert np.array_equal(m.labels_, m3.labels_)


def test_classifier_transductive_and_predict(mixture):
    d = mixture
    rng = np.random.default_rng(0)
    ys = np.full(200, -1)
    lab = rng.choice(200, 20, replace=False)
    ys[lab] = d.y[lab]
    c = DSRLClassifier(max_epochs=5, random_state=0).fit(d.views, ys)
    unl = ys == -1
    assert np.mean(c.transduction_[unl] == d.y[unl]) > 0.8
    assert np.array_equal(c.transduction_[lab], d.y[lab]) or np.mean(
        c.transduction_[lab] == d.y[lab]) > 0.9
    assert np.mean(c.predict(d.views) == c.transduction_) > 0.9  # out-of-sample extension
    assert c.predict_proba([v[:5] for v in d.views]).shape == (5, 4)
    # precomputed: predict takes affinities to the fitted samples
    W = multiview_graph(d.views)
    cu = DSRLClassifier(view_weights="uniform", max_epochs=5, random_state=0).fit(d.views, ys)
    cp = DSRLClassifier(affinity="precomputed", max_epochs=5, random_state=0).fit(W, ys)
    assert np.array_equal(cp.transduction_, cu.transduction_)
    assert np.mean(cp.predict(W[:30]) == cp.transduction_[:30]) > 0.8


def test_bad_input(mixture):
    d = mixture
    with pytest.raises(ValueError, match="same number of samples"):
        DSRLClustering(3).fit([d.views[0], d.views[1][:-1]])
    W = multiview_graph(d.views).toarray()
    A = W.copy()
    A[0, 1] += 0.5
    with pytest.raises(ValueError, match="not symmetric"):
        DSRLClustering(3, affinity="precomputed").fit(A)
    with pytest.raises(ValueError, match="negative"):
        DSRLClustering(3, affinity="precomputed").fit(W - 0.1 * (W > 0))
    with pytest.raises(ValueError, match="square"):
        DSRLClustering(3, affinity="precomputed").fit(W[:, :-1])
    with pytest.raises(ValueError, match="n_clusters=300 > n_samples=200"):
        DSRLClustering(300).fit(d.views)
    bad = d.views[0].copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        DSRLClustering(3).fit([bad, d.views[1]])
    with pytest.raises(ValueError, match="NaN"):
        DSRLClustering(3, affinity="precomputed").fit(np.full((3, 3), np.inf))
    with pytest.raises(ValueError, match="empty"):
        DSRLClustering(3).fit([])
    with pytest.raises(ValueError, match="0 sample"):
        DSRLClustering(3).fit(np.empty((0, 3)))
    ys = np.full(200, -1)
    ys[:5] = 1
    with pytest.raises(ValueError, match="only one class"):
        DSRLClassifier().fit(d.views, ys)
    with pytest.raises(ValueError, match="no labelled sample"):
        DSRLClassifier().fit(d.views, np.full(200, -1))
    for bad_label in (np.nan, np.inf):  # refused before the labels are read, with no warning
        yb = np.where(np.arange(200) < 40, d.y, -1).astype(float)
        yb[3] = bad_label
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ValueError, match="NaN or infinity"):
                DSRLClassifier().fit(d.views, yb)
    with pytest.raises(ValueError, match="affinity"):
        DSRLClustering(3, affinity="rbf").fit(d.views)
    c = DSRLClassifier(max_epochs=2, random_state=0).fit(d.views, np.where(np.arange(200) < 40, d.y, -1))
    with pytest.raises(ValueError, match="features"):
        c.predict([v[:, :-1] for v in d.views])


def test_save_load_round_trip(tmp_path, mixture):
    d = mixture
    m = DSRLClustering(4, max_epochs=5, random_state=0).fit(d.views)
    glassnet.save(m, tmp_path / "m")
    m2 = glassnet.load(tmp_path / "m")
    assert np.array_equal(m2.labels_, m.labels_)
    assert np.allclose(m2.theta_, m.theta_) and abs(m2.graph_ - m.graph_).max() == 0
    _, graphs, _ = multiview_graph(d.views, return_views=True)
    v = torch.as_tensor(stack_views(graphs)[1])
    with torch.no_grad():
        assert torch.equal(m2.module_(v), m.module_(v))
    assert np.array_equal(m2.view_weights_, m.view_weights_)
    ys = np.where(np.arange(200) < 40, d.y, -1)
    c = DSRLClassifier(max_epochs=5, random_state=0).fit(d.views, ys)
    glassnet.save(c, tmp_path / "c")
    c2 = glassnet.load(tmp_path / "c")
    assert np.array_equal(c2.predict(d.views), c.predict(d.views))
    assert c2.graph_source_ == c.graph_source_ and abs(c2.graph_ - c.graph_).max() == 0
    # fitted attributes are plain data (numpy, scalars, lists, scipy.sparse, GlassModules)
    for est in (m, c):
        for k, val in vars(est).items():
            if k.endswith("_"):
                assert isinstance(val, (np.ndarray, list, int, float, str, sp.spmatrix, sp.sparray,
                                        glassnet.nn._base.GlassModule)), k


# ---------------------------------------------------------------- loaders

def test_loaders_missing_files_and_unknown_names(tmp_path):
    from glassnet.datasets.multiview import load_dsrl_graph, load_multiview

    with pytest.raises(FileNotFoundError, match="weilyshmtu/Multi-view-DataSets"):
        load_multiview("MSRC-v1", tmp_path)
    with pytest.raises(FileNotFoundError, match="chenzl23/DSRL"):
        load_dsrl_graph("ALOI", tmp_path)
    with pytest.raises(ValueError, match="unknown multi-view set"):
        load_multiview("Caltech101-7", tmp_path)
    with pytest.raises(ValueError, match="no released DSRL graph"):
        load_dsrl_graph("Handwritten", tmp_path)


def test_loaders_on_real_files(data_dir):
    from glassnet.datasets.multiview import load_dsrl_graph, load_multiview

    orl = load_multiview("ORL", data_dir)  # stored features x samples: transposed
    assert [v.shape for v in orl.views] == [(400, 512), (400, 59), (400, 864), (400, 254)]
    assert orl.n_classes == 40 and orl.y.min() == 0
    W = load_dsrl_graph("MSRC-v1", data_dir)
    assert W.shape == (210, 210) and abs(W - W.T).max() == 0 and W.diagonal().max() == 0
    # the authors' graph goes with the rows of the same set: spectral clustering finds it
    lab = spectral_labels(W, 7, 10, 0)
    assert clustering_accuracy(load_multiview("MSRC-v1", data_dir).y, lab) > 0.7
