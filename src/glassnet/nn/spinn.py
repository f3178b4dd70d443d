"""SPINN: sparse-input neural networks (Feng & Simon) and their integrative version (our notes).

The first-layer weight ``W1`` (hidden t x p) is grouped by input feature: group j is the column
``W1[:, j]``, all outgoing weights of input j, and feature j is selected iff that column is
nonzero. The penalty's prox acts on ``W1`` only; the other layers carry a ridge
``lambda_0/2 ||w||^2`` (:meth:`SPINN.ridge`). With ``hidden=()`` the net is a GLM
``g = W1 x + b1`` (W1 is K x p), i.e. a sparse-group-lasso GLM.

The losses are datafit objects (:mod:`glassnet.datafits`: squared, Huber, logistic,
multinomial), composed with the ridge terms by :class:`glassnet.datafits.Objective`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch import nn

from glassnet.nn._base import GlassModule, is_int
from glassnet.registry import register_model

__all__ = ["SPINN", "IntegrativeSPINNNet", "StackedSPINN"]



def identity(z: torch.Tensor) -> torch.Tensor:
    """The identity activation (a GLM with ``hidden=()``)."""
    return z


# named functions only (no lambdas): a module must be rebuildable from its constructor arguments
ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "identity": identity}


def _check_activation(name: str):
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


def _upper_layers(hidden: Sequence[int], n_outputs: int) -> nn.ModuleList:
    sizes = list(hidden) + [n_outputs]
    return nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))


def _check_sizes(n_features, n_outputs, hidden) -> tuple:
    """Positive integer sizes (``hidden`` a sequence of them), else a ``ValueError``."""
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
        raise ValueError(f"hidden must be a sequence of layer sizes, e.g. (10,), got {hidden!r}")
    if not (is_int(n_features, 1) and is_int(n_outputs, 1) and all(is_int(h, 1) for h in hidden)):
        raise ValueError("n_features, n_outputs and hidden sizes must be integers >= 1, got "
                         f"{n_features!r}, {n_outputs!r}, {tuple(hidden)!r}")
    return tuple(int(h) for h in hidden)


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
        hidden = _check_sizes(n_features, n_outputs, hidden)
        self.activation = activation
        self.a = _check_activation(activation)
        first = hidden[0] if hidden else n_outputs
        self.W1 = nn.Parameter(torch.empty(first, n_features))
        self.b1 = nn.Parameter(torch.zeros(first))
        nn.init.kaiming_uniform_(self.W1, a=math.sqrt(5))  # nn.Linear's default
        self.upper = _upper_layers(hidden, n_outputs) if hidden else nn.ModuleList()

    def extra_repr(self) -> str:
        return f"W1={tuple(self.W1.shape)}, activation={self.activation!r}"

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
    """B independent networks of one architecture (:class:`SPINN` or
    :class:`IntegrativeSPINNNet`), trained as one module.

    Parameter ``k`` of the stack is parameter ``k`` of every network stacked on a leading
    axis of size B, so a loss that is the sum of the networks' own losses has, for network b,
    exactly network b's gradient, and an elementwise optimiser (Adam, SGD, proximal gradient
    with a step per network) takes for it the step it would take alone: training the stack
    trains each network as a separate fit would (up to floating-point rounding), in one pass
    per epoch instead of B. ``cols``: the input columns the stack keeps (the union of the
    networks' supports, when ``W1``'s other columns are zero in every network and stay so);
    the stack's ``forward`` takes ``x[:, cols]``. :meth:`unstack` writes the trained
    parameters back into the networks.
    """

    def __init__(self, nets: Sequence[nn.Module], cols=None):
        super().__init__()
        if not nets:
            raise ValueError("StackedSPINN needs at least one network")
        first = nets[0]
        self.a = first.a
        self.integrative = first.W1.dim() == 3  # (M, t, p): one first layer per data set
        self.cols = torch.arange(first.W1.shape[-1]) if cols is None else torch.as_tensor(cols)
        self.W1 = nn.Parameter(torch.stack([n.W1.detach()[..., self.cols] for n in nets]))
        self.b1 = nn.Parameter(torch.stack([n.b1.detach() for n in nets]))
        self.weights = nn.ParameterList(torch.stack([n.upper[i].weight.detach() for n in nets])
                                        for i in range(len(first.upper)))
        self.biases = nn.ParameterList(torch.stack([n.upper[i].bias.detach() for n in nets])
                                       for i in range(len(first.upper)))

    def forward(self, x, m=None):
        """(B, n, outputs): every network's output on ``x`` (n x len(cols)); ``m``: the data
        set of each sample (integrative networks)."""
        if self.integrative:
            z = torch.einsum("nk,bmhk->bnmh", x, self.W1) + self.b1[:, None]
            z = z[:, torch.arange(x.shape[0]), m]  # each sample's own data set: (B, n, h)
        else:
            z = torch.einsum("nk,bhk->bnh", x, self.W1) + self.b1[:, None, :]
        return _layer_outputs(z, self.weights, self.biases, self.a)[-1]

    def penalised_loss(self, datafit, x, y, w, lambda_0, lambda_w1):
        """(B,) ``datafit`` of every network (weighted mean over its rows, ``y`` and ``w``
        (n, B)) plus ``lambda_0`` times its upper-layer ridge and ``lambda_w1`` times its
        ``W1`` ridge (floats or (B,) tensors): the value of
        :meth:`glassnet.datafits.Objective.per_network`, its gradient computed by hand in one
        backward node (:class:`_StackedObjective`) instead of autograd's ~20, which dominate
        the cost of a step at SPINN's sizes. None where that is not available (an integrative
        stack, an activation without a closed-form derivative): use autograd."""
        if self.integrative or self.a not in _DERIVATIVES:
            return None
        params = [self.W1, self.b1, *self.weights, *self.biases]
        return _StackedObjective.apply(x, y, w, lambda_0, lambda_w1, datafit, self.a, len(self.weights), *params)

    def ridges(self):
        """Per network (B,): :meth:`SPINN.ridge` of the upper layers and ``1/2 ||W1||^2``."""
        upper = sum((0.5 * W.pow(2).sum((1, 2)) for W in self.weights), self.W1.new_zeros(len(self.W1)))
        return upper, 0.5 * self.W1.pow(2).flatten(1).sum(1)

    @torch.no_grad()
    def unstack(self, nets: Sequence[nn.Module]) -> list[nn.Module]:
        """Copy network b's trained parameters into ``nets[b]`` (``W1``'s columns outside
        ``cols`` set to zero); returns ``nets``."""
        for b, net in enumerate(nets):
            self.unstack_one(net, b)
        return list(nets)

    @torch.no_grad()
    def unstack_one(self, net: nn.Module, b: int) -> nn.Module:
        """Copy network b's parameters into ``net``."""
        net.W1.zero_()
        net.W1[..., self.cols] = self.W1[b]
        net.b1.copy_(self.b1[b])
        for layer, W, c in zip(net.upper, self.weights, self.biases, strict=True):
            layer.weight.copy_(W[b])
            layer.bias.copy_(c[b])
        return net


def _layer_outputs(z, Ws, cs, a):
    """A stack's activations from the first layer's pre-activation ``z`` (B, n, h) through the
    upper layers ``(Ws, cs)``: ``[a(z), a(h_2), ..., output]`` (no activation on the output;
    ``[z]`` without upper layers, a GLM)."""
    hs = [z]
    for W, c in zip(Ws, cs, strict=True):
        hs[-1] = a(hs[-1])
        hs.append(torch.baddbmm(c[:, None, :], hs[-1], W.transpose(1, 2)))
    return hs


def _dtanh(h):
    return 1 - h * h


def _dsigmoid(h):
    return h * (1 - h)


def _drelu(h):
    return (h > 0).to(h.dtype)


# the derivative of each activation from its output h = a(z) (identity: 1)
_DERIVATIVES = {torch.tanh: _dtanh, torch.sigmoid: _dsigmoid, torch.relu: _drelu, identity: None}


class _StackedObjective(torch.autograd.Function):
    """:meth:`StackedSPINN.penalised_loss` with its backward pass written out: the datafit's
    ``residuals`` (``-dl/dg``) weighted per row and network, then back through the layers by
    batched matrix products (the same arithmetic autograd would do, in one node)."""

    @staticmethod
    def forward(ctx, x, y, w, lambda_0, lambda_w1, datafit, a, n_upper, W1, b1, *upper):
        Ws, cs = upper[:n_upper], upper[n_upper:]
        hs = _layer_outputs(torch.baddbmm(b1[:, None, :], x.expand(len(W1), *x.shape), W1.transpose(1, 2)),
                            Ws, cs, a)
        out = hs.pop()
        B, n, K = out.shape
        flat, yf = out.transpose(0, 1).reshape(n * B, K), y.reshape(-1)
        w = w.to(out.dtype)
        wn = w / w.sum(0)
        fit = (datafit.per_sample(flat, yf).reshape(n, B) * wn).sum(0)
        lam0 = torch.as_tensor(lambda_0, dtype=fit.dtype, device=fit.device)
        lamw = torch.as_tensor(lambda_w1, dtype=fit.dtype, device=fit.device)
        upper_ridge = sum((0.5 * W.pow(2).sum((1, 2)) for W in Ws), fit.new_zeros(B))
        value = fit + lam0 * upper_ridge + lamw * 0.5 * W1.pow(2).flatten(1).sum(1)
        ctx.save_for_backward(x, yf, wn, lam0, lamw, W1, out, *hs, *Ws)
        ctx.datafit, ctx.a, ctx.n_upper = datafit, a, n_upper
        return value

    @staticmethod
    def backward(ctx, grad):
        x, yf, wn, lam0, lamw, W1, out, *rest = ctx.saved_tensors
        L = ctx.n_upper
        hs, Ws = rest[:L], rest[L:]
        B, n, K = out.shape
        g = -ctx.datafit.residuals(out.transpose(0, 1).reshape(n * B, K), yf).reshape(n, B, K)
        d = (g * (wn * grad)[..., None]).transpose(0, 1)  # d value_b / d out_b: (B, n, K)
        dWs, dcs = [None] * L, [None] * L
        for i in reversed(range(L)):
            dWs[i] = torch.bmm(d.transpose(1, 2), hs[i]) + (lam0 * grad).view(-1, 1, 1) * Ws[i]
            dcs[i] = d.sum(1)
            d = torch.bmm(d, Ws[i])
            if _DERIVATIVES[ctx.a] is not None:
                d = d * _DERIVATIVES[ctx.a](hs[i])
        dW1 = torch.matmul(d.transpose(1, 2), x) + (lamw * grad).view(-1, 1, 1) * W1
        return (None, None, None, None, None, None, None, None, dW1, d.sum(1), *dWs, *dcs)


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
        hidden = _check_sizes(n_features, n_outputs, hidden)
        if not hidden:
            raise ValueError("IntegrativeSPINNNet needs at least one hidden layer")
        if not is_int(n_datasets, 1):
            raise ValueError(f"n_datasets must be an integer >= 1, got {n_datasets!r}")
        self.activation = activation
        self.a = _check_activation(activation)
        t = hidden[0]
        self.W1 = nn.Parameter(torch.empty(n_datasets, t, n_features))
        bound = 1.0 / math.sqrt(n_features)
        nn.init.uniform_(self.W1, -bound, bound)
        self.b1 = nn.Parameter(torch.zeros(n_datasets, t))
        self.upper = _upper_layers(hidden, n_outputs)

    def extra_repr(self) -> str:
        return f"W1={tuple(self.W1.shape)} (data sets, hidden, features), activation={self.activation!r}"

    def forward(self, x, m):
        """``x``: (n, p); ``m``: (n,) data-set index of each sample."""
        M, t, p = self.W1.shape
        m = torch.as_tensor(m, device=x.device)
        if x.dim() != 2 or m.shape != (x.shape[0],) or m.is_floating_point() or m.dtype == torch.bool:
            raise ValueError(f"x must be (n, {p}) and m (n,) integer data-set indices, got x "
                             f"{tuple(x.shape)} and m {tuple(m.shape)} of {m.dtype}")
        if m.device.type == "cpu" and m.numel() and (int(m.min()) < 0 or int(m.max()) >= M):
            raise ValueError(f"data-set indices m must lie in 0..{M - 1}, got {int(m.min())}.."
                             f"{int(m.max())}")  # (checked on the CPU only: no device sync)
        z = (x @ self.W1.reshape(M * t, p).T).reshape(-1, M, t) + self.b1  # every set's W1 x + b1
        z = z[torch.arange(x.shape[0]), m]  # keep the sample's own data set
        return _upper_forward(z, self.upper, self.a)

    def ridge(self, w1: bool = False) -> torch.Tensor:
        return _ridge(self.upper, self.W1, w1)

    def output_bias(self) -> nn.Parameter:
        return self.upper[-1].bias
