"""Saving and loading fitted estimators without pickle (DESIGN.md rule 16).

A saved estimator is a zip archive with two members:

- ``meta.json``: the format tag, the glassnet version, and the estimator as plain JSON: its class
  name, its constructor parameters and its fitted attributes. Numbers, strings, lists, tuples,
  dicts, dtypes, dataclass records and modules are written as tagged JSON values.
- ``arrays.safetensors``: every numeric array and tensor (module ``state_dict`` entries
  included), in the safetensors format, which holds raw numbers and a JSON header only.

Loading never unpickles and never calls a function named by the file. The only code it runs is
the constructor of a class that is *trusted*: a class defined inside the ``glassnet`` package
that is a glassnet estimator, a :class:`~glassnet.nn._base.GlassModule`, a dataclass record or
a penalty. scikit-learn objects load only if their class is in ``SKLEARN_TYPES`` (a
``Pipeline`` and common transformers): the file names one by its short name, the class comes
from that table, and the object is rebuilt without calling it (``object.__new__``) from its
constructor parameters and the fitted attributes the table declares; any other attribute name
is refused. Any other type named in a file (``os.system``, ``builtins.eval``, scikit-learn's
``FunctionTransformer``, ...) is refused with a ``ValueError`` before anything is built or
imported. A file from another glassnet version is refused too (pass
``allow_other_version=True`` to try anyway, with a warning); one saved with another
scikit-learn version loads with a warning.

Loading is bounded and strict (issue 25): the archive's declared member sizes are checked
against limits and against the archive's own size before anything is read
(:data:`MAX_META_BYTES`, :data:`MAX_ARRAY_BYTES`, :data:`MAX_RATIO`), the safetensors header
before its payload, the nesting depth of the JSON before it is parsed; a class is looked up only
in glassnet's estimator / model / record modules (:data:`TRUSTED_MODULES`), refused before any
import; an estimator's constructor arguments are validated against its declared
``_parameter_constraints`` before its modules are built; a module is built on torch's ``meta``
device first and its parameter shapes compared with the stored state before any real allocation;
a restored attribute must be a fitted (``name_``) or private name that the class does not
define (no method or property can be replaced); a class that declares its fitted attributes
(``_fitted_attributes``: name -> type) restores only those, each of its declared type. Such a
class may be a plain scikit-learn estimator defined in glassnet (``StabilitySelection``, whose
wrapped ``estimator`` is saved as a constructor argument). Every bad file is a ``ValueError``.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import os
import struct
import warnings
import zipfile
import zlib

import numpy as np
import torch

from glassnet.persistence_checks import (
    MAX_ARRAY_BYTES,
    MAX_DEPTH,
    MAX_LIST_BYTES,
    MAX_META_BYTES,
    _check_module_shapes,
    _check_safetensors_header,
    _fitted_name,
    _json_depth_ok,
    _missing_defaults,
    _read_member,
    _record_field,
    as_path,
    check_declared,
    check_fitted_value,
    declared_fitted,
    rng_from_state,
    rng_state,
)

__all__ = ["load", "save"]

FORMAT = "glassnet-estimator"
FORMAT_VERSION = 1
_META, _ARRAYS = "meta.json", "arrays.safetensors"
_NUMERIC_KINDS = "biuf"  # bool, int, uint, float: what safetensors holds
# the only modules a file may name classes from (imported only when on this list)
TRUSTED_MODULES = ("glassnet", "glassnet.estimators", "glassnet.nn", "glassnet.penalties",
                   "glassnet.paths", "glassnet.model_selection", "glassnet.training",
                   "glassnet.datafits", "glassnet.stability")
_DECODE_ERRORS = (KeyError, TypeError, AttributeError, IndexError, RuntimeError, OverflowError,
                  RecursionError, MemoryError, zlib.error, struct.error, NotImplementedError)


def _version() -> str:
    from glassnet import __version__

    return __version__


# ----------------------------------------------------------------------------- encoding


class _Writer:
    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, a: np.ndarray) -> str:
        key = f"a{len(self.arrays)}"
        self.arrays[key] = np.ascontiguousarray(a)
        return key

    def encode(self, obj, where: str):
        from glassnet.estimators.base import GlassnetEstimator
        from glassnet.nn._base import GlassModule

        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, (int, float)) and type(obj) in (int, float):
            return obj
        if isinstance(obj, np.generic):
            if obj.dtype.kind not in _NUMERIC_KINDS + "U":
                raise TypeError(f"cannot save {where}: numpy scalar of dtype {obj.dtype}")
            return {"__npscalar__": obj.dtype.str, "value": obj.item()}
        if isinstance(obj, np.ndarray):
            return self._ndarray(obj, where)
        if isinstance(obj, torch.Tensor):
            t = obj.detach().cpu()
            if t.dtype not in _TORCH_TO_NP:
                raise TypeError(f"cannot save {where}: tensor of dtype {t.dtype}")
            return {"__tensor__": self.array(t.numpy()), "dtype": str(t.dtype).removeprefix("torch.")}
        if isinstance(obj, torch.dtype):
            return {"__torch_dtype__": str(obj).removeprefix("torch.")}
        if isinstance(obj, torch.device):  # a device= parameter; loading does not need the device
            return {"__torch_device__": str(obj)}
        if isinstance(obj, np.dtype):
            return {"__np_dtype__": obj.str}
        if isinstance(obj, (np.random.Generator, np.random.RandomState)):  # a random_state
            kind, state = rng_state(obj)
            return {"__rng__": kind, "state": self.encode(state, f"{where} state")}
        if isinstance(obj, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, dict):
            items = [[self.encode(k, f"{where} key"), self.encode(v, f"{where}[{k!r}]")]
                     for k, v in obj.items()]
            return {"__dict__": items}
        if _is_sparse(obj):
            m = obj.tocsr()
            return {"__sparse__": "csr", "shape": list(m.shape), "data": self._ndarray(m.data, where),
                    "indices": self._ndarray(m.indices, where), "indptr": self._ndarray(m.indptr, where)}
        if isinstance(obj, GlassModule):
            _check_trusted_class(type(obj))
            return {"__module__": _qualname(type(obj)),
                    "init": self.encode(obj.init_args, f"{where} init"),
                    "state": self.encode(dict(obj.state_dict()), f"{where} state"),
                    "training": obj.training}
        if isinstance(obj, torch.nn.Module):
            raise TypeError(
                f"cannot save {where}: {type(obj).__name__} is not a GlassModule (subclass "
                "glassnet.nn._base.GlassModule so it can be rebuilt from its arguments)"
            )
        if isinstance(obj, GlassnetEstimator) or _is_declared_estimator(type(obj)):
            _check_trusted_class(type(obj))
            params = obj.get_params(deep=False)
            fitted = {k: v for k, v in vars(obj).items() if k not in params}
            if "_metadata_request" in fitted:
                raise TypeError(f"cannot save {where}: its metadata routing requests (set_*_request) "
                                "are not saved; save it before setting them, or set them after load")
            declared = declared_fitted(type(obj))
            for k in fitted if declared is not None else ():
                if k not in declared:
                    raise TypeError(f"cannot save {where}.{k}: not a fitted attribute "
                                    f"{type(obj).__name__} declares (_fitted_attributes)")
            return {"__estimator__": _qualname(type(obj)),
                    "params": self.encode(params, f"{where} params"),
                    "state": self.encode(fitted, where)}
        if _is_trusted_sklearn(obj):
            name = type(obj).__name__
            allowed = _sklearn_type(name)[1]
            for k in vars(obj):
                if k not in allowed:
                    raise TypeError(f"cannot save {where}.{k}: not a declared attribute of {name} "
                                    "(persistence.SKLEARN_TYPES)")
            state = {k: self.encode(v, f"{where}.{k}") for k, v in vars(obj).items()}
            return {"__sklearn__": name, "state": state}
        if callable(obj) and _is_trusted_function(obj):
            return {"__sklearn_function__": obj.__name__}
        if _is_record(obj):
            _check_trusted_class(type(obj))
            fields = {k: self.encode(v, f"{where}.{k}") for k, v in vars(obj).items()}
            return {"__dataclass__": _qualname(type(obj)), "fields": fields}
        raise TypeError(f"cannot save {where}: values of type {type(obj).__qualname__} are not "
                        "supported (plain data, arrays, tensors, glassnet modules and records, "
                        f"and the scikit-learn types {', '.join(sorted(SKLEARN_TYPES))})")

    def _ndarray(self, a: np.ndarray, where: str):
        if a.dtype.kind in _NUMERIC_KINDS:
            return {"__ndarray__": self.array(a)}
        if a.dtype.kind == "U" or (a.dtype.kind == "O" and all(  # np.str_ / np.float64 subclass these
                isinstance(v, (str, float)) or type(v) in (int, bool) or v is None for v in a.ravel())):
            return {"__ndarray_list__": a.tolist(), "dtype": a.dtype.str, "shape": list(a.shape)}
        raise TypeError(f"cannot save {where}: array of dtype {a.dtype}")


_TORCH_TO_NP = {torch.float16: np.float16, torch.float32: np.float32, torch.float64: np.float64,
                torch.int8: np.int8, torch.int16: np.int16, torch.int32: np.int32,
                torch.int64: np.int64, torch.uint8: np.uint8, torch.bool: np.bool_}


def _is_sparse(obj) -> bool:
    import scipy.sparse as sp

    return sp.issparse(obj)


# Trusted scikit-learn types: short name -> (module, fitted attributes besides _SKLEARN_COMMON).
# The constructor's parameters are allowed too (read from the installed class's signature).
# A type joins only if its fitted state is plain data (arrays, numbers, strings, dtypes, other
# trusted objects) and its predict/transform calls nothing stored by the user.
SKLEARN_TYPES = {
    "Pipeline": ("sklearn.pipeline", ()),  # the steps hold the fitted state
    "LabelEncoder": ("sklearn.preprocessing", ("classes_",)),
    "StandardScaler": ("sklearn.preprocessing", ("n_samples_seen_", "mean_", "var_", "scale_")),
    "MinMaxScaler": ("sklearn.preprocessing",
                     ("n_samples_seen_", "scale_", "min_", "data_min_", "data_max_", "data_range_")),
    "MaxAbsScaler": ("sklearn.preprocessing", ("n_samples_seen_", "max_abs_", "scale_")),
    "RobustScaler": ("sklearn.preprocessing", ("center_", "scale_")),
    "SimpleImputer": ("sklearn.impute", ("statistics_", "indicator_", "_fit_dtype", "_fill_dtype")),
    "MissingIndicator": ("sklearn.impute", ("features_", "_n_features", "_precomputed")),
    "PCA": ("sklearn.decomposition",
            ("n_components_", "n_samples_", "components_", "mean_", "explained_variance_",
             "explained_variance_ratio_", "singular_values_", "noise_variance_", "_fit_svd_solver")),
    "SelectKBest": ("sklearn.feature_selection", ("scores_", "pvalues_")),
    "VarianceThreshold": ("sklearn.feature_selection", ("variances_",)),
    "LogisticRegression": ("sklearn.linear_model", ("classes_", "coef_", "intercept_", "n_iter_")),
    "Lasso": ("sklearn.linear_model", ("l1_ratio", "coef_", "intercept_", "n_iter_", "dual_gap_")),
}
_SKLEARN_COMMON = ("n_features_in_", "feature_names_in_", "_sklearn_output_config")  # set_output
# functions a trusted object may hold as a parameter (SelectKBest's score_func), by name
SKLEARN_FUNCTIONS = {name: "sklearn.feature_selection" for name in (
    "f_classif", "f_regression", "chi2", "mutual_info_classif", "mutual_info_regression")}


def _sklearn_type(name) -> tuple[type, frozenset]:
    """The trusted scikit-learn class called ``name`` and the attribute names it may carry; a
    ValueError, before any import, for a name not in ``SKLEARN_TYPES``."""
    import inspect

    if not isinstance(name, str) or name not in SKLEARN_TYPES:
        raise ValueError(f"untrusted scikit-learn type {name!r} in file (trusted: "
                         f"{', '.join(sorted(SKLEARN_TYPES))})")
    module, fitted = SKLEARN_TYPES[name]
    cls = getattr(importlib.import_module(module), name)
    params = [k for k in inspect.signature(cls.__init__).parameters if k != "self"]
    return cls, frozenset(params) | frozenset(fitted) | frozenset(_SKLEARN_COMMON)


def _sklearn_function(name):
    if not isinstance(name, str) or name not in SKLEARN_FUNCTIONS:
        raise ValueError(f"untrusted function {name!r} in file (trusted: "
                         f"{', '.join(sorted(SKLEARN_FUNCTIONS))})")
    return getattr(importlib.import_module(SKLEARN_FUNCTIONS[name]), name)


def _is_trusted_sklearn(obj) -> bool:
    name = type(obj).__name__
    return name in SKLEARN_TYPES and type(obj) is _sklearn_type(name)[0]


def _is_trusted_function(obj) -> bool:
    name = getattr(obj, "__name__", None)
    return name in SKLEARN_FUNCTIONS and obj is _sklearn_function(name)


def _is_record_class(cls) -> bool:
    from glassnet.penalties import Penalty

    return dataclasses.is_dataclass(cls) or issubclass(cls, Penalty)


def _is_record(obj) -> bool:
    """Plain records rebuilt field by field: glassnet dataclasses and penalty objects."""
    return not isinstance(obj, type) and _is_record_class(type(obj))


def _qualname(cls) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _check_trusted_class(cls) -> None:
    from glassnet.estimators.base import GlassnetEstimator
    from glassnet.nn._base import GlassModule

    mod = getattr(cls, "__module__", "") or ""
    trusted = (mod == "glassnet" or mod.startswith("glassnet.")) and (
        issubclass(cls, (GlassnetEstimator, GlassModule)) or _is_record_class(cls)
        or _is_declared_estimator(cls)
    )
    if not trusted:
        raise ValueError(
            f"untrusted type {_qualname(cls)!r}: glassnet files may only name glassnet estimators, "
            "glassnet modules and glassnet records (dataclasses, penalties)"
        )


def _is_declared_estimator(cls) -> bool:
    """A scikit-learn estimator defined in glassnet that is no ``GlassnetEstimator`` (the
    meta-estimator ``StabilitySelection``) is saved and loaded as one when it declares its
    constructor arguments (``_parameter_constraints``) and fitted attributes with their types
    (``_fitted_attributes``); only those attributes load."""
    from sklearn.base import BaseEstimator

    mod = getattr(cls, "__module__", "") or ""
    return (isinstance(cls, type) and issubclass(cls, BaseEstimator)
            and (mod == "glassnet" or mod.startswith("glassnet."))
            and isinstance(getattr(cls, "_parameter_constraints", None), dict)
            and declared_fitted(cls) is not None)


def _is_estimator_class(cls) -> bool:
    from glassnet.estimators.base import GlassnetEstimator

    return issubclass(cls, GlassnetEstimator) or _is_declared_estimator(cls)


def _resolve(name: str, kind: str):
    """The class named ``module:qualname``, if it is trusted; a ValueError otherwise."""
    if not isinstance(name, str) or name.count(":") != 1:
        raise ValueError(f"invalid type name {name!r} in file")
    mod_name, qual = name.split(":")
    trusted_mod = any(mod_name == m or mod_name.startswith(m + ".") and m != "glassnet"
                      for m in TRUSTED_MODULES)
    if not trusted_mod or "." in qual or not qual.isidentifier() or not all(
            part.isidentifier() for part in mod_name.split(".")):
        raise ValueError(f"untrusted type {name!r} in file: only glassnet's own {kind} classes load "
                         f"(from {', '.join(TRUSTED_MODULES)})")
    try:
        cls = getattr(importlib.import_module(mod_name), qual)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"unknown type {name!r} in file (saved by another glassnet version?)") from err
    if not isinstance(cls, type):
        raise ValueError(f"untrusted type {name!r} in file: not a class")
    _check_trusted_class(cls)
    return cls


# ----------------------------------------------------------------------------- decoding


class _Reader:
    def __init__(self, arrays: dict[str, np.ndarray]):
        self.arrays = arrays

    def array(self, key) -> np.ndarray:
        if key not in self.arrays:
            raise ValueError(f"corrupt glassnet file: array {key!r} is missing")
        return self.arrays[key]

    def decode(self, v):
        from glassnet.nn._base import GlassModule

        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, list):
            return [self.decode(x) for x in v]
        if not isinstance(v, dict) or len(v) == 0:
            raise ValueError(f"corrupt glassnet file: unexpected value {v!r}")
        tag = next(iter(v))
        if tag == "__npscalar__":
            return np.dtype(_safe_dtype(v["__npscalar__"])).type(v["value"])
        if tag == "__ndarray__":
            return self.array(v["__ndarray__"]).copy()
        if tag == "__ndarray_list__":
            dtype = np.dtype(_safe_dtype(v["dtype"], allow_object=True))
            shape = v["shape"]
            if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
                raise ValueError(f"corrupt glassnet file: bad shape {shape!r}")
            if dtype.itemsize * math.prod(shape) > MAX_LIST_BYTES:
                raise ValueError(f"corrupt glassnet file: a list array of {shape} x {dtype} "
                                 f"exceeds {MAX_LIST_BYTES} bytes")
            return np.array(v["__ndarray_list__"], dtype=dtype).reshape(shape)
        if tag == "__tensor__":
            return torch.from_numpy(self.array(v["__tensor__"]).copy())
        if tag == "__torch_dtype__":
            dt = getattr(torch, str(v["__torch_dtype__"]), None)
            if not isinstance(dt, torch.dtype):
                raise ValueError(f"corrupt glassnet file: unknown torch dtype {v['__torch_dtype__']!r}")
            return dt
        if tag == "__np_dtype__":
            return np.dtype(_safe_dtype(v["__np_dtype__"]))
        if tag == "__torch_device__":
            try:
                return torch.device(str(v["__torch_device__"]))
            except (RuntimeError, ValueError) as err:
                raise ValueError(f"corrupt glassnet file: bad device {v['__torch_device__']!r}") from err
        if tag == "__tuple__":
            return tuple(self.decode(x) for x in v["__tuple__"])
        if tag == "__dict__":
            return {_hashable(self.decode(k)): self.decode(x) for k, x in v["__dict__"]}
        if tag == "__sparse__":
            import scipy.sparse as sp

            parts = [self.decode(v[k]) for k in ("data", "indices", "indptr")]
            return sp.csr_matrix(tuple(parts), shape=tuple(v["shape"]))
        if tag == "__module__":
            cls = _resolve(v["__module__"], "module")
            if not issubclass(cls, GlassModule):
                raise ValueError(f"untrusted type {v['__module__']!r}: not a glassnet module")
            init, state = self.decode(v["init"]), self.decode(v["state"])
            if not isinstance(init, dict) or not isinstance(state, dict):
                raise ValueError("corrupt glassnet file: a module without init arguments or state")
            _check_module_shapes(cls, init, state)  # before any real allocation
            module = cls(**init)
            floats = {t.dtype for t in state.values() if torch.is_tensor(t) and t.is_floating_point()}
            if len(floats) == 1:  # estimators cast modules after building them (e.g. float64)
                module.to(floats.pop())
            module.load_state_dict(state, strict=True)
            module.train(bool(v.get("training", False)))
            return module
        if tag == "__estimator__":
            cls = _resolve(v["__estimator__"], "estimator")
            if not _is_estimator_class(cls):
                raise ValueError(f"untrusted type {v['__estimator__']!r}: not a glassnet estimator")
            params = self.decode(v["params"])
            if not isinstance(params, dict):
                raise ValueError("corrupt glassnet file: estimator parameters are not a mapping")
            for old, new in getattr(cls, "_RENAMED_PARAMS", {}).items():  # files of older versions
                if old in params and new not in params:
                    params[new] = params.pop(old)
            known = set(cls().get_params(deep=False))
            if set(params) - known:
                raise ValueError(f"unknown parameters {sorted(set(params) - known)} for "
                                 f"{cls.__name__} in file")
            est = cls(**params)
            if hasattr(cls, "_parameter_constraints"):
                est._validate_params()  # scikit-learn's message naming the bad parameter
            state = v.get("state")
            names = state.get("__dict__") if isinstance(state, dict) else None
            if not isinstance(names, list):
                raise ValueError("corrupt glassnet file: estimator state is not a mapping")
            for item in names:  # every name checked before anything inside is built
                check_declared(cls, _fitted_name(
                    cls, item[0] if isinstance(item, list) and item else None, params))
            for k, x in self.decode(state).items():
                check_fitted_value(cls, k, x)  # declared, and of the declared type
                setattr(est, _fitted_name(cls, k, params), x)
            return est
        if tag == "__sklearn__":
            cls, allowed = _sklearn_type(v["__sklearn__"])
            state = v.get("state")
            if not isinstance(state, dict):
                raise ValueError(f"corrupt glassnet file: {v['__sklearn__']} without a state")
            for k in state:  # every name checked before anything inside is built
                if k not in allowed:
                    raise ValueError(f"attribute {k!r} is not declared for scikit-learn's "
                                     f"{v['__sklearn__']} (persistence.SKLEARN_TYPES)")
            obj = object.__new__(cls)
            for k, x in state.items():
                setattr(obj, k, self.decode(x))
            return obj
        if tag == "__sklearn_function__":
            return _sklearn_function(v["__sklearn_function__"])
        if tag == "__rng__":
            return rng_from_state(v["__rng__"], self.decode(v["state"]))
        if tag == "__dataclass__":
            cls = _resolve(v["__dataclass__"], "record")
            fields = v["fields"]
            if not _is_record_class(cls) or not isinstance(fields, dict):
                raise ValueError(f"untrusted type {v['__dataclass__']!r}: not a glassnet record")
            defaults = _missing_defaults(cls, fields)
            obj = object.__new__(cls)
            for k, x in defaults.items():  # a field added since the file was written
                object.__setattr__(obj, k, x)
            for k in fields:
                _record_field(cls, k)
            for k, x in fields.items():
                object.__setattr__(obj, k, self.decode(x))
            return obj
        raise ValueError(f"corrupt glassnet file: unknown tag {tag!r}")


def _hashable(k):
    return tuple(_hashable(x) for x in k) if isinstance(k, list) else k


def _safe_dtype(s, allow_object: bool = False) -> str:
    dt = np.dtype(str(s))
    if dt.kind in _NUMERIC_KINDS + "U" or (allow_object and dt.kind == "O"):
        return dt.str
    raise ValueError(f"corrupt glassnet file: dtype {s!r} is not allowed")


# ----------------------------------------------------------------------------- public API


def save(estimator, path: str | os.PathLike) -> None:
    """Save a fitted glassnet estimator, or a scikit-learn ``Pipeline`` of glassnet estimators
    and the scikit-learn types in ``SKLEARN_TYPES``, to ``path`` (a zip of JSON + safetensors;
    no pickle). For a ``GridSearchCV`` save its ``best_estimator_``.

    Raises ``TypeError`` naming the attribute if something in the estimator is not plain data
    or a trusted type.
    """
    import sklearn
    from safetensors.numpy import save as st_save
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    from glassnet.estimators.base import GlassnetEstimator

    if not (isinstance(estimator, (GlassnetEstimator, Pipeline))
            or _is_declared_estimator(type(estimator))) or (
            isinstance(estimator, Pipeline) and type(estimator) is not Pipeline):
        search = ("best_estimator_", "param_grid", "param_distributions")
        hint = (": save its best_estimator_ (the refitted model)"
                if any(hasattr(estimator, a) for a in search) else "")
        raise ValueError("save() takes a glassnet estimator (StabilitySelection included) or a "
                         "scikit-learn Pipeline of glassnet "
                         f"estimators and trusted scikit-learn steps, got {type(estimator).__name__}"
                         + hint)
    check_is_fitted(estimator)
    path = as_path(path, "save()")
    w = _Writer()
    root = w.encode(estimator, type(estimator).__name__)
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "glassnet_version": _version(),
            "sklearn_version": sklearn.__version__, "root": root}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(_META, json.dumps(meta))
        z.writestr(_ARRAYS, st_save(w.arrays) if w.arrays else b"")


def load(path: str | os.PathLike, *, allow_other_version: bool = False):
    """Load an estimator or pipeline written by :func:`save`. Never runs code named by the file.

    Raises ``FileNotFoundError`` if ``path`` does not exist and ``ValueError`` if it is not a
    glassnet file (a text file, a pickle, a joblib dump), names an untrusted type, or was
    written by another glassnet version (unless ``allow_other_version``).
    """
    from safetensors.numpy import load as st_load

    path = as_path(path, "load()")
    if not os.path.exists(path):
        raise FileNotFoundError(f"no saved estimator at {path}")
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path} is not a glassnet file, or a truncated one (expected a zip archive written by "
            "glassnet.save; "
            "pickles and joblib dumps are refused because loading them can run code)"
        )
    size = os.path.getsize(path)
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            if not {_META, _ARRAYS} <= names:
                raise ValueError(f"{path} is a zip archive but not a glassnet file")
            text = _read_member(z, _META, MAX_META_BYTES, size, path).decode("utf-8")
            if not _json_depth_ok(text, MAX_DEPTH):
                raise ValueError(f"{path}: meta.json nests deeper than {MAX_DEPTH} levels")
            meta = json.loads(text)
            raw = _read_member(z, _ARRAYS, MAX_ARRAY_BYTES, size, path)
    except (zipfile.BadZipFile, UnicodeDecodeError, json.JSONDecodeError, zlib.error, EOFError,
            NotImplementedError, RecursionError, KeyError, OSError) as err:
        if isinstance(err, FileNotFoundError):
            raise
        raise ValueError(f"{path} is not a readable glassnet file: {err}") from err
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not a glassnet file (format tag missing)")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path} uses glassnet file format {meta.get('format_version')!r}; "
                         f"this glassnet reads format {FORMAT_VERSION}")
    saved = meta.get("glassnet_version")
    if saved != _version():
        msg = (f"{path} was saved by glassnet {saved}, this is glassnet {_version()}; "
               "refit the model, or pass allow_other_version=True to try anyway")
        if not allow_other_version:
            raise ValueError(msg)
        warnings.warn(msg, UserWarning, stacklevel=2)
    _warn_other_sklearn(path, meta.get("sklearn_version"))
    if "root" not in meta:
        raise ValueError(f"{path} is not a glassnet file (no 'root' entry)")
    try:
        _check_safetensors_header(raw, path)
        arrays = st_load(raw) if raw else {}
    except ValueError:
        raise
    except Exception as err:  # safetensors raises its own error types on malformed headers
        raise ValueError(f"{path}: corrupt array store ({err})") from err
    try:
        return _Reader(arrays).decode(meta["root"])
    except _DECODE_ERRORS as err:
        raise ValueError(f"{path}: corrupt glassnet file ({type(err).__name__}: {err})") from err


def _warn_other_sklearn(path, saved) -> None:
    import sklearn

    if saved is not None and saved != sklearn.__version__:
        warnings.warn(f"{path} was saved with scikit-learn {saved}, this is scikit-learn "
                      f"{sklearn.__version__}; its scikit-learn parts may predict differently",
                      UserWarning, stacklevel=3)
