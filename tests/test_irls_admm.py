"""Deep unfolded IRLS-ADMM net: equivalence with Algorithm 1 / L1 logistic regression,
appendix gradients, support recovery, numerics on separable data, bad input, save/load."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from glassnet import ADMMLogisticRegression, IRLSADMMNetClassifier, load, save
from glassnet.datasets import make_irls_admm_simulation
from glassnet.estimators.irls_admm import one_standard_error_q
from glassnet.nn.irls_admm import IRLSADMMNet, irls_system, logistic_loss, omega_layer, z_layer


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
    np.testing.assert_allclose(alg1.coef_, ref, atol=1e-7)
    np.testing.assert_array_equal(alg1.z_ != 0, ref != 0)
    # the unfolded net with its parameters frozen at rho = 1, F = I, t = 1
    net = IRLSADMMNet(n_features=X.shape[1], k_max=10, i_max=1000, lam=lam, rho=1.0, F=1.0, t=1.0, trainable=False)
    y_pm = np.where(y == 1, 1.0, -1.0)
    with torch.no_grad():
        out = net(torch.as_tensor(y_pm[:, None] * X))
    np.testing.assert_allclose(out.beta.numpy(), ref, atol=1e-7)
    np.testing.assert_allclose(out.beta.numpy(), alg1.coef_, atol=1e-7)


def test_intercept_is_unpenalised_kkt(small_problem):
    X, y, _ = small_problem
    X = X + 3.0  # an offset the intercept must absorb
    lam = 5.0
    m = ADMMLogisticRegression(lam=lam, k_max=30, i_max=1000).fit(X, y)
    y_pm = np.where(y == 1, 1.0, -1.0)
    margin = y_pm * (X @ m.coef_ + m.intercept_)
    r = -y_pm / (1 + np.exp(margin))  # dE/d(score)
    grad, grad0 = X.T @ r, r.sum()
    assert abs(grad0) < 1e-6  # stationarity in the unpenalised intercept
    active = m.z_ != 0  # the split variable carries the exact zeros
    assert 0 < active.sum() < X.shape[1]
    np.testing.assert_allclose(grad[active], -lam * np.sign(m.coef_[active]), atol=1e-6)
    assert np.all(np.abs(grad[~active]) <= lam + 1e-6)
    np.testing.assert_allclose(m.coef_[~active], 0.0, atol=1e-8)


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


def test_support_recovery_on_paper_simulation():
    X, y, _beta, support = make_irls_admm_simulation(noise_std=0.5, random_state=0)
    net = IRLSADMMNetClassifier(random_state=0).fit(X, y)
    top8 = np.argsort(-net.feature_importances_)[:8]
    assert set(top8) == set(support)  # the paper's ranking by |beta| finds the truth
    sel = set(net.selected_features_)
    assert len(sel & set(support)) >= 4 and len(sel - set(support)) <= 4  # FP rate < 0.1
    # the classifier uses exactly the selected features
    assert set(np.flatnonzero(net.coef_)) == sel
    assert net.score(X, y) > 0.95
    q = len(sel)
    assert net.validation_curve_[q] <= min(net.validation_curve_.values()) + 0.1


def test_selection_options():
    X, y, _beta, _support = make_irls_admm_simulation(noise_std=0.5, random_state=0)
    z = IRLSADMMNetClassifier(random_state=0, n_features_to_select="z").fit(X, y)
    np.testing.assert_array_equal(z.get_support(), z.z_ != 0)
    q5 = IRLSADMMNetClassifier(random_state=0, n_features_to_select=5).fit(X, y)
    assert q5.selected_features_.size == 5 and np.count_nonzero(q5.coef_) == 5
    with pytest.raises(ValueError, match="n_features_to_select"):
        IRLSADMMNetClassifier(random_state=0, n_features_to_select=0, max_epochs=2).fit(X, y)


def test_one_standard_error_rule():
    b = np.random.default_rng(0).standard_normal(100)
    b = (b - b.mean()) / b.std(ddof=1)  # so each q's standard error is exactly 0.3 / 10
    losses = {1: 1.0 + 0.3 * b, 2: 0.5 + 0.3 * b, 3: 0.49 + 0.3 * b, 4: 0.48 + 0.3 * b}
    assert one_standard_error_q(losses) == 2  # within 0.03 of the best (q = 4)
    losses[2] = losses[2] + 0.2
    assert one_standard_error_q(losses) == 3


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
    trained = IRLSADMMNetClassifier(random_state=0).fit(X, y)
    frozen = IRLSADMMNetClassifier(random_state=0, max_epochs=1, lr=1e-12).fit(X, y)
    assert trained.history_.val_loss[trained.history_.best_epoch] < trained.history_.val_loss[0]
    assert trained.score(X, y) >= frozen.score(X, y)


def test_separable_data_stays_finite():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 5))
    y = (X[:, 0] > 0).astype(int)
    X[:, 0] *= 50.0  # a huge margin: sigmoids saturate, exp(-m) overflows in the naive form
    for est in (IRLSADMMNetClassifier(random_state=0, max_epochs=50), ADMMLogisticRegression(lam=0.1)):
        est.fit(X, y)
        assert np.all(np.isfinite(est.coef_))
        assert est.score(X, y) == 1.0
        assert est.get_support()[0]


def test_float32_and_top_q_selection():
    X, y, _, support = make_irls_admm_simulation(noise_std=0.1, random_state=2)
    net = IRLSADMMNetClassifier(dtype="float32", n_features_to_select=8, random_state=0).fit(X, y)
    assert net.selected_features_.size == 8
    assert net.transform(X).shape == (X.shape[0], 8)
    assert len(set(net.selected_features_) & set(support)) >= 7
    proba = net.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_array_equal(net.predict(X), net.classes_[(proba[:, 1] > 0.5).astype(int)])


def test_string_labels_and_save_load_round_trip(tmp_path):
    X, y, _, _ = make_irls_admm_simulation(n_samples=150, n_features=8, n_true=2, random_state=3)
    labels = np.where(y == 1, "tumour", "normal")
    net = IRLSADMMNetClassifier(random_state=0, max_epochs=30).fit(X, labels)
    assert set(net.predict(X)) <= {"tumour", "normal"}
    save(net, tmp_path / "net.joblib")
    back = load(tmp_path / "net.joblib")
    np.testing.assert_array_equal(back.predict_proba(X), net.predict_proba(X))
    np.testing.assert_array_equal(back.get_support(), net.get_support())
    with pytest.raises(FileNotFoundError, match="no saved estimator"):
        load(tmp_path / "missing.joblib")


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
    loss = logistic_loss(torch.ones(1, dtype=torch.float64), Pt)
    torch.testing.assert_close(loss, torch.tensor(1e4, dtype=torch.float64))


@parametrize_with_checks(
    [IRLSADMMNetClassifier(max_epochs=5, random_state=0), ADMMLogisticRegression(k_max=5, i_max=50)]
)
def test_sklearn_contract(estimator, check):
    check(estimator)
