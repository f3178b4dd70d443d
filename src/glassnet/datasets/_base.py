"""Where real data lives: a directory given by argument or ``$GLASSNET_DATA`` (DESIGN.md rule 9)."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "GLASSNET_DATA"


def default_data_dir() -> Path | None:
    """Where glassnet looks when no folder is given: ``$GLASSNET_DATA``, else a ``shared/data``
    folder beside the repository (the layout CI and the tests use: ``../shared/data`` seen from
    the checkout), else ``../shared/data`` seen from the working directory; None if none exists."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    repo = Path(__file__).resolve().parents[3]  # src/glassnet/datasets/_base.py -> checkout
    for cand in (repo.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"):
        if cand.is_dir():
            return cand
    return None


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """Resolve the data directory: ``path`` if given, else :func:`default_data_dir`."""
    if path is None:
        path = default_data_dir()
        if path is None:
            raise FileNotFoundError(
                f"no data directory: pass data_dir=... (CLI: --data-dir) or set ${ENV_VAR} "
                "to a folder laid out like glassnet's shared/data (see its README for sources)"
            )
    p = Path(path).expanduser()
    if not p.is_dir():
        raise FileNotFoundError(f"data directory {p} " + ("is a file, not a folder" if p.exists()
                                                          else "does not exist"))
    return p


def require_file(directory: str | os.PathLike | None, relpath: str, source: str) -> Path:
    """Path of ``relpath`` in the data directory, or a FileNotFoundError naming its source."""
    base = data_dir(directory)
    f = base / relpath
    if not f.is_file():
        raise FileNotFoundError(f"expected data file {f} is missing; it comes from {source}")
    return f


def read_mat(f: Path, *variables: str, any_of: tuple[str, ...] = ()) -> dict:
    """``scipy.io.loadmat(f)``, with a ``ValueError`` naming the file when it cannot be read (a
    truncated or foreign file) or lacks one of ``variables`` (or all of ``any_of``)."""
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    try:
        d = loadmat(f)
    except (MatReadError, ValueError, OSError, TypeError) as err:
        raise ValueError(f"{f} is not a readable MATLAB file ({type(err).__name__}: {err})") from err
    missing = [v for v in variables if v not in d]
    if any_of and not any(v in d for v in any_of):
        missing.append(" or ".join(any_of))
    if missing:
        raise ValueError(f"{f}: expected variables {missing} are missing")
    return d


def as_pixels(a, where: str, shape_tail: tuple, n_labels: int | None = None, labels=None):
    """Images as uint8 after checking that every value is an integer in [0, 255] and that each
    image has shape ``shape_tail``; with ``labels``, also that they are integers in
    ``[0, n_labels)`` and as many as the images. A ValueError names ``where`` otherwise (a
    float image in [0, 1] or a pixel of 300 used to be cast to uint8 silently)."""
    import numpy as np

    a = np.asarray(a)
    if a.ndim != 1 + len(shape_tail) or tuple(a.shape[1:]) != tuple(shape_tail):
        raise ValueError(f"{where}: images of shape {tuple(a.shape[1:])}, expected {tuple(shape_tail)}")
    if a.size and (a.dtype.kind not in "biuf" or not np.all(np.isfinite(a)) or a.min() < 0
                   or a.max() > 255 or not np.all(a == np.round(a))):
        raise ValueError(f"{where}: pixels must be integers in [0, 255]")
    if labels is not None:
        y = np.asarray(labels)
        if y.shape != (a.shape[0],):
            raise ValueError(f"{where}: {a.shape[0]} images but labels of shape {y.shape}")
        check_labels(y, where, n_labels)
    return a.astype(np.uint8)


def check_labels(labels, where: str, n_labels: int, what: str = "labels"):
    """``labels`` as int64 after checking that they are integers in ``[0, n_labels)``; a
    ValueError names ``where`` and the values outside (a fraction was truncated by the cast, a
    label past the classes failed in the loss)."""
    import numpy as np

    y = np.asarray(labels)
    if y.size and (y.dtype.kind not in "biuf" or not np.all(np.isfinite(y)) or not np.all(y == np.round(y))):
        raise ValueError(f"{where}: {what} must be integers in [0, {n_labels}), got {y.dtype} values")
    bad = np.unique(y[(y < 0) | (y >= n_labels)])
    if bad.size:
        raise ValueError(f"{where}: {what} must be in [0, {n_labels}), got "
                         f"{', '.join(map(str, bad[:10]))}{' ...' if bad.size > 10 else ''}")
    return y.astype(np.int64)


def check_draw(random_state=None, nonnegative=None, **counts):
    """The arguments of a data generator: each count an int (or, for per-set sizes, a
    non-empty sequence of ints) of at least 1, or 0 where the count's name ends in ``_or_0``;
    ``nonnegative``: ``{name: value}`` finite numbers >= 0; ``random_state`` None, an int >= 0 or
    a numpy Generator / RandomState. A ValueError names the first argument outside these (numpy
    used to truncate floats or fail with its own message)."""
    import numbers

    import numpy as np

    for key, v in counts.items():
        name, low = (key[:-5], 0) if key.endswith("_or_0") else (key, 1)
        vals = list(v) if isinstance(v, (list, tuple, np.ndarray)) else [v]
        if not vals or any(isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral) or x < low
                           for x in vals):
            raise ValueError(f"{name} must be {'an int' if len(vals) == 1 and vals[0] is v else 'ints'} "
                             f">= {low}, got {v!r}")
    for name, v in (nonnegative or {}).items():
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (np.isfinite(v) and v >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
    ok = (random_state is None or isinstance(random_state, (np.random.Generator, np.random.RandomState))
          or (isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)
              and random_state >= 0))
    if not ok:
        raise ValueError(f"random_state must be None, an int >= 0 or a numpy Generator, got {random_state!r}")
