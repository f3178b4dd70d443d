"""The accelerator check of issue 28, run on a machine with a CUDA GPU.

Three parts, in this order, each writing its rows as soon as they are measured (a part that
fails prints its error and the others still run):

* ``memory`` (``gpu_memory.csv``): peak CUDA memory of a training step (``max_memory_allocated``
  above the model and batch) and images per second (median of timed steps after warm-up, with
  ``torch.cuda.synchronize``) for ResNet, HB-Net and invertible HB-Net at depths 20 / 56 / 110,
  batch 64 of 3 x 32 x 32 images, SGD, float32: the CUDA counterpart of ``bench_memory.py``.
* ``train`` (``gpu_train.csv``): ``glassnet train hbnet20`` on generated CIFAR-shaped data
  (10 classes, each a fixed random colour pattern plus noise: learnable), 2,000 training images,
  batch 64, 10 epochs (320 steps), in float32, ``--amp`` (bf16), ``--amp fp16`` and
  ``--amp --invertible``: loss per epoch, test error and time.
* ``estimators`` (``gpu_estimators.csv``): fit time of ``SPINNRegressorCV()``,
  ``MatNetClassifier()`` and others with their default arguments on ``"cuda"`` and on
  ``"cpu"`` at sizes where a GPU can matter (n = 20,000 for the first two), each fit in a fresh
  process (CUDA started before the clock), stopped after ``--gpu-limit`` / ``--cpu-limit``
  seconds (then recorded as longer than the limit), with the held-out score of both fits and
  the ratio. Generated data only: friedman1 for SPINN; for MatNet, 28 x 28 Gaussian images
  labelled by a rank-one bilinear form (MatNet's own model class); ``make_classification``
  (rows permuted) for the others.

``gpu.md`` collects the three tables. Nothing here chooses a default; the data are generated.

    PYTHONPATH=src python benchmarks/bench_gpu.py [--part all|memory|train|estimators]
        [--only NAME ...] [--cpu-limit 150] [--gpu-limit 150] [--quick] [--out benchmarks/gpu]

``--quick`` shrinks every size (a CPU smoke run of the script itself; it then compares the CPU
with itself). The committed rows of one H200 are discussed in ``docs/devices.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F


def _device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def _sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


# ----------------------------------------------------------------------------- estimators

def _bilinear_images(n, side, seed):
    rng = np.random.default_rng(seed)
    u, v = rng.standard_normal(side), rng.standard_normal(side)
    X = rng.standard_normal((n, side, side)).astype(np.float32)
    score = np.einsum("i,nij,j->n", u, X, v) / side
    y = (score + 0.3 * rng.standard_normal(n) > 0).astype(int)
    return X.reshape(n, -1), y


def _cases(quick):
    """name -> (estimator factory taking the device, X, y, rows to train on; the rest test)."""
    from sklearn.datasets import make_classification, make_friedman1

    import glassnet

    n = 2000 if quick else 20000
    n_test = 5000 if not quick else 1000
    side = 28
    Xf, yf = make_friedman1(n + n_test, 50, noise=1.0, random_state=0)
    Xm, ym = _bilinear_images(n + n_test, side, 0)
    m = 1000 if quick else 5000
    # informative columns first (DSRL takes 64 columns); shuffle=False also orders the rows by
    # class and cluster, so the rows are permuted here (the first GPU run's scores lacked this)
    Xc, yc = make_classification(m + 2000, 200, n_informative=10, shuffle=False,
                                 random_state=0)
    rows = np.random.default_rng(0).permutation(len(yc))
    Xc, yc = Xc[rows], yc[rows]
    return {
        "SPINNRegressorCV": (lambda d: glassnet.SPINNRegressorCV(random_state=0, device=d),
                             Xf, yf, n),
        "MatNetClassifier": (lambda d: glassnet.MatNetClassifier(input_shape=(side, side),
                                                                 random_state=0, device=d),
                             Xm, ym, n),
        "SPINNClassifierCV": (lambda d: glassnet.SPINNClassifierCV(random_state=0, device=d),
                              Xc, yc, m),
        "IRLSADMMNetClassifier": (lambda d: glassnet.IRLSADMMNetClassifier(random_state=0,
                                                                           device=d), Xc, yc, m),
        "DSRLClassifier": (lambda d: glassnet.DSRLClassifier(random_state=0, device=d),
                           Xc[:, :64], yc, m),
    }


def fit_one(name, device, quick):
    """One fit in this (child) process: its wall time, held-out score and where it ran."""
    make, X, y, n = _cases(quick)[name]
    if device.startswith("cuda"):  # CUDA's context and first kernel loads are not a fit's cost
        torch.ones(8, device=device).sum().item()
    _sync()
    t0 = time.perf_counter()
    est = make(device).fit(X[:n], y[:n])
    _sync()
    return {"fit_s": round(time.perf_counter() - t0, 3),
            "score": round(float(est.score(X[n:], y[n:])), 4),
            "ran_on": str(getattr(est, "device_", device)), "threads": torch.get_num_threads()}


def bench_estimators(quick, out, only=None, limits=(150.0, 150.0)):
    """Each fit in a fresh process (the GPU's first, then the CPU's), stopped after
    ``limits`` (CPU, GPU) seconds: a stopped fit is recorded as longer than its limit."""
    dev = _device()
    rows = []
    for name, (_, X, _, n) in _cases(quick).items():
        if only and name not in only:
            continue
        row = {"estimator": name, "n_train": n, "n_test": X.shape[0] - n, "p": X.shape[1]}
        for key, d, limit in (("gpu", dev, limits[1]), ("cpu", "cpu", limits[0])):
            cmd = [sys.executable, __file__, "--fit", name, d] + (["--quick"] if quick else [])
            try:
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, check=False)
            except subprocess.TimeoutExpired:
                row[f"fit_s_{key}"] = f">{limit:g}"
                continue
            if r.returncode != 0:
                row[f"error_{key}"] = r.stderr.strip().splitlines()[-1][:300]
                print(r.stderr[-3000:], file=sys.stderr)
                continue
            res = json.loads(r.stdout.strip().splitlines()[-1])
            row.update({f"{k}_{key}": v for k, v in res.items()})
        if all(isinstance(row.get(f"fit_s_{k}"), float) for k in ("cpu", "gpu")):
            row["speedup"] = round(row["fit_s_cpu"] / row["fit_s_gpu"], 2)
        rows.append(row)
        print(json.dumps(row), flush=True)
        pd.DataFrame(rows).to_csv(out / "gpu_estimators.csv", index=False)
    return rows


# ----------------------------------------------------------------------------- memory

def bench_memory(quick, out, batch=64):
    from glassnet.registry import create_model

    dev = _device()
    configs = {"resnet": {}, "hbnet": {}, "hbnet-inv": {"invertible": True}}
    depths = (20,) if quick else (20, 56, 110)
    steps = 2 if quick else 8
    rows = []
    for depth in depths:
        for label, kw in configs.items():
            name = f"{label.split('-')[0]}{depth}"
            row = {"model": label, "depth": depth, "batch": batch, "device": dev}
            try:
                torch.manual_seed(0)
                model = create_model(name, num_classes=10, **kw).to(dev).train()
                opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
                x = torch.randn(batch, 3, 32, 32, device=dev)
                y = torch.randint(0, 10, (batch,), device=dev)
                times = []
                for i in range(steps + 2):
                    if i == 2 and dev == "cuda":  # optimizer state exists from here on
                        torch.cuda.reset_peak_memory_stats()
                        base = torch.cuda.memory_allocated()
                    _sync()
                    t0 = time.perf_counter()
                    opt.zero_grad(set_to_none=True)
                    F.cross_entropy(model(x), y).backward()
                    opt.step()
                    _sync()
                    times.append(time.perf_counter() - t0)
                if dev == "cuda":
                    row["train_MB"] = round((torch.cuda.max_memory_allocated() - base) / 2**20, 1)
                row["images_per_s"] = round(batch / statistics.median(times[2:]), 1)
            except Exception as err:  # noqa: BLE001
                row["error"] = f"{type(err).__name__}: {err}"[:300]
                traceback.print_exc()
            rows.append(row)
            print(json.dumps(row), flush=True)
            del model, opt
            if dev == "cuda":
                torch.cuda.empty_cache()
    df = pd.DataFrame(rows)
    for col, ref in (("train_MB", "resnet"), ("images_per_s", "resnet")):
        if col in df:
            base = df[df.model == ref].set_index("depth")[col]
            df[f"{col}_vs_resnet"] = (df[col] / df.depth.map(base)).round(3)
    df.to_csv(out / "gpu_memory.csv", index=False)
    return df


# ----------------------------------------------------------------------------- train

def _learnable_cifar(root: Path, n_train=400, n_test=500, seed=0):
    """CIFAR-10's pickle layout; class k = a fixed random colour pattern + noise (learnable)."""
    rng = np.random.default_rng(seed)
    patterns = rng.uniform(60, 196, (10, 3072))
    d = root / "cifar-10-batches-py"
    d.mkdir(parents=True, exist_ok=True)
    files = [(f"data_batch_{i}", n_train) for i in range(1, 6)] + [("test_batch", n_test)]
    for f, n in files:
        labels = rng.integers(0, 10, n)
        data = np.clip(patterns[labels] + rng.normal(0, 60, (n, 3072)), 0, 255).astype(np.uint8)
        with open(d / f, "wb") as fh:
            pickle.dump({b"data": data, b"labels": [int(v) for v in labels]}, fh, protocol=2)


def bench_train(quick, out):
    from glassnet.cli import main

    dev = _device()
    runs = {"fp32": [], "bf16": ["--amp"], "fp16": ["--amp", "fp16"],
            "bf16-invertible": ["--amp", "--invertible"]}
    if dev != "cuda":
        runs.pop("fp16")
    epochs = 2 if quick else 10
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        n_train = 40 if quick else 400  # per batch file: 5 files
        _learnable_cifar(tmp / "data", n_train=n_train, n_test=100 if quick else 500)
        for label, extra in runs.items():
            row = {"run": label, "model": "hbnet20", "device": dev, "epochs": epochs}
            run_dir = tmp / label
            t0 = time.perf_counter()
            try:
                rc = main(["train", "hbnet20", "--data-dir", str(tmp / "data"), "--device", dev,
                           "--epochs", str(epochs), "--batch-size", "64", "--workers", "2",
                           "--lr", "0.05", "--no-augment", "--out", str(run_dir), *extra])
                row["rc"] = rc
                row["wall_s"] = round(time.perf_counter() - t0, 2)
                m = pd.read_csv(run_dir / "metrics.csv")
                row["steps"] = epochs * int(np.ceil(5 * n_train / 64))
                row["loss_first"] = round(float(m.train_loss.iloc[0]), 4)
                row["loss_last"] = round(float(m.train_loss.iloc[-1]), 4)
                row["test_error_last"] = round(float(m.test_error.iloc[-1]), 4)
                row["loss_per_epoch"] = " ".join(f"{v:.3f}" for v in m.train_loss)
            except Exception as err:  # noqa: BLE001
                row["error"] = f"{type(err).__name__}: {err}"[:300]
                traceback.print_exc()
            rows.append(row)
            print(json.dumps(row), flush=True)
            pd.DataFrame(rows).to_csv(out / "gpu_train.csv", index=False)
    return rows


def _md(out: Path, header: str) -> None:
    lines = [header, ""]
    for name in ("gpu_estimators", "gpu_memory", "gpu_train"):
        f = out / f"{name}.csv"
        if f.exists():
            lines += [f"## {name}", "", pd.read_csv(f).to_markdown(index=False), ""]
    (out / "gpu.md").write_text("\n".join(lines))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=("all", "estimators", "memory", "train"), default="all")
    p.add_argument("--only", nargs="*", default=None, help="estimators to time (default: all)")
    p.add_argument("--cpu-limit", type=float, default=150.0, help="seconds for one CPU fit")
    p.add_argument("--gpu-limit", type=float, default=150.0, help="seconds for one GPU fit")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", default="benchmarks/gpu")
    p.add_argument("--fit", nargs=2, default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.fit:  # child: one estimator fit
        print(json.dumps(fit_one(*a.fit, a.quick)))
        return
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    header = (f"# GPU check (issue 28): {gpu}, torch {torch.__version__}, {os.cpu_count()} CPUs, "
              f"Python {sys.version.split()[0]}{', --quick' if a.quick else ''}")
    print(header, flush=True)
    parts = (("memory", bench_memory), ("train", bench_train),
             ("estimators", lambda q, o: bench_estimators(q, o, a.only, (a.cpu_limit, a.gpu_limit))))
    for part, fn in parts:
        if a.part in ("all", part):
            t0 = time.perf_counter()
            try:
                fn(a.quick, out)
            except Exception:  # noqa: BLE001 - one part's failure must not lose the others
                traceback.print_exc()
            print(f"[{part}: {time.perf_counter() - t0:.1f} s]", flush=True)
            _md(out, header)


if __name__ == "__main__":
    main()
