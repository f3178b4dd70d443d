"""Where a model runs: one function that turns a user's ``device`` argument into a ``torch.device``.

Every estimator and ``glassnet train`` take ``device=``; they call :func:`resolve_device` at the
start of ``fit`` (before any work), so a device that does not exist fails at once with a
``ValueError`` naming it.

>>> resolve_device("cpu")
device(type='cpu')
>>> resolve_device("auto").type in {"cpu", "cuda", "mps"}
True

Accepted values
---------------
``None`` or ``"auto"``
    CUDA if available, else Apple MPS if available, else the CPU.
``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"``
    That device; CUDA / MPS must be available and ``N`` below the number of visible GPUs.
a ``torch.device``
    Checked the same way.

:func:`auto_device_for` is the size rule an estimator may use for ``"auto"``: for small problems
the CPU is usually faster than launching GPU kernels, so ``"auto"`` stays on the CPU below
``AUTO_MIN_ELEMENTS`` entries of ``X`` (``n_samples * n_features``) unless a device is named,
and passes over Apple's MPS, which has no float64, for fits that need float64 on the device.
"""

from __future__ import annotations

import re

import numpy as np
import torch

__all__ = ["AUTO_MIN_ELEMENTS", "auto_device_for", "resolve_device", "to_numpy"]

#: below this many entries in X (n_samples * n_features), ``device="auto"`` in an estimator keeps
#: the fit on the CPU: kernel-launch overhead dominates a GPU's speed on small full-batch problems.
AUTO_MIN_ELEMENTS = 1_000_000

_PATTERN = re.compile(r"^(cpu|cuda|mps)(:(\d+))?$")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def _auto() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_device(device) -> torch.device:
    """Return the ``torch.device`` for ``device``; raise ``ValueError`` if it is unknown or absent.

    ``device`` may be ``None`` / ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``,
    ``"cuda:N"``, ``"mps"`` or a ``torch.device``.
    """
    if device is None:
        return _auto()
    if isinstance(device, torch.device):
        dev = device
        text = str(device)
    elif isinstance(device, str):
        text = device.strip().lower()
        if text == "auto":
            return _auto()
        m = _PATTERN.match(text)
        if m is None:
            raise ValueError(
                f"device={device!r} is not a known device; use 'auto', 'cpu', 'cuda', "
                f"'cuda:N', 'mps' or a torch.device")
        dev = torch.device(text)
    else:
        raise ValueError(
            f"device={device!r} must be a string ('auto', 'cpu', 'cuda', 'cuda:N', 'mps') "
            f"or a torch.device, got {type(device).__name__}")
    if dev.type == "cpu":
        return torch.device("cpu")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={text!r} was requested but CUDA is not available here")
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise ValueError(
                f"device={text!r} does not exist: {count} CUDA device(s) visible "
                f"(cuda:0 .. cuda:{count - 1})")
        return dev
    if dev.type == "mps":
        if not _mps_available():
            raise ValueError(f"device={text!r} was requested but MPS is not available here")
        if dev.index not in (None, 0):
            raise ValueError(f"device={text!r} does not exist: MPS has one device (mps or mps:0)")
        return dev
    raise ValueError(
        f"device={text!r} is not supported; use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")


def auto_device_for(device, n_elements: int | None = None,
                    float64: bool = False) -> torch.device:
    """Resolve ``device`` like :func:`resolve_device`, but let ``"auto"`` stay on the CPU for small data.

    With ``device`` ``None`` or ``"auto"`` and ``n_elements`` (entries of ``X``) below
    :data:`AUTO_MIN_ELEMENTS`, the CPU is returned. A named device is always honoured.

    ``float64``: the fit keeps float64 tensors on its device (a float64 ``dtype``, or sums a
    solver keeps in float64). Apple's MPS has no float64 (PyTorch refuses to make such a
    tensor there), so ``"auto"`` then passes over MPS to the CPU, and a named MPS device raises
    a ``ValueError`` before anything runs there, not a ``TypeError`` in the middle of the fit.
    """
    is_auto = device is None or (isinstance(device, str) and device.strip().lower() == "auto")
    if is_auto and n_elements is not None and n_elements < AUTO_MIN_ELEMENTS:
        return torch.device("cpu")
    dev = resolve_device(device)
    if float64 and dev.type == "mps":
        if is_auto:
            return torch.device("cpu")
        raise ValueError(
            f"device={device!r}: Apple's MPS has no float64, which this fit keeps on its device "
            "(a float64 dtype or float64 sums in its solver); use device='cpu' or 'auto'")
    return dev


def to_numpy(t) -> np.ndarray:
    """A detached CPU numpy copy of a tensor (any device, any float dtype incl. bf16)."""
    if not torch.is_tensor(t):
        return np.asarray(t)
    t = t.detach()
    if t.dtype in (torch.bfloat16, torch.float16):
        t = t.float()
    return t.cpu().numpy()
