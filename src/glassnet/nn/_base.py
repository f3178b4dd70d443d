"""The base of every glassnet module: it remembers its constructor arguments.

:func:`glassnet.save` stores a fitted estimator as plain data (JSON + safetensors, DESIGN.md
rule 16): a module is written as its class name, its constructor arguments and its
``state_dict``, and rebuilt on load by calling the constructor of a class that is known to be
a glassnet module. No pickled object is ever loaded.
"""

from __future__ import annotations

import functools
import inspect
import numbers

from torch import nn

__all__ = ["GlassModule", "is_int"]


def is_int(v, low: int | None = None) -> bool:
    """``v`` is an integer (a Python or NumPy one, not a bool), at least ``low`` when given: the
    modules' size checks (a float such as 2.5 or ``True`` is no size)."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool) and (low is None or v >= low)


class GlassModule(nn.Module):
    """``nn.Module`` that records the arguments its constructor was called with
    (``init_args``), so that it can be rebuilt from plain data. Subclass it instead of
    ``nn.Module``; constructor arguments should be plain values (numbers, strings, tuples,
    arrays, dtypes, other GlassModules)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return
        sig = inspect.signature(init)

        @functools.wraps(init)
        def wrapped(self, *args, **kw):
            init(self, *args, **kw)
            bound = sig.bind(self, *args, **kw)
            bound.apply_defaults()
            args_ = dict(list(bound.arguments.items())[1:])
            for name, p in sig.parameters.items():  # flatten **kwargs into the mapping
                if p.kind is p.VAR_KEYWORD and name in args_:
                    args_.update(args_.pop(name))
                elif p.kind is p.VAR_POSITIONAL and name in args_:
                    raise TypeError(f"{cls.__name__}: *args constructors cannot be persisted")
            object.__setattr__(self, "init_args", args_)  # the outermost class's call wins

        cls.__init__ = wrapped
