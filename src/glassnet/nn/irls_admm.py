"""Deep unfolded IRLS-ADMM net (Yang & Guo, IJMLC 2018) for L1-regularised logistic regression.

Labels ``y_n in {-1, +1}`` enter through ``Phi~ = diag(y) Phi``, so the margin is
``m = Phi~ beta``. Each of ``k_max`` stages forms the IRLS least-squares problem at the current
``beta`` and runs ``i_max`` ADMM layers on ``min_Omega 1/2||A Omega - b||^2 + lambda||F Omega||_1``
(eqs. 17, 20); the stage output relaxes ``beta`` toward the last ``Omega`` (eq. 31).

The same module is the classical Algorithm 1 (fixed ``rho``, ``F = I``, ``t`` by backtracking:
``line_search=True``) and the trainable net (learnable ``rho``, diagonal ``F``, ``t`` per
stage/layer). One code path, as DESIGN.md rule 11 asks.

Numerics. ``A^T A = Phi~^T Lambda Phi~`` and ``A^T b = Phi~^T (Lambda m + 1 - s(m))`` are formed
directly: with ``b = Lambda^{1/2} v`` and ``v = m + 1 + exp(-m)`` (eq. 24) we have
``Lambda^{1/2} b = Lambda m + s(m) (1 - s(m)) (1 + exp(-m)) = Lambda m + 1 - s(m)``, which stays
bounded where ``exp(-m)`` and ``1/Lambda`` overflow. The IRLS weights are clamped below at
``weight_floor`` (saturated sigmoids on separable data), and each ADMM layer solves its
positive-definite system by Cholesky instead of forming an inverse.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as Fn
from torch import nn

from glassnet.nn._base import GlassModule
from glassnet.penalties import soft_threshold
from glassnet.registry import register_model

__all__ = ["IRLSADMMNet", "IRLSADMMOutput", "irls_system", "logistic_loss", "omega_layer", "z_layer"]


def logistic_loss(beta: torch.Tensor, Phi_tilde: torch.Tensor, reduction: str = "sum") -> torch.Tensor:
    """E(beta) = sum_n log(1 + exp(-y_n beta^T phi_n)) (eq. 32), by softplus (stable)."""
    e = Fn.softplus(-(Phi_tilde @ beta))
    return e.sum() if reduction == "sum" else e.mean()


def irls_system(beta, Phi_tilde, weight_floor: float):
    """Weighting layers (eqs. 23-26) folded into the normal equations: ``A^T A`` and ``A^T b``."""
    m = Phi_tilde @ beta
    s = torch.sigmoid(m)
    lam = torch.clamp(s * (1.0 - s), min=weight_floor)  # eq. 23, clamped
    AtA = Phi_tilde.T @ (lam[:, None] * Phi_tilde)  # A = Lambda^{1/2} Phi~ (eq. 25)
    Atb = Phi_tilde.T @ (lam * m + torch.sigmoid(-m))  # b = Lambda^{1/2} v (eqs. 24, 26)
    return AtA, Atb


def omega_layer(AtA, Atb, rho, F, z, u):
    """Omega = (A^T A + rho F^T F)^{-1} (A^T b + rho F^T (z - u))  (eq. 27), F diagonal."""
    K = AtA + torch.diag(rho * F * F)
    L = torch.linalg.cholesky(K)
    rhs = Atb + rho * F * (z - u)
    return torch.cholesky_solve(rhs[:, None], L)[:, 0]


def z_layer(C, u, rho, lam: float):
    """z = S_{lambda/rho}(C + u)  (eq. 29, soft threshold of eq. 22)."""
    return soft_threshold(C + u, lam / rho)


@dataclass
class IRLSADMMOutput:
    beta: torch.Tensor  # final coefficient vector (the network's output)
    z: torch.Tensor  # last ADMM split variable z^{k_max, i_max} (exactly sparse)
    betas: list  # beta^1 .. beta^{k_max}
    t: list  # step t_k used at each stage (learned, fixed or found by line search)


@register_model("irls_admm", example=lambda: (
    {"n_features": 5, "dtype": torch.float64}, (torch.randn(8, 5, dtype=torch.float64),)))
class IRLSADMMNet(GlassModule):
    """The unfolded net: ``k_max`` stages of ``i_max`` ADMM layers (Fig. 1: 3 x 4).

    Parameters
    ----------
    n_features: columns of ``Phi`` (including an intercept column, if any).
    penalized: boolean mask of length ``n_features``; ``False`` entries (an intercept) get
        ``F = 0`` so they are never shrunk. Default: all penalised.
    lam: weight of the L1 term (the paper fixes lambda = 1 and learns F and rho).
    rho, F, t: initial values (paper: 1, 10 I, 1). ``rho = exp(log_rho)`` stays positive by
        construction; ``F`` is the diagonal of ``F_{k,i}``; ``t`` the stage relaxation (eq. 31).
    trainable: make ``rho``, ``F``, ``t`` learnable ``nn.Parameter``s (else buffers).
    line_search: ignore ``t`` and pick ``t_k`` by backtracking on E + lambda||F beta||_1
        (Algorithm 1, line 8); for the classical solver, not for training.
    tol: with ``line_search``, stop once ``||beta^k - beta^{k-1}||_inf < tol``.
    """

    def __init__(
        self,
        n_features: int,
        k_max: int = 3,
        i_max: int = 4,
        lam: float = 1.0,
        rho: float = 1.0,
        F: float = 10.0,
        t: float = 1.0,
        penalized=None,
        trainable: bool = True,
        line_search: bool = False,
        tol: float = 0.0,
        weight_floor: float = 1e-10,
        dtype: torch.dtype = torch.float64,
    ):
        super().__init__()
        if n_features < 1 or k_max < 1 or i_max < 1:
            raise ValueError("n_features, k_max and i_max must all be >= 1")
        if rho <= 0 or lam < 0:
            raise ValueError("rho must be > 0 and lam >= 0")
        self.n_features, self.k_max, self.i_max = n_features, k_max, i_max
        self.lam, self.line_search, self.tol = float(lam), line_search, tol
        self.weight_floor = weight_floor
        mask = torch.ones(n_features, dtype=dtype)
        if penalized is not None:
            mask = torch.as_tensor(penalized, dtype=dtype)
            if mask.shape != (n_features,):
                raise ValueError(f"penalized must have length {n_features}")
        self.register_buffer("mask", mask)
        log_rho = torch.full((k_max, i_max), float(torch.log(torch.tensor(rho))), dtype=dtype)
        F_diag = torch.full((k_max, i_max, n_features), float(F), dtype=dtype)
        t_vec = torch.full((k_max,), float(t), dtype=dtype)
        for name, value in (("log_rho", log_rho), ("F", F_diag), ("t", t_vec)):
            if trainable:
                setattr(self, name, nn.Parameter(value))
            else:
                self.register_buffer(name, value)

    @property
    def rho(self) -> torch.Tensor:
        return self.log_rho.exp()

    def objective(self, beta, Phi_tilde, F):
        """E(beta) + lambda ||F beta||_1, the function Algorithm 1's line search decreases."""
        return logistic_loss(beta, Phi_tilde) + self.lam * (F * beta).abs().sum()

    def forward(self, Phi_tilde: torch.Tensor, columns=None) -> IRLSADMMOutput:
        """Run the net on ``Phi~``. ``columns`` (indices into the net's features) runs it on a
        subset: ``Phi_tilde`` then holds only those columns and each feature keeps its own
        learned ``F`` entries, so the same trained net gives the model on a feature subset."""
        F_all, mask = self.F, self.mask
        if columns is not None:
            columns = torch.as_tensor(columns, dtype=torch.long)
            F_all, mask = F_all[..., columns], mask[columns]
        if Phi_tilde.ndim != 2 or Phi_tilde.shape[1] != mask.shape[0]:
            raise ValueError(f"Phi_tilde must have shape (N, {mask.shape[0]}), got {tuple(Phi_tilde.shape)}")
        beta = Phi_tilde.new_zeros(mask.shape[0])  # beta^0 = 0
        rho = self.rho
        betas, ts = [], []
        for k in range(self.k_max):
            AtA, Atb = irls_system(beta, Phi_tilde, self.weight_floor)
            z = u = torch.zeros_like(beta)  # z^{k,0} = u^{k,0} = 0
            for i in range(self.i_max):
                F = F_all[k, i] * mask
                omega = omega_layer(AtA, Atb, rho[k, i], F, z, u)  # eq. 27
                C = F * omega  # eq. 28
                z_new = z_layer(C, u, rho[k, i], self.lam)  # eq. 29
                u = u + C - z_new  # eq. 30
                z = z_new
            if self.line_search:
                t = self._backtrack(beta, omega, Phi_tilde, F)
            else:
                t = self.t[k]
            new_beta = (1 - t) * beta + t * omega  # eq. 31
            ts.append(t)
            betas.append(new_beta)
            done = self.line_search and self.tol > 0 and (new_beta - beta).abs().max() < self.tol
            beta = new_beta
            if done:
                break
        return IRLSADMMOutput(beta=beta, z=z, betas=betas, t=ts)

    @torch.no_grad()
    def _backtrack(self, beta, omega, Phi_tilde, F, shrink: float = 0.5, max_halvings: int = 40):
        """Largest t in {1, 1/2, 1/4, ...} that does not increase the objective (Alg. 1, l. 8)."""
        f0 = self.objective(beta, Phi_tilde, F)
        t = 1.0
        for _ in range(max_halvings):
            if self.objective((1 - t) * beta + t * omega, Phi_tilde, F) <= f0:
                return t
            t *= shrink
        return 0.0
