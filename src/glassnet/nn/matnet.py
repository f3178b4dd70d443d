"""MatNet: matrix neural networks with bilinear layers (Gao, Guo & Wang, "Matrix Neural Networks").

A layer maps a matrix to a matrix, ``X^(l+1) = sigma(U^(l) X^(l) V^(l)T + B^(l))`` (eq. 2.2);
the multimodal form sums several bilinear maps before the activation (eq. 3.1). Names follow
the paper: ``U``, ``V``, ``B`` per layer, ``N`` the pre-activation (2.3), ``rho`` the sparsity
target, ``beta`` its weight, ``lam`` the weight decay.

Conventions
-----------
* Batches are tensors of shape ``(n, I, J)``; ``U X V^T`` is ``U @ X @ V.T`` per sample.
* ``vec`` in the paper stacks columns; torch's ``flatten`` stacks rows. The dense (case 3) head
  acts on ``X.flatten(1)``, which is ``vec(X^T)``: the same model up to a fixed permutation of
  its weight vector. :meth:`BilinearLayer.kron_weight` gives the dense weight for either order.
* Unit-norm rows (the "unit norm manifold constraint"): the authors' code initialises every row
  of ``U`` and ``V`` to unit Euclidean norm. With ``unit_norm=True`` a layer keeps them there by
  reparametrisation: the stored parameter ``W`` is free and the layer uses ``W / ||W_row||``
  (:meth:`BilinearLayer.weights`), so the constraint holds exactly for every optimiser,
  L-BFGS included. :meth:`MatNet.normalize_rows_` additionally rescales the stored rows to norm 1
  (which does not change the function); the estimators call it after every first-order step
  (keeps the gradient well scaled) and after training, so stored and effective weights agree.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Sequence

import torch
from torch import nn

from glassnet.nn._base import GlassModule, is_int
from glassnet.registry import register_model

__all__ = [
    "ACTIVATIONS",
    "BilinearLayer",
    "MatNet",
    "MultimodalMatNetAutoencoder",
    "kl_sparsity",
    "weight_decay",
]

def _identity(x):
    return x


ACTIVATIONS = {
    "sigmoid": torch.sigmoid,  # the paper's choice
    "tanh": torch.tanh,
    "relu": torch.relu,
    "identity": _identity,
}

# clamp of the average activation inside the KL penalty, so log(rho_bar) stays finite when a
# sigmoid unit saturates on a whole mini-batch (eq. 2.13 is +inf at rho_bar in {0, 1})
_KL_EPS = 1e-6


def _activation(name: str):
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


def _shape(s, what: str) -> tuple[int, int]:
    try:
        shape = tuple(s)
    except TypeError:
        raise ValueError(f"{what} must be a pair (rows, cols), got {s!r}") from None
    if not all(is_int(v) for v in shape):
        raise ValueError(f"{what} must be a pair of positive integers (rows, cols), got {s!r}")
    shape = tuple(int(v) for v in shape)
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"{what} must be a pair of positive integers (rows, cols), got {s!r}")
    return shape


def _unit_rows(rows: int, cols: int, generator=None) -> torch.Tensor:
    """Gaussian matrix with every row rescaled to unit norm (the authors' initialisation).
    Drawn in float32 whatever torch's default dtype (the estimators cast the module to their
    ``dtype`` afterwards), so a seed gives the same start under any default."""
    W = torch.randn(rows, cols, generator=generator, dtype=torch.float32)
    return W / W.norm(dim=1, keepdim=True).clamp_min(1e-12)


class BilinearLayer(GlassModule):
    """``sigma(sum_j U_j X^j V_j^T + B)``: eq. 2.2 for one input, eq. 3.1 for several.

    Parameters
    ----------
    in_shapes:
        ``(I_j, J_j)`` of each input matrix (one pair, or a list of pairs for multimodal input).
    out_shape:
        ``(I', J')`` of the output matrix.
    activation:
        ``"sigmoid"`` (paper), ``"tanh"``, ``"relu"`` or ``"identity"``.
    unit_norm:
        Use ``W / ||W_row||`` for every ``U_j``, ``V_j`` (unit-norm rows by reparametrisation).
    """

    def __init__(self, in_shapes, out_shape, activation: str = "sigmoid", unit_norm: bool = False):
        super().__init__()
        self.unit_norm = bool(unit_norm)
        if len(in_shapes) == 2 and all(isinstance(v, numbers.Integral) for v in in_shapes):
            in_shapes = [in_shapes]
        self.in_shapes = [_shape(s, "in_shape") for s in in_shapes]
        if not self.in_shapes:
            raise ValueError("a bilinear layer needs at least one input")
        self.out_shape = _shape(out_shape, "out_shape")
        self.activation = activation
        _activation(activation)
        I2, J2 = self.out_shape
        self.U = nn.ParameterList([nn.Parameter(_unit_rows(I2, I)) for I, _ in self.in_shapes])
        self.V = nn.ParameterList([nn.Parameter(_unit_rows(J2, J)) for _, J in self.in_shapes])
        self.B = nn.Parameter(torch.zeros(I2, J2, dtype=torch.float32))

    def _check(self, Xs):
        if len(Xs) != len(self.in_shapes):
            raise ValueError(f"layer expects {len(self.in_shapes)} input matrices, got {len(Xs)}")
        for j, (X, s) in enumerate(zip(Xs, self.in_shapes)):
            if X.dim() != 3 or tuple(X.shape[1:]) != s:
                raise ValueError(
                    f"input {j} must have shape (n, {s[0]}, {s[1]}), got {tuple(X.shape)}"
                )

    def pre_activation(self, *Xs: torch.Tensor) -> torch.Tensor:
        """``N = sum_j U_j X^j V_j^T + B`` (eqs. 2.3, 3.1), shape ``(n, I', J')``."""
        self._check(Xs)
        N = self.B
        for j, X in enumerate(Xs):
            U, V = self.weights(j)
            N = N + U @ X @ V.transpose(0, 1)
        return N

    def weights(self, j: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """Effective ``(U_j, V_j)``: row-normalised when ``unit_norm`` (else the parameters)."""
        U, V = self.U[j], self.V[j]
        if self.unit_norm:
            U = U / U.norm(dim=1, keepdim=True).clamp_min(1e-12)
            V = V / V.norm(dim=1, keepdim=True).clamp_min(1e-12)
        return U, V

    def forward(self, *Xs: torch.Tensor) -> torch.Tensor:
        return ACTIVATIONS[self.activation](self.pre_activation(*Xs))  # eq. 2.2 / 3.1

    def kron_weight(self, j: int = 0, order: str = "col") -> torch.Tensor:
        """Dense weight equal to the bilinear map of input ``j`` (eq. 2.11).

        ``order="col"``: ``V kron U``, acting on column-stacked ``vec(X)`` (the paper's
        ``vec(U X V^T) = (V kron U) vec(X)``); ``order="row"``: ``U kron V``, acting on
        ``X.flatten()``.
        """
        U, V = self.weights(j)
        if order == "col":
            return torch.kron(V, U)
        if order == "row":
            return torch.kron(U, V)
        raise ValueError(f"order must be 'col' or 'row', got {order!r}")

    @torch.no_grad()
    def normalize_rows_(self) -> None:
        """Project every row of every ``U_j``, ``V_j`` onto the unit sphere."""
        for W in list(self.U) + list(self.V):
            W.div_(W.norm(dim=1, keepdim=True).clamp_min(1e-12))

    def extra_repr(self) -> str:
        return (f"in_shapes={self.in_shapes}, out_shape={self.out_shape}, "
                f"activation={self.activation!r}, unit_norm={self.unit_norm}")


def kl_sparsity(H: torch.Tensor, rho: float, sample_weight=None) -> torch.Tensor:
    """``R = sum(rho log(rho/rho_bar) + (1-rho) log((1-rho)/(1-rho_bar)))`` (eqs. 2.12-2.13).

    ``H`` holds activations in (0, 1) of shape ``(n, I, J)``; ``rho_bar`` is their mean over the
    samples (the mini-batch, as an estimate of the training-set mean; weighted by
    ``sample_weight`` (n,) when given), clamped to ``[1e-6, 1 - 1e-6]`` so the penalty stays
    finite for saturated units.
    """
    if not 0.0 < rho < 1.0:
        raise ValueError(f"rho must be in (0, 1), got {rho}")
    if sample_weight is None:
        rho_bar = H.mean(dim=0)
    else:
        w = sample_weight.to(H.dtype).reshape(-1, *([1] * (H.dim() - 1)))
        rho_bar = (w * H).sum(dim=0) / w.sum()
    rho_bar = rho_bar.clamp(_KL_EPS, 1.0 - _KL_EPS)
    return (
        rho * (math.log(rho) - torch.log(rho_bar))
        + (1.0 - rho) * (math.log1p(-rho) - torch.log1p(-rho_bar))
    ).sum()


def weight_decay(weights: Sequence[torch.Tensor]) -> torch.Tensor:
    """``sum_l ||W_l||_F^2`` over the given weights (Sec. 2.3; multiply by ``lam``)."""
    return sum((W * W).sum() for W in weights)


@register_model("matnet", example=lambda: (
    {"input_shape": (6, 5), "hidden_shapes": ((4, 3),), "n_classes": 3}, (torch.rand(4, 6, 5),)))
class MatNet(GlassModule):
    """Feed-forward MatNet: bilinear hidden layers (eq. 2.2) and an output head.

    Parameters
    ----------
    input_shape:
        ``(I_1, J_1)``.
    hidden_shapes:
        Shapes of the hidden matrices, e.g. ``[(20, 20), (16, 16)]`` (the paper's MNIST net).
    head:
        ``"dense"`` (case 3, eqs. 2.6-2.7: vectorise the last matrix, dense softmax layer; the
        paper's default), ``"bilinear"`` (case 2, eqs. 2.4-2.5: ``n_k = u_k X v_k^T + tb_k``) or
        ``"regression"`` (case 1: one more bilinear layer onto ``output_shape``).
    n_classes:
        K, the outputs of the classification heads. The dense head (2.6) with ``K = 1`` (or any
        K) and no softmax is also the regressor's head for vector targets (a linear function of
        ``vec(X^(L))``; case 1's bilinear output can only form rank-limited combinations).
    output_shape:
        For ``head="regression"``.
    activation:
        Hidden activation (``"sigmoid"`` in the paper).
    output_activation:
        Activation of the regression output; ``"sigmoid"`` is the paper's case 1, ``"identity"``
        suits targets outside (0, 1).
    unit_norm:
        Unit-norm rows of every bilinear ``U``, ``V`` (hidden layers, case 2 head, regression
        output layer) by reparametrisation; the dense case 3 head is not constrained.

    ``forward`` returns logits ``(n, K)`` for classification (the softmax lives in the
    cross-entropy, in its stable log-sum-exp form) and the output matrix for regression.
    """

    def __init__(
        self,
        input_shape=(28, 28),
        hidden_shapes=((20, 20), (16, 16)),
        head: str = "dense",
        n_classes: int = 10,
        output_shape=None,
        activation: str = "sigmoid",
        output_activation: str = "identity",
        unit_norm: bool = False,
    ):
        super().__init__()
        if head not in ("dense", "bilinear", "regression"):
            raise ValueError(f"head must be 'dense', 'bilinear' or 'regression', got {head!r}")
        if not is_int(n_classes):
            raise ValueError(f"n_classes must be an integer, got {n_classes!r}")
        if unit_norm not in (True, False):  # "no" would be truthy
            raise ValueError(f"unit_norm must be True or False, got {unit_norm!r}")
        self.input_shape = _shape(input_shape, "input_shape")
        self.hidden_shapes = [_shape(s, "hidden shape") for s in hidden_shapes]
        if head != "regression" and not self.hidden_shapes:
            raise ValueError(f"a MatNet with head={head!r} needs at least one hidden layer "
                             "(only head='regression' may have none)")
        self.head = head
        self.activation = activation
        _activation(activation)
        shapes = [self.input_shape] + self.hidden_shapes
        self.layers = nn.ModuleList(
            BilinearLayer(a, b, activation, unit_norm) for a, b in itertools.pairwise(shapes)
        )
        IL, JL = shapes[-1]
        if head == "dense":  # case 3: N_k = vec(X^(L))^T u_k + tb_k (2.6)
            if n_classes < 1:
                raise ValueError(f"n_classes must be >= 1, got {n_classes}")
            self.out = nn.Linear(IL * JL, n_classes, dtype=torch.float32)  # see _unit_rows
        elif head == "bilinear":  # case 2: n_k = u_k X^(L) v_k^T + tb_k (2.5)
            if n_classes < 2:
                raise ValueError(f"n_classes must be >= 2, got {n_classes}")
            self.U_out = nn.Parameter(_unit_rows(n_classes, IL))
            self.V_out = nn.Parameter(_unit_rows(n_classes, JL))
            self.tb = nn.Parameter(torch.zeros(n_classes, dtype=torch.float32))
        else:  # case 1: the output layer is eq. 2.2 with l = L
            if output_shape is None:
                raise ValueError("head='regression' needs output_shape")
            self.out = BilinearLayer(shapes[-1], output_shape, output_activation, unit_norm)
        self.unit_norm = bool(unit_norm)
        self.n_classes = n_classes
        self.output_shape = None if output_shape is None else _shape(output_shape, "output_shape")

    def _check_input(self, X):
        if X.dim() != 3 or tuple(X.shape[1:]) != self.input_shape:
            raise ValueError(
                f"MatNet expects input of shape (n, {self.input_shape[0]}, {self.input_shape[1]}), "
                f"got {tuple(X.shape)}"
            )

    def hidden(self, X: torch.Tensor) -> list[torch.Tensor]:
        """Hidden-layer outputs ``[X^(2), ..., X^(L)]`` (each ``(n, I_l, J_l)``)."""
        self._check_input(X)
        out = []
        for layer in self.layers:
            X = layer(X)
            out.append(X)
        return out

    def head_forward(self, XL: torch.Tensor) -> torch.Tensor:
        """Output of the head applied to the last hidden matrix ``X^(L)``."""
        if self.head == "dense":
            return self.out(XL.flatten(1))  # (2.6)
        if self.head == "bilinear":
            Uo, Vo = self.U_out, self.V_out
            if self.unit_norm:
                Uo = Uo / Uo.norm(dim=1, keepdim=True).clamp_min(1e-12)
                Vo = Vo / Vo.norm(dim=1, keepdim=True).clamp_min(1e-12)
            # n_k = u_k X v_k^T + tb_k for every k at once (2.5)
            return torch.einsum("ki,nij,kj->nk", Uo, XL, Vo) + self.tb
        return self.out(XL)

    def forward(self, X: torch.Tensor, return_hidden: bool = False):
        H = self.hidden(X)
        XL = H[-1] if H else X
        out = self.head_forward(XL)
        return (out, H) if return_hidden else out

    def connection_weights(self) -> list[torch.Tensor]:
        """Weights counted by the weight decay: all ``U``, ``V``, and the output layer's."""
        ws = [w for layer in self.layers for j in range(len(layer.U)) for w in layer.weights(j)]
        if self.head == "dense":
            ws.append(self.out.weight)
        elif self.head == "bilinear":
            ws += [self.U_out, self.V_out]
        else:
            ws += list(self.out.weights(0))
        return ws

    def penalty(self, hidden: list[torch.Tensor], lam: float = 0.0, beta: float = 0.0,
                rho: float = 0.05, sample_weight=None) -> torch.Tensor:
        """``lam sum_l (||U||^2 + ||V||^2) + beta sum_l R_l`` (Sec. 2.3, eq. 2.13); the mean
        activations of ``R_l`` weighted by ``sample_weight`` when given."""
        total = torch.zeros((), dtype=self.layers[0].B.dtype if self.layers else torch.float32)
        if lam:
            total = total + lam * weight_decay(self.connection_weights())
        if beta:
            if self.activation != "sigmoid":
                raise ValueError("the KL sparsity penalty needs activation='sigmoid' (values in (0, 1))")
            total = total + beta * sum(kl_sparsity(H, rho, sample_weight) for H in hidden)
        return total

    @torch.no_grad()
    def normalize_rows_(self) -> None:
        """Unit-norm projection of the rows of every bilinear ``U``, ``V`` (and case 2 head)."""
        for layer in self.layers:
            layer.normalize_rows_()
        if self.head == "bilinear":
            for W in (self.U_out, self.V_out):
                W.div_(W.norm(dim=1, keepdim=True).clamp_min(1e-12))
        elif self.head == "regression":
            self.out.normalize_rows_()


@register_model("matnet-autoencoder", example=lambda: (
    {"modality_shapes": ((5, 5), (4, 4)), "hidden_shape": (3, 3)},
    (torch.rand(4, 5, 5), torch.rand(4, 4, 4))))
class MultimodalMatNetAutoencoder(GlassModule):
    """Multimodal MatNet autoencoder (Sec. 3): D input matrices, one hidden matrix, D outputs.

    ``H = sigma(sum_j U_j X^j V_j^T + B)`` (3.1) and ``X^j_hat = sigma(R_j H S_j^T + C_j)`` (3.2).
    The loss (3.3) is :meth:`reconstruction_loss`; weight decay and the KL term (6.26) come from
    :meth:`penalty`.
    """

    def __init__(self, modality_shapes=((15, 15),) * 5, hidden_shape=(10, 10),
                 activation: str = "sigmoid", output_activation: str = "sigmoid"):
        super().__init__()
        shapes = [_shape(s, "modality shape") for s in modality_shapes]
        if not shapes:
            raise ValueError("need at least one modality")
        self.modality_shapes = shapes
        self.hidden_shape = _shape(hidden_shape, "hidden_shape")
        self.activation = activation
        self.encoder = BilinearLayer(shapes, self.hidden_shape, activation)  # (3.1)
        self.decoders = nn.ModuleList(  # (3.2): R_j = decoder.U[0], S_j = .V[0], C_j = .B
            BilinearLayer(self.hidden_shape, s, output_activation) for s in shapes
        )

    @property
    def U(self):
        return self.encoder.U

    @property
    def V(self):
        return self.encoder.V

    @property
    def B(self):
        return self.encoder.B

    @property
    def R(self):
        return [d.U[0] for d in self.decoders]

    @property
    def S(self):
        return [d.V[0] for d in self.decoders]

    @property
    def C(self):
        return [d.B for d in self.decoders]

    def encode(self, *Xs: torch.Tensor) -> torch.Tensor:
        return self.encoder(*Xs)  # (3.1)

    def reconstruct(self, *Xs: torch.Tensor, j: int = 0) -> torch.Tensor:
        """Output ``X^j_hat`` only (3.1 then 3.2 for modality ``j``): what super-resolution
        reads at test time, without decoding the other modalities."""
        return self.decoders[j](self.encode(*Xs))

    def decode(self, H: torch.Tensor) -> list[torch.Tensor]:
        return [dec(H) for dec in self.decoders]  # (3.2)

    def forward(self, *Xs: torch.Tensor, return_hidden: bool = False):
        H = self.encode(*Xs)
        out = self.decode(H)
        return (out, H) if return_hidden else out

    @staticmethod
    def reconstruction_loss(X_hat: Sequence[torch.Tensor], X: Sequence[torch.Tensor]) -> torch.Tensor:
        """``1/(2N) sum_i sum_j ||X_hat_i^j - X_i^j||_F^2`` (3.3)."""
        n = X[0].shape[0]
        return sum(((a - b) ** 2).sum() for a, b in zip(X_hat, X)) / (2 * n)

    def penalty(self, H: torch.Tensor, lam: float = 0.001, beta: float = 1.0,
                rho: float = 0.05) -> torch.Tensor:
        """Weight decay over all ``U_j, V_j, R_j, S_j`` plus ``beta R_y`` (6.26)."""
        total = torch.zeros((), dtype=H.dtype)
        if lam:
            total = total + lam * weight_decay(list(self.U) + list(self.V) + self.R + self.S)
        if beta:
            if self.activation != "sigmoid":
                raise ValueError("the KL sparsity penalty needs activation='sigmoid' (values in (0, 1))")
            total = total + beta * kl_sparsity(H, rho)
        return total
