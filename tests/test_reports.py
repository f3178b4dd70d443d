"""Every registered experiment runs in its tiny configuration, writes at least one figure, and
every number in its prose comes from the tables beside it (issue 11). Iterates the registry."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from glassnet.experiments import write_result
from glassnet.registry import experiments

_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+\.\d+(?:[eE][-+]?\d+)?(?![\w.])")


def prose_numbers(text: str) -> list[str]:
    """Decimal numbers written in prose (integers such as fold counts or seeds are settings)."""
    text = re.sub(r"`[^`]*`", " ", text)  # code spans: names and commands
    text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets
    return _NUMBER.findall(text)


def table_values(tables: dict[str, pd.DataFrame]) -> np.ndarray:
    vals = []
    for df in tables.values():
        for col in df.columns:
            num = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
            vals.append(num[np.isfinite(num)])
            for cell in df[col].map(str):  # numbers inside text cells ("0.95 +- 0.01"); map: pandas 3 astype(str) keeps NaN
                vals.append(np.array([float(m) for m in _NUMBER.findall(cell)] or [], dtype=float))
    return np.concatenate(vals) if vals else np.array([])


def in_tables(token: str, values: np.ndarray) -> bool:
    x = float(token)
    decimals = len(token.split(".")[1].split("e")[0].split("E")[0])
    tol = 0.5 * 10.0 ** -decimals + 1e-12
    for scale in (1.0, 100.0, 0.01):  # a rate may be written as a percentage and back
        if np.any(np.abs(values * scale - x) <= tol) or np.any(np.abs(np.abs(values * scale) - abs(x)) <= tol):
            return True
    return False


def test_the_number_check_can_fail():
    vals = table_values({"t": pd.DataFrame({"acc": [0.9512, 0.8], "note": ["1.25 +- 0.5", "x"]})})
    assert in_tables("0.951", vals) and in_tables("95.1", vals) and in_tables("1.25", vals)
    assert not in_tables("0.97", vals)
    assert prose_numbers("acc 0.951 at n = 500, `lam=0.1` (v1.2 [fig](a.png)) 1e-3") == ["0.951"]


@pytest.mark.parametrize("name", sorted(experiments()))
def test_experiment_tiny_run_and_report(name, tmp_path, tiny_run):
    result = tiny_run(name).result  # the session's one tiny run of it (conftest.tiny_run)
    assert result.tables and all(len(df) for df in result.tables.values())
    assert result.figures, f"{name} writes no figure"
    values = table_values(result.tables)
    missing = [t for t in prose_numbers(result.report) if not in_tables(t, values)]
    assert not missing, f"{name}: numbers in the report that no table holds: {missing}"
    out = write_result(result, tmp_path / name, name)
    assert (out / "report.md").is_file() and list(out.glob("*.png"))
