"""The accelerator check of issue 28, run on a machine with a CUDA GPU.

Five parts, in this order, each writing its rows as soon as they are measured (a part that
fails prints its error and the others still run; the default runs memory, train, estimators):

* ``memory`` (``gpu_memory.csv``): peak CUDA memory of a training step (``max_memory_allocated``
  above the model and batch) and images per second (median of timed steps after warm-up, with
  ``torch.cuda.synchronize``) for ResNet, HB-Net and invertible HB-Net at depths 20 / 56 / 110,
  batch 64 (``--batches``) of 3 x 32 x 32 images, SGD, float32: the CUDA counterpart of
  ``bench_memory.py``.
* ``profile`` (``gpu_profile.csv``): the same steps at depth 110 under ``torch.profiler``: wall
  time per step against the GPU's busy time and the kernels launched (launch-bound or not).
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
  (rows permuted) for the others. ``--sides gpu`` fits on the GPU only.
* ``threads`` (``gpu_threads.csv``): ``SPINNRegressorCV()``'s CPU fit time on friedman1
  (5,000 rows) against torch's thread count (``glassnet.utils.threads``), on the GPU machine's
  many cores.

``gpu.md`` collects the tables. Nothing here chooses a default; the data are generated.

    PYTHONPATH=src python benchmarks/bench_gpu.py [--part all|memory|profile|train|...]
        [--only NAME ...] [--sides gpu cpu] [--cpu-limit 150] [--gpu-limit 150]
        [--batches 64 ...] [--depths 20 56 110] [--threads 1 2 4 8 16] [--threads-rows 5000]
        [--quick] [--out benchmarks/gpu]

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


def _failed(row: dict, err: Exception) -> None:
    """A measurement that raised: its error in the row, the traceback on stderr."""
    row["error"] = f"{type(err).__name__}: {err}"[:300]
    traceback.print_exc()


def _keep(rows: list, row: dict, path: Path) -> None:
    """Add ``row``, print it and rewrite ``path`` (a part stopped midway keeps its rows)."""
    rows.append(row)
    print(json.dumps(row), flush=True)
    pd.DataFrame(rows).to_csv(path, index=False)


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


def fit_one(name, device, quick, n_threads=None, n_train=None):
    """One fit in this (child) process: its wall time, held-out score and where it ran.
    ``n_threads``: torch's and BLAS's thread count for the fit (``glassnet.utils.threads``);
    ``n_train``: train on that many rows instead of the case's (the same held-out rows)."""
    from glassnet.utils import threads

    make, X, y, n = _cases(quick)[name]
    X_test, y_test = X[n:], y[n:]
    if n_train is not None:
        n = int(n_train)
    if device.startswith("cuda"):  # CUDA's context and first kernel loads are not a fit's cost
        torch.ones(8, device=device).sum().item()
    _sync()
    t0 = time.perf_counter()
    with threads(n_threads):
        est = make(device).fit(X[:n], y[:n])
        _sync()
    return {"fit_s": round(time.perf_counter() - t0, 3),
            "score": round(float(est.score(X_test, y_test)), 4),
            "ran_on": str(getattr(est, "device_", device)),
            "threads": n_threads or torch.get_num_threads()}


def _child(name, device, quick, limit, extra=()):
    """Run ``fit_one`` in a fresh process: its result dict, ``{"fit_s": ">limit"}`` when
    stopped at ``limit`` seconds, or ``{"error": ...}``."""
    cmd = [sys.executable, __file__, "--fit", name, device, *extra] + (["--quick"] if quick else [])
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, check=False)
    except subprocess.TimeoutExpired:
        return {"fit_s": f">{limit:g}"}
    if r.returncode != 0:
        print(r.stderr[-3000:], file=sys.stderr)
        return {"error": r.stderr.strip().splitlines()[-1][:300]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def bench_estimators(quick, out, only=None, limits=(150.0, 150.0), sides=("gpu", "cpu")):
    """Each fit in a fresh process (the GPU's first, then the CPU's), stopped after
    ``limits`` (CPU, GPU) seconds: a stopped fit is recorded as longer than its limit.
    ``sides`` leaves out the CPU or the GPU fit (a ratio needs both)."""
    dev = _device()
    rows = []
    for name, (_, X, _, n) in _cases(quick).items():
        if only and name not in only:
            continue
        row = {"estimator": name, "n_train": n, "n_test": X.shape[0] - n, "p": X.shape[1]}
        for key, d, limit in (("gpu", dev, limits[1]), ("cpu", "cpu", limits[0])):
            if key in sides:
                row.update({f"{k}_{key}": v for k, v in _child(name, d, quick, limit).items()})
        if all(isinstance(row.get(f"fit_s_{k}"), float) for k in ("cpu", "gpu")):
            row["speedup"] = round(row["fit_s_cpu"] / row["fit_s_gpu"], 2)
        _keep(rows, row, out / "gpu_estimators.csv")
    return rows


def bench_threads(quick, out, counts=(1, 2, 4, 8, 16), n_train=5000, limit=60.0,
                  name="SPINNRegressorCV"):
    """CPU fit time of one estimator (default arguments) against its thread count, each fit in
    a fresh process under ``glassnet.utils.threads(n)``: how a many-core machine's default of
    one thread per core compares with fewer."""
    rows = []
    n_train = min(n_train, 1000) if quick else n_train
    for t in counts:
        if t > (os.cpu_count() or 1):
            continue
        row = {"estimator": name, "n_train": n_train, "threads": t}
        row.update(_child(name, "cpu", quick, limit,
                          ("--set-threads", str(t), "--n-train", str(n_train))))
        _keep(rows, row, out / "gpu_threads.csv")
    return rows


# ----------------------------------------------------------------------------- memory

def _train_step(model, opt, x, y):
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y).backward()
    opt.step()


def _model_and_batch(label, depth, batch, dev):
    from glassnet.registry import create_model

    kw = {"invertible": True} if label == "hbnet-inv" else {}
    torch.manual_seed(0)
    model = create_model(f"{label.split('-')[0]}{depth}", num_classes=10, **kw).to(dev).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 3, 32, 32, device=dev)
    y = torch.randint(0, 10, (batch,), device=dev)
    return model, opt, x, y


def bench_memory(quick, out, batches=(64,), depths=(20, 56, 110)):
    dev = _device()
    depths = (20,) if quick else depths
    steps = 2 if quick else 8
    rows = []
    for depth in depths:
        for batch in batches:
            for label in ("resnet", "hbnet", "hbnet-inv"):
                row = {"model": label, "depth": depth, "batch": batch, "device": dev}
                model = opt = None
                try:
                    model, opt, x, y = _model_and_batch(label, depth, batch, dev)
                    times = []
                    for i in range(steps + 2):
                        if i == 2 and dev == "cuda":  # optimizer state exists from here on
                            torch.cuda.reset_peak_memory_stats()
                            base = torch.cuda.memory_allocated()
                        _sync()
                        t0 = time.perf_counter()
                        _train_step(model, opt, x, y)
                        _sync()
                        times.append(time.perf_counter() - t0)
                    if dev == "cuda":
                        row["train_MB"] = round((torch.cuda.max_memory_allocated() - base) / 2**20, 1)
                    row["images_per_s"] = round(batch / statistics.median(times[2:]), 1)
                except Exception as err:  # noqa: BLE001
                    _failed(row, err)
                rows.append(row)
                print(json.dumps(row), flush=True)
                del model, opt
                if dev == "cuda":
                    torch.cuda.empty_cache()
    df = pd.DataFrame(rows)
    for col in ("train_MB", "images_per_s"):
        if col in df:
            ref = df[df.model == "resnet"].set_index(["depth", "batch"])[col]
            keys = list(zip(df.depth, df.batch))
            df[f"{col}_vs_resnet"] = (df[col] / ref.reindex(keys).to_numpy()).round(3)
    df.to_csv(out / "gpu_memory.csv", index=False)
    return df


def bench_profile(quick, out, depth=110, batch=64, steps=4):
    """Where a training step's time goes (torch.profiler over ``steps`` steps after warm-up):
    wall time per step against the GPU's busy time (the kernels' own time, summed) and the
    number of kernels launched. A step whose kernels fill a small part of its wall time is
    bound by the host's launches, not by the GPU's arithmetic."""
    from torch.profiler import ProfilerActivity, profile

    dev = _device()
    depth = 20 if quick else depth
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev == "cuda" else [])
    rows = []
    for label in ("resnet", "hbnet", "hbnet-inv"):
        row = {"model": label, "depth": depth, "batch": batch, "device": dev}
        try:
            model, opt, x, y = _model_and_batch(label, depth, batch, dev)
            for _ in range(3):
                _train_step(model, opt, x, y)
            _sync()
            with profile(activities=acts) as prof:
                t0 = time.perf_counter()
                for _ in range(steps):
                    _train_step(model, opt, x, y)
                _sync()
                wall = time.perf_counter() - t0
            kernels = [e for e in prof.events() if e.device_type.name == "CUDA"]
            busy = sum(e.device_time for e in kernels) / 1e3  # microseconds -> ms
            row.update({"wall_ms_per_step": round(1e3 * wall / steps, 2),
                        "gpu_busy_ms_per_step": round(busy / steps, 2),
                        "kernels_per_step": round(len(kernels) / steps),
                        "gpu_busy_share": round(busy / (1e3 * wall), 3) if wall else None})
        except Exception as err:  # noqa: BLE001
            _failed(row, err)
        _keep(rows, row, out / "gpu_profile.csv")
    return rows


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
                _failed(row, err)
            _keep(rows, row, out / "gpu_train.csv")
    return rows


def _md(out: Path, header: str) -> None:
    lines = [header, ""]
    for name in ("gpu_estimators", "gpu_threads", "gpu_memory", "gpu_profile", "gpu_train"):
        f = out / f"{name}.csv"
        if f.exists():
            lines += [f"## {name}", "", pd.read_csv(f).to_markdown(index=False), ""]
    (out / "gpu.md").write_text("\n".join(lines))


PARTS = ("memory", "profile", "train", "estimators", "threads")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", nargs="+", choices=("all", *PARTS),
                   default=["memory", "train", "estimators"],
                   help="parts to run, in this script's order (all: every part)")
    p.add_argument("--only", nargs="*", default=None, help="estimators to time (default: all)")
    p.add_argument("--sides", nargs="+", choices=("gpu", "cpu"), default=["gpu", "cpu"],
                   help="estimators: fit on the GPU, the CPU or both (a speed-up needs both)")
    p.add_argument("--cpu-limit", type=float, default=150.0, help="seconds for one CPU fit")
    p.add_argument("--gpu-limit", type=float, default=150.0, help="seconds for one GPU fit")
    p.add_argument("--batches", nargs="+", type=int, default=[64], help="memory: batch sizes")
    p.add_argument("--depths", nargs="+", type=int, default=[20, 56, 110], help="memory: depths")
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2, 4, 8, 16],
                   help="threads: CPU thread counts to time SPINNRegressorCV with")
    p.add_argument("--threads-rows", type=int, default=5000, help="threads: training rows")
    p.add_argument("--threads-limit", type=float, default=60.0, help="threads: seconds a fit")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", default="benchmarks/gpu")
    p.add_argument("--fit", nargs=2, default=None, help=argparse.SUPPRESS)
    p.add_argument("--set-threads", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--n-train", type=int, default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.fit:  # child: one estimator fit
        print(json.dumps(fit_one(*a.fit, a.quick, a.set_threads, a.n_train)))
        return
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    header = (f"# GPU check (issue 28): {gpu}, torch {torch.__version__}, {os.cpu_count()} CPUs, "
              f"Python {sys.version.split()[0]}{', --quick' if a.quick else ''}")
    print(header, flush=True)
    run = {"memory": lambda q, o: bench_memory(q, o, a.batches, a.depths),
           "profile": bench_profile,
           "train": bench_train,
           "estimators": lambda q, o: bench_estimators(q, o, a.only, (a.cpu_limit, a.gpu_limit),
                                                       a.sides),
           "threads": lambda q, o: bench_threads(q, o, a.threads, a.threads_rows,
                                                 a.threads_limit)}
    for part in PARTS:
        if part in a.part or "all" in a.part:
            t0 = time.perf_counter()
            try:
                run[part](a.quick, out)
            except Exception:  # noqa: BLE001 - one part's failure must not lose the others
                traceback.print_exc()
            print(f"[{part}: {time.perf_counter() - t0:.1f} s]", flush=True)
            _md(out, header)


if __name__ == "__main__":
    main()
