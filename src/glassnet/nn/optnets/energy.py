"""Table 1 energies, Lemma 1 and Nesterov's coefficients (Li, Yang, Chen, Lin, ACML 2018).

Part of :mod:`glassnet.nn.optnets` (import from there).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from glassnet.nn._base import is_int

# ---------------------------------------------------------------- Table 1: energies

_PI2_6 = math.pi**2 / 6
# Bernoulli numbers B_0.. B_20 (B_1 = -1/2) for Li2(x) = sum_n B_n w^{n+1}/(n+1)!, w = -log(1-x)
_BERNOULLI = [1.0, -0.5, 1 / 6, 0.0, -1 / 30, 0.0, 1 / 42, 0.0, -1 / 30, 0.0, 5 / 66, 0.0,
              -691 / 2730, 0.0, 7 / 6, 0.0, -3617 / 510, 0.0, 43867 / 798, 0.0, -174611 / 330]
_DILOG_COEF = [b / math.factorial(n + 1) for n, b in enumerate(_BERNOULLI)]


def _softplus(u: torch.Tensor) -> torch.Tensor:
    """``log(1 + e^u)`` without torch's linear cut-off above 20 (exact derivative sigmoid)."""
    return torch.logaddexp(u, torch.zeros_like(u))


def dilog_neg_exp(a: torch.Tensor) -> torch.Tensor:
    """``Li2(-e^a)`` for ``a <= 0`` (differentiable, torch only).

    With ``w = -log(1 + e^a) = -softplus(a)`` in ``[-log 2, 0)`` the Bernoulli series
    ``Li2(x) = sum_n B_n w^{n+1}/(n+1)!`` converges like ``(log 2 / 2 pi)^n``: 21 terms give
    machine precision in float64. Callers fold ``a > 0`` back with the inversion formula
    ``Li2(-e^a) = -pi^2/6 - a^2/2 - Li2(-e^{-a})``."""
    w = -_softplus(a)
    out = torch.zeros_like(w)
    for c in reversed(_DILOG_COEF):  # Horner in w, then one more factor w
        out = out * w + c
    return out * w


def _softplus_antiderivative(u: torch.Tensor) -> torch.Tensor:
    """``S(u) = -Li2(-e^u)`` (``S' = softplus``, ``S(-inf) = 0``), stable for all ``u``."""
    a = -u.abs()
    L = dilog_neg_exp(a)
    return torch.where(u > 0, _PI2_6 + 0.5 * u * u + L, -L)


def _psi_sigmoid(u):  # log(1 + e^u)
    return _softplus(u)


def _psi_tanh(u):  # log cosh u, stable form |u| + log1p(e^{-2|u|}) - log 2
    a = u.abs()
    return a + torch.log1p(torch.exp(-2 * a)) - math.log(2.0)


def _psi_softsign(u):  # |u| - log(1 + |u|)
    a = u.abs()
    return a - torch.log1p(a)


def _psi_relu(u):
    return 0.5 * torch.clamp(u, min=0) ** 2


def _psi_leaky(u, slope=0.01):
    return 0.5 * torch.where(u > 0, u * u, slope * u * u)


def _psi_elu(u, alpha=1.0):  # continuous at 0 (the printed a(e^u - u) jumps by a)
    neg = torch.clamp(u, max=0)
    return torch.where(u > 0, 0.5 * u * u, alpha * (torch.expm1(neg) - neg))


def _psi_swish(u):  # u softplus(u) + Li2(-e^u) = u softplus(u) - S(u)
    return u * _softplus(u) - _softplus_antiderivative(u)


ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softplus": _softplus,
    "softsign": F.softsign,
    "relu": torch.relu,
    "leaky_relu": lambda u: F.leaky_relu(u, 0.01),
    "elu": F.elu,
    "swish": lambda u: u * torch.sigmoid(u),
}

ANTIDERIVATIVES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sigmoid": _psi_sigmoid,
    "tanh": _psi_tanh,
    "softplus": _softplus_antiderivative,
    "softsign": _psi_softsign,
    "relu": _psi_relu,
    "leaky_relu": _psi_leaky,
    "elu": _psi_elu,
    "swish": _psi_swish,
}


def table1_printed(name: str, u: torch.Tensor) -> torch.Tensor:
    """``Psi`` exactly as printed in the paper's Table 1 (for the docs and the tests that show
    where it is not an antiderivative of ``Phi``; softplus's constant C taken as 0)."""
    if name == "sigmoid":
        return u + torch.log(1 / (torch.exp(u) + 1))
    if name == "tanh":
        return u + torch.log(1 / (torch.exp(2 * u) + 1))
    if name == "softplus":
        return _softplus_antiderivative(u)
    if name == "softsign":  # log(u - 1) of a negative number for u <= 0: NaN there
        return torch.where(u > 0, u - torch.log(u + 1), -u - torch.log(u - 1))
    if name == "relu":
        return _psi_relu(u)
    if name == "leaky_relu":
        return _psi_leaky(u)
    if name == "elu":
        return torch.where(u > 0, 0.5 * u * u, torch.exp(u) - u)
    if name == "swish":  # u^2/2 + u log(1/(e^u+1)) - Li2(-e^{-u})
        li2_neg_inv = -_softplus_antiderivative(-u)  # Li2(-e^{-u})
        return 0.5 * u * u - u * _softplus(u) - li2_neg_inv
    raise ValueError(f"unknown activation {name!r}; known: {sorted(ACTIVATIONS)}")


class Energy(nn.Module):
    """``f(z) = ||z||^2/2 - sum_i Psi(U_i^T z)`` (eq. 8) for a Table 1 activation.

    ``value(z)`` and ``grad(z) = z - U Phi(U^T z)`` (eq. 9) act on the last dimension of
    ``z``; ``gd_step(z) = z - grad f(z)`` is eq. (10)."""

    def __init__(self, U: torch.Tensor, activation: str = "sigmoid"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        U = torch.as_tensor(U)
        if U.ndim != 2 or U.shape[0] != U.shape[1]:
            raise ValueError(f"U must be a square matrix, got shape {tuple(U.shape)}")
        self.register_buffer("U", U)
        self.activation = activation
        self.phi, self.psi = ACTIVATIONS[activation], ANTIDERIVATIVES[activation]

    def value(self, z: torch.Tensor) -> torch.Tensor:
        return 0.5 * (z * z).sum(-1) - self.psi(z @ self.U).sum(-1)  # (U^T z)_i = (z U)_i

    def grad(self, z: torch.Tensor) -> torch.Tensor:
        return z - self.phi(z @ self.U) @ self.U.T  # eq. (9)

    def gd_step(self, z: torch.Tensor) -> torch.Tensor:
        return z - self.grad(z)  # eq. (10): U Phi(U^T z)


def lemma1_unfold(W: torch.Tensor, x0: torch.Tensor, n_steps: int, activation: str = "sigmoid"):
    """Lemma 1: gradient descent (step 1) on ``f`` from ``z_0 = U x_0``, ``U = sqrt(W)``, mapped
    back by ``x = U^{-1} z``. Returns the list ``[x_0, ..., x_n]`` (rows of ``x0`` are samples).
    ``W`` must be symmetric positive definite."""
    W, x0 = torch.as_tensor(W), torch.as_tensor(x0)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"Lemma 1 needs a square matrix W, got shape {tuple(W.shape)}")
    if x0.shape[-1:] != W.shape[:1]:
        raise ValueError(f"x0 of shape {tuple(x0.shape)} needs {W.shape[0]} columns, as W is "
                         f"{W.shape[0]} x {W.shape[0]}")
    # eigh reads one triangle only: an asymmetric W would run Lemma 1 on another matrix
    tol = max(1e-10, 100 * torch.finfo(W.dtype).eps) * max(1.0, float(W.abs().max()))
    asym = float((W - W.T).abs().max())
    if asym > tol:
        raise ValueError(f"Lemma 1 needs a symmetric W (largest |W - W^T| {asym:.3g})")
    evals, evecs = torch.linalg.eigh(W)
    if float(evals.min()) <= 0:
        raise ValueError(f"Lemma 1 needs a positive definite W (smallest eigenvalue {float(evals.min()):.3g})")
    U = evecs @ torch.diag(evals.sqrt()) @ evecs.T
    energy = Energy(U, activation)
    z = x0 @ U.T  # z = U x
    xs = [x0]
    for _ in range(n_steps):
        z = energy.gd_step(z)
        xs.append(torch.linalg.solve(U, z.T).T)  # x = U^{-1} z
    return xs


# ---------------------------------------------------------------- Nesterov's coefficients

def _check_count(n) -> None:
    if not is_int(n, 0):
        raise ValueError(f"n must be an int >= 0 (how many coefficients), got {n!r}")


def nesterov_theta(n: int) -> list[float]:
    """``theta_0..theta_{n-1}``: ``theta_0 = 1``, ``(1 - theta_k)/theta_k^2 = 1/theta_{k-1}^2``."""
    _check_count(n)
    th = [1.0]
    for _ in range(1, n):
        t2 = th[-1] ** 2
        th.append((-t2 + math.sqrt(t2 * t2 + 4 * t2)) / 2)
    return th[:n]


def nesterov_momentum(n: int) -> list[float]:
    """``beta_k = theta_k (1 - theta_{k-1})/theta_{k-1}`` for ``k = 0..n-1`` (``beta_0 = 0``)."""
    _check_count(n)
    th = nesterov_theta(n + 1)
    return ([0.0] + [th[k] * (1 - th[k - 1]) / th[k - 1] for k in range(1, n)])[:n]


def nesterov_h(n: int) -> list[list[float]]:
    """Eq. (5): ``H[k] = [h_{k+1,0}, ..., h_{k+1,k}]`` for ``k = 0..n-1``."""
    _check_count(n)
    b = nesterov_momentum(n + 1)  # b[k+1] = theta_{k+1}(1 - theta_k)/theta_k
    H: list[list[float]] = []
    for k in range(n):
        c = b[k + 1]
        if k == 0:
            H.append([1 + c])
            continue
        prev = H[k - 1]  # h_{k, 0..k-1}
        row = [c * prev[j] for j in range(k - 1)] + [c * (prev[k - 1] - 1), 1 + c]
        H.append(row)
    return H
