"""torch ``nn.Module``s, one file per family (DESIGN.md rule 1). Importing this package
registers every model (``glassnet.registry.create_model``)."""

import importlib
import pkgutil

for _mod in pkgutil.iter_modules(__path__):
    if not _mod.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_mod.name}")
