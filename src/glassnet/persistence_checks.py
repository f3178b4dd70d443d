"""The bounds and strictness checks of :func:`glassnet.persistence.load` (issue 25): member
sizes from the zip directory before reading, the safetensors header before its payload, JSON
nesting before parsing, module arguments against the stored state before allocation, and the
attribute names a file may restore."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import struct
import zipfile

import numpy as np
import torch

MAX_META_BYTES = 64 * 2**20  # meta.json: plain JSON of parameters and small fitted values
MAX_ARRAY_BYTES = 8 * 2**30  # arrays.safetensors, uncompressed (a larger model is refused)
# a member may inflate at most this many times its stored size beyond 64 MB: deflate reaches
# ~1000x only on long runs of equal bytes, which a fitted model's numbers are not
MAX_RATIO, _FREE_BYTES = 50, 64 * 2**20
MAX_DEPTH = 64  # nesting of the JSON (the deepest a saved pipeline reaches is ~12)
MAX_LIST_BYTES = 64 * 2**20  # one __ndarray_list__ (strings / objects) once allocated


def _fitted_name(cls, k, params) -> str:
    """A restored estimator attribute: a fitted (``name_``) or private (``_name``) identifier that
    is no constructor argument and nothing the class defines (a method, a property, ...)."""
    k = _attribute_name(k)
    if not (k.endswith("_") or k.startswith("_")) or k in params or hasattr(cls, k):
        raise ValueError(f"attribute {k!r} is not a fitted attribute of {cls.__name__}")
    return k


def declared_fitted(cls) -> dict | None:
    """``cls._fitted_attributes`` (fitted attribute name -> type, see :func:`value_has_type`)
    when the class declares one, else None (the naming rule of :func:`_fitted_name` alone)."""
    declared = getattr(cls, "_fitted_attributes", None)
    # scikit-learn's own per-instance state that plain data holds: set_output's choice
    return {**declared, "_sklearn_output_config": "dict[str]"} if isinstance(declared, dict) else None


def check_declared(cls, k: str) -> None:
    """A ``ValueError`` when ``cls`` declares its fitted attributes and ``k`` is not one."""
    declared = declared_fitted(cls)
    if declared is not None and k not in declared:
        raise ValueError(f"attribute {k!r} is not a fitted attribute of {cls.__name__} (it "
                         f"declares {', '.join(sorted(declared))})")


def check_fitted_value(cls, k: str, value) -> None:
    """A restored attribute of a class that declares its fitted attributes: declared, and of
    the declared type (a ``ValueError`` otherwise)."""
    check_declared(cls, k)
    declared = declared_fitted(cls)
    if declared is not None and not value_has_type(value, declared[k]):
        raise ValueError(f"attribute {k!r} of {cls.__name__} in file is a "
                         f"{type(value).__name__}, not the declared {declared[k]}")


def _split_top(spec: str, sep: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in spec:
        depth += (ch == "[") - (ch == "]")
        if ch == sep and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return [*parts, cur]


def value_has_type(value, spec: str) -> bool:
    """Whether ``value`` matches ``spec``: ``"a|b"`` (either), ``"list[s]"`` / ``"tuple[s]"``
    (every item ``s``), ``"dict[s]"`` (every value ``s``), or one of ``array``, ``sparse``,
    ``tensor``, ``float`` (a real, ints included), ``int``, ``bool``, ``str``, ``none``,
    ``module`` (a glassnet module), ``record`` (a glassnet dataclass or penalty), ``device``."""
    spec = spec.replace(" ", "")
    alternatives = _split_top(spec, "|")
    if len(alternatives) > 1:
        return any(value_has_type(value, alt) for alt in alternatives)
    if spec.endswith("]"):
        outer, inner = spec[:-1].split("[", 1)
        if outer == "dict":
            return isinstance(value, dict) and all(value_has_type(v, inner) for v in value.values())
        kind = {"list": list, "tuple": tuple}[outer]
        return isinstance(value, kind) and all(value_has_type(v, inner) for v in value)
    kinds = _kinds()
    if spec not in kinds:
        raise ValueError(f"unknown declared type {spec!r}")
    return kinds[spec](value)


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


@functools.lru_cache(maxsize=1)
def _kinds():
    import scipy.sparse as sp

    from glassnet.nn._base import GlassModule
    from glassnet.persistence import _is_record

    return {
        "array": lambda v: isinstance(v, np.ndarray),
        "sparse": sp.issparse,
        "tensor": torch.is_tensor,
        "float": lambda v: _is_int(v) or isinstance(v, (float, np.floating)),
        "int": _is_int,
        "bool": lambda v: isinstance(v, (bool, np.bool_)),
        "str": lambda v: isinstance(v, str),
        "none": lambda v: v is None,
        "module": lambda v: isinstance(v, GlassModule),
        "record": _is_record,
        "device": lambda v: isinstance(v, torch.device),
    }


def _record_field(cls, k) -> str:
    k = _attribute_name(k)
    if callable(getattr(cls, k, None)) or isinstance(getattr(cls, k, None), property):
        raise ValueError(f"field {k!r} would replace a method of {cls.__name__}")
    return k


def _missing_defaults(cls, fields) -> dict:
    """Defaults of the dataclass fields a file lacks (files written before a field was added
    still load); any other difference from the class's fields is a corrupt file."""
    if not dataclasses.is_dataclass(cls):
        return {}
    known = {f.name: f for f in dataclasses.fields(cls)}
    missing = {k: f for k, f in known.items() if k not in fields}
    if not set(fields) <= set(known) or any(
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING for f in missing.values()):
        raise ValueError(f"corrupt glassnet file: fields {sorted(fields)} are not those of {cls.__name__}")
    return {k: f.default if f.default is not dataclasses.MISSING else f.default_factory() for k, f in missing.items()}


def _check_module_shapes(cls, init, state) -> None:
    """Build ``cls(**init)`` on torch's meta device (no memory) and compare its parameters and
    buffers with the stored state, so that init arguments asking for more than the file holds
    are refused before the real module is allocated."""
    stored = sum(t.numel() for t in state.values() if torch.is_tensor(t))
    try:
        with torch.device("meta"):
            probe = cls(**init)
    except (ValueError, TypeError) as err:
        raise ValueError(f"bad arguments for {cls.__name__} in file: {err}") from err
    except (RuntimeError, NotImplementedError):  # an __init__ that reads values (.item())
        # then its int arguments bound what it allocates: their product may not exceed what
        # the file stores (a net of k x i layers of n features stores k * i * n numbers)
        ints = [v for v in _leaves(init) if isinstance(v, int) and not isinstance(v, bool)]
        if any(v < 0 for v in ints) or math.prod(ints) > 4 * stored + 10**6:
            raise ValueError(f"corrupt glassnet file: {cls.__name__} arguments {ints} ask for "
                             f"more than the {stored} stored numbers") from None
        return
    # sizes, not shapes: torch loads a stored (1,) into a 0-d parameter (safetensors' scalars)
    want = {k: t.numel() for k, t in probe.state_dict().items()}
    have = {k: t.numel() for k, t in state.items() if torch.is_tensor(t)}
    if want != have:
        diff = sorted(set(want) ^ set(have)) or [k for k in want if want[k] != have.get(k)]
        raise ValueError(f"corrupt glassnet file: {cls.__name__} state does not match its "
                         f"arguments (differs at {diff[:3]})")


def _leaves(v):
    if isinstance(v, dict):
        return [x for y in v.values() for x in _leaves(y)]
    if isinstance(v, (list, tuple)):
        return [x for y in v for x in _leaves(y)]
    return [v]


def _json_depth_ok(text: str, limit: int) -> bool:
    """Whether the nesting of ``text`` (JSON) stays within ``limit`` (strings skipped), checked
    before parsing: the parser and the decoder recurse once per level."""
    import re

    depth = 0
    for ch in re.findall(r"[\[\]{}]", re.sub(r'"(?:[^"\\]|\\.)*"', "", text)):
        depth += 1 if ch in "[{" else -1
        if depth > limit:
            return False
    return True


def _read_member(z: zipfile.ZipFile, name: str, limit: int, archive_size: int, path) -> bytes:
    """A member's bytes, refused from its declared size (not read) when over ``limit`` or
    inflating more than ``MAX_RATIO`` x its stored size beyond 64 MB."""
    info = z.getinfo(name)
    if info.file_size > limit or info.file_size > _FREE_BYTES + MAX_RATIO * max(
            info.compress_size, 1) or info.compress_size > archive_size:
        raise ValueError(f"{path}: {name} declares {info.file_size} bytes from {info.compress_size} "
                         f"stored (limit {limit}, ratio {MAX_RATIO}); refused before reading")
    with z.open(info) as fh:
        data = fh.read(info.file_size + 1)
    if len(data) != info.file_size:
        raise ValueError(f"{path}: {name} is not the size its entry declares")
    return data


def as_path(path, what: str) -> str:
    """``path`` as a str: a str, bytes or ``os.PathLike`` file name; a file object or anything
    else is a ``TypeError`` (a zip written to a buffer could not be loaded back)."""
    import os

    if isinstance(path, (str, bytes, os.PathLike)):
        return os.fsdecode(path)
    raise TypeError(f"{what} takes a file name (str or os.PathLike), got {type(path).__name__}")


def _check_safetensors_header(raw: bytes, path) -> None:
    """The safetensors header agrees with the payload size and with numeric dtypes, before
    safetensors allocates anything."""
    if not raw:
        return
    if len(raw) < 8:
        raise ValueError(f"{path}: corrupt array store (truncated header)")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8 or n > MAX_META_BYTES:
        raise ValueError(f"{path}: corrupt array store (header of {n} bytes)")
    try:
        header = raw[8:8 + n].decode("utf-8")
        entries = json.loads(header) if _json_depth_ok(header, 4) else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(f"{path}: corrupt array store (header is not JSON)") from None
    if not isinstance(entries, dict):
        raise ValueError(f"{path}: corrupt array store (nested or non-mapping header)")
    sizes = {"BOOL": 1, "U8": 1, "I8": 1, "F16": 2, "BF16": 2, "I16": 2, "U16": 2, "F32": 4,
             "I32": 4, "U32": 4, "F64": 8, "I64": 8, "U64": 8}
    end = 0
    for key, e in entries.items():
        if key == "__metadata__":
            continue
        shape, (a, b) = e["shape"], e["data_offsets"]
        if e["dtype"] not in sizes or not all(type(d) is int and d >= 0 for d in shape):
            raise ValueError(f"{path}: corrupt array store (entry {key!r})")
        if b - a != sizes[e["dtype"]] * math.prod(shape) or a < 0:
            raise ValueError(f"{path}: corrupt array store (entry {key!r} size)")
        end = max(end, b)
    if 8 + n + end != len(raw):
        raise ValueError(f"{path}: corrupt array store (payload of {len(raw) - 8 - n} bytes, "
                         f"entries need {end})")


def _attribute_name(k) -> str:
    """An attribute name from a file: an identifier, never a dunder (``__class__``, ...)."""
    if not isinstance(k, str) or not k.isidentifier() or k.startswith("__"):
        raise ValueError(f"invalid attribute name {k!r} in file")
    return k


_BIT_GENERATORS = ("MT19937", "PCG64", "PCG64DXSM", "Philox", "SFC64")


def rng_state(rng) -> tuple[str, dict]:
    """A numpy ``Generator`` or ``RandomState`` (a ``random_state`` parameter) as its kind and
    its bit generator's state (plain data: names, ints, an array)."""
    if isinstance(rng, np.random.Generator):
        return "Generator", rng.bit_generator.state
    return "RandomState", rng.get_state(legacy=False)


def rng_from_state(kind, state):
    """The generator :func:`rng_state` described, in the same state; a ``ValueError`` for an
    unknown kind or bit generator (a corrupt or foreign file)."""
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if kind not in ("Generator", "RandomState") or name not in _BIT_GENERATORS:
        raise ValueError(f"corrupt glassnet file: unknown random generator {kind!r} / {name!r}")
    if kind == "RandomState":
        rs = np.random.RandomState()
        rs.set_state(state)
        return rs
    bit = getattr(np.random, name)()
    bit.state = state
    return np.random.Generator(bit)
