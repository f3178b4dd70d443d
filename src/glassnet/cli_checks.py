"""Checks of command-line arguments shared by ``glassnet train`` and ``glassnet reproduce``
(issue 25): each returns the problem as an argparse-style message (naming the option) or None,
so a command refuses every bad argument before it reads data or builds a model."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

__all__ = ["MAX_REPRODUCE_SEED", "MAX_SEED", "check_number", "check_out"]

MAX_SEED = 2**32 - 1  # numpy's seeds are 32-bit; torch's accept these too
# reproductions derive seeds up to 10,000 x seed + 999 (irls-admm-simulation's data sets), which
# must stay a 32-bit seed: their --seed is bounded so that every derived one is
MAX_REPRODUCE_SEED = 100_000


def check_number(flag: str, value, *, low=None, high=None, low_open=False, high_open=False,
                 allow_none=False) -> str | None:
    """Why ``value`` (of option ``flag``) is not a finite number in the range, or None."""
    if value is None:
        return None if allow_none else f"argument {flag}: a value is required"
    if isinstance(value, float) and not math.isfinite(value):
        return f"argument {flag}: must be a finite number, got {value}"
    if low is not None and (value < low or (low_open and value == low)):
        return f"argument {flag}: must be {'>' if low_open else '>='} {low}, got {value}"
    if high is not None and (value > high or (high_open and value == high)):
        return f"argument {flag}: must be {'<' if high_open else '<='} {high}, got {value}"
    return None


def check_out(out, flag: str = "--out") -> str | None:
    """Why folder ``out`` cannot be created and written (before hours of work), or None. The
    write is tried for real (a temporary file in the nearest existing folder): ``os.access``
    answers yes to root even where writes fail (``/proc``)."""
    if out is None or not str(out).strip():
        return f"argument {flag}: must name a folder, got {out!r}"
    out = Path(out)
    probe = out
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        return f"argument {flag}: {probe} exists and is not a folder"
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as err:
        return f"argument {flag}: cannot write in {probe} ({err.strerror or err})"
    return None
