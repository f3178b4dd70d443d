"""Algorithm-inspired structures (Li et al. 2018): Table 1 energies, Lemma 1, the GD / HB /
AGD / AGD2 / ADMM structures and their special cases (ResNet, DenseNet, merge-and-run)."""

import itertools
import math
import re

import numpy as np
import pytest
import torch
from torch import nn

from glassnet.nn.optnets import (
    ACTIVATIONS,
    ANTIDERIVATIVES,
    Energy,
    OptStructure,
    dilog_neg_exp,
    heavy_ball,
    lemma1_unfold,
    nesterov,
    nesterov_h,
    nesterov_momentum,
    nesterov_theta,
    table1_printed,
)

D64 = torch.float64


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_antiderivative_derivative_is_the_activation(name):
    u = torch.linspace(-40, 40, 4001, dtype=D64, requires_grad=True)
    psi = ANTIDERIVATIVES[name](u)
    (g,) = torch.autograd.grad(psi.sum(), u)
    assert torch.isfinite(psi).all()
    torch.testing.assert_close(g, ACTIVATIONS[name](u.detach()), atol=1e-12, rtol=1e-12)
    # an antiderivative is continuous: no jumps between neighbouring grid points
    assert (psi[1:] - psi[:-1]).abs().max() < 0.02 * 40


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_energy_gradient_is_eq9_against_autograd(name):
    g = torch.Generator().manual_seed(0)
    U = torch.randn(6, 6, generator=g, dtype=D64)
    z = torch.randn(5, 6, generator=g, dtype=D64, requires_grad=True)
    E = Energy(U, name)
    (auto,) = torch.autograd.grad(E.value(z).sum(), z)
    formula = z.detach() - ACTIVATIONS[name](z.detach() @ U) @ U.T  # z - U Phi(U^T z)
    torch.testing.assert_close(auto, formula, atol=1e-10, rtol=1e-10)
    torch.testing.assert_close(E.grad(z.detach()), formula)


def test_dilogarithm_matches_scipy():
    from scipy.special import spence

    a = torch.linspace(-50, 0, 501, dtype=D64)
    ref = spence(1 + np.exp(a.numpy()))  # Li2(x) = spence(1 - x)
    np.testing.assert_allclose(dilog_neg_exp(a).numpy(), ref, rtol=1e-13, atol=1e-15)
    assert math.isclose(float(dilog_neg_exp(torch.zeros(1, dtype=D64))), -math.pi**2 / 12, rel_tol=1e-14)


def test_printed_table1_entries_that_are_not_antiderivatives():
    """What docs/optnets.md says differs from the paper: the printed sigmoid and tanh energies
    differentiate to sigmoid(-u) and -tanh(u); softsign's log(u - 1) is undefined for u < 0;
    ELU's jumps by a at 0; swish's printed expression is not an antiderivative at all."""
    u = torch.linspace(-5, 5, 1001, dtype=D64, requires_grad=True)

    def dprinted(name):
        return torch.autograd.grad(table1_printed(name, u).sum(), u)[0]

    ud = u.detach()
    torch.testing.assert_close(dprinted("sigmoid"), torch.sigmoid(-ud))
    torch.testing.assert_close(dprinted("tanh"), -torch.tanh(ud))
    assert torch.isnan(table1_printed("softsign", ud[ud < 0])).all()
    elu = table1_printed("elu", torch.tensor([-1e-9, 1e-9], dtype=D64))
    assert math.isclose(float(elu[0] - elu[1]), 1.0, abs_tol=1e-6)  # a = 1
    assert (dprinted("swish") - ud * torch.sigmoid(ud)).abs().max() > 1
    for ok in ("softplus", "relu", "leaky_relu"):
        torch.testing.assert_close(dprinted(ok), ACTIVATIONS[ok](ud))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "elu", "swish"])
def test_lemma1_gradient_descent_is_the_feedforward_net(name):
    g = torch.Generator().manual_seed(1)
    A = torch.randn(8, 8, generator=g, dtype=D64)
    W = A @ A.T / 8 + 0.5 * torch.eye(8, dtype=D64)  # symmetric positive definite
    x0 = torch.randn(4, 8, generator=g, dtype=D64)
    xs = lemma1_unfold(W, x0, 6, name)
    x = x0
    for k in range(1, 7):
        x = ACTIVATIONS[name](x @ W.T)  # eq. (7): x_{k+1} = Phi(W x_k)
        torch.testing.assert_close(xs[k], x, atol=1e-10, rtol=1e-10)


def test_lemma1_rejects_non_spd():
    with pytest.raises(ValueError, match="positive definite"):
        lemma1_unfold(-torch.eye(3, dtype=D64), torch.ones(1, 3, dtype=D64), 2)
    with pytest.raises(ValueError, match="symmetric"):
        lemma1_unfold(torch.triu(torch.ones(3, 3, dtype=D64)), torch.ones(1, 3, dtype=D64), 2)
    # a small asymmetry too: eigh would read one triangle and run Lemma 1 on another matrix
    # (allclose's default rtol let 1e-5 through)
    W = torch.tensor([[2.0, 1.0, 0.5], [1.0, 3.0, 0.3], [0.5, 0.3, 2.5]], dtype=D64)
    W[0, 1] += 1e-6
    with pytest.raises(ValueError, match="symmetric"):
        lemma1_unfold(W, torch.ones(1, 3, dtype=D64), 2)
    W32 = (W + W.T).float() / 2  # symmetric to rounding in float32 runs
    assert len(lemma1_unfold(W32, torch.ones(1, 3), 2)) == 3


def test_nesterov_sequences():
    th = nesterov_theta(30)
    assert th[0] == 1.0
    for k in range(1, 30):
        assert math.isclose((1 - th[k]) / th[k] ** 2, 1 / th[k - 1] ** 2, rel_tol=1e-12)
    b = nesterov_momentum(30)
    assert b[0] == 0.0 and b[1] == 0.0 and all(0 < v < 1 for v in b[2:])
    assert all(b2 > b1 for b1, b2 in itertools.pairwise(b[2:]))  # momentum grows towards 1
    H = nesterov_h(5)
    assert H[0] == [1.0] and all(len(r) == k + 1 for k, r in enumerate(H))


class _Fn(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def _quadratic(seed=0, d=10, cond=100.0):
    """f(z) = z^T A z / 2 - b^T z with L = 1 (step 1) and mu = 1/cond; T(z) = z - grad f(z)."""
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=D64))
    A = Q @ torch.diag(torch.logspace(0, -math.log10(cond), d, dtype=D64)) @ Q.T
    b = torch.randn(d, generator=g, dtype=D64)
    return A, b, torch.linalg.solve(A, b), _Fn(lambda z: z - (z @ A - b))


def test_agd2_equals_agd_with_a_shared_transform():
    """(13) with eq. (5)'s h is Nesterov's (3) written as (4): its iterates are the y_k of AGD."""
    torch.manual_seed(0)
    Wm = torch.randn(5, 5, dtype=D64) * 0.4
    T = _Fn(lambda y: torch.tanh(y @ Wm))
    x0 = torch.randn(3, 5, dtype=D64)
    m = nesterov_momentum(12)
    for K in range(1, 11):
        z = OptStructure(T, "agd", depth=K)(x0)
        z_prev = OptStructure(T, "agd", depth=K - 1)(x0) if K > 1 else x0
        y = OptStructure(T, "agd2", depth=K)(x0)
        torch.testing.assert_close(y, z + m[K] * (z - z_prev), atol=1e-12, rtol=1e-12)


def test_structures_run_the_algorithms_and_faster_ones_converge_faster():
    """With T = I - grad f on an ill-conditioned quadratic the structures are the algorithms:
    HB / AGD / AGD2 reach the minimiser far faster than GD, and ADMM (14) converges too."""
    A, b, zstar, T = _quadratic()
    x0 = torch.zeros(1, A.shape[0], dtype=D64)
    err = {}
    for s, kw in [("gd", {}), ("hb", {"beta": 0.8}), ("agd", {}), ("agd2", {}), ("admm", {})]:
        err[s] = float((OptStructure(T, s, depth=60, **kw)(x0) - zstar).norm())
    # plain GD by hand
    z = x0.clone()
    for _ in range(60):
        z = z - (z @ A - b)
    assert math.isclose(err["gd"], float((z - zstar).norm()), rel_tol=1e-10)
    for s in ("hb", "agd", "agd2"):
        assert err[s] < 0.5 * err["gd"], err
    assert err["admm"] < float(zstar.norm())
    # heavy ball by hand, eq. (2) with z_{-1} = z_0
    zp, z = x0.clone(), x0.clone()
    for _ in range(60):
        zp, z = z, z - (z @ A - b) + 0.8 * (z - zp)
    assert math.isclose(err["hb"], float((z - zstar).norm()), rel_tol=1e-9)


def test_admm_structure_is_linearised_admm_eq6():
    A, b, _zstar, T = _quadratic(seed=2, cond=10)
    x0 = torch.randn(2, A.shape[0], dtype=D64)

    def grad(v):
        return v @ A - b

    z, y, lam = x0.clone(), x0.clone(), torch.zeros_like(x0)
    for _ in range(15):  # (6): each argmin of a strongly convex quadratic, by its normal equation
        z = torch.linalg.solve(2 * torch.eye(A.shape[0], dtype=D64), (z - grad(z) - lam + y).T).T
        y = torch.linalg.solve(2 * torch.eye(A.shape[0], dtype=D64), (y - grad(y) + lam + z).T).T
        lam = lam + z - y
    zs, ys = OptStructure(T, "admm", depth=15).forward_both(x0)
    torch.testing.assert_close(zs, z)
    torch.testing.assert_close(ys, y)


def test_hb_with_beta_1_0_is_a_residual_stage():
    torch.manual_seed(0)
    blocks = [nn.Sequential(nn.Linear(4, 4), nn.Tanh()) for _ in range(5)]
    x0 = torch.randn(3, 4)
    out = OptStructure(blocks, "hb", beta=(1.0, 0.0), activation=nn.ReLU())(x0)
    x = x0
    for blk in blocks:
        x = torch.relu(blk(x) + x)
    torch.testing.assert_close(out, x)
    # HB-Net's (1, -1) differs once there is a previous iterate
    assert not torch.allclose(heavy_ball(blocks, activation=nn.ReLU())(x0), out)


def test_agd2_with_beta_0_alpha_1_is_densenet_aggregation():
    """(18) with beta = 0, alpha = 1 and per-source T_{k+1, j} (slices of one convolution over
    the concatenation) is DenseNet's z_{k+1} = T([z_0, ..., z_k]) (eq. 19)."""
    torch.manual_seed(0)
    c, L = 3, 4
    convs = [nn.Conv2d(c * (k + 1), c, 3, padding=1, bias=False) for k in range(L)]

    def piece(conv, j):
        w = conv.weight[:, j * c : (j + 1) * c]
        return _Fn(lambda z: torch.nn.functional.conv2d(z, w, padding=1))

    T = [[piece(convs[k], j) for j in range(k + 1)] for k in range(L)]
    x0 = torch.randn(2, c, 5, 5)
    out = OptStructure(T, "agd2", alpha="ones", beta=0.0)(x0)
    zs = [x0]
    for k in range(L):
        zs.append(convs[k](torch.cat(zs, 1)))
    torch.testing.assert_close(out, zs[-1], atol=1e-5, rtol=1e-5)


def test_admm20_with_halves_is_merge_and_run():
    torch.manual_seed(0)
    blocks = [nn.Sequential(nn.Linear(4, 4), nn.Tanh()) for _ in range(4)]
    x0 = torch.randn(3, 4)
    xp_s, x_s = OptStructure(blocks, "admm20").forward_both(x0)
    xp, x = x0, x0
    for blk in blocks:  # DMRNet: x'_{k+1} = T(x'_k) + (x'_k + x_k)/2, x_{k+1} = T(x_k) + (x'_k + x_k)/2
        xp, x = blk(xp) + (xp + x) / 2, blk(x) + (xp + x) / 2
    torch.testing.assert_close(xp_s, xp)
    torch.testing.assert_close(x_s, x)


@pytest.mark.parametrize("scheme", ["hb", "agd", "agd2", "admm", "admm20"])
def test_learnable_coefficients_train_and_fixed_ones_do_not(scheme):
    torch.manual_seed(0)
    blocks = [nn.Linear(4, 4) for _ in range(3)]
    fixed = OptStructure(blocks, scheme)
    n_block = sum(p.numel() for b in blocks for p in b.parameters())
    assert sum(p.numel() for p in fixed.parameters()) == n_block
    s = OptStructure(blocks, scheme, learnable=True)
    coefs = [p for n, p in s.named_parameters() if not n.startswith("T.")]
    assert coefs
    s(torch.randn(2, 4)).pow(2).sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in coefs)
    assert any(p.grad.abs().sum() > 0 for p in coefs)
    torch.testing.assert_close(s(torch.ones(1, 4)), fixed(torch.ones(1, 4)))  # same start values


def test_one_line_recipes_and_errors():
    torch.manual_seed(0)
    blocks = [nn.Sequential(nn.Linear(4, 4), nn.ReLU()) for _ in range(3)]
    assert heavy_ball(blocks)(torch.randn(2, 4)).shape == (2, 4)
    assert nesterov(blocks, learnable=True)(torch.randn(2, 4)).shape == (2, 4)
    with pytest.raises(ValueError, match="scheme"):
        OptStructure(blocks, "newton")
    with pytest.raises(ValueError, match="depth"):
        OptStructure(nn.Linear(4, 4), "gd")
    with pytest.raises(ValueError, match="keep the shape"):
        OptStructure([nn.Linear(4, 5)], "hb")(torch.randn(2, 4))
    with pytest.raises(ValueError, match="per-source"):
        OptStructure([[nn.Linear(4, 4)]], "hb")


def test_structure_arguments_are_checked_not_truncated():
    """A fractional depth used to build int(depth) layers; a float beta for ``"agd"`` or a
    one-element pair for ``"hb"`` failed with a TypeError / unpacking error."""
    T = nn.Linear(3, 3)
    for kw, word in (({"scheme": "gd", "depth": 2.5}, "int depth"),
                     ({"scheme": "agd", "depth": 2, "beta": 0.3}, "pair"),
                     ({"scheme": "hb", "depth": 2, "beta": (0.3,)}, "pair")):
        with pytest.raises(ValueError, match=word):
            OptStructure(T, **kw)
    assert OptStructure(T, "agd", depth=3, beta=[1.2, -0.2]).depth == 3
    assert OptStructure(T, "hb", depth=np.int64(2), beta=0.3).depth == 2


def test_arguments_a_scheme_does_not_use_or_non_finite_ones_are_refused():
    """beta for "gd" / "admm", alpha for "hb", x_prev for "agd" were ignored silently; beta=nan
    gave all-NaN output; alpha="garbage" ran."""
    from glassnet.registry import create_model

    T, x = nn.Linear(4, 4), torch.randn(3, 4)
    for kw, words in [({"scheme": "gd", "beta": 0.9}, "beta does not apply to scheme='gd'"),
                      ({"scheme": "admm", "beta": 0.9}, "beta does not apply to scheme='admm'"),
                      ({"scheme": "admm20", "beta": (1, 0)}, "beta does not apply"),
                      ({"scheme": "hb", "alpha": "ones"}, "alpha='ones' does not apply to scheme='hb'"),
                      ({"scheme": "hb", "alpha": "garbage"}, "alpha must be 'h' or 'ones'"),
                      ({"scheme": "agd2", "alpha": 1.0}, "alpha must be"),
                      ({"scheme": "hb", "beta": float("nan")}, "finite real number, got nan"),
                      ({"scheme": "hb", "beta": (1.0, float("inf"))}, "finite"),
                      ({"scheme": "agd", "beta": ("a", 1)}, "finite real number, got 'a'"),
                      ({"scheme": "agd2", "beta": float("nan")}, "finite"),
                      ({"scheme": "hb", "beta": "0.3"}, "finite real number"),
                      ({"scheme": "hb", "beta": True}, "finite real number"),
                      ({"scheme": "agd2", "beta": (1, 0)}, "beta for scheme='agd2' is a float")]:
        with pytest.raises(ValueError, match=re.escape(words)):
            OptStructure(T, depth=3, **kw)
    for scheme in ("gd", "agd", "agd2", "admm", "admm20"):
        with pytest.raises(ValueError, match=f"x_prev applies to scheme='hb' only.*{scheme}"):
            OptStructure(T, scheme, 3)(x, x_prev=torch.zeros_like(x))
    with pytest.raises(ValueError, match="beta must be a finite real number"):
        create_model("agdnet40", beta=float("nan"))
    # what each scheme does use still works
    assert OptStructure(T, "hb", 3, beta=np.float64(0.5))(x, x_prev=torch.zeros_like(x)).shape == (3, 4)
    assert OptStructure(T, "agd2", 3, alpha="ones", beta=0)(x).shape == (3, 4)
    assert OptStructure(T, "admm", 3, beta=None, alpha="h")(x).shape == (3, 4)


def test_transforms_that_change_the_shape_or_are_no_modules_are_named():
    """hb named a shape-changing T; agd / agd2 / admm failed with torch's size mismatch (or
    broadcast silently); a plain function failed with "... is not iterable"."""
    x = torch.randn(3, 4)
    for scheme, name in [("hb", "heavy ball"), ("agd", "Nesterov's AGD"), ("agd2", "AGD2"),
                         ("admm", "ADMM"), ("admm20", "ADMM (20)")]:
        with pytest.raises(ValueError, match=re.escape(f"{name} needs T to keep the shape: layer 0 "
                                                       "maps (3, 4) to (3, 5)")):
            OptStructure([nn.Linear(4, 5), nn.Linear(5, 5)], scheme)(x)
    assert OptStructure([nn.Linear(4, 5), nn.Linear(5, 2)], "gd")(x).shape == (3, 2)  # x_{k+1} = T(x_k)
    with pytest.raises(ValueError, match="layer 1 maps"):  # a per-source transform of agd2
        OptStructure([[nn.Linear(4, 4)], [nn.Linear(4, 4), nn.Linear(4, 1)]], "agd2")(x)
    with pytest.raises(ValueError, match="T must be an nn.Module.*builtin_function_or_method"):
        OptStructure(torch.tanh, "gd", 3)
    with pytest.raises(ValueError, match=r"T\[1\] must be an nn.Module"):
        OptStructure([nn.Tanh(), torch.tanh], "gd")


def test_nesterov_coefficient_counts_and_lemma1_shapes():
    """nesterov_momentum(0) and (-3) returned [0.0]; a non-square W failed inside torch."""
    assert nesterov_momentum(0) == [] and nesterov_momentum(1) == [0.0]
    assert nesterov_h(0) == [] and nesterov_theta(0) == []
    for fn in (nesterov_momentum, nesterov_theta, nesterov_h):
        for bad in (-3, 2.5, True):
            with pytest.raises(ValueError, match="n must be an int >= 0"):
                fn(bad)
    with pytest.raises(ValueError, match=r"square matrix W, got shape \(3, 4\)"):
        lemma1_unfold(torch.randn(3, 4), torch.randn(2, 3), 2)
    with pytest.raises(ValueError, match="needs 3 columns"):
        lemma1_unfold(torch.eye(3, dtype=D64), torch.randn(2, 4, dtype=D64), 2)
