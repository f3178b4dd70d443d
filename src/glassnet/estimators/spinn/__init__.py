"""SPINN estimators (Feng & Simon's sparse-input neural networks, our softmax, group-MCP and
integrative extensions) on the shared selection engine.

- :mod:`.single`: ``SPINNRegressor`` / ``SPINNClassifier`` at one lambda;
- :mod:`.cv`: the one CV base and ``SPINNRegressorCV`` / ``SPINNClassifierCV``;
- :mod:`.integrative`: ``IntegrativeSPINN`` over several data sets;
- :mod:`._engine`: SPINN's start (null model, screen, dense fit) and relaxed refits.
"""

from glassnet.estimators.spinn._engine import HUBER_K, STARTS
from glassnet.estimators.spinn.cv import SELECTIONS, SPINNClassifierCV, SPINNRegressorCV
from glassnet.estimators.spinn.integrative import IntegrativeSPINN
from glassnet.estimators.spinn.single import (
    DEFAULT_LAMBDA_0,
    DEFAULT_LAMBDA_RATIO,
    SPINNClassifier,
    SPINNRegressor,
    plot_path,
)
from glassnet.model_selection import PathRecord
from glassnet.paths import robust_scale, screen_features

__all__ = ["DEFAULT_LAMBDA_0", "DEFAULT_LAMBDA_RATIO", "HUBER_K", "SELECTIONS", "STARTS", "IntegrativeSPINN",
           "PathRecord", "SPINNClassifier", "SPINNClassifierCV", "SPINNRegressor", "SPINNRegressorCV",
           "plot_path", "robust_scale", "screen_features"]
