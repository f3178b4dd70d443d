"""Process-friendly helpers (DESIGN.md rule 17): local randomness and scoped thread settings.

Nothing here changes the caller's process for longer than a ``with`` block: :func:`local_seed`
forks torch's global generator and restores it on exit, and :func:`threads` restores torch's
and the BLAS libraries' thread counts. Estimators run their ``fit`` inside :func:`fit_context`.

Both are safe when fits run at once in several threads (issue 25): torch's generator and thread
counts are process-wide, so a per-call save/restore races (one thread restores what another
set). :func:`local_seed` holds a process-wide re-entrant lock for its block, so the seeded
sections of concurrent fits run one after the other (each sees only its own seed; the caller's
generator state is restored once); :func:`seed_lock_released` lends that lock to worker threads
a fit waits on; :func:`threads` counts the blocks in force: the first sets
the counts, the others run under them, the last restores BLAS's. Torch's count is kept per
thread by OpenMP (each thread re-reads the last value set anywhere only when it next starts a
parallel region), so each thread puts back its own count when its outermost block ends.
"""

from __future__ import annotations

import contextlib
import functools
import numbers
import threading
from contextvars import ContextVar

import numpy as np
import torch

__all__ = ["auto_threads", "fit_context", "local_seed", "resolve_seed", "seed_lock_released", "threads",
           "with_auto_threads"]

# work (parameters x rows per step) below which extra intra-op threads cost more than they give:
# measured on 2 cores for the README's examples (benchmarks/bench_threads.py)
SMALL_WORK = 5_000_000
# input size (entries of X) below which an estimator method runs on one thread
SMALL_INPUT = 2_000_000

# set while a thread count is in force (the user's ``threads(n)`` or an outer estimator call):
# inner "auto" choices then leave it alone
_CHOSEN: ContextVar[bool] = ContextVar("glassnet_threads_chosen", default=False)
# torch's global generator is one per process: seeded blocks of different threads take turns
_SEED_LOCK = threading.RLock()
# BLAS limits are one per process: (lock, [active blocks, count in force, blas limiter]); torch's
# count is restored per thread (its own count on entering its outermost block, and that depth)
_THREADS_LOCK = threading.Lock()
_THREADS_STATE: list = [0, None, None]
_THREADS_LOCAL = threading.local()


def resolve_seed(random_state) -> int | None:
    """An int seed from ``random_state`` (None, int or ``numpy.random.Generator`` /
    ``RandomState``); None stays None (fresh entropy)."""
    if random_state is None:
        return None
    if isinstance(random_state, (bool, np.bool_)):
        raise ValueError(f"random_state must be None, an int or a numpy Generator, got {random_state!r}")
    if isinstance(random_state, numbers.Integral):
        if not 0 <= int(random_state) < 2**63:
            raise ValueError(f"random_state must be in [0, 2**63), got {random_state}")
        return int(random_state)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    raise ValueError(f"random_state must be None, an int or a numpy Generator, got {random_state!r}")


@contextlib.contextmanager
def local_seed(random_state):
    """Run a block with torch's global generator seeded from ``random_state``, then put the
    caller's generator state back (``torch.random.fork_rng``). ``None``: fresh entropy."""
    seed = resolve_seed(random_state)
    # torch.manual_seed seeds the CUDA generators too: fork them when the caller has CUDA up
    # (forking would start CUDA otherwise; an uninitialised CUDA takes the seed lazily)
    cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
    with _SEED_LOCK, torch.random.fork_rng(devices=list(range(torch.cuda.device_count())) if cuda else []):
        if seed is None:
            torch.seed()
        else:
            torch.manual_seed(seed)
        yield seed


@contextlib.contextmanager
def seed_lock_released():
    """Inside a :func:`local_seed` block, hand the seed lock to other threads of this process
    while the block waits on them, then take it back with torch's generator as it was.

    A fit holds the lock for its whole ``fit_context``; when it fans out through joblib and the
    workers are threads of this process (``joblib.parallel_backend("threading")``, a Dask
    cluster with ``processes=False``), each worker's seeded training waits for that lock while
    the fit waits for the workers: a deadlock. Around the fan-out the lock is released, so the
    workers' seeded sections take turns (each with its own seed, as with processes) and the
    result equals ``n_jobs=1``'s. Outside a ``local_seed`` block of this thread it does nothing.
    """
    lock = _SEED_LOCK
    owned = getattr(lock, "_is_owned", None)
    if owned is None or not owned():  # not held here (or an RLock without CPython's methods)
        yield
        return
    state = torch.random.get_rng_state()
    saved = lock._release_save()  # every level of the re-entrant lock (threading.Condition's way)
    try:
        yield
    finally:
        lock._acquire_restore(saved)
        torch.random.set_rng_state(state)


@functools.lru_cache(maxsize=1)
def _blas_controller():
    """threadpoolctl's view of the loaded BLAS libraries (NumPy's and SciPy's, both imported
    with glassnet), built once: building it scans the process's libraries (4.5 ms), which
    every estimator call would otherwise pay; ``limit`` on it costs 0.05 ms."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextlib.contextmanager
def threads(n: int | None):
    """Run a block with ``n`` torch intra-op threads and ``n`` BLAS threads (NumPy's and
    SciPy's, through threadpoolctl), and restore the caller's counts.

    ``None`` leaves the settings alone. Blocks do not nest: while one is in force (in any
    thread), later blocks run under its count (a nested block of another count in the same
    thread warns). Use it around small-tensor work, where several threads
    cost more in synchronisation than they give (issue 11: 69.5 s vs 3.4 s on 2 cores). The BLAS
    limit matters as much as torch's: the IRLS-ADMM selection's small NumPy solves took 58 ms
    each instead of under 1 ms with two BLAS threads on a loaded 2-core machine (issue 9)."""
    if n is None:
        yield
        return
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n_threads must be a positive int or None, got {n!r}")
    _enter_threads(int(n))
    token = _CHOSEN.set(True)
    try:
        yield
    finally:
        _CHOSEN.reset(token)
        _exit_threads()


def _release_blas_control() -> None:
    """Let the calling thread set OpenBLAS's (process-wide) limit. threadpoolctl >= 3.6 lets
    only one "controlling" thread change it and silently ignores the others; it hands control
    back only through its ``with`` blocks, whose bookkeeping is per thread. Our blocks start
    and end in whichever threads come first and last, so without this a fit in a worker thread
    after any fit in the main thread ran with two BLAS threads whose idle workers spin: 6x the
    CPU time for two IRLS-ADMM fits in threads (tests/test_common.py's threads test)."""
    import threadpoolctl

    release = getattr(getattr(threadpoolctl, "OpenBLASController", None), "clear_controlling_thread", None)
    if release is not None:
        release(force=True)


def _enter_threads(n: int) -> None:
    """The first block in force sets the BLAS limit; later ones, from any thread, run under its
    count until the last one leaves. Each thread sets its own torch count (kept per thread)."""
    with _THREADS_LOCK:
        if _THREADS_STATE[0] == 0:
            _release_blas_control()
            limiter = _blas_controller().limit(limits=n, user_api="blas")
            _release_blas_control()
            _THREADS_STATE[1:] = [n, limiter]
        _THREADS_STATE[0] += 1
        in_force = _THREADS_STATE[1]
    depth = getattr(_THREADS_LOCAL, "depth", 0)
    if depth == 0:
        _THREADS_LOCAL.before = torch.get_num_threads()
    elif n != in_force:
        import warnings

        warnings.warn(f"glassnet.threads({n}) inside a glassnet.threads({in_force}) block: blocks "
                      f"do not nest, {in_force} thread(s) stay in force", stacklevel=4)
    _THREADS_LOCAL.depth = depth + 1
    if torch.get_num_threads() != in_force:
        torch.set_num_threads(in_force)


def _exit_threads() -> None:
    _THREADS_LOCAL.depth -= 1
    if _THREADS_LOCAL.depth == 0 and torch.get_num_threads() != _THREADS_LOCAL.before:
        torch.set_num_threads(_THREADS_LOCAL.before)
    with _THREADS_LOCK:
        _THREADS_STATE[0] -= 1
        if _THREADS_STATE[0] == 0:
            limiter = _THREADS_STATE[2]
            _THREADS_STATE[1:] = [None, None]
            _release_blas_control()
            limiter.restore_original_limits()
            _release_blas_control()


def auto_threads(work: float) -> int | None:
    """Thread count for a job of ``work`` (parameters x rows per step): 1 for small problems,
    ``None`` (torch's own setting) otherwise, and ``None`` whenever a thread count is already
    in force (the caller's ``threads(n)`` block or an enclosing estimator call)."""
    if _CHOSEN.get():
        return None
    return 1 if work < SMALL_WORK else None


def _input_size(X) -> float:
    if isinstance(X, (list, tuple)):
        return float(sum(_input_size(x) for x in X))
    shape = getattr(X, "shape", None)
    if shape is None:
        return 0.0
    return float(np.prod(shape))


def with_auto_threads(method):
    """Decorate an estimator method ``method(self, X, ...)``: small inputs run on one torch
    thread (restored afterwards), unless the caller chose a thread count."""

    @functools.wraps(method)
    def wrapped(self, *args, **kwargs):
        X = args[0] if args else next(iter(kwargs.values()), None)
        n = None if _CHOSEN.get() else (1 if _input_size(X) < SMALL_INPUT else None)
        if n is None:
            return method(self, *args, **kwargs)
        with threads(n):
            return method(self, *args, **kwargs)

    wrapped.__glassnet_threads__ = True
    return wrapped


@contextlib.contextmanager
def fit_context(random_state, work: float | None = None):
    """What every estimator's ``fit`` runs under: a local seed and, for small problems, one
    thread; both restored on exit. Yields the int seed (or None)."""
    with local_seed(random_state) as seed, threads(None if work is None else auto_threads(work)):
        yield seed
