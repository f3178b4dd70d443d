"""One progress display per job (issue 11).

The outermost :func:`progress` block owns the display (a tqdm bar on a terminal, nothing
elsewhere); blocks opened inside it (a fold inside a path, the epochs of one fit) do not open a
bar of their own but write their position into the outer bar's postfix, so a cross-validated
path shows one bar that reads, e.g., ``fold 2/5 · lambda 7/20 · epoch 40``.

>>> with progress(total=3, desc="folds") as bar:
...     for k in range(3):
...         bar.update(1)
"""

from __future__ import annotations

import contextlib
import sys
from contextvars import ContextVar

from tqdm.auto import tqdm

__all__ = ["log", "progress"]

_STACK: ContextVar[tuple] = ContextVar("glassnet_progress", default=())


class _Level:
    def __init__(self, desc, total, bar):
        self.desc, self.total, self.n, self.bar, self.info = desc, total, 0, bar, ""

    def label(self):
        pos = f"{self.n}/{self.total}" if self.total else f"{self.n}"
        return f"{self.desc} {pos}" + (f" ({self.info})" if self.info else "")


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
    if not stack or stack[0].bar is None:
        return
    outer = stack[0]
    if k:
        outer.bar.update(k)
    inner = " · ".join(lv.label() for lv in stack[1:])
    postfix = " · ".join(s for s in (outer.info, inner) if s)
    outer.bar.set_postfix_str(postfix, refresh=True)


@contextlib.contextmanager
def progress(total: int | None = None, desc: str = "", verbose: bool | None = None):
    """Open a progress level. The outermost level shows a tqdm bar when ``verbose`` is True,
    or, with ``verbose=None``, when stderr is a terminal; inner levels only annotate it."""
    stack = _STACK.get()
    if stack:
        level = _Level(desc, total, None)
    else:
        show = sys.stderr.isatty() if verbose is None else bool(verbose)
        bar = tqdm(total=total, desc=desc, leave=False, disable=not show) if show else None
        level = _Level(desc, total, bar)
    token = _STACK.set(stack + (level,))
    try:
        yield _Handle(level)
    finally:
        _STACK.reset(token)
        if level.bar is not None:
            level.bar.close()
        elif stack:
            _refresh(0)


def log(message: str, verbose: bool | None = True) -> None:
    """One line on stderr for a stage of long work (the CLI's ``reproduce`` uses it)."""
    if verbose is False:
        return
    stack = _STACK.get()
    if stack and stack[0].bar is not None:
        stack[0].bar.write(message, file=sys.stderr)
    else:
        print(message, file=sys.stderr, flush=True)
