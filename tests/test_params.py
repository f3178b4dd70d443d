"""Every constructor argument of every public estimator is declared in scikit-learn's
``_parameter_constraints`` and refused, naming it, before any work (issue 25).

The invalid values are generated from the declarations (``battery.invalid_values``: wrong
types, nan, inf, values just outside each interval or option set), so a parameter is covered
the day it is declared, and an estimator or parameter without a declaration fails
``test_every_constructor_argument_is_declared``."""

from __future__ import annotations

import math
import numbers
from typing import ClassVar

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError, StrOptions

from battery import (
    check_param_refused,
    fit,
    invalid_values,
    param_cases,
    public_estimators,
    undeclared_params,
)
from glassnet.estimators.base import GlassnetEstimator, Interval, IntTuple, ListOf, Reals
from glassnet.estimators.checks import fast_instance

ESTIMATORS = public_estimators()
PARAMS = [(cls, name) for cls in ESTIMATORS
          for name in sorted(getattr(cls, "_parameter_constraints", {}))]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_constructor_argument_is_declared(cls):
    assert undeclared_params(cls) == [], f"{cls.__name__}: declare these in _parameter_constraints"


def test_an_estimator_without_declarations_fails_the_declaration_check():
    class Undeclared(GlassnetEstimator):
        def __init__(self, alpha=1.0):
            self.alpha = alpha

    class Partly(Undeclared):
        _parameter_constraints: ClassVar[dict] = {"beta": [Interval(numbers.Real, 0, None, closed="left")]}

    assert undeclared_params(Undeclared) == ["alpha"]
    assert undeclared_params(Partly) == ["alpha", "beta"]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_defaults_and_fast_settings_are_valid(cls):
    cls()._validate_params()
    fast_instance(cls)._validate_params()


@pytest.mark.parametrize(("cls", "name"), PARAMS, ids=lambda v: getattr(v, "__name__", v))
def test_every_invalid_value_is_refused_naming_the_parameter(cls, name):
    values = [v for n, v in param_cases(cls) if n == name]
    assert values, f"no invalid value generated for {cls.__name__}.{name}"
    for v in values:
        assert check_param_refused(cls, name, v) == "error"


# the audit's examples (issue 25): each estimator that has the parameter must refuse the value
ISSUE_VALUES = {
    "lam": [np.nan, np.inf, -1.0, "x"], "rho": [np.inf, np.nan, -1.0], "rho_init": [np.nan],
    "F_init": [np.nan, 0.0, -1.0], "t_init": [np.nan], "lr": [0.0, -1.0, np.inf, np.nan],
    "k_max": [10**9, 2.5], "i_max": [10**9], "n_lambdas": [0, 2.5], "hidden": [(0,), (-1,), "x"],
    "batch_size": [-1, 0], "alpha": [np.inf], "n_patches": [10**11], "max_epochs": ["x", 10**9],
    "lambda_min_ratio": [0, 1.5], "beta": [-1.0], "tol": [-1.0, np.nan], "patience": [-1, 2.5],
    "n_path": [0], "relax": ["no"], "tied": ["no"], "unit_norm": ["no"], "refit": ["no"],
    "n_neighbors": [2.5], "n_layers": [2.5], "weight_decay": [np.inf],
}
ISSUE_CASES = [(cls, name, v) for cls in ESTIMATORS for name, vals in ISSUE_VALUES.items()
               for v in vals if name in cls().get_params(deep=False)]


@pytest.mark.parametrize(("cls", "name", "value"), ISSUE_CASES,
                         ids=lambda v: getattr(v, "__name__", repr(v)))
def test_issue_examples_are_refused(cls, name, value):
    assert check_param_refused(cls, name, value) == "error"


def test_matnet_rho_must_lie_in_the_open_unit_interval():
    from glassnet import MatNetClassifier

    for v in (0.0, 1.0, 1.5, -0.1, np.nan):
        assert check_param_refused(MatNetClassifier, "rho", v) == "error"


def test_the_message_is_scikit_learns_and_names_the_range():
    from glassnet import SPINNRegressorCV

    with pytest.raises(InvalidParameterError, match=r"'lambda_min_ratio' parameter of "
                       r"SPINNRegressorCV must be a float in the range \(0.0, 1.0\)"):
        SPINNRegressorCV(lambda_min_ratio=1.5).fit(np.zeros((5, 2)), np.zeros(5))


def test_a_valid_configuration_reaches_the_data_checks():
    """The None data of ``check_param_refused`` are refused on their own when the parameters
    are valid: the parameter errors above did come before any data were read."""
    for cls in ESTIMATORS:
        est = fast_instance(cls)
        with pytest.raises((ValueError, TypeError)) as info:
            fit(est, None, None)
        assert not isinstance(info.value, InvalidParameterError), cls.__name__


# ------------------------------------------------------------ the generator itself


def test_generated_values_break_every_declared_constraint():
    real = [Interval(numbers.Real, 0, None, closed="neither")]
    vals = invalid_values(real)
    assert any(isinstance(v, float) and math.isnan(v) for v in vals)
    assert np.inf in vals and 0 in vals and -1e-6 in vals and "x" in vals and True in vals
    ints = [Interval(numbers.Integral, 1, 100, closed="both")]
    vals = invalid_values(ints)
    assert {0, 101, 2.5, 10**12} <= {v for v in vals if isinstance(v, (int, float))}
    opts = [StrOptions({"a", "b"}), None]
    assert None not in invalid_values(opts) and "a" not in invalid_values(opts)
    for cons in ([IntTuple(length=2)], [ListOf(IntTuple(length=2))], [Reals()]):
        vals = invalid_values(cons)
        assert vals and not any(cons[0].is_satisfied_by(v) for v in vals)


def test_custom_constraints():
    assert IntTuple().is_satisfied_by(()) and IntTuple().is_satisfied_by((3, 4))
    assert not IntTuple().is_satisfied_by((0,)) and not IntTuple().is_satisfied_by((True,))
    assert not IntTuple(length=2).is_satisfied_by((3,)) and not IntTuple().is_satisfied_by("ab")
    assert ListOf(IntTuple(length=2)).is_satisfied_by([(2, 2), (3, 1)])
    assert not ListOf(IntTuple(length=2)).is_satisfied_by([])
    assert ListOf(IntTuple(length=2), min_len=0).is_satisfied_by([])
    assert Reals().is_satisfied_by((1e-3, 0.0)) and Reals().is_satisfied_by(np.array([1.0]))
    assert not Reals().is_satisfied_by((np.nan,)) and not Reals().is_satisfied_by((-1.0,))
    assert not Interval(numbers.Real, 0, None, closed="left").is_satisfied_by(True)
