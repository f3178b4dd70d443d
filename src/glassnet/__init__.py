"""glassnet: model-based, white-box neural networks.

The public API is the estimators; modules live in ``glassnet.nn``, the training loop in
``glassnet.training``, penalties in ``glassnet.penalties``.
"""

from importlib import import_module

# Bump it whenever a default, a fitted attribute or a saved field changes: glassnet.load refuses
# files saved by another version, and a model saved under other defaults would load mislabelled.
__version__ = "0.4.0"

# estimator name -> module under glassnet.estimators (imported lazily: torch loads on demand)
_ESTIMATORS = {
    "IRLSADMMNetClassifier": "irls_admm",
    "ADMMLogisticRegression": "irls_admm",
    "MultinomialIRLSADMMNetClassifier": "irls_admm_multinomial",
    "MatNetClassifier": "matnet",
    "MatNetRegressor": "matnet",
    "MatNetSR": "matnet_sr",
    "SPINNClassifier": "spinn",
    "SPINNRegressor": "spinn",
    "SPINNClassifierCV": "spinn",
    "SPINNRegressorCV": "spinn",
    "IntegrativeSPINN": "spinn",
    "DSRLClustering": "dsrl",
    "DSRLClassifier": "dsrl",
}

__all__ = [
    "ADMMLogisticRegression",
    "DSRLClassifier",
    "DSRLClustering",
    "IRLSADMMNetClassifier",
    "IntegrativeSPINN",
    "MatNetClassifier",
    "MatNetRegressor",
    "MatNetSR",
    "MultinomialIRLSADMMNetClassifier",
    "SPINNClassifier",
    "SPINNClassifierCV",
    "SPINNRegressor",
    "SPINNRegressorCV",
    "StabilitySelection",
    "create_model",
    "load",
    "models",
    "save",
    "threads",
]


def __getattr__(name):
    if name in _ESTIMATORS:
        return getattr(import_module(f"glassnet.estimators.{_ESTIMATORS[name]}"), name)
    if name in ("save", "load"):
        return getattr(import_module("glassnet.persistence"), name)
    if name == "threads":
        return import_module("glassnet.utils").threads
    if name == "StabilitySelection":  # a meta-estimator over any selector (glassnet.stability)
        return import_module("glassnet.stability").StabilitySelection
    if name in ("create_model", "models"):  # registered nn.Modules by name (glassnet.registry)
        return getattr(import_module("glassnet.registry"), name)
    raise AttributeError(f"module 'glassnet' has no attribute {name!r}")
