"""MatNet vs MLP vs a small CNN on 8x8 digits (and MNIST when its files are present), one run.

Measures test accuracy, parameter count, training time and inference throughput (samples/s),
side by side, with ratios to MatNet. Every model trains through ``glassnet.training.fit``
(MatNet through its estimator); the CNN is plain ``torch.nn`` (no torchvision). Usage:

    python benchmarks/bench_matnet.py [--data-dir ../shared/data] [--out benchmarks/matnet.csv]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from glassnet import MatNetClassifier
from glassnet.training import fit


def n_params(m: nn.Module) -> int:
    return int(sum(p.numel() for p in m.parameters()))


def mlp(n_in: int, h: int) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(n_in, h), nn.ReLU(), nn.Linear(h, 10))


def small_cnn(side: int) -> nn.Module:
    if side == 8:  # 8x8 digits: one conv block
        return nn.Sequential(nn.Unflatten(1, (1, 8)), nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 10))
    # 28x28 MNIST: LeNet-like, about 6k parameters
    return nn.Sequential(nn.Unflatten(1, (1, 28)), nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(16 * 4 * 4, 10))


def train_torch(model, Xtr, ytr, epochs, seed):
    torch.manual_seed(seed)
    loss = lambda m, X, y: nn.functional.cross_entropy(m(X), y)
    t0 = time.perf_counter()
    fit(model, loss, (Xtr, ytr), optimizer="adam", lr=0.01, max_epochs=epochs, batch_size=100,
        seed=seed, verbose=False)
    return time.perf_counter() - t0


@torch.no_grad()
def throughput(predict, X, repeats=5) -> float:
    predict(X[:10])
    t0 = time.perf_counter()
    for _ in range(repeats):
        predict(X)
    return repeats * len(X) / (time.perf_counter() - t0)


def bench(dataset, Xtr, ytr, Xte, yte, side, hidden_mlp, epochs, lbfgs_epochs, seed=0):
    rows = []
    Ttr = torch.as_tensor(Xtr, dtype=torch.float32).reshape(len(Xtr), side, side)
    Tte = torch.as_tensor(Xte, dtype=torch.float32).reshape(len(Xte), side, side)
    ytr_t, yte_np = torch.as_tensor(ytr), np.asarray(yte)
    hs = [(8, 8)] if side == 8 else [(20, 20), (16, 16)]
    for name, kw in {
        f"MatNet {'-'.join(f'{a}x{b}' for a, b in hs)} (L-BFGS)": {
            "optimizer": "lbfgs", "lr": 1.0, "batch_size": None, "max_epochs": lbfgs_epochs, "lam": 1e-3},
        f"MatNet {'-'.join(f'{a}x{b}' for a, b in hs)} (Adam)": {
            "optimizer": "adam", "lr": 0.01, "batch_size": 100, "max_epochs": epochs, "lam": 1e-4},
    }.items():
        clf = MatNetClassifier(input_shape=(side, side), hidden_shapes=hs, unit_norm=False,
                               random_state=seed, **kw)
        t0 = time.perf_counter()
        clf.fit(Ttr.numpy(), ytr)
        fit_s = time.perf_counter() - t0
        m = clf.module_
        rows.append({"dataset": dataset, "model": name, "parameters": clf.n_parameters_,
                     "accuracy": float((clf.predict(Tte.numpy()) == yte_np).mean()), "train_s": fit_s,
                     "samples_per_s": throughput(m, Tte)})
    n_in = side * side
    for label, model in [(f"MLP {n_in}-{h}-10", mlp(n_in, h)) for h in hidden_mlp] + \
                        [("small CNN", small_cnn(side))]:
        fit_s = train_torch(model, Ttr, ytr_t, epochs, seed)
        model.eval()
        with torch.no_grad():
            acc = float((model(Tte).argmax(1).numpy() == yte_np).mean())
        rows.append({"dataset": dataset, "model": label, "parameters": n_params(model), "accuracy": acc,
                     "train_s": fit_s, "samples_per_s": throughput(model, Tte)})
    df = pd.DataFrame(rows)
    ref = df.iloc[0]
    df["params_vs_matnet"] = df["parameters"] / ref["parameters"]
    df["train_time_vs_matnet"] = df["train_s"] / ref["train_s"]
    df["throughput_vs_matnet"] = df["samples_per_s"] / ref["samples_per_s"]
    return df


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=os.environ.get("GLASSNET_DATA"))
    p.add_argument("--out", default=None, help="CSV file for the table")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X / 16.0, y, test_size=0.3, random_state=0, stratify=y)
    tables = [bench("digits 8x8", Xtr, ytr, Xte, yte, 8, [11, 32], epochs=100, lbfgs_epochs=30)]
    data = Path(args.data_dir) if args.data_dir else Path(__file__).resolve().parents[2] / "shared" / "data"
    try:
        from glassnet.datasets import load_mnist

        Mtr, mytr = load_mnist("train5k", data)
        Mte, myte = load_mnist("test", data)
        tables.append(bench("MNIST 5k/10k", Mtr / 255.0, mytr, Mte / 255.0, myte, 28, [6, 32],
                            epochs=30, lbfgs_epochs=40))
    except FileNotFoundError as err:
        print(f"MNIST skipped: {err}")
    df = pd.concat(tables, ignore_index=True)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(df.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if args.out:
        df.to_csv(args.out, index=False)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
