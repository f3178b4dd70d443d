"""Family-agnostic model selection (DESIGN.md rule 18): folds, a fold runner, the
one-standard-error rule and the record of one point of a regularisation path.

Every family that chooses a regularisation level or a number of features by held-out loss
(SPINN's lambda path, IRLS-ADMM's q) uses these, so the rule and its edge cases live once.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs

from glassnet.utils import seed_lock_released

__all__ = ["PAIRED_Z", "SELECTION_RULES", "PathRecord", "choose", "cv_path", "loss_table", "make_folds",
           "plot_cv_curve", "run_chunks", "run_folds"]


@dataclass
class PathRecord:
    """One point of a regularisation path (as LassoNet's ``HistoryItem``)."""

    lam: float
    selected: np.ndarray  # bool mask over features
    n_selected: int
    train_loss: float  # data loss (no penalty) on the training data
    val_loss: float | None  # data loss on validation data, when given
    group_norms: np.ndarray  # size of each feature's weights
    n_epochs: int
    state: dict = field(repr=False, default_factory=dict)  # the module's state at this point


SELECTION_RULES = ("min", "1se", "paired")  # the rules of :func:`choose`
PAIRED_Z = 2.0  # "paired" rule: a candidate is as good as the best unless z > 2 (a 5 % two-sided test)


def choose(losses, selection: str = "1se", n_se: float = 1.0) -> tuple[int, np.ndarray, np.ndarray]:
    """Index of the chosen candidate from held-out ``losses`` of shape (n_rows, n_candidates),
    one row per fold or per held-out sample, candidates ordered from the simplest (most
    regularised) to the most complex.

    - ``"min"``: the lowest mean loss.
    - ``"1se"``: the simplest candidate whose mean loss is within one standard error of the
      minimum (Breiman et al. 1984; the error of the best candidate's mean); ``n_se`` other
      than 1 widens or narrows that margin to ``n_se`` standard errors (0: the simplest of the
      candidates tied at the minimum).
    - ``"paired"``: the simplest candidate that is not significantly worse than the best by a
      paired test: the mean of its row-wise loss differences from the best is at most
      ``PAIRED_Z`` standard errors of those differences. Rows must be the same units (folds or
      samples) for every candidate. Candidates scored on the same rows are strongly correlated,
      so the paired error is much smaller than the unpaired one: the rule keeps a feature that
      lowers the loss on most rows by a little, which the ``"1se"`` rule drops.

    NaN columns (a candidate that failed on some row) are never chosen. Returns
    ``(index, mean, standard_error)`` (the unpaired errors of the means).
    """
    losses = np.asarray(losses, dtype=float)
    if losses.ndim == 1:
        losses = losses[None, :]
    mean = losses.mean(axis=0) if losses.size else np.array([])
    if not np.isfinite(mean).any():  # every candidate failed (NaN) or diverged (inf) on some row
        raise ValueError("no candidate has a finite held-out loss")
    if not np.isfinite(n_se) or n_se < 0:
        raise ValueError(f"n_se must be a finite number >= 0, got {n_se!r}")
    if selection not in ("min", "1se", "paired"):
        raise ValueError(f"selection must be '1se', 'paired' or 'min', got {selection!r}")
    k = losses.shape[0]
    best = int(np.nanargmin(mean))
    with np.errstate(invalid="ignore"):  # inf columns: NaN errors, never chosen
        se = losses.std(axis=0, ddof=1) / np.sqrt(k) if k > 1 else np.zeros_like(mean)
        if selection == "min":
            return best, mean, se
        if selection == "1se":
            ok = np.flatnonzero(mean <= mean[best] + n_se * se[best])
        else:
            diff = losses - losses[:, [best]]
            diff_se = diff.std(axis=0, ddof=1) / np.sqrt(k) if k > 1 else np.zeros_like(mean)
            ok = np.flatnonzero(diff.mean(axis=0) <= PAIRED_Z * diff_se)  # the best itself: 0 <= 0
    return int(ok.min()), mean, se


def make_folds(n_samples: int, cv: int, y=None, classification: bool = False, random_state=None):
    """``cv`` shuffled (stratified when ``classification``) train/validation index pairs.

    One policy for every family's folds when a class (or stratum) has fewer members than
    ``cv``, with a ``UserWarning`` saying what was done (nothing is cut silently):

    - more than two classes, at least one smaller than ``cv``, and ``cv <= n_samples // 2``:
      ``cv`` stratified folds (no more than the largest class has members) over which the
      small classes are spread as far as they go (scikit-learn's ``StratifiedKFold``), so that
      one rare class does not cut every other class's folds (lymphoma has classes of 2);
    - otherwise the folds are lowered to the smallest class's size (at least 2).

    A class of one member is spread with the other small classes in the first case (validated
    in one fold, never trained on there; the warning names it), as scikit-learn's
    ``StratifiedKFold`` does; in the second it cannot be split. Raises a ``ValueError`` that
    names the problem when the data cannot be split: ``cv`` not an int >= 2, fewer samples than
    folds, or (classification, second case) a class with a single member.
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    if not isinstance(cv, (int, np.integer)) or isinstance(cv, bool) or cv < 2:
        raise ValueError(f"cv must be an int >= 2, got {cv!r}")
    if n_samples < cv:
        raise ValueError(f"cannot make {cv} folds from {n_samples} samples; lower cv")
    if not classification:
        return list(KFold(cv, shuffle=True, random_state=random_state).split(np.zeros((n_samples, 1))))
    classes, counts = np.unique(np.asarray(y), return_counts=True)
    n_min, n_splits = int(counts.min()), int(cv)
    if n_min < cv:
        small = {c.item() if hasattr(c, "item") else c: int(m) for c, m in zip(classes, counts) if m < cv}
        if len(counts) > 2 and cv <= n_samples // 2 and counts.max() >= 2:
            n_splits = max(2, min(int(cv), int(counts.max())))
            done = f"{n_splits} stratified folds, the smaller classes spread over them as far as they go"
            ones = [c for c, m in small.items() if m == 1]
            if ones:
                done += (f"; class(es) {ones} of one member are validated in one fold and never "
                         "trained on there")
        elif n_min < 2:
            ones = [c for c, m in small.items() if m == 1]
            raise ValueError(f"cannot make stratified folds: the smallest class has 1 member (class(es) "
                             f"{ones}); cross-validation needs at least 2 of each class")
        else:
            n_splits = n_min
            done = f"{n_splits} stratified folds (the smallest class's size)"
        warnings.warn(f"cv={cv} is more folds than class(es) {small} have members: using {done}",
                      UserWarning, stacklevel=2)
    splitter = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scikit-learn's "the least populated class ..."
        return list(splitter.split(np.zeros((n_samples, 1)), y))


def run_folds(fn: Callable, folds: Sequence, n_jobs: int | None = None) -> list:
    """``[fn(k, train_idx, val_idx) for each fold]``, fanned out through joblib (rule 8).

    An error inside a fold is re-raised as ``ValueError`` naming the fold, so that a message
    such as "y has a single class" is not mistaken for a property of the whole data.
    """

    def one(k, tr, va):
        try:
            return fn(k, tr, va)
        except ValueError as err:
            raise ValueError(
                f"in cross-validation fold {k + 1}/{len(folds)} ({len(tr)} training rows): {err}"
            ) from err

    if n_jobs in (None, 1):
        return [one(k, tr, va) for k, (tr, va) in enumerate(folds)]
    with seed_lock_released():  # thread workers train under their own seeds (utils)
        return Parallel(n_jobs=n_jobs)(delayed(one)(k, tr, va) for k, (tr, va) in enumerate(folds))


def run_chunks(fit_chunk: Callable, folds: Sequence, n_jobs: int | None = None) -> list:
    """``fit_chunk(chunk)`` over chunks of the folds (each chunk a list of ``(k, train_idx,
    val_idx)``), returning one result per fold in fold order. With ``n_jobs`` None or 1 the one
    chunk is every fold (a family may fit them together: SPINN trains them as one stack of
    networks); otherwise the folds are split into as many chunks as joblib has workers and fan
    out through joblib (``joblib.parallel_backend("dask")`` or Ray's send them to a cluster).
    """
    n_chunks = 1 if n_jobs in (None, 1) else min(len(folds), max(effective_n_jobs(n_jobs), 1))
    chunks = [[(int(k), *folds[k]) for k in idx] for idx in np.array_split(np.arange(len(folds)), n_chunks)]

    def one(chunk):
        try:
            out = list(fit_chunk(chunk))
        except ValueError as err:
            names = ", ".join(str(k + 1) for k, *_ in chunk)
            raise ValueError(f"in cross-validation fold(s) {names} of {len(folds)}: {err}") from err
        if len(out) != len(chunk):
            raise ValueError(f"fit_chunk returned {len(out)} results for {len(chunk)} folds")
        return out

    if n_chunks == 1:
        parts = [one(c) for c in chunks]
    else:
        with seed_lock_released():
            parts = Parallel(n_jobs=n_jobs)(delayed(one)(c) for c in chunks)
    return [r for part in parts for r in part]


def loss_table(rows) -> np.ndarray:
    """Stack per-fold loss rows into the (n_folds, n_candidates) table :func:`choose` reads."""
    rows = [np.asarray(r, dtype=float).reshape(-1) for r in rows]
    if len({len(r) for r in rows}) != 1:
        raise ValueError(f"every fold must score the same candidates; got {[len(r) for r in rows]}")
    return np.stack(rows)


def cv_path(fit_fold: Callable, folds: Sequence, n_jobs: int | None = None,
            batched: bool = False) -> np.ndarray:
    """The (n_folds, n_candidates) held-out losses of a candidate grid (a lambda path, a list
    of feature sets, ...): ``fit_fold(k, train_idx, val_idx)`` fits fold ``k``'s training rows
    and returns one held-out loss per candidate, in the same candidate order for every fold.
    The folds fan out through joblib (:func:`run_folds`), so ``joblib.parallel_backend("dask")``
    or Ray's backend sends them to a cluster. Pair it with :func:`choose`.

    ``batched=True``: ``fit_fold(chunk)`` takes a list of ``(k, train_idx, val_idx)`` and
    returns one row per fold of the chunk (:func:`run_chunks`).
    """
    if batched:
        return loss_table(run_chunks(fit_fold, folds, n_jobs))
    return loss_table(run_folds(fit_fold, folds, n_jobs))


def plot_cv_curve(x, mean, se, chosen, ax=None, *, xlabel="candidate", log_x=False, best=None,
                  extra=None, title=None):
    """Draw a cross-validation curve: the mean held-out loss of each candidate with one
    standard error either side (as glmnet's ``plot(cv.glmnet)``), a dashed line at the chosen
    candidate ``x[chosen]`` and, when given, a dotted one at the lowest mean ``x[best]``.
    ``extra``: more ``(x, mean, se, label)`` series on the same axes (e.g. relaxed refits of
    some candidates). Returns the axes (a new figure when ``ax`` is None)."""
    x, mean, se = (np.asarray(v, dtype=float).reshape(-1) for v in (x, mean, se))
    if not len(x) == len(mean) == len(se) or len(x) == 0:
        raise ValueError(f"x, mean and se must be non-empty and of one length, got {len(x)}, {len(mean)}, {len(se)}")
    if not 0 <= int(chosen) < len(x):
        raise ValueError(f"chosen must index one of the {len(x)} candidates, got {chosen}")
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.subplots(figsize=(6, 3.5))[1]
    ax.errorbar(x, mean, yerr=se, fmt="o-", ms=3, lw=1, capsize=2, c="C0", label="CV loss +- 1 SE")
    for ex, em, es, label in extra or ():
        ax.errorbar(np.asarray(ex, float), np.asarray(em, float), yerr=np.asarray(es, float), fmt="s",
                    ms=4, capsize=2, c="C1", label=label)
    ax.axvline(x[int(chosen)], ls="--", c="k", lw=1, label=f"chosen: {x[int(chosen)]:.3g}")
    if best is not None and int(best) != int(chosen):
        ax.axvline(x[int(best)], ls=":", c="0.4", lw=1, label=f"lowest mean: {x[int(best)]:.3g}")
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("held-out loss")
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return ax
