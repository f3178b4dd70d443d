"""Optimisation-algorithm-inspired network structures (Li, Yang, Chen, Lin, ACML 2018).

Three layers of the paper, as code:

* **Table 1 / Lemma 1** (:class:`Energy`): for an activation ``Phi`` with antiderivative
  ``Psi`` (``Psi' = Phi``) the energy ``f(z) = ||z||^2/2 - sum_i Psi(U_i^T z)`` (eq. 8) has
  ``grad f(z) = z - U Phi(U^T z)`` (eq. 9), so one gradient step with step 1 is
  ``z_{k+1} = U Phi(U^T z_k)`` (eq. 10); with ``W = U^2`` symmetric positive definite and
  ``x = U^{-1} z`` it is the feed-forward layer ``x_{k+1} = Phi(W x_k)`` (eq. 7). Several printed
  entries of Table 1 are not antiderivatives of their activation (sigmoid, tanh, softsign,
  ELU, swish); :data:`ANTIDERIVATIVES` holds correct ones (docs/optnets.md lists the
  differences), softplus and swish through a dilogarithm :func:`dilog_neg_exp`.
* **The structures** (:class:`OptStructure`): a module that wraps ANY transform ``T`` (one
  shared ``nn.Module`` applied ``depth`` times, or a list of per-layer modules) and runs GD (7),
  heavy ball (11)/(16), Nesterov AGD (12)/(17), AGD2 (13)/(18)/(21) or ADMM (14) / (20) on it,
  with the algorithm's coefficients fixed or learnable.
* **The networks**: CIFAR ResNet-20/56/110 (option A) and HB-Net-20/56/110, DenseNet-40/52
  (k = 12, non-BC) and AGD-Net-40/52, ImageNet ResNet-34 / HB-Net-34 and DenseNet-121 /
  AGD-Net-121, registered in :mod:`glassnet.registry`.

Nesterov's sequence: ``theta_0 = 1``, ``(1 - theta_k)/theta_k^2 = 1/theta_{k-1}^2``; the
momentum of (3)/(12) is ``beta_k = theta_k (1 - theta_{k-1})/theta_{k-1}`` (``beta_0 = 0``) and
the weights of (4)/(13) are ``h_{k+1,j}`` of eq. (5).
"""

from __future__ import annotations

import math
import typing
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from glassnet.nn._base import GlassModule
from glassnet.registry import register_model

__all__ = [
    "ACTIVATIONS",
    "ANTIDERIVATIVES",
    "SCHEMES",
    "AGDNet",
    "AGDNetImageNet",
    "CifarResNet",
    "DenseNet",
    "DenseNetImageNet",
    "Energy",
    "OptStructure",
    "ResNetImageNet",
    "dilog_neg_exp",
    "lemma1_unfold",
    "nesterov_h",
    "nesterov_momentum",
    "nesterov_theta",
]

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
    W = torch.as_tensor(W)
    if not torch.allclose(W, W.T, atol=1e-10 * max(1.0, float(W.abs().max()))):
        raise ValueError("Lemma 1 needs a symmetric W")
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

def nesterov_theta(n: int) -> list[float]:
    """``theta_0..theta_{n-1}``: ``theta_0 = 1``, ``(1 - theta_k)/theta_k^2 = 1/theta_{k-1}^2``."""
    th = [1.0]
    for _ in range(1, n):
        t2 = th[-1] ** 2
        th.append((-t2 + math.sqrt(t2 * t2 + 4 * t2)) / 2)
    return th[:n]


def nesterov_momentum(n: int) -> list[float]:
    """``beta_k = theta_k (1 - theta_{k-1})/theta_{k-1}`` for ``k = 0..n-1`` (``beta_0 = 0``)."""
    th = nesterov_theta(n + 1)
    return [0.0] + [th[k] * (1 - th[k - 1]) / th[k - 1] for k in range(1, n)]


def nesterov_h(n: int) -> list[list[float]]:
    """Eq. (5): ``H[k] = [h_{k+1,0}, ..., h_{k+1,k}]`` for ``k = 0..n-1``."""
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


# ---------------------------------------------------------------- the structures

SCHEMES = ("gd", "hb", "agd", "agd2", "admm", "admm20")


def _coef(values, learnable: bool):
    t = torch.as_tensor(values, dtype=torch.get_default_dtype())
    return nn.Parameter(t) if learnable else t


class _Coefs(nn.Module):
    """Per-layer coefficient tensors: parameters when learnable, buffers otherwise."""

    def __init__(self, rows: Sequence, learnable: bool, prefix: str):
        super().__init__()
        self.n, self.prefix = len(rows), prefix
        for k, r in enumerate(rows):
            # fixed values are kept in float64 (exact algorithm coefficients; a 0-d float64
            # factor does not promote float32 activations); learnable ones in the default dtype
            t = torch.as_tensor(r, dtype=torch.get_default_dtype() if learnable else torch.float64)
            if learnable:
                self.register_parameter(f"{prefix}{k}", nn.Parameter(t))
            else:  # fixed by the constructor's arguments: not part of the state_dict, so
                # ResNet and HB-Net (or DenseNet and AGD-Net) weights load into each other
                self.register_buffer(f"{prefix}{k}", t, persistent=False)

    def __getitem__(self, k) -> torch.Tensor:
        return getattr(self, f"{self.prefix}{k}")

    def __len__(self):
        return self.n


class OptStructure(nn.Module):
    """Wrap any transform ``T`` into an optimisation-algorithm-inspired structure.

    ``T`` is one ``nn.Module`` applied at every layer (give ``depth``) or a list of per-layer
    modules (``depth = len(T)``); for ``scheme="agd2"`` an entry may itself be a list of
    ``k + 1`` modules, one per source ``x_j`` (a DenseNet layer's convolution split by input).
    Layers are ``k = 0..depth-1``; ``forward(x0)`` returns ``x_depth``.

    ``scheme`` and coefficients (``learnable=True`` turns every coefficient into an
    ``nn.Parameter`` initialised at the value below):

    * ``"gd"`` (7): ``x_{k+1} = T(x_k)``.
    * ``"hb"`` (11)/(16): ``x_{k+1} = T(x_k) + beta_1 x_k + beta_2 x_{k-1}``; ``beta`` a float
      (momentum of (11): ``beta_1 = beta, beta_2 = -beta``) or a pair ``(beta_1, beta_2)``;
      ``(1, 0)`` is a residual stage, ``(1, -1)`` HB-Net. ``x_{-1}`` is ``x_prev`` given to
      ``forward`` or, by default, ``x_0`` (no momentum at the start, as the algorithm's
      ``z_{-1} = z_0``; pass ``x_prev=torch.zeros_like(x0)`` for ``T(x_0) + beta_1 x_0``).
    * ``"agd"`` (12)/(17): ``x_{k+1} = T(beta_1 x_k + beta_2 x_{k-1})``; default Nesterov's
      ``beta_1 = 1 + beta_k, beta_2 = -beta_k``; a pair fixes them for every layer.
      ``x_{-1} = x_0``.
    * ``"agd2"`` (13)/(18)/(21): ``x_{k+1} = sum_j alpha^j_{k+1} T(x_j) + beta (x_k - sum_j
      h_{k+1,j} x_j)``; ``alpha`` ``"h"`` (default, eq. 13) or ``"ones"``; ``beta`` default 1.
      With ``learnable`` the momentum weights ``beta^j_{k+1} = beta (delta_jk - h_{k+1,j})``
      of (18) are learned too. ``alpha="ones", beta=0`` is DenseNet's aggregation.
    * ``"admm"`` (14): linearised ADMM with penalty 1 on ``x'`` and ``x`` (two paths, one ``T``
      per layer), ``x'_{k+1} = a (T(x'_k) + x_k - lam_k)``, ``x_{k+1} = a (T(x_k) + x'_{k+1} +
      lam_k)``, ``lam_{k+1} = lam_k + x'_{k+1} - x_{k+1}``, ``a = 1/2``; returns ``x``.
    * ``"admm20"`` (20): ``x'_{k+1} = T(x'_k) + sum_t alpha_t x'_t + sum_t beta_t x_t`` and
      ``x_{k+1} = T(x_k) + (the same sums)``, ``t = 0..k``; default ``alpha_t = beta_t = 1/2``
      at ``t = k`` only (merge-and-run, DMRNet); returns ``x`` (``forward_both`` gives both).

    ``activation`` (a module, default none) is applied after each layer's combination
    (ResNet's ReLU after the addition).
    """

    def __init__(self, T, scheme: str = "gd", depth: int | None = None, *, beta=None,
                 alpha: str = "h", learnable: bool = False, activation: nn.Module | None = None):
        super().__init__()
        if scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
        if isinstance(T, nn.Module) and not isinstance(T, (nn.ModuleList, list)):
            if depth is None or depth < 1:
                raise ValueError("a single shared T needs depth >= 1")
            self.T = nn.ModuleList([T])
            self.shared = True
        else:
            T = list(T)
            if not T:
                raise ValueError("T is an empty list")
            if depth is not None and depth != len(T):
                raise ValueError(f"depth={depth} but {len(T)} per-layer transforms were given")
            depth = len(T)
            self.T = nn.ModuleList(nn.ModuleList(t) if isinstance(t, (list, tuple)) else t for t in T)
            self.shared = False
            if any(isinstance(t, nn.ModuleList) for t in self.T) and scheme != "agd2":
                raise ValueError("per-source transforms (lists in T) only make sense for scheme='agd2'")
        self.scheme, self.depth, self.learnable = scheme, int(depth), bool(learnable)
        self.activation = activation if activation is not None else nn.Identity()
        n = self.depth
        if scheme == "hb":
            b = 0.3 if beta is None else beta
            b1, b2 = (float(b), -float(b)) if not isinstance(b, (tuple, list)) else map(float, b)
            self.coef = _Coefs([[b1, b2]] * n, learnable, "b")
            self._fixed = [(b1, b2)] * n
        elif scheme == "agd":
            if beta is None:
                m = nesterov_momentum(n)
                rows = [[1 + m[k], -m[k]] for k in range(n)]
            else:
                rows = [list(map(float, beta))] * n
            self.coef = _Coefs(rows, learnable, "b")
        elif scheme == "agd2":
            H = nesterov_h(n)
            b = 1.0 if beta is None else float(beta)
            if alpha not in ("h", "ones"):
                raise ValueError(f"alpha must be 'h' or 'ones', got {alpha!r}")
            arows = H if alpha == "h" else [[1.0] * (k + 1) for k in range(n)]
            brows = [[b * ((j == k) - H[k][j]) for j in range(k + 1)] for k in range(n)]
            self.alpha = _Coefs(arows, learnable, "a")
            self.coef = _Coefs(brows, learnable, "b")
        elif scheme == "admm":
            self.coef = _Coefs([[0.5, 0.5]] * n, learnable, "a")
        elif scheme == "admm20":
            rows = [[0.5 if t == k else 0.0 for t in range(k + 1)] for k in range(n)]
            self.alpha = _Coefs(rows, learnable, "a")
            self.coef = _Coefs(rows, learnable, "b")

    def _T(self, k, x, j=None):
        t = self.T[0] if self.shared else self.T[k]
        if isinstance(t, nn.ModuleList):
            return t[j](x)
        return t(x)

    def forward(self, x0: torch.Tensor, x_prev: torch.Tensor | None = None) -> torch.Tensor:
        if self.scheme in ("admm", "admm20"):
            return self.forward_both(x0)[1]
        act, s = self.activation, self.scheme
        x = x0
        if s == "gd":
            for k in range(self.depth):
                x = act(self._T(k, x))
            return x
        if s == "hb":
            prev = x_prev
            for k in range(self.depth):
                t = self._T(k, x)
                if t.shape != x.shape:
                    raise ValueError(f"heavy ball needs T to keep the shape: layer {k} maps "
                                     f"{tuple(x.shape)} to {tuple(t.shape)}")
                p = x if prev is None else prev
                if self.learnable:
                    b = self.coef[k]
                    nxt = t + b[0] * x + b[1] * p
                else:  # fixed: python floats, one new tensor per layer (as a residual add)
                    b0, b1 = self._fixed[k]
                    nxt = torch.add(t, x, alpha=b0)
                    if b1 != 0.0:
                        nxt = nxt.add_(p, alpha=b1)
                prev, x = x, act(nxt)
            return x
        if s == "agd":
            prev = x
            for k in range(self.depth):
                b = self.coef[k]
                prev, x = x, act(self._T(k, b[0] * x + b[1] * prev))
            return x
        # agd2: cache T(x_j) of every layer (each source is transformed once per target when
        # T is per source, once in all otherwise)
        xs, ts = [x], []
        for k in range(self.depth):
            a, b = self.alpha[k], self.coef[k]
            t_k = self.T[0] if self.shared else self.T[k]
            if isinstance(t_k, nn.ModuleList):
                if len(t_k) != k + 1:
                    raise ValueError(f"layer {k} needs {k + 1} per-source transforms, got {len(t_k)}")
                tsum = sum(a[j] * t_k[j](xs[j]) for j in range(k + 1))
            else:
                ts.append(t_k(xs[k]))
                tsum = sum(a[j] * ts[j] for j in range(k + 1))
            mom = sum(b[j] * xs[j] for j in range(k + 1))
            xs.append(act(tsum + mom))
        return xs[-1]

    def forward_both(self, x0: torch.Tensor):
        """ADMM structures: ``(x'_depth, x_depth)``."""
        if self.scheme not in ("admm", "admm20"):
            raise ValueError("forward_both is for the ADMM schemes")
        act = self.activation
        xp, x = x0, x0
        if self.scheme == "admm":  # eq. (14) with lam_k = sum_{t<=k} (x'_t - x_t)
            lam = torch.zeros_like(x0)
            for k in range(self.depth):
                a = self.coef[k]
                xp = act(a[0] * (self._T(k, xp) + x - lam))
                x = act(a[1] * (self._T(k, x) + xp + lam))
                lam = lam + xp - x
            return xp, x
        xps, xs_ = [xp], [x]
        for k in range(self.depth):
            a, b = self.alpha[k], self.coef[k]
            mix = sum(a[t] * xps[t] + b[t] * xs_[t] for t in range(k + 1))
            xp_new = act(self._T(k, xps[-1]) + mix)
            x_new = act(self._T(k, xs_[-1]) + mix)
            xps.append(xp_new)
            xs_.append(x_new)
        return xps[-1], xs_[-1]


def heavy_ball(blocks: Sequence[nn.Module], beta=(1.0, -1.0), learnable: bool = False,
               activation: nn.Module | None = None) -> OptStructure:
    """One line from a stack of shape-preserving blocks to an HB structure (16)."""
    return OptStructure(list(blocks), "hb", beta=beta, learnable=learnable, activation=activation)


def nesterov(blocks: Sequence[nn.Module], learnable: bool = False) -> OptStructure:
    """One line from a stack of blocks to an AGD2 structure (13)/(18) with eq. (5)'s weights."""
    return OptStructure(list(blocks), "agd2", learnable=learnable)


# ---------------------------------------------------------------- CIFAR ResNet / HB-Net

def _init_weights(model: nn.Module) -> None:
    """He init for convolutions [37], Xavier for the classifier [38], BN at (1, 0)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


class _Branch(nn.Module):
    """ResNet's residual branch T: conv-BN-ReLU-conv-BN (two weight layers, Sec. 6.1)."""

    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)

    def forward(self, x):
        return self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))


class _ShortcutA(nn.Module):
    """Option A: stride-2 subsampling and zero-padded channels (no parameters)."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.stride, self.pad = stride, c_out - c_in

    def forward(self, x):
        if self.stride > 1:
            x = x[:, :, :: self.stride, :: self.stride]
        if self.pad:
            x = F.pad(x, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        return x


class _ShortcutB(nn.Sequential):
    """Option B (torchvision): 1x1 convolution with stride, then BN."""

    def __init__(self, c_in, c_out, stride):
        super().__init__(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))


class _Stage(nn.Module):
    """One resolution stage: a first residual block ``x_1 = relu(T_0(x_0) + S(x_0))`` (the
    stride/width change; ``S`` the shortcut), then :class:`OptStructure` ``"hb"`` over the other
    blocks with ``x_{-1} := S(x_0)``: ``x_{k+1} = relu(T_k(x_k) + beta_1 x_k + beta_2 x_{k-1})``.
    ``beta = (1, 0)`` is ResNet's stage, ``(1, -1)`` HB-Net's."""

    def __init__(self, c_in, c_out, n_blocks, stride, beta, learnable, shortcut):
        super().__init__()
        self.first = _Branch(c_in, c_out, stride)
        needs = stride != 1 or c_in != c_out
        self.shortcut = (shortcut(c_in, c_out, stride) if needs else nn.Identity())
        self.hb = (OptStructure([_Branch(c_out, c_out) for _ in range(n_blocks - 1)], "hb",
                                beta=beta, learnable=learnable, activation=nn.ReLU())
                   if n_blocks > 1 else None)
    def forward(self, x):
        s = self.shortcut(x)
        x1 = F.relu(self.first(x) + s)
        if self.hb is None:
            return x1
        return self.hb(x1, x_prev=s)


class CifarResNet(GlassModule):
    """CIFAR ResNet (He et al. 2016, option A shortcuts; 3x3 stem with 16 channels, stages of
    16/32/64 channels, ``n = (depth - 2)/6`` blocks each) and its heavy-ball version HB-Net
    (eq. 16 with ``beta = (1, -1)``: ``x_{k+1} = T(x_k) + x_k - x_{k-1}``).

    ``beta``: ``(1, 0)`` ResNet, ``(1, -1)`` HB-Net; ``learnable``: co-train (beta_1, beta_2)
    of every block (initialised at ``beta``)."""

    def __init__(self, depth: int = 20, num_classes: int = 10, in_chans: int = 3,
                 beta: tuple = (1.0, 0.0), learnable: bool = False):
        super().__init__()
        if (depth - 2) % 6 != 0 or depth < 8:
            raise ValueError(f"CIFAR ResNet depth must be 6n + 2 (n >= 1), got {depth}")
        n = (depth - 2) // 6
        beta = tuple(float(b) for b in beta)
        self.stem = nn.Sequential(nn.Conv2d(in_chans, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.stages = nn.Sequential(
            _Stage(16, 16, n, 1, beta, learnable, _ShortcutA),
            _Stage(16, 32, n, 2, beta, learnable, _ShortcutA),
            _Stage(32, 64, n, 2, beta, learnable, _ShortcutA),
        )
        self.fc = nn.Linear(64, num_classes)
        _init_weights(self)

    def forward(self, x):
        x = self.stages(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class ResNetImageNet(GlassModule):
    """torchvision's ResNet-18/34 layout (BasicBlock, option B shortcut, 7x7 stem, max pool,
    stages of 64/128/256/512 channels) with the HB option of :class:`CifarResNet`."""

    LAYERS: typing.ClassVar[dict] = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}

    def __init__(self, depth: int = 34, num_classes: int = 1000, in_chans: int = 3,
                 beta: tuple = (1.0, 0.0), learnable: bool = False):
        super().__init__()
        if depth not in self.LAYERS:
            raise ValueError(f"depth must be one of {sorted(self.LAYERS)}, got {depth}")
        beta = tuple(float(b) for b in beta)
        self.stem = nn.Sequential(nn.Conv2d(in_chans, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                                  nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        widths, stages, c = (64, 128, 256, 512), [], 64
        for i, (w, n) in enumerate(zip(widths, self.LAYERS[depth])):
            stages.append(_Stage(c, w, n, 1 if i == 0 else 2, beta, learnable, _ShortcutB))
            c = w
        self.stages = nn.Sequential(*stages)
        self.fc = nn.Linear(512, num_classes)
        _init_weights(self)

    def forward(self, x):
        x = self.stages(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# ---------------------------------------------------------------- DenseNet / AGD-Net

class _DenseLayer(nn.Module):
    """DenseNet layer on the concatenation ``[z_0, ..., z_m]``: BN-ReLU-conv3x3 (non-BC) or
    BN-ReLU-conv1x1(4k)-BN-ReLU-conv3x3 (BC). With ``sizes`` (channels of each source) the
    first convolution's input channels of source ``j`` are scaled by ``alpha_j`` (eq. 21's
    ``sum_j alpha^j T(z_j)``: the convolution of a concatenation is the sum of the per-source
    convolutions, so scaling the weights is exact and costs no activation memory)."""

    def __init__(self, c_in, growth, bottleneck, alpha_sizes=None, alpha_learnable=True):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(c_in)
        mid = 4 * growth if bottleneck else growth
        self.conv1 = nn.Conv2d(c_in, mid, 1 if bottleneck else 3, 1, 0 if bottleneck else 1, bias=False)
        if bottleneck:
            self.norm2 = nn.BatchNorm2d(mid)
            self.conv2 = nn.Conv2d(mid, growth, 3, 1, 1, bias=False)
        self.bottleneck = bottleneck
        if alpha_sizes is not None:
            self.register_buffer("sizes", torch.tensor(alpha_sizes), persistent=False)
            a = torch.ones(len(alpha_sizes))
            if alpha_learnable:
                self.alpha = nn.Parameter(a)
            else:
                self.register_buffer("alpha", a)
        else:
            self.alpha = None

    def forward(self, cat):
        r = F.relu(self.norm1(cat))
        w = self.conv1.weight
        if self.alpha is not None:
            w = w * torch.repeat_interleave(self.alpha, self.sizes, output_size=w.shape[1]).view(1, -1, 1, 1)
        out = F.conv2d(r, w, None, 1, self.conv1.padding)
        if self.bottleneck:
            out = self.conv2(F.relu(self.norm2(out)))
        return out


class _DenseBlock(nn.Module):
    """A dense block. ``agd=False``: DenseNet (eq. 19), ``z_{m+1} = T([z_0..z_m])``.
    ``agd=True``: AGD-Net (eq. 21), ``z_{m+1} = sum_j alpha^j_{m+1} T(z_j) + beta (z_m - sum_j
    h_{m+1,j} z_j)`` where the momentum sum runs over the block's growth-``k`` outputs
    ``z_1..z_m`` (the sequence whose members all have ``k`` channels; the block input ``z_0``,
    of another width, enters through ``T`` only), ``h`` from eq. (5) re-indexed on that
    sequence. Every layer's output is concatenated as in DenseNet, so widths, transitions and
    parameter counts are DenseNet's (plus one alpha per source and layer)."""

    def __init__(self, c_in, n_layers, growth, bottleneck, agd, beta, alpha_learnable=True):
        super().__init__()
        self.growth, self.agd, self.beta = growth, agd, float(beta)
        self.layers = nn.ModuleList(
            _DenseLayer(c_in + m * growth, growth, bottleneck,
                        ([c_in] + [growth] * m) if agd else None, alpha_learnable)
            for m in range(n_layers))
        self.c_in = c_in
        # eq. (5) as a recurrence: with u_0, u_1, ... the growth outputs z_1, z_2, ... and
        # S_m = sum_{i<m} h_{m,i} u_i, S_1 = u_0 and S_{m+1} = c_{m+1} (S_m - u_{m-1}) +
        # (1 + c_{m+1}) u_m (c = Nesterov's momentum); layer m+1 adds beta (u_{m-1} - S_m).
        # One small tensor per layer instead of a weighted sum over all previous outputs.
        self.c = nesterov_momentum(n_layers + 2)

    def forward(self, x):
        cat, outs, S = x, [], None
        for m, layer in enumerate(self.layers):
            new = layer(cat)
            if self.agd and self.beta != 0.0:
                if m == 1:
                    S = outs[0]
                elif m >= 2:
                    c = self.c[m]
                    S = c * (S - outs[m - 2]) + (1 + c) * outs[m - 1]
                if m >= 1:
                    new = new + self.beta * (outs[m - 1] - S)
                outs.append(new)
            cat = torch.cat([cat, new], 1)
        return cat


class _Transition(nn.Sequential):
    def __init__(self, c_in, c_out):
        super().__init__(nn.BatchNorm2d(c_in), nn.ReLU(), nn.Conv2d(c_in, c_out, 1, bias=False),
                         nn.AvgPool2d(2))


class _DenseHead(GlassModule):
    """The DenseNet head both layouts share: BN-ReLU, global average pooling, linear."""

    def forward(self, x):
        x = F.relu(self.norm(self.blocks(self.stem(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class DenseNet(_DenseHead):
    """CIFAR DenseNet (Huang et al. 2017; k = 12, non-BC, 24-channel 3x3 stem, three dense
    blocks of ``(depth - 4)/3`` layers, transitions without compression) and AGD-Net (eq. 21,
    ``agd=True``, ``beta = 0.1``, alpha learnable and initialised at 1)."""

    def __init__(self, depth: int = 40, growth: int = 12, num_classes: int = 10, in_chans: int = 3,
                 agd: bool = False, beta: float = 0.1, alpha_learnable: bool = True):
        super().__init__()
        if (depth - 4) % 3 != 0 or depth < 7:
            raise ValueError(f"CIFAR DenseNet depth must be 3n + 4 (n >= 1), got {depth}")
        n = (depth - 4) // 3
        c = 2 * growth
        self.stem = nn.Conv2d(in_chans, c, 3, 1, 1, bias=False)
        blocks = []
        for i in range(3):
            blocks.append(_DenseBlock(c, n, growth, False, agd, beta, alpha_learnable))
            c += n * growth
            if i < 2:
                blocks.append(_Transition(c, c))
        self.blocks = nn.Sequential(*blocks)
        self.norm = nn.BatchNorm2d(c)
        self.fc = nn.Linear(c, num_classes)
        _init_weights(self)



class DenseNetImageNet(_DenseHead):
    """torchvision's DenseNet-BC layout (121: blocks 6/12/24/16, k = 32, 64-channel 7x7 stem,
    bottleneck 4k, compression 0.5) with the AGD option of :class:`DenseNet`."""

    CONFIGS: typing.ClassVar[dict] = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32)}

    def __init__(self, depth: int = 121, num_classes: int = 1000, in_chans: int = 3,
                 agd: bool = False, beta: float = 0.1, growth: int = 32, alpha_learnable: bool = True):
        super().__init__()
        if depth not in self.CONFIGS:
            raise ValueError(f"depth must be one of {sorted(self.CONFIGS)}, got {depth}")
        c = 2 * growth
        self.stem = nn.Sequential(nn.Conv2d(in_chans, c, 7, 2, 3, bias=False), nn.BatchNorm2d(c),
                                  nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        blocks = []
        cfg = self.CONFIGS[depth]
        for i, n in enumerate(cfg):
            blocks.append(_DenseBlock(c, n, growth, True, agd, beta, alpha_learnable))
            c += n * growth
            if i < len(cfg) - 1:
                blocks.append(_Transition(c, c // 2))
                c //= 2
        self.blocks = nn.Sequential(*blocks)
        self.norm = nn.BatchNorm2d(c)
        self.fc = nn.Linear(c, num_classes)
        _init_weights(self)



AGDNet = DenseNet  # AGD-Net is DenseNet(agd=True); the registered names fix the flag
AGDNetImageNet = DenseNetImageNet


# ---------------------------------------------------------------- registry

def _register(name: str, base: type, doc: str, **fixed):
    """Register ``name`` as a subclass of ``base`` whose constructor fixes ``fixed``."""

    def __init__(self, num_classes: int = 1000 if base in (ResNetImageNet, DenseNetImageNet) else 10,
                 in_chans: int = 3, **kwargs):
        base.__init__(self, num_classes=num_classes, in_chans=in_chans, **fixed, **kwargs)

    cls = type(name.replace("-", "_"), (base,), {"__init__": __init__, "__doc__": doc,
                                                "__module__": __name__})
    big = base in (ResNetImageNet, DenseNetImageNet)
    example = (lambda: ({"num_classes": 7}, (torch.randn(2, 3, 32 if big else 16, 32 if big else 16),)))
    cls = register_model(name, example=example)(cls)
    globals()[cls.__name__] = cls
    return cls


for _d in (20, 56, 110):
    _register(f"resnet{_d}", CifarResNet, f"CIFAR ResNet-{_d} (option A).", depth=_d, beta=(1.0, 0.0))
    _register(f"hbnet{_d}", CifarResNet, f"CIFAR HB-Net-{_d} (eq. 16, beta = (1, -1)).", depth=_d,
              beta=(1.0, -1.0))
for _d in (40, 52):
    _register(f"densenet{_d}", DenseNet, f"CIFAR DenseNet-{_d} (k = 12).", depth=_d, agd=False)
    _register(f"agdnet{_d}", DenseNet, f"CIFAR AGD-Net-{_d} (eq. 21, k = 12, beta = 0.1).", depth=_d,
              agd=True)
_register("resnet34", ResNetImageNet, "ImageNet ResNet-34 (torchvision layout).", depth=34, beta=(1.0, 0.0))
_register("hbnet34", ResNetImageNet, "ImageNet HB-Net-34.", depth=34, beta=(1.0, -1.0))
_register("densenet121", DenseNetImageNet, "ImageNet DenseNet-121 (torchvision layout).", depth=121,
          agd=False)
_register("agdnet121", DenseNetImageNet, "ImageNet AGD-Net-121 (eq. 21).", depth=121, agd=True)

OPTNETS_MODELS = ("resnet20", "resnet56", "resnet110", "hbnet20", "hbnet56", "hbnet110",
                  "densenet40", "densenet52", "agdnet40", "agdnet52", "resnet34", "hbnet34",
                  "densenet121", "agdnet121")
