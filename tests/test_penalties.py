"""Penalties: closed forms, the prox optimality condition on random inputs, step/gamma checks."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.exceptions import ConvergenceWarning

from glassnet.penalties import (
    L1,
    MCP,
    PENALTIES,
    CompositeMCP,
    GroupLasso,
    GroupMCP,
    IntegrativePenalty,
    SparseGroupLasso,
    get_penalty,
    group_norms,
    mcp_derivative,
)

TOL = 1e-8
T = lambda a: torch.tensor(a, dtype=torch.float64)

matrices = arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 5)),
                  elements=st.floats(-5, 5, allow_nan=False, width=64))
lambdas = st.floats(0.01, 2.0)
steps = st.floats(0.01, 0.9)  # < gamma / 3 for gamma = 3, where the composite prox contracts


# ---------- closed forms ----------

def test_l1_closed_form():
    assert torch.allclose(L1(1.0).prox(T([3.0, -0.5, -2.0]), 1.0), T([2.0, 0.0, -1.0]))


def test_group_lasso_closed_form_groups_are_columns():
    W = T([[3.0, 0.1], [4.0, 0.1]])  # column 0 has norm 5, column 1 norm 0.14
    out = GroupLasso(1.0).prox(W, 1.0)
    assert torch.allclose(out, T([[2.4, 0.0], [3.2, 0.0]]))
    assert torch.isclose(GroupLasso(2.0).value(W), T(2.0 * (5.0 + np.sqrt(0.02))))


def test_sparse_group_lasso_closed_form_and_limits():
    W = T([[3.0], [-0.2], [1.0]])
    lam, a, step = 1.0, 0.5, 1.0
    u = np.array([2.5, 0.0, 0.5])  # soft threshold at 0.5
    expected = u * (1 - 0.5 / np.linalg.norm(u))
    assert torch.allclose(SparseGroupLasso(lam, a).prox(W, step).ravel(), T(expected))
    V = torch.randn(4, 6, dtype=torch.float64)
    assert torch.allclose(SparseGroupLasso(0.7, 1.0).prox(V, 0.3), GroupLasso(0.7).prox(V, 0.3))
    assert torch.allclose(SparseGroupLasso(0.7, 0.0).prox(V, 0.3), L1(0.7).prox(V, 0.3))


def test_mcp_firm_threshold_closed_form():
    out = MCP(1.0, 3.0).prox(T([0.5, 2.0, -2.0, 4.0]), 1.0)
    assert torch.allclose(out, T([0.0, 1.5, -1.5, 4.0]))  # (|w| - 1) / (1 - 1/3); unchanged past 3
    assert torch.allclose(MCP(1.0, 3.0).value(T([0.0, 1.0, 10.0])), T(0.0 + (1 - 1 / 6) + 1.5))


def test_group_mcp_closed_form():
    W = T([[3.0, 30.0], [4.0, 40.0]])  # norms 5 (<= gamma lambda = 6) and 50 (> 6)
    out = GroupMCP(2.0, 3.0).prox(W, 0.5)
    expected0 = (1 - 1.0 / 5.0) * np.array([3.0, 4.0]) / (1 - 0.5 / 3.0)
    assert torch.allclose(out[:, 0], T(expected0))
    assert torch.allclose(out[:, 1], W[:, 1])


def test_composite_mcp_saturates_and_matches_grpreg_scaling():
    lam, gamma = 0.5, 3.0
    pen = CompositeMCP(lam, gamma)
    big = T([[10.0], [10.0], [10.0]])
    K = 3
    assert torch.isclose(pen.value(big), T(K * gamma * lam**2 / 4))  # outer MCP max / lambda
    # rate at zero is lambda (as L1), so the composite and the lasso share lambda_max
    assert torch.allclose(pen.thresholds(torch.zeros(3, 2, dtype=torch.float64)), T(lam).expand(3, 2))


@pytest.mark.parametrize("pen", [MCP(1.0, 2.0), GroupMCP(1.0, 2.0), CompositeMCP(1.0, 2.0),
                                 IntegrativePenalty(1.0, outer="mcp", gamma=2.0)])
def test_nonconvex_prox_needs_step_below_gamma(pen):
    W = torch.randn(2, 3, 4, dtype=torch.float64) if isinstance(pen, IntegrativePenalty) else torch.randn(3, 4)
    pen.prox(W, 1.9)
    with pytest.raises(ValueError, match="step < gamma"):
        pen.prox(W, 2.0)


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="lam must be"):
        L1(-1.0)
    with pytest.raises(ValueError, match="alpha must be"):
        SparseGroupLasso(1.0, alpha=1.5)
    with pytest.raises(ValueError, match="gamma must be > 1"):
        MCP(1.0, gamma=1.0)
    with pytest.raises(ValueError, match="unknown penalty"):
        get_penalty("nope")
    with pytest.raises(ValueError, match="shape"):
        IntegrativePenalty(1.0).prox(torch.randn(3, 4), 0.1)
    for cls in (CompositeMCP, IntegrativePenalty):  # the inner solve's controls
        for bad in ({"max_iter": 0}, {"max_iter": 2.5}, {"tol": -1.0}, {"tol": float("nan")}):
            with pytest.raises(ValueError, match=next(iter(bad))):
                cls(1.0, **bad)
        with pytest.raises(ValueError, match="max_iter"):  # a string used to be a TypeError
            cls(1.0, max_iter="5")
    for bad in (float("inf"), float("nan"), "a"):  # an infinite lambda gave NaN values
        with pytest.raises(ValueError, match="lam must be a finite number"):
            MCP(bad)
        with pytest.raises(ValueError, match="lam must be a finite number"):
            L1(1.0).with_lambda(bad)
    with pytest.raises(ValueError, match="alpha must be a number"):
        SparseGroupLasso(1.0, "0.5")
    assert SparseGroupLasso(1.0, np.float32(0.5)).alpha == 0.5


def test_integrative_prox_warns_when_its_fixed_point_is_not_reached():
    v = T([[[-0.233, -1.151], [-0.879, -0.476], [-0.141, -0.76]],
           [[1.549, -1.508], [-0.941, -0.578], [0.407, -1.247]]])
    pen = IntegrativePenalty(1.377, alpha=0.631, gamma=1.569, max_iter=1)
    with pytest.warns(ConvergenceWarning, match="fixed point was not reached"):
        pen.prox(v, 1.0476)


def test_datafits_name_mismatched_shapes_instead_of_broadcasting():
    """An (n, 1) target against (n,) outputs used to broadcast to an (n, n) loss (10.0 here
    where the loss is 8.0625); numpy weights are taken as the README's signature says."""
    from glassnet.datafits import Multinomial, Squared

    out, y = T([0.5, 1.0, 1.5, 2.0]), T([0.0, 1.0, 2.0, 10.0])
    assert float(Squared()(out, y)) == pytest.approx(8.0625)
    assert float(Squared()(out[:, None], y, np.ones(4))) == pytest.approx(8.0625)
    for args, word in (((out, y[:, None]), "y must be 1-d"), ((out[:3], y), "does not fit y"),
                       ((out, y, np.ones(3)), "one weight per sample")):
        with pytest.raises(ValueError, match=word):
            Squared()(*args)
    with pytest.raises(ValueError, match=r"\(n, K\) scores"):
        Multinomial()(torch.zeros(4), y.long())


def test_objective_refuses_negative_or_nonfinite_ridges():
    from glassnet.datafits import Objective, Squared

    for bad in ({"lambda_0": -0.1}, {"lambda_w1": float("nan")}, {"lambda_0": [0.1, -0.2]},
                {"lambda_0": np.array([0.1, np.inf])}, {"lambda_w1": torch.tensor([0.1, -1.0])}):
        with pytest.raises(ValueError, match=f"{next(iter(bad))} must be finite and >= 0"):
            Objective(Squared(), **bad)
    assert Objective(Squared(), np.array([0.1, 0.2]), [0.0, torch.tensor(0.3)]).lambda_0.shape == (2,)


def test_registry_names_and_with_lambda():
    for name in ["l1", "group_lasso", "sparse_group_lasso", "mcp", "group_mcp", "composite_mcp", "dsrl"]:
        pen = get_penalty(name, 0.3)  # "dsrl" used to take 0.3 as its w1
        assert pen.lam == 0.3
        assert pen.with_lambda(0.1).lam == 0.1 and pen.lam == 0.3


# ---------- optimality condition 0 in (x - v)/step + dP(x) on random inputs ----------

def _check_separable(x, v, step, rate):
    """Elementwise: x != 0 -> (x - v)/step + rate sign(x) = 0; x == 0 -> |v|/step <= rate."""
    g = (x - v) / step
    nz = x != 0
    assert torch.allclose(g[nz] + rate[nz] * torch.sign(x[nz]), torch.zeros_like(g[nz]), atol=1e-7)
    assert torch.all(v[~nz].abs() / step <= rate[~nz] + 1e-7)


def _check_group(x, v, step, rate_nz, rate_zero):
    """Groups (columns): x_j != 0 -> (x_j - v_j)/step + rate_j x_j/||x_j|| = 0; else ||v_j||/step <= rate."""
    norms = group_norms(x)
    for j in range(x.shape[-1]):
        if norms[j] > 0:
            r = (x[..., j] - v[..., j]) / step + rate_nz[j] * x[..., j] / norms[j]
            assert torch.allclose(r, torch.zeros_like(r), atol=1e-7)
        else:
            assert v[..., j].norm() / step <= rate_zero + 1e-7


@settings(max_examples=60, deadline=None)
@given(matrices, lambdas, steps)
def test_l1_optimality(v, lam, step):
    v = T(v)
    x = L1(lam).prox(v, step)
    _check_separable(x, v, step, torch.full_like(v, lam))


@settings(max_examples=60, deadline=None)
@given(matrices, lambdas, steps)
def test_mcp_optimality(v, lam, step):
    v, gamma = T(v), 3.0
    x = MCP(lam, gamma).prox(v, step)
    rate = torch.where(x == 0, torch.full_like(v, lam), mcp_derivative(x.abs(), lam, gamma))
    _check_separable(x, v, step, rate)


@settings(max_examples=60, deadline=None)
@given(matrices, lambdas, steps)
def test_group_lasso_optimality(v, lam, step):
    v = T(v)
    x = GroupLasso(lam).prox(v, step)
    _check_group(x, v, step, torch.full((v.shape[1],), lam), lam)


@settings(max_examples=60, deadline=None)
@given(matrices, lambdas, steps)
def test_group_mcp_optimality(v, lam, step):
    v, gamma = T(v), 3.0
    x = GroupMCP(lam, gamma).prox(v, step)
    _check_group(x, v, step, mcp_derivative(group_norms(x), lam, gamma), lam)


@settings(max_examples=60, deadline=None)
@given(matrices, lambdas, steps, st.floats(0.0, 1.0))
def test_sparse_group_lasso_optimality(v, lam, step, alpha):
    v = T(v)
    x = SparseGroupLasso(lam, alpha).prox(v, step)
    norms = group_norms(x)
    for j in range(v.shape[1]):
        xj, vj = x[:, j], v[:, j]
        if norms[j] > 0:  # (x - v)/step + lam (1-a) s + lam a x/||x|| = 0 with s in sign(x)
            r = (vj - xj) / step - lam * alpha * xj / norms[j]
            nz = xj != 0
            assert torch.allclose(r[nz], lam * (1 - alpha) * torch.sign(xj[nz]), atol=1e-7)
            assert torch.all(r[~nz].abs() <= lam * (1 - alpha) + 1e-7)
        else:  # v/step = lam (1-a) s + lam a u, |s| <= 1, ||u|| <= 1
            rest = torch.clamp(vj.abs() / step - lam * (1 - alpha), min=0)
            assert rest.norm() <= lam * alpha + 1e-7


@settings(max_examples=60, deadline=None)
@given(matrices, lambdas, steps)
def test_composite_mcp_optimality(v, lam, step):
    v = T(v)
    pen = CompositeMCP(lam, 3.0)
    x = pen.prox(v, step)
    _check_separable(x, v, step, pen.thresholds(x))


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4)),
              elements=st.floats(-5, 5, allow_nan=False, width=64)),
       lambdas, steps, st.floats(0.0, 1.0), st.sampled_from(["mcp", None]))
def test_integrative_optimality(v, lam, step, alpha, outer):
    v = T(v)
    pen = IntegrativePenalty(lam, alpha, outer=outer, gamma=3.0)
    x = pen.prox(v, step)
    slope = pen.outer_slope(x)  # P_j' at the solution scales Omega's subgradient
    M, _, p = v.shape
    for m in range(M):
        for j in range(p):
            sgl = SparseGroupLasso(lam * float(slope[j]), alpha)
            # the (m, j) sub-problem is a sparse-group-lasso prox with the scaled lambda
            assert torch.allclose(sgl.prox(v[m, :, j : j + 1], step), x[m, :, j : j + 1], atol=1e-7)


@pytest.mark.parametrize("step", [0.5, 1.5, 2.0, 2.9])
def test_composite_mcp_prox_is_global_minimiser_on_a_grid(step):
    """Beyond step = gamma / 3 a group may have two local minima; the prox returned the one
    nearest v (1.055 with objective 0.692 for v = 1.6 at step 2, where 0 has 0.640)."""
    rng = np.random.default_rng(0)
    lam, gamma = 1.0, 3.0
    pen = CompositeMCP(lam, gamma)
    if step == 2.0:
        assert float(pen.prox(T([[1.6]]), step)) == 0.0
    grid = np.linspace(-4, 4, 801)
    G1, G2 = np.meshgrid(grid, grid, indexing="ij")
    pts = T(np.stack([G1.ravel(), G2.ravel()]))  # (2, n): each column is one group of size 2
    for _ in range(20):
        v = T(rng.uniform(-3, 3, size=(2, 1)))
        inner = (pts - v).pow(2).sum(0) / (2 * step)
        from glassnet.penalties import mcp_value
        pens = mcp_value(mcp_value(pts.abs(), lam, gamma).sum(0), lam, 2 * gamma * lam / 2) / lam
        best = float((inner + pens).min())
        x = pen.prox(v, step)
        ours = float(((x - v).pow(2).sum() / (2 * step)) + pen.value(x))
        assert ours <= best + 1e-6


def test_integrative_penalty_borrows_strength_across_data_sets():
    # feature 0 is strong in data set 0 and moderate in set 1; feature 1 is moderate in set 1 only
    v = T([[[10.0, 0.0]], [[1.2, 1.2]]])  # (M=2, hidden=1, p=2)
    coupled = IntegrativePenalty(1.0, alpha=1.0, outer="mcp", gamma=3.0).prox(v, 1.0)
    plain = IntegrativePenalty(1.0, alpha=1.0, outer=None).prox(v, 1.0)
    assert torch.allclose(plain[1, 0], T([0.2, 0.2]))  # sparse group lasso treats them alike
    # the outer MCP (b = M gamma lambda^2 = 6) is saturated for feature 0: no shrinkage in set 1;
    # feature 1 solves x = 1.2 - (1 - x/6), x = 0.24
    assert torch.allclose(coupled[1, 0], T([1.2, 0.24]))
    assert coupled[0, 0, 0] == 10.0


@pytest.mark.parametrize("name", ["group_mcp", "group_lasso", "l1", "sparse_group_lasso", "mcp",
                                  "composite_mcp"])
@pytest.mark.parametrize("lam", [0.05, 0.2, 0.5])
@pytest.mark.parametrize("shape", [(4, 10, 7), (3, 2, 5, 6)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_stacked_prox_and_value_equal_each_network_alone(name, lam, shape, dtype):
    """The path solver proxes a stack of networks at once, each with its own step: bit for
    bit the per-network prox (so a stacked path is the paths alone), and the same values."""
    torch.manual_seed(0)
    # groups from tiny to large, so every branch of a prox is taken (zeroed, shrunk, kept)
    W = torch.randn(*shape, dtype=dtype) * torch.logspace(-2.5, 0.5, shape[-1], dtype=dtype)
    W[..., 0] = 0  # a group already at zero
    pen = get_penalty(name).with_lambda(lam)
    steps = torch.tensor([0.5, 1.7, 2.0, 0.01][: shape[0]], dtype=torch.float64)
    alone = torch.stack([pen.prox(w, float(t)) for w, t in zip(W, steps)])
    assert torch.equal(pen.proxes(W, steps), alone)
    changed = (alone != W).flatten(0, -2).any(0)
    assert (alone[..., 0] == 0).all() and changed.any()
    torch.testing.assert_close(pen.values(W), torch.stack([pen.value(w) for w in W]), rtol=1e-6, atol=0)


@pytest.mark.parametrize("name", ["group_lasso", "sparse_group_lasso", "group_mcp"])
def test_group_penalty_gradient_is_finite_at_an_all_zero_group(name):
    """A group penalty's value differentiated through autograd (a subgradient step, or a loss
    that adds it) gave NaN for every entry once one group was all zero (sqrt's derivative at 0
    is inf, times 0). The zero group's gradient is now the minimum-norm subgradient 0 (plus the
    L1 part's sign(0) = 0); the other groups' gradients are the analytic w / ||w||."""
    w = torch.tensor([[0.0, 3.0, 1.0], [0.0, 4.0, -2.0]], dtype=torch.float64, requires_grad=True)
    get_penalty(name).with_lambda(1.0).value(w).backward()
    assert torch.isfinite(w.grad).all()
    assert torch.equal(w.grad[:, 0], torch.zeros(2, dtype=torch.float64))
    if name == "group_lasso":
        torch.testing.assert_close(w.grad[:, 1:], w.detach()[:, 1:] / group_norms(w.detach()[:, 1:]))
    assert torch.equal(group_norms(w.detach()), torch.sqrt((w.detach() ** 2).sum(0)))  # same values


@pytest.mark.parametrize("name", sorted(PENALTIES))
def test_prox_refuses_a_negative_or_nonfinite_step_and_step_zero_is_the_identity(name):
    """A negative step maximises instead of shrinking (L1 grew every entry by |lam step|): every
    prox refuses it, and NaN / inf steps, with the penalty's name; a zero step returns w."""
    pen = get_penalty(name)
    w = torch.randn(2, 3, 4, dtype=torch.float64)
    for step in (-0.1, float("nan"), float("inf"), True):
        with pytest.raises(ValueError, match=f"{type(pen).__name__}.prox needs a finite step >= 0"):
            pen.prox(w, step)
    torch.testing.assert_close(pen.prox(w, 0.0), w, rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", sorted(PENALTIES))
@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 4), (2, 0, 3), (0, 2, 3)])
def test_penalties_of_empty_weights_are_zero(name, shape):
    """Empty weights (no features, or groups with no entries) have penalty 0 and prox w; the
    group penalties failed inside torch's reshape, CompositeMCP / IntegrativePenalty returned NaN."""
    pen = get_penalty(name)
    if name == "integrative" and len(shape) != 3:
        with pytest.raises(ValueError, match="shape \\(M, hidden, p\\)"):
            pen.value(torch.zeros(shape))
        return
    w = torch.zeros(shape)
    assert float(pen.value(w)) == 0.0
    assert pen.prox(w, 0.5).shape == w.shape


@pytest.mark.parametrize("name", ["group_lasso", "sparse_group_lasso", "group_mcp", "composite_mcp"])
def test_group_penalties_name_a_scalar_weight(name):
    with pytest.raises(ValueError, match="at least one axis"):
        get_penalty(name).value(torch.tensor(1.0))


@pytest.mark.parametrize("c", [1e-9, 1e-6, 1e6])
def test_integrative_prox_is_scale_equivariant(c):
    """prox(c w; c lam) = c prox(w; lam): its stopping test was absolute (tol (1 + max|x|)), so
    at c = 1e-9 it stopped early (relative error 5.5e-3; lambda_max off by 4e-5 in float32)."""
    torch.manual_seed(0)
    w = torch.randn(2, 3, 4, dtype=torch.float64)
    x = IntegrativePenalty(0.8, 0.5).prox(w, 0.3)
    xc = IntegrativePenalty(0.8 * c, 0.5).prox(c * w, 0.3) / c
    torch.testing.assert_close(xc, x, rtol=1e-12, atol=1e-12 * float(x.abs().max()))


def test_group_shrink_is_exact_for_groups_below_1e_12():
    """The group norms were floored at 1e-12: a group of norm 1e-13 shrunk by 5e-14 gave 9.5e-14."""
    for pen in (GroupLasso(5e-14), SparseGroupLasso(5e-14, alpha=1.0), GroupMCP(5e-14, 3.0)):
        x = pen.prox(T([[1e-13]]), 1.0)
        assert float(x) == pytest.approx(5e-14 / (1.0 - 1.0 / 3.0) if isinstance(pen, GroupMCP) else 5e-14, rel=1e-12)
    assert torch.equal(GroupLasso(1.0).prox(torch.zeros(3, 2), 1.0), torch.zeros(3, 2))
