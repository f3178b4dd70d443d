"""The bad-input battery: every public estimator x every input class (issue 7).

Used by ``tests/test_common.py`` (one test per estimator and case) and by
``benchmarks/audit_inputs.py`` (counts of outcomes). Each case returns an outcome:

- ``"error"``: a clear error (``ValueError`` / ``NotFittedError`` naming the problem);
- ``"ok"``: a correct result (the check the case names passed);
anything else raises ``AssertionError`` (a misleading error, a silent failure) or lets the
unexpected exception through (a crash). Hangs are caught by an alarm in the callers.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.exceptions import NotFittedError

import glassnet
from glassnet.estimators.checks import NON_STANDARD_API, fast_instance


def public_estimators():
    """Every estimator class glassnet exports (``glassnet.__all__`` minus functions)."""
    out = []
    for name in glassnet.__all__:
        obj = getattr(glassnet, name)
        if isinstance(obj, type) and hasattr(obj, "get_params"):
            out.append(obj)
    return out


def data_for(est, n=40, p=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    inner = getattr(est, "estimator", None)  # a meta-estimator: the data of what it wraps
    if is_classifier(est) or (hasattr(inner, "fit") and is_classifier(inner)):
        y = (X[:, 0] + 0.5 * rng.standard_normal(n) > 0).astype(int)
    else:
        y = X[:, 0] - 0.5 * X[:, 1] + 0.1 * rng.standard_normal(n)
    return X, y


def assert_on_cpu(value, where):
    """Fail if ``value`` (a fitted attribute: tensor, module, or a list / dict of them) holds
    anything off the CPU; ``where`` names it in the message."""
    if torch.is_tensor(value):
        assert value.device.type == "cpu", where
    elif isinstance(value, torch.nn.Module):
        for k, t in value.state_dict().items():
            assert t.device.type == "cpu", f"{where}.{k}"
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            assert_on_cpu(v, f"{where}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            assert_on_cpu(v, f"{where}[{k!r}]")


def _api(est):
    return NON_STANDARD_API.get(type(est).__name__)


def fit(est, X, y=None):
    if _api(est) == "datasets":
        return est.fit([X, X], [y, y])
    if _api(est) == "images":  # learns from images alone (a 2-d X is one grayscale image)
        return est.fit(X)
    if y is None and not (is_classifier(est) or is_regressor(est)):
        return est.fit(X)
    return est.fit(X, y)


def predict(est, X):
    if _api(est) == "datasets":
        return est.predict(X, 0)
    if _api(est) == "images":
        return est.upscale(X)
    if hasattr(est, "predict"):
        return est.predict(X)
    return est.transform(X)


def _expect_error(fn, *words, forbid=()):
    try:
        fn()
    except NotFittedError:
        return "error"
    except ValueError as err:
        msg = str(err).lower()
        assert not words or any(w in msg for w in words), f"unclear error: {err}"
        for bad in forbid:
            assert bad not in msg, f"misleading error: {err}"
        return "error"
    raise AssertionError("accepted bad input without an error (silent failure)")


def _finite(a):
    a = np.asarray(a)
    if a.dtype.kind in "fc":
        assert np.all(np.isfinite(a)), "non-finite output"


# ------------------------------------------------------------------ the cases


def case_nan_X(est):
    X, y = data_for(est)
    X[3, 2] = np.nan
    return _expect_error(lambda: fit(est, X, y), "nan", "infinity", "finite")


def case_inf_X(est):
    X, y = data_for(est)
    X[0, 0] = np.inf
    return _expect_error(lambda: fit(est, X, y), "nan", "infinity", "finite")


def case_empty(est):
    X, y = data_for(est)
    return _expect_error(lambda: fit(est, X[:0], y[:0]), "0 sample", "empty", "no sample")


def case_one_row(est):
    X, y = data_for(est)
    try:
        fit(est, X[:1], y[:1])
    except ValueError as err:  # named: too few samples, one class, more clusters than samples
        msg = str(err).lower()
        assert any(w in msg for w in ("sample", "class", "cluster", "pixel")), f"unclear error: {err}"
        return "error"
    _finite(predict(est, X[:3]))
    return "ok"


def case_1d_X(est):
    X, y = data_for(est)
    return _expect_error(lambda: fit(est, X[:, 0], y), "2d", "2-d", "dimension", "reshape")


def case_3d_X(est):
    X, y = data_for(est, p=9)
    X3 = X.reshape(-1, 3, 3)
    try:
        fit(est, X3, y)
    except ValueError as err:
        msg = str(err).lower()
        assert any(w in msg for w in ("dim", "ambiguous", "shape")), f"unclear error: {err}"
        return "error"
    _finite(predict(est, X3))  # matrix-input models take 3-d X by design
    return "ok"


def case_strings_X(est):
    X, y = data_for(est)
    Xs = X.astype(str)
    Xs[0, 0] = "abc"
    return _expect_error(lambda: fit(est, Xs, y), "string", "float", "convert", "numeric")


def case_complex_X(est):
    X, y = data_for(est)
    return _expect_error(lambda: fit(est, X + 1j, y), "complex")


def case_sparse_X(est):
    X, y = data_for(est)
    try:
        fit(est, sp.csr_matrix(X), y)
    except ValueError as err:
        assert "sparse" in str(err).lower(), f"unclear error: {err}"
        return "error"
    _finite(predict(est, sp.csr_matrix(X)))
    return "ok"


def case_negative_strides(est):
    X, y = data_for(est)
    Xf, yf = X[::-1], y[::-1]
    fit(est, Xf, yf)
    a = predict(est, np.flip(X, axis=1)[:, ::-1][::-1])
    b = predict(est, np.ascontiguousarray(X[::-1]))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    return "ok"


def case_column_y(est):
    X, y = data_for(est)
    if _api(est) == "datasets":
        e2 = clone(est)
        fit(est, X, y.reshape(-1, 1))
        fit(e2, X, y)
    else:
        e2 = clone(est)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y.reshape(-1, 1))
        e2.fit(X, y)
    np.testing.assert_allclose(np.asarray(predict(est, X), float), np.asarray(predict(e2, X), float),
                               rtol=1e-6, atol=1e-8)
    return "ok"


def _no_targets_or_columns(est):
    """Image models take no named columns; any image width is valid."""
    return _api(est) == "images"


def _ignores_y(est):
    """Unsupervised estimators (clusterers, image models) ignore y, as in scikit-learn."""
    return not (is_classifier(est) or is_regressor(est))


def case_nan_y(est):
    if _ignores_y(est):
        return "ok"
    X, y = data_for(est)
    y = y.astype(float)
    y[2] = np.nan
    return _expect_error(lambda: fit(est, X, y), "nan", "infinity", "finite", "unknown", "label")


def case_string_y(est):
    if _ignores_y(est):
        return "ok"
    X, y = data_for(est)
    ys = np.where(y == 1, "high", "low") if is_classifier(est) else np.where(y > 0, "hi", "lo")
    if is_classifier(est):
        fit(est, X, ys)
        assert set(np.asarray(predict(est, X))) <= {"high", "low"}
        return "ok"
    return _expect_error(lambda: fit(est, X, ys), "numeric", "float", "convert", "string")


def case_one_class(est):
    if not is_classifier(est):
        return "ok"
    X, y = data_for(est)
    return _expect_error(lambda: fit(est, X, np.zeros_like(y)), "class")


def case_one_member_class(est):
    if not is_classifier(est):
        return "ok"
    X, y = data_for(est)
    y = y.copy()
    y[0] = 2  # a third class with a single member
    try:
        fit(est, X, y)
    except ValueError as err:
        assert "single class" not in str(err).lower(), f"misleading error: {err}"
        return "error"
    _finite(predict(est, X))
    return "ok"


def case_extreme_values(est):
    X, y = data_for(est)
    X[1, 1] = 1e25
    inner = getattr(est, "estimator", None)
    if inner is not None and not inner.__module__.startswith("glassnet"):
        fit(est, X, y)  # a meta-estimator leaves the data's range to what it wraps (here
        return "ok"  # a scikit-learn estimator, which accepts it)
    return _expect_error(lambda: fit(est, X, y), "magnitude", "large", "rescale", "overflow")


def case_reordered_columns(est):
    if _no_targets_or_columns(est):
        return "ok"
    X, y = data_for(est)
    df = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    fit(est, df, y)
    if _api(est) is None:
        assert list(getattr(est, "feature_names_in_", [])) == list(df.columns), "names not kept"
    return _expect_error(lambda: predict(est, df[df.columns[::-1]]), "feature names", "order")


def case_predict_before_fit(est):
    X, _ = data_for(est)
    return _expect_error(lambda: predict(est, X), "fit")


def case_wrong_feature_count(est):
    if _no_targets_or_columns(est):
        return "ok"
    X, y = data_for(est)
    fit(est, X, y)
    return _expect_error(lambda: predict(est, X[:, :-1]), "feature", "shape", "column")


CASES = {name[5:]: fn for name, fn in sorted(globals().items()) if name.startswith("case_")}


def run_case(cls, case):
    return CASES[case](fast_instance(cls))


# ------------------------------------------------------------ constructor arguments (issue 25)
# Invalid values are generated from each estimator's declared ``_parameter_constraints``: a
# fixed pool of wrong types and special numbers plus the values just outside every declared
# interval, option set and custom constraint; a value counts as invalid only if no declared
# constraint accepts it. A parameter added to a constructor is covered the day it is declared
# (and an undeclared one fails ``undeclared_params``).

_POOL = ("x", "", np.nan, np.inf, -np.inf, -1, 0, 1, 2.5, -2.5, 10**12, 1e300, True, None,
         (0,), (), [], (2.5, 2.5), {"a": 1}, object())


def undeclared_params(cls) -> list[str]:
    """Constructor arguments of ``cls`` without a declaration (all of them when the class
    declares no ``_parameter_constraints``), and declarations of no argument."""
    params = set(cls().get_params(deep=False))
    declared = getattr(cls, "_parameter_constraints", None)
    if declared is None:
        return sorted(params)
    return sorted(params ^ set(declared))


def _near(constraint):
    """Values just outside (and on the open ends of) one constraint."""
    from numbers import Integral

    from sklearn.utils._param_validation import Interval, StrOptions

    out = []
    if isinstance(constraint, Interval):
        step = 1 if constraint.type is Integral else 1e-6
        for end, sign in ((constraint.left, -1), (constraint.right, 1)):
            if end is not None:
                out += [end + sign * step, end, end + sign * 10**6]
        if constraint.type is Integral:
            lo = constraint.left if constraint.left is not None else 0
            out += [lo + 1.5, float(lo + 1), str(lo + 1)]
    elif isinstance(constraint, StrOptions):
        opt = min(constraint.options)
        out += [opt.upper() + "_", opt + " ", f"not {opt}"]
    if hasattr(constraint, "invalid_values"):
        out += list(constraint.invalid_values())
    return out


def invalid_values(constraints) -> list:
    """Values that no constraint in ``constraints`` (one parameter's list) accepts."""
    from sklearn.utils._param_validation import make_constraint

    made = [make_constraint(c) for c in constraints]
    cands = list(_POOL) + [v for c in made for v in _near(c)]
    out, seen = [], set()
    for v in cands:
        key = (type(v).__name__, repr(v))
        if key in seen or any(c.is_satisfied_by(v) for c in made):
            continue
        seen.add(key)
        out.append(v)
    return out


def param_cases(cls):
    """``[(parameter, invalid value)]`` of every declared constructor argument of ``cls``."""
    declared = getattr(cls, "_parameter_constraints", {})
    return [(name, v) for name in sorted(declared) for v in invalid_values(declared[name])]


def check_param_refused(cls, name, value):
    """``fit`` with ``name=value`` must raise scikit-learn's ``InvalidParameterError`` (a
    ``ValueError``) naming the parameter before any work: the data passed are ``None``, so a
    check that ran after reading them would fail on the data instead."""
    from sklearn.utils._param_validation import InvalidParameterError

    est = fast_instance(cls, **{name: value})
    try:
        fit(est, None, None)
    except InvalidParameterError as err:
        assert isinstance(err, ValueError)
        assert f"'{name}' parameter of {cls.__name__}" in str(err), f"misleading error: {err}"
        return "error"
    except ValueError as err:
        raise AssertionError(f"misleading error for {name}={value!r}: {err}") from err
    raise AssertionError(f"{name}={value!r} accepted without an error (silent failure)")
