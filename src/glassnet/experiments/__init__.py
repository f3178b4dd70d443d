"""Paper reproductions (DESIGN.md rule 7): each is ``run(config) -> Result``, registered by name.

The registry (:mod:`glassnet.registry`) knows every experiment's name, module and description,
and imports a module only when its experiment runs, so ``glassnet list`` stays fast. A new
module registers with ``@register_experiment`` and adds one line to
``glassnet.registry.EXPERIMENT_INDEX``.
"""

from __future__ import annotations

from glassnet.experiments._base import Config, Result, write_result

__all__ = ["Config", "Result", "write_result"]
