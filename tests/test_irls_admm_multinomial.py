"""Multinomial IRLS-ADMM net (issue 24): the binary model as its K = 2 special case, the group
lasso optimality conditions, primal = kernel, finite gradients at zero groups, one feature set
for all classes, probabilities over all classes, and a ranking that reads off ``coef_``."""

import numpy as np
import pytest
import torch

from glassnet import IRLSADMMNetClassifier, MultinomialIRLSADMMNetClassifier, load, save
from glassnet.datasets import make_irls_admm_simulation
from glassnet.nn.irls_admm import (
    IRLSADMMNet,
    MultinomialIRLSADMMNet,
    group_soft_threshold,
)


def _design(n, p, seed, intercept=True):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    return (np.hstack([X, np.ones((n, 1))]) if intercept else X), rng


def _classical(cls, p, lam, **kw):
    pen = np.r_[np.ones(p), 0.0]
    return cls(p + 1, k_max=60, i_max=1000, lam=lam, F=1.0, penalized=pen, trainable=False,
               line_search=True, tol=1e-12, **kw)


def test_two_class_multinomial_is_the_binary_model_at_lam_over_sqrt2():
    """With K = 2, ``min_B E(B) + lam sum_j ||B_j||`` depends on ``B`` through ``beta = b_2 - b_1``
    and, for a given ``beta``, the penalty is smallest at ``b_1 = -b_2``, where it equals
    ``lam / sqrt(2) ||beta||_1``: the binary L1 model at ``lam / sqrt(2)`` (docs/irls_admm.md)."""
    X, _ = make_irls_admm_simulation(n_samples=200, n_features=10, n_true=4, noise_std=1.0, random_state=0)[:2]
    y = make_irls_admm_simulation(n_samples=200, n_features=10, n_true=4, noise_std=1.0, random_state=0)[1]
    Phi = np.hstack([X, np.ones((200, 1))])
    lam = 5.0
    multi = _classical(MultinomialIRLSADMMNet, 10, lam, n_classes=2)
    binary = _classical(IRLSADMMNet, 10, lam / np.sqrt(2))
    y_pm = np.where(y > 0, 1.0, -1.0)
    with torch.no_grad():
        B = multi(torch.as_tensor(Phi), torch.as_tensor(np.eye(2)[(y > 0).astype(int)])).beta.numpy()
        beta = binary(torch.as_tensor(y_pm[:, None] * Phi)).beta.numpy()
    assert 0 < np.count_nonzero(np.abs(beta[:10]) > 1e-8) < 10  # the penalty is active
    np.testing.assert_allclose(B[1] - B[0], beta, atol=1e-8)
    np.testing.assert_allclose(B[0, :10], -B[1, :10], atol=1e-8)  # the symmetric split


def test_converged_net_meets_the_group_lasso_optimality_conditions():
    Phi, rng = _design(150, 8, 1)
    W = np.zeros((3, 8))
    W[:, :3] = rng.normal(0, 2, (3, 3))
    y = np.argmax(Phi[:, :8] @ W.T + rng.gumbel(size=(150, 3)), axis=1)
    Y = np.eye(3)[y]
    lam = 8.0
    net = _classical(MultinomialIRLSADMMNet, 8, lam, n_classes=3)
    with torch.no_grad():
        B = net(torch.as_tensor(Phi), torch.as_tensor(Y)).beta.numpy()
    logits = Phi @ B.T
    P = np.exp(logits - logits.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    G = (Phi.T @ (P - Y)).T  # dE/dB, (K, p)
    norms = np.linalg.norm(B[:, :8], axis=0)
    active = norms > 1e-8
    assert 0 < active.sum() < 8
    np.testing.assert_allclose(G[:, 8], 0.0, atol=1e-6)  # the unpenalised intercepts
    np.testing.assert_allclose(G[:, :8][:, active], -lam * B[:, :8][:, active] / norms[active], atol=1e-6)
    assert np.all(np.linalg.norm(G[:, :8][:, ~active], axis=0) <= lam + 1e-6)


def test_primal_and_kernel_forms_agree_and_gradients_are_finite_at_zero_groups():
    Phi, rng = _design(20, 40, 2)
    Y = torch.as_tensor(np.eye(3)[rng.integers(0, 3, 20)])
    P = torch.as_tensor(Phi)
    pen = np.r_[np.ones(40), 0.0]
    a = MultinomialIRLSADMMNet(41, n_classes=3, penalized=pen, solver="primal")
    b = MultinomialIRLSADMMNet(41, n_classes=3, penalized=pen, solver="kernel")
    out_a, out_b = a(P, Y), b(P, Y)
    torch.testing.assert_close(out_a.beta, out_b.beta, atol=1e-9, rtol=1e-7)
    assert (out_b.z.abs().sum(0) == 0).any()  # some groups are exactly zero
    b.loss(out_b.beta, (P, Y)).backward()
    assert torch.isfinite(b.F.grad).all() and b.F.grad.abs().sum() > 0
    V = torch.zeros(3, 2, dtype=torch.float64, requires_grad=True)
    group_soft_threshold(V, 0.5).sum().backward()
    assert torch.isfinite(V.grad).all()


def test_bad_input_names_the_problem():
    with pytest.raises(ValueError, match="n_classes"):
        MultinomialIRLSADMMNet(4, n_classes=1)
    net = MultinomialIRLSADMMNet(4, n_classes=3)
    with pytest.raises(ValueError, match="one-hot"):
        net(torch.zeros(5, 4, dtype=torch.float64), torch.zeros(5, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="Phi must have shape"):
        net(torch.zeros(5, 3, dtype=torch.float64), torch.zeros(5, 3, dtype=torch.float64))
    X, y = np.random.default_rng(0).standard_normal((30, 4)), np.arange(30) % 3
    for bad in (0, -1, 2.5, True, "all"):
        with pytest.raises(ValueError, match="screen"):
            MultinomialIRLSADMMNetClassifier(screen=bad, max_epochs=2).fit(X, y)


@pytest.fixture(scope="module")
def three_class_fit():
    """Three classes, 30 features, the first 4 informative for every class (seed 11: a test
    seed, not a tuning seed). String labels check that ``classes_`` is used throughout."""
    rng = np.random.default_rng(11)
    X = rng.standard_normal((240, 30))
    W = np.zeros((3, 30))
    W[:, :4] = [[2.0, -1.5, 0.0, 1.5], [-2.0, 0.0, 1.5, -1.5], [0.0, 1.5, -1.5, 0.0]]
    y = np.array(["a", "b", "c"])[np.argmax(X @ W.T + rng.gumbel(size=(240, 3)), axis=1)]
    est = MultinomialIRLSADMMNetClassifier(random_state=0).fit(X[:180], y[:180])
    return X, y, est


def test_one_feature_set_for_all_classes(three_class_fit):
    X, y, est = three_class_fit
    S = est.selected_features_
    assert set(range(4)) <= set(S) and S.size <= 8  # the truth, few extras
    assert est.coef_.shape == (3, 30) and est.intercept_.shape == (3,)
    np.testing.assert_array_equal(est.coef_[:, ~est.support_], 0.0)  # every class: same set
    assert np.all(np.linalg.norm(est.coef_[:, S], axis=0) > 0)
    assert est.beta_.shape == (3, 30)
    np.testing.assert_array_equal(est.classes_, ["a", "b", "c"])
    proba = est.predict_proba(X[180:])
    assert proba.shape == (60, 3)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_array_equal(est.predict(X[180:]), est.classes_[proba.argmax(1)])
    assert est.score(X[180:], y[180:]) > 0.8
    # prediction reads only the selected columns
    X2 = X[180:].copy()
    X2[:, ~est.support_] = 1e3
    np.testing.assert_allclose(est.predict_proba(X2), proba)


def test_ranking_reads_off_coef(three_class_fit):
    """``feature_importances_`` is ``||coef_[:, j]||`` (``|coef_|`` for the binary net) and
    ``ranking_`` lists the selected features by it, then the rest: the order and the signs a
    user reads come from the vector that predicts."""
    X, _y, multi = three_class_fit
    Xb, yb = make_irls_admm_simulation(n_samples=300, n_features=20, n_true=4, noise_std=0.5, random_state=5)[:2]
    binary = IRLSADMMNetClassifier(random_state=0).fit(Xb, yb)
    for est in (multi, binary):
        imp = np.linalg.norm(est.coef_, axis=0)
        np.testing.assert_allclose(est.feature_importances_, imp)
        s = est.selected_features_.size
        top = est.ranking_[:s]
        assert set(top) == set(est.selected_features_)
        assert np.all(np.diff(imp[top]) <= 0)  # decreasing importance
        assert np.all(imp[est.ranking_[s:]] == 0)
        assert sorted(est.ranking_) == list(range(X.shape[1] if est is multi else 20))
    # binary: the sign of each ranked feature is the sign of its coefficient, and raising a
    # feature with a positive coefficient raises the probability of classes_[1]
    j = binary.ranking_[0]
    x = np.zeros((2, 20))
    x[1, j] = 1.0
    up = binary.predict_proba(x)[1, 1] > binary.predict_proba(x)[0, 1]
    assert up == (binary.coef_[0, j] > 0)


def test_save_load_round_trip(three_class_fit, tmp_path):
    X, _, est = three_class_fit
    save(est, tmp_path / "m")
    back = load(tmp_path / "m")
    np.testing.assert_allclose(back.predict_proba(X), est.predict_proba(X))
    np.testing.assert_array_equal(back.get_support(), est.get_support())


def test_default_random_state_none_fits():
    """``random_state=None`` (the default): fresh seeds for the folds' nets, no error."""
    X, y = make_irls_admm_simulation(n_samples=120, n_features=10, n_true=4, noise_std=0.5, random_state=8)[:2]
    for cls in (IRLSADMMNetClassifier, MultinomialIRLSADMMNetClassifier):
        est = cls(max_epochs=3).fit(X, y)
        assert est.selected_features_.size >= 1 and est.score(X, y) > 0.7


def test_screen_and_refit_false_use_only_columns_the_net_saw():
    """With more columns than ``screen`` the net sees the screened ones; ``refit=False`` then
    selects among them only (the full net predicts), and predicts from exactly that set."""
    X, y, _, _support = make_irls_admm_simulation(n_samples=80, n_features=300, n_true=4, noise_std=0.1,
                                                 random_state=12)
    est = IRLSADMMNetClassifier(random_state=0, screen=50, refit=False, cv=2).fit(X, y)
    assert est.screened_features_.size == 50
    assert set(est.selected_features_) <= set(est.screened_features_)
    np.testing.assert_array_equal(est.beta_[np.setdiff1d(np.arange(300), est.screened_features_)], 0.0)
    assert np.all(est.coef_[0, est.selected_features_] != 0)
    X2 = X.copy()
    X2[:, ~est.support_] = 5.0
    np.testing.assert_allclose(est.decision_function(X2), est.decision_function(X))


def test_auto_screen_shows_the_multinomial_net_every_column_and_the_binary_net_1000():
    """``screen="auto"``: the binary net sees the 1000 columns with the largest loss gradient,
    the multinomial net every column up to ``MULTINOMIAL_SCREEN`` (a 1000-column screen lost
    0.22 accuracy on dense-signal tuning stand-ins); an int still screens both."""
    from glassnet.estimators.irls_admm_base import MULTINOMIAL_SCREEN, SCREEN

    rng = np.random.default_rng(5)
    X = rng.standard_normal((24, 1200))
    y = np.arange(24) % 3
    X[:, :5] += y[:, None]
    multi = MultinomialIRLSADMMNetClassifier(random_state=0, max_epochs=1, n_features_to_select=5).fit(X, y)
    assert multi.get_params()["screen"] == "auto" and MULTINOMIAL_SCREEN >= X.shape[1]
    np.testing.assert_array_equal(multi.screened_features_, np.arange(1200))
    yb = (y > 0).astype(int)
    binary = IRLSADMMNetClassifier(random_state=0, max_epochs=1, n_features_to_select=5).fit(X, yb)
    assert binary.screened_features_.size == SCREEN
    assert set(range(5)) <= set(binary.screened_features_)  # the informative columns pass the screen
    narrow = MultinomialIRLSADMMNetClassifier(random_state=0, max_epochs=1, n_features_to_select=5,
                                              screen=40).fit(X, y)
    assert narrow.screened_features_.size == 40


def test_tiny_classes_are_spread_over_the_selection_folds():
    """A class with 2 members (lymphoma has several) does not stop the selection."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((60, 12))
    y = np.r_[np.zeros(29), np.ones(29), 2, 2].astype(int)
    X[y == 1, 0] += 2.0
    X[y == 2, 1] += 4.0
    est = MultinomialIRLSADMMNetClassifier(random_state=0, max_epochs=5).fit(X, y)
    folds = est._folds(np.searchsorted(est.classes_, y), 0)
    assert len(folds) == 5
    assert sum(2 in y[va] for _, va in folds) == 2  # the 2-member class: one per held-out fold
    assert 0 in est.selected_features_ and est.predict_proba(X).shape == (60, 3)


def test_more_folds_than_the_largest_class_fall_back_to_its_size():
    """``cv`` above every class's size (9 classes of 2-4 with the default 5, or ``cv=10`` on
    small classes) gives as many folds as the largest class, each class spread over them, where
    scikit-learn's ``StratifiedKFold`` would refuse; all classes of one member: a clear error."""
    y = np.repeat(np.arange(9), [4, 4, 3, 3, 3, 2, 2, 2, 2])
    est = MultinomialIRLSADMMNetClassifier(cv=10)
    est.classes_ = np.arange(9)
    for cv, n in ((10, 4), (5, 4), (3, 3)):
        est.cv = cv
        folds = est._folds(y, 0)
        assert len(folds) == n
        for tr, va in folds:
            assert np.intersect1d(tr, va).size == 0 and tr.size + va.size == y.size
            # each class spread over the folds: at most ceil(size / folds) of it held out at once
            assert np.all(np.bincount(y[va], minlength=9) <= np.ceil(np.bincount(y) / n))
    est.cv, est.classes_ = 5, np.arange(12)
    with pytest.raises(ValueError, match="smallest class has 1 member"):
        est._folds(np.arange(12), 0)


def test_held_out_samples_of_a_class_the_fold_never_trained_on_are_not_scored():
    """A class with one member in the rows being fitted (an outer CV fold of a data set with a
    class of 2) is missing from the training rows of the selection fold that holds it out. Every
    candidate would give that sample p = 1e-15 (loss 34.5): the same for all candidates, so it
    cannot tell them apart, but it shifted the fold's losses and inflated the standard error of
    the 1se rule. The selection scores the held-out rows of seen classes only, and records how
    many it left out per fold (``_cv_table[-1]``)."""
    from glassnet.estimators.irls_admm_scores import _seen_rows, held_out_log_loss, ridge_logistic

    yi = np.array([0, 0, 0, 1, 1, 1, 2])
    np.testing.assert_array_equal(_seen_rows(yi, np.arange(6), np.array([5, 6])), [5])
    np.testing.assert_array_equal(_seen_rows(yi, np.array([0, 1]), np.array([4, 6])), [4, 6])  # none seen: all
    rng = np.random.default_rng(6)
    X = rng.standard_normal((61, 10))
    y = np.r_[np.zeros(30), np.ones(30), 2].astype(int)
    X[y == 1, 0] += 2.0
    est = MultinomialIRLSADMMNetClassifier(random_state=0, max_epochs=3).fit(X, y)
    n_unseen = est._cv_table[-1]
    folds = est._folds(y, 0)
    held = [2 in y[va] for _, va in folds]
    np.testing.assert_array_equal(n_unseen, np.array(held, float))  # exactly the fold holding it out
    clip = -np.log(1e-15) / max(len(va) for _, va in folds)  # what that sample alone added before
    assert np.all(est.cv_losses_ < clip) and np.isfinite(est.cv_losses_).all()
    # scored over all its held-out rows, that fold's loss of any set is above the clip's share
    tr, va = folds[int(np.flatnonzero(held)[0])]
    m = ridge_logistic(X[np.ix_(tr, [0])], y[tr], 0.01)
    assert held_out_log_loss(m, X[np.ix_(va, [0])], y[va]) > clip
    assert 0 in est.selected_features_


def test_multinomial_candidates_go_beyond_the_row_count_and_the_binary_ones_do_not():
    """Many classes, few rows: the multinomial net scores candidate sets of more features than
    rows (up to every column the net saw), the binary net at most as many as rows (defaults
    chosen on tuning data; docs/history/irls_admm.md). Both still pick a set the folds chose."""
    rng = np.random.default_rng(21)
    n, p = 32, 64
    y = np.arange(n) % 4
    X = rng.standard_normal((n, p))
    X[:, :40] += 0.8 * rng.standard_normal((4, 40))[y]  # 40 weak informative columns
    multi = MultinomialIRLSADMMNetClassifier(random_state=0, max_epochs=2).fit(X, y)
    assert max(multi.validation_curve_) > n
    binary = IRLSADMMNetClassifier(random_state=0, max_epochs=2).fit(X, y % 2)
    assert max(binary.validation_curve_) <= n
    for est in (multi, binary):
        assert est.selected_features_.size in est.validation_curve_


def test_multinomial_defaults_and_auto_select_C():
    """Both nets share one constructor (defaults ``"auto"``); the multinomial net's ``"auto"`` is
    ``select_C`` 0.01 and ``duplicate_corr`` 0.9 on any shape (no multi-class tuning set had
    more rows than columns), where the binary net's switches to 3 and 0.97 on tall data."""
    from glassnet import IRLSADMMNetClassifier

    assert MultinomialIRLSADMMNetClassifier().get_params() == IRLSADMMNetClassifier().get_params()
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 40)), np.repeat([0, 1, 2], 10)
    X[:, :3] += 2.0 * np.eye(3)[y]
    kw = {"random_state": 0, "max_epochs": 2}
    m = MultinomialIRLSADMMNetClassifier(**kw).fit(X, y)
    assert list(m.select_C_) == [0.01] and m.duplicate_corr_ == 0.9
    fixed = MultinomialIRLSADMMNetClassifier(select_C=0.01, duplicate_corr=0.9, **kw).fit(X, y)
    np.testing.assert_array_equal(fixed.get_support(), m.get_support())
    tall = MultinomialIRLSADMMNetClassifier(**kw).fit(np.tile(X[:, :10], (3, 1)), np.tile(y, 3))
    assert list(tall.select_C_) == [0.01] and tall.duplicate_corr_ == 0.9
