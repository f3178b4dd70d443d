"""Verdicts computed from result tables (issue 27): a report claims only what it measured.

A :class:`Verdict` names the cells it compares (:class:`Ref`: table, row filter, column) or a
constant, and its status is computed from those cells by :func:`decide`, never written by hand:

- ``kind="target"``: ``lhs op rhs`` -> ``"met"`` / ``"not met"``;
- ``kind="beats"``: ``lhs op rhs`` (``op`` says which side is better) -> ``"beats"`` /
  ``"does not beat"``;
- ``kind="significance"``: ``p op alpha`` -> ``"significant"`` / ``"not significant"``, or
  ``"not tested (one seed)"`` when fewer than two paired runs (``n``) stand behind the p-value;
- any kind -> ``"not evaluated"`` when a cell is missing or NaN (no row matched, a data set not
  run), so a claim about a comparison that never ran cannot read as a result;
- any kind -> ``"not comparable"`` when one of its ``guards`` (targets that must hold for the
  comparison to be fair, e.g. both methods used about k features) is not met.

>>> import pandas as pd
>>> t = {"acc": pd.DataFrame({"method": ["a", "b"], "accuracy": [0.91, 0.88]})}
>>> v = target("a reaches 0.9", Ref("acc", "accuracy", method="a"), ">=", 0.9)
>>> v.evaluate(t).status
'met'
>>> beats("a above b", Ref("acc", "accuracy", method="a"), ">", Ref("acc", "accuracy", method="b")).render(t)
'- a above b: **beats** (0.91 > 0.88, from `acc`)'

:func:`render` writes the Markdown lines of a report; :func:`verdict_table` the table that
``tests/test_reports.py`` re-derives every status from.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

__all__ = ["Ref", "Verdict", "beats", "decide", "render", "significance", "target", "verdict_table"]

STATUSES = ("met", "not met", "beats", "does not beat", "significant", "not significant",
            "not tested (one seed)", "not evaluated", "not comparable")
_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
_NEGATED = {">=": "<", "<=": ">", ">": "<=", "<": ">="}
_KINDS = ("target", "beats", "significance")


@dataclass(frozen=True)
class Ref:
    """One cell: ``table``'s ``column`` in the one row where every ``where`` column equals its
    value. No matching row gives NaN (the comparison was not run); several rows are an error."""

    table: str
    column: str
    where: dict = field(default_factory=dict)

    def __init__(self, table: str, column: str, **where):
        object.__setattr__(self, "table", table)
        object.__setattr__(self, "column", column)
        object.__setattr__(self, "where", dict(where))

    def value(self, tables: dict) -> float:
        if self.table not in tables:
            raise ValueError(f"verdict refers to table {self.table!r}; tables: {sorted(tables)}")
        df = tables[self.table]
        if self.column not in df.columns:
            raise ValueError(f"verdict refers to column {self.column!r} of {self.table!r}; "
                             f"columns: {list(df.columns)}")
        mask = np.ones(len(df), bool)
        for col, want in self.where.items():
            if col not in df.columns:
                raise ValueError(f"verdict filters on column {col!r} that {self.table!r} lacks")
            mask &= (df[col] == want).to_numpy()
        if mask.sum() > 1:
            raise ValueError(f"{self}: {int(mask.sum())} rows match; a verdict needs one cell")
        if mask.sum() == 0:
            return math.nan
        v = pd.to_numeric(pd.Series([df.loc[mask, self.column].iloc[0]]), errors="coerce").iloc[0]
        return float(v)

    def __str__(self):
        sel = ", ".join(f"{k}={v}" for k, v in self.where.items())
        return f"{self.table}[{sel}].{self.column}" if sel else f"{self.table}.{self.column}"


def _value(side, tables) -> float:
    return side.value(tables) if isinstance(side, Ref) else float(side)


def decide(kind: str, lhs: float, op: str, rhs: float, n: float | None = None) -> str:
    """The status of one comparison of computed numbers (the only place a status is made)."""
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    if op not in _OPS:
        raise ValueError(f"op must be one of {tuple(_OPS)}, got {op!r}")
    if kind == "significance" and (n is None or not np.isfinite(n) or n < 2):
        return "not tested (one seed)"
    if not (np.isfinite(lhs) and np.isfinite(rhs)):
        return "not evaluated"
    holds = bool(_OPS[op](lhs, rhs))
    return {"target": ("met", "not met"), "beats": ("beats", "does not beat"),
            "significance": ("significant", "not significant")}[kind][0 if holds else 1]


@dataclass(frozen=True)
class Verdict:
    """``claim``: what is asserted, in words; the status comes from ``lhs op rhs``.

    ``lhs`` and ``rhs`` are :class:`Ref` cells or numbers (a target's threshold, the paper's
    value); ``rhs_offset`` is added to the right side (``within 0.05 of the oracle``: ``lhs >=
    oracle - 0.05``). ``n`` (significance only) counts the paired runs behind the p-value: a
    number or a :class:`Ref`."""

    claim: str
    kind: str
    lhs: object
    op: str
    rhs: object
    rhs_offset: float = 0.0
    n: object = None
    guards: tuple = ()  # target Verdicts that must be met for the comparison to mean anything
    status: str | None = None  # filled by evaluate()
    lhs_value: float | None = None
    rhs_value: float | None = None
    n_value: float | None = None

    def evaluate(self, tables: dict) -> Verdict:
        lv = _value(self.lhs, tables)
        rv = _value(self.rhs, tables) + self.rhs_offset
        nv = None if self.n is None else _value(self.n, tables)
        guards = tuple(g.evaluate(tables) for g in self.guards)
        status = decide(self.kind, lv, self.op, rv, nv)
        if any(g.status != "met" for g in guards) and status != "not evaluated":
            status = "not comparable"
        return replace(self, status=status, lhs_value=lv, rhs_value=rv, n_value=nv, guards=guards)

    def render(self, tables: dict | None = None) -> str:
        """``- claim: **status** (lhs op rhs, from table `name`)``; the cells are named in full
        in :func:`verdict_table`."""
        v = self.evaluate(tables) if tables is not None else self
        if v.status is None:
            raise ValueError("render needs the tables (or an evaluated verdict)")
        why = _relation(v.lhs_value, v.op, v.rhs_value, v.rhs_offset)
        if v.kind == "significance":
            runs = f"{_num(v.n_value) if v.n_value is not None else 'no'} paired run(s)"
            why = runs if v.status == "not tested (one seed)" else f"p = {why}, {runs}"
        srcs = sorted({s.table for s in (v.lhs, v.rhs, v.n) if isinstance(s, Ref)})
        if srcs:
            why += ", from " + " and ".join(f"`{t}`" for t in srcs)
        for g in v.guards:
            if g.status != "met":
                why += f"; condition not met: {g.claim} ({_relation(g.lhs_value, g.op, g.rhs_value, g.rhs_offset)})"
        return f"- {v.claim}: **{v.status}** ({why})"


def _relation(lhs, op, rhs, offset=0.0) -> str:
    """``lhs ? rhs`` with the relation the numbers have (``op`` when it holds, else its
    negation: ``0.2195 >= 0.05`` for a failed ``<``), so that a line never prints a false
    inequality; equal-looking numbers get more digits."""
    known = lhs is not None and rhs is not None and bool(np.isfinite(lhs) and np.isfinite(rhs))
    base = None if rhs is None else rhs - offset
    a, b = _num(lhs), _num(base)
    if known and a == b and lhs != base:
        a, b = f"{lhs:.6g}", f"{base:.6g}"
    if offset:
        b += f" {'+' if offset > 0 else '-'} {_num(abs(offset))}"
    sym = op if not known or _OPS[op](lhs, rhs) else _NEGATED[op]
    return f"{a} {sym} {b}"


def _num(x) -> str:
    """4 significant digits from 1 up, 4 decimals below (0.0595, as tables print), else 3 digits."""
    if x is None or not np.isfinite(x):
        return "n/a (not run)"
    if x == 0 or abs(x) >= 1:
        return f"{x:.4g}"
    if abs(x) >= 1e-3:
        return f"{x:.4f}".rstrip("0").rstrip(".")
    return f"{x:.3g}"


def target(claim, lhs, op, rhs, rhs_offset=0.0, guards=()) -> Verdict:
    """``met`` when ``lhs op rhs (+ rhs_offset)`` holds."""
    return Verdict(claim, "target", lhs, op, rhs, rhs_offset, guards=tuple(guards))


def beats(claim, lhs, op, rhs, rhs_offset=0.0, guards=()) -> Verdict:
    """``beats`` when ``lhs op rhs`` holds (``op`` ``>`` for scores, ``<`` for losses);
    ``guards``: targets that must be met for the comparison to be fair."""
    return Verdict(claim, "beats", lhs, op, rhs, rhs_offset, guards=tuple(guards))


def significance(claim, p_value, n, alpha=0.05, guards=()) -> Verdict:
    """``significant`` when ``p_value < alpha`` from at least two paired runs ``n``;
    ``guards``: targets the claim also needs (e.g. that the difference has the claimed sign)."""
    return Verdict(claim, "significance", p_value, "<", alpha, n=n, guards=tuple(guards))


def render(verdicts, tables: dict) -> str:
    """The Markdown lines of a report's verdicts, each computed from ``tables``."""
    return "\n".join(v.render(tables) for v in verdicts)


def check(verdicts, tables: dict) -> list:
    """Evaluate every verdict (raises ValueError on a reference to a missing table/column)."""
    return [v.evaluate(tables) for v in verdicts]


def verdict_table(verdicts, tables: dict) -> pd.DataFrame:
    """One row per verdict: the claim, its computed status and the numbers behind it."""
    rows = []
    for v in (v.evaluate(tables) for v in verdicts):
        rows.append({"claim": v.claim, "verdict": v.status, "lhs": str(v.lhs), "lhs_value": v.lhs_value,
                     "op": v.op, "rhs": str(v.rhs), "rhs_offset": v.rhs_offset, "rhs_value": v.rhs_value,
                     "n_runs": v.n_value,
                     "conditions": "; ".join(f"{g.claim}: {g.status} ({_num(g.lhs_value)} {g.op} {_num(g.rhs_value)})"
                                             for g in v.guards)})
    return pd.DataFrame(rows, columns=["claim", "verdict", "lhs", "lhs_value", "op", "rhs", "rhs_offset",
                                       "rhs_value", "n_runs", "conditions"])
