"""DSRL's ``metric`` option (glassnet.nn.dsrl_views): TF-IDF cosine kNN graphs for text views."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.metrics import adjusted_rand_score

import glassnet
from glassnet.estimators.dsrl import DSRLClassifier, DSRLClustering
from glassnet.nn.dsrl_views import fit_view, is_text, neighbors, transform, view_metric


def _documents(seed, n=150, k=3, vocab=600):
    """Two bag-of-words views (disjoint halves of one vocabulary) of n documents from k topics,
    log-normal lengths (5 to a few hundred words): over 90% of the counts are zero."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n // k)
    topics = rng.dirichlet(np.full(vocab, 0.05), size=k)
    background = rng.dirichlet(np.ones(vocab))
    cols = np.split(rng.permutation(vocab), 2)
    views = []
    for c in cols:
        lengths = np.exp(rng.normal(3.0, 1.0, n)).astype(int) + 5
        p = 0.5 * topics[y][:, c] + 0.5 * background[c]
        views.append(np.stack([rng.multinomial(m, q / q.sum()) for m, q in zip(lengths, p)])
                     .astype(np.float64))
    return views, y


def test_tfidf_points_equal_scikit_learns_tfidf_and_use_the_fitted_idf():
    views, _ = _documents(0)
    V, new = views[0][:100], views[0][100:]
    ref = TfidfTransformer().fit(V)  # smooth idf, l2 rows: the same weights
    mu, scale = fit_view(V, "tfidf")
    assert np.allclose(transform(V, mu, scale, "tfidf"), ref.transform(V).toarray())
    assert np.allclose(transform(new, mu, scale, "tfidf"), ref.transform(new).toarray())
    # an empty document stays the zero row
    assert not transform(np.zeros((1, V.shape[1])), mu, scale, "tfidf").any()
    # "euclidean": z-scores, constant columns kept at scale 1
    X = np.c_[np.arange(6.0), np.ones(6)]
    mu, scale = fit_view(X, "euclidean")
    Z = transform(X, mu, scale, "euclidean")
    assert np.allclose(Z[:, 0].std(), 1) and not Z[:, 1].any()


def test_auto_takes_tfidf_for_text_views_only():
    views, _ = _documents(0)
    assert all(is_text(v) for v in views)
    assert view_metric(views[0], "auto") == "tfidf"
    W = TfidfTransformer().fit_transform(views[0]).toarray()  # text stored as weights
    assert view_metric(W, "auto") == view_metric(W / W.sum(axis=1, keepdims=True), "auto")
    assert view_metric(W, "auto") == "tfidf"
    rng = np.random.default_rng(0)
    assert view_metric(rng.normal(size=(50, 30)), "auto") == "euclidean"  # real values
    assert view_metric(rng.poisson(5.0, size=(50, 30)), "auto") == "euclidean"  # dense counts
    assert view_metric(views[0] + 0.5, "auto") == "euclidean"  # no zeros
    assert view_metric(np.c_[W, -W], "auto") == "euclidean"  # signed
    assert view_metric(rng.normal(size=(50, 30)), "euclidean") == "euclidean"


def test_bad_metric_input_is_refused():
    neg = [np.random.default_rng(0).normal(size=(40, 5))]
    with pytest.raises(ValueError, match="needs nonnegative features .* but view 0"):
        DSRLClustering(3, metric="tfidf").fit(neg)
    with pytest.raises(ValueError, match="metric"):
        DSRLClustering(3, metric="manhattan").fit(neg)
    with pytest.raises(ValueError, match="metric must be one of"):
        view_metric(neg[0], "manhattan")
    views, _ = _documents(0)
    with pytest.raises(ValueError, match="same number of samples"):
        DSRLClustering(3).fit([views[0], views[1][:-1]])


def test_tfidf_graphs_recover_topics_that_z_scored_counts_miss():
    views, y = _documents(0)
    eu = DSRLClustering(3, metric="euclidean", random_state=0).fit(views)
    auto = DSRLClustering(3, metric="auto", random_state=0).fit(views)
    assert auto.view_metric_ == ["tfidf", "tfidf"] and eu.view_metric_ == ["euclidean"] * 2
    assert adjusted_rand_score(y, auto.labels_) > 0.95
    assert adjusted_rand_score(y, eu.labels_) < 0.8
    # a Gaussian noise view beside the text views keeps the Euclidean metric and weight 0
    noisy = DSRLClustering(3, metric="auto", random_state=0).fit(
        [*views, np.random.default_rng(1).normal(size=(150, 30))])
    assert noisy.view_metric_ == ["tfidf", "tfidf", "euclidean"]
    assert noisy.view_weights_[2] == 0 and np.array_equal(noisy.labels_, auto.labels_)


def test_metric_survives_save_load_and_predict(tmp_path):
    views, y = _documents(1)
    m = DSRLClustering(3, metric="auto", max_epochs=5, random_state=0).fit(views)
    glassnet.save(m, tmp_path / "m")
    m2 = glassnet.load(tmp_path / "m")
    assert m2.view_metric_ == m.view_metric_ == ["tfidf", "tfidf"]
    new = [v[::3] for v in views]
    assert np.array_equal(m2.predict(new), m.predict(new))
    ys = np.where(np.arange(150) % 5 == 0, y, -1)
    c = DSRLClassifier(metric="auto", max_epochs=3, random_state=0).fit(views, ys)
    glassnet.save(c, tmp_path / "c")
    c2 = glassnet.load(tmp_path / "c")
    assert c2.view_metric_ == ["tfidf", "tfidf"]
    assert np.array_equal(c2.predict(new), c.predict(new))


def test_cosine_takes_the_weights_as_given():
    views, _ = _documents(2)
    W = TfidfTransformer().fit_transform(views[0]).toarray()
    mu, scale = fit_view(W, "cosine")
    assert np.allclose(transform(W, mu, scale, "cosine"), W)  # already unit rows: unchanged
    assert np.allclose(transform(3 * W, mu, scale, "cosine"), W)  # lengths do not count


def test_text_stored_as_tfidf_weights_recovers_the_topics():
    views, y = _documents(0)
    stored = [TfidfTransformer(norm=None).fit_transform(v).toarray() for v in views]
    eu = DSRLClustering(3, metric="euclidean", random_state=0).fit(stored)
    auto = DSRLClustering(3, random_state=0).fit(stored)
    assert auto.view_metric_ == ["tfidf", "tfidf"]
    assert adjusted_rand_score(y, auto.labels_) > 0.95
    assert adjusted_rand_score(y, eu.labels_) < 0.8


def test_auto_neighbours_follow_the_class_size():
    assert neighbors("auto", 400, 40) == 5  # ORL's shape: classes of 10
    assert neighbors("auto", 2000, 10) == 10 and neighbors("auto", 60, 20) == 3
    assert neighbors(7, 400, 40) == 7
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(12), 8)  # 12 tight classes of 8 samples
    X = 3 * rng.normal(size=(12, 5))[y] + 0.3 * rng.normal(size=(96, 5))
    m = DSRLClustering(12, random_state=0).fit(X)
    assert m.n_neighbors_ == 4 and adjusted_rand_score(y, m.labels_) > 0.9
    assert np.array_equal(m.predict(X[::5]), m.labels_[::5])
    assert DSRLClustering(12, n_neighbors=10, random_state=0).fit(X).n_neighbors_ == 10
    c = DSRLClassifier(n_neighbors="auto", max_epochs=2, random_state=0).fit(
        X, np.where(np.arange(96) % 4 == 0, y, -1))
    assert c.n_neighbors_ == 4
    # k of n or more links every pair: the k used, n - 1, is what n_neighbors_ reports
    big = DSRLClustering(12, n_neighbors=500, max_epochs=2, random_state=0).fit(X)
    full = DSRLClustering(12, n_neighbors=95, max_epochs=2, random_state=0).fit(X)
    assert big.n_neighbors_ == full.n_neighbors_ == 95
    assert abs(big.graph_ - full.graph_).max() == 0


def test_sparse_views_equal_dense_ones_up_to_a_size_limit(monkeypatch):
    import glassnet.nn.dsrl_views as dv

    views, _ = _documents(3)
    dense = DSRLClustering(3, max_epochs=5, random_state=0).fit(views)
    sparse = DSRLClustering(3, max_epochs=5, random_state=0).fit([sp.csr_matrix(v) for v in views])
    assert np.array_equal(sparse.labels_, dense.labels_)
    assert np.array_equal(sparse.predict([sp.csr_matrix(v[:20]) for v in views]),
                          dense.predict([v[:20] for v in views]))
    one = DSRLClustering(3, max_epochs=5, random_state=0).fit(sp.csr_matrix(views[0]))
    assert one.view_metric_ == ["tfidf"] and one.n_features_in_ == views[0].shape[1]
    monkeypatch.setattr(dv, "MAX_DENSE", 1000)
    with pytest.raises(ValueError, match=r"view 1 is a sparse 150 x 300 matrix.*max_features"):
        DSRLClustering(3).fit([views[0], sp.csr_matrix(views[1])])


def _histograms(seed, n=120, k=3, bins=24):
    """Two histogram views of n rows from k classes: each class's bin distribution is half a
    shared one and half its own, and the totals spread over two orders of magnitude (dense:
    about 2% zero bins)."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n // k)
    views = []
    for _ in range(2):
        shapes = 0.5 * rng.dirichlet(np.full(bins, 2.0)) + 0.5 * rng.dirichlet(
            np.full(bins, 2.0), size=k)
        totals = np.exp(rng.uniform(np.log(50), np.log(5000), n))
        views.append(np.stack([rng.multinomial(int(t), shapes[c]) for t, c in zip(totals, y)])
                     .astype(np.float64))
    return views, y


def test_hellinger_points_give_the_hellinger_distance():
    views, _ = _histograms(0)
    V = views[0]
    mu, scale = fit_view(V, "hellinger")
    Z = transform(V, mu, scale, "hellinger")
    assert np.allclose(np.linalg.norm(Z, axis=1), 1)  # unit rows, like cosine and tfidf
    assert np.allclose(transform(7 * V, mu, scale, "hellinger"), Z)  # totals do not count
    P = V / V.sum(axis=1, keepdims=True)
    bc = np.sqrt(P[0] * P[1]).sum()  # Bhattacharyya coefficient; H^2 = 1 - bc
    assert np.isclose(np.linalg.norm(Z[0] - Z[1]), np.sqrt(2) * np.sqrt(1 - bc))
    assert not transform(np.zeros((1, V.shape[1])), mu, scale, "hellinger").any()
    with pytest.raises(ValueError, match="metric='hellinger' needs nonnegative features"):
        transform(V - 1, mu, scale, "hellinger")
    with pytest.raises(ValueError, match="metric='hellinger' needs nonnegative .* but view 1"):
        DSRLClustering(3, metric="hellinger").fit([V, -V])
    assert view_metric(V, "auto") == "euclidean"  # dense histograms: not text


def test_hellinger_graphs_ignore_histogram_totals_that_z_scores_follow(tmp_path):
    views, y = _histograms(0)
    eu = DSRLClustering(3, metric="euclidean", random_state=0).fit(views)
    he = DSRLClustering(3, metric="hellinger", random_state=0).fit(views)
    assert he.view_metric_ == ["hellinger", "hellinger"]
    assert adjusted_rand_score(y, he.labels_) > 0.95
    assert adjusted_rand_score(y, eu.labels_) < 0.5  # z-scored counts follow the totals
    glassnet.save(he, tmp_path / "he")
    he2 = glassnet.load(tmp_path / "he")
    new = [v[::4] for v in views]
    assert he2.view_metric_ == he.view_metric_
    assert np.array_equal(he2.predict(new), he.predict(new))
    with pytest.raises(ValueError, match="metric='hellinger' needs nonnegative features"):
        he.predict([-v for v in new])
    ys = np.where(np.arange(y.size) % 5 == 0, y, -1)  # the classifier takes the option too
    c = DSRLClassifier(metric="hellinger", max_epochs=3, random_state=0).fit(views, ys)
    assert c.view_metric_ == ["hellinger", "hellinger"]
    assert np.mean(c.transduction_ == y) > 0.9
    glassnet.save(c, tmp_path / "c")
    assert np.array_equal(glassnet.load(tmp_path / "c").predict(new), c.predict(new))


def _one_unit(seed, n=150):
    """One view whose columns share a unit: 2 columns carry 3 well separated classes, 30 are
    near constant (spread 0.01, like a digit image's border pixels)."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), n // 3)
    centres = 8.0 * np.eye(3, 2, -1)  # (0, 0), (8, 0), (0, 8)
    V = np.hstack([centres[y] + rng.standard_normal((n, 2)), 0.01 * rng.standard_normal((n, 30))])
    return V, y


def test_unscaled_points_are_the_features_as_given():
    V, _ = _one_unit(0)
    mu, scale = fit_view(V, "unscaled")
    assert np.array_equal(transform(V, mu, scale, "unscaled"), V)
    assert view_metric(-V, "unscaled") == "unscaled"  # negative features are fine
    with pytest.raises(ValueError, match="metric must be one of .*'unscaled'"):
        view_metric(V, "raw")


def test_unscaled_graphs_keep_near_constant_columns_small(tmp_path):
    V, y = _one_unit(0)
    eu = DSRLClustering(3, metric="euclidean", random_state=0).fit(V)
    un = DSRLClustering(3, metric="unscaled", random_state=0).fit(V)
    assert un.view_metric_ == ["unscaled"]
    assert adjusted_rand_score(y, un.labels_) > 0.95
    assert adjusted_rand_score(y, eu.labels_) < 0.5  # z-scores blow the 30 up to the 2's size
    glassnet.save(un, tmp_path / "un")
    assert np.array_equal(glassnet.load(tmp_path / "un").predict(V[::3]), un.predict(V[::3]))
    ys = np.where(np.arange(y.size) % 10 == 0, y, -1)
    c = DSRLClassifier(metric="unscaled", random_state=0).fit(V, ys)
    assert np.mean(c.transduction_ == y) > 0.95
    assert np.mean(DSRLClassifier(random_state=0).fit(V, ys).transduction_ == y) < 0.8
