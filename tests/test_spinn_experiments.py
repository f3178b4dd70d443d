"""Each SPINN reproduction runs end to end in --quick mode and produces comparable tables."""

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from glassnet.experiments import Config, write_result
from glassnet.registry import experiments

torch.set_num_threads(1)
DATA = Path(os.environ.get("GLASSNET_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")


def _run(name, tmp_path, **kw):
    exp = experiments()[name]
    result = exp.run(Config(quick=True, seed=0, **kw))
    write_result(result, tmp_path, name)
    assert (tmp_path / "results.csv").is_file() and (tmp_path / "report.md").is_file()
    return result


def test_spinn_experiments_registered():
    names = experiments()
    for name in ["spinn-simulation", "spinn-integrative", "spinn-real"]:
        assert name in names
    assert names["spinn-real"].needs_data == ["gene_expression/"]


def test_simulation_quick(tmp_path):
    df = next(iter(_run("spinn-simulation", tmp_path).tables.values()))
    spinn = df[df.method.str.startswith("SPINN") & (df.task == "regression")].iloc[0]
    lasso = df[df.method.str.startswith("L1") & (df.task == "regression")].iloc[0]
    assert spinn.tpr == 1.0 and spinn.fpr <= 0.02
    assert spinn.test_loss < lasso.test_loss  # the nonlinear fit beats the linear one
    assert set(df.task) == {"regression", "classification"}


def test_integrative_quick(tmp_path):
    res = _run("spinn-integrative", tmp_path)
    df = res.tables["integrative"]
    assert set(df.method) == {"integrative SPINN", "separate SPINN"}
    assert len(df) == 6 and np.isfinite(df.test_loss).all()
    assert df[df.method == "integrative SPINN"].tpr.mean() >= 0.8


@pytest.mark.skipif(not (DATA / "gene_expression" / "ALLAML.mat").is_file(),
                    reason=f"gene-expression data not found at {DATA} (set GLASSNET_DATA)")
def test_real_quick(tmp_path):
    res = _run("spinn-real", tmp_path, data_dir=str(DATA))
    df = res.tables["accuracy_at_k"]
    assert set(df.method) >= {"SPINN", "L1 logistic"}
    assert df[df.method == "SPINN"].accuracy.iloc[0] > 0.8  # ALL vs AML is near-separable


def test_real_missing_data_is_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist|missing"):
        experiments()["spinn-real"].run(Config(quick=True, data_dir=str(tmp_path / "nowhere")))
