"""Stability selection (glassnet.stability): complementary pairs, recovery of known supports
with scikit-learn and glassnet selectors, the error bounds against the papers' formulas,
reproducibility, joblib fan-out and errors on bad input."""

from typing import ClassVar

import matplotlib
import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.datasets import make_regression
from sklearn.feature_selection import SelectFromModel
from sklearn.linear_model import Lasso
from sklearn.neighbors import KNeighborsRegressor

from glassnet.stability import (
    StabilitySelection,
    complementary_pairs,
    error_bound,
    threshold_for_bound,
)

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def linear():
    X, y, coef = make_regression(150, 30, n_informative=4, noise=5.0, coef=True, random_state=3)
    return X, y, np.flatnonzero(coef)


def _logistic(n=160, p=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(3 * X[:, 0] - 3 * X[:, 1])))).astype(int)
    return X, y


class _SeedSelector(BaseEstimator):
    """Selects feature ``random_state % p``: shows which seed each fit received."""

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, X, y):
        self.selected_features_ = np.array([self.random_state % X.shape[1]])
        return self


@pytest.mark.parametrize("n", [40, 41])
def test_complementary_pairs_are_disjoint_and_cover_the_sample(n):
    pairs = complementary_pairs(np.zeros(n), 7, random_state=0)
    assert len(pairs) == 7
    for a, b in pairs:
        assert np.intersect1d(a, b).size == 0
        assert np.array_equal(np.union1d(a, b), np.arange(n))
        assert {len(a), len(b)} <= {n // 2, (n + 1) // 2}
    # the pairs differ from one another (fresh random halves)
    assert len({tuple(a) for a, _ in pairs}) == 7


def test_stratified_pairs_keep_every_class_in_both_halves():
    y = np.array([0] * 30 + [1] * 7 + [2] * 3)
    for a, b in complementary_pairs(y, 10, stratify=True, random_state=1):
        assert np.array_equal(np.union1d(a, b), np.arange(len(y)))
        for half in (a, b):
            counts = np.bincount(y[half], minlength=3)
            assert counts.min() >= 1
            assert abs(counts[0] - 15) <= 1 and abs(counts[1] - 3.5) <= 1
    for a, b in complementary_pairs(y, 5, sample_fraction=0.25, stratify=True, random_state=1):
        assert np.intersect1d(a, b).size == 0 and len(a) == len(b) == 7 + 1 + 1


def test_recovers_sparse_support_with_sklearn_selectors(linear):
    X, y, true = linear
    for base in (SelectFromModel(Lasso(alpha=0.5)), Lasso(alpha=0.5)):  # get_support / coef_
        st = StabilitySelection(base, n_subsamples=20, threshold=0.8, random_state=0).fit(X, y)
        assert np.array_equal(st.selected_features_, true)
        assert np.array_equal(st.get_support(indices=True), true)
        assert np.array_equal(st.transform(X), X[:, true])
    # the plain Lasso at that alpha keeps noise features that stability selection drops
    assert np.flatnonzero(Lasso(alpha=0.5).fit(X, y).coef_).size > true.size


def test_recovers_support_with_a_glassnet_selector():
    from glassnet.estimators.irls_admm import ADMMLogisticRegression

    X, y = _logistic()
    base = ADMMLogisticRegression(lam=4.0, k_max=10, i_max=50)
    st = StabilitySelection(base, n_subsamples=5, threshold=0.8, random_state=0)
    st.fit(X, y)
    assert np.array_equal(st.selected_features_, [0, 1])
    assert st.selection_probabilities_[[0, 1]].min() == 1.0


def test_recovers_support_with_spinn():
    from glassnet.estimators.spinn import SPINNRegressor

    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 8))
    y = 2 * X[:, 0] - 2 * X[:, 1] + 0.3 * rng.standard_normal(120)
    st = StabilitySelection(SPINNRegressor(hidden=(), max_epochs=100), n_subsamples=4,
                            random_state=0).fit(X, y)
    assert np.array_equal(st.selected_features_, [0, 1])


def test_probabilities_are_fractions_of_fits_and_reproducible(linear):
    X, y, _ = linear
    kw = {"n_subsamples": 10, "random_state": 5}
    a = StabilitySelection(Lasso(alpha=4.0), **kw).fit(X, y)
    b = StabilitySelection(Lasso(alpha=4.0), **kw).fit(X, y)
    p = a.selection_probabilities_
    assert p.min() >= 0 and p.max() <= 1
    assert np.allclose(p * 20, np.round(p * 20))  # multiples of 1 / (2B)
    assert np.array_equal(p, a.subsample_supports_.mean(axis=0)[0])
    assert np.array_equal(p, b.selection_probabilities_)
    assert all(np.array_equal(x[0], y_[0]) for x, y_ in zip(a.pairs_, b.pairs_))
    c = StabilitySelection(Lasso(alpha=4.0), n_subsamples=10, random_state=6).fit(X, y)
    assert not all(np.array_equal(x[0], z[0]) for x, z in zip(a.pairs_, c.pairs_))


def test_each_fit_gets_its_own_derived_seed():
    X, y = np.zeros((20, 1000)), np.zeros(20)
    base = _SeedSelector(random_state=7)
    a = StabilitySelection(base, n_subsamples=10, random_state=0).fit(X, y)
    b = StabilitySelection(base, n_subsamples=10, random_state=0).fit(X, y)
    assert np.array_equal(a.subsample_supports_, b.subsample_supports_)
    chosen = np.flatnonzero(a.subsample_supports_[:, 0].any(axis=0))
    assert len(chosen) > 10  # 20 fits, not all at the base's seed 7
    assert base.random_state == 7  # the base estimator itself is untouched


def test_bounds_match_the_papers_formulas(linear):
    q, p, B = 6.0, 200, 50
    for tau in (0.6, 0.75, 0.9, 1.0):
        mb = q**2 / ((2 * tau - 1) * p)  # Meinshausen & Buhlmann 2010, Theorem 1
        assert error_bound(q, p, tau, "mb") == pytest.approx(mb)
        assert error_bound(q, p, tau, "ss") == pytest.approx(mb)  # Shah & Samworth, Theorem 1
        # Shah & Samworth eq. 8 (unimodal): tighter than the worst case
        c = (1 / (2 * (2 * tau - 1 - 1 / (2 * B))) if tau <= 0.75
             else 4 * (1 - tau + 1 / (2 * B)) / (1 + 1 / B))
        assert error_bound(q, p, tau, "ss_unimodal", B) == pytest.approx(c * q**2 / p)
        assert error_bound(q, p, tau, "ss_unimodal", B) < mb
    assert error_bound(q, p, 0.505, "ss_unimodal", B) == np.inf  # outside eq. 8's domain
    for kind in ("ss", "ss_unimodal"):  # the threshold for a target bound reaches it, just
        tau = threshold_for_bound(0.5, q, p, kind, B)
        assert error_bound(q, p, tau, kind, B) <= 0.5
        assert error_bound(q, p, tau - 1e-3, kind, B) > 0.5
    assert threshold_for_bound(0.01, 50.0, 100, "ss") is None
    X, y, _ = linear
    st = StabilitySelection(Lasso(alpha=2.0), n_subsamples=10, threshold=0.8,
                            random_state=0).fit(X, y)
    q_fit = st.subsample_supports_[:, 0].sum(axis=1).mean()
    assert st.q_ == pytest.approx(q_fit)
    assert st.expected_false_positives_bound_ == pytest.approx(q_fit**2 / (0.6 * X.shape[1]))


def test_max_false_positives_picks_the_threshold(linear):
    X, y, _ = linear
    st = StabilitySelection(Lasso(alpha=2.0), n_subsamples=10, max_false_positives=1.0,
                            random_state=0).fit(X, y)
    assert st.threshold_ == pytest.approx(0.5 + st.q_**2 / (2 * X.shape[1]))
    assert st.expected_false_positives_bound_ == pytest.approx(1.0)
    assert np.array_equal(st.support_, st.selection_probabilities_ >= st.threshold_)
    with pytest.warns(UserWarning, match="no threshold"):
        st = StabilitySelection(Lasso(alpha=0.01), n_subsamples=3, max_false_positives=0.1,
                                random_state=0).fit(X, y)
    assert st.threshold_ == 1.0 and st.expected_false_positives_bound_ > 0.1


def test_stability_path_over_a_lambda_grid(linear):
    X, y, true = linear
    grid = [0.5, 2.0, 8.0, 30.0]
    st = StabilitySelection(Lasso(), param_name="alpha", lambda_grid=grid, n_subsamples=8,
                            random_state=0).fit(X, y)
    assert st.stability_path_.shape == (4, X.shape[1])
    assert np.array_equal(st.selection_probabilities_, st.stability_path_.max(axis=0))
    assert np.all(np.diff(st.stability_path_.sum(axis=1)) <= 0)  # fewer with a larger alpha
    assert set(true) <= set(st.selected_features_)
    union = st.subsample_supports_.any(axis=1).sum(axis=1).mean()
    assert st.q_ == pytest.approx(union)
    for kind, artists in (("auto", "lines"), ("path", "lines"), ("probabilities", "patches")):
        ax = st.plot(kind=kind)  # one curve or bar per feature, and the threshold line
        assert len(getattr(ax, artists)) >= X.shape[1] and ax.get_ylim() == (0, 1.02)


def test_n_jobs_2_equals_n_jobs_1(linear):
    X, y, _ = linear
    one = StabilitySelection(Lasso(alpha=2.0), n_subsamples=6, random_state=0, n_jobs=1).fit(X, y)
    two = StabilitySelection(Lasso(alpha=2.0), n_subsamples=6, random_state=0, n_jobs=2).fit(X, y)
    assert np.array_equal(one.subsample_supports_, two.subsample_supports_)
    assert np.array_equal(one.selected_features_, two.selected_features_)


def test_plot_draws_sorted_probabilities_and_threshold(linear):
    X, y, _ = linear
    st = StabilitySelection(Lasso(alpha=2.0), n_subsamples=4, random_state=0).fit(X, y)
    ax = st.plot()
    heights = [r.get_height() for r in ax.patches]
    assert heights == sorted(heights, reverse=True) and len(heights) == X.shape[1]
    assert any(np.allclose(line.get_ydata(), st.threshold_) for line in ax.lines)
    with pytest.raises(ValueError, match="stability path"):
        st.plot(kind="path")


@pytest.mark.parametrize("kw, match", [
    ({"threshold": 0.5}, "threshold"),
    ({"threshold": 1.2}, "threshold"),
    ({"threshold": 0.8, "max_false_positives": 1.0}, "not both"),
    ({"max_false_positives": 0.0}, "max_false_positives"),
    ({"n_subsamples": 0}, "n_subsamples"),
    ({"sample_fraction": 0.7}, "sample_fraction"),
    ({"param_name": "alpha"}, "together"),
    ({"param_name": "lam", "lambda_grid": [1.0]}, "no parameter 'lam'"),
    ({"bound": "bonferroni"}, "bound"),
])
def test_bad_input_raises_value_error(linear, kw, match):
    X, y, _ = linear
    with pytest.raises(ValueError, match=match):
        StabilitySelection(Lasso(), n_subsamples=kw.pop("n_subsamples", 2), **kw).fit(X, y)


def test_estimators_without_a_support_or_classes_too_small_are_refused(linear):
    X, y, _ = linear
    with pytest.raises(ValueError, match="exposes no selected features"):
        StabilitySelection(KNeighborsRegressor(), n_subsamples=2).fit(X, y)
    with pytest.raises(ValueError, match="estimator"):
        StabilitySelection(object(), n_subsamples=2).fit(X, y)
    with pytest.raises(ValueError, match="needs an estimator"):
        StabilitySelection().fit(X, y)
    with pytest.raises(ValueError, match="requires y to be passed"):  # was a TypeError inside
        StabilitySelection(Lasso(), n_subsamples=2).fit(X, None)
    from glassnet.estimators.irls_admm import ADMMLogisticRegression

    Xc, yc = _logistic(40)
    yc[0], yc[1:] = 1, 0  # one member of class 1: no stratified halves
    with pytest.raises(ValueError, match="2 members of each class"):
        StabilitySelection(ADMMLogisticRegression(), n_subsamples=2).fit(Xc, yc)


def _round_trip(est, path):
    import glassnet

    glassnet.save(est, path)
    back = glassnet.load(path)
    assert type(back) is type(est) and repr(back.get_params()) == repr(est.get_params())
    assert type(back.estimator) is type(est.estimator) and back.estimator is not est.estimator
    for k in ("support_", "selection_probabilities_", "stability_path_", "subsample_supports_"):
        np.testing.assert_array_equal(getattr(back, k), getattr(est, k))
    for (a, b), (c, d) in zip(est.pairs_, back.pairs_):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    assert back.error_bounds_ == est.error_bounds_ and back.q_ == est.q_
    return back


def test_save_load_round_trip_keeps_the_wrapped_estimator_and_the_selection(tmp_path):
    """A fitted StabilitySelection saves with its wrapped estimator (a glassnet estimator or a
    trusted scikit-learn type) as a constructor argument; the loaded one selects
    the same features and refits the same way."""
    from glassnet.estimators.irls_admm import ADMMLogisticRegression

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 5))
    est = StabilitySelection(Lasso(alpha=0.1), n_subsamples=2, random_state=0).fit(X, X[:, 0])
    back = _round_trip(est, tmp_path / "lasso.glassnet")
    np.testing.assert_array_equal(back.transform(X), est.transform(X))
    refit = clone(back).fit(X, X[:, 0])  # the loaded parameters refit to the same selection
    np.testing.assert_array_equal(refit.selection_probabilities_, est.selection_probabilities_)
    Xc, yc = _logistic(40)
    est = StabilitySelection(ADMMLogisticRegression(k_max=5, i_max=50), n_subsamples=2,
                             random_state=0, param_name="lam", lambda_grid=[0.05, 0.1]).fit(Xc, yc)
    back = _round_trip(est, tmp_path / "pipe.glassnet")
    np.testing.assert_array_equal(back.lambda_grid_, est.lambda_grid_)
    np.testing.assert_array_equal(back.get_support(), est.get_support())


def test_saving_an_untrusted_wrapped_estimator_is_refused_naming_it(tmp_path):
    from sklearn.linear_model import ElasticNet

    import glassnet

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 5))
    est = StabilitySelection(ElasticNet(alpha=0.1), n_subsamples=2, random_state=0).fit(X, X[:, 0])
    with pytest.raises(TypeError, match="estimator.*ElasticNet"):
        glassnet.save(est, tmp_path / "s.glassnet")


def test_a_crafted_stability_file_loads_only_declared_attributes_of_their_types(tmp_path):
    import json
    import zipfile

    import glassnet

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 5))
    est = StabilitySelection(Lasso(alpha=0.1), n_subsamples=2, random_state=0).fit(X, X[:, 0])
    glassnet.save(est, tmp_path / "ok.glassnet")
    with zipfile.ZipFile(tmp_path / "ok.glassnet") as z:
        meta, arrays = json.loads(z.read("meta.json")), z.read("arrays.safetensors")
    bad = {"extra": ("bogus_", 1.0, "not a fitted attribute of StabilitySelection"),
           "method": ("plot", 1, "not a fitted attribute"),
           "type": ("q_", "x", "not the declared float"),
           "support": ("support_", [True] * 5, "not the declared array"),
           "pairs": ("pairs_", [1, 2], "not the declared list")}
    for name, (key, value, words) in bad.items():
        m = json.loads(json.dumps(meta))
        items = m["root"]["state"]["__dict__"]
        items[:] = [it for it in items if it[0] != key] + [[key, value]]
        path = tmp_path / f"{name}.glassnet"
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("meta.json", json.dumps(m))
            z.writestr("arrays.safetensors", arrays)
        with pytest.raises(ValueError, match=words):
            glassnet.load(path)


class _CorrelationPath(BaseEstimator):
    """A selector with a regularisation path (glassnet's protocol): at lambda, the features whose
    |x_j . y| / n reaches lambda; ``lam=None`` is its default."""

    def __init__(self, lam=None, random_state=None):
        self.lam = lam
        self.random_state = random_state

    def fit(self, X, y):
        self.selected_features_ = np.flatnonzero(np.abs(X.T @ y) / len(y) >= (self.lam or 0))
        return self

    def path(self, X, y, n_lambdas=50, lambda_min_ratio=1e-2, sample_weight=None):
        from types import SimpleNamespace

        score = np.abs(X.T @ y) / len(y)
        self.lambda_max_ = score.max()
        return [SimpleNamespace(lam=lam, selected=score >= lam * (1 - 1e-12))
                for lam in np.geomspace(score.max(), score.max() * lambda_min_ratio, n_lambdas)]


def test_path_recipe_reads_each_half_samples_path(linear):
    from glassnet.stability import (
        DEFAULT_PATH_PFER,
        DEFAULT_PATH_RATIO,
        DEFAULT_PATH_THRESHOLD,
        path_region,
    )

    X, y, _ = linear
    st = StabilitySelection(_CorrelationPath(), n_subsamples=6, lambda_min_ratio=0.1,
                            n_lambdas=5, random_state=0).fit(X, y)
    assert st.lambda_min_ratio_ == 0.1
    np.testing.assert_allclose(st.lambda_grid_, np.geomspace(1, 0.1, 5))
    assert st.subsample_supports_.shape == (12, 5, X.shape[1])
    for (a, b), fits in zip(st.pairs_, st.subsample_supports_.reshape(6, 2, 5, -1)):
        for half, got in zip((a, b), fits):  # the supports are the half's own path
            score = np.abs(X[half].T @ y[half]) / len(half)
            want = score[None] >= np.geomspace(1, 0.1, 5)[:, None] * score.max() * (1 - 1e-12)
            np.testing.assert_array_equal(got, want)
    # the region: down to the last point where the bound at the threshold is <= the PFER
    k = int(np.flatnonzero(st.lambda_grid_ == st.region_ratio_)[0])
    assert k == path_region(st.subsample_supports_, X.shape[1], DEFAULT_PATH_THRESHOLD,
                            DEFAULT_PATH_PFER, n_pairs=6)
    q = st.subsample_supports_[:, : k + 2].any(axis=1).sum(axis=1).mean()  # one point further
    assert k == 4 or (q > 6 and error_bound(q, X.shape[1], st.threshold_) > DEFAULT_PATH_PFER)
    # down the path the supports only grow here, so the maximum is the probability at its end
    np.testing.assert_array_equal(st.selection_probabilities_, st.stability_path_[k])
    assert st.q_ == pytest.approx(st.subsample_supports_[:, k].sum(axis=1).mean())
    assert st.expected_false_positives_bound_ <= DEFAULT_PATH_PFER or st.q_ <= 6
    assert st.threshold_ == DEFAULT_PATH_THRESHOLD
    wide = StabilitySelection(_CorrelationPath(), n_subsamples=6, lambda_min_ratio=0.1,
                              n_lambdas=5, max_false_positives=1e3, random_state=0).fit(X, y)
    assert wide.region_ratio_ == pytest.approx(0.1)
    np.testing.assert_array_equal(wide.selection_probabilities_, st.stability_path_[-1])
    assert np.all(st.subsample_supports_[:, 0].sum(axis=1) == 1)  # at lambda_max: the top one
    assert st.plot().get_xlabel() == "lambda / lambda_max"
    # "auto": the path recipe for a selector with a path left at lam=None, else one fit
    auto = StabilitySelection(_CorrelationPath(), n_subsamples=2, random_state=0).fit(X, y)
    assert auto.lambda_min_ratio_ == DEFAULT_PATH_RATIO and auto.stability_path_.shape[0] == 10
    fixed = StabilitySelection(_CorrelationPath(lam=5.0), n_subsamples=2, random_state=0).fit(X, y)
    assert fixed.lambda_min_ratio_ is None and fixed.stability_path_.shape[0] == 1
    lasso = StabilitySelection(Lasso(alpha=1.0), n_subsamples=2, random_state=0).fit(X, y)
    assert lasso.lambda_min_ratio_ is None and lasso.threshold_ == 0.6


def test_path_recipe_with_spinn_recovers_the_support_within_its_bound():
    """Around a linear SPINN with its default lam the path recipe is on: the region ends where
    the bound at the threshold would pass the PFER, and it keeps the two inputs, no noise."""
    from glassnet.estimators.spinn import SPINNRegressor
    from glassnet.stability import DEFAULT_PATH_PFER

    rng = np.random.default_rng(1)
    X = rng.standard_normal((120, 40))
    y = 2 * X[:, 0] - 2 * X[:, 1] + rng.standard_normal(120)
    st = StabilitySelection(SPINNRegressor(hidden=(), max_epochs=100), n_subsamples=4,
                            random_state=0).fit(X, y)
    assert st.lambda_min_ratio_ is not None and st.region_ratio_ in st.lambda_grid_
    assert np.array_equal(st.selected_features_, [0, 1])
    assert st.q_ >= 2 and st.expected_false_positives_bound_ <= DEFAULT_PATH_PFER
    assert st.plot(kind="path").get_xlabel() == "lambda / lambda_max"


@pytest.mark.parametrize("kw, match", [
    ({"lambda_min_ratio": 0.1}, "no path"),
    ({"lambda_min_ratio": 1.0}, "lambda_min_ratio"),
    ({"lambda_min_ratio": 0.1, "param_name": "alpha", "lambda_grid": [1.0]}, "not both"),
    ({"n_lambdas": 1}, "n_lambdas"),
])
def test_path_recipe_bad_input(linear, kw, match):
    X, y, _ = linear
    with pytest.raises(ValueError, match=match):
        StabilitySelection(Lasso(), n_subsamples=2, **kw).fit(X, y)


def test_path_region_stops_where_the_bound_passes_the_pfer_with_a_floor():
    from glassnet.stability import path_region

    p, fits = 100, 4
    sizes = [0, 2, 5, 7, 12]  # features selected at each point down a nested path
    supports = np.zeros((fits, len(sizes), p), dtype=bool)
    for k, m in enumerate(sizes):
        supports[:, k, :m] = True
    # q <= sqrt(E (2 tau - 1) p): E = 4, tau = 0.55 -> 6.32: down to the point with 5
    assert path_region(supports, p, 0.55, 4.0) == 2
    assert path_region(supports, p, 0.55, 100.0) == 4  # the bound allows q = 12
    assert path_region(supports, p, 0.55, 0.1) == 2  # the floor min(6, p/4) keeps q = 5
    assert path_region(supports, p, 0.55, 0.4, min_q=0) == 1  # q <= 2
    assert path_region(supports, p, 0.55, 0.1, min_q=0) == 0  # q <= 1: the top only
    assert path_region(supports[..., :8], 8, 0.55, 0.1) == 1  # p = 8: floor 2
    # the union counts: features that leave the path still count in q
    moving = np.zeros((1, 3, p), dtype=bool)
    moving[0, 1, :4], moving[0, 2, 4:8] = True, True
    assert path_region(moving, p, 0.55, 4.0) == 1 and path_region(moving, p, 0.55, 6.4) == 2


def test_path_recipe_warns_when_the_region_is_lambda_max_alone(linear):
    X, y, _ = linear
    with pytest.warns(UserWarning, match="lambda_max alone"):  # 30 features by the 2nd point
        st = StabilitySelection(_CorrelationPath(), n_subsamples=2, lambda_min_ratio=1e-3,
                                n_lambdas=2, max_false_positives=0.1, random_state=0).fit(X, y)
    assert st.region_ratio_ == 1.0 and st.q_ == 1.0


def test_a_pipeline_selector_is_read_through_its_last_step(linear):
    """``Pipeline(StandardScaler, selector)``: the support is the last step's (the scaler keeps
    the columns); a step that mixes columns (PCA) makes the support unreadable: a ValueError."""
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, support = linear
    kw = {"n_subsamples": 4, "random_state": 0}
    piped = StabilitySelection(make_pipeline(StandardScaler(), SelectFromModel(Lasso(alpha=2.0))), **kw)
    np.testing.assert_array_equal(piped.fit(X, y).get_support(indices=True), support)
    import pandas as pd  # columns named in fit: the scaler's names out are those names

    frame = pd.DataFrame(X, columns=[f"g{j}" for j in range(X.shape[1])])
    np.testing.assert_array_equal(piped.fit(frame, y).get_support(indices=True), support)
    with pytest.raises(ValueError, match="steps before the last keep the input columns"):
        StabilitySelection(make_pipeline(PCA(3), SelectFromModel(Lasso(alpha=2.0))), **kw).fit(X, y)


def test_a_stability_path_over_named_options_plots_them_in_grid_order(linear):
    X, y, _ = linear
    st = StabilitySelection(SelectFromModel(Lasso(alpha=2.0)), param_name="threshold",
                            lambda_grid=["mean", "median"], n_subsamples=2, random_state=0).fit(X, y)
    ax = st.plot()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["mean", "median"]


def test_nested_random_states_are_seeded_so_the_same_seed_gives_the_same_result():
    """A glassnet selector inside a Pipeline left at ``random_state=None``: every half-sample
    fit gets its derived seed there too (only a top-level ``random_state`` was seeded)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from glassnet import SPINNClassifier

    X, y = _logistic(n=80, p=5)
    runs = [StabilitySelection(make_pipeline(StandardScaler(), SPINNClassifier(max_epochs=5, n_path=2)),
                               n_subsamples=2, random_state=0).fit(X, y).selection_probabilities_
            for _ in range(2)]
    np.testing.assert_array_equal(runs[0], runs[1])


class _WeightRecordingLasso(Lasso):
    """A Lasso that records the sample_weight each fit receives (one process: n_jobs=None)."""

    seen: ClassVar[list] = []

    def fit(self, X, y, sample_weight=None, check_input=True):
        _WeightRecordingLasso.seen.append(sample_weight)
        return super().fit(X, y, sample_weight=sample_weight, check_input=check_input)


def test_weights_reach_a_pipelines_last_step_and_a_weightless_selector_is_refused():
    """A Pipeline base could not be weighted (scikit-learn's "use stepname__parameter", which
    fit() does not take); SelectKBest failed with a raw TypeError inside the workers."""
    from sklearn.datasets import make_regression
    from sklearn.feature_selection import SelectKBest, f_regression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = make_regression(80, 6, n_informative=2, random_state=0)
    w = np.r_[np.ones(40), np.zeros(40)]  # zero weights: the rows left out
    pipe = make_pipeline(StandardScaler(), _WeightRecordingLasso(alpha=1.0))
    _WeightRecordingLasso.seen.clear()
    a = StabilitySelection(pipe, n_subsamples=4, random_state=0).fit(X, y, sample_weight=w)
    assert a.selection_probabilities_.shape == (6,)
    # every half-sample fit got its rows' weights (half of them 0), not None
    assert len(_WeightRecordingLasso.seen) == 8
    assert all(sw is not None and len(sw) == 40 and 0 < sw.sum() < 40
               for sw in _WeightRecordingLasso.seen)
    with pytest.raises(ValueError, match="takes no sample_weight"):
        StabilitySelection(SelectKBest(f_regression, k=2), n_subsamples=4).fit(X, y, sample_weight=w)


def test_plot_labels_features_by_their_names():
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd
    from sklearn.datasets import make_regression
    from sklearn.linear_model import Lasso

    X, y = make_regression(60, 5, n_informative=2, random_state=0)
    Xd = pd.DataFrame(X, columns=[f"gene{i}" for i in range(5)])
    s = StabilitySelection(Lasso(alpha=1.0), n_subsamples=4, random_state=0).fit(Xd, y)
    labels = {t.get_text() for t in s.plot(kind="probabilities").get_xticklabels()}
    assert labels == {f"gene{i}" for i in range(5)}
