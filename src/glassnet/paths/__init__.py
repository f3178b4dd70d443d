"""The one path engine: the lambda grid, the second-order screen, stacks of networks trained
together, and warm-started paths (DESIGN.md rule 18). Families call these; none re-derives them."""

from glassnet.paths.follow import Problem, follow
from glassnet.paths.grid import geometric_grid, grid_to, lambda_max
from glassnet.paths.screen import robust_scale, screen_features
from glassnet.paths.stack import Batch, MaskProjection, fit_stack, masked_start

__all__ = ["Batch", "MaskProjection", "Problem", "fit_stack", "follow", "geometric_grid", "grid_to",
           "lambda_max", "masked_start", "robust_scale", "screen_features"]
