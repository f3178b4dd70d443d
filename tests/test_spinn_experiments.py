"""Each SPINN reproduction runs end to end in --quick mode and produces comparable tables."""

import os
from pathlib import Path

import numpy as np
import pytest

from glassnet.experiments import Config, write_result
from glassnet.registry import experiments

DATA = Path(os.environ.get("GLASSNET_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")


def _run(tiny_run, name, tmp_path):
    result = tiny_run(name).result  # the session's one tiny run of it (conftest.tiny_run)
    write_result(result, tmp_path, name)
    assert (tmp_path / "results.csv").is_file() and (tmp_path / "report.md").is_file()
    assert result.figures and all((tmp_path / f"{k}.png").is_file() for k in result.figures)
    return result


def test_spinn_experiments_registered():
    names = experiments()
    for name in ["spinn-simulation", "spinn-integrative", "spinn-real", "spinn-selection-suite"]:
        assert name in names
    assert names["spinn-real"].needs_data == ["gene_expression/"]


def test_simulation_quick(tiny_run, tmp_path):
    df = next(iter(_run(tiny_run, "spinn-simulation", tmp_path).tables.values()))
    spinn = df[df.method.str.startswith("SPINN") & (df.task == "regression")].iloc[0]
    lasso = df[df.method.str.startswith("L1") & (df.task == "regression")].iloc[0]
    assert spinn.tpr >= 0.5 and spinn.fpr <= 0.1  # tiny: p = 30, n = 150, 2 folds
    assert spinn.test_loss < lasso.test_loss  # the nonlinear fit beats the linear one
    assert set(df.task) == {"regression", "classification"}
    mlp = df[df.method.str.startswith("dense MLP") & (df.task == "regression")].iloc[0]
    assert np.isfinite(mlp.test_loss)


def test_integrative_quick(tiny_run, tmp_path):
    res = _run(tiny_run, "spinn-integrative", tmp_path)
    df = res.tables["integrative"]
    assert set(df.method) == {"integrative SPINN", "separate SPINN"}
    assert len(df) == 6 and np.isfinite(df.test_loss).all()
    assert df[df.method == "integrative SPINN"].tpr.mean() >= 0.5


@pytest.mark.skipif(not (DATA / "gene_expression" / "ALLAML.mat").is_file(),
                    reason=f"gene-expression data not found at {DATA} (set GLASSNET_DATA)")
def test_real_quick(tiny_run, tmp_path):
    res = _run(tiny_run, "spinn-real", tmp_path)
    df = res.tables["accuracy_at_k"]
    assert set(df.method) >= {"SPINN", "L1 logistic"}
    assert df[df.method == "SPINN"].accuracy.iloc[0] > 0.7  # ALL vs AML, first 300 genes (tiny)


def test_selection_suite_tiny(tiny_run, tmp_path):
    res = _run(tiny_run, "spinn-selection-suite", tmp_path)
    summary = res.tables["summary"]
    spinn = summary[summary.method.str.startswith("SPINN")]
    assert set(spinn.problem) == {"even", "xor"}
    assert "targets" in res.tables and np.isfinite(summary.tpr).all()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["spinn-simulation", "spinn-integrative", "spinn-selection-suite"])
def test_quick_reproductions(name, tmp_path):
    exp = experiments()[name]
    result = exp.run(Config(quick=True, seed=0))
    write_result(result, tmp_path, name)
    assert (tmp_path / "report.md").is_file()


def test_real_missing_data_is_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist|missing"):
        experiments()["spinn-real"].run(Config(quick=True, data_dir=str(tmp_path / "nowhere")))


def test_dense_mlp_baseline_is_no_worse_than_the_class_frequencies_on_noise():
    """Issue 8: a baseline must be the best version of itself. On labels independent of 200
    inputs, the dense MLP chosen by validation log-loss predicts about the class frequency
    (scikit-learn's accuracy-based early stopping had left it overconfident: log-loss > 1)."""
    import warnings

    from sklearn.metrics import log_loss

    from glassnet.experiments.spinn import best_mlp

    rng = np.random.default_rng(0)
    X, Xt = rng.standard_normal((200, 200)), rng.standard_normal((1000, 200))
    y, yt = rng.integers(0, 2, 200), rng.integers(0, 2, 1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of the small alphas
        est, _, _ = best_mlp("classification", X, y, 0, hidden=(10,), log_loss=True)
    assert log_loss(yt, est.predict_proba(Xt)[:, 1]) <= np.log(2) + 0.02
