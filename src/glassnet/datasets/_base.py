"""Where real data lives: a directory given by argument or ``$GLASSNET_DATA`` (DESIGN.md rule 9)."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "GLASSNET_DATA"


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """Resolve the data directory: ``path`` if given, else ``$GLASSNET_DATA``."""
    if path is None:
        path = os.environ.get(ENV_VAR)
        if not path:
            raise FileNotFoundError(
                f"no data directory: pass data_dir=... (CLI: --data-dir) or set ${ENV_VAR} "
                "to a folder laid out like glassnet's shared/data"
            )
    p = Path(path).expanduser()
    if not p.is_dir():
        raise FileNotFoundError(f"data directory {p} does not exist")
    return p


def require_file(directory: str | os.PathLike | None, relpath: str, source: str) -> Path:
    """Path of ``relpath`` in the data directory, or a FileNotFoundError naming its source."""
    base = data_dir(directory)
    f = base / relpath
    if not f.is_file():
        raise FileNotFoundError(f"expected data file {f} is missing; it comes from {source}")
    return f
