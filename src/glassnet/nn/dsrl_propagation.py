"""DSRL's label propagation (re-exported by :mod:`glassnet.nn.dsrl`): the released code's
supervision step (same-class labelled pairs linked), ``F = (I + (alpha/beta)(D - W))^{-1} Y`` on
a fixed graph by one sparse LU solve, and :func:`propagate`, the same system differentiable in
the graph's stored values and solved by conjugate gradients in torch (used in training). The
same-class links can stay implicit there (``groups``): a class of ``m`` labelled samples adds
``m (m - 1)`` entries when linked explicitly, ``O(m)`` work when not."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

__all__ = ["label_propagation", "link_labelled_pairs", "propagate"]


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


def _cg(matvec, B, diag, X0, tol, max_iter):
    """Jacobi-preconditioned conjugate gradients for an SPD matrix, one system per column."""
    X = X0.clone()
    R = B - matvec(X)
    Z = R / diag[:, None]
    P = Z.clone()
    rz = (R * Z).sum(0)
    bnorm = B.norm(dim=0).clamp_min(torch.finfo(B.dtype).tiny)
    for _ in range(max_iter):
        if bool((R.norm(dim=0) <= tol * bnorm).all()):
            break
        AP = matvec(P)
        pap = (P * AP).sum(0)
        step = torch.where(pap > 0, rz / torch.where(pap > 0, pap, 1.0), 0.0)
        X = X + step * P
        R = R - step * AP
        Z = R / diag[:, None]
        rz_new = (R * Z).sum(0)
        P = Z + torch.where(rz > 0, rz_new / torch.where(rz > 0, rz, 1.0), 0.0) * P
        rz = rz_new
    return X


class _Propagate(torch.autograd.Function):
    """``F = (I + alpha (D - A))^{-1} Y`` for a symmetric graph ``A``: stored values ``x`` at
    (rows, cols) (duplicates add up) plus weight 1 between every two members of a group;
    backward is one more solve with the same matrix: ``dL/dx_e = alpha G_r . (F_c - F_r)``
    with ``G = M^{-1} dL/dF`` (the group links are constants)."""

    @staticmethod
    def forward(ctx, x, ri, ci, n, Y, alpha, X0, tol, max_iter, members, gid):
        xd = x.detach()
        d = torch.zeros(n, dtype=x.dtype, device=x.device).index_add(0, ri, xd)
        if members is not None:  # a member of a group of m is linked to its m - 1 others
            size = torch.zeros(int(gid.max()) + 1, dtype=x.dtype, device=x.device)
            size.index_add_(0, gid, torch.ones_like(gid, dtype=x.dtype))
            d.index_add_(0, members, size[gid] - 1.0)

        def matvec(V):  # M V = V + alpha (D V - A V), A V by a scatter-add over the stored values
            AV = torch.zeros_like(V).index_add_(0, ri, xd[:, None] * V[ci])
            if members is not None:  # (A_group V)_i = (sum of V over i's group) - V_i
                Vm = V[members]
                S = V.new_zeros(size.shape[0], V.shape[1]).index_add_(0, gid, Vm)
                AV.index_add_(0, members, S[gid] - Vm)
            return V + alpha * (d[:, None] * V - AV)

        diag = 1.0 + alpha * d
        F = _cg(matvec, Y, diag, X0 if X0 is not None else Y / diag[:, None], tol, max_iter)
        ctx.save_for_backward(ri, ci, F)
        ctx.matvec, ctx.diag, ctx.alpha, ctx.tol, ctx.max_iter = matvec, diag, alpha, tol, max_iter
        return F

    @staticmethod
    def backward(ctx, gF):
        ri, ci, F = ctx.saved_tensors
        G = _cg(ctx.matvec, gF, ctx.diag, gF / ctx.diag[:, None], ctx.tol, ctx.max_iter)
        gx = ctx.alpha * (G[ri] * (F[ci] - F[ri])).sum(1)
        return (gx,) + (None,) * 10


def propagate(x: torch.Tensor, rows, cols, n: int, Y: torch.Tensor, alpha: float = 1.0,
              X0: torch.Tensor | None = None, tol: float = 1e-10, max_iter: int = 2000,
              groups=None):
    """Label propagation ``F = (I + alpha (D - X))^{-1} Y`` (the same system as
    :func:`label_propagation`), differentiable in the stored values ``x`` of a symmetric graph.
    Solved by Jacobi-preconditioned conjugate gradients in torch (the matrix is symmetric positive
    definite; ``O(nnz * c)`` per iteration, any device); ``X0`` warm-starts the solve.

    ``groups``: ``(members, codes)``, two equal-length integer arrays (each node at most once):
    every two members with the same code are linked at weight 1, added to any stored value
    (:func:`link_labelled_pairs` made implicit: ``O(len(members))`` per iteration instead of a
    stored entry per pair)."""
    ri = torch.as_tensor(np.asarray(rows), dtype=torch.int64, device=x.device)
    ci = torch.as_tensor(np.asarray(cols), dtype=torch.int64, device=x.device)
    members = gid = None
    if groups is not None:
        m, g = (np.asarray(a) for a in groups)
        if m.shape != g.shape or m.ndim != 1 or np.unique(m).size != m.size:
            raise ValueError("groups must be two 1-d arrays of equal length (members, codes), "
                             "each member once")
        if m.size:
            members = torch.as_tensor(m, dtype=torch.int64, device=x.device)
            gid = torch.as_tensor(np.unique(g, return_inverse=True)[1].ravel(), dtype=torch.int64,
                                  device=x.device)
    return _Propagate.apply(x, ri, ci, int(n), Y, float(alpha), X0, float(tol), int(max_iter),
                            members, gid)
