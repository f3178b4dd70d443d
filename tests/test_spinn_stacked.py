"""StackedSPINN: B networks trained as one module must train exactly as B separate fits (the
relaxed CV's refits and the dense start run through it; docs/spinn.md, speed)."""

import numpy as np
import pytest
import torch

from glassnet import training
from glassnet.estimators.spinn import (
    RELAX_LR,
    SPINNClassifierCV,
    SPINNRegressorCV,
    _Mask,
    _masked_start,
    _relaxed_fits,
    _SPINNLoss,
    _StackedLoss,
)
from glassnet.nn.spinn import SPINN, StackedSPINN, mse_loss
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
    got = _StackedLoss(mse_loss, [(0.1, 0.0), (0.01, 0.01)])(stack, X, y)
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
