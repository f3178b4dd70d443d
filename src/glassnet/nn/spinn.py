"""SPINN: sparse-input neural networks (Feng & Simon) and their integrative version (our notes).

The first-layer weight ``W1`` (hidden t x p) is grouped by input feature: group j is the column
``W1[:, j]``, all outgoing weights of input j, and feature j is selected iff that column is
nonzero. The penalty's prox acts on ``W1`` only; the other layers carry a ridge
``lambda_0/2 ||w||^2`` (:meth:`SPINN.ridge`). With ``hidden=()`` the net is a GLM
``g = W1 x + b1`` (W1 is K x p), i.e. a sparse-group-lasso GLM.

Losses (means over samples, so ``lambda`` does not scale with n):

- :func:`softmax_loss`: the notes' ``J = -sum_i sum_l 1{y_i=l} g_l(x_i) + sum_i log sum_j
  exp(g_j(x_i))``, divided by n (log-sum-exp form);
- :func:`logistic_loss`: binary, one logit;
- :func:`mse_loss`: ``1/(2n) sum_i (y_i - f(x_i))^2`` (scikit-learn's Lasso scaling);
- :class:`HuberLoss`: ``1/n sum_i rho_delta(y_i - f(x_i))``, Huber's loss, equal to
  :func:`mse_loss` where every ``|y_i - f(x_i)| <= delta`` (the robust regression loss).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from glassnet.nn._base import GlassModule
from glassnet.registry import register_model

__all__ = ["LOSSES", "SPINN", "HuberLoss", "IntegrativeSPINNNet", "StackedSPINN", "logistic_loss",
           "mse_loss", "softmax_loss"]



def identity(z: torch.Tensor) -> torch.Tensor:
    """The identity activation (a GLM with ``hidden=()``)."""
    return z


# named functions only (no lambdas): a module must be rebuildable from its constructor arguments
ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "identity": identity}


def _reduce(per_sample: torch.Tensor, weight) -> torch.Tensor:
    """The mean over samples, or with ``weight`` (one per sample) the weighted sum."""
    return per_sample.mean() if weight is None else (per_sample * weight.to(per_sample.dtype)).sum()


def softmax_loss(g: torch.Tensor, y: torch.Tensor, weight=None) -> torch.Tensor:
    """J / n of the notes: mean of ``logsumexp(g_i) - g_{i, y_i}`` (y: class indices).
    ``weight`` (every loss here): per-sample weights; the loss is then ``sum_i w_i l_i``."""
    return _reduce(F.cross_entropy(g, y, reduction="none"), weight)


def logistic_loss(g: torch.Tensor, y: torch.Tensor, weight=None) -> torch.Tensor:
    """Binary cross-entropy on one logit ``g`` (n x 1), labels in {0, 1}."""
    return _reduce(F.binary_cross_entropy_with_logits(g.reshape(-1), y.to(g.dtype), reduction="none"),
                   weight)


def mse_loss(g: torch.Tensor, y: torch.Tensor, weight=None) -> torch.Tensor:
    """``1/(2n) ||y - f||^2``."""
    return _reduce(0.5 * (g.reshape(-1) - y.to(g.dtype)) ** 2, weight)


class HuberLoss:
    """Huber's loss ``1/n sum_i rho(y_i - f_i)``, ``rho(r) = r^2/2`` for ``|r| <= delta`` and
    ``delta (|r| - delta/2)`` beyond: quadratic near zero (as :func:`mse_loss`), linear in the
    tails, so a few huge residuals (heavy-tailed noise) cannot dominate the fit. Its derivative
    is the residual clipped to ``[-delta, delta]``. A named class (not a closure) so a spec
    holding it can be sent to joblib workers."""

    def __init__(self, delta: float):
        delta = float(delta)
        if not (math.isfinite(delta) and delta > 0):
            raise ValueError(f"delta must be a positive finite number, got {delta}")
        self.delta = delta

    def __call__(self, g: torch.Tensor, y: torch.Tensor, weight=None) -> torch.Tensor:
        return _reduce(F.huber_loss(g.reshape(-1), y.to(g.dtype), delta=self.delta, reduction="none"),
                       weight)

    def __repr__(self):
        return f"HuberLoss(delta={self.delta:.4g})"


LOSSES = {"softmax": softmax_loss, "logistic": logistic_loss, "mse": mse_loss}


def _check_activation(name: str):
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


def _upper_layers(hidden: Sequence[int], n_outputs: int) -> nn.ModuleList:
    sizes = list(hidden) + [n_outputs]
    return nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))


@register_model("spinn", example=lambda: ({"n_features": 7, "hidden": (5,)}, (torch.randn(4, 7),)))
class SPINN(GlassModule):
    """``h1 = a(W1 x + b1)``, ``h_{l+1} = a(W_l h_l + b_l)``, ``g = W_L h_L + b_L`` (Feng & Simon eq. 2.1).

    ``hidden``: sizes of the hidden layers (``()`` for a GLM); ``activation``: tanh, relu,
    sigmoid or identity. ``W1`` has shape (hidden[0], p), or (n_outputs, p) without hidden
    layers.
    """

    def __init__(self, n_features: int, n_outputs: int = 1, hidden: Sequence[int] = (10,),
                 activation: str = "tanh"):
        super().__init__()
        if n_features < 1 or n_outputs < 1 or any(h < 1 for h in hidden):
            raise ValueError("n_features, n_outputs and hidden sizes must be >= 1")
        self.activation = activation
        self.a = _check_activation(activation)
        first = hidden[0] if hidden else n_outputs
        self.W1 = nn.Parameter(torch.empty(first, n_features))
        self.b1 = nn.Parameter(torch.zeros(first))
        nn.init.kaiming_uniform_(self.W1, a=math.sqrt(5))  # nn.Linear's default
        self.upper = _upper_layers(hidden, n_outputs) if hidden else nn.ModuleList()

    def forward(self, x):
        z = x @ self.W1.T + self.b1  # W1 x + b1
        return _upper_forward(z, self.upper, self.a) if len(self.upper) else z

    def ridge(self, w1: bool = False) -> torch.Tensor:
        """``1/2 sum ||W_l||^2`` over the weights after the first layer (biases unpenalised);
        with ``w1=True`` over ``W1`` too."""
        return _ridge(self.upper, self.W1, w1)

    def output_bias(self) -> nn.Parameter:
        return self.upper[-1].bias if len(self.upper) else self.b1


def _upper_forward(z, upper, a):
    """a(z), then the upper layers with the activation between them (none after the output)."""
    h = a(z)
    for i, layer in enumerate(upper):
        h = layer(h)
        if i < len(upper) - 1:
            h = a(h)
    return h


def _ridge(upper, W1, w1=False):
    """``1/2 sum ||W_l||^2`` over the upper layers' weights (biases unpenalised), and over the
    first layer's ``W1`` too when ``w1`` (the regressors' relaxed refits)."""
    out = sum((0.5 * layer.weight.pow(2).sum() for layer in upper), W1.new_zeros(()))
    return out + 0.5 * W1.pow(2).sum() if w1 else out


class StackedSPINN(nn.Module):
    """B independent :class:`SPINN` networks of one architecture, trained as one module.

    Parameter ``k`` of the stack is parameter ``k`` of every network stacked on a leading
    axis of size B, so a loss that is the sum of the networks' own losses has, for network b,
    exactly network b's gradient, and an elementwise optimiser (Adam, SGD) takes for it the
    step it would take alone: training the stack trains each network as a separate fit
    would (up to floating-point rounding), in one pass per epoch instead of B. ``cols``: the
    input columns the stack keeps (the union of the networks' supports, when ``W1``'s other
    columns are zero in every network and stay so); the stack's ``forward`` takes
    ``x[:, cols]``. :meth:`unstack` writes the trained parameters back into the networks.
    """

    def __init__(self, nets: Sequence[SPINN], cols=None):
        super().__init__()
        if not nets:
            raise ValueError("StackedSPINN needs at least one network")
        first = nets[0]
        self.a = first.a
        self.cols = torch.arange(first.W1.shape[1]) if cols is None else torch.as_tensor(cols)
        self.W1 = nn.Parameter(torch.stack([n.W1.detach()[:, self.cols] for n in nets]))
        self.b1 = nn.Parameter(torch.stack([n.b1.detach() for n in nets]))
        self.weights = nn.ParameterList(torch.stack([n.upper[i].weight.detach() for n in nets])
                                        for i in range(len(first.upper)))
        self.biases = nn.ParameterList(torch.stack([n.upper[i].bias.detach() for n in nets])
                                       for i in range(len(first.upper)))

    def forward(self, x):
        """(B, n, outputs): every network's output on ``x`` (n x len(cols))."""
        z = torch.einsum("nk,bhk->bnh", x, self.W1) + self.b1[:, None, :]
        if not len(self.weights):
            return z
        h = self.a(z)
        for i, (W, c) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(c[:, None, :], h, W.transpose(1, 2))
            if i < len(self.weights) - 1:
                h = self.a(h)
        return h

    def ridges(self):
        """Per network (B,): :meth:`SPINN.ridge` of the upper layers and ``1/2 ||W1||^2``."""
        upper = sum((0.5 * W.pow(2).sum((1, 2)) for W in self.weights), self.W1.new_zeros(len(self.W1)))
        return upper, 0.5 * self.W1.pow(2).sum((1, 2))

    @torch.no_grad()
    def unstack(self, nets: Sequence[SPINN]) -> list[SPINN]:
        """Copy network b's trained parameters into ``nets[b]`` (``W1``'s columns outside
        ``cols`` set to zero); returns ``nets``."""
        for b, net in enumerate(nets):
            net.W1.zero_()
            net.W1[:, self.cols] = self.W1[b]
            net.b1.copy_(self.b1[b])
            for layer, W, c in zip(net.upper, self.weights, self.biases, strict=True):
                layer.weight.copy_(W[b])
                layer.bias.copy_(c[b])
        return list(nets)


@register_model("integrative_spinn", example=lambda: (
    {"n_features": 7, "n_datasets": 2, "hidden": (5,)}, (torch.randn(4, 7), torch.tensor([0, 1, 0, 1]))))
class IntegrativeSPINNNet(GlassModule):
    """M first layers (one per data set) feeding shared upper layers (the notes' block design).

    The notes stack the M inputs block-diagonally (``x^T`` is pM x sum_m n_m) so ``W1`` is
    t x pM: a data-set-specific first layer, shared layers above. We store ``W1`` as
    (M, t, p): ``h1 = a(W1[m] x + b1[m])`` for a sample of data set m; the upper layers (and
    the output) are shared. ``W1[:, :, j]`` is feature j's group across data sets, the
    unit of :class:`~glassnet.penalties.IntegrativePenalty`.
    """

    def __init__(self, n_features: int, n_datasets: int, n_outputs: int = 1,
                 hidden: Sequence[int] = (10,), activation: str = "tanh"):
        super().__init__()
        if not hidden:
            raise ValueError("IntegrativeSPINNNet needs at least one hidden layer")
        if n_datasets < 1:
            raise ValueError("n_datasets must be >= 1")
        self.activation = activation
        self.a = _check_activation(activation)
        t = hidden[0]
        self.W1 = nn.Parameter(torch.empty(n_datasets, t, n_features))
        bound = 1.0 / math.sqrt(n_features)
        nn.init.uniform_(self.W1, -bound, bound)
        self.b1 = nn.Parameter(torch.zeros(n_datasets, t))
        self.upper = _upper_layers(hidden, n_outputs)

    def forward(self, x, m):
        """``x``: (n, p); ``m``: (n,) data-set index of each sample."""
        M, t, p = self.W1.shape
        z = (x @ self.W1.reshape(M * t, p).T).reshape(-1, M, t) + self.b1  # every set's W1 x + b1
        z = z[torch.arange(x.shape[0]), m]  # keep the sample's own data set
        return _upper_forward(z, self.upper, self.a)

    def ridge(self, w1: bool = False) -> torch.Tensor:
        return _ridge(self.upper, self.W1, w1)

    def output_bias(self) -> nn.Parameter:
        return self.upper[-1].bias
