"""Every bad ``glassnet train`` / ``glassnet reproduce`` argument of issue 25 is refused with an
argparse-style message naming the option (exit code 2) before any data are read: the data
folder given is empty, so a command that went on to read it would exit 1 instead."""

from __future__ import annotations

import os

import pytest
import torch

from glassnet.cli import main

TRAIN_BAD = [
    (["--epochs", "0"], "--epochs"), (["--epochs", "-1"], "--epochs"),
    (["--epochs", str(10**9)], "--epochs"),
    (["--batch-size", "0"], "--batch-size"), (["--batch-size", "-4"], "--batch-size"),
    (["--lr", "-0.1"], "--lr"), (["--lr", "0"], "--lr"), (["--lr", "nan"], "--lr"),
    (["--lr", "inf"], "--lr"),
    (["--momentum", "-1"], "--momentum"), (["--momentum", "nan"], "--momentum"),
    (["--weight-decay", "-1"], "--weight-decay"), (["--weight-decay", "inf"], "--weight-decay"),
    (["--workers", "-1"], "--workers"), (["--threads", "0"], "--threads"),
    (["--device", "bogus"], "bogus"),
    (["--checkpoint-every", "0"], "--checkpoint-every"), (["--seed", "-1"], "--seed"),
    (["--seed", str(2**40)], "--seed"),
    (["--limit-train", "-5"], "--limit-train"), (["--limit-train", "0"], "--limit-train"),
    (["--limit-test", "0"], "--limit-test"),
    (["--milestones", "-1"], "--milestones"), (["--milestones", "0.5", "nan"], "--milestones"),
    # Nesterov (the default) with no momentum used to pass the checks and fail inside torch
    # after the data were read and --out created; '' used to mean the current folder
    (["--momentum", "0"], "--momentum: 0 needs --no-nesterov"),
    (["--out", ""], "argument --out: must name a folder, got ''"), (["--out", " "], "--out"),
]


def _train(tmp_path, *extra):
    return ["train", "resnet20", "--data-dir", str(tmp_path / "no-data"), "--device", "cpu",
            "--out", str(tmp_path / "run"), *extra]


@pytest.mark.parametrize(("extra", "flag"), TRAIN_BAD, ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_bad_train_arguments_are_refused_before_reading_data(tmp_path, capsys, extra, flag):
    assert main(_train(tmp_path, *extra)) == 2
    err = capsys.readouterr().err
    assert "glassnet train: error:" in err and flag in err and "usage:" in err
    assert not (tmp_path / "run").exists()


def test_train_refuses_cuda_without_one(tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    assert main(_train(tmp_path, "--device", "cuda")) == 2
    assert "cuda" in capsys.readouterr().err.lower()


def test_train_refuses_an_out_that_is_a_file_or_cannot_be_written(tmp_path, capsys):
    f = tmp_path / "a-file"
    f.write_text("x")
    assert main(_train(tmp_path, "--out", str(f))) == 2
    assert "--out" in capsys.readouterr().err
    assert main(_train(tmp_path, "--out", str(f / "below"))) == 2
    assert "not a folder" in capsys.readouterr().err
    if os.path.isdir("/proc/self"):  # root may "access" /proc but not write there
        assert main(_train(tmp_path, "--out", "/proc/glassnet-test-run")) == 2
        assert "cannot write" in capsys.readouterr().err


def test_good_train_arguments_reach_the_data(tmp_path, capsys):
    """The same command with valid options gets past the checks and fails on the missing data
    (exit 1): the refusals above are the checks', not the data's."""
    assert main(_train(tmp_path, "--epochs", "1", "--milestones", "0.5", "2")) == 1
    assert "glassnet train: error" not in capsys.readouterr().err
    assert main(_train(tmp_path, "--momentum", "0", "--no-nesterov")) == 1  # plain SGD: valid
    assert "glassnet train: error" not in capsys.readouterr().err


def _reproduce(*extra):
    from glassnet.registry import experiments

    return ["reproduce", min(experiments()), "--quick", *extra]


@pytest.mark.parametrize(("extra", "words"), [
    (["--out", ""], "--out"), (["--out", "   "], "--out"),
    (["--seed", str(2**40)], "--seed"), (["--seed", "-1"], "--seed"),
    (["--seed", "100001"], "[0, 100000]"),  # derived seeds (10,000 x seed + ...) must stay 32-bit
    (["--threads", "0"], "--threads"), (["--n-jobs", "0"], "--n-jobs"),
])
def test_bad_reproduce_arguments_are_refused_first(capsys, extra, words):
    with pytest.raises(SystemExit) as info:
        main(_reproduce(*extra))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and words in err


def test_reproduce_refuses_an_out_it_cannot_write(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    targets = [str(f / "below")] + (["/proc/glassnet-test-run"] if os.path.isdir("/proc/self") else [])
    for out in targets:
        with pytest.raises(SystemExit) as info:
            main(_reproduce("--out", out))
        assert info.value.code == 2
        assert "--out" in capsys.readouterr().err


def test_train_device_cuda_without_an_index_names_one(monkeypatch):
    """``--device cuda`` (and "auto" on a GPU machine) once failed on every CUDA machine:
    ``torch.cuda.set_device`` needs an index. Checked here with CUDA faked (the real run is in
    tests/test_cuda.py)."""
    import glassnet.devices
    from glassnet.train_cli import _setup_distributed

    seen = []

    def set_device(d):
        if torch.device(d).index is None:
            raise ValueError(f"Expected a torch.device with a specified index, got {d}")
        seen.append(torch.device(d))

    monkeypatch.setattr(glassnet.devices, "resolve_device", lambda _: torch.device("cuda"))
    monkeypatch.setattr(torch.cuda, "set_device", set_device)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert _setup_distributed("cuda") == (0, 1, torch.device("cuda:0"))
    assert seen == [torch.device("cuda:0")]


def test_train_refuses_a_model_that_is_no_image_classifier(tmp_path, capsys):
    args = _train(tmp_path)
    args[1] = "matnet"  # registered, but no CIFAR classifier: it used to fail after reading data
    assert main(args) == 2
    assert "'matnet' is not an image classifier" in capsys.readouterr().err


@pytest.mark.parametrize(("extra", "words"), [(["--seed", "-1"], "--seed"), (["--out", ""], "--out")])
def test_bad_demo_arguments_are_refused_before_the_fit(tmp_path, capsys, extra, words):
    f = tmp_path / "file"
    f.write_text("x")
    for args in (extra, ["--out", str(f / "below")]):  # the demo used to fit first, then fail
        with pytest.raises(SystemExit) as info:
            main(["demo", *args])
        assert info.value.code == 2
        assert (words if args is extra else "--out") in capsys.readouterr().err
