"""The optimisation-algorithm-inspired structures (:class:`OptStructure`, eqs. 7, 11-14, 16-21).

Part of :mod:`glassnet.nn.optnets` (import from there).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from glassnet.nn._base import is_int
from glassnet.nn.optnets.energy import nesterov_h, nesterov_momentum

# ---------------------------------------------------------------- the structures

SCHEMES = ("gd", "hb", "agd", "agd2", "admm", "admm20")
# the forms of ``beta`` each scheme takes (the others take none); the schemes whose layers
# combine x_k with earlier states, so T must keep the shape (name for the message)
_BETA_FORMS = {"hb": "a float or a pair (beta_1, beta_2)",
               "agd": "None (Nesterov's) or a pair (beta_1, beta_2)", "agd2": "a float"}
_KEEPS_SHAPE = {"hb": "heavy ball", "agd": "Nesterov's AGD", "agd2": "AGD2", "admm": "ADMM",
                "admm20": "ADMM (20)"}


def check_coef(name: str, value) -> float:
    """``value`` as a float: a ``ValueError`` naming ``name`` unless it is a finite real
    number (a bool or a string is not one)."""
    try:
        ok = not isinstance(value, (bool, str, bytes)) and math.isfinite(float(value))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return float(value)


def _check_beta(scheme: str, beta) -> None:
    """``ValueError`` unless ``beta`` is None or a form :data:`_BETA_FORMS` gives ``scheme``."""
    if beta is None:
        return
    if scheme not in _BETA_FORMS:
        raise ValueError(f"beta does not apply to scheme={scheme!r} (only to "
                         f"{', '.join(map(repr, _BETA_FORMS))}), got {beta!r}")
    pair = isinstance(beta, (tuple, list))
    if (len(beta) != 2 or scheme == "agd2") if pair else scheme == "agd":
        raise ValueError(f"beta for scheme={scheme!r} is {_BETA_FORMS[scheme]}, got {beta!r}")
    for b in beta if pair else (beta,):
        check_coef(f"beta for scheme={scheme!r}", b)


def _check_T(T):
    """``ValueError`` unless ``T`` is a list of modules (or, for agd2, lists of them)."""
    try:
        T = list(T)
    except TypeError:
        raise ValueError(f"T must be an nn.Module (one transform shared by the layers, with "
                         f"depth) or a list of per-layer nn.Modules, got a {type(T).__name__} "
                         "(wrap a function in an nn.Module)") from None
    for k, t in enumerate(T):
        if not all(isinstance(u, nn.Module) for u in (t if isinstance(t, (list, tuple)) else [t])):
            raise ValueError(f"T[{k}] must be an nn.Module (or, for scheme='agd2', a list of "
                             f"them), got {t!r} (wrap a function in an nn.Module)")
    return T


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
                # ResNet and HB-Net weights load into each other (AGD-Net's alphas are its own
                # parameters or persistent buffers: a DenseNet loads with strict=False)
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
    (ResNet's ReLU after the addition). ``beta``, ``alpha="ones"`` or ``x_prev`` given to a
    scheme that does not use them, a non-finite ``beta`` and, for every scheme but ``"gd"``, a
    ``T`` that changes the shape raise a ``ValueError``.

    ``invertible=True`` (``"hb"`` with fixed coefficients, ``beta_2 != 0`` and no activation):
    the heavy-ball step is exactly invertible, so training stores only the last two states and
    the backward pass reconstructs the others (:mod:`glassnet.nn.optnets.invertible`);
    activation memory does not grow with ``depth``. Same outputs and gradients (up to rounding)
    as ``invertible=False``; the attribute may be switched off to compare.
    """

    def __init__(self, T, scheme: str = "gd", depth: int | None = None, *, beta=None,
                 alpha: str = "h", learnable: bool = False, activation: nn.Module | None = None,
                 invertible: bool = False):
        super().__init__()
        if scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
        if isinstance(T, nn.Module) and not isinstance(T, (nn.ModuleList, list)):
            if not is_int(depth, 1):
                raise ValueError(f"a single shared T needs an int depth >= 1, got {depth!r}")
            self.T = nn.ModuleList([T])
            self.shared = True
        else:
            T = _check_T(T)
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
        _check_beta(scheme, beta)
        if not (isinstance(alpha, str) and alpha in ("h", "ones")):
            raise ValueError(f"alpha must be 'h' or 'ones', got {alpha!r}")
        if alpha != "h" and scheme != "agd2":
            raise ValueError(f"alpha={alpha!r} does not apply to scheme={scheme!r} (only to 'agd2')")
        pair = isinstance(beta, (tuple, list))
        if scheme == "hb":
            b = 0.3 if beta is None else beta
            b1, b2 = (float(b), -float(b)) if not pair else map(float, b)
            self.coef = _Coefs([[b1, b2]] * n, learnable, "b")
            self._fixed = [(b1, b2)] * n
        self.invertible = bool(invertible)
        if self.invertible:
            self._check_invertible()
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

    def _check_invertible(self):
        from glassnet.nn.optnets.invertible import check_invertible_transforms

        why = None
        if self.scheme != "hb":
            why = f"scheme={self.scheme!r}; only the heavy ball 'hb' is inverted"
        elif self.learnable:
            why = "learnable=True; the inversion needs fixed coefficients"
        elif any(b2 == 0.0 for _, b2 in self._fixed):
            why = "beta_2 = 0 (no momentum: x_{k-1} cannot be recovered from x_k, x_{k+1})"
        elif not isinstance(self.activation, nn.Identity):
            why = "an activation after the combination (it is not invertible)"
        if why is not None:
            raise ValueError(f"invertible=True is impossible with {why}")
        check_invertible_transforms(self.T)

    def _T(self, k, x, j=None):
        t = self.T[0] if self.shared else self.T[k]
        if isinstance(t, nn.ModuleList):
            t = t[j]
        return self._kept(k, x, t(x))

    def _kept(self, k, x, t):
        """``t = T(x)`` of layer ``k``, after checking that the scheme's combination of states
        is possible: every scheme but ``"gd"`` needs ``T`` to keep the shape."""
        if t.shape != x.shape and self.scheme != "gd":
            raise ValueError(f"{_KEEPS_SHAPE[self.scheme]} needs T to keep the shape: layer {k} "
                             f"maps {tuple(x.shape)} to {tuple(t.shape)}")
        return t

    def forward(self, x0: torch.Tensor, x_prev: torch.Tensor | None = None) -> torch.Tensor:
        if x_prev is not None and self.scheme != "hb":
            raise ValueError(f"x_prev applies to scheme='hb' only (x_(-1) of the heavy ball), not "
                             f"to scheme={self.scheme!r}")
        if self.scheme in ("admm", "admm20"):
            return self.forward_both(x0)[1]
        act, s = self.activation, self.scheme
        x = x0
        if s == "gd":
            for k in range(self.depth):
                x = act(self._T(k, x))
            return x
        if s == "hb":
            if self.invertible and torch.is_grad_enabled():
                from glassnet.nn.optnets.invertible import invertible_heavy_ball

                return invertible_heavy_ball(self, x0, x0 if x_prev is None else x_prev)
            prev = x_prev
            for k in range(self.depth):
                t = self._T(k, x)
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
                tsum = sum(a[j] * self._kept(k, xs[j], t_k[j](xs[j])) for j in range(k + 1))
            else:
                ts.append(self._kept(k, xs[k], t_k(xs[k])))
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
