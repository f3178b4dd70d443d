"""Penalty objects: ``value(w)`` and ``prox(w, step)`` on torch tensors (DESIGN.md rule 3).

``prox(w, step)`` returns ``argmin_x 1/(2 step) ||x - w||^2 + penalty(x)``. Models never
re-derive proximal steps; they take a penalty object and the training loop applies it.

Group axis (group penalties): **group j is ``w[..., j]``**, every entry whose last index is j.
For a first-layer weight ``W`` of shape (hidden, p) that is column ``W[:, j]``, all outgoing
weights of input feature j (SPINN). For a stacked integrative weight of shape (M, hidden, p),
group j is ``W[:, :, j]`` and its sub-group for data set m is ``W[m, :, j]``.

Nonconvex penalties (MCP family) have a unique prox only when ``step < gamma``; their ``prox``
raises ``ValueError`` otherwise. :class:`IntegrativePenalty` (``outer="mcp"``) is the exception:
its prox is unique only for ``step < gamma / ((1 - alpha) sqrt(hidden) + alpha)^2`` (the outer
MCP's curvature times the squared gradient of ``Omega_alpha``), and above that bound its
``prox`` returns the stationary point its fixed-point iteration reaches from ``w`` (a local
prox: a feature on the saturated part of the MCP is not shrunk). ``IntegrativeSPINN``'s default
step (``lr=2.0``, ``hidden=(10,)``, ``alpha=0.5``, bound 0.69) is above it; the global prox (the
better of the two extreme fixed points, as :class:`CompositeMCP`) was tried there and lost test R2
on tuning data (docs/history/spinn.md, stop 54).
"""

from __future__ import annotations

import copy
import math
import numbers

import torch

__all__ = [
    "L1",
    "MCP",
    "PENALTIES",
    "CompositeMCP",
    "GroupLasso",
    "GroupMCP",
    "IntegrativePenalty",
    "Penalty",
    "SparseGroupLasso",
    "get_penalty",
    "group_norms",
    "mcp_derivative",
    "mcp_value",
    "soft_threshold",
]


def _nonzero(norms: torch.Tensor) -> torch.Tensor:
    """Group norms with 0 raised to the dtype's smallest normal number, so ``kappa / norm`` is
    finite; every normal positive norm is kept exact (a floor of 1e-12 shrank groups of norm below it
    wrongly: 1e-13 at kappa 5e-14 gave 9.5e-14, not 5e-14)."""
    return torch.clamp(norms, min=torch.finfo(norms.dtype).tiny)


def soft_threshold(x: torch.Tensor, kappa) -> torch.Tensor:
    """S_kappa(x) = sign(x) max(|x| - kappa, 0) (IRLS-ADMM eq. 22); kappa may be a tensor."""
    return torch.sign(x) * torch.clamp(torch.abs(x) - kappa, min=0.0)


class Penalty:
    """Base class. Subclasses set ``lam`` and implement ``value`` and ``prox``."""

    lam: float

    def value(self, w: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def prox(self, w: torch.Tensor, step: float) -> torch.Tensor:
        raise NotImplementedError

    def values(self, W: torch.Tensor) -> torch.Tensor:
        """(B,) ``value(W[b])`` of every network of a stack (the path solver's)."""
        return torch.stack([self.value(w) for w in W])

    def proxes(self, W: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
        """``prox(W[b], steps[b])`` of every network of a stack, stacked (``steps``: (B,))."""
        return torch.stack([self.prox(w, float(t)) for w, t in zip(W, steps, strict=True)])

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"

    def with_lambda(self, lam: float) -> Penalty:
        """A copy of this penalty with another ``lam`` (regularisation paths)."""
        new = copy.copy(self)
        new.lam = self._check_lambda(lam)
        return new

    @staticmethod
    def _check_lambda(lam: float) -> float:
        try:
            lam = float(lam)
        except (TypeError, ValueError):
            raise ValueError(f"lam must be a finite number >= 0, got {lam!r}") from None
        if not (math.isfinite(lam) and lam >= 0):
            raise ValueError(f"lam must be a finite number >= 0, got {lam}")
        return lam


class L1(Penalty):
    """lambda * ||w||_1; prox is soft thresholding at lambda * step."""

    def __init__(self, lam: float = 1.0):
        self.lam = self._check_lambda(lam)

    def value(self, w):
        return self.lam * w.abs().sum()

    def prox(self, w, step):
        _check_step(step, None, "L1")
        return soft_threshold(w, self.lam * step)


def _safe_sqrt(sq: torch.Tensor) -> torch.Tensor:
    """``sqrt(sq)`` whose gradient at 0 is 0 (the minimum-norm subgradient of a group norm at
    an all-zero group) instead of ``inf * 0 = nan``; values are bit-equal to ``torch.sqrt``.
    Without autograd (the proxes of every path step) it is ``torch.sqrt`` itself."""
    if not sq.requires_grad:
        return torch.sqrt(sq)
    pos = sq > 0
    return torch.where(pos, torch.sqrt(torch.where(pos, sq, torch.ones_like(sq))), torch.zeros_like(sq))


def _by_group(w: torch.Tensor) -> torch.Tensor:
    """``w`` as a (group size, p) matrix whose column j is group j (empty groups allowed)."""
    if w.dim() == 0:
        raise ValueError("a group penalty needs w with at least one axis (group j is w[..., j]), got a scalar")
    return w.reshape(math.prod(w.shape[:-1]), w.shape[-1])


def group_norms(w: torch.Tensor) -> torch.Tensor:
    """Euclidean norm of each group ``w[..., j]`` (a vector of length ``w.shape[-1]``); an
    all-zero group has norm 0 and gradient 0 (differentiable through autograd everywhere)."""
    return _safe_sqrt(_by_group(w * w).sum(dim=0))


def _stack_norms(W: torch.Tensor) -> torch.Tensor:
    """(B, p): :func:`group_norms` of every ``W[b]``."""
    return _safe_sqrt((W * W).reshape(W.shape[0], math.prod(W.shape[1:-1]), W.shape[-1]).sum(dim=1))


def _per_group(t: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """(B, p) values broadcast against W (B, ..., p)."""
    return t.reshape(t.shape[0], *([1] * (W.dim() - 2)), t.shape[-1])


def _per_network(steps, W, fn) -> torch.Tensor:
    """(B, 1) ``fn(step)`` per network, computed in float64 and rounded once to W's dtype, as a
    Python float is in ``prox(w, step)`` (so the stacked prox equals the per-network one)."""
    return fn(torch.as_tensor(steps, dtype=torch.float64, device=W.device)).to(W.dtype).reshape(-1, 1)


def _stack_shrink(norms: torch.Tensor, kappa: torch.Tensor) -> torch.Tensor:
    """(B, p) block soft-thresholding factors ``(1 - kappa_b / ||w_bj||)_+`` of a stack (kappa
    (B, 1)); ``x.reciprocal() * kappa`` is what ``kappa / x`` computes for a Python float kappa
    in :func:`_group_shrink`, so the factors are bit-equal to one network's."""
    return torch.clamp(1.0 - _nonzero(norms).reciprocal() * kappa, min=0.0)


def _group_shrink(w: torch.Tensor, kappa, norms=None) -> torch.Tensor:
    """Block soft thresholding ``(1 - kappa/||w_j||)_+ w_j`` of every group; kappa per group ok."""
    norms = group_norms(w) if norms is None else norms
    scale = torch.clamp(1.0 - kappa / _nonzero(norms), min=0.0)
    return w * scale


def mcp_value(t: torch.Tensor, lam: float, gamma: float) -> torch.Tensor:
    """MCP of ``t >= 0`` (Zhang 2010): ``lambda t - t^2/(2 gamma)`` up to ``gamma lambda``,
    then the constant ``gamma lambda^2 / 2``."""
    inner = lam * t - t * t / (2.0 * gamma)
    return torch.where(t <= gamma * lam, inner, torch.full_like(t, gamma * lam**2 / 2.0))


def mcp_derivative(t: torch.Tensor, lam: float, gamma: float) -> torch.Tensor:
    """MCP'(t) = ``(lambda - t/gamma)_+`` for ``t >= 0``."""
    return torch.clamp(lam - t / gamma, min=0.0)


def _check_gamma(gamma: float) -> float:
    gamma = float(gamma)
    if not gamma > 1.0:
        raise ValueError(f"gamma must be > 1, got {gamma}")
    return gamma


def _check_solver(max_iter, tol) -> tuple[int, float]:
    """The inner fixed-point solve's controls: ``max_iter`` an int >= 1, ``tol`` finite >= 0."""
    if (isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Real)
            or not float(max_iter).is_integer() or max_iter < 1):
        raise ValueError(f"max_iter must be an int >= 1, got {max_iter!r}")
    tol = float(tol)
    if not (math.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be finite and >= 0, got {tol}")
    return int(max_iter), tol


def _check_step(step: float, gamma: float | None, name: str) -> None:
    """``step`` a finite number >= 0 (a negative step maximises), below ``gamma`` if given."""
    if isinstance(step, bool) or not isinstance(step, numbers.Real | torch.Tensor) or not (
            math.isfinite(step) and step >= 0):
        raise ValueError(f"{name}.prox needs a finite step >= 0, got {step!r}")
    if gamma is not None and not step < gamma:
        raise ValueError(
            f"{name}.prox needs step < gamma for a unique minimiser (step={step}, gamma={gamma}); "
            "lower the learning rate or raise gamma"
        )


class GroupLasso(Penalty):
    """``lambda * sum_j ||w[..., j]||_2``; prox is block soft thresholding."""

    def __init__(self, lam: float = 1.0):
        self.lam = self._check_lambda(lam)

    def value(self, w):
        return self.lam * group_norms(w).sum()

    def prox(self, w, step):
        _check_step(step, None, "GroupLasso")
        return _group_shrink(w, self.lam * step)

    def values(self, W):
        return self.lam * _stack_norms(W).sum(1)

    def proxes(self, W, steps):
        kappa = _per_network(steps, W, lambda t: self.lam * t)
        return W * _per_group(_stack_shrink(_stack_norms(W), kappa), W)


class SparseGroupLasso(Penalty):
    """``lambda * sum_j [(1 - alpha) ||w_j||_1 + alpha ||w_j||_2]`` (Omega_alpha of the notes).

    The prox is soft thresholding at ``(1 - alpha) lambda step`` followed by group shrinkage
    ``(1 - alpha lambda step / ||.||)_+`` (Simon et al. 2013). ``alpha = 1``: group lasso;
    ``alpha = 0``: lasso.
    """

    def __init__(self, lam: float = 1.0, alpha: float = 0.5):
        self.lam = self._check_lambda(lam)
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be a number in [0, 1], got {alpha!r}")
        self.alpha = float(alpha)

    def value(self, w):
        return self.lam * (
            (1 - self.alpha) * w.abs().sum() + self.alpha * group_norms(w).sum()
        )

    def prox(self, w, step):
        _check_step(step, None, "SparseGroupLasso")
        u = soft_threshold(w, (1 - self.alpha) * self.lam * step)
        return _group_shrink(u, self.alpha * self.lam * step)


class MCP(Penalty):
    """Elementwise minimax concave penalty ``sum_i MCP(|w_i|; lambda, gamma)``.

    Prox (firm thresholding, needs ``step < gamma``): ``S(w, step lambda) / (1 - step/gamma)``
    where ``|w| <= gamma lambda``, else ``w``.
    """

    def __init__(self, lam: float = 1.0, gamma: float = 3.0):
        self.lam = self._check_lambda(lam)
        self.gamma = _check_gamma(gamma)

    def value(self, w):
        return mcp_value(w.abs(), self.lam, self.gamma).sum()

    def prox(self, w, step):
        _check_step(step, self.gamma, "MCP")
        firm = soft_threshold(w, step * self.lam) / (1.0 - step / self.gamma)
        return torch.where(w.abs() <= self.gamma * self.lam, firm, w)


class GroupMCP(Penalty):
    """``sum_j MCP(||w[..., j]||_2; lambda, gamma)`` (group MCP, Huang et al. 2012).

    Prox (needs ``step < gamma``): ``(1 - step lambda/||w_j||)_+ w_j / (1 - step/gamma)`` when
    ``||w_j|| <= gamma lambda``, else ``w_j`` unchanged.
    """

    def __init__(self, lam: float = 1.0, gamma: float = 3.0):
        self.lam = self._check_lambda(lam)
        self.gamma = _check_gamma(gamma)

    def value(self, w):
        return mcp_value(group_norms(w), self.lam, self.gamma).sum()

    def prox(self, w, step):
        _check_step(step, self.gamma, "GroupMCP")
        norms = group_norms(w)
        firm = _group_shrink(w, step * self.lam, norms) / (1.0 - step / self.gamma)
        return torch.where(norms <= self.gamma * self.lam, firm, w)

    def values(self, W):
        return mcp_value(_stack_norms(W), self.lam, self.gamma).sum(1)

    def proxes(self, W, steps):
        _check_step(float(torch.as_tensor(steps).max()), self.gamma, "GroupMCP")
        norms = _stack_norms(W)
        kappa = _per_network(steps, W, lambda t: t * self.lam)
        firm = (W * _per_group(_stack_shrink(norms, kappa), W)) / _per_group(_per_network(steps, W, lambda t: 1.0 - t / self.gamma), W)
        return torch.where(_per_group(norms <= self.gamma * self.lam, W), firm, W)


class CompositeMCP(Penalty):
    """Composite MCP (Breheny & Huang's cMCP; our notes' gMP): bi-level selection.

    ``P(w) = sum_j MCP_outer( sum_t MCP(|w_jt|; lambda, gamma) ) / lambda`` with the outer MCP
    ``(lambda, b)``, ``b = K gamma lambda / 2`` (K = group size), so the outer penalty
    saturates exactly when all inner ones do (grpreg's choice). Dividing by lambda makes the
    rate at zero equal ``lambda`` (as L1/group lasso), so the same ``lam`` grid serves all
    penalties. The coordinate-wise threshold is the notes' ``lambda_jt = MCP_outer'(sum_k
    MCP(|w_jk|)) / lambda * MCP'(|w_jt|)``.

    ``prox`` (``step < gamma`` required) solves the stationarity condition ``x = S(v, step *
    lambda_jt(x))`` group by group through one scalar per group, the outer slope
    ``s_j = MCP_outer'(sum_t MCP(|x_jt|)) / lambda`` in [0, 1]: given ``s_j`` the coordinates
    have the closed form of a firm threshold at ``step s_j lambda``, and ``s_j`` is a fixed point
    of a continuous increasing map of [0, 1]. The prox objective is strictly convex only for
    ``step < gamma / 3`` (inner curvature ``-1/gamma``, outer ``-2/gamma``), where that fixed
    point is unique; beyond, a group may have two local minima, so two fixed points are found:
    the least (iteration from the slope at ``x = v``) and the greatest (from 1), and the one
    with the lower objective is returned. Each iteration (``max_iter`` steps) is followed, for
    any group not converged to ``tol``, by bisection between its last iterate and the other
    bracket, which always converges (60 halvings). A ``ConvergenceWarning`` is raised only if
    bisection too fails to reach ``tol``.
    """

    def __init__(self, lam: float = 1.0, gamma: float = 3.0, max_iter: int = 100, tol: float = 1e-10):
        self.lam = self._check_lambda(lam)
        self.gamma = _check_gamma(gamma)
        self.max_iter, self.tol = _check_solver(max_iter, tol)

    def _outer_b(self, w):
        return _by_group(w).shape[0] * self.gamma * self.lam / 2.0

    def _inner_sums(self, w):
        return _by_group(mcp_value(w.abs(), self.lam, self.gamma)).sum(dim=0)

    def value(self, w):
        if self.lam == 0 or _by_group(w).numel() == 0:  # no groups, or groups of no entries
            return w.new_zeros(())
        b = self._outer_b(w)
        return mcp_value(self._inner_sums(w), self.lam, b).sum() / self.lam

    def thresholds(self, w):
        """``lambda_jt`` of every entry at the point ``w`` (same shape as ``w``)."""
        if self.lam == 0:
            return torch.zeros_like(w)
        outer = mcp_derivative(self._inner_sums(w), self.lam, self._outer_b(w)) / self.lam
        return outer * mcp_derivative(w.abs(), self.lam, self.gamma)

    def _x_of_s(self, v, s, step):
        """Coordinates given the outer slope ``s`` (p,): ``x = S(v, step s MCP'(|x|))`` in
        closed form (firm thresholding at ``step s lambda``; unchanged beyond ``gamma lambda``)."""
        k = step * s  # (p,), broadcast over the last axis
        firm = soft_threshold(v, k * self.lam) / (1.0 - k / self.gamma)
        return torch.where(v.abs() <= self.gamma * self.lam, firm, v)

    def _phi(self, v, s, step, b):
        return mcp_derivative(self._inner_sums(self._x_of_s(v, s, step)), self.lam, b) / self.lam

    def _fixed_point(self, v, s, step, b, bracket):
        """The fixed point of ``phi`` (continuous, increasing) that iteration from ``s`` reaches
        (from below: the least; from 1: the greatest); groups not converged to ``tol`` in
        ``max_iter`` steps are bisected between ``s`` and ``bracket`` (60 halvings)."""
        for _ in range(self.max_iter):
            s_new = self._phi(v, s, step, b)
            done = torch.abs(s_new - s) <= self.tol
            s = s_new
            if bool(done.all()):
                return s
        lo, hi = torch.minimum(s, bracket), torch.maximum(s, bracket)  # phi(lo) >= lo, phi(hi) <= hi
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            up = self._phi(v, mid, step, b) >= mid
            lo, hi = torch.where(up, mid, lo), torch.where(up, hi, mid)
        s = torch.where(done, s, lo)
        gap = torch.abs(self._phi(v, s, step, b) - s)
        if bool((gap > max(self.tol, 1e-6)).any()):
            import warnings

            from sklearn.exceptions import ConvergenceWarning

            warnings.warn(f"CompositeMCP.prox: outer slope not converged (max gap {float(gap.max()):.3g} "
                          f"at step {step})", ConvergenceWarning, stacklevel=3)
        return s

    def _group_objective(self, x, v, step, b):
        """``||x_j - v_j||^2 / (2 step) + P_j(x_j)`` of every group j."""
        return 0.5 * _by_group((x - v) ** 2).sum(dim=0) / step + mcp_value(
            self._inner_sums(x), self.lam, b) / self.lam

    def prox(self, w, step):
        _check_step(step, self.gamma, "CompositeMCP")
        if self.lam == 0 or _by_group(w).numel() == 0:
            return w.clone()
        b = self._outer_b(w)
        # every stationary point is x(s) at a fixed point s of phi; for step < gamma / 3 there is
        # one, beyond it there may be two minima: the least fixed point (from the slope at x = v,
        # below every fixed point) and the greatest (from 1) are compared group by group
        low = mcp_derivative(self._inner_sums(w), self.lam, b) / self.lam
        s_lo = self._fixed_point(w, low, step, b, torch.ones_like(low))
        s_hi = self._fixed_point(w, torch.ones_like(low), step, b, s_lo)
        x_lo, x_hi = self._x_of_s(w, s_lo, step), self._x_of_s(w, s_hi, step)
        better = self._group_objective(x_hi, w, step, b) < self._group_objective(x_lo, w, step, b)
        return torch.where(better, x_hi, x_lo)


class IntegrativePenalty(Penalty):
    """Integrative-analysis penalty ``sum_j P_j[ sum_m Omega_alpha(w_jm; lambda) ]`` (our notes).

    ``w`` has shape (M, hidden, p): ``w_jm = w[m, :, j]`` is feature j's first-layer group in data
    set m, and ``Omega_alpha(theta; lambda) = lambda [(1 - alpha)||theta||_1 + alpha
    ||theta||_2]``. ``outer="mcp"``: ``P_j(u) = MCP(u; 1, b)`` with ``b = M gamma lambda^2``
    (slope 1 at zero; saturates at the value of M saturated group MCPs), which couples feature j across
    data sets: a feature strongly active in one set is penalised less in the others.
    ``outer=None``: ``P_j(u) = u``, the plain sparse group lasso on the sub-groups. The prox
    rescales the sparse-group-lasso prox by ``P_j'`` at the solution (fixed-point iteration,
    as in the notes' ``const * (1 - alpha) * gamma_k`` step).
    """

    def __init__(self, lam: float = 1.0, alpha: float = 0.5, outer: str | None = "mcp",
                 gamma: float = 3.0, max_iter: int = 100, tol: float = 1e-10):
        self.lam = self._check_lambda(lam)
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be a number in [0, 1], got {alpha!r}")
        if outer not in ("mcp", None):
            raise ValueError(f"outer must be 'mcp' or None, got {outer!r}")
        self.alpha = float(alpha)
        self.outer = outer
        self.gamma = _check_gamma(gamma)
        self.max_iter, self.tol = _check_solver(max_iter, tol)

    @staticmethod
    def _check_shape(w):
        if w.dim() != 3:
            raise ValueError(f"IntegrativePenalty expects w of shape (M, hidden, p), got {tuple(w.shape)}")

    def omega(self, w):
        """``Omega_alpha(w_jm; lambda)`` as an (M, p) tensor."""
        self._check_shape(w)
        l1 = w.abs().sum(dim=1)
        l2 = w.norm(dim=1)
        return self.lam * ((1 - self.alpha) * l1 + self.alpha * l2)

    def _outer_b(self, w):
        return w.shape[0] * self.gamma * self.lam**2

    def outer_slope(self, w):
        """``P_j'`` at ``sum_m Omega`` per feature (ones without an outer penalty)."""
        u = self.omega(w).sum(dim=0)
        if self.outer is None or self.lam == 0 or w.shape[0] == 0:
            return torch.ones_like(u)
        return mcp_derivative(u, 1.0, self._outer_b(w))

    def value(self, w):
        u = self.omega(w).sum(dim=0)
        if self.outer is None or self.lam == 0 or w.shape[0] == 0:  # no data sets: u = 0
            return u.sum()
        return mcp_value(u, 1.0, self._outer_b(w)).sum()

    def _sgl_prox(self, w, kappa):
        # kappa: per-feature multiplier (p,) of lambda * step
        u = soft_threshold(w, (1 - self.alpha) * kappa)
        norms = u.norm(dim=1, keepdim=True)  # (M, 1, p)
        scale = torch.clamp(1.0 - self.alpha * kappa / _nonzero(norms), min=0.0)
        return u * scale

    def prox(self, w, step):
        self._check_shape(w)
        _check_step(step, None if self.outer is None else self.gamma, "IntegrativePenalty")
        base = self.lam * step
        if self.outer is None:
            return self._sgl_prox(w, torch.full((w.shape[-1],), base, dtype=w.dtype))
        x = w
        # relative to w's scale, so that prox(c w; c lam) = c prox(w; lam) at any scale c
        scale = torch.max(torch.abs(w)) if w.numel() else torch.zeros(())
        for _ in range(self.max_iter):
            x_new = self._sgl_prox(w, base * self.outer_slope(x))
            gap = torch.max(torch.abs(x_new - x)) if x.numel() else torch.zeros(())
            if gap <= self.tol * scale:
                return x_new
            x = x_new
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        warnings.warn(f"IntegrativePenalty.prox: the fixed point was not reached in max_iter="
                      f"{self.max_iter} iterations (last change {float(gap):.3g}, step {step})",
                      ConvergenceWarning, stacklevel=2)
        return x


PENALTIES: dict[str, type[Penalty]] = {
    "l1": L1,
    "group_lasso": GroupLasso,
    "sparse_group_lasso": SparseGroupLasso,
    "mcp": MCP,
    "group_mcp": GroupMCP,
    "composite_mcp": CompositeMCP,
    "integrative": IntegrativePenalty,
}


def get_penalty(penalty, lam: float | None = None) -> Penalty:
    """A Penalty from an object or a registered name (``lam`` used with a name)."""
    if isinstance(penalty, Penalty):
        return penalty
    if isinstance(penalty, str) and penalty.lower() in PENALTIES:
        cls = PENALTIES[penalty.lower()]
        return cls(lam=lam) if lam is not None else cls()
    raise ValueError(f"unknown penalty {penalty!r}; use a Penalty object or one of {sorted(PENALTIES)}")


# ---------------------------------------------------------------- DSRL (Wang, Chen, Du, Lin)

def learned_threshold(x: torch.Tensor, w1, w2, b1, b2) -> torch.Tensor:
    """DSRL's learnable thresholding function ``xi_Theta`` (odd, piecewise linear):
    0 on ``|x| < b1``, ``w1 (|x| - b1)`` on ``b1 <= |x| < b2``, ``w1 (b2 - b1) + w2 (|x| - b2)``
    beyond, sign restored. ``w1 = w2 = 1`` gives soft thresholding at ``b1``. Parameters may be
    tensors (autograd flows through them)."""
    a = x.abs()
    mid = w1 * (a - b1)
    high = w1 * (b2 - b1) + w2 * (a - b2)
    out = torch.where(a >= b2, high, torch.where(a >= b1, mid, torch.zeros_like(a)))
    out = torch.sign(x) * out
    return torch.where(torch.isnan(x), x, out)  # NaN stays NaN (its comparisons gave 0)


def check_dsrl_theta(w1: float, w2: float, b1: float, b2: float, tol: float = 1e-12) -> None:
    """Raise ValueError unless Theta satisfies the appendix's constraint (7):
    ``w1 > 0, 1 >= w2 > 0, b2 >= b1 >= max(0, (w1 - 1)/w1 * b2)``."""
    ok = w1 > 0 and 0 < w2 <= 1 + tol and b2 + tol >= b1 and b1 + tol >= max(0.0, (w1 - 1) / w1 * b2)
    if not ok:
        raise ValueError(
            f"Theta = (w1={w1}, w2={w2}, b1={b1}, b2={b2}) violates constraint (7): "
            "w1 > 0, 1 >= w2 > 0, b2 >= b1 >= max(0, (w1 - 1)/w1 * b2)"
        )


class DSRLRegularizer(Penalty):
    """``lam * sum g(w)`` with DSRL's learned regulariser ``g`` (appendix eq. 1), whose proximal
    operator is the thresholding function ``xi_Theta`` (:func:`learned_threshold`).

    ``g`` is nonnegative only under constraint (7) (checked here). For ``w1 > 1`` it is
    nonconvex and, like MCP, has a unique prox only for ``lam * step < w1 / (w1 - 1)``.
    ``prox(w, step)`` of ``s g`` (``s = lam * step``) is again a ``xi`` with
    ``w_k' = 1 / (1 + s (1/w_k - 1))``, ``b1' = s b1``, ``b2' = s b1 + (b2 - b1) w1 / w1'``;
    at ``s = 1`` it is ``xi_Theta`` itself.
    """

    def __init__(self, w1: float = 1.0, w2: float = 1.0, b1: float = 1.0, b2: float = 2.0,
                 lam: float = 1.0):
        w1, w2, b1, b2 = (float(v) for v in (w1, w2, b1, b2))
        check_dsrl_theta(w1, w2, b1, b2)
        self.w1, self.w2, self.b1, self.b2 = w1, w2, b1, b2
        self.lam = self._check_lambda(lam)

    def g(self, x: torch.Tensor) -> torch.Tensor:
        """Elementwise ``g(x)`` of eq. (1)."""
        w1, w2, b1, b2 = self.w1, self.w2, self.b1, self.b2
        a = x.abs()
        knot = w1 * (b2 - b1)
        low = (0.5 / w1 - 0.5) * a * a + b1 * a
        high = ((0.5 / w2 - 0.5) * a * a + (b2 - w1 * (b2 - b1) / w2) * a
                + w1 * (w1 - w2) / (2 * w2) * (b2 - b1) ** 2)
        return torch.where(a >= knot, high, low)

    def value(self, w):
        return self.lam * self.g(w).sum()

    def prox_params(self, step: float) -> tuple[float, float, float, float]:
        """``(w1', w2', b1', b2')`` of the prox of ``lam * step * g`` (a ``xi`` again)."""
        _check_step(step, None, "DSRLRegularizer")
        s = self.lam * float(step)
        d1, d2 = 1.0 + s * (1.0 / self.w1 - 1.0), 1.0 + s * (1.0 / self.w2 - 1.0)
        if not (d1 > 0 and d2 > 0):
            raise ValueError(
                f"DSRLRegularizer.prox needs lam * step < w1 / (w1 - 1) = "
                f"{self.w1 / (self.w1 - 1):.4g} for a unique minimiser (got {s:.4g})"
            )
        a1, a2 = 1.0 / d1, 1.0 / d2
        return a1, a2, s * self.b1, s * self.b1 + (self.b2 - self.b1) * self.w1 / a1

    def prox(self, w, step):
        return learned_threshold(w, *self.prox_params(step))


PENALTIES["dsrl"] = DSRLRegularizer
__all__ += ["DSRLRegularizer", "check_dsrl_theta", "learned_threshold"]
