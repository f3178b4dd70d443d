"""Metrics shared by the families: selection error rates, feature-set stability, scores."""

from __future__ import annotations

from itertools import combinations

import numpy as np

__all__ = ["kuncheva_index", "pq_score", "psnr", "selection_rates", "stability"]


def _as_set(s) -> set[int]:
    return {int(i) for i in np.asarray(list(s), dtype=int).ravel()}


def selection_rates(selected, support, n_features: int) -> dict[str, float]:
    """FP rate (selected nulls / nulls), FN rate (missed true / true), TPR = 1 - FN, FPR = FP."""
    sel, true = _as_set(selected), _as_set(support)
    if not true:
        raise ValueError("support is empty")
    if n_features <= len(true):
        raise ValueError("n_features must exceed the size of the true support")
    if any(i < 0 or i >= n_features for i in sel | true):
        raise ValueError("feature indices must lie in [0, n_features)")
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
    a = np.asarray(reference, dtype=np.float64)
    b = np.asarray(estimate, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"reference {a.shape} and estimate {b.shape} differ in shape")
    if border < 0 or 2 * border >= min(a.shape[:2]):
        raise ValueError(f"border {border} does not fit image of shape {a.shape}")
    if border:
        a, b = a[border:-border, border:-border], b[border:-border, border:-border]
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else float(10.0 * np.log10(peak * peak / mse))
