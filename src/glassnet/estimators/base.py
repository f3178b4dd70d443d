"""Shared conventions of glassnet estimators (DESIGN.md rule 2).

Estimators are thin scikit-learn wrappers: ``__init__`` stores arguments, ``fit`` validates,
builds a module from ``glassnet.nn``, calls :func:`glassnet.training.fit` and sets attributes
ending in ``_``. This module holds the validation every estimator shares and save/load.
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval as _SkInterval
from sklearn.utils._param_validation import Options, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from glassnet.devices import auto_device_for
from glassnet.persistence import load, save
from glassnet.utils import with_auto_threads

__all__ = [
    "DEVICE",
    "DTYPE",
    "EPOCHS",
    "MAX_ABS",
    "MAX_EPOCHS",
    "MAX_WIDTH",
    "NONNEG",
    "POSITIVE",
    "RANDOM_STATE",
    "TOL",
    "GlassnetEstimator",
    "IntTuple",
    "Interval",
    "ListOf",
    "load",
    "save",
    "torch_dtype",
]

# entries larger than this overflow the networks' arithmetic (squares in float32 reach inf near
# 1e19) and stall path searches; such data must be rescaled, never silently clipped
MAX_ABS = 1e15

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def torch_dtype(name: str) -> torch.dtype:
    if name not in _DTYPES:
        raise ValueError(f"dtype must be one of {sorted(_DTYPES)}, got {name!r}")
    return _DTYPES[name]


# ------------------------------------------------- constructor-argument declarations (issue 25)
# Every estimator declares each constructor argument in ``_parameter_constraints`` (scikit-learn's
# mechanism); ``fit`` (and SPINN's ``path``) validates them before any work, so a bad value gets
# scikit-learn's ``InvalidParameterError`` (a ``ValueError``) naming the parameter and the range.

# Epoch counts above this are refused: even tiny data costs ~1 ms per epoch, so 1e5 epochs is
# minutes per fit and the audit's 1e9 would never end (the stopping rules need not trigger).
MAX_EPOCHS = 100_000
# Layer widths / shape entries above this are refused: one such layer on 10 inputs is already
# 8 MB of weights per input column, and widths like 1e9 fail only inside the allocator.
MAX_WIDTH = 100_000

class Interval(_SkInterval):
    """scikit-learn's ``Interval`` that refuses ``True`` / ``False`` (a bool is a Python int, so
    scikit-learn's accepts ``lr=True`` as 1)."""

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


POSITIVE = Interval(numbers.Real, 0, None, closed="neither")  # (0, inf): nan and inf refused
NONNEG = Interval(numbers.Real, 0, None, closed="left")  # [0, inf)
TOL = [NONNEG]
EPOCHS = [Interval(numbers.Integral, 1, MAX_EPOCHS, closed="both")]
DTYPE = [StrOptions({"float32", "float64"})]
DEVICE = [str, torch.device]  # resolved (and a bad name refused, naming it) at the start of fit
RANDOM_STATE = ["random_state", np.random.Generator]
# joblib workers: None, a positive count or a negative one (-1: every core); 0 is refused
N_JOBS = [None, Interval(numbers.Integral, None, -1, closed="right"),
          Interval(numbers.Integral, 1, None, closed="left")]


class _Custom(Options):
    """Base of glassnet's own constraints: scikit-learn's ``make_constraint`` accepts only its
    own classes, so these subclass ``Options`` and replace its test and description."""

    def __init__(self):
        super().__init__(object, set())


class IntTuple(_Custom):
    """A tuple or list of ints in ``[1, MAX_WIDTH]`` (layer sizes, shapes): exactly ``length``
    entries when given, else at least ``min_len``."""

    def __init__(self, length=None, min_len=0, max_value=MAX_WIDTH):
        super().__init__()
        self.length, self.min_len, self.max_value = length, min_len, max_value

    def is_satisfied_by(self, val):
        if not isinstance(val, (tuple, list)):
            return False
        if (len(val) != self.length) if self.length is not None else len(val) < self.min_len:
            return False
        return all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                   and 1 <= v <= self.max_value for v in val)

    def invalid_values(self):
        n = self.length if self.length is not None else max(self.min_len, 1)
        return [(0,) * n, (-1,) * n, (2.5,) * n, (self.max_value + 1,) * n, "x",
                (1,) * (n + 1) if self.length is not None else None, 3]

    def __str__(self):
        size = (f"{self.length} ints" if self.length is not None
                else f"at least {self.min_len} ints" if self.min_len else "ints")
        return f"a tuple of {size} in [1, {self.max_value}]"


class ListOf(_Custom):
    """A list or tuple of at least ``min_len`` items, each satisfying ``item`` (a constraint)."""

    def __init__(self, item, min_len=1):
        super().__init__()
        self.item, self.min_len = item, min_len

    def is_satisfied_by(self, val):
        return (isinstance(val, (tuple, list)) and len(val) >= self.min_len
                and all(self.item.is_satisfied_by(v) for v in val))

    def invalid_values(self):
        bad = [v for v in self.item.invalid_values() if v is not None]
        return ([[]] if self.min_len else []) + ["x", 3] + [[b] for b in bad[:3]]

    def __str__(self):
        return f"a list of {self.item}" + (" (at least one)" if self.min_len else "")


class Reals(_Custom):
    """A non-empty list, tuple or 1-d array of finite reals ``>= low`` (``> low`` with
    ``open_low``): a grid of values."""

    def __init__(self, low=0.0, open_low=False):
        super().__init__()
        self.low, self.open_low = low, open_low

    def is_satisfied_by(self, val):
        if not isinstance(val, (tuple, list, np.ndarray)) or np.ndim(val) != 1 or len(val) == 0:
            return False
        return all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))
                   and math.isfinite(v) and (v > self.low if self.open_low else v >= self.low)
                   for v in val)

    def invalid_values(self):
        return [(), (np.nan,), (np.inf,), (self.low - 1,), (self.low,), ("x",), [[1.0]]]

    def __str__(self):
        return f"a non-empty tuple of finite numbers {'>' if self.open_low else '>='} {self.low}"


_VALIDATED = ("fit", "fit_predict", "fit_transform", "path", "partial_fit")
_THREADED = ("fit", "fit_predict", "fit_transform", "predict", "predict_proba",
             "predict_log_proba", "decision_function", "transform", "score", "path", "upscale")


class GlassnetEstimator(BaseEstimator):
    """Mixin-style base: validation helpers, tensors, fitted checks.

    Every public method that takes data (``fit``, ``predict``, ...) runs small inputs on one
    torch thread and restores the caller's setting afterwards (issue 11: on 2 cores the
    default thread count made small fits 10-40x slower). Inside ``glassnet.threads(n)`` the
    caller's choice is kept.
    """

    # meta-estimators whose inner fits must validate their own parameters set this to False
    _skip_nested_validation = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in _VALIDATED:
            fn = cls.__dict__.get(name)
            if callable(fn) and not getattr(fn, "__glassnet_validated__", False):
                setattr(cls, name, _validating(fn, cls._skip_nested_validation))
        for name in _THREADED:
            fn = getattr(cls, name, None)
            if callable(fn) and not getattr(fn, "__glassnet_threads__", False):
                setattr(cls, name, with_auto_threads(fn))

    def _clear_fitted(self, keep=()):
        """Forget the last fit's declared attributes (and ``feature_names_in_``) but ``keep``,
        so that a refit after ``set_params`` carries nothing stale (a CV curve of another
        setting, another task's classes)."""
        declared = getattr(type(self), "_fitted_attributes", {})
        for k in [k for k in vars(self) if (k in declared or k == "feature_names_in_") and k not in keep]:
            delattr(self, k)

    def _validate_X(self, X, reset: bool, **kw):
        X = _sparse_as_value_error(validate_data, self, X, reset=reset, dtype=np.float64,
                                   ensure_all_finite=True, **kw)
        self._check_numeric_features(X)
        return X

    def _validate_Xy(self, X, y, classification: bool, **kw):
        if not classification:
            y = _numeric_target(y)
        X, y = _sparse_as_value_error(
            validate_data, self, X, y, dtype=np.float64, ensure_all_finite=True,
            y_numeric=not classification, **kw
        )
        self._check_numeric_features(X)
        if classification:
            check_classification_targets(y)
            classes = np.unique(y)
            if classes.size < 2:
                raise ValueError(
                    f"y has a single class (one class: {classes[0]!r}); a classifier needs at least two"
                )
        else:
            check_finite_target(y)
            _check_magnitude(y, "y")
            check_not_tiny(y, "y")
        return X, y

    @staticmethod
    def _check_numeric_features(X):
        if X.shape[0] == 0:
            raise ValueError("X has no samples")
        _check_magnitude(X, "X")

    @staticmethod
    def _check_sample_weight(sample_weight, X) -> np.ndarray:
        """``sample_weight`` as float64 (ones when None): one finite, non-negative weight per
        row of ``X``, not all zero; a ValueError naming the problem otherwise."""
        from sklearn.utils.validation import _check_sample_weight

        sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        if not sw.sum() > 0:
            raise ValueError("sample_weight sums to zero: no sample would count")
        return sw

    def _weighted_rows(self, X, y, sample_weight, classification=False):
        """``(X, y, weights)`` of the rows that carry weight (a zero weight is the row left out,
        exactly); ``weights`` is None when ``sample_weight`` is None or all ones, so unweighted
        fits run the unweighted code. A classifier needs two classes among those rows."""
        if sample_weight is None:
            return X, y, None
        sw = self._check_sample_weight(sample_weight, X)
        keep = sw > 0
        X, y, sw = X[keep], y[keep], sw[keep]
        if classification and np.unique(y).size < 2:
            raise ValueError("the rows with a positive sample_weight hold a single class "
                             f"({y[0]!r}); a classifier needs at least two")
        return X, y, (None if np.all(sw == 1.0) else sw)

    def _check_binary(self, y):
        kind = type_of_target(y)
        if kind != "binary":
            raise ValueError(
                f"Only binary classification is supported. {type(self).__name__} got target type {kind!r} "
                f"with {np.unique(y).size} classes (use sklearn's OneVsRestClassifier for more)"
            )

    def _tensor(self, X):
        """A fresh, contiguous tensor of the estimator's dtype (views with negative strides,
        read-only and Fortran-ordered arrays are copied; the caller's array is never shared)."""
        return torch.tensor(np.ascontiguousarray(X), dtype=torch_dtype(getattr(self, "dtype", "float64")))

    #: whether a fit keeps float64 tensors on its device whatever its ``dtype`` (SPINN's path
    #: solver, DSRL): Apple's MPS, which has no float64, is then passed over or refused
    _FLOAT64_ON_DEVICE = False

    def _fit_device(self, X=None) -> torch.device:
        """``self.device`` resolved at the start of ``fit`` (a ``ValueError`` naming an unknown or
        absent device before any work); ``"auto"`` stays on the CPU when ``X`` (an array, or a
        count of entries) has fewer than :data:`glassnet.devices.AUTO_MIN_ELEMENTS` entries,
        and off Apple's MPS when the fit needs float64 there (:func:`auto_device_for`)."""
        if isinstance(X, numbers.Integral):
            n = int(X)
        else:
            try:
                n = int(np.prod(np.shape(X))) if X is not None else None
            except (TypeError, ValueError):  # ragged input: validation reports it later
                n = None
        float64 = self._FLOAT64_ON_DEVICE or getattr(self, "dtype", None) == "float64"
        return auto_device_for(getattr(self, "device", "cpu"), n, float64=float64)

    def _check_fitted(self):
        check_is_fitted(self)

    def __sklearn_is_fitted__(self):
        # every glassnet estimator sets ``module_`` at the end of a successful fit
        return hasattr(self, "module_")


def _validating(method, skip_nested):
    """``method`` with the constructor arguments validated first (scikit-learn's
    ``_fit_context``: ``self._validate_params()`` against ``_parameter_constraints``). A class
    that declares none is not validated here (the test suite fails it: every estimator must)."""
    inner = _fit_context(prefer_skip_nested_validation=skip_nested)(method)

    @functools.wraps(method)
    def wrapped(self, *args, **kwargs):
        if "_parameter_constraints" not in dir(type(self)):
            return method(self, *args, **kwargs)
        return inner(self, *args, **kwargs)

    wrapped.__glassnet_validated__ = True
    return wrapped


def _sparse_as_value_error(fn, *args, **kw):
    """scikit-learn raises ``TypeError`` for sparse input to dense-only estimators; glassnet's
    rule is a ``ValueError`` that names the problem (the message keeps the word "sparse")."""
    try:
        return fn(*args, **kw)
    except TypeError as err:
        if "sparse" in str(err).lower():
            raise ValueError(f"{err} (glassnet estimators need dense arrays here: use X.toarray())") from err
        raise


def _numeric_target(y):
    """Regression targets must be real numbers: strings, complex values and objects that do
    not convert get a ValueError naming the dtype (numpy would raise a ufunc TypeError)."""
    if y is None:
        return y
    arr = y if hasattr(y, "dtype") and hasattr(y, "shape") else np.asarray(y)
    kind = getattr(getattr(arr, "dtype", None), "kind", None)
    if kind == "c":
        raise ValueError("Complex data not supported: y is complex; a regressor needs real targets")
    if kind in ("U", "S", "O"):
        try:
            return np.asarray(arr, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ValueError(f"y must be numeric for a regressor; got values of dtype {arr.dtype} "
                             f"that do not convert to float ({err})") from err
    return y


# regression targets are standardised by their spread; a y whose values are all below this in
# magnitude (but not all 0) cannot be: its squares underflow (1e-300 squared is 0), so the
# fit saw raw values of ~1e-300 and its lambda search failed blaming X (issue 25)
MIN_ABS_Y = 1e-100


def check_finite_target(y, hint: str = "") -> None:
    """A ``ValueError`` for a numeric target with NaN or inf, or labels holding None (``hint``
    is appended to it)."""
    y = np.asarray(y)
    if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinity" + hint)
    if y.dtype.kind == "O" and any(v is None for v in y.ravel()):
        raise ValueError("y contains None; every sample needs a value" + hint)


def check_not_tiny(y, name: str) -> None:
    """A ``ValueError`` for a regression target whose largest magnitude is in (0, MIN_ABS_Y)."""
    big = float(np.max(np.abs(y))) if np.size(y) else 0.0
    if 0 < big < MIN_ABS_Y:
        raise ValueError(f"{name} has values of magnitude at most {big:.3g}: below {MIN_ABS_Y:.0e} "
                         "they underflow when y is standardised (squared); rescale y (e.g. "
                         "multiply it by a power of 10)")


def _check_magnitude(a, name: str) -> None:
    if a.size and a.dtype.kind in "fiu":
        big = float(np.max(np.abs(a)))
        if big > MAX_ABS:
            raise ValueError(
                f"{name} has entries of magnitude {big:.3g} (limit {MAX_ABS:.0e}): values this large "
                "overflow the network's arithmetic; rescale the data (e.g. StandardScaler)"
            )
