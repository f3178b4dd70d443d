"""DSRL: learned deep sparse regularisers (Wang, Chen, Du, Lin, TPAMI 2022).

* :class:`DSRLThreshold` is the learnable thresholding function ``xi_Theta``,
  ``Theta = [w1, w2, b1, b2]``, the proximal operator of the regulariser ``g`` of the appendix's
  eq. (1) (:class:`glassnet.penalties.DSRLRegularizer`). Constraint (7) is kept by projection
  after every optimiser step (:meth:`DSRLThreshold.project_`, the training loop's ``project``
  hook), as the released code does in every forward pass.
* :class:`DSRLNet` is the unfolded proximal-gradient network
  ``X_(i) = xi_Theta(X_(i-1) - (1/L) grad f(X_(i-1)))`` with ``f(X) = 1/2 ||X - W||_F^2``,
  ``X_(0) = W``, trained on ``J = 1/2 ||W - X_(t)||_F^2`` (appendix eq. 8). Plain ISTA for
  ``1/2 ||X - W||^2 + lam ||X||_1`` is the same net with ``w1 = w2 = 1``, ``b1 = b2 = lam/L``
  and fixed parameters (:meth:`DSRLNet.ista`, DESIGN rule 11).

Because ``grad f(X) = X - W`` every layer is elementwise and ``xi(0) = 0``: an entry that is
zero in ``W`` stays zero in every layer. The net therefore runs on the *stored values* of a
sparse graph (memory ``O(t * nnz)``, ``nnz ~ k n`` for a k-nearest-neighbour graph) and gives
exactly the dense network's output.

The graph side (numpy/scipy): per-view kNN heat-kernel graphs averaged over views, spectral
clustering with the symmetric normalised Laplacian ``I - D^{-1/2} X D^{-1/2}`` (the released
code uses ``D^{+1/2}``, a bug) and k-means on row-normalised eigenvectors, and label propagation
``F = (I + (alpha/beta)(D - X))^{-1} Y_L`` as one sparse linear solve.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from glassnet.nn._base import GlassModule
from glassnet.penalties import check_dsrl_theta, learned_threshold
from glassnet.registry import register_model

__all__ = [
    "DSRLNet",
    "DSRLThreshold",
    "check_affinity",
    "knn_heat_graph",
    "label_propagation",
    "link_labelled_pairs",
    "multiview_graph",
    "project_theta",
    "spectral_embedding",
    "spectral_labels",
]

W_MIN = 1e-4  # the released code's floor on w1, w2 (projection_w)
L_MIN = 1.0  # Lipschitz constant of grad f(X) = X - W: a step 1/L <= 1 keeps X_(i) >= 0 for W >= 0


def project_theta(w1: float, w2: float, b1: float, b2: float) -> tuple[float, float, float, float]:
    """Euclidean projection of Theta onto constraint (7).

    ``w1 >= W_MIN`` and ``W_MIN <= w2 <= 1`` are clamps; for that ``w1`` the set of feasible
    ``(b1, b2)`` is the 2-D convex cone between the rays ``(1, 1)`` (``b1 = b2``) and
    ``(max(0, c), 1)`` with ``c = (w1 - 1)/w1``; a point outside goes to the nearer ray.
    """
    w1 = max(float(w1), W_MIN)
    w2 = min(max(float(w2), W_MIN), 1.0)
    c = max(0.0, (w1 - 1.0) / w1)
    b1, b2 = float(b1), float(b2)
    if b2 >= b1 >= c * b2 and b1 >= 0:
        return w1, w2, b1, b2
    best = (0.0, 0.0)
    best_d = b1 * b1 + b2 * b2
    for u in (np.array([1.0, 1.0]), np.array([c, 1.0])):
        u = u / np.linalg.norm(u)
        t = max(0.0, b1 * u[0] + b2 * u[1])
        q = t * u
        d = (b1 - q[0]) ** 2 + (b2 - q[1]) ** 2
        if d < best_d:
            best, best_d = (float(q[0]), float(q[1])), d
    b1, b2 = best
    b1 = max(b1, c * b2)  # rounding: land exactly inside
    return w1, w2, min(b1, b2), b2


class DSRLThreshold(GlassModule):
    """``xi_Theta``: odd piecewise-linear thresholding with ``Theta = [w1, w2, b1, b2]``
    (prox of the appendix's ``g``, eq. 1), kept inside constraint (7)."""

    def __init__(self, w1: float = 1.0, w2: float = 1.0, b1: float = 1.0, b2: float = 2.0,
                 trainable: bool = True, dtype: torch.dtype = torch.float64):
        super().__init__()
        check_dsrl_theta(w1, w2, b1, b2)
        for name, v in zip(("w1", "w2", "b1", "b2"), (w1, w2, b1, b2)):
            self.register_parameter(
                name, nn.Parameter(torch.tensor(float(v), dtype=dtype), requires_grad=trainable))

    @property
    def theta(self) -> tuple[float, float, float, float]:
        return tuple(float(getattr(self, k).detach()) for k in ("w1", "w2", "b1", "b2"))

    @torch.no_grad()
    def project_(self) -> None:
        """Put Theta back into constraint (7) (called after every optimiser step)."""
        for k, v in zip(("w1", "w2", "b1", "b2"), project_theta(*self.theta)):
            getattr(self, k).fill_(v)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return learned_threshold(x, self.w1, self.w2, self.b1, self.b2)


@register_model("dsrl", example=lambda: (
    {"n_layers": 3, "theta": (1.0, 0.8, 0.1, 0.4), "L": 1.5},
    (torch.rand(12, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(0)),)))
class DSRLNet(GlassModule):
    """Unfolded proximal gradient on ``f(X) = 1/2 ||X - W||^2`` with learned ``xi_Theta``.

    ``n_layers`` = t blocks; ``tied=True`` shares ``Theta`` and ``L`` across layers (the
    released code), ``tied=False`` gives every layer its own (``nn.ModuleList`` /
    ``nn.ParameterList``). ``forward`` takes ``W`` as any tensor (a dense matrix or the stored
    values of a sparse one) and works elementwise.
    """

    def __init__(self, n_layers: int = 10, theta: tuple = (1.0, 1.0, 1.0, 2.0), L: float = 1.0,
                 tied: bool = True, trainable: bool = True, dtype: torch.dtype = torch.float64):
        super().__init__()
        if int(n_layers) < 1:
            raise ValueError(f"n_layers must be >= 1, got {n_layers}")
        if not float(L) > 0:
            raise ValueError(f"L must be > 0, got {L}")
        self.n_layers = int(n_layers)
        self.tied = bool(tied)
        n_par = 1 if tied else self.n_layers
        self.xi = nn.ModuleList(
            [DSRLThreshold(*theta, trainable=trainable, dtype=dtype) for _ in range(n_par)])
        self.L = nn.ParameterList(
            [nn.Parameter(torch.tensor(float(L), dtype=dtype), requires_grad=trainable)
             for _ in range(n_par)])

    @classmethod
    def ista(cls, lam: float, L: float = 1.0, n_layers: int = 10, dtype=torch.float64) -> DSRLNet:
        """Plain ISTA for ``1/2 ||X - W||^2 + lam ||X||_1``: soft threshold at ``lam / L``,
        nothing trainable."""
        k = float(lam) / float(L)
        return cls(n_layers, theta=(1.0, 1.0, k, k), L=L, tied=True, trainable=False, dtype=dtype)

    def layer(self, i: int) -> tuple[DSRLThreshold, torch.Tensor]:
        j = 0 if self.tied else i
        return self.xi[j], self.L[j]

    def forward(self, W: torch.Tensor, return_layers: bool = False):
        X = W  # X_(0) = W
        layers = []
        for i in range(self.n_layers):
            xi, L = self.layer(i)
            Z = X - (X - W) / L  # Z_(i) = X_(i-1) - (1/L) grad f(X_(i-1)), grad f = X - W
            X = xi(Z)  # X_(i) = xi_Theta(Z_(i))
            if return_layers:
                layers.append(X)
        return layers if return_layers else X

    @staticmethod
    def loss(X_t: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
        """``J = 1/2 ||W - X_(t)||_F^2`` (appendix eq. 8)."""
        return 0.5 * ((W - X_t) ** 2).sum()

    @torch.no_grad()
    def project_(self) -> None:
        """Constraint (7) for every Theta and ``L >= L_MIN``."""
        for xi in self.xi:
            xi.project_()
        for L in self.L:
            L.clamp_(min=L_MIN)

    @property
    def thetas(self) -> list[tuple[float, float, float, float]]:
        return [xi.theta for xi in self.xi]

    @property
    def Ls(self) -> list[float]:
        return [float(L.detach()) for L in self.L]


# ---------------------------------------------------------------- graphs

def check_affinity(W, name: str = "affinity", tol: float = 1e-8):
    """A square, symmetric, nonnegative, finite affinity as CSR float64 (ValueError otherwise)."""
    if sp.issparse(W):
        W = sp.csr_matrix(W, dtype=np.float64)
        vals = W.data
    else:
        W = np.asarray(W)
        if W.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be a real numeric matrix, got dtype {W.dtype}")
        W = W.astype(np.float64)
        vals = W
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"a precomputed {name} must be a square (n, n) matrix, got shape {W.shape}")
    if W.shape[0] == 0:
        raise ValueError(f"the precomputed {name} is empty")
    if not np.all(np.isfinite(vals)):
        raise ValueError(f"the precomputed {name} contains NaN or infinity")
    if np.any(vals < 0):
        raise ValueError(f"the precomputed {name} has negative entries (min {vals.min():.3g}); "
                         "affinities must be >= 0")
    asym = abs(W - W.T)
    asym = asym.max() if sp.issparse(W) else np.max(asym)
    scale = max(1.0, float(np.max(np.abs(vals))) if np.size(vals) else 1.0)
    if asym > tol * scale:
        raise ValueError(f"the precomputed {name} is not symmetric (max |W - W^T| = {asym:.3g})")
    W = sp.csr_matrix(W)
    W.eliminate_zeros()
    return W


def knn_heat_graph(X: np.ndarray, n_neighbors: int = 10, standardize: bool = True) -> sp.csr_matrix:
    """k-nearest-neighbour graph with heat-kernel weights ``exp(-d^2 / (2 t^2))`` of one view.

    Features are z-scored first (constant features stay 0); ``t`` is the mean distance to the
    k nearest neighbours (Cai's ``constructW`` default). The graph is symmetrised by the entrywise
    maximum, has a zero diagonal and values in (0, 1]. Memory ``O(k n)``.
    """
    from sklearn.neighbors import NearestNeighbors

    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    if standardize:
        sd = X.std(axis=0)
        X = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    k = int(min(n_neighbors, n - 1))
    if k < 1:
        return sp.csr_matrix((n, n))
    D = NearestNeighbors(n_neighbors=k).fit(X).kneighbors_graph(mode="distance")
    t = float(D.data.mean()) if D.nnz else 0.0
    t = t if t > 0 else 1.0
    D.data = np.exp(-(D.data**2) / (2.0 * t * t))
    D.data[D.data <= 0] = np.finfo(np.float64).tiny  # a neighbour keeps an edge
    W = D.maximum(D.T).tocsr()
    W.setdiag(0.0)
    W.eliminate_zeros()
    return W


def multiview_graph(views, n_neighbors: int = 10, standardize: bool = True) -> sp.csr_matrix:
    """Average of the views' kNN heat-kernel graphs (the released code's ``W``)."""
    graphs = [knn_heat_graph(V, n_neighbors, standardize) for V in views]
    return (sum(graphs[1:], graphs[0]) / len(graphs)).tocsr()


def _degree_scaling(W: sp.csr_matrix) -> np.ndarray:
    d = np.asarray(W.sum(axis=1)).ravel()
    with np.errstate(divide="ignore"):
        s = np.where(d > 0, 1.0 / np.sqrt(d), 0.0)  # D^{-1/2}; isolated nodes get 0
    return s


def spectral_embedding(W, n_components: int, random_state=None) -> np.ndarray:
    """Row-normalised leading eigenvectors of ``D^{-1/2} W D^{-1/2}`` (the ``n_components``
    smallest of the symmetric normalised Laplacian ``I - D^{-1/2} W D^{-1/2}``)."""
    from scipy.linalg import eigh
    from scipy.sparse.linalg import ArpackNoConvergence, eigsh

    W = sp.csr_matrix(W)
    n = W.shape[0]
    s = _degree_scaling(W)
    A = sp.diags(s) @ W @ sp.diags(s)
    k = int(n_components)
    if n <= 200 or k >= n // 2:
        _, U = eigh(A.toarray(), subset_by_index=[n - k, n - 1])
    else:
        v0 = np.random.default_rng(random_state).uniform(-1, 1, n)
        try:  # Lanczos on the sparse matrix: O(nnz) per iteration
            _, U = eigsh(A, k=k, which="LA", v0=v0, tol=1e-8)
        except ArpackNoConvergence:
            _, U = eigh(A.toarray(), subset_by_index=[n - k, n - 1])
    norms = np.linalg.norm(U, axis=1, keepdims=True)
    return U / np.where(norms > 0, norms, 1.0)


def spectral_labels(W, n_clusters: int, n_init: int = 10, random_state=None) -> np.ndarray:
    """Spectral clustering (Ng, Jordan, Weiss): k-means with ``n_init`` restarts on the
    row-normalised eigenvectors of :func:`spectral_embedding`."""
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    # one BLAS and OpenMP thread (restored on exit): the work here is small, and extra threads cost
    # far more than they give on a shared machine (k-means++ ran 30x slower on 2 loaded cores)
    with threadpool_limits(limits=1):
        E = spectral_embedding(W, n_clusters, random_state)
        return KMeans(n_clusters, n_init=n_init, random_state=random_state).fit_predict(E)


def link_labelled_pairs(W, labelled, codes, value: float = 1.0) -> sp.csr_matrix:
    """``W`` with every same-class pair of labelled samples set to ``value`` (the released
    code's supervision step; the diagonal stays 0). Adds ``sum_c m_c (m_c - 1)`` entries for
    ``m_c`` labelled samples of class c."""
    labelled, codes = np.asarray(labelled), np.asarray(codes)
    rows, cols = [np.empty(0, dtype=int)], [np.empty(0, dtype=int)]
    for c in np.unique(codes):
        m = labelled[codes == c]
        r, s = np.meshgrid(m, m, indexing="ij")
        keep = r != s
        rows.append(r[keep])
        cols.append(s[keep])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    W = sp.csr_matrix(W, dtype=np.float64).tolil()
    W[rows, cols] = value
    return W.tocsr()


def label_propagation(W, Y: np.ndarray, alpha_over_beta: float = 1.0) -> np.ndarray:
    """``F = (I + (alpha/beta) (D - W))^{-1} Y`` by one sparse LU solve (never an inverse);
    ``Y`` is (n, c) with one-hot rows for labelled samples and zero rows otherwise."""
    from scipy.sparse.linalg import splu

    W = sp.csr_matrix(W)
    n = W.shape[0]
    d = np.asarray(W.sum(axis=1)).ravel()
    M = (sp.identity(n, format="csc") + alpha_over_beta * (sp.diags(d) - W)).tocsc()
    return splu(M).solve(np.asarray(Y, dtype=np.float64))
