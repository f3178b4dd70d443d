"""device= everywhere: resolve_device, and every public estimator's device parameter."""

from __future__ import annotations

import pytest
import torch

from glassnet.devices import AUTO_MIN_ELEMENTS, auto_device_for, resolve_device, to_numpy


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


def test_to_numpy():
    a = to_numpy(torch.ones(3, dtype=torch.bfloat16, requires_grad=False))
    assert a.dtype.kind == "f" and a.tolist() == [1.0, 1.0, 1.0]
    assert to_numpy([1, 2]).tolist() == [1, 2]
