"""MatNet: equivalence with the Kronecker dense layer, gradients against the paper's appendix
back-propagation (6.6)-(6.17), (6.20)-(6.29), KL term, unit-norm constraint, shapes, save/load."""

import numpy as np
import pytest
import torch

from glassnet import MatNetClassifier, MatNetRegressor, load, save
from glassnet.nn.matnet import BilinearLayer, MatNet, MultimodalMatNetAutoencoder, kl_sparsity

torch.set_num_threads(1)


def vec(M):
    """Column-stacking vec of the paper (last two dims)."""
    return M.transpose(-1, -2).reshape(*M.shape[:-2], -1)


def sig_prime_from_output(S):
    return S * (1 - S)  # (6.14)


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(0)


def test_bilinear_layer_equals_kronecker_dense_layer(gen):
    torch.manual_seed(0)
    layer = BilinearLayer((5, 4), (3, 6), activation="tanh").double()
    with torch.no_grad():
        layer.B.normal_()
    X = torch.randn(7, 5, 4, dtype=torch.float64, generator=gen)
    N = layer.pre_activation(X)
    # vec(U X V^T) = (V kron U) vec(X)  (eq. 2.11)
    dense_col = vec(X) @ layer.kron_weight(order="col").T + vec(layer.B)
    torch.testing.assert_close(vec(N), dense_col)
    dense_row = X.flatten(1) @ layer.kron_weight(order="row").T + layer.B.flatten()
    torch.testing.assert_close(N.flatten(1), dense_row)
    torch.testing.assert_close(layer(X), torch.tanh(N))
    # degrees of freedom: I'I + J'J versus I'I J'J
    assert layer.U[0].numel() + layer.V[0].numel() == 3 * 5 + 6 * 4
    assert layer.kron_weight().numel() == 3 * 5 * 6 * 4


def test_multimodal_layer_is_sum_of_bilinear_maps(gen):
    layer = BilinearLayer([(4, 4), (3, 5)], (2, 2)).double()
    X1 = torch.randn(3, 4, 4, dtype=torch.float64, generator=gen)
    X2 = torch.randn(3, 3, 5, dtype=torch.float64, generator=gen)
    expect = sum(layer.U[j] @ X @ layer.V[j].T for j, X in enumerate((X1, X2))) + layer.B
    torch.testing.assert_close(layer(X1, X2), torch.sigmoid(expect))  # eq. 3.1
    with pytest.raises(ValueError, match="2 input matrices"):
        layer(X1)


def test_regression_gradients_match_appendix_backprop(gen):
    """Autograd equals (6.9)-(6.14): delta recursion and dL/dU, dL/dV, dL/dB of every layer."""
    torch.manual_seed(1)
    net = MatNet((5, 4), [(4, 3), (3, 3)], head="regression", output_shape=(2, 3),
                 output_activation="sigmoid").double()
    for p in net.parameters():
        with torch.no_grad():
            p.add_(0.3 * torch.randn(p.shape, dtype=p.dtype, generator=gen))
    n = 6
    X = torch.randn(n, 5, 4, dtype=torch.float64, generator=gen)
    Y = torch.rand(n, 2, 3, dtype=torch.float64, generator=gen)
    O = net(X)
    loss = 0.5 * ((Y - O) ** 2).sum() / n  # (2.8)
    loss.backward()

    layers = list(net.layers) + [net.out]
    with torch.no_grad():
        Xs = [X]  # X^(1), X^(2), ..., X^(L+1)
        for layer in layers:
            Xs.append(layer(Xs[-1]))
        delta = (Xs[-1] - Y) * sig_prime_from_output(Xs[-1]) / n  # (6.9), with the 1/N of (2.8)
        for l in reversed(range(len(layers))):
            U, V, Xl = layers[l].U[0], layers[l].V[0], Xs[l]
            torch.testing.assert_close(layers[l].U[0].grad, (delta @ V @ Xl.transpose(1, 2)).sum(0))  # (6.10)
            torch.testing.assert_close(layers[l].V[0].grad, (delta.transpose(1, 2) @ U @ Xl).sum(0))  # (6.11)
            torch.testing.assert_close(layers[l].B.grad, delta.sum(0))  # (6.12)
            if l > 0:
                delta = (U.T @ delta @ V) * sig_prime_from_output(Xs[l])  # (6.13)


@pytest.mark.parametrize("head", ["dense", "bilinear"])
def test_classification_gradients_match_appendix_backprop(gen, head):
    """Case 3: (6.15)-(6.17) at the head, then (6.10)-(6.13) below; case 2 likewise."""
    torch.manual_seed(2)
    K = 4
    net = MatNet((6, 5), [(4, 4), (3, 2)], head=head, n_classes=K).double()
    n = 8
    X = torch.randn(n, 6, 5, dtype=torch.float64, generator=gen)
    y = torch.arange(n) % K
    logits, H = net(X, return_hidden=True)
    torch.nn.functional.cross_entropy(logits, y).backward()  # (2.9) with the 1/N

    with torch.no_grad():
        O = torch.softmax(logits, 1)
        T = torch.nn.functional.one_hot(y, K).double()
        dL = (O - T) / n  # delta^(L) = O_K - T_K
        XL = H[-1]
        if head == "dense":
            W = net.out.weight  # rows are u_k (in row-major vec order)
            torch.testing.assert_close(net.out.weight.grad.T, XL.flatten(1).T @ dL)  # (6.16)
            torch.testing.assert_close(net.out.bias.grad, dL.sum(0))  # (6.17)
            Ucal = W.reshape(K, *XL.shape[1:])  # tensor with U(:, :, k) = U_k
            delta = sig_prime_from_output(XL) * torch.einsum("nk,kij->nij", dL, Ucal)  # (6.15)
        else:
            u, v = net.U_out, net.V_out
            torch.testing.assert_close(net.U_out.grad, torch.einsum("nk,nij,kj->ki", dL, XL, v))
            torch.testing.assert_close(net.V_out.grad, torch.einsum("nk,ki,nij->kj", dL, u, XL))
            torch.testing.assert_close(net.tb.grad, dL.sum(0))
            delta = sig_prime_from_output(XL) * torch.einsum("nk,ki,kj->nij", dL, u, v)
        Xs = [X] + H
        for l in reversed(range(len(net.layers))):
            layer = net.layers[l]
            U, V, Xl = layer.U[0], layer.V[0], Xs[l]
            torch.testing.assert_close(layer.U[0].grad, (delta @ V @ Xl.transpose(1, 2)).sum(0))  # (6.6)
            torch.testing.assert_close(layer.V[0].grad, (delta.transpose(1, 2) @ U @ Xl).sum(0))  # (6.7)
            torch.testing.assert_close(layer.B.grad, delta.sum(0))  # (6.8)
            if l > 0:
                delta = (U.T @ delta @ V) * sig_prime_from_output(Xs[l])


def test_kl_sparsity_value_and_gradient(gen):
    rho, n = 0.05, 10
    N = torch.randn(n, 3, 4, dtype=torch.float64, generator=gen, requires_grad=True)
    H = torch.sigmoid(N)
    R = kl_sparsity(H, rho)
    rb = H.detach().mean(0)
    expect = (rho * torch.log(rho / rb) + (1 - rho) * torch.log((1 - rho) / (1 - rb))).sum()
    torch.testing.assert_close(R.detach(), expect)  # (2.13)
    R.backward()
    # dR/dN_n = (1/N) [-rho/rho_bar + (1-rho)/(1-rho_bar)] (.) sigma'(N_n)   (Sec. 6.3, 6.5)
    d_rho = -rho / rb + (1 - rho) / (1 - rb)
    torch.testing.assert_close(N.grad, d_rho / n * sig_prime_from_output(H.detach()))
    # zero exactly at rho_bar = rho; finite for saturated units
    assert kl_sparsity(torch.full((5, 2, 2), rho), rho).abs() < 1e-12
    assert torch.isfinite(kl_sparsity(torch.ones(5, 2, 2), rho))
    with pytest.raises(ValueError, match="rho"):
        kl_sparsity(H, 1.5)


def test_autoencoder_gradients_match_appendix(gen):
    """(6.20)-(6.22) for R_j, S_j, C_j and (6.27)-(6.29) for U_j, V_j, B (KL on, no decay)."""
    torch.manual_seed(3)
    shapes = [(5, 5), (4, 6)]
    ae = MultimodalMatNetAutoencoder(shapes, hidden_shape=(3, 3)).double()
    n, beta, rho = 7, 0.7, 0.1
    Xs = [torch.rand(n, *s, dtype=torch.float64, generator=gen) for s in shapes]
    X_hat, H = ae(*Xs, return_hidden=True)
    loss = ae.reconstruction_loss(X_hat, Xs) + ae.penalty(H, lam=0.0, beta=beta, rho=rho)
    loss.backward()
    with torch.no_grad():
        delta1 = 0
        for j in range(len(shapes)):
            G = (X_hat[j] - Xs[j]) * sig_prime_from_output(X_hat[j])  # delta^2_ij (.) sigma'
            R, S = ae.R[j], ae.S[j]
            torch.testing.assert_close(R.grad, (G @ S @ H.transpose(1, 2)).sum(0) / n)  # (6.20)
            torch.testing.assert_close(S.grad, (G.transpose(1, 2) @ R @ H).sum(0) / n)  # (6.21)
            torch.testing.assert_close(ae.C[j].grad, G.sum(0) / n)  # (6.22)
            delta1 = delta1 + R.T @ G @ S
        rb = H.mean(0)
        E = (delta1 + beta * (-rho / rb + (1 - rho) / (1 - rb))) * sig_prime_from_output(H)
        for j in range(len(shapes)):
            U, V = ae.U[j], ae.V[j]
            torch.testing.assert_close(U.grad, (E @ V @ Xs[j].transpose(1, 2)).sum(0) / n)  # (6.27)
            torch.testing.assert_close(V.grad, (E.transpose(1, 2) @ U @ Xs[j]).sum(0) / n)  # (6.28)
        torch.testing.assert_close(ae.B.grad, E.sum(0) / n)  # (6.29)


def test_weight_decay_includes_output_layer():
    net = MatNet((4, 4), [(3, 3)], head="dense", n_classes=3).double()
    X = torch.zeros(2, 4, 4, dtype=torch.float64)
    H = net.hidden(X)
    pen = net.penalty(H, lam=0.5)
    expect = 0.5 * sum((w ** 2).sum() for w in (net.layers[0].U[0], net.layers[0].V[0], net.out.weight))
    torch.testing.assert_close(pen, expect)


def _digits(n=600):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X[:n] / 16.0, y[:n]


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_unit_norm_rows_hold_after_training(optimizer):
    X, y = _digits(400)
    kw = {"lr": 1.0, "batch_size": None, "max_epochs": 5} if optimizer == "lbfgs" else {"max_epochs": 5}
    clf = MatNetClassifier(input_shape=(8, 8), hidden_shapes=[(6, 6), (4, 4)], head="bilinear",
                           unit_norm=True, optimizer=optimizer, random_state=0, **kw).fit(X, y)
    mods = [clf.module_.layers[0], clf.module_.layers[1]]
    for layer in mods:
        U_eff, V_eff = layer.weights(0)
        for W in (U_eff, V_eff, layer.U[0], layer.V[0]):
            np.testing.assert_allclose(W.norm(dim=1).detach().numpy(), 1.0, atol=1e-5)
    for W in (clf.module_.U_out, clf.module_.V_out):
        np.testing.assert_allclose(W.norm(dim=1).detach().numpy(), 1.0, atol=1e-5)
    # the parameters did move: training is not a no-op on the sphere
    assert clf.history_.train_loss[-1] < clf.history_.train_loss[0]
    # without the constraint rows drift away from norm 1
    free = MatNetClassifier(input_shape=(8, 8), hidden_shapes=[(6, 6)], unit_norm=False,
                            max_epochs=5, random_state=0).fit(X, y)
    assert np.abs(free.module_.layers[0].U[0].norm(dim=1).detach().numpy() - 1).max() > 1e-3


def test_matrix_and_row_input_agree():
    X, y = _digits(300)
    a = MatNetClassifier(input_shape=(8, 8), hidden_shapes=[(4, 4)], max_epochs=3, random_state=0).fit(X, y)
    b = MatNetClassifier(hidden_shapes=[(4, 4)], max_epochs=3, random_state=0).fit(X.reshape(-1, 8, 8), y)
    assert a.input_shape_ == b.input_shape_ == (8, 8)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X.reshape(-1, 8, 8)), atol=1e-6)
    np.testing.assert_allclose(a.predict_proba(X), a.predict_proba(X.reshape(-1, 8, 8)))


def test_classifier_learns_digits():
    X, y = _digits(1000)
    clf = MatNetClassifier(input_shape=(8, 8), hidden_shapes=[(8, 8)], unit_norm=False,
                           activation="sigmoid", lam=1e-4, max_epochs=30,
                           random_state=0).fit(X[:700], y[:700])
    assert clf.n_parameters_ == 3 * 64 + 64 * 10 + 10  # U, V, B and the dense head
    assert clf.score(X[700:], y[700:]) > 0.9
    p = clf.predict_proba(X[700:710])
    np.testing.assert_allclose(p.sum(1), 1.0)
    H = clf.hidden_activations(X[:5])
    assert H[0].shape == (5, 8, 8) and ((H[0] > 0) & (H[0] < 1)).all()


def test_regressor_recovers_bilinear_map(gen):
    rng = np.random.default_rng(0)
    A, Bm = rng.normal(size=(3, 5)), rng.normal(size=(2, 4))
    X = rng.normal(size=(400, 5, 4))
    Y = np.tanh(np.einsum("ai,nij,bj->nab", A, X, Bm))
    reg = MatNetRegressor(hidden_shapes=[(6, 6)], activation="tanh", unit_norm=False,
                          max_epochs=150, lr=0.01, batch_size=50, random_state=0).fit(X[:300], Y[:300])
    pred = reg.predict(X[300:])
    assert pred.shape == (100, 3, 2)
    r2 = 1 - ((pred - Y[300:]) ** 2).sum() / ((Y[300:] - Y[300:].mean(0)) ** 2).sum()
    assert r2 > 0.8
    # 1-d targets give 1-d predictions
    r = MatNetRegressor(hidden_shapes=[(3, 3)], max_epochs=2, random_state=0).fit(X[:50].reshape(50, -1), Y[:50, 0, 0],)
    assert r.predict(X[:4].reshape(4, -1)).shape == (4,)


def test_bad_shapes_raise_clear_errors():
    X, y = _digits(100)
    with pytest.raises(ValueError, match="does not fit X"):
        MatNetClassifier(input_shape=(7, 8), max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="hidden_shapes"):
        MatNetClassifier(hidden_shapes=[(4, 4, 4)], max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="hidden_shapes"):
        MatNetClassifier(hidden_shapes=[(0, 4)], max_epochs=1).fit(X, y)
    clf = MatNetClassifier(hidden_shapes=[(3, 3)], max_epochs=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="fitted on"):
        clf.predict(np.zeros((2, 4, 16)))
    with pytest.raises(ValueError, match="features"):
        clf.predict(np.zeros((2, 63)))
    with pytest.raises(ValueError, match="head"):
        MatNetClassifier(head="regression", max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="output_shape"):
        MatNetRegressor(output_shape=(2, 2), max_epochs=1).fit(X, np.zeros((100, 3)))
    with pytest.raises(ValueError, match=r"output_shape=\(3, 3\) does not fit y of matrices"):
        MatNetRegressor(output_shape=(3, 3), max_epochs=1).fit(X, np.zeros((100, 2, 3)))
    with pytest.raises(ValueError, match="NaN|nan|infinity"):
        Xn = X.copy()
        Xn[0, 0] = np.nan
        MatNetClassifier(max_epochs=1).fit(Xn, y)
    net = MatNet((8, 8), [(3, 3)])
    with pytest.raises(ValueError, match=r"\(n, 8, 8\)"):
        net(torch.zeros(2, 8, 7))
    with pytest.raises(ValueError, match="activation"):
        MatNet((8, 8), [(3, 3)], activation="swish")
    with pytest.raises(ValueError, match="sigmoid"):
        MatNet((8, 8), [(3, 3)], activation="relu").penalty([torch.zeros(1, 3, 3)], beta=1.0)


def test_save_load_round_trip(tmp_path):
    X, y = _digits(200)
    clf = MatNetClassifier(hidden_shapes=[(4, 4)], max_epochs=2, random_state=0).fit(X, y)
    save(clf, tmp_path / "m.joblib")
    back = load(tmp_path / "m.joblib")
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    assert back.get_params() == clf.get_params()


def test_kl_sparsity_lowers_mean_activation():
    X, y = _digits(500)
    kw = {"hidden_shapes": [(8, 8)], "unit_norm": False, "max_epochs": 20, "random_state": 0,
          "activation": "sigmoid", "lam": 0.0}
    plain = MatNetClassifier(**kw).fit(X, y)
    sparse = MatNetClassifier(beta=1.0, rho=0.05, **kw).fit(X, y)
    assert sparse.hidden_activations(X)[0].mean() < plain.hidden_activations(X)[0].mean() - 0.1


def test_validation_split_and_early_stopping():
    X, y = _digits(400)
    clf = MatNetClassifier(hidden_shapes=[(4, 4)], max_epochs=200, lam=1e-3, validation_fraction=0.25,
                           patience=3, lr=0.05, random_state=0).fit(X, y)
    h = clf.history_
    assert len(h.val_loss) == h.n_epochs == clf.n_iter_
    assert h.stopped_early and h.n_epochs < 200
    assert 0 <= h.best_epoch < h.n_epochs


def test_regressor_sigmoid_output_is_papers_case_1():
    """output_activation="sigmoid": targets in (0, 1) are used unscaled, predictions stay in (0, 1)."""
    rng = np.random.default_rng(1)
    X = rng.random((200, 4, 4))
    Y = 1 / (1 + np.exp(-(X.sum(axis=2, keepdims=True) - 2)))  # (200, 4, 1) in (0, 1)
    reg = MatNetRegressor(hidden_shapes=[(4, 4)], output_activation="sigmoid", unit_norm=False,
                          max_epochs=100, random_state=0).fit(X, Y)
    np.testing.assert_array_equal(reg.y_mean_, 0.0)
    np.testing.assert_array_equal(reg.y_scale_, 1.0)
    P = reg.predict(X)
    assert P.shape == Y.shape and ((P > 0) & (P < 1)).all()
    assert np.abs(P - Y).mean() < 0.5 * np.abs(Y - Y.mean()).mean()


def test_auto_hidden_shape_is_the_papers_20x20_and_keeps_column_inputs_columns():
    """hidden_shapes="auto": one 20x20 hidden matrix; a side of 1 stays 1."""
    rng = np.random.default_rng(0)
    for shape, hidden in [((8, 8), (20, 20)), ((28, 28), (20, 20)), ((30, 1), (20, 1)),
                          ((5, 24), (20, 20)), ((1, 7), (1, 20))]:
        X = rng.random((24, *shape))
        y = np.arange(24) % 2
        clf = MatNetClassifier(lam=0.0, max_epochs=1, random_state=0).fit(X, y)
        assert [tuple(L.out_shape) for L in clf.module_.layers] == [hidden]


def test_auto_lam_is_chosen_on_a_validation_split_and_refitted():
    X, y = _digits(500)
    clf = MatNetClassifier(lam=(10.0, 1e-4), max_epochs=20, random_state=0).fit(X, y)
    grid, scores = zip(*clf.lam_scores_)
    assert grid == (10.0, 1e-4)
    # the huge decay underfits: higher validation cross-entropy, so it is not chosen
    assert scores[0] > scores[1] and clf.lam_ == 1e-4
    assert clf.score(X, y) > 0.9  # refitted on all rows with the chosen value
    fixed = MatNetClassifier(lam=1e-3, max_epochs=2, random_state=0).fit(X, y)
    assert fixed.lam_ == 1e-3 and fixed.lam_scores_ == []
    with pytest.raises(ValueError, match="lam"):
        MatNetClassifier(lam="big").fit(X, y)
    with pytest.raises(ValueError, match="lam"):
        MatNetClassifier(lam=-1.0).fit(X, y)


def test_auto_lam_candidates_stop_early_and_the_refit_runs_the_chosen_epochs():
    """lam="auto" on a validation part of >= AUTO_EARLY_STOP_MIN_ROWS rows: each candidate stops
    AUTO_PATIENCE epochs after its best validation loss, and the refit on all rows runs
    ceil(REFIT_EPOCHS_FACTOR x the chosen candidate's epochs to its best)."""
    import math

    from glassnet.estimators import matnet as M

    X, y = _digits(600)  # validation part: 120 rows
    clf = MatNetClassifier(hidden_shapes=[(6, 6)], max_epochs=300, lr=0.05,
                           random_state=0).fit(X, y)
    epochs = dict(clf.lam_epochs_)
    assert sorted(epochs) == sorted(M.LAM_GRID)
    assert all(1 <= e < 300 - M.AUTO_PATIENCE for e in epochs.values())  # every one stopped
    want = min(300, math.ceil(M.REFIT_EPOCHS_FACTOR * epochs[clf.lam_]))
    assert clf.n_iter_ == want and not clf.history_.val_loss  # the refit monitors nothing
    # the scores are the validation losses at each candidate's best epoch: the chosen is lowest
    assert dict(clf.lam_scores_)[clf.lam_] == min(v for _, v in clf.lam_scores_)


def test_auto_lam_on_a_small_validation_part_trains_every_run_for_max_epochs():
    X, y = _digits(150)  # validation part: 30 rows, too noisy to stop on
    clf = MatNetClassifier(hidden_shapes=[(4, 4)], max_epochs=15, random_state=0).fit(X, y)
    assert all(e == 15 for _, e in clf.lam_epochs_) and clf.n_iter_ == 15
    fixed = MatNetClassifier(lam=1e-3, max_epochs=3, random_state=0).fit(X, y)
    assert fixed.lam_epochs_ == [] and fixed.n_iter_ == 3


def test_regressor_default_fits_a_linear_target_and_bilinear_scalar_head_warns():
    """Issue 11: a linear target on 8x8 inputs. The old default (bilinear 1x1 head, unit-norm
    rows, sigmoid, no decay) is rank-limited; the dense head of the default is not."""
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=400, n_features=64, random_state=0)
    Xtr, Xte, ytr, yte = X[:300].reshape(-1, 8, 8), X[300:].reshape(-1, 8, 8), y[:300], y[300:]
    new = MatNetRegressor(random_state=0).fit(Xtr, ytr)
    assert new.head_ == "dense" and new.score(Xte, yte) > 0.95
    with pytest.warns(UserWarning, match="rank-one"):
        old = MatNetRegressor(head="bilinear", hidden_shapes=[(20, 20)], activation="sigmoid",
                              unit_norm=True, lam=0.0, random_state=0).fit(Xtr, ytr)
    assert old.score(Xte, yte) < new.score(Xte, yte) - 0.2


def test_auto_lam_refits_on_every_row_whatever_the_validation_fraction():
    """``validation_fraction`` only splits the candidates with ``lam="auto"``: the chosen
    ``lam`` is refitted on all rows (a given 0.2 used to keep 20% out of the refit too, so it
    differed from the default, which is 0.2)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3, 3))
    y = (X[:, 0, 0] > 0).astype(int)
    kw = {"hidden_shapes": [(3, 3)], "max_epochs": 20, "random_state": 0}
    given = MatNetClassifier(validation_fraction=0.2, **kw).fit(X, y)
    default = MatNetClassifier(**kw).fit(X, y)
    np.testing.assert_array_equal(given.predict_proba(X), default.predict_proba(X))
    # too few rows to split a grid: its value nearest LAM_FALLBACK, not a value outside it
    assert MatNetClassifier(lam=(0.5, 1.0), **kw).fit(X[:8], y[:8]).lam_ == 0.5


def test_matrix_inputs_targets_and_weights_edge_cases():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 3, 3))
    y = (X[:, 0, 0] > 0).astype(int)
    fast = {"hidden_shapes": [(3, 3)], "max_epochs": 3, "batch_size": None, "random_state": 0, "lam": 1e-3}
    clf = MatNetClassifier(**fast).fit(X.tolist(), y)  # a list of matrices is 3-d input
    assert clf.input_shape_ == (3, 3)
    np.testing.assert_array_equal(clf.predict(X[:5].tolist()), clf.predict(X[:5]))
    for bad, word in ((np.zeros((0, 3, 3)), "no samples"), (np.zeros((5, 3, 3, 1)), "got 4-d")):
        with pytest.raises(ValueError, match=word):
            MatNetClassifier(**fast).fit(bad, y[: len(bad)])
    with pytest.raises(ValueError, match="no samples"):
        clf.predict(X[:0])
    w = np.ones(60)
    w[:2] = 1e308  # the mean of the weights overflowed (ZeroDivisionError)
    assert MatNetClassifier(**fast).fit(X, y, sample_weight=w).predict(X).shape == (60,)
    Y = rng.standard_normal((60, 2, 2))
    reg = MatNetRegressor(**fast).fit(X, Y)
    Yhat = reg.predict(X)  # score of matrix targets: R^2 over their entries (it used to raise)
    from sklearn.metrics import r2_score

    assert reg.score(X, Y) == pytest.approx(r2_score(Y.reshape(60, -1), Yhat.reshape(60, -1)))
    with pytest.raises(ValueError, match="one target per sample"):
        MatNetRegressor(**fast).fit(X, 5.0)
    with pytest.raises(ValueError, match=r"hidden_shapes=\[\] \(no hidden layer\) needs head='bilinear'"):
        MatNetRegressor(**{**fast, "hidden_shapes": []}).fit(X, X[:, 0, 0])
    with pytest.raises(ValueError, match=r"'sigmoid' models targets in \[0, 1\]"):
        MatNetRegressor(head="bilinear", output_activation="sigmoid", output_shape=(1, 1),
                        **fast).fit(X, 10 * X[:, 0, 0])
    with pytest.raises(ValueError, match="pair of positive integers"):
        MatNet((3, 3), [(2.7, 3)])  # used to build a (2, 3) layer


def test_bilinear_head_fits_an_exactly_bilinear_matrix_target():
    """Each entry of an a x b target was standardised by its own deviation, which makes an
    exactly bilinear U X V^T target non-bilinear (training relative RMSE 1.8e-2 at any number of
    epochs); one shared scale keeps it bilinear."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 4, 5))
    A, B = rng.standard_normal((3, 4)), rng.standard_normal((2, 5))
    Y = np.einsum("ai,nij,bj->nab", A, X, B) + 3.0
    est = MatNetRegressor(hidden_shapes=[], lam=0.0, optimizer="lbfgs", batch_size=None, max_epochs=2000,
                          dtype="float64", random_state=0).fit(X, Y)
    assert np.sqrt(np.mean((est.predict(X) - Y) ** 2)) / Y.std() < 1e-3
    assert np.ptp(est.y_scale_) == 0 and est.y_mean_.shape == (6,)


def test_a_seed_gives_the_same_fit_under_any_default_dtype():
    """The module's start was drawn in torch's default dtype, so a float64 default (common in
    scientific code) changed a seeded fit (probabilities 0.42 apart on digits)."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X, y = (X[:120] / 16).reshape(-1, 8, 8), y[:120]
    kw = {"random_state": 0, "max_epochs": 3, "lam": 1e-3, "dtype": "float64"}
    p32 = MatNetClassifier(**kw).fit(X, y).predict_proba(X)
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        p64 = MatNetClassifier(**kw).fit(X, y).predict_proba(X)
    finally:
        torch.set_default_dtype(default)
    np.testing.assert_array_equal(p32, p64)
