"""Stacks of networks (the folds of a CV, the relaxed refits) must train exactly as the same
networks fitted one by one: the engine's speed rests on it (docs/spinn.md)."""

import numpy as np
import pytest
import torch

from glassnet import training
from glassnet.datafits import Huber, Logistic, Multinomial, Objective, Squared
from glassnet.estimators.spinn._engine import relaxed
from glassnet.nn.spinn import SPINN, IntegrativeSPINNNet, StackedSPINN
from glassnet.paths import Batch, MaskProjection, Problem, fit_stack, follow, masked_start
from glassnet.penalties import GroupMCP, IntegrativePenalty


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


def test_integrative_stack_forward_is_every_network_forward():
    torch.manual_seed(0)
    nets = [IntegrativeSPINNNet(6, 3, 1, (4,)).double() for _ in range(2)]
    X, m = torch.randn(9, 6, dtype=torch.float64), torch.tensor([0, 1, 2, 2, 1, 0, 0, 1, 2])
    out = StackedSPINN(nets)(X, m)
    for b, net in enumerate(nets):
        torch.testing.assert_close(out[b], net(X, m))


def test_stack_ridges_and_objective_are_the_per_network_formulas():
    torch.manual_seed(0)
    X, y = torch.randn(9, 7, dtype=torch.float64), torch.randn(9, dtype=torch.float64)
    nets = [SPINN(7, 1, (4,)).double() for _ in range(2)]
    stack = StackedSPINN(nets)
    upper, w1 = stack.ridges()
    for b, net in enumerate(nets):
        torch.testing.assert_close(upper[b], net.ridge())
        torch.testing.assert_close(w1[b], net.ridge(True) - net.ridge())
    Y, W = y[:, None].expand(9, 2), torch.full((9, 2), 1 / 9, dtype=torch.float64)
    got = Objective(Squared(), [0.1, 0.01], [0.0, 0.01])(stack, X, Y, W)
    want = Objective(Squared(), 0.1)(nets[0], X, y) + Objective(Squared(), 0.01, 0.01)(nets[1], X, y)
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


def test_stack_needs_a_network():
    with pytest.raises(ValueError, match="at least one network"):
        StackedSPINN([])


def _problem(n=60, p=9, seed=1, classes=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X[:, 0] ** 2 + X[:, 1] + 0.3 * rng.standard_normal(n)
    if classes:
        y = np.digitize(y, np.quantile(y, np.linspace(0, 1, classes + 1)[1:-1]))
        yt = torch.as_tensor(y, dtype=torch.long) if classes > 2 else torch.as_tensor(y, dtype=torch.float64)
    else:
        yt = torch.as_tensor(y, dtype=torch.float64)
    return torch.as_tensor(X), yt


@pytest.mark.parametrize("datafit, classes", [(Squared(), 0), (Logistic(), 2), (Multinomial(), 3)])
def test_stacked_adam_fits_with_own_rows_masks_and_ridges_equal_separate_fits(datafit, classes):
    """Adam is elementwise and the stacked objective is the sum of the networks' own, so each
    network takes the steps it would take alone, on its own rows, columns and ridge."""
    X, y = _problem(classes=classes)
    n_out = 3 if classes == 3 else 1
    rows = [np.arange(60) < 40, np.arange(60) >= 20, np.ones(60, bool)]
    masks = [np.arange(9) < 3, np.isin(np.arange(9), [0, 1, 7]), np.arange(9) < 1]
    ridges = [(0.1, 0.0), (0.01, 0.01), (0.001, 0.0)]
    W = torch.stack([torch.as_tensor(r / r.sum()) for r in rows], 1)
    nets = [masked_start(SPINN(9, n_out, (5,)).double(), m, torch.Generator().manual_seed(b))
            for b, m in enumerate(masks)]
    alone = [SPINN(9, n_out, (5,)).double() for _ in masks]
    for a, net in zip(alone, nets, strict=True):
        a.load_state_dict(net.state_dict())
    obj = Objective(datafit, [r[0] for r in ridges], [r[1] for r in ridges])
    fit_stack(nets, masks, obj, Batch(X, y[:, None].expand(60, 3), W), lr=1e-2, max_epochs=60)
    for b, (net, a) in enumerate(zip(nets, alone, strict=True)):
        r = torch.as_tensor(rows[b])
        training.fit(a, Objective(datafit, *ridges[b]), (X[r], y[r]), optimizer="adam", lr=1e-2,
                     max_epochs=60, project=MaskProjection(masks[b], a.W1),
                     verbose=False, n_threads=None)
        assert not net.W1[:, ~masks[b]].any()
        for key, value in a.state_dict().items():
            torch.testing.assert_close(net.state_dict()[key], value, rtol=1e-8, atol=1e-10)


def test_relaxed_refits_score_each_job_on_its_own_validation_rows():
    X, y = _problem()
    tr = [np.arange(60) < 40, np.arange(60) >= 20]
    W = torch.stack([torch.as_tensor(t / t.sum()) for t in tr], 1)
    V = torch.stack([torch.as_tensor((~t) / (~t).sum()) for t in tr], 1)
    batch = Batch(X, y[:, None].expand(60, 2), W, V)
    problem = Problem(Squared(), 0.1, GroupMCP(), max_epochs=10)
    mask = np.arange(9) < 2
    jobs = [(0, mask, (0.01, 0.0), 3), (1, mask, (0.01, 0.01), 4)]
    nets, val = relaxed(lambda s: SPINN(9, 1, (5,)).double(), problem, batch, jobs)
    for (b, *_), net, v in zip(jobs, nets, val, strict=True):
        va = torch.as_tensor(~tr[b])
        with torch.no_grad():
            assert np.isclose(v, float(Squared()(net(X[va]), y[va])), rtol=1e-10)


def test_path_solver_alone_is_proximal_gradient_with_backtracking():
    """With one network, :func:`follow` is the iterative algorithm: proximal gradient with
    Feng & Simon's backtracking as :func:`glassnet.training.fit` runs it (same steps)."""
    X, y = _problem()
    torch.manual_seed(0)
    net = SPINN(9, 1, (5,)).double()
    ref = SPINN(9, 1, (5,)).double()
    ref.load_state_dict(net.state_dict())
    problem = Problem(Squared(), 0.1, GroupMCP(), lr=1.0, max_epochs=40, tol=0.0)
    batch = Batch(X, y[:, None], torch.full((60, 1), 1 / 60, dtype=torch.float64))
    (records,), _ = follow([net], problem, batch, [0.05])
    training.fit(ref, Objective(Squared(), 0.1), (X, y), optimizer="sgd", lr=1.0, max_epochs=40,
                 prox=[(ref.W1, GroupMCP(0.05))], backtrack=True, converge_tol=0.0, verbose=False,
                 n_threads=None)
    for key, value in ref.state_dict().items():
        torch.testing.assert_close(net.state_dict()[key], value, rtol=1e-7, atol=1e-9)
    assert records[0].n_epochs == 40


def test_stacked_paths_equal_paths_alone():
    """Folds' paths run as one stack (own rows, own step sizes, own stopping) equal the same
    paths run one network at a time, integrative networks included."""
    X, y = _problem()
    m = torch.as_tensor(np.arange(60) % 2)
    rows = [np.arange(60) < 40, np.arange(60) >= 20]
    W = torch.stack([torch.as_tensor(r / r.sum()) for r in rows], 1)
    for make, pen, extra in (
            (lambda: SPINN(9, 1, (5,)).double(), GroupMCP(), ()),
            (lambda: IntegrativeSPINNNet(9, 2, 1, (4,)).double(), IntegrativePenalty(), (m,))):
        torch.manual_seed(0)
        nets = [make() for _ in rows]
        alone = [make() for _ in rows]
        for a, net in zip(alone, nets, strict=True):
            a.load_state_dict(net.state_dict())
        problem = Problem(Squared(), 0.1, pen, max_epochs=30)
        batch = Batch(X, y[:, None].expand(60, 2), W, None, extra)
        lambdas = [0.2, 0.1, 0.05]
        together, _ = follow(nets, problem, batch, lambdas)
        for b, a in enumerate(alone):
            (single,), _ = follow([a], problem, batch.select([b]), lambdas)
            assert [r.n_epochs for r in single] == [r.n_epochs for r in together[b]]
            np.testing.assert_allclose([r.train_loss for r in single], [r.train_loss for r in together[b]],
                                       rtol=1e-9)
            for key, value in a.state_dict().items():
                torch.testing.assert_close(nets[b].state_dict()[key], value, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("datafit", [Squared(), Logistic(), Multinomial(), Huber(0.5)])
def test_row_weights_give_the_mean_over_the_weighted_rows(datafit):
    torch.manual_seed(0)
    multi = isinstance(datafit, Multinomial)
    g = torch.randn(10, 3 if multi else 1, dtype=torch.float64)
    y = torch.randint(0, 3, (10,)) if multi else torch.randint(0, 2, (10,)).double()
    rows = torch.tensor([0, 2, 3, 7])
    w = torch.zeros(10, dtype=torch.float64)
    w[rows] = 5.0  # the scale of the weights does not matter: a weighted mean
    torch.testing.assert_close(datafit(g, y, w), datafit(g[rows], y[rows]))


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "identity"])
@pytest.mark.parametrize("hidden", [(5,), (4, 3), ()])
@pytest.mark.parametrize("datafit, n_out", [(Squared(), 1), (Huber(0.5), 1), (Logistic(), 1),
                                            (Multinomial(), 3)])
def test_hand_written_backward_equals_autograd(activation, hidden, datafit, n_out):
    """The stack's objective has its backward pass written out (one node instead of ~20):
    value and gradients equal autograd's through the layers, per network, with per-network
    ridges and row weights."""
    torch.manual_seed(1)
    B, n, p = 3, 17, 6
    nets = [SPINN(p, n_out, hidden, activation).double() for _ in range(B)]
    stack = StackedSPINN(nets)
    X = torch.randn(n, p, dtype=torch.float64)
    classes = max(n_out, 2)
    Y = (torch.randint(0, classes, (n, B)).double() if isinstance(datafit, (Logistic, Multinomial))
         else torch.randn(n, B, dtype=torch.float64))
    W = torch.rand(n, B, dtype=torch.float64) * (torch.rand(n, B) > 0.3)
    obj = Objective(datafit, [0.3, 0.1, 0.0], 0.2)
    coef = torch.randn(B, dtype=torch.float64)  # a different weight per network's value
    fused = obj.per_network(stack, X, Y, W)
    g_fused = torch.autograd.grad((coef * fused).sum(), list(stack.parameters()))
    upper, w1 = stack.ridges()
    plain = obj._stack_fit(stack(X), Y, W) + torch.tensor([0.3, 0.1, 0.0], dtype=torch.float64) * upper + 0.2 * w1
    g_plain = torch.autograd.grad((coef * plain).sum(), list(stack.parameters()))
    torch.testing.assert_close(fused, plain, rtol=1e-12, atol=1e-12)
    for a, b in zip(g_fused, g_plain, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
