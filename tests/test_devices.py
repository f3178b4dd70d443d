"""device= everywhere: resolve_device, and every public estimator's device parameter."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import glassnet
from battery import assert_on_cpu, data_for, fit, predict, public_estimators
from glassnet.devices import AUTO_MIN_ELEMENTS, auto_device_for, resolve_device, to_numpy
from glassnet.estimators.checks import fast_instance


def test_resolve_cpu_and_auto():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert resolve_device(" CPU ") == torch.device("cpu")
    auto = resolve_device("auto")
    assert auto == resolve_device(None)
    if torch.cuda.is_available():
        assert auto.type == "cuda"
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        assert auto.type == "mps"
    else:
        assert auto.type == "cpu"


@pytest.mark.parametrize("bad", ["tpu", "cuda:99", "bogus", "gpu", "", "meta", 3, 1.5])
def test_resolve_bad_device_names_it(bad):
    with pytest.raises(ValueError, match="device="):
        resolve_device(bad)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error when CUDA is absent")
def test_resolve_cuda_absent():
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda")


def test_auto_size_rule():
    assert auto_device_for("auto", AUTO_MIN_ELEMENTS - 1) == torch.device("cpu")
    assert auto_device_for("auto", AUTO_MIN_ELEMENTS) == resolve_device("auto")
    assert auto_device_for("cpu", 10**9) == torch.device("cpu")
    with pytest.raises(ValueError, match="bogus"):
        auto_device_for("bogus", 10)


@pytest.fixture
def mac(monkeypatch):
    """A machine whose only accelerator is Apple's MPS (faked: nothing runs on it here)."""
    from glassnet import devices

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(devices, "_mps_available", lambda: True)
    return devices


def test_mps_has_no_float64_auto_passes_over_it_a_named_one_is_refused(mac):
    big = AUTO_MIN_ELEMENTS
    assert auto_device_for("auto", big) == torch.device("mps")
    assert auto_device_for("auto", big, float64=True) == torch.device("cpu")
    assert auto_device_for(None, big, float64=True) == torch.device("cpu")
    assert auto_device_for("mps", 10) == torch.device("mps")
    with pytest.raises(ValueError, match="MPS has no float64"):
        auto_device_for("mps", 10, float64=True)
    with pytest.raises(ValueError, match="MPS has no float64"):
        auto_device_for(torch.device("mps"), None, float64=True)


# the estimators that keep float64 on the device: SPINN's solver and DSRL always, the others
# at their default dtype="float64"; MatNet's default float32 fit would run on MPS
FLOAT64_FITS = [pytest.param(c, id=c.__name__) for c in public_estimators()
                if "device" in c().get_params() and not c.__name__.startswith("MatNet")]


@pytest.mark.parametrize("cls", FLOAT64_FITS)
def test_fits_that_need_float64_refuse_a_named_mps_and_auto_stays_on_the_cpu(cls, mac, monkeypatch):
    X, y = data_for(fast_instance(cls))
    with pytest.raises(ValueError, match="MPS has no float64"):
        fit(fast_instance(cls, device="mps"), X, y)
    monkeypatch.setattr(mac, "AUTO_MIN_ELEMENTS", 1)  # every fit is "large": auto would take MPS
    est = fit(fast_instance(cls, device="auto"), X, y)
    assert est.device_ == "cpu"


def test_a_float32_matnet_may_use_mps_a_float64_one_may_not(mac):
    X, y = data_for(fast_instance(glassnet.MatNetClassifier))
    with pytest.raises(ValueError, match="MPS has no float64"):
        fit(fast_instance(glassnet.MatNetClassifier, device="mps", dtype="float64"), X, y)
    est = fast_instance(glassnet.MatNetClassifier, device="mps")
    assert est._fit_device(X) == torch.device("mps")


def test_to_numpy():
    a = to_numpy(torch.ones(3, dtype=torch.bfloat16, requires_grad=False))
    assert a.dtype.kind == "f" and a.tolist() == [1.0, 1.0, 1.0]
    assert to_numpy([1, 2]).tolist() == [1, 2]


# ------------------------------------------------------------------ every public estimator

ESTIMATORS = public_estimators()
def _marks(cls):
    if "estimator" in cls().get_params():  # a meta-estimator: the wrapped estimator has device=
        return [pytest.mark.skip(reason=f"{cls.__name__} wraps an estimator that takes device=")]
    return []


PARAMS = [pytest.param(c, id=c.__name__, marks=_marks(c)) for c in ESTIMATORS]


@pytest.mark.parametrize("cls", PARAMS)
def test_estimator_takes_device(cls):
    params = cls().get_params()
    assert "device" in params, f"{cls.__name__} has no device parameter"
    est = cls(device="cpu")
    assert est.get_params()["device"] == "cpu"  # stored as given (scikit-learn contract)
    assert cls(device=torch.device("cpu")).get_params()["device"] == torch.device("cpu")


@pytest.mark.parametrize("cls", PARAMS)
def test_cpu_fit_equals_default_and_fitted_state_is_on_the_cpu(cls):
    X, y = data_for(fast_instance(cls))
    default = fit(fast_instance(cls), X, y)
    on_cpu = fit(fast_instance(cls, device="cpu"), X, y)
    np.testing.assert_array_equal(np.asarray(predict(default, X), dtype=float),
                                  np.asarray(predict(on_cpu, X), dtype=float))
    assert getattr(on_cpu, "device_", "cpu") == "cpu"  # where it ran, for families that record it
    for name, value in vars(on_cpu).items():
        if name.endswith("_"):
            assert_on_cpu(value, name)


@pytest.mark.parametrize("bad", ["tpu", "cuda:99", "bogus"])
@pytest.mark.parametrize("cls", PARAMS)
def test_unknown_device_raises_before_any_work(cls, bad, monkeypatch):
    def no_work(*_a, **_k):
        raise AssertionError("a module ran before the device was checked")

    est = fast_instance(cls, device=bad)
    X, y = data_for(est)
    monkeypatch.setattr(torch.nn.Module, "__call__", no_work)
    with pytest.raises(ValueError, match=re.escape(bad)):
        fit(est, X, y)
    assert not hasattr(est, "module_")


def test_save_load_does_not_depend_on_the_device(tmp_path):
    cls = glassnet.MatNetClassifier
    X, y = data_for(fast_instance(cls))
    est = fast_instance(cls, device=torch.device("cpu")).fit(X, y)
    glassnet.save(est, tmp_path / "m.glassnet")
    back = glassnet.load(tmp_path / "m.glassnet")
    assert back.get_params()["device"] == torch.device("cpu")
    assert back.device_ == "cpu"
    np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))
    # a model saved with a device this machine lacks still loads and predicts on the CPU
    est.set_params(device="cuda:7")
    glassnet.save(est, tmp_path / "g.glassnet")
    back = glassnet.load(tmp_path / "g.glassnet")
    assert back.device == "cuda:7"
    np.testing.assert_array_equal(back.predict(X), est.predict(X))


def test_auto_keeps_small_fits_on_the_cpu():
    cls = glassnet.IRLSADMMNetClassifier
    X, y = data_for(fast_instance(cls))
    assert X.size < AUTO_MIN_ELEMENTS
    assert fast_instance(cls, device="auto").fit(X, y).device_ == "cpu"
