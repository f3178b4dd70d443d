"""Shared conventions of glassnet estimators (DESIGN.md rule 2).

Estimators are thin scikit-learn wrappers: ``__init__`` stores arguments, ``fit`` validates,
builds a module from ``glassnet.nn``, calls :func:`glassnet.training.fit` and sets attributes
ending in ``_``. This module holds the validation every estimator shares and save/load.
"""

from __future__ import annotations

import os

import joblib
import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["GlassnetEstimator", "load", "save", "torch_dtype"]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def torch_dtype(name: str) -> torch.dtype:
    if name not in _DTYPES:
        raise ValueError(f"dtype must be one of {sorted(_DTYPES)}, got {name!r}")
    return _DTYPES[name]


class GlassnetEstimator(BaseEstimator):
    """Mixin-style base: validation helpers, tensors, fitted checks."""

    def _validate_X(self, X, reset: bool, **kw):
        X = validate_data(self, X, reset=reset, dtype=np.float64, ensure_all_finite=True, **kw)
        self._check_numeric_features(X)
        return X

    def _validate_Xy(self, X, y, classification: bool, **kw):
        X, y = validate_data(
            self, X, y, dtype=np.float64, ensure_all_finite=True, y_numeric=not classification, **kw
        )
        if classification:
            check_classification_targets(y)
            classes = np.unique(y)
            if classes.size < 2:
                raise ValueError(
                    f"y has a single class (one class: {classes[0]!r}); a classifier needs at least two"
                )
        elif not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinity")
        return X, y

    @staticmethod
    def _check_numeric_features(X):
        if X.shape[0] == 0:
            raise ValueError("X has no samples")

    def _check_binary(self, y):
        kind = type_of_target(y)
        if kind != "binary":
            raise ValueError(
                f"Only binary classification is supported. {type(self).__name__} got target type {kind!r} "
                f"with {np.unique(y).size} classes (use sklearn's OneVsRestClassifier for more)"
            )

    def _tensor(self, X):
        return torch.as_tensor(X, dtype=torch_dtype(getattr(self, "dtype", "float64")))

    def _check_fitted(self):
        check_is_fitted(self)

    def __sklearn_is_fitted__(self):
        # parameters such as ``lam`` end in "_", so scikit-learn's attribute heuristic
        # would call an unfitted estimator fitted; every glassnet estimator sets ``module_``.
        return hasattr(self, "module_")


def save(estimator, path: str | os.PathLike) -> None:
    """Save a fitted estimator with joblib (module, fitted attributes, parameters)."""
    check_is_fitted(estimator)
    joblib.dump(estimator, path)


def load(path: str | os.PathLike):
    """Load an estimator written by :func:`save`."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no saved estimator at {path}")
    return joblib.load(path)
