"""Paper reproductions (DESIGN.md rule 7): each is ``run(config) -> Result``, registered by name.

Every module in this package is imported on first use of the registry, so a new file with a
``@register_experiment`` function is reachable from ``glassnet reproduce`` and the tests.
"""

from __future__ import annotations

import importlib
import pkgutil

from glassnet.experiments._base import Config, Result, write_result

__all__ = ["Config", "Result", "write_result"]

for _mod in pkgutil.iter_modules(__path__):
    if not _mod.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_mod.name}")
