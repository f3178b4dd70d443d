"""Datafits: the loss half of a sparse problem (DESIGN.md rule 19, as skglm's datafits).

A datafit is an object with one signature, ``datafit(output, y, sample_weight=None)``: the
mean of the per-sample losses over the rows, or with ``sample_weight`` their weighted mean
``sum_i w_i l_i / sum_i w_i`` (so ``lambda`` keeps its meaning whatever the weights' scale,
as in scikit-learn's ``Lasso``). Every datafit also gives

- ``per_sample(output, y)``: the n losses (``output`` is (n, K));
- ``null_output(y, sample_weight)``: the best constant output (an intercept-only model), in
  closed form (or a one-dimensional root for Huber's loss);
- ``residuals(output, y)``: ``-dl/dg`` per sample, (n, K): ``y - f`` for the squared loss,
  ``y - p`` for the logistic and multinomial ones, the clipped residual for Huber's.

The penalised objective of a network composes a datafit with ridge terms:
:class:`Objective` ``= datafit + lambda_0 * ridge(upper layers) + lambda_w1 * ridge(W1)``. It
also scores a *stack* of B networks (output (B, n, K), targets and weights (n, B)), one value
per network, which is how the selection engine fits the folds of a cross-validation together.
The integrative model uses the same datafits: its output for a sample of data set m comes from
that set's first layer (the model takes ``m``), the loss is the task's.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["DATAFITS", "Datafit", "Huber", "Logistic", "Multinomial", "Objective", "Squared",
           "get_datafit"]


def _weights(y, sample_weight, dtype):
    n = y.shape[0]
    if sample_weight is None:
        return torch.full((n,), 1.0 / n, dtype=dtype, device=y.device)
    w = torch.as_tensor(sample_weight, dtype=dtype, device=y.device)
    return w / w.sum()


class Datafit:
    """Base class: subclasses implement ``per_sample``, ``null_output`` and ``residuals``."""

    name = "datafit"
    per_class = False  # the output has one column per class (n, K), else one per sample

    def per_sample(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, output, y, sample_weight=None) -> torch.Tensor:
        self._check_shapes(output, y)
        per = self.per_sample(output, y)
        if sample_weight is None:
            return per.mean()
        w = torch.as_tensor(sample_weight, dtype=per.dtype, device=per.device)
        if w.shape != per.shape:
            raise ValueError(f"sample_weight has shape {tuple(w.shape)}; expected one weight per "
                             f"sample ({per.shape[0]},)")
        return (per * w).sum() / w.sum()

    def _check_shapes(self, output, y):
        """``y`` (n,) and ``output`` with n rows (one column unless the datafit has K): a
        mismatch would broadcast to an (n, n) loss silently."""
        if y.dim() != 1:
            raise ValueError(f"y must be 1-d (n,), got shape {tuple(y.shape)}")
        one = output.dim() == 1 or (output.dim() == 2 and output.shape[1] == 1)
        fits = output.dim() == 2 if self.per_class else one
        if output.shape[0] != y.shape[0] or not fits:
            raise ValueError(f"output of shape {tuple(output.shape)} does not fit y of shape "
                             f"{tuple(y.shape)}: {self.name} takes "
                             + ("(n, K) scores" if self.per_class else "one output per sample"))

    def null_output(self, y, sample_weight=None, n_outputs=1) -> torch.Tensor:
        """The best constant output (``n_outputs`` values) for targets ``y``."""
        raise NotImplementedError

    def residuals(self, output, y) -> torch.Tensor:
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class Squared(Datafit):
    """``1/2 (y - f)^2`` per sample (scikit-learn's ``Lasso`` scaling: the mean is ``1/(2n) ||y - f||^2``)."""

    name = "squared"

    def per_sample(self, output, y):
        return 0.5 * (output.reshape(-1) - y.to(output.dtype)) ** 2

    def null_output(self, y, sample_weight=None, n_outputs=1):
        w = _weights(y, sample_weight, torch.float64)
        return (w * y.double()).sum().reshape(1)

    def residuals(self, output, y):
        return (y.to(output.dtype) - output.reshape(-1))[:, None]


class Huber(Datafit):
    """Huber's loss ``rho(r) = r^2/2`` for ``|r| <= delta``, ``delta (|r| - delta/2)`` beyond:
    quadratic near zero (as :class:`Squared`), linear in the tails, so a few huge residuals
    cannot dominate a fit. Its derivative is the residual clipped to ``[-delta, delta]``."""

    name = "huber"

    def __init__(self, delta: float):
        delta = float(delta)
        if not (math.isfinite(delta) and delta > 0):
            raise ValueError(f"delta must be a positive finite number, got {delta}")
        self.delta = delta

    def per_sample(self, output, y):
        return F.huber_loss(output.reshape(-1), y.to(output.dtype), delta=self.delta, reduction="none")

    def null_output(self, y, sample_weight=None, n_outputs=1):
        # the root of sum_i w_i clip(y_i - c, -delta, delta) = 0 (decreasing in c): bisection
        w = _weights(y, sample_weight, torch.float64).cpu().numpy()
        yy = y.double().cpu().numpy()
        lo, hi = float(yy.min()), float(yy.max())
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            if np.sum(w * np.clip(yy - mid, -self.delta, self.delta)) > 0:
                lo = mid
            else:
                hi = mid
            if hi - lo <= 1e-12 * max(1.0, abs(mid)):
                break
        return torch.tensor([0.5 * (lo + hi)], dtype=torch.float64)

    def residuals(self, output, y):
        return torch.clamp(y.to(output.dtype) - output.reshape(-1), -self.delta, self.delta)[:, None]

    def __repr__(self):
        return f"Huber(delta={self.delta:.4g})"


class Logistic(Datafit):
    """Binary cross-entropy of one logit ``g`` (n x 1), labels in {0, 1}."""

    name = "logistic"

    def per_sample(self, output, y):
        return F.binary_cross_entropy_with_logits(output.reshape(-1), y.to(output.dtype), reduction="none")

    def null_output(self, y, sample_weight=None, n_outputs=1):
        w = _weights(y, sample_weight, torch.float64)
        p = float((w * y.double()).sum())
        p = min(max(p, 1e-12), 1 - 1e-12)
        return torch.tensor([math.log(p / (1 - p))], dtype=torch.float64, device=y.device)

    def residuals(self, output, y):
        return (y.to(output.dtype) - torch.sigmoid(output.reshape(-1)))[:, None]


class Multinomial(Datafit):
    """Softmax cross-entropy ``logsumexp(g_i) - g_{i, y_i}`` (y: class indices; log-sum-exp form)."""

    name = "multinomial"
    per_class = True

    def per_sample(self, output, y):
        return F.cross_entropy(output, y.long(), reduction="none")

    def null_output(self, y, sample_weight=None, n_outputs=None):
        w = _weights(y, sample_weight, torch.float64)
        K = int(n_outputs or int(y.max()) + 1)
        freq = torch.zeros(K, dtype=torch.float64, device=y.device).index_add_(0, y.long(), w)
        logp = torch.log(torch.clamp(freq, min=1e-12))
        return logp - logp.mean()

    def residuals(self, output, y):
        onehot = F.one_hot(y.long(), output.shape[1]).to(output.dtype)
        return onehot - torch.softmax(output, dim=1)


DATAFITS = {"squared": Squared, "logistic": Logistic, "multinomial": Multinomial}


def get_datafit(name: str, **kw) -> Datafit:
    """A datafit by name: ``"squared"``, ``"huber"`` (needs ``delta``), ``"logistic"``, ``"multinomial"``."""
    if name == "huber":
        return Huber(**kw)
    if name not in DATAFITS:
        raise ValueError(f"datafit must be one of {sorted([*DATAFITS, 'huber'])}, got {name!r}")
    return DATAFITS[name]()


class Objective:
    """``datafit(model(X, *extra), y, w) + lambda_0 ridge(upper) + lambda_w1 ridge(W1)``.

    ``model`` is a network with ``ridge(w1)`` (``1/2`` the squared norm of the weights above
    the first layer, and of ``W1`` with ``w1=True``) or a stack of B networks with
    ``ridges() -> (upper, W1)``, each (B,); for a stack ``y`` and ``sample_weight`` are (n, B)
    (network b fits column b: a fold's training rows carry weight, the others 0) and
    ``lambda_0`` / ``lambda_w1`` may be one value per network. :meth:`per_network` gives the B
    values; calling the objective gives their sum, whose gradient for network b is network
    b's own gradient.
    """

    def __init__(self, datafit: Datafit, lambda_0=0.0, lambda_w1=0.0):
        for name, v in (("lambda_0", lambda_0), ("lambda_w1", lambda_w1)):
            if torch.is_tensor(v):
                vals = v.detach().flatten().tolist()
            elif isinstance(v, (list, tuple)) or getattr(v, "ndim", 0):  # per network
                vals = [float(x) for x in (v.ravel() if hasattr(v, "ravel") else v)]
            else:
                vals = [v]
            if not all(math.isfinite(float(x)) and float(x) >= 0 for x in vals):
                raise ValueError(f"{name} must be finite and >= 0 (one value or one per network), "
                                 f"got {v!r}")
        self.datafit = datafit
        self.lambda_0 = lambda_0
        self.lambda_w1 = lambda_w1

    def _stack_fit(self, out, y, w):
        B, n, K = out.shape
        per = self.datafit.per_sample(out.transpose(0, 1).reshape(n * B, K), y.reshape(-1))
        per, w = per.reshape(n, B), w.to(per.dtype)
        return (per * w).sum(0) / w.sum(0)

    def per_network(self, stack, X, y, w, *extra, datafit_only=False) -> torch.Tensor:
        if not extra and not datafit_only and hasattr(stack, "penalised_loss"):
            value = stack.penalised_loss(self.datafit, X, y, w, self.lambda_0, self.lambda_w1)
            if value is not None:
                return value
        out = stack(X, *extra)
        fit = self._stack_fit(out, y, w)
        if datafit_only:
            return fit
        upper, w1 = stack.ridges()
        lam0 = torch.as_tensor(self.lambda_0, dtype=fit.dtype, device=fit.device)
        lamw = torch.as_tensor(self.lambda_w1, dtype=fit.dtype, device=fit.device)
        return fit + lam0 * upper + lamw * w1

    def __call__(self, model, X, y, w=None, *extra):
        if hasattr(model, "ridges"):
            return self.per_network(model, X, y, w, *extra).sum()
        out = self.datafit(model(X, *extra), y, w)
        if self.lambda_0:
            out = out + self.lambda_0 * model.ridge()
        if self.lambda_w1:
            out = out + 0.5 * self.lambda_w1 * model.W1.pow(2).sum()
        return out

    def data_only(self) -> Objective:
        return Objective(self.datafit)

    def __repr__(self):
        return f"Objective({self.datafit!r}, lambda_0={self.lambda_0}, lambda_w1={self.lambda_w1})"
