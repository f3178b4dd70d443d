"""Metrics shared by the families: selection error rates, feature-set stability, scores."""

from __future__ import annotations

import numbers
from itertools import combinations

import numpy as np

__all__ = ["kuncheva_index", "pq_score", "psnr", "selection_rates", "stability"]


def _as_set(s) -> set[int]:
    """Feature indices as a set; a boolean array is read as a mask over the features."""
    a = np.asarray(s if isinstance(s, np.ndarray) else list(s))
    if a.dtype == bool:
        return {int(i) for i in np.flatnonzero(a)}
    if a.size and (a.dtype.kind not in "iuf" or not np.all(a == np.round(a))):
        raise ValueError(f"feature indices must be integers (or a boolean mask), got {a.ravel()[:5].tolist()}")
    return {int(i) for i in a.ravel()}


def _check_indices(indices: set[int], n_features: int) -> None:
    if any(i < 0 or i >= n_features for i in indices):
        raise ValueError("feature indices must lie in [0, n_features)")


def selection_rates(selected, support, n_features: int) -> dict[str, float]:
    """FP rate (selected nulls / nulls), FN rate (missed true / true), TPR = 1 - FN, FPR = FP."""
    sel, true = _as_set(selected), _as_set(support)
    if not true:
        raise ValueError("support is empty")
    if n_features <= len(true):
        raise ValueError("n_features must exceed the size of the true support")
    _check_indices(sel | true, n_features)
    fp = len(sel - true) / (n_features - len(true))
    fn = len(true - sel) / len(true)
    return {"fp_rate": fp, "fn_rate": fn, "tpr": 1.0 - fn, "fpr": fp, "n_selected": len(sel)}


def kuncheva_index(a, b, n_features: int) -> float:
    """Kuncheva's consistency index of two feature sets of equal size q (Kuncheva 2007).

    ``(r n - q^2) / (q (n - q))`` with ``r = |a & b|``; 1 for identical sets, about 0 for sets
    drawn at random; undefined (raises) for q = 0 or q = n.
    """
    a, b = _as_set(a), _as_set(b)
    q = len(a)
    if len(b) != q:
        raise ValueError(f"Kuncheva's index needs sets of equal size, got {q} and {len(b)}")
    if q == 0 or q >= n_features:
        raise ValueError(f"Kuncheva's index is undefined for q={q} of n={n_features}")
    _check_indices(a | b, n_features)
    r = len(a & b)
    return (r * n_features - q * q) / (q * (n_features - q))


def stability(sets, n_features: int) -> float:
    """Mean pairwise Kuncheva index over a list of equal-size feature sets (e.g. CV folds)."""
    sets = list(sets)
    if len(sets) < 2:
        raise ValueError("stability needs at least two feature sets")
    return float(np.mean([kuncheva_index(a, b, n_features) for a, b in combinations(sets, 2)]))


def pq_score(accuracy: float, fold_sets, n_features: int) -> float:
    """Score ``P_q`` of a top-q feature set: CV accuracy times stability across folds.

    The IRLS-ADMM paper takes P_q from its references [21, 22] (the "6th strategy"), which could
    not be recovered. We use the documented substitute ``P_q = accuracy * (1 + KI_q) / 2``, with
    ``KI_q`` the mean pairwise Kuncheva index of the folds' top-q sets, so ``P_q`` lies in [0, 1],
    equals the accuracy for perfectly stable sets and halves it for chance-level stability.
    """
    if not 0.0 <= accuracy <= 1.0:
        raise ValueError(f"accuracy must be in [0, 1], got {accuracy}")
    return float(accuracy * (1.0 + stability(fold_sets, n_features)) / 2.0)


def psnr(reference, estimate, border: int = 0, peak: float = 255.0) -> float:
    """Peak signal-to-noise ratio ``10 log10(peak^2 / MSE)`` in dB.

    Super-resolution convention used by glassnet (MatNet, Sec. 4.2): compare the luminance
    channel Y (BT.601, 0-255 scale, :func:`glassnet.datasets.images.rgb_to_ycbcr`) of the ground truth and the
    estimate, as floats without rounding, after cropping ``border`` pixels on every side
    (``border = scale`` for an upscaling factor ``scale``). Identical images give ``inf``.
    """
    if np.iscomplexobj(reference) or np.iscomplexobj(estimate):
        raise ValueError("psnr needs real images (complex values found)")
    a = np.asarray(reference, dtype=np.float64)
    b = np.asarray(estimate, dtype=np.float64)
    if a.ndim < 2:
        raise ValueError(f"psnr compares images (2-d or more), got shape {a.shape}")
    if not isinstance(border, (int, np.integer)) or isinstance(border, bool):
        raise ValueError(f"border must be an int number of pixels, got {border!r}")
    if a.shape != b.shape:
        raise ValueError(f"reference {a.shape} and estimate {b.shape} differ in shape")
    if a.size == 0:
        raise ValueError("psnr needs non-empty images")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("psnr needs images of finite values (NaN or inf found)")
    if isinstance(peak, bool) or not isinstance(peak, numbers.Real) or not (np.isfinite(peak) and peak > 0):
        raise ValueError(f"peak must be a positive finite number, got {peak!r}")
    if border < 0 or 2 * border >= min(a.shape[:2]):
        raise ValueError(f"border {border} does not fit image of shape {a.shape}")
    if border:
        a, b = a[border:-border, border:-border], b[border:-border, border:-border]
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else float(10.0 * np.log10(peak * peak / mse))


# ---------------------------------------------------------------- clustering (DSRL)

def _check_labels(labels_true, labels_pred):
    a, b = np.asarray(labels_true), np.asarray(labels_pred)
    for name, v in (("labels_true", a), ("labels_pred", b)):
        if v.ndim != 1:
            raise ValueError(f"{name} must be 1-d, got shape {v.shape}")
        if v.dtype.kind == "O" and any(x is None for x in v):
            raise ValueError(f"{name} contains None")
        if v.dtype.kind == "f" and not np.isfinite(v).all():
            raise ValueError(f"{name} contains NaN or inf")
    if a.shape != b.shape:
        raise ValueError(f"labels_true {a.shape} and labels_pred {b.shape} differ in length")
    if a.size == 0:
        raise ValueError("no labels to score")
    return a, b


def _contingency(labels_true, labels_pred) -> np.ndarray:
    from sklearn.metrics.cluster import contingency_matrix

    return contingency_matrix(*_check_labels(labels_true, labels_pred))  # true x predicted


def clustering_accuracy(labels_true, labels_pred) -> float:
    """ACC with the best one-to-one matching of clusters to classes (Hungarian algorithm);
    clusters left without a class count as errors."""
    from scipy.optimize import linear_sum_assignment

    C = _contingency(labels_true, labels_pred)
    r, c = linear_sum_assignment(-C)
    return float(C[r, c].sum() / C.sum())


def purity(labels_true, labels_pred) -> float:
    """Fraction of samples in their cluster's majority class."""
    C = _contingency(labels_true, labels_pred)
    return float(C.max(axis=0).sum() / C.sum())


def majority_vote_accuracy(labels_true, labels_pred) -> float:
    """ACC after relabelling every cluster by its majority class (what DSRL's released code
    reports as ACC). Several clusters may take one class, so this equals :func:`purity`; it is
    kept under its own name for tables that compare with the released code."""
    a, b = _check_labels(labels_true, labels_pred)
    relabel = np.empty_like(a)
    for k in np.unique(b):
        m = b == k
        vals, counts = np.unique(a[m], return_counts=True)
        relabel[m] = vals[np.argmax(counts)]
    return float(np.mean(relabel == a))


def clustering_scores(labels_true, labels_pred) -> dict[str, float]:
    """Hungarian ACC, NMI (arithmetic mean normalisation, = the released code's v-measure), ARI,
    purity and majority-vote ACC."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    a, b = _check_labels(labels_true, labels_pred)
    return {"acc": clustering_accuracy(a, b), "nmi": float(normalized_mutual_info_score(a, b)),
            "ari": float(adjusted_rand_score(a, b)), "purity": purity(a, b),
            "acc_majority": majority_vote_accuracy(a, b)}


__all__ += ["clustering_accuracy", "clustering_scores", "majority_vote_accuracy", "purity"]
