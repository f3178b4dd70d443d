"""One progress display per job (issues 11, 27).

The outermost :func:`progress` block owns the display: a tqdm bar on a terminal; off a terminal
(a log file, a CI job, a pipe, a notebook) a plain line on stderr at least every
:data:`HEARTBEAT_S` seconds while the block is open, so a long stage is never silent, and one
line when it closes, so a short verbose fit is not silent either. Blocks opened inside it (a
fold inside a path, the epochs of one fit) do not open a display of their own but write their
position into the outer one, so a cross-validated path shows one bar (or line) that reads, e.g.,
``fold 2/5 · lambda 7/20 · epoch 40``. :func:`stage` opens a visible outer block for a stage of
a reproduction; estimators' own blocks stay quiet unless ``verbose``.

>>> with progress(total=3, desc="folds") as bar:
...     for k in range(3):
...         bar.update(1)
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from contextvars import ContextVar

__all__ = ["log", "progress", "stage", "stage_items"]

HEARTBEAT_S = 9.0  # off a terminal, an open outer block writes a line this often (under 10 s with jitter)

_STACK: ContextVar[tuple] = ContextVar("glassnet_progress", default=())


class _Level:
    def __init__(self, desc, total, bar):
        self.desc, self.total, self.n, self.bar, self.info = desc, total, 0, bar, ""
        self.chain = (self,)  # the outer level's view of the open levels (read by the heartbeat)

    def label(self):
        pos = f"{self.n}/{self.total}" if self.total else (f"{self.n}" if self.n else "")
        return " ".join(t for t in (self.desc, pos) if t) + (f" ({self.info})" if self.info else "")


class _Handle:
    def __init__(self, level):
        self._level = level

    def update(self, k: int = 1, **info):
        """Advance by ``k`` and show ``info`` (e.g. ``train=0.31``) beside the position."""
        lv = self._level
        lv.n += k
        if info:
            lv.info = " ".join(f"{a}={_fmt(b)}" for a, b in info.items())
        _refresh(k if lv.bar is not None else 0)

    def set(self, **info):
        """Show ``info`` without advancing."""
        self.update(0, **info)


def _fmt(v):
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _refresh(k):
    stack = _STACK.get()
    if not stack:
        return
    outer = stack[0]
    outer.chain = stack
    if outer.bar is None:
        return
    if k:
        outer.bar.update(k)
    inner = " · ".join(lv.label() for lv in stack[1:])
    postfix = " · ".join(s for s in (outer.info, inner) if s)
    outer.bar.set_postfix_str(postfix, refresh=True)


def _elapsed(t0) -> str:
    el = int(time.perf_counter() - t0)
    return f"{el // 60}m{el % 60:02d}s"


def _line(chain, t0) -> str:
    return " · ".join(lv.label() for lv in chain) + f" · {_elapsed(t0)}"


def _heartbeat(level, t0, stop: threading.Event, interval: float):
    while not stop.wait(interval):
        print(_line(level.chain, t0), file=sys.stderr, flush=True)


@contextlib.contextmanager
def progress(total: int | None = None, desc: str = "", verbose: bool | None = None):
    """Open a progress level. The outermost level shows itself when ``verbose`` is True, or,
    with ``verbose=None``, when stderr is a terminal: a tqdm bar on a terminal, else a line
    every :data:`HEARTBEAT_S` seconds. Inner levels only annotate it."""
    stack = _STACK.get()
    beat = None
    if stack:
        level = _Level(desc, total, None)
    else:
        tty = sys.stderr.isatty()
        show = tty if verbose is None else bool(verbose)
        bar = None
        if show and tty:
            from tqdm.auto import tqdm  # imported on use: `import glassnet.progress` stays cheap

            bar = tqdm(total=total, desc=desc, leave=False)
        level = _Level(desc, total, bar)
        if show and not tty:
            beat, t0 = threading.Event(), time.perf_counter()
            threading.Thread(target=_heartbeat, args=(level, t0, beat, HEARTBEAT_S),
                             daemon=True).start()
    token = _STACK.set(stack + (level,))
    if stack:
        stack[0].chain = stack + (level,)
    try:
        yield _Handle(level)
    finally:
        _STACK.reset(token)
        if beat is not None:
            beat.set()
            # no position: the total may not be reached (a path ends early)
            print(f"{level.desc or 'progress'} · done · {_elapsed(t0)}", file=sys.stderr, flush=True)
        if level.bar is not None:
            level.bar.close()
        elif stack:
            stack[0].chain = stack
            _refresh(0)


def stage(desc: str, total: int | None = None):
    """A stage of a reproduction: a visible outer :func:`progress` block (a bar on a terminal,
    a line every :data:`HEARTBEAT_S` seconds elsewhere) that the fits inside annotate."""
    return progress(total=total, desc=desc, verbose=True)


def log(message: str, verbose: bool | None = True) -> None:
    """One line on stderr for a stage of long work (the CLI's ``reproduce`` uses it)."""
    if verbose is False:
        return
    stack = _STACK.get()
    if stack and stack[0].bar is not None:
        stack[0].bar.write(message, file=sys.stderr)
    else:
        print(message, file=sys.stderr, flush=True)


def stage_items(desc: str, items):
    """Iterate ``items`` inside :func:`stage` ``(desc, total=len(items))``, one step per item."""
    items = list(items)
    with stage(desc, total=len(items)) as bar:
        for item in items:
            yield item
            bar.update(1)
