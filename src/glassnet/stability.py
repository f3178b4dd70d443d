"""Stability selection over any selector: complementary-pair subsampling with error bounds.

``StabilitySelection(estimator)`` fits clones of ``estimator`` on ``B`` pairs of disjoint
half-samples (Shah & Samworth 2013, "complementary pairs stability selection", CPSS) and keeps
the features selected in at least a fraction ``threshold`` of the ``2B`` fits (Meinshausen &
Buhlmann 2010). It works with every glassnet selector (``SPINNRegressor``,
``SPINNClassifier``, the CV estimators, ``IRLSADMMNetClassifier``, ``ADMMLogisticRegression``)
and any scikit-learn ``SelectorMixin`` or estimator with a sparse ``coef_``.

Error bounds (``q``: the mean number of features one half-sample fit selects, ``p``: the number
of features, ``tau``: the threshold, ``B``: the number of pairs; :func:`error_bound`):

- ``"mb"``: Meinshausen & Buhlmann (2010, Theorem 1): ``E[V] <= q^2 / ((2 tau - 1) p)`` where
  ``V`` counts selected *noise* features; assumes the noise features are exchangeable and the
  base selector is not worse than random guessing.
- ``"ss"`` (default): Shah & Samworth (2013, Theorem 1 with ``theta = q/p``), the worst case for
  complementary pairs with no assumption on the selector: the same number,
  ``E|S_cpss & L| <= q^2 / ((2 tau - 1) p)``, for ``L`` the features whose selection probability
  on a half-sample is at most ``q/p`` (a false positive is a rarely selected feature).
- ``"ss_unimodal"``: Shah & Samworth (2013, eq. 8): tighter (about 2-3x at ``tau`` 0.75-0.9),
  assuming the distribution of the simultaneous-selection proportions of each low-probability
  feature is unimodal.

The path recipe (``lambda_min_ratio``; on by default around ``SPINNRegressor`` /
``SPINNClassifier`` at their default ``lam``): each half-sample fits one regularisation path,
and a feature's probability is its maximum over the top of the path down to where the bound at
the threshold passes ``max_false_positives`` (Meinshausen & Buhlmann's region;
:func:`path_region`).

The fits are independent and fan out through joblib (``n_jobs``), so
``joblib.parallel_backend("dask")`` or Ray's backend runs them on a cluster (docs/stability.md).
"""

from __future__ import annotations

import inspect
import numbers
import warnings
from typing import ClassVar

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, _fit_context, clone, is_classifier
from sklearn.feature_selection import SelectorMixin
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from glassnet.estimators.base import N_JOBS

__all__ = [
    "BOUNDS",
    "DEFAULT_PATH_PFER",
    "DEFAULT_PATH_RATIO",
    "DEFAULT_PATH_THRESHOLD",
    "DEFAULT_THRESHOLD",
    "StabilitySelection",
    "complementary_pairs",
    "error_bound",
    "path_region",
    "threshold_for_bound",
]

# Selection-probability threshold when neither ``threshold`` nor ``max_false_positives`` is
# given. Meinshausen & Buhlmann advise 0.6-0.9. Chosen around SPINNRegressor() /
# SPINNClassifier() on the selection suite at n = 300, tuning seeds 0-2, 10 pairs, grid
# 0.55-1: 0.55 and 0.6 tied best (7/10 problems with FPR <= 0.01 and TPR >= 0.85, mean TPR 0.91,
# FPR 0.0024), the larger kept for its tighter bound; 0.7 met 6/10, 0.9 6/10 (TPR 0.79)
# (docs/history/stability.md; rows in benchmarks/stability_tuning.csv at commit eadbc40).
DEFAULT_THRESHOLD = 0.6
# The path recipe (``lambda_min_ratio="auto"`` around a glassnet selector with a ``path`` method
# and ``lam=None``; Meinshausen & Buhlmann's own): each half-sample's regularisation path from
# lambda_max down to DEFAULT_PATH_RATIO * lambda_max (N_PATH_LAMBDAS points, SPINN's own default
# grid, so a path costs what one default fit does); the region is the top of the path down to the
# last point whose error bound at the threshold is at most the PFER (``max_false_positives``,
# default DEFAULT_PATH_PFER), a feature's probability its maximum over the region, kept at
# DEFAULT_PATH_THRESHOLD. Chosen around SPINNRegressor() / SPINNClassifier() on the selection
# suite at n = 300, tuning seeds 0-4, 10 pairs, over regions cut at a fixed lambda or by the bound
# (PFER 0.5-4) and thresholds 0.55-1: (0.55, PFER 4) met 8 of 10 problems (FPR <= 0.01, TPR >=
# 0.85; mean TPR 0.920, FPR 0), tied on problems with (0.6, PFER 2; TPR 0.913); the best fixed
# region met 7 (benchmarks/bench_stability.py, docs/history/stability.md).
DEFAULT_PATH_RATIO = 0.01
DEFAULT_PATH_THRESHOLD = 0.55
DEFAULT_PATH_PFER = 4.0
# With few features the bound stops the region early (at p = 8 and PFER 4: q <= 1.8 features a
# fit), before inputs that the plain fit finds can enter; the region always runs down to a mean
# of min(MIN_REGION_Q, p / 4) features a fit (a safeguard, not tuned: at the suite's p >= 100 it
# never binds).
MIN_REGION_Q = 6.0
N_PATH_LAMBDAS = 10
BOUNDS = ("ss", "mb", "ss_unimodal")


def _check_tau(threshold):
    if not 0.5 < threshold <= 1:
        raise ValueError(f"threshold must be in (0.5, 1], got {threshold!r}")


def error_bound(q, p, threshold, kind="ss", n_pairs=50):
    """Upper bound on the expected number of false positives of stability selection at
    ``threshold`` (module docstring): ``q`` mean half-sample selection size, ``p`` features,
    ``n_pairs`` complementary pairs (used by ``"ss_unimodal"`` only). ``inf`` where the
    unimodal bound does not apply."""
    _check_tau(threshold)
    if p <= 0 or q < 0 or q > p:
        raise ValueError(f"need 0 <= q <= p and p > 0, got q={q!r}, p={p!r}")
    if kind in ("mb", "ss"):
        return q**2 / ((2 * threshold - 1) * p)
    if kind != "ss_unimodal":
        raise ValueError(f"kind must be one of {BOUNDS}, got {kind!r}")
    theta, B = q / p, n_pairs
    # the domain of eq. 8, taken on its conservative side: tau above both of its lower limits
    if threshold <= max(0.5 + theta**2, 0.5 + 1 / (2 * B) + 0.75 * theta**2):
        return float("inf")
    if threshold <= 0.75:
        c = 1 / (2 * (2 * threshold - 1 - 1 / (2 * B)))
    else:
        c = 4 * (1 - threshold + 1 / (2 * B)) / (1 + 1 / B)
    return c * q**2 / p


def threshold_for_bound(max_false_positives, q, p, kind="ss", n_pairs=50):
    """The smallest threshold in (0.5, 1] whose :func:`error_bound` is at most
    ``max_false_positives``, or ``None`` when even 1 does not reach it."""
    if not max_false_positives > 0:
        raise ValueError(f"max_false_positives must be > 0, got {max_false_positives!r}")
    if kind in ("mb", "ss"):  # q^2 / ((2 tau - 1) p) <= E  <=>  tau >= 1/2 + q^2 / (2 p E)
        tau = max(0.5 + q**2 / (2 * p * max_false_positives), float(np.nextafter(0.5, 1)))
        while tau <= 1 and error_bound(q, p, tau, kind) > max_false_positives:  # rounding
            tau = float(np.nextafter(tau, 2))
        return tau if tau <= 1 else None
    grid = np.linspace(0.5, 1.0, 10_001)[1:]
    ok = [t for t in grid if error_bound(q, p, t, kind, n_pairs) <= max_false_positives]
    return float(ok[0]) if ok else None


def complementary_pairs(y, n_pairs, sample_fraction=0.5, stratify=False, random_state=None):
    """``n_pairs`` pairs ``(A, B)`` of disjoint index arrays over ``len(y)`` samples.

    With ``sample_fraction=0.5`` the two halves of a pair cover the sample (sizes ``floor(n/2)``
    and ``ceil(n/2)``); below 0.5 each half has ``floor(fraction * n)`` samples. With
    ``stratify`` every half holds about the same fraction of each class, and at least one member
    of each (a class needs 2 members)."""
    rng = np.random.default_rng(random_state)
    y = np.asarray(y)
    n = len(y)
    if n < 2:
        raise ValueError(f"complementary pairs need at least 2 samples, got {n}")
    if stratify:
        classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
        if counts.min() < 2:
            small = [c.item() if hasattr(c, "item") else c for c, m in zip(classes, counts) if m < 2]
            raise ValueError(f"stratified half-samples need 2 members of each class; class(es) "
                             f"{small} have 1 (drop them or use stratify=False)")
        groups = [np.flatnonzero(inverse == k) for k in range(len(classes))]
    else:
        groups = [np.arange(n)]
    pairs = []
    for _ in range(n_pairs):
        a_parts, b_parts, odd = [], [], 0
        for g in groups:
            perm = rng.permutation(g)
            if sample_fraction == 0.5:
                m = len(g) // 2 + (len(g) % 2) * ((odd + 1) % 2)  # odd groups alternate halves
                odd += len(g) % 2
                a_parts.append(perm[:m])
                b_parts.append(perm[m:])
            else:
                m = max(int(np.floor(sample_fraction * len(g))), 1 if stratify else 0)
                a_parts.append(perm[:m])
                b_parts.append(perm[m:2 * m])
        a, b = np.sort(np.concatenate(a_parts)), np.sort(np.concatenate(b_parts))
        if rng.random() < 0.5:  # neither half is systematically the larger
            a, b = b, a
        if len(a) == 0 or len(b) == 0:
            raise ValueError(f"sample_fraction={sample_fraction} of {n} samples is empty")
        pairs.append((a, b))
    return pairs


def support_mask(estimator, n_features):
    """The boolean feature mask of a fitted selector: ``get_support()``, else
    ``selected_features_``, else the non-zero columns of ``coef_``; a ``Pipeline``'s is its last
    step's when the steps before keep the columns (a scaler), as their feature names show."""
    if hasattr(estimator, "steps") and not hasattr(estimator, "get_support") and len(estimator.steps) > 1:
        names = getattr(estimator.steps[0][1], "feature_names_in_", [f"x{j}" for j in range(n_features)])
        try:  # without names seen in fit, the steps name the inputs x0, x1, ... themselves
            kept = np.array_equal(np.asarray(estimator[:-1].get_feature_names_out(), dtype=object),
                                  np.asarray(names, dtype=object))
        except (AttributeError, ValueError, TypeError):
            kept = False
        if not kept:
            raise ValueError("a Pipeline's selected features can be read back only when the steps "
                             "before the last keep the input columns (scalers do, PCA does not)")
        return support_mask(estimator.steps[-1][1], n_features)
    if hasattr(estimator, "get_support"):
        mask = np.asarray(estimator.get_support())
        if mask.dtype != bool:
            mask = np.isin(np.arange(n_features), mask)
    elif hasattr(estimator, "selected_features_"):
        mask = np.isin(np.arange(n_features), np.asarray(estimator.selected_features_, int))
    elif hasattr(estimator, "coef_"):
        coef = estimator.coef_
        coef = np.asarray(coef.toarray() if hasattr(coef, "toarray") else coef, dtype=float)
        mask = np.abs(coef.reshape(-1, coef.shape[-1])).sum(axis=0) > 0
    else:
        raise ValueError(
            f"{type(estimator).__name__} exposes no selected features after fit: StabilitySelection "
            "needs get_support() (a SelectorMixin), selected_features_ or a sparse coef_")
    if mask.shape != (n_features,):
        raise ValueError(f"{type(estimator).__name__}'s support has shape {mask.shape}, "
                         f"expected ({n_features},)")
    return mask


def path_supports(records, lam_max, ratios, n_features):
    """Supports (len(ratios), p) read off a fitted regularisation path: at each
    ``ratio * lam_max`` the record whose lambda is nearest on a log scale (the path's own grid
    points when ``ratios`` is that grid); nothing selected when ``lam_max`` is 0."""
    out = np.zeros((len(ratios), n_features), dtype=bool)
    lams = np.array([float(r.lam) for r in records])
    if not lam_max > 0 or not np.any(lams > 0):
        return out
    pos = np.flatnonzero(lams > 0)
    for k, r in enumerate(ratios):
        near = pos[np.argmin(np.abs(np.log(lams[pos]) - np.log(r * lam_max)))]
        out[k] = np.asarray(records[near].selected, bool)
    return out


def path_region(supports, p, threshold, max_false_positives, kind="ss", n_pairs=50,
                min_q=None):
    """Index of the last path point of Meinshausen & Buhlmann's region: ``supports`` (fits,
    points, p) down the path; the region runs from the top down to the last point whose mean
    union size ``q`` keeps :func:`error_bound` at ``threshold`` at most ``max_false_positives``
    or is at most ``min_q`` (default ``min(MIN_REGION_Q, p / 4)``; at least the top point)."""
    min_q = min(MIN_REGION_Q, p / 4) if min_q is None else min_q
    q = np.cumsum(supports, axis=1).astype(bool).sum(axis=2).mean(axis=0)
    ok = [k for k in range(len(q)) if q[k] <= min_q
          or error_bound(min(q[k], p), p, threshold, kind, n_pairs) <= max_false_positives]
    return max(ok) if ok else 0


def _seed_keys(estimator) -> list[str]:
    """Every ``random_state`` parameter of ``estimator``, nested ones included (a Pipeline's
    steps, a ``SelectFromModel``'s estimator), as ``set_params`` names them."""
    return [k for k in estimator.get_params(deep=True) if k.split("__")[-1] == "random_state"]


def _weight_key(estimator) -> str:
    """The ``fit`` keyword that weights ``estimator``'s rows: ``sample_weight``, or for a
    ``Pipeline`` its last step's (``name__sample_weight``); a ``ValueError`` when it takes none."""
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import has_fit_parameter

    name, last = (estimator.steps[-1] if isinstance(estimator, Pipeline) else (None, estimator))
    if not has_fit_parameter(last, "sample_weight"):
        raise ValueError(f"sample_weight given, but {type(last).__name__}.fit takes no "
                         "sample_weight: fit StabilitySelection without weights or use a "
                         "selector that takes them")
    return "sample_weight" if name is None else f"{name}__sample_weight"


def _fit_one(estimator, X, y, idx, grid, seed, sample_weight, ratios=None, seed_keys=()):
    """Supports (n_grid, p) of ``estimator`` fitted on rows ``idx`` at each grid setting, or
    (with ``ratios``) along one regularisation path at ``ratios * lambda_max``; ``seed`` goes to
    every parameter named in ``seed_keys`` (:func:`_seed_keys`)."""
    Xs, ys = _safe_indexing(X, idx), _safe_indexing(y, idx)
    kw = {} if sample_weight is None else {_weight_key(estimator): np.asarray(sample_weight)[idx]}
    seeds = dict.fromkeys(seed_keys, seed)
    if ratios is not None:
        est = clone(estimator).set_params(**seeds)
        records = est.path(Xs, ys, n_lambdas=len(ratios), lambda_min_ratio=float(ratios[-1]), **kw)
        return path_supports(records, est.lambda_max_, ratios, X.shape[1])
    rows = []
    for params in grid:
        est = clone(estimator)
        est.set_params(**{**params, **seeds}).fit(Xs, ys, **kw)
        rows.append(support_mask(est, X.shape[1]))
    return np.stack(rows)


class StabilitySelection(SelectorMixin, BaseEstimator):
    """Complementary-pairs stability selection around any selector: the features selected on
    most of ``2B`` half-samples, with a bound on the expected false positives (see glassnet.stability).

    Parameters
    ----------
    estimator : (required) a selector to clone per half-sample (``get_support()``, ``selected_features_``
        or a sparse ``coef_`` after ``fit``). A ``random_state`` parameter, if it has one, gets a
        seed derived from ``random_state`` per half-sample.
    n_subsamples : ``B``, the number of complementary pairs (``2B`` fits; default 50, Shah &
        Samworth's choice: selection probabilities in steps of 1/100).
    threshold : keep features selected in at least this fraction of the fits, in (0.5, 1]
        (None: :data:`DEFAULT_THRESHOLD`, :data:`DEFAULT_PATH_THRESHOLD` with the path recipe,
        or the one ``max_false_positives`` picks).
    max_false_positives : pick the smallest threshold whose ``bound`` is at most this (with a
        warning and threshold 1 when none is); exclusive with ``threshold``. With the path
        recipe it bounds the region instead (default :data:`DEFAULT_PATH_PFER`): the region
        runs down the path while ``bound`` at the threshold stays at most this.
    bound : ``"ss"`` (default), ``"mb"`` or ``"ss_unimodal"`` (:func:`error_bound`).
    sample_fraction : size of each half relative to n (0.5: the pair covers the sample). The
        bounds are derived for halves; below 0.5 they are reported as NaN.
    param_name, lambda_grid : optional stability path: fit every half-sample at each value of
        ``estimator``'s parameter ``param_name``; a feature's probability is its maximum over the
        grid (Meinshausen & Buhlmann), ``q`` the mean size of the union over the grid.
    lambda_min_ratio : the path recipe, for selectors with a regularisation path (glassnet's
        ``SPINNRegressor`` / ``SPINNClassifier``: a ``path(X, y, n_lambdas=, lambda_min_ratio=)``
        method returning records with ``lam`` and ``selected``, and ``lambda_max_``): each
        half-sample fits one warm-started path from its own lambda_max down to
        ``lambda_min_ratio * lambda_max``; the stability path is over ``lambda / lambda_max``
        and a feature's probability its maximum over the region: the path's top down to the
        last point where ``bound`` (with ``q`` the mean union over the region) is at most
        ``max_false_positives`` (:func:`path_region`). ``"auto"`` (default):
        :data:`DEFAULT_PATH_RATIO` for such a selector left at ``lam=None`` (its default) with
        no ``param_name``, else off; None: off (one fit per half-sample at the estimator's
        own settings).
    n_lambdas : points on each half-sample's path (the path recipe only).
    stratify : ``"auto"`` (stratify classifiers, including a wrapped ``estimator.estimator``),
        True or False. Stratified halves keep every class.
    n_jobs : joblib workers for the ``2B`` fits (None: 1, or the active joblib backend's).
    random_state : int, None, ``numpy.random.RandomState`` or ``Generator``: the pairs and the
        per-fit seeds.

    Attributes
    ----------
    selection_probabilities_ : (p,) fraction of fits selecting each feature (max over the grid,
        or over the path recipe's region).
    stability_path_ : (n_grid, p) the probabilities at each grid value (n_grid = 1 without one).
    subsample_supports_ : (2B, n_grid, p) bool, fit ``2b`` and ``2b + 1`` are pair ``b``.
    pairs_ : the ``B`` index pairs. threshold_ : the threshold used. q_ : mean selection size.
    lambda_min_ratio_, region_ratio_ : the path recipe's lowest point and its region's lower
        end (fractions of lambda_max; None without the recipe).
    error_bounds_ : every bound at ``threshold_``; expected_false_positives_bound_ : ``bound``'s.
    support_, selected_features_ : the stable features.
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["fit"]), None],
        # 2 n_subsamples fits: beyond 1e4 pairs (2e4 fits) a run cannot end (issue 25)
        "n_subsamples": [Interval(numbers.Integral, 1, 10_000, closed="both")],
        "threshold": [Interval(numbers.Real, 0.5, 1, closed="right"), None],
        "max_false_positives": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "bound": [StrOptions(set(BOUNDS))],
        "sample_fraction": [Interval(numbers.Real, 0, 0.5, closed="right")],
        "param_name": [str, None],
        "lambda_min_ratio": [Interval(numbers.Real, 0, 1, closed="neither"),
                             StrOptions({"auto"}), None],
        "n_lambdas": [Interval(numbers.Integral, 2, 1000, closed="both")],
        "lambda_grid": ["array-like", None],
        "stratify": ["boolean", StrOptions({"auto"})],
        "n_jobs": N_JOBS,
        "random_state": ["random_state", np.random.Generator],
    }

    # what glassnet.save writes and glassnet.load restores (nothing else loads; the types are
    # checked: glassnet.persistence_checks.value_has_type). The wrapped ``estimator`` is a
    # constructor argument: a glassnet estimator, a Pipeline or a trusted scikit-learn type.
    _fitted_attributes: ClassVar[dict] = {
        "n_features_in_": "int", "feature_names_in_": "array", "pairs_": "list[tuple[array]]",
        "subsample_supports_": "array", "lambda_grid_": "array|none",
        "lambda_min_ratio_": "float|none",
        "region_ratio_": "float|none", "stability_path_": "array",
        "selection_probabilities_": "array", "q_": "float", "threshold_": "float",
        "error_bounds_": "dict[float]", "expected_false_positives_bound_": "float",
        "support_": "array", "selected_features_": "array",
    }

    def __init__(self, estimator=None, n_subsamples=50, threshold=None, max_false_positives=None,
                 bound="ss", sample_fraction=0.5, param_name=None, lambda_grid=None,
                 lambda_min_ratio="auto", n_lambdas=N_PATH_LAMBDAS, stratify="auto",
                 n_jobs=None, random_state=None):
        self.estimator = estimator
        self.n_subsamples = n_subsamples
        self.threshold = threshold
        self.max_false_positives = max_false_positives
        self.bound = bound
        self.sample_fraction = sample_fraction
        self.param_name = param_name
        self.lambda_grid = lambda_grid
        self.lambda_min_ratio = lambda_min_ratio
        self.n_lambdas = n_lambdas
        self.stratify = stratify
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _grid(self):
        if (self.param_name is None) != (self.lambda_grid is None):
            raise ValueError("give param_name and lambda_grid together (the parameter to vary and "
                             "its values), or neither")
        if self.param_name is None:
            return None, [{}]
        names = self.estimator.get_params(deep=True)
        if self.param_name not in names:
            raise ValueError(f"{type(self.estimator).__name__} has no parameter "
                             f"{self.param_name!r} (param_name); it has {sorted(names)}")
        grid = np.asarray(self.lambda_grid)
        if grid.ndim != 1 or grid.size == 0:
            raise ValueError("lambda_grid must be a non-empty 1-d sequence")
        return grid, [{self.param_name: v.item() if hasattr(v, "item") else v} for v in grid]

    def _path_ratio(self):
        """How far down each half-sample's path runs (a fraction of lambda_max), or None: no
        path recipe."""
        est, ratio = self.estimator, self.lambda_min_ratio
        has_path = callable(getattr(est, "path", None)) and hasattr(est, "get_params") and \
            "lambda_min_ratio" in inspect.signature(est.path).parameters
        if ratio == "auto":
            if not has_path or self.param_name is not None:
                return None
            return DEFAULT_PATH_RATIO if est.get_params(deep=False).get("lam", 0) is None else None
        if ratio is None:
            return None
        if self.param_name is not None:
            raise ValueError("give lambda_min_ratio (one path per half-sample) or param_name and "
                             "lambda_grid (one fit per value), not both")
        if not has_path:
            raise ValueError(f"lambda_min_ratio needs a selector with a regularisation path: "
                             f"{type(est).__name__} has no path(X, y, n_lambdas=, "
                             "lambda_min_ratio=) method (use param_name and lambda_grid)")
        return float(ratio)

    def _rng(self):
        rs = self.random_state
        if isinstance(rs, np.random.RandomState):  # draws from it, as scikit-learn does
            return np.random.default_rng(rs.randint(0, 2**31 - 1))
        return np.random.default_rng(rs)

    def _stratified(self):
        if self.stratify != "auto":
            return bool(self.stratify)
        inner = getattr(self.estimator, "estimator", None)
        return is_classifier(self.estimator) or (inner is not None and is_classifier(inner))

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit ``2 n_subsamples`` clones on complementary half-samples; returns ``self``."""
        if self.estimator is None:
            raise ValueError("StabilitySelection needs an estimator: a selector to fit on each "
                             "half-sample, e.g. StabilitySelection(SPINNRegressor())")
        if y is None:  # scikit-learn's wording (its check_requires_y_none)
            raise ValueError("StabilitySelection requires y to be passed, but the target y is "
                             "None (the selector is fitted on half-samples of X and y)")
        X, y = validate_data(self, X, y, accept_sparse=("csr", "csc"), dtype=None,
                             multi_output=True, ensure_min_samples=2)
        if sample_weight is not None:  # one non-negative weight per row, checked before any fit
            from sklearn.utils.validation import _check_sample_weight

            sample_weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
            _weight_key(self.estimator)  # a selector without weights: refused before any fit
        grid_values, grid = self._grid()
        ratio = self._path_ratio()
        if ratio is None and self.threshold is not None and self.max_false_positives is not None:
            raise ValueError("give threshold or max_false_positives, not both (both only with "
                             "the path recipe, lambda_min_ratio: the threshold and the region's "
                             "bound)")
        ratios = None if ratio is None else np.geomspace(1.0, ratio, self.n_lambdas)
        if ratios is not None:
            grid_values = ratios
        rng = self._rng()
        pairs = complementary_pairs(y, self.n_subsamples, self.sample_fraction,
                                    self._stratified() and np.ndim(y) == 1, rng)
        seeds = rng.integers(0, 2**31 - 1, size=2 * len(pairs))
        keys = _seed_keys(self.estimator)
        subsets = [idx for pair in pairs for idx in pair]
        masks = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_one)(self.estimator, X, y, idx, grid, int(s), sample_weight, ratios, keys)
            for idx, s in zip(subsets, seeds))
        self.pairs_ = pairs
        self.subsample_supports_ = np.stack(masks)  # (2B, n_grid, p)
        self.lambda_grid_ = grid_values
        self.lambda_min_ratio_ = ratio
        self.stability_path_ = self.subsample_supports_.mean(axis=0)
        self._set_threshold()
        return self

    def _set_threshold(self):
        p, B = self.n_features_in_, len(self.pairs_)
        halves = self.sample_fraction == 0.5
        tau = self.threshold
        supports = self.subsample_supports_
        self.region_ratio_ = None
        if self.lambda_min_ratio_ is not None:  # the path recipe: threshold, then the region
            tau = DEFAULT_PATH_THRESHOLD if tau is None else tau
            pfer = (DEFAULT_PATH_PFER if self.max_false_positives is None
                    else self.max_false_positives)
            k = path_region(supports, p, tau, pfer, self.bound, B)
            if k == 0 and supports.shape[1] > 1:
                warnings.warn(
                    f"the stability region is lambda_max alone: the path's first step selects "
                    f"{supports[:, 1].sum(axis=1).mean():.1f} features a fit, more than the bound "
                    f"allows at max_false_positives={pfer} (threshold {tau}, p = {p}); a finer "
                    "grid (n_lambdas) or a larger max_false_positives widens it",
                    UserWarning, stacklevel=3)
            supports = supports[:, : k + 1]
            self.region_ratio_ = float(self.lambda_grid_[k])
        self.selection_probabilities_ = supports.mean(axis=0).max(axis=0)
        self.q_ = float(supports.any(axis=1).sum(axis=1).mean())
        if self.region_ratio_ is None and self.max_false_positives is not None:
            tau = threshold_for_bound(self.max_false_positives, self.q_, p, self.bound, B)
            if tau is None:
                warnings.warn(
                    f"no threshold <= 1 guarantees max_false_positives={self.max_false_positives} "
                    f"(bound {self.bound!r}, q = {self.q_:.1f} features per fit, p = {p}); using "
                    "threshold 1: select fewer features per fit (a stronger penalty) to reach it",
                    UserWarning, stacklevel=3)
                tau = 1.0
        elif tau is None:
            tau = DEFAULT_THRESHOLD
        self.threshold_ = float(tau)
        self.error_bounds_ = {k: error_bound(self.q_, p, tau, k, B) if halves else float("nan")
                              for k in BOUNDS}
        self.expected_false_positives_bound_ = self.error_bounds_[self.bound]
        self.support_ = self.selection_probabilities_ >= self.threshold_
        self.selected_features_ = np.flatnonzero(self.support_)

    def _get_support_mask(self):
        check_is_fitted(self, "support_")
        return self.support_

    def plot(self, ax=None, kind="auto", top=None):
        """Selection probabilities, sorted, with the threshold (``kind="probabilities"``), or
        the stability path against the grid (``"path"``; ``"auto"``: the path when there is a
        grid). ``top``: show only the most stable features. Returns the axes."""
        check_is_fitted(self, "support_")
        if kind not in ("auto", "probabilities", "path"):
            raise ValueError(f"kind must be 'auto', 'probabilities' or 'path', got {kind!r}")
        if kind == "path" and self.lambda_grid_ is None:
            raise ValueError("kind='path' needs a stability path: fit with param_name and lambda_grid")
        if ax is None:
            import matplotlib.pyplot as plt

            ax = plt.subplots(figsize=(6, 3.5))[1]
        path = kind == "path" or (kind == "auto" and self.lambda_grid_ is not None)
        names = [str(v) for v in getattr(self, "feature_names_in_", [f"x{j}" for j in
                                                                      range(self.n_features_in_)])]
        if path:
            try:  # a numeric grid on its own scale; other values (penalty names) in grid order
                grid, numeric = np.asarray(self.lambda_grid_, dtype=float), True
            except (TypeError, ValueError):
                grid, numeric = np.arange(len(self.lambda_grid_)), False
                ax.set_xticks(grid, [str(v) for v in self.lambda_grid_])
            for j in np.argsort(-self.selection_probabilities_)[:top]:
                keep = self.support_[j]
                ax.plot(grid, self.stability_path_[:, j], lw=1.5 if keep else 0.6,
                        c=None if keep else "0.6", label=names[j] if keep else None)
            ax.set_xlabel(self.param_name or "lambda / lambda_max")
            if numeric and np.all(grid > 0):
                ax.set_xscale("log")
            if self.support_.any():
                ax.legend(fontsize=7, ncol=2)
        else:
            order = np.argsort(-self.selection_probabilities_, kind="stable")[:top]
            probs = self.selection_probabilities_[order]
            colours = np.where(self.support_[order], "C0", "0.7")
            ax.bar(np.arange(len(order)), probs, color=colours, width=1.0)
            if len(order) <= 30:
                ax.set_xticks(np.arange(len(order)), [names[j] for j in order], rotation=90,
                              fontsize=7)
            ax.set_xlabel("features, most stable first")
        ax.axhline(self.threshold_, ls="--", c="k", lw=1,
                   label=f"threshold {self.threshold_:.2f}")
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("selection probability")
        ax.set_title(f"{len(self.selected_features_)} stable features; E[false positives] <= "
                     f"{self.expected_false_positives_bound_:.2g} ({self.bound})", fontsize=9)
        return ax

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
