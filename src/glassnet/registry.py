"""Registries of models and experiments (DESIGN.md rule 12): the CLI and tests iterate them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

MODELS: dict[str, Callable] = {}
MODEL_EXAMPLES: dict[str, Callable] = {}
EXPERIMENTS: dict[str, Experiment] = {}


def register_model(name: str, *, example: Callable[[], tuple[dict, tuple]] | None = None):
    """Class decorator: make an ``nn.Module`` reachable as ``create_model(name, **kw)``.

    ``example()`` returns ``(kwargs, inputs)``: a small configuration and a batch for it. The
    test suite builds every registered model from its example and runs forward and backward,
    so a model registered without one fails the suite until it has one.
    """

    def deco(cls):
        if name in MODELS:
            raise ValueError(f"model {name!r} registered twice")
        MODELS[name] = cls
        if example is not None:
            MODEL_EXAMPLES[name] = example
        return cls

    return deco


def model_example(name: str) -> tuple[dict, tuple] | None:
    """``(kwargs, inputs)`` registered with the model, or None."""
    _load_all()
    fn = MODEL_EXAMPLES.get(name)
    return None if fn is None else fn()


def create_model(name: str, **kwargs):
    _load_all()
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {sorted(MODELS)}")
    return MODELS[name](**kwargs)


@dataclass
class Experiment:
    name: str
    run: Callable
    paper: str
    description: str
    needs_data: list[str] = field(default_factory=list)


def register_experiment(name: str, *, paper: str, description: str, needs_data=()):
    """Function decorator: ``run(config) -> Result`` becomes ``glassnet reproduce NAME``."""

    def deco(fn):
        if name in EXPERIMENTS:
            raise ValueError(f"experiment {name!r} registered twice")
        EXPERIMENTS[name] = Experiment(name, fn, paper, description, list(needs_data))
        return fn

    return deco


def _load_all():
    """Import the modules that register models and experiments."""
    import glassnet.experiments
    import glassnet.nn  # noqa: F401


def experiments() -> dict[str, Experiment]:
    _load_all()
    return dict(sorted(EXPERIMENTS.items()))


def models() -> dict[str, Callable]:
    _load_all()
    return dict(sorted(MODELS.items()))
