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


def _quick(name, tmp_path):
    result = experiments()[name].run(Config(quick=True, seed=0))
    write_result(result, tmp_path, name)
    assert (tmp_path / "report.md").is_file() and all((tmp_path / f"{k}.png").is_file() for k in result.figures)
    return result


@pytest.mark.slow
def test_quick_simulation_finds_the_regression_support_and_beats_the_peers(tmp_path):
    """p = 100, n = 200: SPINN keeps the six inputs (and at most 5% of the noise) and predicts
    better than the lasso and the dense MLP. Classification at this size keeps few of the six
    (docs/spinn.md: small-n classification is SPINN's weak spot), but it must beat the class
    frequencies."""
    df = _quick("spinn-simulation", tmp_path).tables["simulation"]
    reg = df[df.task == "regression"].set_index("method")
    spinn = reg[reg.index.str.startswith("SPINN")].iloc[0]
    assert spinn.tpr == 1.0 and spinn.fpr <= 0.05
    assert spinn.test_loss < reg.drop(spinn.name).test_loss.min()
    cls = df[(df.task == "classification") & df.method.str.startswith("SPINN")].iloc[0]
    assert cls.test_loss < np.log(2)


@pytest.mark.slow
def test_quick_integrative_borrows_strength(tmp_path):
    """The integrative fit keeps the shared support in every data set, and its mean test MSE is
    below that of one SPINNRegressorCV per data set (which misses inputs in the smaller sets)."""
    s = _quick("spinn-integrative", tmp_path).tables["summary"].set_index("method")
    assert s.loc["integrative SPINN", "tpr"] == 1.0 and s.loc["integrative SPINN", "fpr"] <= 0.1
    assert s.loc["integrative SPINN", "test_loss"] < s.loc["separate SPINN", "test_loss"]


@pytest.fixture(scope="module")
def quick_suite(tmp_path_factory):
    return _quick("spinn-selection-suite", tmp_path_factory.mktemp("suite")).tables["targets"]


@pytest.mark.slow
def test_quick_selection_suite_meets_its_targets(quick_suite):
    """Even effects, a pure interaction and XOR (report seed 100): SPINN meets the TPR and FPR
    targets on each and the oracle-score target on the first two (XOR: the next test)."""
    t = quick_suite
    assert set(t.problem) == {"even", "interaction", "xor"}
    assert t.tpr_ok.all() and t.fpr_ok.all() and t[t.problem != "xor"].score_ok.all()


@pytest.mark.slow
def test_quick_selection_suite_meets_the_xor_score_target(quick_suite):
    """XOR on report seed 100: the second screen admits a noise input (x68) that the CV keeps;
    with warm-started relaxed refits the accuracy was 0.793 against the oracle's 0.853 (a strict
    xfail then); with fresh draws (issue 23, sixth pass) 0.827, within the target's 0.05."""
    assert quick_suite.set_index("problem").loc["xor", "score_ok"]


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
