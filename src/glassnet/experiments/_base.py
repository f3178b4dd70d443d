"""Config and Result of a reproduction, and how the CLI writes them to disk."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass
class Config:
    """What every reproduction receives from ``glassnet reproduce``."""

    quick: bool = False
    tiny: bool = False  # the test suite's size: seconds, same code path as quick (implies quick)
    seed: int = 0
    n_jobs: int = 1
    data_dir: str | None = None  # None: $GLASSNET_DATA


@dataclass
class Result:
    """Tables (the first one is written as ``results.csv``), figures and a Markdown report.

    ``report`` is the prose of ``report.md``: it must place our numbers beside the paper's.
    ``verdicts`` (:mod:`glassnet.experiments.verdicts`) are the report's claims ("met",
    "beats", "significant"), each computed from the tables; the report shows them with
    :func:`~glassnet.experiments.verdicts.render` and a ``verdicts`` table is added here.
    """

    tables: dict[str, pd.DataFrame]
    figures: dict = field(default_factory=dict)  # name -> matplotlib Figure
    report: str = ""
    verdicts: list = field(default_factory=list)

    def __post_init__(self):
        if self.verdicts and "verdicts" not in self.tables:
            from glassnet.experiments.verdicts import verdict_table

            self.tables = {**self.tables, "verdicts": verdict_table(self.verdicts, self.tables)}


def write_result(result: Result, out: str | os.PathLike, title: str) -> Path:
    """Write ``results.csv`` (+ other tables), PNG figures and ``report.md`` under ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if not result.tables:
        raise ValueError("a Result needs at least one table")
    lines = [f"# {title}", "", result.report.strip(), ""]
    for i, (name, df) in enumerate(result.tables.items()):
        fname = "results.csv" if i == 0 else f"{name}.csv"
        df.to_csv(out / fname, index=False)
        lines += [f"## {name} (`{fname}`)", "", _markdown(df), ""]
    for name, fig in result.figures.items():
        fig.savefig(out / f"{name}.png", dpi=120, bbox_inches="tight")
        _close(fig)
        lines += [f"![{name}]({name}.png)", ""]
    (out / "report.md").write_text("\n".join(lines))
    return out


def _cell(v) -> str:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        return str(v)
    if not np.isfinite(v):
        return str(v)
    if float(v).is_integer() and abs(v) < 1e12:
        return str(int(v))  # 10000, not 1e+04
    return f"{v:.4g}"


def _markdown(df: pd.DataFrame) -> str:
    """The table in Markdown: numbers to 4 significant digits (whole numbers in full, never
    1e+04), text exactly as written (tabulate would read the text "10000" as a number)."""
    num = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
           for c in df.columns]
    cells = pd.DataFrame({c: df[c].map(_cell) for c in df.columns})
    return cells.to_markdown(index=False, disable_numparse=True,
                             colalign=["right" if n else "left" for n in num])


def _close(fig):
    """Free a pyplot figure (a ``matplotlib.figure.Figure`` made without pyplot needs nothing)."""
    import sys

    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close(fig)  # no-op for a figure pyplot does not manage


def new_figure(*args, **kwargs):
    """``(fig, axes)`` like ``plt.subplots`` on a ``matplotlib.figure.Figure`` with no pyplot
    state: experiments draw without switching or using the caller's backend (issue 27)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=kwargs.pop("figsize", None), layout=kwargs.pop("layout", None))
    return fig, fig.subplots(*args, **kwargs)


def l1_logistic_cv(Cs, seed, solver, scoring, max_iter):
    """scikit-learn's L1 logistic regression with C chosen by 5-fold CV, the peer of several
    reproductions. scikit-learn >= 1.8 spells L1 as ``l1_ratios=(1.0,)`` (``penalty`` is
    deprecated) with ``use_legacy_attributes=False``; older versions as ``penalty="l1"``, where
    ``l1_ratios`` alone would be ignored and leave an L2 fit."""
    import inspect

    from sklearn.linear_model import LogisticRegressionCV

    kw = {"Cs": Cs, "cv": 5, "solver": solver, "scoring": scoring, "max_iter": max_iter,
          "random_state": seed}
    if "use_legacy_attributes" in inspect.signature(LogisticRegressionCV).parameters:
        kw.update(l1_ratios=(1.0,), use_legacy_attributes=False)
    else:
        kw["penalty"] = "l1"
    return LogisticRegressionCV(**kw)
