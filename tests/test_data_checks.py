"""Data checks of issue 25: a DSRL model given another number of views than it was fitted on,
and degenerate targets of IntegrativeSPINN and the SPINN regressors (one sample per data set,
constant y, values too small to standardise). Each is a ValueError naming the problem, or (a
constant y) a constant model, as scikit-learn's regressors give."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import DSRLClassifier, DSRLClustering, IntegrativeSPINN, SPINNRegressorCV
from glassnet.datasets.multiview import make_multiview_mixture


@pytest.fixture(scope="module")
def views():
    return make_multiview_mixture(60, 3, 3, 5, 4.0, random_state=0)


def test_dsrl_refuses_another_number_of_views_after_fit(views):
    d = views
    two = DSRLClustering(3, max_epochs=2, n_init=2, random_state=0).fit(d.views[:2])
    assert two.n_views_ == 2
    assert two.predict(d.views[:2]).shape == (60,)
    for X, got in ((d.views[0], 1), (d.views[:1], 1), (d.views, 3)):
        with pytest.raises(ValueError, match=f"X has {got} view.*fitted on 2 view"):
            two.predict(X)
    y = np.where(np.arange(60) < 20, d.y, -1)
    one = DSRLClassifier(max_epochs=2, random_state=0).fit(d.views[0], y)
    assert one.predict(d.views[0]).shape == (60,)
    assert one.predict([d.views[0]]).shape == (60,)  # a list of one view is one view
    for method in (one.predict, one.predict_proba, lambda X: one.score(X, d.y)):
        with pytest.raises(ValueError, match="X has 2 view.*fitted on 1 view"):
            method(d.views[:2])
    # the feature counts of the views are still checked when the number agrees
    with pytest.raises(ValueError, match="features"):
        two.predict([d.views[0], d.views[1][:, :-1]])


def test_dsrl_precomputed_predict_refuses_a_list_of_views(views):
    from glassnet.nn.dsrl import multiview_graph

    d = views
    W = multiview_graph(d.views[:2]).toarray()
    m = DSRLClustering(3, affinity="precomputed", max_epochs=2, n_init=2, random_state=0).fit(W)
    assert m.predict(W[:5]).shape == (5,)
    with pytest.raises(ValueError, match="not a list of views"):
        m.predict([W[:5], W[:5]])


FAST = {"max_epochs": 5, "n_lambdas": 3, "cv": 2, "dtype": "float64", "random_state": 0}


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 5))
    return X, X[:, 0] + 0.1 * rng.standard_normal(30), rng


@pytest.mark.parametrize("lam", [None, 0.1])
def test_integrative_spinn_names_degenerate_data_sets(regression, lam):
    X, y, rng = regression
    est = IntegrativeSPINN(lam=lam, **FAST)
    with pytest.raises(ValueError, match="data set 1 has 1 sample; .* at least 2 samples per"):
        est.fit([X, X[:1]], [y, y[:1]])
    # a data set smaller than cv: the folds (stratified by data set) are lowered, with a warning
    with pytest.warns(UserWarning, match="cv=5 is more folds than .* using 3 stratified folds"):
        small = IntegrativeSPINN(lam=lam, **{**FAST, "cv": 5}).fit([X, X[:3]], [y, y[:3]])
    assert small.predict(X[:3], 1).shape == (3,)
    for tiny in (np.full(30, 1e-300), 1e-300 * rng.standard_normal(30)):
        with pytest.raises(ValueError, match="y of data set 1 has values of magnitude at most"):
            est.fit([X, X], [y, tiny])
    clf = IntegrativeSPINN(lam=lam, task="classification", **FAST)
    yc = (y > 0).astype(int)
    one = np.r_[1, np.zeros(29, int)]  # a class with one member in data set 1
    with pytest.raises(ValueError, match="data set 1 has 1 sample of a class: .*data set and "
                                         "class"):
        clf.fit([X, X], [yc, one])
    with pytest.raises(ValueError, match="data set 1 has a single class"):
        clf.fit([X, X], [yc, np.zeros(30, int)])  # both classes overall, one in data set 1
    with pytest.raises(ValueError, match=r"ys\[0\] is None"):
        est.fit([X, X], [None, y])
    with pytest.raises(ValueError, match=r"Xs\[1\] is None"):
        est.fit([X, None], [y, y])


def test_constant_y_gives_a_constant_model_like_the_single_set_regressor(regression):
    X, y, _ = regression
    c = np.full(30, 2.5)
    single = SPINNRegressorCV(**FAST).fit(X, c)
    np.testing.assert_allclose(single.predict(X), 2.5, rtol=0, atol=1e-12)
    both = IntegrativeSPINN(**FAST).fit([X, X], [c, c])
    for m in (0, 1):
        np.testing.assert_allclose(both.predict(X, m), 2.5, rtol=0, atol=1e-12)
    # one constant data set beside a varying one: that set is predicted near its constant
    mixed = IntegrativeSPINN(**FAST).fit([X, X], [y, c])
    assert np.max(np.abs(mixed.predict(X, 1) - 2.5)) < 0.05 * np.std(y)


def test_spinn_regressors_refuse_targets_too_small_to_standardise(regression):
    X, _, rng = regression
    for tiny in (np.full(30, 1e-300), 1e-300 * rng.standard_normal(30)):
        with pytest.raises(ValueError, match="y has values of magnitude at most .* rescale y"):
            SPINNRegressorCV(**FAST).fit(X, tiny)
    # zeros are a constant, not a tiny target
    np.testing.assert_array_equal(SPINNRegressorCV(**FAST).fit(X, np.zeros(30)).predict(X), 0.0)


def test_unreadable_or_incomplete_mat_files_are_named(tmp_path):
    """A truncated file, or one without the expected variables, is a ValueError naming the file
    (scipy's MatReadError or a KeyError used to surface)."""
    from scipy.io import savemat

    from glassnet.datasets import load_dsrl_graph, load_gene_expression, load_multiview

    (tmp_path / "multiview" / "dsrl").mkdir(parents=True)
    (tmp_path / "gene_expression").mkdir()
    (tmp_path / "multiview" / "MSRC-v1.mat").write_bytes(b"not a mat file")
    with pytest.raises(ValueError, match="MSRC-v1.mat is not a readable MATLAB file"):
        load_multiview("MSRC-v1", tmp_path)
    savemat(tmp_path / "multiview" / "MSRC-v1.mat", {"X": np.zeros((1, 2))})
    with pytest.raises(ValueError, match=r"expected variables \['y or Y'\] are missing"):
        load_multiview("MSRC-v1", tmp_path)
    savemat(tmp_path / "multiview" / "dsrl" / "MSRC-v1W.mat", {"A": np.eye(3)})
    with pytest.raises(ValueError, match=r"MSRC-v1W.mat: expected variables \['W'\]"):
        load_dsrl_graph("MSRC-v1", tmp_path)
    savemat(tmp_path / "gene_expression" / "colon.mat", {"X": np.zeros((3, 2))})
    with pytest.raises(ValueError, match=r"colon.mat: expected variables \['Y'\]"):
        load_gene_expression("colon", tmp_path)


def test_integrative_spinn_zero_weights_lam_zero_and_bad_targets(regression):
    """A zero weight is the row left out (before the folds); ``lam=0`` fits at 0 (it used to
    fall back to 0.1 x lambda_max); complex or None targets and an all-zero set of weights are
    ValueErrors naming the problem; ``plot_cv`` after a fixed-``lam`` fit says why it cannot."""
    X, y, _ = regression
    Xs, ys = [X[:15], X[15:]], [y[:15], y[15:]]
    w0 = np.ones(15)
    w0[::3] = 0
    a = IntegrativeSPINN(lam=0.05, **FAST).fit(Xs, ys, sample_weight=[w0, np.ones(15)])
    b = IntegrativeSPINN(lam=0.05, **FAST).fit([Xs[0][w0 > 0], Xs[1]], [ys[0][w0 > 0], ys[1]])
    np.testing.assert_allclose(a.predict(X, 0), b.predict(X, 0), rtol=1e-6, atol=1e-8)
    zero = IntegrativeSPINN(lam=0.0, **FAST).fit(Xs, ys)
    assert zero.lambda_fit_ == 0.0
    with pytest.raises(ValueError, match="fitted at lam=0.0, without the lambda cross-validation"):
        zero.plot_cv()
    with pytest.raises(ValueError, match="sample_weight of data set 1"):
        IntegrativeSPINN(lam=0.05, **FAST).fit(Xs, ys, sample_weight=[np.ones(15), np.zeros(15)])
    with pytest.raises(ValueError, match="Complex data not supported"):
        IntegrativeSPINN(lam=0.05, **FAST).fit(Xs, [ys[0] + 1j, ys[1]])
    labels = np.array([0, 1] * 7 + [None], dtype=object)
    with pytest.raises(ValueError, match="y contains None"):
        IntegrativeSPINN(lam=0.05, task="classification", **FAST).fit(Xs, [labels, (ys[1] > 0) * 1])
    with pytest.raises(ValueError, match="y contains None"):
        DSRLClassifier(max_epochs=2).fit(X, np.array([0, 1, -1] * 9 + [None, 0, 1], dtype=object))


def test_irls_admm_refuses_more_features_than_its_screen_ranks():
    """An int ``n_features_to_select`` above ``screen``: the net ranks only the screened
    columns (the others used to fill the top-q by index, with coefficients read off the
    intercept's column when ``refit=False``)."""
    from sklearn.datasets import make_classification

    from glassnet import IRLSADMMNetClassifier, MultinomialIRLSADMMNetClassifier

    X, y = make_classification(60, 8, random_state=0)
    for cls in (IRLSADMMNetClassifier, MultinomialIRLSADMMNetClassifier):
        with pytest.raises(ValueError, match="n_features_to_select=4 is more than the 2 columns"):
            cls(screen=2, n_features_to_select=4, refit=False, max_epochs=2, cv=2).fit(X, y)
        assert cls(screen=4, n_features_to_select=4, max_epochs=2, cv=2).fit(X, y).selected_features_.size == 4


def test_dsrl_views_affinities_and_labels_are_checked(views):
    """Several views get the magnitude check one view gets (1e154 failed inside scipy); a
    list with a 1-d entry, an all-zero or complex sparse affinity, views too small to square,
    and labels of mixed types are named ValueErrors; -1.0 in an object y is unlabelled; a refit
    keeps nothing of the last fit (feature names of a DataFrame fit stayed)."""
    import pandas as pd
    import scipy.sparse as sp

    d = views
    E = {"max_epochs": 2, "random_state": 0}
    cases = [
        (lambda: DSRLClustering(3, **E).fit([d.views[0] * 1e154, d.views[1]]), "view 0 has entries of magnitude"),
        (lambda: DSRLClustering(3, **E).fit([d.views[0], d.views[1][:, 0]]), "view 1 must be a 2-d"),
        (lambda: DSRLClustering(3, affinity="precomputed", **E).fit(np.zeros((60, 60))), "has no edges"),
        (lambda: DSRLClustering(3, affinity="precomputed", **E).fit(sp.csr_matrix(np.eye(60) * (1 + 1j))),
         "real numeric matrix"),
        (lambda: DSRLClustering(3, **E).fit(d.views[0] * 1e-200), "squares underflow"),
        (lambda: DSRLClassifier(**E).fit(d.views, np.array(["a", 7] + [-1] * 58, dtype=object)),
         "cannot be ordered"),
    ]
    for fit, word in cases:
        with pytest.raises(ValueError, match=word):
            fit()
    y = np.array([["a", "b", "c"][c] if i % 4 == 0 else -1.0 for i, c in enumerate(d.y)], dtype=object)
    clf = DSRLClassifier(**E).fit(d.views, y)
    assert list(clf.classes_) == ["a", "b", "c"] and set(clf.transduction_) <= {"a", "b", "c"}
    m = DSRLClustering(3, **E).fit(pd.DataFrame(d.views[0], columns=[f"f{j}" for j in range(d.views[0].shape[1])]))
    assert hasattr(m, "feature_names_in_")
    m.fit(d.views)
    assert not hasattr(m, "feature_names_in_") and not hasattr(m, "n_features_in_")


def test_refits_after_set_params_keep_nothing_stale_and_warm_starts_need_the_same_network():
    """IRLS-ADMM's selection CV of an "auto" fit stayed (and plot_cv drew it) after a refit
    with an int n_features_to_select; IntegrativeSPINN kept a lambda CV after set_params(lam=)
    and the other task's attributes; a warm start after set_params(hidden=...) or of another
    MatNet activation kept the old network."""
    from sklearn.datasets import make_classification

    from glassnet import IRLSADMMNetClassifier, MatNetClassifier, SPINNRegressor

    X, y = make_classification(80, 10, random_state=0)
    net = IRLSADMMNetClassifier(max_epochs=2, cv=2, random_state=0).fit(X, y)
    assert hasattr(net, "validation_curve_")
    net.set_params(n_features_to_select=4).fit(X, y)
    assert not hasattr(net, "validation_curve_") and not hasattr(net, "n_groups_")
    with pytest.raises(ValueError, match="no selection CV to plot"):
        net.plot_cv()
    rng = np.random.default_rng(0)
    Xr = rng.standard_normal((60, 5))
    yr = Xr[:, 0] + 0.1 * rng.standard_normal(60)
    Xs, ys = [Xr[:30], Xr[30:]], [yr[:30], yr[30:]]
    integ = IntegrativeSPINN(**{**FAST, "cv": 2}).fit(Xs, ys)
    integ.set_params(lam=0.05).fit(Xs, ys)
    assert not hasattr(integ, "cv_results_")
    integ.set_params(task="classification").fit(Xs, [(v > 0).astype(int) for v in ys])
    assert not hasattr(integ, "y_mean_")
    warm = SPINNRegressor(warm_start=True, lam=0.05, max_epochs=5, n_path=2, random_state=0).fit(Xr, yr)
    warm.set_params(hidden=(3, 2), activation="relu", lam=0.02).fit(Xr, yr)
    cold = SPINNRegressor(hidden=(3, 2), activation="relu", lam=0.02, max_epochs=5, n_path=2,
                          random_state=0).fit(Xr, yr)
    np.testing.assert_allclose(warm.predict(Xr), cold.predict(Xr), rtol=1e-6, atol=1e-8)
    Xm = rng.standard_normal((60, 4, 4))
    ym = (Xm[:, 0, 0] > 0).astype(int)
    mat = MatNetClassifier(warm_start=True, lam=0.01, hidden_shapes=[(4, 4)], max_epochs=3, random_state=0)
    assert mat.fit(Xm, ym).set_params(activation="tanh").fit(Xm, ym).module_.activation == "tanh"


def test_a_precomputed_dsrl_affinity_is_split_by_cross_validation():
    """``input_tags.pairwise``: scikit-learn's CV gives fit K[train][:, train] and predict
    K[test][:, train], which is what the estimator takes (it used to fail: "(40, 60)")."""
    from sklearn.datasets import make_blobs
    from sklearn.metrics.pairwise import rbf_kernel
    from sklearn.model_selection import cross_val_score

    X, y = make_blobs(60, 4, centers=2, random_state=0)
    scores = cross_val_score(DSRLClassifier(affinity="precomputed", max_epochs=3, random_state=0),
                             rbf_kernel(X), y, cv=3, error_score="raise")
    assert scores.shape == (3,) and scores.min() > 0.9


@pytest.mark.parametrize("name, bad", [("cifar10", 12), ("cifar10", -1), ("cifar100", 100)])
def test_cifar_labels_outside_the_classes_are_named_with_the_file(tmp_path, name, bad):
    """A cifar10 batch with label 12 used to load and fail mid-training with an IndexError."""
    import pickle

    from glassnet.datasets.optnets_data import load_cifar

    sub, files, key = (("cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"],
                        b"labels") if name == "cifar10" else ("cifar-100-python", ["train", "test"], b"fine_labels"))
    (tmp_path / sub).mkdir()
    for f in files:
        labels = [0, 1, bad] if f == files[-2] else [0, 1, 2]  # a training batch
        with open(tmp_path / sub / f, "wb") as fh:
            pickle.dump({b"data": np.zeros((3, 3072), np.uint8), key: labels}, fh, protocol=2)
    n = 10 if name == "cifar10" else 100
    with pytest.raises(ValueError, match=rf"{files[-2]}: {name} labels must be in \[0, {n}\), got {bad}"):
        load_cifar(name, "train", tmp_path)
    assert load_cifar(name, "test", tmp_path)[1].tolist() == [0, 1, 2]
