"""Multi-view benchmark sets (``multiview/*.mat``) and DSRL's own graphs (``multiview/dsrl/``).

Each ``.mat`` holds a MATLAB cell ``X`` of views and labels ``y`` (or ``Y``) numbered from 1.
Views are returned as ``(n_samples, n_features)`` float64 arrays (``ORL_4views`` is stored
features x samples and is transposed), labels as int from 0. See shared/data/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glassnet.datasets._base import check_draw, read_mat, require_file

__all__ = ["MULTIVIEW_SETS", "MultiviewData", "has_dsrl_graph", "load_dsrl_graph", "load_multiview"]

_SOURCE = ("weilyshmtu/Multi-view-DataSets (commit 300b517); see shared/data/README.md, "
           "section 'Multi-view clustering benchmarks'")
_DSRL_SOURCE = ("chenzl23/DSRL (the DSRL paper's released code, commit 757059d), folders "
                "'_multiview datasets/' and 'datasetW/'; see shared/data/README.md")

# name -> (path under the data directory, views stored features x samples)
MULTIVIEW_SETS: dict[str, tuple[str, bool]] = {
    "Handwritten": ("multiview/Handwritten.mat", False),
    "MSRC-v1": ("multiview/MSRC-v1.mat", False),
    "ORL": ("multiview/ORL_4views.mat", True),
    "3Sources": ("multiview/3Sources.mat", False),
    "BBCSport": ("multiview/BBCSport.mat", False),
    "20NewsGroups": ("multiview/20NewsGroups.mat", False),
    "Reuters-1200": ("multiview/Reuters-1200.mat", False),
    "ALOI": ("multiview/dsrl/ALOI.mat", False),
    "MNIST": ("multiview/dsrl/MNIST.mat", False),
    "ORL-dsrl": ("multiview/dsrl/ORL.mat", False),
}

# data set -> the authors' graph (rows in the order of that data set's labels)
_DSRL_GRAPHS = {"ALOI": "ALOIW", "MNIST": "MNISTW", "MSRC-v1": "MSRC-v1W", "ORL-dsrl": "ORLW"}


@dataclass
class MultiviewData:
    name: str
    views: list  # list of (n, d_v) float64 arrays
    y: np.ndarray  # int labels from 0

    @property
    def n_samples(self) -> int:
        return int(self.y.shape[0])

    @property
    def n_classes(self) -> int:
        return int(np.unique(self.y).size)


def _dense(v) -> np.ndarray:
    import scipy.sparse as sp

    return np.asarray(v.toarray() if sp.issparse(v) else v, dtype=np.float64)


def load_multiview(name: str, data_dir=None) -> MultiviewData:
    """Load one multi-view set by name (keys of :data:`MULTIVIEW_SETS`)."""
    if name not in MULTIVIEW_SETS:
        raise ValueError(f"unknown multi-view set {name!r}; known: {sorted(MULTIVIEW_SETS)}")
    rel, transposed = MULTIVIEW_SETS[name]
    f = require_file(data_dir, rel, _DSRL_SOURCE if rel.startswith("multiview/dsrl") else _SOURCE)
    d = read_mat(f, "X", any_of=("y", "Y"))
    views = [_dense(v) for v in np.asarray(d["X"]).ravel()]
    if transposed:
        views = [v.T for v in views]
    key = "y" if "y" in d else "Y"
    y = np.asarray(d[key]).ravel().astype(np.int64)
    y = np.unique(y, return_inverse=True)[1]
    for v in views:
        if v.shape[0] != y.shape[0]:
            raise ValueError(f"{f}: a view has {v.shape[0]} rows for {y.shape[0]} labels")
    return MultiviewData(name, views, y)


def has_dsrl_graph(name: str) -> bool:
    return name in _DSRL_GRAPHS


def load_dsrl_graph(name: str, data_dir=None):
    """The authors' similarity graph ``W`` for data set ``name`` (CSR, symmetric, zero diagonal)."""

    if name not in _DSRL_GRAPHS:
        raise ValueError(f"no released DSRL graph for {name!r}; available: {sorted(_DSRL_GRAPHS)}")
    f = require_file(data_dir, f"multiview/dsrl/{_DSRL_GRAPHS[name]}.mat", _DSRL_SOURCE)
    from glassnet.nn.dsrl import check_affinity

    # square, finite, nonnegative and symmetric up to the file's rounding (DSRL's own check)
    W = check_affinity(read_mat(f, "W")["W"], f"graph W of {f}", tol=1e-6)
    W = ((W + W.T) / 2).tocsr()  # the rounding removed
    W.setdiag(0.0)  # self-affinities are not edges
    W.eliminate_zeros()
    return W


def make_multiview_mixture(n_samples: int = 500, n_clusters: int = 5, n_views: int = 3,
                           n_features: int = 20, separation: float = 3.0, noise_views: int = 0,
                           random_state=None) -> MultiviewData:
    """A synthetic multi-view Gaussian mixture: every view draws its own cluster means (about
    ``separation`` apart, unit noise, ``n_features`` dimensions) around the shared labels;
    ``noise_views`` extra views carry no cluster information. Balanced clusters."""
    check_draw(random_state, {"separation": separation}, n_samples=n_samples, n_clusters=n_clusters,
               n_views=n_views, n_features=n_features, noise_views_or_0=noise_views)
    rng = np.random.default_rng(random_state)
    if n_clusters > n_samples:
        raise ValueError(f"n_clusters={n_clusters} > n_samples={n_samples}")
    y = np.arange(n_samples) % n_clusters
    rng.shuffle(y)
    views = []
    for v in range(n_views + noise_views):
        if v < n_views:
            means = rng.normal(0.0, separation / np.sqrt(2.0 * n_features), (n_clusters, n_features))
            X = means[y] + rng.normal(size=(n_samples, n_features))
        else:
            X = rng.normal(size=(n_samples, n_features))
        views.append(X)
    return MultiviewData("multiview-mixture", views, y)


__all__ += ["make_multiview_mixture"]
