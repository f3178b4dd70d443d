"""DSRL's spectral step on graphs that fall apart: four embeddings on blobs, truth known.

``make_blobs`` with k = 3, 5, 8 centres (100 points each, 10 features) gives a kNN heat-kernel
graph with one component per blob; 0, 2 or 4 stray groups of 2-3 points far from every blob
are appended (they hang off a blob's component by tiny kNN weights, which also joins some
blobs: a dangling set, not a component of its own). Spectral clustering (k-means on the
row-normalised leading eigenvectors) is scored by ARI on the blob points, 10 draws per cell:

* ``lanczos``: Lanczos on the whole normalised adjacency (the code before the fix), which
  finds an eigenvalue repeated across components once;
* ``per-component``: :func:`glassnet.nn.dsrl.leading_eigenvectors` on the normalised matrix
  (one component at a time, stray components left out), whatever the components;
* ``library``: :func:`glassnet.nn.dsrl.spectral_embedding` as it is (per component where two
  or more have edges, components below ``STRAY_FRACTION`` of the mean cluster size left out
  as lone nodes are);
* ``regularised``: the degree-regularised embedding of DSRL's training criterion
  (:func:`glassnet.nn.dsrl.regularised_top`, tau = 0.1 of the mean degree), not the library's
  spectral step (on scikit-learn's two rings, ``make_circles``, it mixes the rings: the
  rank-one term ties them, and a ring's smooth mode outranks their contrast).

Synthetic only; no data set is read. Rows: ``benchmarks/dsrl_tuning/dsrl_components.csv``.

    python benchmarks/dsrl_tuning/dsrl_components.py
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import eigsh
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from glassnet.nn.dsrl import (
    _degree_scaling,
    knn_heat_graph,
    leading_eigenvectors,
    regularised_top,
    spectral_embedding,
)

HERE = Path(__file__).resolve().parent


def _normalised(W):
    s = _degree_scaling(W)
    return sp.diags(s) @ W @ sp.diags(s)


def _rows(U):
    norms = np.linalg.norm(U, axis=1, keepdims=True)
    return U / np.where(norms > 0, norms, 1.0)


def lanczos(W, k, v0):
    return _rows(eigsh(_normalised(W), k=k, which="LA", v0=v0, tol=1e-8)[1])


def per_component(W, k, v0):
    return _rows(leading_eigenvectors(_normalised(W), k, v0))


def regularised(W, k, v0):
    return _rows(regularised_top(W, k, 0.1 * float(W.sum()) / W.shape[0], v0)[1])


def main(argv=None):
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)
    solvers = {"lanczos": lanczos, "per-component": per_component,
               "library": lambda W, k, v0: spectral_embedding(W, k, 0), "regularised": regularised}
    rows = []
    for k in (3, 5, 8):
        for n_stray in (0, 2, 4):
            for draw in range(10):
                X, y = make_blobs(100 * k, 10, centers=k, random_state=draw)
                rng = np.random.default_rng(draw)
                stray = [rng.normal(0, 60, 10) + 0.5 * rng.normal(size=(int(rng.integers(2, 4)), 10))
                         for _ in range(n_stray)]
                W = knn_heat_graph(np.vstack([X, *stray]), standardize=False)
                v0 = np.random.default_rng(0).uniform(-1, 1, W.shape[0])
                n_comp = connected_components(W, directed=False)[0]
                for name, f in solvers.items():
                    lab = KMeans(k, n_init=10, random_state=0).fit_predict(f(W, k, v0))[: len(y)]
                    rows.append({"k": k, "stray_groups": n_stray, "draw": draw, "components": n_comp,
                                 "solver": name, "ari": adjusted_rand_score(y, lab)})
    df = pd.DataFrame(rows)
    df.to_csv(HERE / "dsrl_components.csv", index=False)
    df["graph"] = np.where(df.components > 1, "disconnected", "connected")
    print(df.pivot_table(index=["k", "stray_groups"], columns="solver", values="ari").round(3).to_markdown())
    print()
    print(df.pivot_table(index="graph", columns="solver", values="ari", aggfunc=["mean", "count"]).round(3).to_markdown())


if __name__ == "__main__":
    main()
