"""DSRL's inputs: how a view's features become the points of its kNN graph (the ``metric``
option), how many neighbours it has (``n_neighbors="auto"``, :func:`neighbors`), and the checks
on multi-view and precomputed input.

* ``"euclidean"``: features z-scored, Euclidean distance (the released pipeline).
* ``"tfidf"``: term counts (or stored weights) scaled by their inverse document frequency
  (fitted on the training rows: ``idf = ln((1 + n) / (1 + df)) + 1``, scikit-learn's
  ``TfidfTransformer`` default), rows scaled to unit length, so the Euclidean kNN is the cosine
  kNN of the TF-IDF vectors. Documents are near when they share distinctive words, whatever
  their length; on z-scored counts long documents sit far from everything and short ones become
  hubs.
* ``"unscaled"``: the features as given, Euclidean distance: for a view whose columns share one
  unit (pixel intensities, lengths in one unit), where z-scores would blow up near-constant
  columns (a digit image's border pixels) and flatten the columns that vary most.
* ``"cosine"``: rows scaled to unit length as given (no centring, no reweighting): the cosine
  kNN of features that are already weights, such as a ``TfidfVectorizer`` output.
* ``"hellinger"``: nonnegative histograms (LBP, HOG, colour or bag-of-visual-words counts),
  each row divided by its sum and square-rooted; the Euclidean distance between two such rows
  is sqrt(2) times the Hellinger distance of the two distributions. An option, not the
  ``"auto"`` choice: it raised DSRL on one set of image tuning sets and lowered it on another,
  most where a view is raw pixel intensities (docs/history/dsrl.md, rounds 13d and 14).
* ``"auto"``: per view, ``"tfidf"`` for text (nonnegative, at least :data:`TEXT_ZEROS` of the
  entries zero: word counts, term frequencies or TF-IDF weights; round 12), ``"euclidean"``
  otherwise. Sparse 0/1 indicators (one-hot categories) pass that test too; pass
  ``"euclidean"`` to keep z-scores.

A view is stored as its mean, its scale and its metric; :func:`transform` maps training and
new rows alike (the out-of-sample extension uses the fitted idf).
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_DENSE", "METRICS", "TEXT_ZEROS", "affinity_to_fitted", "check_views",
           "dense_view", "fit_view", "is_multiview", "is_text", "knn_affinity", "neighbors",
           "transform", "view_metric"]

METRICS = ("auto", "cosine", "euclidean", "hellinger", "tfidf", "unscaled")
NONNEGATIVE = ("hellinger", "tfidf")  # metrics that refuse negative features
TEXT_ZEROS = 0.9  # "auto": a nonnegative view with at least this share of zeros is text
MAX_DENSE = 2 * 10**8  # entries of a sparse view made dense (1.6 GB as float64)


def is_text(V: np.ndarray) -> bool:
    """Whether V looks like a bag-of-words view (counts or weights): nonnegative, at least
    :data:`TEXT_ZEROS` of it zeros."""
    V = np.asarray(V)
    return bool(V.size and V.min() >= 0 and np.mean(V == 0) >= TEXT_ZEROS)


def view_metric(V: np.ndarray, metric: str, name: str = "view") -> str:
    """The metric used for view V under the option ``metric`` (``"auto"`` resolved)."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    if metric == "auto":
        return "tfidf" if is_text(V) else "euclidean"
    if metric in NONNEGATIVE and np.size(V) and np.min(V) < 0:
        raise ValueError(f"metric={metric!r} needs nonnegative features (term counts, weights or "
                         f"histograms), but {name} has negative values (min {np.min(V):.3g}); "
                         "use metric='euclidean'")
    return metric


def neighbors(option, n: int, n_groups: int) -> int:
    """k of the kNN graphs: ``option`` itself, or for ``"auto"`` half the mean group size
    ``n / n_groups / 2``, between 3 and 10 (round 12b): a class of 10 cannot keep its
    neighbours to itself at k = 10; groups of 20 or more samples get 10 (the paper's)."""
    if option == "auto":
        return int(min(10, max(3, round(n / max(n_groups, 1) / 2))))
    return int(option)


def fit_view(V: np.ndarray, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, scale)`` of view V for :func:`transform`: the column means and standard
    deviations (``"euclidean"``; constant columns keep scale 1), zeros and ``1 / idf``
    (``"tfidf"``) or zeros and ones (``"cosine"``, ``"hellinger"``, ``"unscaled"``: nothing is
    fitted)."""
    V = np.asarray(V, dtype=np.float64)
    if metric in ("cosine", "hellinger", "unscaled"):
        return np.zeros(V.shape[1]), np.ones(V.shape[1])
    if metric == "tfidf":
        df = np.count_nonzero(V, axis=0)
        idf = np.log((1.0 + V.shape[0]) / (1.0 + df)) + 1.0
        return np.zeros(V.shape[1]), 1.0 / idf
    sd = V.std(axis=0)
    return V.mean(axis=0), np.where(sd > 0, sd, 1.0)


def transform(V: np.ndarray, mean: np.ndarray, scale: np.ndarray, metric: str) -> np.ndarray:
    """``(V - mean) / scale``; for ``"tfidf"`` and ``"cosine"`` each row then has unit length
    (an empty document stays the zero row); for ``"hellinger"`` each row is divided by its sum
    and square-rooted (so it too has unit length; an all-zero row stays zero). New rows with
    negative values are refused under the metrics that need nonnegative features."""
    Z = (np.asarray(V, dtype=np.float64) - mean) / scale
    if metric in NONNEGATIVE and Z.size and Z.min() < 0:
        raise ValueError(f"metric={metric!r} needs nonnegative features, but these rows have "
                         f"negative values (min {Z.min():.3g})")
    if metric == "hellinger":
        sums = Z.sum(axis=1, keepdims=True)
        return np.sqrt(Z / np.where(sums > 0, sums, 1.0))
    if metric in ("tfidf", "cosine"):
        norms = np.linalg.norm(Z, axis=1, keepdims=True)
        Z = Z / np.where(norms > 0, norms, 1.0)
    return Z


def knn_affinity(points, fit_points, bandwidth: float, k: int):
    """(n_new, n_fit) CSR heat-kernel affinities ``exp(-d^2 / 2t^2)`` of new points to their k
    nearest fitted points (the out-of-sample extension of one view's kNN graph)."""
    import scipy.sparse as sp
    from sklearn.neighbors import NearestNeighbors

    d, idx = NearestNeighbors(n_neighbors=k).fit(fit_points).kneighbors(points)
    w = np.maximum(np.exp(-(d**2) / (2 * bandwidth * bandwidth)), np.finfo(np.float64).tiny)
    rows = np.repeat(np.arange(points.shape[0]), k)
    return sp.csr_matrix((w.ravel(), (rows, idx.ravel())), shape=(points.shape[0],
                                                                 fit_points.shape[0]))


def is_multiview(X) -> bool:
    """Whether X is a non-empty list or tuple of 2-d arrays (one per view)."""
    return isinstance(X, (list, tuple)) and len(X) > 0 and all(np.ndim(v) == 2 for v in X)


def dense_view(V, name: str = "view"):
    """V itself, or a sparse V (e.g. a ``CountVectorizer`` output) as a dense array; one with
    more than :data:`MAX_DENSE` entries is refused with a ``ValueError`` naming it."""
    import scipy.sparse as sp

    if not sp.issparse(V):
        return V
    if V.shape[0] * V.shape[1] > MAX_DENSE:
        raise ValueError(f"{name} is a sparse {V.shape[0]} x {V.shape[1]} matrix; DSRL works on "
                         f"dense views and this one has more than {MAX_DENSE:.0e} entries: keep "
                         "fewer columns (e.g. the vectorizer's max_features)")
    return V.toarray()


def check_views(X) -> list:
    """The views of a multi-view X as finite float64 arrays with one row count (sparse views
    made dense by :func:`dense_view`)."""
    from sklearn.utils.validation import check_array

    views = [check_array(dense_view(v, f"view {i}"), dtype=np.float64, ensure_all_finite=True,
                         input_name=f"view {i}") for i, v in enumerate(X)]
    sizes = [v.shape[0] for v in views]
    if len(set(sizes)) > 1:
        raise ValueError(f"all views must have the same number of samples, got {sizes}")
    return views


def affinity_to_fitted(X, n_fit: int):
    """Checked ``(n_new, n_fit)`` precomputed affinities of new samples to the fitted ones, as
    CSR (``affinity="precomputed"``'s out-of-sample input)."""
    import scipy.sparse as sp
    from sklearn.utils.validation import check_array

    if is_multiview(X):
        raise ValueError("with affinity='precomputed', predict takes one (n_new, n_fit) "
                         "affinity matrix, not a list of views")
    K = check_array(X, accept_sparse="csr", dtype=np.float64, ensure_all_finite=True)
    if K.shape[1] != n_fit:
        raise ValueError(f"with affinity='precomputed', predict takes the (n_new, "
                         f"{n_fit}) affinities to the fitted samples; got {K.shape}")
    if (K.min() if not sp.issparse(K) else (K.data.min() if K.nnz else 0)) < 0:
        raise ValueError("precomputed affinities must be >= 0")
    return sp.csr_matrix(K)
