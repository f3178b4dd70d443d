import contextlib
import io
import os
import pickle
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest


def pytest_configure(config):
    """One torch thread per test process (``make test`` runs two workers on two cores). The
    pytest-xdist controller runs no test, so it does not import torch."""
    if getattr(config.option, "numprocesses", None) and "PYTEST_XDIST_WORKER" not in os.environ:
        return
    import torch

    torch.set_num_threads(1)

# ../shared/data beside the repository (CI layout), or $GLASSNET_DATA
_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir():
    d = os.environ.get("GLASSNET_DATA") or (str(_SHARED) if _SHARED.is_dir() else None)
    if d is None or not Path(d).is_dir():
        pytest.skip(f"real data not found: neither $GLASSNET_DATA nor {_SHARED} exists")
    return d


@dataclass
class TinyRun:
    """One test-suite-size run of a reproduction, with what it warned and wrote to stderr."""

    result: object  # glassnet.experiments.Result
    warnings: list  # (category, message) of every warning raised (filter "always")
    stderr: str


_TINY_RUNS: dict[str, TinyRun] = {}


@pytest.fixture(scope="session")
def tiny_run(request, tmp_path_factory):
    """``tiny_run(name)``: ``Config(quick=True, tiny=True, seed=0)`` of reproduction ``name``,
    run once per test session and shared by every test that checks it (the report test and
    the family's own tests ask for the same run). Data-bound reproductions skip without data.
    Under pytest-xdist (``make test``: ``-n 2``) the first worker to ask runs it and leaves it
    pickled beside the workers' temporary folders; the other waits on a file lock and reads it.
    """
    from filelock import FileLock  # a dependency of torch

    from glassnet.experiments import Config
    from glassnet.registry import experiments

    shared = tmp_path_factory.getbasetemp().parent if os.environ.get("PYTEST_XDIST_WORKER") else None

    def compute(name: str) -> TinyRun:
        exp = experiments()[name]
        data = request.getfixturevalue("data_dir") if exp.needs_data else None
        err = io.StringIO()
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(err):
            warnings.simplefilter("always")
            result = exp.run(Config(quick=True, tiny=True, seed=0, data_dir=data))
        return TinyRun(result, [(w.category, str(w.message)) for w in caught], err.getvalue())

    def run(name: str) -> TinyRun:
        if name not in _TINY_RUNS:
            if shared is None:
                _TINY_RUNS[name] = compute(name)
            else:
                path = shared / f"tiny-run-{name}.pickle"
                with FileLock(f"{path}.lock"):
                    if not path.is_file():
                        path.write_bytes(pickle.dumps(compute(name)))
                    _TINY_RUNS[name] = pickle.loads(path.read_bytes())
        return _TINY_RUNS[name]

    return run
