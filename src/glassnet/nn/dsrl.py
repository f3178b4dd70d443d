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

Learned training signals (issue 26; the paper's J is minimised by ``xi = identity``):
:func:`spectral_gap_loss` (eigengap at k clusters of the degree-regularised learned graph, exact
eigenvalue gradients) and :func:`propagate` (label propagation as a differentiable
conjugate-gradient solve). :class:`DSRLGraph` puts view weights in front of the net
(:func:`stack_views`, :func:`view_agreement_weights`).

The graph side (numpy/scipy): per-view kNN heat-kernel graphs averaged over views, spectral
clustering with the symmetric normalised Laplacian ``I - D^{-1/2} X D^{-1/2}`` (the released
code uses ``D^{+1/2}``, a bug) and k-means on row-normalised eigenvectors, and label propagation
``F = (I + (alpha/beta)(D - X))^{-1} Y_L`` as one sparse linear solve.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from glassnet.nn._base import GlassModule, is_int
from glassnet.nn.dsrl_gate import cluster_agreement_weights, feature_structure_z, regularised_ncut
from glassnet.nn.dsrl_propagation import label_propagation, link_labelled_pairs, propagate
from glassnet.penalties import check_dsrl_theta, learned_threshold
from glassnet.registry import register_model

__all__ = [
    "DSRLGraph",
    "DSRLNet",
    "DSRLThreshold",
    "check_affinity",
    "cluster_agreement_weights",
    "feature_structure_z",
    "knn_heat_graph",
    "label_propagation",
    "link_labelled_pairs",
    "multiview_graph",
    "project_theta",
    "propagate",
    "regularised_ncut",
    "spectral_embedding",
    "spectral_gap_loss",
    "spectral_labels",
    "stack_views",
    "view_agreement_weights",
]

W_MIN = 1e-4  # the released code's floor on w1, w2 (projection_w)
L_MIN = 1.0  # Lipschitz constant of grad f(X) = X - W: a step 1/L <= 1 keeps X_(i) >= 0 for W >= 0


def project_theta(w1: float, w2: float, b1: float, b2: float) -> tuple[float, float, float, float]:
    """Map Theta into constraint (7): clamp the w's, then project (b1, b2) for that w1.

    This is *not* the Euclidean projection of the 4-vector onto (7) (whose feasible set is not
    convex in ``(w1, b1, b2)`` jointly): ``w1 >= W_MIN`` and ``W_MIN <= w2 <= 1`` are clamps, and
    for the clamped ``w1`` the feasible ``(b1, b2)`` form the 2-D convex cone between the rays
    ``(1, 1)`` (``b1 = b2``) and ``(max(0, c), 1)`` with ``c = (w1 - 1)/w1``; a point outside
    goes to its Euclidean projection on that cone (the nearer ray). Feasible points are left
    unchanged and the map is idempotent.
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

    def extra_repr(self) -> str:
        return "w1={:.4g}, w2={:.4g}, b1={:.4g}, b2={:.4g}".format(*self.theta)


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
        if not is_int(n_layers, 1):
            raise ValueError(f"n_layers must be an integer >= 1, got {n_layers!r}")
        if not 0 < float(L) < math.inf:
            raise ValueError(f"L must be finite and > 0, got {L}")
        if len(theta) != 4:  # else missing values took DSRLThreshold's defaults silently
            raise ValueError(f"theta must be the 4 values (w1, w2, b1, b2), got {theta!r}")
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
        if W.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be a real numeric matrix, got dtype {W.dtype}")
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
    if W.nnz == 0:
        raise ValueError(f"the precomputed {name} has no edges (every entry is 0)")
    return W


def knn_heat_graph(X: np.ndarray, n_neighbors: int = 10, standardize: bool = True,
                   return_bandwidth: bool = False):
    """k-nearest-neighbour graph with heat-kernel weights ``exp(-d^2 / (2 t^2))`` of one view.

    Features are z-scored first (constant features stay 0); the bandwidth ``t`` is the mean
    distance of each sample to its k nearest neighbours (the released code's choice; Cai's
    ``constructW`` instead uses the mean distance over all pairs). The graph is symmetrised by the
    entrywise maximum, has a zero diagonal and values in (0, 1]. One kNN search, memory
    ``O(k n)``. With ``return_bandwidth`` the pair ``(W, t)`` is returned.
    """
    from sklearn.neighbors import NearestNeighbors

    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    if standardize:
        sd = X.std(axis=0)
        X = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    k = int(min(n_neighbors, n - 1))
    if k < 1:
        W = sp.csr_matrix((n, n))
        return (W, 1.0) if return_bandwidth else W
    D = NearestNeighbors(n_neighbors=k).fit(X).kneighbors_graph(mode="distance")
    t = float(D.data.mean()) if D.nnz else 0.0
    t = t if t > 0 else 1.0
    D.data = np.exp(-(D.data**2) / (2.0 * t * t))
    D.data[D.data <= 0] = np.finfo(np.float64).tiny  # a neighbour keeps an edge
    W = D.maximum(D.T).tocsr()
    W.setdiag(0.0)
    W.eliminate_zeros()
    return (W, t) if return_bandwidth else W


def multiview_graph(views, n_neighbors: int = 10, standardize: bool = True, weights=None,
                    return_views: bool = False):
    """Weighted sum ``sum_v a_v W_v`` of the views' kNN heat-kernel graphs (one kNN search per
    view; ``weights=None``: the average, the released code's ``W``). With ``return_views`` the
    triple ``(W, [W_v], [t_v])`` (per-view graphs and bandwidths) is returned."""
    parts = [knn_heat_graph(V, n_neighbors, standardize, return_bandwidth=True) for V in views]
    graphs = [g for g, _ in parts]
    a = np.full(len(graphs), 1.0 / len(graphs)) if weights is None else np.asarray(weights, float)
    if a.shape != (len(graphs),):
        raise ValueError(f"weights must have one entry per view ({len(graphs)}), got {a.shape}")
    W = sum((w * g for w, g in zip(a[1:], graphs[1:])), a[0] * graphs[0]).tocsr()
    return (W, graphs, [t for _, t in parts]) if return_views else W


def stack_views(graphs) -> tuple[sp.csr_matrix, np.ndarray]:
    """The union sparsity pattern of several (n, n) graphs and their values on it.

    Returns ``(P, V)``: ``P`` a CSR pattern (sorted indices, data = 1) and ``V`` an
    ``(n_views, P.nnz)`` array with ``V[v, e]`` the value of graph v at stored entry e of P (0
    where graph v has no edge), so that ``P`` with data ``a @ V`` is ``sum_v a_v W_v``."""
    graphs = [sp.csr_matrix(g, dtype=np.float64) for g in graphs]
    n = graphs[0].shape[0]
    if any(g.shape != (n, n) for g in graphs):
        raise ValueError(f"view graphs must all be ({n}, {n}); got {[g.shape for g in graphs]}")
    P = sum((abs(g) for g in graphs[1:]), abs(graphs[0])).tocsr()
    P.eliminate_zeros()
    P.sort_indices()
    P.data[:] = 1.0
    keys = np.repeat(np.arange(n, dtype=np.int64), np.diff(P.indptr)) * n + P.indices
    V = np.zeros((len(graphs), P.nnz))
    for v, g in enumerate(graphs):
        g = g.tocoo()
        V[v, np.searchsorted(keys, g.row.astype(np.int64) * n + g.col)] += g.data
    return P, V


def view_agreement_weights(graphs) -> np.ndarray:
    """Cross-view agreement weights: ``a_v`` proportional to view v's mean excess agreement with
    the other views, ``max(0, mean_u (<W_v, W_u>_F - c_vu) / (||W_v||_F ||W_u||_F))``.

    ``c_vu = sum(W_v) sum(W_u) / (n (n - 1))`` is the inner product two graphs have by chance
    (its mean over random relabellings of the nodes), so a view whose neighbourhoods no other
    view shares (pure noise) gets a weight near 0; views that agree count alike. One view: 1;
    no view above chance: uniform. ``O(n_views^2 nnz)``."""
    graphs = [sp.csr_matrix(g) for g in graphs]
    m = len(graphs)
    if m == 1:
        return np.ones(1)
    n = graphs[0].shape[0]
    norms = np.array([sp.linalg.norm(g) for g in graphs])
    sums = np.array([g.sum() for g in graphs])
    C = np.zeros((m, m))
    for i in range(m):
        for j in range(i + 1, m):
            den = norms[i] * norms[j]
            chance = sums[i] * sums[j] / (n * max(n - 1, 1))
            C[i, j] = C[j, i] = (graphs[i].multiply(graphs[j]).sum() - chance) / den if den > 0 else 0
    agree = np.maximum(C.sum(axis=1) / (m - 1), 0.0)
    if not agree.sum() > 0:  # no view agrees with the others above chance
        return np.full(m, 1.0 / m)
    return agree / agree.sum()


class DSRLGraph(GlassModule):
    """Learned view weights and the unfolded net: ``X_(t) = DSRLNet(sum_v a_v W_v)``.

    ``a = softmax(view_logits)`` (positive and summing to 1 by construction), starting at
    ``weights`` (default ``1 / n_views``, the paper's averaged graph); with
    ``learn_weights=False`` they stay there.
    ``forward`` takes the ``(n_views, nnz)`` stacked values of :func:`stack_views` and returns the
    learned graph's ``nnz`` values on the same pattern."""

    def __init__(self, n_views: int, n_layers: int = 10, theta: tuple = (1.0, 1.0, 1.0, 2.0),
                 L: float = 1.0, tied: bool = True, learn_weights: bool = True, weights=None,
                 dtype: torch.dtype = torch.float64):
        super().__init__()
        if int(n_views) < 1:
            raise ValueError(f"n_views must be >= 1, got {n_views}")
        a = np.full(int(n_views), 1.0 / int(n_views)) if weights is None else np.asarray(weights)
        if a.shape != (int(n_views),) or not np.all((a > 0) & np.isfinite(a)):
            raise ValueError(f"weights must be {n_views} positive finite numbers, got {weights!r}")
        self.view_logits = nn.Parameter(torch.as_tensor(np.log(a / a.sum()), dtype=dtype),
                                        requires_grad=bool(learn_weights) and int(n_views) > 1)
        self.net = DSRLNet(n_layers, theta=theta, L=L, tied=tied, dtype=dtype)

    @property
    def view_weights(self) -> torch.Tensor:
        return torch.softmax(self.view_logits, dim=0)

    def combine(self, V: torch.Tensor) -> torch.Tensor:
        """``sum_v a_v W_v`` on the stored entries."""
        return self.view_weights @ V

    def forward(self, V: torch.Tensor, return_layers: bool = False):
        return self.net(self.combine(V), return_layers=return_layers)

    @torch.no_grad()
    def project_(self) -> None:
        self.net.project_()


# ---------------------------------------------------------------- learned training signals

def regularised_top(A, m: int, tau: float, v0=None):
    """``(mu, U)``: the ``m`` largest eigenpairs, largest first, of the degree-regularised
    normalised adjacency ``S^{-1/2} (A + (tau/n) 1 1^T) S^{-1/2}``, ``S = diag(degrees + tau)``
    (Amini et al. 2013; ``tau`` absolute). The rank-one term connects every pair of nodes, so
    the leading eigenvalue is simple whatever ``A``'s components (:func:`spectral_gap_loss`)."""
    from scipy.linalg import eigh
    from scipy.sparse.linalg import ArpackError, LinearOperator, eigsh

    A = sp.csr_matrix(A)
    n = A.shape[0]
    r = 1.0 / np.sqrt(np.asarray(A.sum(axis=1)).ravel() + tau)
    c = tau / n

    def dense():
        N = r[:, None] * (A.toarray() + c) * r[None, :]
        mu, U = eigh(N)  # all of them: LAPACK's subset driver can return fewer
        return mu[n - m:], U[:, n - m:]

    if n <= 500 or m >= n // 4:
        mu, U = dense()
    else:
        op = LinearOperator((n, n), dtype=np.float64,
                            matvec=lambda v: r * (A @ (r * v.ravel()) + c * np.dot(r, v.ravel())))
        try:
            mu, U = eigsh(op, k=m, which="LA", v0=v0, tol=1e-10)
        except ArpackError:
            mu, U = dense()
    order = np.argsort(-mu)
    return mu[order], U[:, order]


def spectral_gap_loss(x: torch.Tensor, rows: np.ndarray, cols: np.ndarray, n: int, k: int,
                      tau: float, kind: str = "gap", v0=None):
    """Eigengap criterion at k clusters on the graph with stored values ``x`` at (rows, cols).

    The graph is regularised as in regularised spectral clustering (Amini et al. 2013; Qin and
    Rohe 2013): ``A_tau = X + (tau/n) 1 1^T``, ``N = S^{-1/2} A_tau S^{-1/2}``,
    ``S = diag(degrees + tau)``, eigenvalues ``mu_1 = 1 >= mu_2 >= ...``. Without ``tau`` the gap
    is maximised by cutting off k - 1 tiny groups of nodes (dangling sets), which the threshold
    can do; with it a small group costs little connection and stops being a component.
    ``kind="gap"``: ``mu_(k+1) - mu_k`` (minus the eigengap of the normalised Laplacian, in
    [-1, 0] here); ``kind="ratio"``: ``(1 - mu_k) / (1 - mu_(k+1))`` (0 on any graph with k or
    more components: a trivial minimiser, kept for the record). The eigenvectors come from a
    symmetric eigensolver on the CPU (no gradient); the eigenvalues are their Rayleigh quotients
    in torch, whose gradient in ``x`` is the exact derivative of a simple eigenvalue
    (Hellmann-Feynman). Returns ``(loss, mu, U)``.
    """
    xv = x.detach().cpu().numpy()
    A = sp.csr_matrix((xv, (rows, cols)), shape=(n, n))
    U = regularised_top(A, int(k) + 1, tau, v0)[1]
    c = tau / n
    U = torch.as_tensor(np.ascontiguousarray(U), dtype=x.dtype, device=x.device)
    ri = torch.as_tensor(rows, device=x.device)
    ci = torch.as_tensor(cols, device=x.device)
    deg = torch.zeros(n, dtype=x.dtype, device=x.device).index_add(0, ri, x) + tau
    u = U * deg.rsqrt()[:, None]  # S^{-1/2} U
    quad = (x[:, None] * u[ri] * u[ci]).sum(0) + c * u.sum(0) ** 2  # u_i^T N u_i
    if kind == "gap":
        loss = quad[k] - quad[k - 1]
    elif kind == "ratio":
        loss = (1.0 - quad[k - 1]) / (1.0 - quad[k]).clamp_min(1e-12)
    else:
        raise ValueError(f"kind must be 'gap' or 'ratio', got {kind!r}")
    return loss, quad.detach().cpu().numpy(), U


def _degree_scaling(W: sp.csr_matrix) -> np.ndarray:
    d = np.asarray(W.sum(axis=1)).ravel()
    with np.errstate(divide="ignore"):
        s = np.where(d > 0, 1.0 / np.sqrt(d), 0.0)  # D^{-1/2}; isolated nodes get 0
    return s


def _symmetric_top(A, k: int, v0, dense_below: int = 200, dense=None):
    """``(mu, U)``: the ``k`` largest eigenpairs of a symmetric ``A``, a sparse matrix or a
    ``LinearOperator`` (dense LAPACK on ``dense()``, default ``A.toarray()``, up to
    ``dense_below`` rows or if Lanczos fails, else Lanczos from ``v0``)."""
    from scipy.linalg import eigh
    from scipy.sparse.linalg import ArpackError, eigsh

    n = A.shape[0]
    dense = A.toarray if dense is None else dense
    if n <= dense_below or k >= n // 2:
        return eigh(dense(), subset_by_index=[n - k, n - 1])
    try:  # Lanczos: one product with A per iteration (O(nnz) for a sparse matrix)
        return eigsh(A, k=k, which="LA", v0=v0, tol=1e-8)
    except ArpackError:  # no convergence, or A v0 = 0 on an (almost) empty graph
        return eigh(dense(), subset_by_index=[n - k, n - 1])


STRAY_FRACTION = 0.1  # a component below this share of the mean cluster size (n / k) is a stray group


def leading_eigenvectors(A, k: int, v0, dense_below: int = 200) -> np.ndarray:
    """The ``k`` leading eigenvectors (columns) of a symmetric sparse ``A``, one connected
    component of its graph at a time.

    The spectrum of a block-diagonal matrix is the union of its blocks', and on a graph with c
    components the normalised adjacency has the eigenvalue 1 c times (one component indicator
    each). Lanczos on the whole matrix finds such a repeated eigenvalue once: its Krylov space
    holds one vector of that eigenspace. Where two or more components have edges (lone nodes
    are zero rows, eigenvalue 0), each component gives its own leading pairs, and
    the k largest eigenvalues overall are kept (ties: larger components first); every vector is
    zero outside its component (:func:`spectral_embedding`, co-reg's first step). A component
    of fewer than ``STRAY_FRACTION * n / k`` nodes (unless every component is that small) is
    left out as a lone node is, a zero row: with its eigenvalue 1 it would take a cluster of its
    own, as a stray pair cut off by DSRL's learned threshold did (breast cancer, k = 2: ARI
    0.02 against 0.76)."""
    from scipy.sparse.csgraph import connected_components

    A = sp.csr_matrix(A)
    _, lab = connected_components(A, directed=False)
    linked = np.asarray(abs(A).sum(axis=1)).ravel() > 0  # lone nodes are zero rows: eigenvalue 0
    if len(np.unique(lab[linked])) <= 1:  # no repeated eigenvalue: the whole matrix at once
        return _symmetric_top(A, k, v0, dense_below)[1]
    sizes = np.bincount(lab)
    small = sizes < STRAY_FRACTION * A.shape[0] / k
    if not small[sizes > 1].all():  # stray groups count as lone nodes: zero rows
        A = A.multiply(~small[lab][:, None]).tocsr()
        A.eliminate_zeros()
        _, lab = connected_components(A, directed=False)
        sizes = np.bincount(lab)
    mus, owners, cols = [], [], []
    for c, idx in enumerate(np.split(np.argsort(lab, kind="stable"), np.cumsum(sizes)[:-1])):
        mu, U = _symmetric_top(A[idx][:, idx], min(k, len(idx)), v0[idx], dense_below)
        mus.append(mu)
        owners += [c] * len(mu)
        cols += [(idx, u) for u in U.T]
    mu = np.concatenate(mus)
    # ties (to 1e-10: the components' eigenvalue 1 comes out of LAPACK as 1 +- 1e-15)
    keep = np.lexsort((-sizes[np.asarray(owners)], -np.round(mu, 10)))[:k]
    out = np.zeros((A.shape[0], k))
    for j, t in enumerate(keep):
        idx, u = cols[t]
        out[idx, j] = u
    return out


def spectral_embedding(W, n_components: int, random_state=None, eigenvalues: bool = False):
    """Row-normalised leading eigenvectors of ``D^{-1/2} W D^{-1/2}`` (the ``n_components``
    smallest of the symmetric normalised Laplacian ``I - D^{-1/2} W D^{-1/2}``); with
    ``eigenvalues``, ``(embedding, their eigenvalues)`` (Rayleigh quotients).

    Where c >= 2 components have edges, that matrix has the eigenvalue 1 c times, and Lanczos
    on the whole matrix can find it fewer times (on five separated blobs it found two of the
    five: ARI 0.58); there the vectors come one component at a time, stray groups left out
    (:func:`leading_eigenvectors`). A connected graph, or one whose other components are lone
    nodes, is solved as before (``benchmarks/dsrl_tuning/dsrl_components.py``)."""
    W = sp.csr_matrix(W)
    n = W.shape[0]
    k = int(n_components)
    s = _degree_scaling(W)
    A = sp.diags(s) @ W @ sp.diags(s)
    U = leading_eigenvectors(A, k, np.random.default_rng(random_state).uniform(-1, 1, n))
    norms = np.linalg.norm(U, axis=1, keepdims=True)
    E = U / np.where(norms > 0, norms, 1.0)
    if not eigenvalues:
        return E
    return E, np.einsum("ij,ij->j", U, A @ U) / np.maximum(np.einsum("ij,ij->j", U, U), 1e-300)


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
