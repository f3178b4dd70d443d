"""Deep unfolded IRLS-ADMM net: equivalence with Algorithm 1 / L1 logistic regression,
primal = kernel (Woodbury) least-squares step, appendix gradients, support recovery that keeps
correlated twins, prediction from exactly the reported features, numerics on separable data,
bad input, save/load. (scikit-learn's estimator checks run in tests/test_common.py.)"""

import warnings

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

import glassnet.estimators.irls_admm as est_mod
from glassnet import ADMMLogisticRegression, IRLSADMMNetClassifier, load, save
from glassnet.datasets import make_irls_admm_simulation
from glassnet.estimators.irls_admm import near_duplicate_groups
from glassnet.metrics import selection_rates
from glassnet.model_selection import choose, cv_path, make_folds
from glassnet.nn.irls_admm import (
    IRLSADMMNet,
    irls_system,
    irls_weights,
    omega_layer,
    omega_layer_kernel,
    z_layer,
)


@pytest.fixture(scope="module")
def small_problem():
    X, y, _beta, support = make_irls_admm_simulation(
        n_samples=200, n_features=10, n_true=4, noise_std=1.0, random_state=0
    )
    return X, y, support


def _sklearn_l1(X, y, lam):
    return LogisticRegression(
        l1_ratio=1.0, C=1.0 / lam, solver="liblinear", fit_intercept=False, tol=1e-12, max_iter=100000
    ).fit(X, y).coef_.ravel()


def test_untrained_net_equals_algorithm1_and_l1_optimum(small_problem):
    X, y, _ = small_problem
    lam = 5.0
    ref = _sklearn_l1(X, y, lam)
    assert np.count_nonzero(ref) < X.shape[1]  # the penalty is active: a real L1 check
    # Algorithm 1: fixed rho, F = I, t by backtracking
    alg1 = ADMMLogisticRegression(lam=lam, rho=1.0, k_max=30, i_max=1000, fit_intercept=False).fit(X, y)
    assert alg1.coef_.shape == (1, X.shape[1]) and alg1.intercept_.shape == (1,)
    np.testing.assert_allclose(alg1.coef_[0], ref, atol=1e-7)
    np.testing.assert_array_equal(alg1.z_ != 0, ref != 0)
    np.testing.assert_array_equal(alg1.get_support(), ref != 0)
    # the unfolded net with its parameters frozen at rho = 1, F = I, t = 1
    net = IRLSADMMNet(n_features=X.shape[1], k_max=10, i_max=1000, lam=lam, rho=1.0, F=1.0, t=1.0, trainable=False)
    y_pm = np.where(y == 1, 1.0, -1.0)
    with torch.no_grad():
        out = net(torch.as_tensor(y_pm[:, None] * X))
    np.testing.assert_allclose(out.beta.numpy(), ref, atol=1e-7)
    np.testing.assert_allclose(out.beta.numpy(), alg1.coef_[0], atol=1e-7)


def test_intercept_is_unpenalised_kkt(small_problem):
    X, y, _ = small_problem
    X = X + 3.0  # an offset the intercept must absorb
    lam = 5.0
    m = ADMMLogisticRegression(lam=lam, k_max=30, i_max=1000).fit(X, y)
    y_pm = np.where(y == 1, 1.0, -1.0)
    coef, b = m.coef_[0], m.intercept_[0]
    margin = y_pm * (X @ coef + b)
    r = -y_pm / (1 + np.exp(margin))  # dE/d(score)
    grad, grad0 = X.T @ r, r.sum()
    assert abs(grad0) < 1e-6  # stationarity in the unpenalised intercept
    active = m.z_ != 0  # the split variable carries the exact zeros
    assert 0 < active.sum() < X.shape[1]
    np.testing.assert_allclose(grad[active], -lam * np.sign(coef[active]), atol=1e-6)
    assert np.all(np.abs(grad[~active]) <= lam + 1e-6)
    np.testing.assert_array_equal(coef[~active], 0.0)  # the classifier is z: exact zeros


def test_omega_gradient_wrt_rho_matches_eq51():
    g = torch.Generator().manual_seed(0)
    M = 6
    Pt = torch.randn(30, M, generator=g, dtype=torch.float64)
    beta = 0.3 * torch.randn(M, generator=g, dtype=torch.float64)
    AtA, Atb = irls_system(beta, Pt, 1e-10)
    z, u = torch.randn(M, generator=g, dtype=torch.float64), torch.randn(M, generator=g, dtype=torch.float64)
    for F in (torch.full((M,), 10.0, dtype=torch.float64), torch.rand(M, generator=g, dtype=torch.float64) + 0.5):
        rho = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
        jac = torch.autograd.functional.jacobian(lambda r, F=F: omega_layer(AtA, Atb, r, F, z, u), rho)
        Q = torch.linalg.inv(AtA + 0.7 * torch.diag(F * F))
        FtF = torch.diag(F * F)
        r = Atb + 0.7 * F * (z - u)
        exact = -Q @ FtF @ Q @ r + Q @ (F * (z - u))
        torch.testing.assert_close(jac, exact, atol=1e-10, rtol=1e-8)
        if torch.allclose(F, F[0].expand_as(F)):
            # eq. 51 as printed, -Q^2 F^T F (...) + Q F^T (z - u), holds when F^T F commutes with Q (F = c I)
            eq51 = -Q @ Q @ FtF @ r + Q @ (F * (z - u))
            torch.testing.assert_close(jac, eq51, atol=1e-10, rtol=1e-8)


def test_z_gradient_wrt_rho_matches_eq86():
    x = torch.tensor([-3.0, -0.5, 0.2, 0.9, 2.5], dtype=torch.float64)  # C + u
    rho = torch.tensor(1.3, dtype=torch.float64, requires_grad=True)
    for lam in (1.0, 0.4):
        jac = torch.autograd.functional.jacobian(lambda r, lam=lam: z_layer(x, torch.zeros_like(x), r, lam), rho)
        thr = lam / 1.3
        eq86 = torch.where(x > thr, lam / 1.3**2, torch.where(x < -thr, -lam / 1.3**2, 0.0))
        torch.testing.assert_close(jac, eq86.to(torch.float64))


def test_first_stage_starts_from_beta_zero():
    # beta^0 = 0 gives A^0 = Phi~/2 and b^0 = 1 (eqs. 23-26)
    Pt = torch.randn(20, 4, dtype=torch.float64)
    AtA, Atb = irls_system(torch.zeros(4, dtype=torch.float64), Pt, 1e-10)
    A0, b0 = Pt / 2, torch.ones(20, dtype=torch.float64)
    torch.testing.assert_close(AtA, A0.T @ A0)
    torch.testing.assert_close(Atb, A0.T @ b0)


@pytest.fixture(scope="module")
def default_fit():
    # seed 0 of the simulation: not among the tuning seeds (900000 on) of the default rule
    X, y, _beta, support = make_irls_admm_simulation(noise_std=0.5, random_state=0)
    return X, y, support, IRLSADMMNetClassifier(random_state=0).fit(X, y)


def test_default_selection_keeps_both_twins_of_each_correlated_pair(default_fit):
    X, y, support, net = default_fit
    top8 = np.argsort(-np.abs(net.beta_))[:8]
    assert set(top8) == set(support)  # the paper's ranking by |beta| finds the truth
    rates = selection_rates(net.selected_features_, support, X.shape[1])
    assert rates["fn_rate"] == 0.0  # every true feature, both members of each near-duplicate pair
    assert rates["fp_rate"] <= 0.10  # the target
    assert net.score(X, y) > 0.95


def test_default_selection_is_the_rule_on_the_cv_table_of_fold_rankings():
    """The default keeps the number of groups that ``model_selection.choose`` picks with
    ``SELECT_RULE`` from ``cv_losses_`` (folds x numbers of groups, each fold ranked by its own
    net), and ``selection`` changes only the pick from the same table. The refit's C is the lowest
    mean out-of-fold loss over ``REFIT_CS`` on the chosen columns."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 12))
    beta = np.r_[1.5, 1.0, 0.6, 0.5, 0.4, 0.3, np.zeros(6)]
    y = (rng.random(200) < 1 / (1 + np.exp(-X @ beta))).astype(int)
    kw = {"random_state": 0, "max_epochs": 10}
    net = IRLSADMMNetClassifier(**kw).fit(X, y)
    assert net.selection == est_mod.SELECT_RULE
    picks = {rule: choose(net.cv_losses_, rule)[0] for rule in ("paired", "1se", "min")}
    sizes = list(net.validation_curve_)
    np.testing.assert_allclose(list(net.validation_curve_.values()), net.cv_losses_.mean(0))
    assert net.selected_features_.size == sizes[picks[net.selection]]
    for rule in sorted({"paired", "1se", "min"} - {net.selection}):  # net is the default rule's fit
        other = IRLSADMMNetClassifier(selection=rule, **kw).fit(X, y)
        np.testing.assert_allclose(other.cv_losses_, net.cv_losses_)  # same table
        assert other.selected_features_.size == sizes[picks[rule]]
    folds = make_folds(len(y), est_mod.SELECT_CV, y, classification=True, random_state=0)
    S = net.selected_features_
    refit = cv_path(lambda f, tr, va: [
        est_mod.held_out_log_loss(est_mod.ridge_logistic(X[np.ix_(tr, S)], y[tr], C), X[np.ix_(va, S)], y[va])
        for C in est_mod.REFIT_CS], folds)
    assert net.refit_C_ == pytest.approx(est_mod.REFIT_CS[np.argmin(refit.mean(0))])


def test_default_keeps_few_features_on_wide_pure_noise():
    """Each fold ranks with a net trained on its own rows, so on labels that carry no signal
    the held-out loss grows with the set and the default keeps almost nothing. (Ranking once on
    all rows and cross-validating the top sets, the issue-9 default, kept 60-270 of 500-2000
    features on wide draws: a set ranked on all rows looks good in CV whatever its size.)"""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, 400))
    y = rng.integers(0, 2, 60)
    net = IRLSADMMNetClassifier(random_state=0).fit(X, y)
    assert net.selected_features_.size <= 3


def test_near_duplicate_groups():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 6))
    X[:, 3] = X[:, 0] + 0.05 * rng.standard_normal(300)  # twin of 0
    X[:, 5] = 7.0  # constant: correlates with nothing
    order = np.array([3, 1, 0, 2, 5, 4])
    groups = near_duplicate_groups(X, order, 0.9)
    assert [g.tolist() for g in groups] == [[3, 0], [1], [2], [5], [4]]  # leader first, rank order
    assert [g.tolist() for g in near_duplicate_groups(X, order, 1.01)] == [[j] for j in order]


def test_near_duplicate_groups_are_the_same_walk_for_every_block_size():
    """The correlations come in blocks of leaders; the groups are those of the one-by-one walk
    (block 1), with twins, a constant column, a partial order and ``max_features``."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 120))
    X[:, 1] = X[:, 0] + 0.05 * rng.standard_normal(40)
    X[:, 9] = -X[:, 4] + 0.05 * rng.standard_normal(40)
    X[:, 5] = 2.0
    X[:, 60:] = X[:, :60] @ rng.standard_normal((60, 60)) * 0.1 + X[:, 60:]  # correlated block
    for order in (rng.permutation(120), rng.permutation(120)[:70]):
        for threshold, cap in ((0.9, None), (0.3, None), (0.3, 25)):
            one = near_duplicate_groups(X, order, threshold, max_features=cap, block=1)
            for block in (7, 256):
                got = near_duplicate_groups(X, order, threshold, max_features=cap, block=block)
                assert [g.tolist() for g in got] == [g.tolist() for g in one]
            seen = np.concatenate(one)
            assert len(set(seen.tolist())) == seen.size and set(seen.tolist()) <= set(order.tolist())
    with pytest.raises(ValueError, match="block"):
        near_duplicate_groups(X, np.arange(120), 0.9, block=0)


def test_single_rule_counts_twins_apart_and_all_options_are_documented(default_fit):
    X, y, _support, net = default_fit
    single = IRLSADMMNetClassifier(random_state=0, n_features_to_select="single").fit(X, y)
    assert max(single.validation_curve_) == X.shape[1]  # one candidate per feature count
    np.testing.assert_array_equal(single.beta_, net.beta_)  # same training; only the rule differs
    for option in ('``"auto"``', '``"single"``', '``"z"``', "an int ``q``", '``"paired"``', '``"1se"``',
                   '``"min"``'):
        assert option in IRLSADMMNetClassifier.__doc__


def test_selection_options():
    X, y, _beta, _support = make_irls_admm_simulation(noise_std=0.5, random_state=0)
    z = IRLSADMMNetClassifier(random_state=0, n_features_to_select="z", max_epochs=30).fit(X, y)
    np.testing.assert_array_equal(z.get_support(), z.z_ != 0)
    q5 = IRLSADMMNetClassifier(random_state=0, n_features_to_select=5, max_epochs=30).fit(X, y)
    assert q5.selected_features_.size == 5 and np.count_nonzero(q5.coef_) == 5
    for bad in (0, X.shape[1] + 1, "1SE", True):
        with pytest.raises(ValueError, match="n_features_to_select"):
            IRLSADMMNetClassifier(random_state=0, n_features_to_select=bad, max_epochs=2).fit(X, y)
    with pytest.raises(ValueError, match="selection"):
        IRLSADMMNetClassifier(selection="max", max_epochs=2).fit(X, y)
    with pytest.raises(ValueError, match="rule"):
        IRLSADMMNetClassifier(rule="max", max_epochs=2).fit(X, y)
    for bad in (0, -0.1, float("nan"), float("inf"), True, "0.01", (), (0.01, -1.0), (0.01, "0.1"), [float("nan")]):
        with pytest.raises(ValueError, match="select_C"):
            IRLSADMMNetClassifier(select_C=bad, max_epochs=2).fit(X, y)


def test_cv_sets_the_selection_folds_for_both_nets():
    """``cv``: the folds of the selection's table (one row each) and of the refit's C; the
    smaller class caps it; below 2 is refused."""
    from glassnet import MultinomialIRLSADMMNetClassifier

    X, y = make_irls_admm_simulation(n_samples=120, n_features=10, n_true=4, random_state=0)[:2]
    for cls, target in ((IRLSADMMNetClassifier, y), (MultinomialIRLSADMMNetClassifier, np.arange(120) % 3)):
        for cv in (2, 3):
            assert cls(cv=cv, max_epochs=2, random_state=0).fit(X, target).cv_losses_.shape[0] == cv
    few = np.r_[np.zeros(116, int), np.ones(4, int)]  # 4 members in the smaller class: 4 folds
    assert IRLSADMMNetClassifier(cv=10, max_epochs=2, random_state=0).fit(X, few).cv_losses_.shape[0] == 4
    with pytest.raises(ValueError, match="'cv'"):
        IRLSADMMNetClassifier(cv=1).fit(X, y)


def test_auto_selection_settings_follow_the_shape():
    """``select_C`` / ``duplicate_corr`` ``"auto"`` (the binary defaults): ``SELECT_C`` and
    ``DUPLICATE_CORR`` (0.1, 0.9) with more columns than rows, ``TALL_SELECT_C`` and
    ``TALL_DUPLICATE_CORR`` (3, 0.97) otherwise. ``select_C_`` / ``duplicate_corr_`` hold the
    values used, and passing them explicitly gives the same fit."""
    kw = {"random_state": 0, "max_epochs": 3}
    tall = make_irls_admm_simulation(n_samples=120, n_features=10, n_true=4, random_state=0)[:2]
    wide = make_irls_admm_simulation(n_samples=30, n_features=60, random_state=0)[:2]
    t = IRLSADMMNetClassifier(**kw).fit(*tall)
    assert list(t.select_C_) == [est_mod.TALL_SELECT_C] == [3.0]
    assert t.duplicate_corr_ == est_mod.TALL_DUPLICATE_CORR == 0.97
    same = IRLSADMMNetClassifier(select_C=3.0, duplicate_corr=0.97, **kw).fit(*tall)
    np.testing.assert_array_equal(same.get_support(), t.get_support())
    np.testing.assert_array_equal(same.cv_losses_, t.cv_losses_)
    w = IRLSADMMNetClassifier(**kw).fit(*wide)
    assert list(w.select_C_) == [est_mod.SELECT_C] == [0.1] and w.duplicate_corr_ == est_mod.DUPLICATE_CORR == 0.9
    fixed = IRLSADMMNetClassifier(select_C=0.1, duplicate_corr=0.9, **kw).fit(*tall)
    assert list(fixed.select_C_) == [0.1] and fixed.duplicate_corr_ == 0.9
    for bad in ("Auto", "tall", 1.5, 0):
        with pytest.raises(ValueError, match="duplicate_corr"):
            IRLSADMMNetClassifier(duplicate_corr=bad, max_epochs=2).fit(*tall)


def test_select_C_sequence_scores_each_set_at_its_best_C():
    """With a sequence, each candidate set's CV loss is its lowest over the Cs: the validation
    curve is the pointwise minimum of the single-C curves (same net, same folds), and a
    one-element sequence is the number itself."""
    X, y, _beta, _support = make_irls_admm_simulation(n_samples=200, n_features=20, noise_std=0.5,
                                                      random_state=0)
    fit = lambda C: IRLSADMMNetClassifier(random_state=0, max_epochs=10, select_C=C).fit(X, y)
    singles = [fit(C) for C in (0.01, 1.0)]
    both = fit((0.01, 1.0))
    assert list(both.validation_curve_) == list(singles[0].validation_curve_)
    lowest = np.minimum(*[list(m.validation_curve_.values()) for m in singles])
    np.testing.assert_allclose(list(both.validation_curve_.values()), lowest)
    np.testing.assert_array_equal(fit((0.01,)).get_support(), singles[0].get_support())


@pytest.mark.parametrize("make", [
    lambda: IRLSADMMNetClassifier(random_state=0, max_epochs=30),
    lambda: ADMMLogisticRegression(lam=5.0, k_max=20, i_max=200),
    lambda: ADMMLogisticRegression(lam=0.5, k_max=20, i_max=200, n_features_to_select=3),
], ids=["net", "admm-z", "admm-top3"])
def test_predicts_with_exactly_the_reported_features(make):
    X, y, _, _ = make_irls_admm_simulation(n_samples=200, n_features=12, n_true=4, noise_std=0.5, random_state=4)
    est = make().fit(X, y)
    S = est.get_support()
    assert est.coef_.shape == (1, X.shape[1]) and est.intercept_.shape == (1,)
    assert 0 < S.sum() < X.shape[1]
    np.testing.assert_array_equal(est.coef_[0] != 0, S)  # nonzero exactly on the support
    X2 = X.copy()
    X2[:, ~S] = 1e6 * np.random.default_rng(0).standard_normal((X.shape[0], (~S).sum()))
    np.testing.assert_array_equal(est.decision_function(X2), est.decision_function(X))
    np.testing.assert_allclose(est.decision_function(X), X @ est.coef_[0] + est.intercept_[0])


def test_kernel_form_equals_primal_form_of_the_least_squares_step():
    g = torch.Generator().manual_seed(0)
    n, p = 12, 40
    Pt = torch.randn(n, p, generator=g, dtype=torch.float64)
    beta = 0.2 * torch.randn(p, generator=g, dtype=torch.float64)
    z, u = torch.randn(p, generator=g, dtype=torch.float64), torch.randn(p, generator=g, dtype=torch.float64)
    w, Atb = irls_weights(beta, Pt, 1e-10)
    AtA, Atb2 = irls_system(beta, Pt, 1e-10)
    A = w.sqrt()[:, None] * Pt
    torch.testing.assert_close(A.T @ A, AtA)
    F = torch.rand(p, generator=g, dtype=torch.float64) + 0.5
    rho = torch.tensor(0.7, dtype=torch.float64)
    for free in (None, torch.tensor([p - 1]), torch.tensor([0, 5])):
        Ff = F.clone()
        if free is not None:
            Ff[free] = 0.0  # unpenalised columns (an intercept): F = 0
        primal = omega_layer(AtA, Atb2, rho, Ff, z, u)
        kernel = omega_layer_kernel(A, Atb, rho, Ff, z, u, free)
        torch.testing.assert_close(kernel, primal, atol=1e-9, rtol=1e-9)


def test_p_much_larger_than_n_net_and_gradients_agree_in_both_forms():
    g = torch.Generator().manual_seed(1)
    n, p = 10, 60
    Pt = torch.randn(n, p, generator=g, dtype=torch.float64)
    pen = [1.0] * (p - 1) + [0.0]
    a = IRLSADMMNet(p, penalized=pen, solver="primal")
    b = IRLSADMMNet(p, penalized=pen, solver="kernel")
    auto = IRLSADMMNet(p, penalized=pen)  # n < 0.6 p: the kernel form
    with torch.no_grad():
        a.F.mul_(torch.rand(a.F.shape, generator=g, dtype=torch.float64) + 0.5)
    b.load_state_dict(a.state_dict())
    auto.load_state_dict(a.state_dict())
    la, lb = a.loss(a(Pt).beta, Pt), b.loss(b(Pt).beta, Pt)
    torch.testing.assert_close(la, lb)
    torch.testing.assert_close(auto(Pt).beta, a(Pt).beta.detach(), atol=1e-9, rtol=1e-9)
    la.backward()
    lb.backward()
    for (name, pa), pb in zip(a.named_parameters(), b.parameters()):
        torch.testing.assert_close(pa.grad, pb.grad, atol=1e-8, rtol=1e-6, msg=name)
    with pytest.raises(ValueError, match="solver"):
        IRLSADMMNet(3, solver="woodbury")


def test_wide_data_estimator_uses_the_kernel_form_and_finds_signal():
    X, y, _, support = make_irls_admm_simulation(n_samples=40, n_features=400, n_true=4, noise_std=0.1,
                                                 random_state=7)
    a = IRLSADMMNetClassifier(random_state=0, max_epochs=5, n_features_to_select=10).fit(X, y)
    b = IRLSADMMNetClassifier(random_state=0, max_epochs=5, n_features_to_select=10, solver="primal").fit(X, y)
    np.testing.assert_allclose(a.beta_, b.beta_, atol=1e-7)
    np.testing.assert_array_equal(a.get_support(), b.get_support())
    assert len(set(a.selected_features_) & set(support)) >= 2


def test_net_on_a_column_subset_keeps_each_features_parameters():
    g = torch.Generator().manual_seed(0)
    net = IRLSADMMNet(n_features=5, penalized=[1, 1, 1, 1, 0])
    with torch.no_grad():
        net.F.mul_(torch.rand(net.F.shape, generator=g, dtype=torch.float64) + 0.5)  # distinct F_j
    Pt = torch.randn(40, 5, generator=g, dtype=torch.float64)
    with torch.no_grad():
        full = net(Pt).beta
        same = net(Pt, columns=[0, 1, 2, 3, 4]).beta
        perm = net(Pt[:, [2, 0, 4]], columns=[2, 0, 4]).beta
        sub_ref = IRLSADMMNet(n_features=3, penalized=[1, 1, 0])
        sub_ref.F.copy_(net.F[..., [2, 0, 4]])
        ref = sub_ref(Pt[:, [2, 0, 4]]).beta
    torch.testing.assert_close(full, same)
    torch.testing.assert_close(perm, ref)


def test_training_improves_on_untrained_net():
    X, y, _, _ = make_irls_admm_simulation(noise_std=0.5, random_state=1)
    trained = IRLSADMMNetClassifier(random_state=0, cv=2).fit(X, y)  # 2 folds: same path, cheaper
    frozen = IRLSADMMNetClassifier(random_state=0, cv=2, max_epochs=1, lr=1e-12).fit(X, y)
    assert trained.history_.val_loss[trained.history_.best_epoch] < trained.history_.val_loss[0]
    assert trained.score(X, y) >= frozen.score(X, y)


def test_separable_data_stays_finite():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 5))
    y = (X[:, 0] > 0).astype(int)
    X[:, 0] *= 50.0  # a huge margin: sigmoids saturate, exp(-m) overflows in the naive form
    for est in (IRLSADMMNetClassifier(random_state=0, max_epochs=50, cv=2), ADMMLogisticRegression(lam=0.1)):
        est.fit(X, y)
        assert np.all(np.isfinite(est.coef_)) and np.all(np.isfinite(est.beta_))
        assert est.score(X, y) == 1.0
        assert est.get_support()[0]


def test_float32_and_top_q_selection():
    X, y, _, support = make_irls_admm_simulation(noise_std=0.1, random_state=2)
    net = IRLSADMMNetClassifier(dtype="float32", n_features_to_select=8, random_state=0, max_epochs=40).fit(X, y)
    assert net.selected_features_.size == 8
    assert net.transform(X).shape == (X.shape[0], 8)
    assert len(set(net.selected_features_) & set(support)) >= 7
    proba = net.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_array_equal(net.predict(X), net.classes_[(proba[:, 1] > 0.5).astype(int)])


def test_string_labels_and_save_load_round_trip(tmp_path):
    X, y, _, _ = make_irls_admm_simulation(n_samples=150, n_features=8, n_true=2, random_state=3)
    labels = np.where(y == 1, "tumour", "normal")
    net = IRLSADMMNetClassifier(random_state=0, max_epochs=30, cv=2).fit(X, labels)
    assert set(net.predict(X)) <= {"tumour", "normal"}
    save(net, tmp_path / "net.glassnet")
    back = load(tmp_path / "net.glassnet")
    np.testing.assert_array_equal(back.predict_proba(X), net.predict_proba(X))
    np.testing.assert_array_equal(back.get_support(), net.get_support())
    with pytest.raises(FileNotFoundError, match="no saved estimator"):
        load(tmp_path / "missing.glassnet")


def test_rule_is_the_deprecated_name_of_selection(tmp_path):
    """``rule`` (up to 0.4) still works, with a FutureWarning, and gives ``selection``'s fit; the
    two given differently is an error; a file saved before the rename (``rule`` among its
    parameters) loads with the value under ``selection`` and refits without a warning."""
    import json
    import warnings
    import zipfile

    X, y, _, _ = make_irls_admm_simulation(n_samples=150, n_features=8, n_true=2, random_state=3)
    kw = {"random_state": 0, "max_epochs": 10, "cv": 3}
    new = IRLSADMMNetClassifier(selection="min", **kw).fit(X, y)
    with pytest.warns(FutureWarning, match="rule was renamed selection.*selection='min'"):
        old = IRLSADMMNetClassifier(rule="min", **kw).fit(X, y)
    np.testing.assert_array_equal(old.selected_features_, new.selected_features_)
    np.testing.assert_allclose(old.cv_losses_, new.cv_losses_)
    with pytest.raises(ValueError, match="rule='min' and selection='paired' disagree"):
        IRLSADMMNetClassifier(rule="min", selection="paired", **kw).fit(X, y)
    save(new, tmp_path / "new.glassnet")
    with zipfile.ZipFile(tmp_path / "new.glassnet") as z:  # the file as 0.4 wrote it
        members = {n: z.read(n) for n in z.namelist()}
    meta = json.loads(members["meta.json"])
    pairs = meta["root"]["params"]["__dict__"]  # [[name, value], ...]
    value = dict(pairs)["selection"]
    pairs[:] = [[k, value] if k == "rule" else [k, v] for k, v in pairs if k != "selection"]
    members["meta.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(tmp_path / "old.glassnet", "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    back = load(tmp_path / "old.glassnet")
    assert back.get_params()["selection"] == "min" and back.rule == "deprecated"
    np.testing.assert_array_equal(back.predict_proba(X), new.predict_proba(X))
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        back.set_params(max_epochs=2).fit(X, y)


@pytest.mark.parametrize(
    "X, y, match",
    [
        (np.array([[1.0, np.nan], [0.0, 1.0], [1.0, 1.0]]), [0, 1, 0], "NaN"),
        (np.array([[1.0, np.inf], [0.0, 1.0], [1.0, 1.0]]), [0, 1, 0], "infinity"),
        (np.ones((4, 2)), [1, 1, 1, 1], "single class"),
        (np.ones((6, 2)), [0, 1, 2, 0, 1, 2], "Only binary classification"),
        (np.ones((3, 2)), [0, 1], "inconsistent numbers of samples"),
        (np.empty((0, 2)), [], "0 sample"),
        (np.array([["a", "b"], ["c", "d"]]), [0, 1], "could not convert|numeric"),
    ],
)
def test_bad_input_raises(X, y, match):
    with pytest.raises(ValueError, match=match):
        IRLSADMMNetClassifier(max_epochs=2).fit(X, y)


def test_predict_checks_feature_count():
    X, y, _, _ = make_irls_admm_simulation(n_samples=100, n_features=6, n_true=2, random_state=0)
    net = ADMMLogisticRegression(lam=1.0).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        net.predict(X[:, :4])


def test_module_rejects_bad_shapes_and_parameters():
    with pytest.raises(ValueError, match="rho"):
        IRLSADMMNet(n_features=3, rho=0.0)
    with pytest.raises(ValueError, match="shape"):
        IRLSADMMNet(n_features=3)(torch.zeros(5, 4, dtype=torch.float64))


def test_loss_is_stable_for_huge_margins():
    Pt = torch.tensor([[1e4], [-1e4]], dtype=torch.float64)
    loss = IRLSADMMNet(1).loss(torch.ones(1, dtype=torch.float64), Pt)
    torch.testing.assert_close(loss, torch.tensor(1e4, dtype=torch.float64))


def test_refit_classifier_is_ridge_logistic_regression_on_the_selected_columns(default_fit):
    from sklearn.linear_model import LogisticRegression

    X, y, _, net = default_fit
    S = net.selected_features_
    assert net.refit_C_ in est_mod.REFIT_CS
    ref = LogisticRegression(C=net.refit_C_, tol=1e-12, max_iter=100_000).fit(X[:, S], y)
    np.testing.assert_allclose(net.coef_[0, S], ref.coef_[0], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(net.intercept_, ref.intercept_, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(net.predict(X), ref.predict(X[:, S]))
    assert np.abs(net.coef_[0, S]).min() > 1e-3  # a ridge: every selected feature is used
    plain = IRLSADMMNetClassifier(random_state=0, refit=False).fit(X, y)
    np.testing.assert_array_equal(plain.get_support(), net.get_support())  # refit changes coef_ only
    cols = np.r_[S, X.shape[1]]
    y_pm = np.where(y == plain.classes_[1], 1.0, -1.0)
    with torch.no_grad():
        out = plain.module_(torch.as_tensor(y_pm[:, None] * np.c_[X, np.ones(len(y))])[:, cols], columns=cols)
    np.testing.assert_allclose(plain.coef_[0, S], out.beta.numpy()[:-1], atol=1e-12)


@pytest.mark.parametrize("n_classes, weights", [(2, None), (4, None), (3, [0.49, 0.49, 0.02])])
def test_refit_path_losses_equal_one_ridge_fit_per_C(n_classes, weights):
    """The refit scores its C grid by scikit-learn's warm-started path on each fold
    (``ridge_path_losses``): the same held-out losses as one ``ridge_logistic`` fit per C (to the
    solver's tolerance); with a class absent from the training rows (the last case: 2 members,
    one fold trains on neither) it falls back to those fits."""
    from sklearn.datasets import make_classification

    X, y = make_classification(100, 6, n_informative=4, n_redundant=0, n_classes=n_classes,
                               n_clusters_per_class=1, weights=weights, random_state=1)
    folds = make_folds(len(y), 5, y, classification=True, random_state=0) if weights is None else [
        (np.setdiff1d(np.arange(100), va), va) for va in (np.flatnonzero(y == 2), np.arange(0, 100, 5))]
    for tr, va in folds[:2]:  # two folds suffice (the absent-class case is the first of its two)
        path = est_mod.ridge_path_losses(X, y, tr, va, est_mod.REFIT_CS)
        one = [est_mod.held_out_log_loss(est_mod.ridge_logistic(X[tr], y[tr], C), X[va], y[va])
               for C in est_mod.REFIT_CS]
        # lbfgs stops at tol 1e-8 on the gradient: at C = 1e4 on near-separable rows the two
        # starts end up to ~1e-5 apart in the loss; the C the refit picks is the same
        np.testing.assert_allclose(path, one, rtol=1e-4, atol=1e-8)
        assert np.argmin(path) == np.argmin(one)


def test_refit_path_losses_inside_an_active_joblib_backend():
    """Inside ``joblib.parallel_backend("loky", n_jobs=2)`` scikit-learn runs the path's scorer in
    worker processes; the losses still come back (they used to be written to a dict in this
    process, so the fit stopped with ``KeyError: 0.0001``), equal to the serial ones."""
    import joblib
    from sklearn.datasets import make_classification

    X, y = make_classification(80, 6, n_informative=3, n_redundant=0, random_state=0)
    tr, va = np.arange(60), np.arange(60, 80)
    serial = est_mod.ridge_path_losses(X, y, tr, va, est_mod.REFIT_CS)
    with joblib.parallel_backend("loky", n_jobs=2):
        inside = est_mod.ridge_path_losses(X, y, tr, va, est_mod.REFIT_CS)
        model = IRLSADMMNetClassifier(max_epochs=5, cv=3, random_state=0).fit(X, y)
    assert inside == serial
    assert model.refit_C_ in est_mod.REFIT_CS and model.selected_features_.size > 0


def test_small_fit_runs_on_one_thread_and_restores_the_count(monkeypatch):
    """A fit under ``glassnet.utils.SMALL_WORK`` runs on one torch thread (two threads whose
    idle workers spin on a busy machine made a 77 x 5,469 CV 6-20x slower), restored after."""
    seen, fit = [], IRLSADMMNetClassifier._fit
    monkeypatch.setattr(IRLSADMMNetClassifier, "_fit",
                        lambda self, *a, **k: seen.append(torch.get_num_threads()) or fit(self, *a, **k))
    X, y = make_irls_admm_simulation(n_samples=60, n_features=20, random_state=0)[:2]
    before = torch.get_num_threads()
    IRLSADMMNetClassifier(max_epochs=1, n_features_to_select=3, random_state=0).fit(X, y)
    assert seen == [1] and torch.get_num_threads() == before


def test_omega_gradient_wrt_F_is_the_exact_form_not_printed_eq52():
    """dOmega/dF_mm = -2 rho Q F^{mm} Q r + rho Q I^{mm} (z - u) with r = A^T b + rho F^T (z - u)
    (differentiate Q = (A^T A + rho F^T F)^{-1}: dQ = -Q dK Q). Printed eq. 52 has
    ``Q^2 F^{mm} r`` for ``Q F^{mm} Q r``; the single-entry ``F^{mm}`` does not commute with Q, so
    eq. 52 is wrong even at F = 10 I (docs/irls_admm.md gives the measured errors)."""
    g = torch.Generator().manual_seed(0)
    M = 6
    Pt = torch.randn(30, M, generator=g, dtype=torch.float64)
    beta = 0.3 * torch.randn(M, generator=g, dtype=torch.float64)
    AtA, Atb = irls_system(beta, Pt, 1e-10)
    z, u = torch.randn(M, generator=g, dtype=torch.float64), torch.randn(M, generator=g, dtype=torch.float64)
    rho = 0.7
    F = torch.full((M,), 10.0, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(lambda f: omega_layer(AtA, Atb, rho, f, z, u), F)  # (M, M)
    Q = torch.linalg.inv(AtA + rho * torch.diag(F * F))
    r = Atb + rho * F * (z - u)
    exact, eq52 = torch.empty(M, M, dtype=torch.float64), torch.empty(M, M, dtype=torch.float64)
    for m in range(M):
        Fmm = torch.zeros(M, M, dtype=torch.float64)
        Fmm[m, m] = F[m]
        Imm_zu = torch.zeros(M, dtype=torch.float64)
        Imm_zu[m] = (z - u)[m]
        exact[:, m] = -2 * rho * Q @ Fmm @ Q @ r + rho * Q @ Imm_zu
        eq52[:, m] = -2 * rho * Q @ Q @ Fmm @ r + rho * Q @ Imm_zu
    torch.testing.assert_close(jac, exact, atol=1e-12, rtol=1e-9)
    assert (jac - eq52).abs().max() > 1e3 * (jac - exact).abs().max() + 1e-8  # eq. 52 as printed is off


def test_a_stalled_line_search_warns_and_more_admm_iterations_reach_the_optimum():
    """Each stage restarts ADMM from 0, so with too few ADMM iterations every stage gives the
    same inexact Omega; the line search then returns t ~ 0 and the tol test read the standstill
    as convergence (coefficients 0.066 off scikit-learn's, silently). Now a ConvergenceWarning
    names i_max, and a larger i_max reaches the optimum."""
    from scipy.special import expit
    from sklearn.exceptions import ConvergenceWarning

    rng = np.random.default_rng(114)
    n, p = int(rng.integers(30, 150)), int(rng.integers(2, 15))
    X = rng.standard_normal((n, p))
    b = np.zeros(p)
    b[:3] = rng.normal(0, 1.5, 3)
    y = (rng.random(n) < expit(X @ b + 0.5)).astype(int)
    ref = LogisticRegression(l1_ratio=1.0, C=10.0, solver="saga", tol=1e-12, max_iter=10**6).fit(X, y)
    with pytest.warns(ConvergenceWarning, match=r"stalled.*raise i_max \(ADMM iterations per stage, now 200\)"):
        stalled = ADMMLogisticRegression(lam=0.1).fit(X, y)
    assert np.abs(stalled.coef_ - ref.coef_).max() > 1e-2
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        exact = ADMMLogisticRegression(lam=0.1, i_max=2000).fit(X, y)
    np.testing.assert_allclose(exact.coef_, ref.coef_, atol=1e-6)
