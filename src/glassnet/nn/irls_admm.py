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

Two exact forms of the least-squares step (eq. 27). The *primal* form factors the p x p matrix
``A^T A + rho F^T F``. When there are fewer samples than features (p >> n) the *kernel* form
(Woodbury identity) factors the n x n matrix ``I + A D^{-1} A^T`` with ``D = rho F^T F`` on the
penalised columns, and eliminates the unpenalised ones (an intercept, where ``F = 0``) through
their Schur complement: O(n^2 p) per layer instead of O(p^3). ``solver="auto"`` picks the
kernel form when ``n < 0.6 p``; both give the same ``Omega`` (tested).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from glassnet.datafits import Logistic, Multinomial
from glassnet.nn._base import GlassModule, is_int
from glassnet.penalties import group_norms, soft_threshold
from glassnet.registry import register_model

__all__ = [
    "IRLSADMMNet",
    "IRLSADMMOutput",
    "MultinomialIRLSADMMNet",
    "group_soft_threshold",
    "irls_system",
    "irls_weights",
    "multinomial_weights",
    "omega_layer",
    "omega_layer_kernel",
    "z_layer",
]

# kernel (Woodbury) form when n < KERNEL_RATIO * p: its per-layer cost n^2 p + n^3 / 3 against
# p^3 / 3 for the primal Cholesky (plus n p^2 per stage to form A^T A)
KERNEL_RATIO = 0.6
# smallest rho F_j^2 the kernel form divides by (a trained F_j can pass through 0)
D_FLOOR = 1e-10
_NORM_EPS = 1e-12  # smallest group norm the multinomial z-layer divides by


# the losses are glassnet.datafits' (issue 23: no second copy here). With Phi~ = diag(y) Phi the
# margins m = Phi~ beta are logits whose label is always 1: E = sum_n -log s(m_n) (eq. 32)
LOGISTIC = Logistic()
MULTINOMIAL = Multinomial()


def _sum(per_sample, mean: bool, sample_weight=None):
    """The sum (or mean) of the per-sample losses, each times its weight when weights are given."""
    if sample_weight is None:
        return per_sample.mean() if mean else per_sample.sum()
    total = (sample_weight * per_sample).sum()
    return total / sample_weight.sum() if mean else total


def _check_weights(sample_weight, X):
    """``sample_weight`` of shape (n,), finite and non-negative (else a Cholesky failure later)."""
    if sample_weight is not None:
        if sample_weight.shape != (X.shape[0],):
            raise ValueError(f"sample_weight must have shape ({X.shape[0]},), "
                             f"got {tuple(sample_weight.shape)}")
        if not bool((torch.isfinite(sample_weight) & (sample_weight >= 0)).all()):
            raise ValueError("sample_weight must be finite and non-negative")
    return sample_weight


def irls_weights(beta, Phi_tilde, weight_floor: float, sample_weight=None):
    """Weighting layers (eqs. 23-26): the IRLS weights ``Lambda`` (clamped) and ``A^T b``.

    With ``sample_weight`` ``s`` (the loss ``sum_n s_n log(1 + exp(-m_n))``) the Hessian and
    gradient of every sample carry ``s_n``: ``Lambda`` becomes ``s Lambda`` and ``A^T b``
    ``Phi~^T (s (Lambda m + 1 - s(m)))``; the working response is unchanged."""
    m = Phi_tilde @ beta
    s = torch.sigmoid(m)
    lam = torch.clamp(s * (1.0 - s), min=weight_floor)  # eq. 23, clamped
    r = lam * m + torch.sigmoid(-m)  # b = Lambda^{1/2} v (eqs. 24, 26)
    if sample_weight is not None:
        lam, r = sample_weight * lam, sample_weight * r
    return lam, Phi_tilde.T @ r


def irls_system(beta, Phi_tilde, weight_floor: float, sample_weight=None):
    """Weighting layers (eqs. 23-26) folded into the normal equations: ``A^T A`` and ``A^T b``."""
    lam, Atb = irls_weights(beta, Phi_tilde, weight_floor, sample_weight)
    AtA = Phi_tilde.T @ (lam[:, None] * Phi_tilde)  # A = Lambda^{1/2} Phi~ (eq. 25)
    return AtA, Atb


def omega_layer(AtA, Atb, rho, F, z, u):
    """Omega = (A^T A + rho F^T F)^{-1} (A^T b + rho F^T (z - u))  (eq. 27), F diagonal.

    Leading batch dimensions (one system per class in the multinomial net) broadcast."""
    K = AtA + torch.diag(rho * F * F)
    L = torch.linalg.cholesky(K)
    rhs = Atb + rho * F * (z - u)
    return torch.cholesky_solve(rhs.unsqueeze(-1), L)[..., 0]


def omega_layer_kernel(A, Atb, rho, F, z, u, free=None):
    """Eq. 27 in the kernel (Woodbury) form, for ``A = Lambda^{1/2} Phi~`` with n < p rows.

    With ``D = rho F^T F`` on the penalised columns P (``F_j != 0``) and ``M = I_n + A_P D^{-1}
    A_P^T``: ``(A_P^T A_P + D)^{-1} = D^{-1} - D^{-1} A_P^T M^{-1} A_P D^{-1}``. The unpenalised
    columns ``free`` (indices, e.g. the intercept) are eliminated by their Schur complement.
    Equals :func:`omega_layer` (tested); costs O(n^2 p) instead of O(p^3). Leading batch
    dimensions of ``A`` (..., n, p) and ``Atb`` (..., p) broadcast (one system per class).
    """
    rhs = Atb + rho * F * (z - u)
    if free is None or free.numel() == 0:
        pen = None
        AP, rP = A, rhs
        dinv = 1.0 / torch.clamp(rho * F * F, min=D_FLOOR)
    else:
        n_p = A.shape[-1] - free.numel()
        tail = bool(torch.equal(free, torch.arange(n_p, A.shape[-1], device=free.device)))
        if tail:  # the unpenalised columns last (the intercept): views, no gathers
            pen = slice(0, n_p)
        else:
            keep = torch.ones(A.shape[-1], dtype=torch.bool, device=A.device)
            keep[free] = False
            pen = torch.nonzero(keep)[:, 0]
        AP, rP = A[..., pen], rhs[..., pen]
        dinv = 1.0 / torch.clamp(rho * F[pen] * F[pen], min=D_FLOOR)
    ADinv = AP * dinv  # A_P D^{-1}, n x |P|
    APt, ADinvT = AP.transpose(-1, -2), ADinv.transpose(-1, -2)
    n = A.shape[-2]
    M = torch.eye(n, dtype=A.dtype, device=A.device) + ADinv @ APt
    L = torch.linalg.cholesky(M)

    def solve_pp(x):  # (A_P^T A_P + D)^{-1} x for x of shape (..., |P|, k)
        return dinv[:, None] * x - ADinvT @ torch.cholesky_solve(ADinv @ x, L)

    h = solve_pp(rP.unsqueeze(-1))[..., 0]
    if pen is None:
        return h
    AU, rU = A[..., free], rhs[..., free]
    AUt = AU.transpose(-1, -2)
    G = ADinvT @ torch.cholesky_solve(AU, L)  # (A_P^T A_P + D)^{-1} A_P^T A_U (push-through)
    S = AUt @ AU - (AUt @ AP) @ G  # Schur complement of the free block
    omega_U = torch.linalg.solve(S, (rU - (AUt @ (AP @ h.unsqueeze(-1)))[..., 0]).unsqueeze(-1))
    omega_P = h - (G @ omega_U)[..., 0]
    if tail:
        return torch.cat([omega_P, omega_U[..., 0]], dim=-1)
    omega = torch.zeros_like(rhs)
    return omega.index_copy(-1, pen, omega_P).index_copy(-1, free, omega_U[..., 0])


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
    solver: ``"auto"`` (kernel form when ``n < 0.6 p``), ``"primal"`` (p x p Cholesky) or
        ``"kernel"`` (n x n Woodbury form) for eq. 27; the same ``Omega`` either way.
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
        solver: str = "auto",
    ):
        super().__init__()
        if solver not in ("auto", "primal", "kernel"):
            raise ValueError(f"solver must be 'auto', 'primal' or 'kernel', got {solver!r}")
        self.solver = solver
        if not all(is_int(v, 1) for v in (n_features, k_max, i_max)):
            raise ValueError("n_features, k_max and i_max must all be integers >= 1")
        if not (math.isfinite(rho) and rho > 0 and math.isfinite(lam) and lam >= 0
                and math.isfinite(F) and math.isfinite(t) and t > 0 and weight_floor >= 0):
            raise ValueError("rho and t must be finite and > 0, lam finite and >= 0, F finite and "
                             f"weight_floor >= 0; got rho={rho}, t={t}, lam={lam}, F={F}, "
                             f"weight_floor={weight_floor}")
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

    def extra_repr(self) -> str:
        return (f"n_features={self.n_features}, k_max={self.k_max}, i_max={self.i_max}, "
                f"lam={self.lam}, solver={self.solver!r}")

    @property
    def rho(self) -> torch.Tensor:
        return self.log_rho.exp()

    def loss(self, beta, Phi_tilde, mean: bool = False, sample_weight=None) -> torch.Tensor:
        """E(beta) = sum_n log(1 + exp(-y_n beta^T phi_n)) (eq. 32; the mean with ``mean``), by
        :class:`glassnet.datafits.Logistic` on the margins (stable for huge margins); each
        term times ``sample_weight`` when given (the mean is then the weighted mean)."""
        m = Phi_tilde @ beta
        return _sum(LOGISTIC.per_sample(m, torch.ones_like(m)), mean, sample_weight)

    def objective(self, beta, Phi_tilde, F, sample_weight=None):
        """E(beta) + lambda ||F beta||_1, the function Algorithm 1's line search decreases."""
        return self.loss(beta, Phi_tilde, sample_weight=sample_weight) + self.lam * (F * beta).abs().sum()

    # the three places the binary and the multinomial nets differ
    def _weighted(self, beta, data, sw=None):
        """``A = Lambda^{1/2} Phi~`` and ``A^T b`` (eqs. 23-26), for the kernel form."""
        w, Atb = irls_weights(beta, data, self.weight_floor, sw)
        return w.sqrt()[:, None] * data, Atb  # eq. 25

    def _normal_equations(self, beta, data, sw=None):
        return irls_system(beta, data, self.weight_floor, sw)

    def _shrink(self, v, rho):
        return soft_threshold(v, self.lam / rho)  # eq. 29 (z_layer)

    def _check_input(self, data, width, name="Phi_tilde"):
        if data.ndim != 2 or data.shape[1] != width:
            raise ValueError(f"{name} must have shape (N, {width}), got {tuple(data.shape)}")
        if data.dtype != self.mask.dtype:  # else a raw dtype error inside the first solve
            raise ValueError(f"{name} is {data.dtype} but the net is {self.mask.dtype}: convert "
                             f"it (or the net, net.to({data.dtype}))")
        if not bool(torch.isfinite(data).all()):  # else a Cholesky failure later
            raise ValueError("the design matrix holds NaN or infinite values")

    def _subset(self, columns):
        F_all, mask = self.F, self.mask
        if columns is not None:
            columns = torch.as_tensor(columns, dtype=torch.long)
            if columns.numel() and (int(columns.min()) < 0 or int(columns.max()) >= mask.shape[0]):
                raise ValueError(f"columns must be indices in 0..{mask.shape[0] - 1}")
            F_all, mask = F_all[..., columns], mask[columns]
        return F_all, mask

    def forward(self, Phi_tilde: torch.Tensor, columns=None, sample_weight=None,
                beta0=None) -> IRLSADMMOutput:
        """Run the net on ``Phi~``. ``columns`` (indices into the net's features) runs it on a
        subset: ``Phi_tilde`` then holds only those columns and each feature keeps its own
        learned ``F`` entries, so the same trained net gives the model on a feature subset.
        ``sample_weight`` (n,): the unfolded IRLS steps of the weighted loss (``irls_weights``).
        ``beta0``: the first stage's ``beta`` (default 0; a warm start of Algorithm 1)."""
        F_all, mask = self._subset(columns)
        self._check_input(Phi_tilde, mask.shape[0])
        sw = _check_weights(sample_weight, Phi_tilde)
        beta = Phi_tilde.new_zeros(mask.shape[0]) if beta0 is None else beta0.to(Phi_tilde)
        if beta.shape != (mask.shape[0],):
            raise ValueError(f"beta0 must have shape ({mask.shape[0]},), got {tuple(beta.shape)}")
        return self._unfold(Phi_tilde, beta, F_all, mask, sw)

    def _unfold(self, data, beta, F_all, mask, sw=None) -> IRLSADMMOutput:
        """The k_max x i_max layers from ``beta^0`` (zeros of the output's shape)."""
        rho = self.rho
        n, p = (data[0] if isinstance(data, tuple) else data).shape[0], mask.shape[0]
        kernel = self.solver == "kernel" or (self.solver == "auto" and n < KERNEL_RATIO * p)
        free = torch.nonzero(mask == 0)[:, 0] if kernel else None
        betas, ts = [], []
        for k in range(self.k_max):
            if kernel:
                A, Atb = self._weighted(beta, data, sw)
            else:
                AtA, Atb = self._normal_equations(beta, data, sw)
            z = u = torch.zeros_like(beta)  # z^{k,0} = u^{k,0} = 0
            for i in range(self.i_max):
                F = F_all[k, i] * mask
                if kernel:
                    omega = omega_layer_kernel(A, Atb, rho[k, i], F, z, u, free)  # eq. 27, n x n
                else:
                    omega = omega_layer(AtA, Atb, rho[k, i], F, z, u)  # eq. 27
                C = F * omega  # eq. 28
                z_new = self._shrink(C + u, rho[k, i])  # eq. 29
                u = u + C - z_new  # eq. 30
                z = z_new
            if self.line_search:
                t = self._backtrack(beta, omega, data, F, sw)
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
    def _backtrack(self, beta, omega, data, F, sw=None, shrink: float = 0.5, max_halvings: int = 40):
        """Largest t in {1, 1/2, 1/4, ...} that does not increase the objective (Alg. 1, l. 8)."""
        f0 = self.objective(beta, data, F, sw)
        t = 1.0
        for _ in range(max_halvings):
            if self.objective((1 - t) * beta + t * omega, data, F, sw) <= f0:
                return t
            t *= shrink
        return 0.0


# ----------------------------------------------------------------------------- multinomial


def multinomial_weights(B, data, weight_floor: float, sample_weight=None):
    """Per-class IRLS weights ``w_nc = p_nc (1 - p_nc)`` (clamped; the block-diagonal part of
    the Hessian, eq. M3) and ``A_c^T b_c = Phi^T (w_c * m_c + y_c - p_c)`` (eq. M4), shapes
    (K, n) and (K, n_features); with ``sample_weight`` each sample's terms times ``s_n``."""
    Phi, Y = data
    m = (Phi @ B.T).T  # (K, n) scores
    P = torch.softmax(m, dim=0)
    w = torch.clamp(P * (1.0 - P), min=weight_floor)
    r = w * m + Y.T - P
    if sample_weight is not None:
        w, r = sample_weight * w, sample_weight * r
    return w, r @ Phi


def group_soft_threshold(V: torch.Tensor, kappa) -> torch.Tensor:
    """``(1 - kappa / ||V_{:, j}||)_+ V_{:, j}`` for every column j (eq. M6): the prox of
    :class:`glassnet.penalties.GroupLasso` with groups over the classes. The norm is taken as
    ``sqrt(max(||v||^2, eps^2))`` so that its gradient is finite (0) at an all-zero column, where
    ``sqrt`` alone gives NaN gradients in training."""
    norms = torch.sqrt(torch.clamp((V * V).sum(dim=0), min=_NORM_EPS**2))
    return V * torch.clamp(1.0 - kappa / norms, min=0.0)


@register_model("irls_admm_multinomial", example=lambda: (
    {"n_features": 5, "n_classes": 3, "dtype": torch.float64},
    (torch.randn(9, 5, dtype=torch.float64), torch.eye(3, dtype=torch.float64).repeat(3, 1))))
class MultinomialIRLSADMMNet(IRLSADMMNet):
    """The unfolded net for K classes with one feature set for all classes (docs/irls_admm.md,
    "Multinomial net"): ``min_B E(B) + lambda sum_j ||F_j B_{:, j}||_2`` with ``B`` (K, p).

    Each stage forms one IRLS least-squares problem per class (the block-diagonal part of the
    Hessian, weights ``p_nc (1 - p_nc)``), the ADMM layers solve them side by side (eq. 27 per
    class, primal or kernel form) and the z-layer is the group soft threshold of each feature's
    K class coefficients (eq. M6), so a feature is kept or dropped for all classes at once.
    ``F`` (diagonal, per stage and layer), ``rho`` and ``t`` are shared across classes, as in
    the binary net. ``forward(Phi, Y)`` takes the plain design ``Phi`` (with an intercept
    column where wanted) and one-hot labels ``Y`` (n, K); ``beta`` and ``z`` are (K, p).
    """

    def __init__(self, n_features: int, n_classes: int = 3, k_max: int = 3, i_max: int = 4,
                 lam: float = 1.0, rho: float = 1.0, F: float = 10.0, t: float = 1.0, penalized=None,
                 trainable: bool = True, line_search: bool = False, tol: float = 0.0,
                 weight_floor: float = 1e-10, dtype: torch.dtype = torch.float64, solver: str = "auto"):
        if not is_int(n_classes, 2):
            raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
        super().__init__(n_features, k_max=k_max, i_max=i_max, lam=lam, rho=rho, F=F, t=t,
                         penalized=penalized, trainable=trainable, line_search=line_search, tol=tol,
                         weight_floor=weight_floor, dtype=dtype, solver=solver)
        self.n_classes = n_classes

    def loss(self, B, data, mean: bool = False, sample_weight=None) -> torch.Tensor:
        """E(B) = sum_n [log sum_c exp(b_c^T phi_n) - b_{y_n}^T phi_n] (eq. M1; the mean with
        ``mean``), by :class:`glassnet.datafits.Multinomial`; ``data = (Phi, Y)``, Y one-hot;
        each term times ``sample_weight`` when given."""
        Phi, Y = data
        return _sum(MULTINOMIAL.per_sample(Phi @ B.T, Y.argmax(dim=1)), mean, sample_weight)

    def objective(self, B, data, F, sample_weight=None):
        """E(B) + lambda sum_j ||F_j B_{:, j}||_2 (eq. M2)."""
        return self.loss(B, data, sample_weight=sample_weight) + self.lam * group_norms(F * B).sum()

    def _weighted(self, B, data, sw=None):
        w, Atb = multinomial_weights(B, data, self.weight_floor, sw)
        return w.sqrt()[:, :, None] * data[0], Atb  # A_c = W_c^{1/2} Phi, (K, n, p)

    def _normal_equations(self, B, data, sw=None):
        w, Atb = multinomial_weights(B, data, self.weight_floor, sw)
        Phi = data[0]
        return (w[:, :, None] * Phi).transpose(1, 2) @ Phi, Atb  # Phi^T W_c Phi, (K, p, p)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, n_classes={self.n_classes}"

    def _shrink(self, v, rho):
        return group_soft_threshold(v, self.lam / rho)  # eq. M6

    def forward(self, Phi: torch.Tensor, Y: torch.Tensor, columns=None,
                sample_weight=None) -> IRLSADMMOutput:
        """Run the net on ``(Phi, Y)``; ``columns`` and ``sample_weight`` as in
        :class:`IRLSADMMNet`."""
        F_all, mask = self._subset(columns)
        self._check_input(Phi, mask.shape[0], "Phi")
        if Y.shape != (Phi.shape[0], self.n_classes) or not bool(
                ((Y == 0) | (Y == 1)).all() & (Y.sum(1) == 1).all()):
            raise ValueError(f"Y must be one-hot (0/1, one 1 per row) of shape ({Phi.shape[0]}, "
                             f"{self.n_classes}), got {tuple(Y.shape)}")
        return self._unfold((Phi, Y), Phi.new_zeros(self.n_classes, mask.shape[0]), F_all, mask,
                            _check_weights(sample_weight, Phi))
