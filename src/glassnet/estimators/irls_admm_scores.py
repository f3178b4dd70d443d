"""Scoring pieces of the IRLS-ADMM nets' selection (issue 24): the one ridge logistic solver
of the selection and the refit, held-out log-losses of candidate sets, and near-duplicate
groups. The workflow that uses them is in ``irls_admm_base``."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV

__all__ = ["held_out_log_loss", "near_duplicate_groups", "ridge_logistic", "ridge_path_losses"]


def ridge_logistic(X, y, C, sample_weight=None):
    """``LogisticRegression(C=C)`` (lbfgs, multinomial when y has more than two classes): the one
    ridge solver of the selection and the refit (issue 23: the numpy IRLS copy is gone)."""
    return LogisticRegression(C=float(C), max_iter=10_000, tol=1e-8).fit(X, y, sample_weight=sample_weight)


def ridge_path_losses(X, yi, tr, va, Cs, sample_weight=None) -> list[float]:
    """``[held_out_log_loss(ridge_logistic(X[tr], yi[tr], C), X[va], yi[va]) for C in Cs]``, by
    the same solver (scikit-learn's lbfgs ``LogisticRegression``, same ``tol`` and ``max_iter``)
    run along the path of ``Cs`` with warm starts: ``LogisticRegressionCV`` on the one split
    ``(tr, va)``, whose scorer computes the losses (read back from its ``scores_``). Each ``C``
    starts from the previous one's solution instead of 0 and the input is checked once per fold
    instead of once per ``C``: about 40 % less time for the refit's choice of ``C`` on small
    problems; the losses agree to the solver's tolerance (docs/history/irls_admm.md). When the
    training rows lack a class, the per-``C`` fits are used (``LogisticRegressionCV`` would fit
    a coefficient row for the absent class).
    ``sample_weight`` (one per row of ``X``) weights the fits and the held-out losses."""
    sw = (None, None) if sample_weight is None else (sample_weight[tr], sample_weight[va])
    if np.unique(yi[tr]).size < np.unique(yi).size:
        return [held_out_log_loss(ridge_logistic(X[tr], yi[tr], C, sw[0]), X[va], yi[va], sw[1])
                for C in Cs]

    def score(model, X_va, y_va, **_):  # the rows of va, in order (their weights: sw[1])
        return -held_out_log_loss(model, X_va, y_va, sw[1])

    # the losses come back through ``scores_`` (every class's entry holds the same scores), not
    # through a closure: scikit-learn may run the scorer in another process (an active joblib
    # backend such as Dask's), where a side effect on a dict here would be lost
    with warnings.catch_warnings():  # l1_ratios / fitted-attribute defaults changing in 1.10
        warnings.simplefilter("ignore", FutureWarning)
        cv = LogisticRegressionCV(Cs=[float(C) for C in Cs], cv=[(tr, va)], scoring=score, refit=False,
                                  max_iter=10_000, tol=1e-8).fit(X, yi, sample_weight=sample_weight)
    scores = np.asarray(next(iter(cv.scores_.values()))).reshape(-1)
    losses = dict(zip(np.asarray(cv.Cs_, dtype=float).tolist(), (-scores).tolist()))
    return [losses[float(C)] for C in Cs]


def held_out_log_loss(model, X, y_index, sample_weight=None) -> float:
    """Mean ``-log p(y | x)`` of a fitted scikit-learn classifier (weighted by ``sample_weight``
    when given); ``y_index`` are class indices (``model.classes_`` holds those its training rows
    had: a class it never saw gets p = 1e-15, the clip of ``sklearn.metrics.log_loss``)."""
    proba = model.predict_proba(X)
    col = np.searchsorted(model.classes_, y_index)
    seen = (col < len(model.classes_)) & (model.classes_[np.minimum(col, len(model.classes_) - 1)] == y_index)
    p = np.where(seen, proba[np.arange(len(y_index)), np.minimum(col, len(model.classes_) - 1)], 0.0)
    return float(-np.average(np.log(np.clip(p, 1e-15, 1.0)), weights=sample_weight))


def _seen_rows(yi, tr, va) -> np.ndarray:
    """The held-out rows ``va`` whose class has a member among the training rows ``tr`` (all of
    ``va`` when none has). A held-out sample of a class the fold never trained on gets
    p = 1e-15 from every candidate (``held_out_log_loss``): the same ~34.5 for every candidate,
    so it cannot tell candidates apart, but it shifts that fold's losses and inflates the
    standard error the ``"1se"`` rule uses. With classes of 1-2 training samples (many classes,
    few samples per class) this made the rule fall back to a handful of features on tuning
    draws (docs/history/irls_admm.md, issue 24 third pass)."""
    keep = np.isin(yi[va], yi[tr])
    return va[keep] if keep.any() else va


def _candidate_losses(X, yi, tr, va, ranked, sizes, Cs, gs, sample_weight=None):
    """One fold's held-out log-losses of its top-g candidate sets (``ranked[:sizes[g - 1]]``)
    for every ``C`` in ``Cs`` and g in ``gs``, scored on the held-out rows of seen classes
    (``_seen_rows``), and those rows. A fold with fewer groups than ``gs`` repeats its largest
    set: each distinct (C, set) is fitted once. ``sample_weight`` weights fits and losses."""
    va_s, out, scored = _seen_rows(yi, tr, va), [], {}
    w_tr, w_va = (None, None) if sample_weight is None else (sample_weight[tr], sample_weight[va_s])
    for C in Cs:
        for g in gs:
            n_S = int(sizes[min(g, len(sizes)) - 1])
            if (C, n_S) not in scored:
                S = ranked[:n_S]
                m = ridge_logistic(X[np.ix_(tr, S)], yi[tr], C, w_tr)
                scored[C, n_S] = held_out_log_loss(m, X[np.ix_(va_s, S)], yi[va_s], w_va)
            out.append(scored[C, n_S])
    return out, va_s


def near_duplicate_groups(X: np.ndarray, order: np.ndarray, threshold: float,
                          max_features: int | None = None, block: int = 256) -> list[np.ndarray]:
    """Features grouped with their near-duplicates, in ranking order.

    Walking down ``order`` (most important first), each feature not yet grouped opens a group
    with every not-yet-grouped feature whose absolute Pearson correlation with it is at least
    ``threshold``. Constant columns correlate with nothing. ``threshold > 1`` gives singletons.
    With ``max_features``, the walk stops once the groups hold that many features. The
    correlations of the next ``block`` features of ``order`` with every column come from one
    matrix product (the walk itself stays sequential).
    """
    p = X.shape[1]
    order = np.asarray(order)
    if block < 1:
        raise ValueError(f"block must be a positive number of leaders, got {block!r}")
    if threshold > 1.0:
        order = order if max_features is None else order[:max_features]
        return [np.array([j]) for j in order]
    Z = X - X.mean(axis=0)
    norm = np.linalg.norm(Z, axis=0)
    Z = np.divide(Z, norm, out=np.zeros_like(Z), where=norm > 0)
    rank = np.full(p, -1)  # position in ``order`` (-1: not in it; such twins are used up, not listed)
    rank[order] = np.arange(order.size)
    free = np.ones(p, dtype=bool)
    groups, total = [], 0
    for start in range(0, order.size, block):
        if max_features is not None and total >= max_features:
            break
        leaders = order[start:start + block]
        # (leader, column) pairs correlated at >= threshold, grouped by leader
        lead, cols = np.nonzero(np.abs(Z.T @ Z[:, leaders]).T >= threshold)
        bounds = np.searchsorted(lead, np.arange(len(leaders) + 1))
        for c, j in enumerate(leaders):
            if max_features is not None and total >= max_features:
                break
            if not free[j]:
                continue
            members = cols[bounds[c]:bounds[c + 1]]
            members = members[free[members]]
            free[members] = False
            free[j] = False
            # the leader first, then its twins by rank
            rest = members[(rank[members] >= 0) & (members != j)]
            groups.append(np.array([j, *rest[np.argsort(rank[rest], kind="stable")]], dtype=int))
            total += len(groups[-1])
    return groups
