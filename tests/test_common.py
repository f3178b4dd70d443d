"""Tests driven by the registries and the public API (issue 7): every exported estimator gets
scikit-learn's checks, the bad-input battery, a save/load round trip and a no-side-effects
check; every registered model runs forward and backward. Nothing here names an estimator or a
model, so a new one is covered the day it is exported or registered."""

from __future__ import annotations

import dataclasses
import signal
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import is_classifier
from sklearn.utils.estimator_checks import parametrize_with_checks

import glassnet
from battery import CASES, data_for, fit, predict, public_estimators, run_case
from glassnet.estimators.checks import (
    NON_STANDARD_API,
    STANDARD_CHECKS_APIS,
    expected_failed_checks,
    fast_instance,
)
from glassnet.registry import create_model, model_example, models

ESTIMATORS = public_estimators()
STANDARD = [c for c in ESTIMATORS
            if NON_STANDARD_API.get(c.__name__) in (None, *STANDARD_CHECKS_APIS)]
HANG_SECONDS = 120


class _Hang(Exception):
    pass


def _alarm(*_):
    raise _Hang(f"no answer within {HANG_SECONDS} s (hang)")


def test_public_api_lists_estimators():
    """Every estimator family is exported (ESTIMATORS is read off glassnet.__all__)."""
    assert {c.__name__ for c in ESTIMATORS} >= {
        "ADMMLogisticRegression", "IRLSADMMNetClassifier", "MultinomialIRLSADMMNetClassifier",
        "MatNetClassifier", "MatNetRegressor", "MatNetSR", "SPINNClassifier", "SPINNRegressor",
        "SPINNClassifierCV", "SPINNRegressorCV", "IntegrativeSPINN", "DSRLClustering",
        "DSRLClassifier", "StabilitySelection"}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_bad_input_battery(cls, case):
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HANG_SECONDS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcome = run_case(cls, case)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert outcome in ("error", "ok")


@parametrize_with_checks([fast_instance(c) for c in STANDARD],
                         expected_failed_checks=expected_failed_checks)
def test_sklearn_contract(estimator, check):
    check(estimator)


def _equal(a, b, where):
    if isinstance(a, torch.nn.Module):
        assert type(a) is type(b), where
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys(), where
        for k in sa:
            assert torch.equal(sa[k], sb[k]), f"{where}.{k}"
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _equal(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _equal(x, y, f"{where}[{i}]")
    elif dataclasses.is_dataclass(a) or hasattr(a, "__dict__") and not callable(a):
        assert type(a) is type(b), where
        _equal(vars(a), vars(b), where)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_save_load_round_trip_is_exact(cls, tmp_path):
    est = _reference_fit(cls)
    X, _ = data_for(est)
    glassnet.save(est, tmp_path / "model.glassnet")
    back = glassnet.load(tmp_path / "model.glassnet")
    assert type(back) is cls
    _equal(est.get_params(), back.get_params(), f"{cls.__name__} params")  # a wrapped estimator too
    _equal(vars(est), vars(back), cls.__name__)
    np.testing.assert_array_equal(np.asarray(predict(est, X)), np.asarray(predict(back, X)))
    if hasattr(est, "predict_proba") and is_classifier(est):
        np.testing.assert_array_equal(est.predict_proba(X), back.predict_proba(X))


def _blas_threads():
    from threadpoolctl import threadpool_info

    return sorted((i["filepath"], i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas")


def test_small_work_runs_numpy_blas_on_one_thread_and_restores_it():
    """``threads(1)`` limits NumPy's BLAS too: the IRLS-ADMM selection's small NumPy solves
    were 50x slower with two BLAS threads on a loaded 2-core machine (issue 9)."""
    from glassnet.utils import threads

    before = _blas_threads()
    assert before, "NumPy links a BLAS that threadpoolctl sees"
    with threads(1):
        assert all(n == 1 for _, n in _blas_threads())
        assert torch.get_num_threads() == 1
    assert _blas_threads() == before


def test_overlapping_blocks_in_two_threads_give_each_thread_its_count_back():
    """Torch's count is per thread: when the main thread's block ended first and a worker's
    last, the worker restored the count in its own thread and the main thread stayed on one
    thread for good. Each thread now restores its own; nesting keeps the outer count, warned."""
    import threading

    from glassnet.utils import threads

    torch.set_num_threads(2)
    inside, main_left = threading.Event(), threading.Event()

    def worker():
        with threads(1):
            inside.set()
            main_left.wait(10)

    with threads(1):
        w = threading.Thread(target=worker)
        w.start()
        inside.wait(10)
    main_left.set()
    w.join()
    assert torch.get_num_threads() == 2
    with threads(1), pytest.warns(UserWarning, match="do not nest"), threads(2):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2


def test_blas_limit_holds_in_a_worker_thread_after_the_main_thread_set_one():
    """threadpoolctl lets one "controlling" thread set OpenBLAS's process-wide limit and
    silently ignores the others; a ``threads(1)`` block in the main thread made it the
    controller for good, so fits in worker threads ran with the caller's BLAS threads (idle
    OpenBLAS workers spinning: 6x the CPU of the same fits one after the other)."""
    import threading

    from threadpoolctl import threadpool_limits

    from glassnet.utils import threads

    with threadpool_limits(2, user_api="blas"):  # two BLAS threads, so a limit of 1 shows
        before = _blas_threads()
        with threads(1):  # the main thread takes threadpoolctl's control here
            pass
        seen = []

        def worker():
            with threads(1):
                seen.append(_blas_threads())
            seen.append(_blas_threads())

        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert all(n == 1 for _, n in seen[0]), seen[0]
        assert seen[1] == before  # and the worker's block restored the caller's limit
    assert all(n >= 1 for _, n in _blas_threads())


# fast_instance(cls, random_state=seed) fitted on data_for(seed=seed) and its predictions, kept
# by the first test that fits it (in this process) for the later tests that compare against it
_FITTED: dict = {}


def _instance(cls, seed):
    return fast_instance(cls, random_state=seed) if "random_state" in cls().get_params() else fast_instance(cls)


def _fit_predict(cls, seed=0):
    est = _instance(cls, seed)
    X, y = data_for(est, seed=seed)
    out = np.asarray(predict(fit(est, X, y), X))
    _FITTED.setdefault((cls, seed), (est, out))
    return out


def _reference_predictions(cls, seed):
    """The sequential fit's predictions: reused when an earlier test made the same fit."""
    return _FITTED[(cls, seed)][1] if (cls, seed) in _FITTED else _fit_predict(cls, seed)


def _reference_fit(cls):
    """``fast_instance(cls)`` fitted on ``data_for``'s data (an earlier test's fit, or one now)."""
    if (cls, 0) not in _FITTED:
        _fit_predict(cls)
    return _FITTED[(cls, 0)][0]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_fit_leaves_the_callers_process_alone(cls):
    """random_state must not reseed torch's global generator; threads are restored."""
    torch.manual_seed(1234)
    expected = torch.rand(3)
    torch.manual_seed(1234)
    n_threads = torch.get_num_threads()
    blas = _blas_threads()
    _fit_predict(cls)  # fast_instance(cls) (random_state=0) on data_for(seed=0)
    assert torch.get_num_threads() == n_threads
    assert _blas_threads() == blas, "fit changed the BLAS thread counts"
    assert torch.equal(torch.rand(3), expected), "fit changed torch's global random state"


@pytest.mark.parametrize("cls", [c for c in ESTIMATORS if "random_state" in c().get_params()],
                         ids=lambda c: c.__name__)
def test_random_state_makes_fits_reproducible(cls):
    a = np.asarray(_reference_predictions(cls, 0), dtype=float)  # an earlier fit (or one now)
    torch.rand(5)  # global state moves between the fits: must not matter
    est = fast_instance(cls)
    X, y = data_for(est)
    b = np.asarray(predict(fit(est, X, y), X), dtype=float)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", sorted(models()))
def test_every_registered_model_runs_forward_and_backward(name):
    example = model_example(name)
    assert example is not None, f"model {name!r} was registered without an example"
    kwargs, inputs = example
    model = create_model(name, **kwargs)
    out = model(*inputs)
    tensors = _tensors(out)
    assert tensors and all(torch.isfinite(t).all() for t in tensors)
    sum(t.float().sum() for t in tensors if t.requires_grad).backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and any(g is not None and torch.any(g != 0) for g in grads)


@pytest.mark.parametrize("name", sorted(models()))
def test_every_registered_model_refuses_sizes_below_one(name):
    """Each integer size of a model's example set to 0 or -1 is a ValueError at construction
    (not a division by zero, a negative tensor dimension or a model without outputs)."""
    kwargs, _ = model_example(name)
    sizes = [k for k, v in kwargs.items() if isinstance(v, int) and not isinstance(v, bool)]
    shapes = [k for k, v in kwargs.items() if isinstance(v, tuple) and len(v) == 2
              and all(isinstance(x, int) and not isinstance(x, bool) for x in v)]
    assert sizes or shapes, f"{name}'s example has no size to check"
    for k in sizes:
        for bad in (0, -1):
            with pytest.raises(ValueError, match=rf"{k}|size|positive"):  # names the problem
                create_model(name, **{**kwargs, k: bad})
    for k in shapes:  # a (rows, cols) shape with a zero or negative side
        for bad in ((0, kwargs[k][1]), (kwargs[k][0], -1)):
            with pytest.raises(ValueError, match="positive"):
                create_model(name, **{**kwargs, k: bad})


def _tensors(out):
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _tensors(o)]
    if isinstance(out, dict):
        return [t for o in out.values() for t in _tensors(o)]
    if dataclasses.is_dataclass(out):
        return [t for o in vars(out).values() for t in _tensors(o)]
    return []


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_fits_in_threads_equal_sequential_fits_and_leave_the_process_alone(cls):
    """Two fits at once in threads (issue 25) give the fits run one after the other; torch's
    and BLAS's thread counts and torch's global generator are as before."""
    import threading

    ests = [_instance(cls, s) for s in (0, 1)]
    data = [data_for(e, seed=s) for e, s in zip(ests, (0, 1))]
    expected = [_reference_predictions(cls, s) for s in (0, 1)]  # the fits one after the other
    torch.manual_seed(77)
    rng_state = torch.get_rng_state()
    n_threads, blas = torch.get_num_threads(), _blas_threads()
    out, errors, barrier = [None, None], [], threading.Barrier(2)

    def run(i):
        try:
            barrier.wait()
            X, y = data[i]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out[i] = np.asarray(predict(fit(ests[i], X, y), X))
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    workers = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors
    for a, b in zip(out, expected):
        np.testing.assert_array_equal(a, b)
    assert torch.get_num_threads() == n_threads and _blas_threads() == blas
    assert torch.equal(torch.get_rng_state(), rng_state), "torch's global generator changed"
