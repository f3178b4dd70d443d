"""StackedSPINN: B networks trained as one module must train exactly as B separate fits (the
relaxed CV's refits and the dense start run through it; docs/spinn.md, speed)."""

import numpy as np
import pytest
import torch
from sklearn.base import clone

from glassnet import training
from glassnet.estimators.spinn import (
    RELAX_LR,
    SPINNClassifierCV,
    SPINNRegressorCV,
    _Mask,
    _masked_start,
    _relaxed_cv_losses,
    _relaxed_fits,
    _SPINNLoss,
    _StackedLoss,
)
from glassnet.model_selection import make_folds
from glassnet.nn.spinn import SPINN, HuberLoss, StackedSPINN, logistic_loss, mse_loss, softmax_loss
from glassnet.utils import local_seed


def _nets(n, p=7, hidden=(5, 3), n_out=2, seed=0):
    torch.manual_seed(seed)
    return [SPINN(p, n_out, hidden).double() for _ in range(n)]


@pytest.mark.parametrize("hidden", [(5,), (5, 3), ()])
def test_stack_forward_is_every_network_forward(hidden):
    nets = _nets(3, hidden=hidden)
    cols = np.array([0, 2, 5])
    for net in nets:  # W1 zero outside cols, as the stack assumes
        with torch.no_grad():
            net.W1[:, np.setdiff1d(np.arange(7), cols)] = 0
    X = torch.randn(11, 7, dtype=torch.float64)
    out = StackedSPINN(nets, cols)(X[:, cols])
    assert out.shape == (3, 11, 2)
    for b, net in enumerate(nets):
        torch.testing.assert_close(out[b], net(X))


def test_stack_ridges_and_loss_are_the_per_network_formulas():
    torch.manual_seed(0)
    X, y = torch.randn(9, 7, dtype=torch.float64), torch.randn(9, dtype=torch.float64)
    nets = [SPINN(7, 1, (4,)).double() for _ in range(2)]
    stack = StackedSPINN(nets)
    upper, w1 = stack.ridges()
    for b, net in enumerate(nets):
        torch.testing.assert_close(upper[b], net.ridge())
        torch.testing.assert_close(w1[b], net.ridge(True) - net.ridge())
    Y, W = y[:, None].expand(9, 2), torch.full((9, 2), 1 / 9, dtype=torch.float64)
    got = _StackedLoss(mse_loss, [(0.1, 0.0), (0.01, 0.01)])(stack, X, Y, W)
    want = _SPINNLoss(mse_loss, 0.1)(nets[0], X, y) + _SPINNLoss(mse_loss, 0.01, True)(nets[1], X, y)
    torch.testing.assert_close(got, want)


def test_unstack_writes_back_and_zeroes_the_other_columns():
    nets = _nets(2)
    stack = StackedSPINN(nets, [1, 4])
    with torch.no_grad():
        for prm in stack.parameters():
            prm.add_(1.0)
    out = stack.unstack(_nets(2, seed=1))
    for b, net in enumerate(out):
        assert torch.equal(net.W1[:, [1, 4]], stack.W1[b])
        assert not net.W1[:, [0, 2, 3, 5, 6]].any()
        assert torch.equal(net.upper[-1].bias, stack.biases[-1][b])


@pytest.mark.parametrize("cls", [SPINNRegressorCV, SPINNClassifierCV])
def test_stacked_relaxed_fits_equal_separate_fits(cls):
    """Adam is elementwise and the stacked loss is the sum of the networks' losses, so each
    network takes the steps it would take alone: the stacked refits match one-by-one refits
    (same fresh starts) to rounding, for masks and ridges that differ per network."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 12))
    y = X[:, 0] ** 2 + X[:, 1] + 0.1 * rng.standard_normal(80)
    est = cls(dtype="float64", max_epochs=10)  # 100 Adam epochs per refit
    if est._classification:
        y = (y > np.median(y)).astype(int)
    est.n_features_in_ = X.shape[1]
    Xt, (yt, n_out) = est._tensor(X), est._targets(y)
    spec = est._spec()
    masks = [np.arange(12) < 3, np.isin(np.arange(12), [0, 1, 7]), np.arange(12) < 1]
    ridges = [(0.1, False), (0.01, True), 0.001]
    with local_seed(5):
        stacked = _relaxed_fits(est, spec, (Xt, yt), n_out, list(zip(masks, ridges, strict=True)))
    with local_seed(5):
        for mask, ridge, got in zip(masks, ridges, stacked, strict=True):
            lam, w1 = ridge if isinstance(ridge, tuple) else (ridge, False)
            net = est._build(12, n_out)
            _masked_start(net, mask)
            training.fit(net, _SPINNLoss(spec["loss"], lam, w1), (Xt, yt), optimizer="adam",
                         lr=RELAX_LR, max_epochs=100, project=_Mask(torch.as_tensor(mask)),
                         verbose=False, n_threads=None)
            assert not got.W1[:, ~mask].any()
            for key, value in net.state_dict().items():
                torch.testing.assert_close(got.state_dict()[key], value, rtol=1e-9, atol=1e-10)


def test_stack_needs_a_network():
    with pytest.raises(ValueError, match="at least one network"):
        StackedSPINN([])


@pytest.mark.parametrize("loss", [mse_loss, logistic_loss, softmax_loss, HuberLoss(0.5)])
def test_row_weights_give_the_mean_over_the_weighted_rows(loss):
    torch.manual_seed(0)
    n_out = 3 if loss is softmax_loss else 1
    g = torch.randn(10, n_out, dtype=torch.float64)
    y = torch.randint(0, 3, (10,)) if loss is softmax_loss else torch.randint(0, 2, (10,)).double()
    rows = torch.tensor([0, 2, 3, 7])
    w = torch.zeros(10, dtype=torch.float64)
    w[rows] = 1 / len(rows)
    torch.testing.assert_close(loss(g, y, w), loss(g[rows], y[rows]))


@pytest.mark.parametrize("cls", [SPINNRegressorCV, SPINNClassifierCV])
def test_relaxed_cv_of_all_folds_in_one_stack_equals_fold_by_fold(cls):
    """The relaxed CV trains every fold's refits in one stack (row weights pick the fold's
    training rows, each fold its own standardised targets and seed): the validation losses
    equal those of refitting fold by fold on the fold's rows alone."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 9))
    y = X[:, 0] ** 2 + X[:, 1] + 0.3 * rng.standard_normal(60)
    est = cls(dtype="float64", max_epochs=8)
    if est._classification:
        y = np.digitize(y, np.quantile(y, [0.33, 0.66]))  # 3 classes: softmax
    folds = make_folds(60, 3, y, est._classification, random_state=0)
    pairs = [(np.arange(9) < 2, 0.01), (np.arange(9) < 4, (0.001, True))]
    delta = None if est._classification else 1.0
    got = _relaxed_cv_losses(est, X, y, folds, pairs, seed=7, delta=delta)
    for k, (tr, va) in enumerate(folds):
        with local_seed(7 + k + 1):
            e = clone(est)
            e.n_features_in_ = 9
            yt, n_out = e._targets(y[tr])
            spec = e._spec(delta)
            models = _relaxed_fits(e, spec, (e._tensor(X[tr]), yt), n_out, pairs)
        yv = e._targets(y[va], fitted=True)[0]
        with torch.no_grad():
            want = [float(spec["data_loss"](m, e._tensor(X[va]), yv)) for m in models]
        np.testing.assert_allclose(got[k], want, rtol=1e-9)
