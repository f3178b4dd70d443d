"""Image training at scale through the one loop: DataLoader input, lr schedule, SGD Nesterov,
checkpoint / resume, the CIFAR pickle loader, ``glassnet train`` and DDP on gloo."""

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from glassnet.cli import main
from glassnet.datasets.optnets_data import ImageDataset, load_cifar
from glassnet.training import MultiStep, fit

SRC = str(Path(__file__).resolve().parents[1] / "src")


def make_fake_cifar(root: Path, name="cifar10", n_train=8, n_test=10, seed=0):
    """A tiny directory in CIFAR's python-pickle layout (same keys, shapes and dtypes)."""
    rng = np.random.default_rng(seed)
    if name == "cifar10":
        d = root / "cifar-10-batches-py"
        files = [(f"data_batch_{i}", n_train) for i in range(1, 6)] + [("test_batch", n_test)]
        key, k = b"labels", 10
    else:
        d = root / "cifar-100-python"
        files = [("train", 5 * n_train), ("test", n_test)]
        key, k = b"fine_labels", 100
    d.mkdir(parents=True, exist_ok=True)
    for f, n in files:
        batch = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 key: [int(v) for v in rng.integers(0, k, n)]}
        with open(d / f, "wb") as fh:
            pickle.dump(batch, fh, protocol=2)
    return root


def _toy(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 5, generator=g)
    y = (X[:, 0] > 0).long()
    return X, y


def _loss(m, x, y):
    return F.cross_entropy(m(x), y)


def _net(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))


def test_dataloader_full_batch_equals_tensors():
    X, y = _toy()
    a, b = _net(), _net()
    ha = fit(a, _loss, (X, y), optimizer="sgd", lr=0.1, max_epochs=5, seed=0, verbose=False)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=len(X))
    hb = fit(b, _loss, loader, optimizer="sgd", lr=0.1, max_epochs=5, seed=0, verbose=False)
    np.testing.assert_allclose(ha.train_loss, hb.train_loss, rtol=1e-6)
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q)


def test_lr_schedule_momentum_and_errors():
    X, y = _toy()
    h = fit(_net(), _loss, (X, y), optimizer="sgd", lr=0.1, momentum=0.9, nesterov=True,
            lr_schedule=MultiStep((0.5, 0.75)), max_epochs=8, batch_size=16, seed=0, verbose=False)
    np.testing.assert_allclose(h.lr, [0.1] * 4 + [0.01] * 2 + [0.001] * 2)
    assert MultiStep((3, 5))(4, 100) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="SGD"):
        fit(_net(), _loss, (X, y), optimizer="adam", momentum=0.9, max_epochs=1, verbose=False)
    with pytest.raises(ValueError, match="batch_size"):
        fit(_net(), _loss, torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y)),
            batch_size=4, max_epochs=1, verbose=False)
    with pytest.raises(ValueError, match="lr_schedule"):
        fit(_net(), _loss, (X, y), backtrack=True, lr_schedule=MultiStep(), max_epochs=1, verbose=False)


@pytest.mark.parametrize("use_loader", [False, True])
def test_checkpoint_resume_continues_exactly(tmp_path, use_loader):
    X, y = _toy(96)

    def data():
        if not use_loader:
            return (X, y)
        return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=16,
                                           shuffle=True, generator=torch.Generator().manual_seed(3))

    kw = {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True, "lr_schedule": MultiStep(),
              "seed": 1, "verbose": False, "batch_size": None if use_loader else 16}
    straight = _net()
    h1 = fit(straight, _loss, data(), max_epochs=6, **kw)
    ck = tmp_path / "ck.pt"
    part = _net()

    def crash(epoch, history):
        if epoch == 3:
            raise KeyboardInterrupt  # killed during epoch 4: the checkpoint holds epochs 0-2

    with pytest.raises(KeyboardInterrupt):
        fit(part, _loss, data(), max_epochs=6, checkpoint=ck, on_epoch_end=crash, **kw)
    assert int(torch.load(ck, weights_only=True)["epoch"]) == 2
    resumed = _net(seed=99)  # a fresh process: other weights until the checkpoint loads
    h2 = fit(resumed, _loss, data(), max_epochs=6, checkpoint=ck, resume=True, **kw)
    assert h2.n_epochs == 6
    np.testing.assert_allclose(h2.train_loss, h1.train_loss, rtol=1e-6)
    for p, q in zip(straight.parameters(), resumed.parameters()):
        torch.testing.assert_close(p, q)
    state = torch.load(ck, weights_only=True)  # plain tensors and data, no code
    assert int(state["epoch"]) == 5


def test_cifar_loader_and_safe_unpickling(tmp_path):
    make_fake_cifar(tmp_path)
    X, y = load_cifar("cifar10", "train", tmp_path)
    assert X.shape == (40, 3, 32, 32) and X.dtype == np.uint8 and y.shape == (40,)
    Xt, _yt = load_cifar("cifar10", "test", tmp_path / "cifar-10-batches-py")  # the folder itself
    assert Xt.shape == (10, 3, 32, 32)
    make_fake_cifar(tmp_path, "cifar100")
    X100, y100 = load_cifar("cifar100", "train", tmp_path)
    assert X100.shape[0] == 40 and y100.max() < 100
    with open(tmp_path / "cifar-10-batches-py" / "test_batch", "wb") as fh:
        pickle.dump({b"data": os.getcwd}, fh)  # a reference to a function: must be refused
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        load_cifar("cifar10", "test", tmp_path)


def test_missing_cifar_says_where_to_put_it(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-py.*data_batch_1"):
        load_cifar("cifar10", "train", tmp_path)
    with pytest.raises(FileNotFoundError, match="cifar-100-python.tar.gz"):
        load_cifar("cifar100", "train", tmp_path)
    assert main(["train", "resnet20", "--data-dir", str(tmp_path), "--epochs", "1"]) == 1
    assert "kriz/cifar" in capsys.readouterr().err


def test_augmentation_crops_and_flips():
    X = np.arange(2 * 8 * 8, dtype=np.uint8).reshape(2, 8, 8)
    ds = ImageDataset(X, [0, 1], augment=True, pad=2)
    plain = ImageDataset(X, [0, 1], mean=ds.mean.flatten(), std=ds.std.flatten())
    torch.manual_seed(0)
    outs = [ds[0][0] for _ in range(400)]
    assert all(o.shape == (1, 8, 8) for o in outs)
    assert any(not torch.equal(o, plain[0][0]) for o in outs)
    assert any(torch.equal(o, plain[0][0]) for o in outs)  # the centre crop, unflipped


def test_glassnet_train_and_resume_on_fake_cifar(tmp_path, capsys):
    make_fake_cifar(tmp_path / "data")
    out = tmp_path / "run"
    args = ["train", "resnet20", "--data-dir", str(tmp_path / "data"), "--batch-size", "16",
            "--workers", "0", "--out", str(out), "--threads", "1", "--device", "cpu",
            "--limit-train", "24", "--limit-test", "8"]
    assert main(args + ["--epochs", "1"]) == 0
    assert (out / "checkpoint.pt").is_file() and (out / "model.safetensors").is_file()
    assert main(args + ["--epochs", "2", "--resume"]) == 0
    rows = (out / "metrics.csv").read_text().strip().splitlines()
    assert rows[0].startswith("epoch,train_loss,test_error") and len(rows) == 3  # header + 2 epochs
    summary = json.loads((out / "summary.json").read_text())
    assert summary["epochs"] == 2 and summary["world_size"] == 1 and summary["train_images"] == 24


def test_resume_refuses_a_checkpoint_another_model_wrote(tmp_path, capsys):
    """resnet20 resumed an hbnet20 checkpoint silently (the same state_dict keys); densenet40
    failed in load_state_dict. run.json (else a finished run's summary.json) names the model."""
    make_fake_cifar(tmp_path / "data")
    out = tmp_path / "run"

    def train(model, *extra):
        return main(["train", model, "--data-dir", str(tmp_path / "data"), "--batch-size", "16",
                     "--workers", "0", "--out", str(out), "--threads", "1", "--device", "cpu",
                     "--limit-train", "16", "--limit-test", "8", *extra])

    assert train("hbnet20", "--epochs", "1") == 0
    assert json.loads((out / "run.json").read_text()) == {"model": "hbnet20", "dataset": "cifar10",
                                                          "invertible": False}
    capsys.readouterr()
    for model, extra in (("resnet20", ()), ("hbnet20", ("--invertible",))):
        assert train(model, "--epochs", "2", "--resume", *extra) == 2
        err = capsys.readouterr().err
        assert "written by hbnet20 on cifar10 (recorded in run.json), not " in err
    (out / "run.json").unlink()  # a run from before run.json: the finished run's summary
    assert train("densenet40", "--epochs", "2", "--resume") == 2
    assert "written by hbnet20 on cifar10 (recorded in summary.json), not densenet40" in \
        capsys.readouterr().err
    (out / "summary.json").unlink()  # no record at all: resumes as before
    assert train("hbnet20", "--epochs", "2", "--resume") == 0
    assert len((out / "metrics.csv").read_text().strip().splitlines()) == 3


def test_glassnet_train_under_torchrun_ddp_gloo(tmp_path):
    """``torchrun --nproc_per_node=2`` on CPU: two gloo processes train to the end (world size
    2 in the summary) and rank 0 alone writes the checkpoint and the metrics (14 s on the loaded
    2-core machine: not slow-marked). The gradient averaging itself is DDP's, not checked here."""
    make_fake_cifar(tmp_path / "data", n_train=8, n_test=10)
    out = tmp_path / "ddp"
    env = dict(os.environ, PYTHONPATH=SRC, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "glassnet.cli", "train", "resnet20", "--data-dir", str(tmp_path / "data"),
           "--epochs", "2", "--batch-size", "8", "--workers", "0", "--device", "cpu",
           "--out", str(out), "--threads", "1"]
    r = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["epochs"] == 2
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert int(state["epoch"]) == 1
    assert len((out / "metrics.csv").read_text().strip().splitlines()) == 3


# ------------------------------------------------------------------ mixed precision, channels_last


def _train_args(tmp_path, model, *extra, epochs=6):
    return ["train", model, "--data-dir", str(tmp_path / "data"), "--batch-size", "8",
            "--workers", "0", "--out", str(tmp_path / "run"), "--threads", "1", "--device", "cpu",
            "--limit-train", "24", "--limit-test", "8", "--epochs", str(epochs), "--no-augment",
            "--lr", "0.05", *extra]


def _losses(tmp_path):
    rows = (tmp_path / "run" / "metrics.csv").read_text().strip().splitlines()[1:]
    return [float(r.split(",")[1]) for r in rows]


@pytest.mark.parametrize("model, extra", [("resnet20", ["--amp"]),
                                          ("hbnet20", ["--amp", "bf16", "--channels-last",
                                                       "--invertible"])])
def test_glassnet_train_amp_loss_falls_on_fake_cifar(tmp_path, capsys, model, extra):
    make_fake_cifar(tmp_path / "data")
    assert main(_train_args(tmp_path, model, *extra)) == 0
    losses = _losses(tmp_path)
    assert len(losses) == 6 and all(np.isfinite(losses))
    assert losses[-1] < 0.5 * losses[0]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["amp"] == "bf16" and summary["invertible"] == ("--invertible" in extra)


@pytest.mark.parametrize("extra, words", [
    (["--device", "tpu"], "tpu"),
    (["--device", "cuda:99"], "cuda:99"),
    (["--amp", "fp16"], "fp16"),
    (["--invertible"], "beta_2 = 0"),  # resnet20: nothing to invert
    (["--epochs", "0"], "--epochs"),
])
def test_glassnet_train_checks_options_before_reading_data(tmp_path, capsys, extra, words):
    # no CIFAR files in tmp_path: a bad option must be reported (exit 2) before the data (exit 1)
    args = ["train", "resnet20", "--data-dir", str(tmp_path), "--device", "cpu", *extra]
    assert main(args) == 2
    assert words in capsys.readouterr().err


def test_glassnet_train_invertible_needs_an_hb_model(tmp_path, capsys):
    assert main(["train", "densenet40", "--data-dir", str(tmp_path), "--invertible"]) == 2
    assert "no invertible option" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["train", "resnet20", "--data-dir", str(tmp_path), "--amp", "int8"])
    assert info.value.code == 2 and "int8" in capsys.readouterr().err


def test_fit_amp_autocasts_the_loss_and_channels_last_formats_batches():
    seen = {}

    def loss(m, x, y):
        seen["autocast"] = torch.is_autocast_enabled("cpu")
        seen["channels_last"] = x.is_contiguous(memory_format=torch.channels_last)
        out = m(x)
        seen["dtype"] = out.dtype
        return F.cross_entropy(out.float(), y)

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(), torch.nn.Linear(64, 2))
    X, y = torch.randn(8, 3, 6, 6), torch.randint(0, 2, (8,))
    h = fit(net, loss, (X, y), optimizer="sgd", lr=0.1, max_epochs=3, amp=True, channels_last=True,
            device="cpu", verbose=False)
    assert seen == {"autocast": True, "channels_last": True, "dtype": torch.bfloat16}
    assert net[0].weight.dtype == torch.float32  # parameters keep their dtype
    assert net[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert h.n_epochs == 3 and all(np.isfinite(h.train_loss))
    seen.clear()
    fit(net, loss, (X, y), optimizer="sgd", lr=0.1, max_epochs=1, verbose=False)
    assert seen["autocast"] is False and seen["dtype"] == torch.float32


@pytest.mark.parametrize("kw, words", [({"amp": "fp16", "device": "cpu"}, "CUDA"), ({"amp": "int8"}, "amp"),
                                       ({"amp": True, "optimizer": "lbfgs"}, "lbfgs"),
                                       ({"device": "bogus"}, "bogus"), ({"device": "cuda:99"}, "cuda:99")])
def test_fit_rejects_bad_amp_and_device_before_training(kw, words):
    X, y = _toy()
    net = _net()
    before = [p.detach().clone() for p in net.parameters()]
    with pytest.raises(ValueError, match=words):
        fit(net, _loss, (X, y), max_epochs=1, verbose=False, **kw)
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), before))
