"""DSRL's label propagation on a fixed graph (numpy/scipy; re-exported by
:mod:`glassnet.nn.dsrl`): the released code's supervision step (same-class labelled pairs linked)
and ``F = (I + (alpha/beta)(D - W))^{-1} Y`` by one sparse LU solve. The differentiable version
used in training is :func:`glassnet.nn.dsrl.propagate`."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["label_propagation", "link_labelled_pairs"]


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
