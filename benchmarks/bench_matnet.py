"""MatNet's defaults against their peers, side by side in one run (issues 9 and 11).

* digits: ``MatNetClassifier()`` vs ``LogisticRegression()``, ``MLPClassifier()`` and a small
  CNN on scikit-learn's 8x8 digits (X / 16 as 8x8 matrices), 5 stratified 70/30 splits
  (reporting seeds 0-4; the defaults were chosen on seeds 100-104).
* regression: ``MatNetRegressor()`` vs the previous defaults, ``Ridge()`` and
  ``MLPRegressor()`` on ``make_regression(n_features=64)`` as 8x8 matrices, 5 seeds, 70/30.
* MNIST (when its files are present): the configuration ``matnet-mnist`` chose on validation,
  trained on the 5k subset, tested on the official 10k, beside MLPs and a small CNN.
* SR (``--sr``): ``MatNetSR()`` with its defaults (trained on T91) against bicubic on Set5 and
  Set14 (PSNR on Y, border = scale).

Accuracy / R2 / PSNR, parameters, fit time and ratios to MatNet. Wall-clock times are taken on
whatever machine runs this (the committed CSV: a shared, loaded 2-core machine, 1 thread).

    python benchmarks/bench_matnet.py [--data-dir ../shared/data] [--sr] [--out benchmarks/matnet.csv]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from glassnet import MatNetClassifier, MatNetRegressor
from glassnet.training import fit


def n_params(m: nn.Module) -> int:
    return int(sum(p.numel() for p in m.parameters()))


def small_cnn(side: int) -> nn.Module:
    if side == 8:  # 8x8 digits: one conv block
        return nn.Sequential(nn.Unflatten(1, (1, 8)), nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 10))
    # 28x28 MNIST: LeNet-like, about 6k parameters
    return nn.Sequential(nn.Unflatten(1, (1, 28)), nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(16 * 4 * 4, 10))


class _Torch:
    """A plain torch classifier trained by glassnet's loop (the CNN peer)."""

    def __init__(self, model, epochs, seed):
        self.model, self.epochs, self.seed = model, epochs, seed

    def fit(self, X, y):
        from glassnet.utils import local_seed

        with local_seed(self.seed):
            self.model = self.model.apply(lambda m: m.reset_parameters() if hasattr(m, "reset_parameters") else None)
            fit(self.model, lambda m, a, b: nn.functional.cross_entropy(m(a), b),
                (torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y)), optimizer="adam",
                lr=0.01, max_epochs=self.epochs, batch_size=100, seed=self.seed, verbose=False)
        self.n_parameters_ = n_params(self.model)
        return self

    @torch.no_grad()
    def score(self, X, y):
        self.model.eval()
        return float((self.model(torch.as_tensor(X, dtype=torch.float32)).argmax(1).numpy() == y).mean())


def _n_par(est) -> int:
    if hasattr(est, "n_parameters_"):
        return int(est.n_parameters_)
    if hasattr(est, "coefs_"):
        return int(sum(w.size for w in est.coefs_) + sum(b.size for b in est.intercepts_))
    return int(np.size(est.coef_) + np.size(est.intercept_))


def _timed(est, Xtr, ytr, Xte, yte):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        est.fit(Xtr, ytr)
        fit_s = time.perf_counter() - t0
        return est.score(Xte, yte), fit_s


def _summarise(rows, task, metric):
    df = pd.DataFrame(rows)
    g = df.groupby("model", sort=False)
    out = g.agg(parameters=("parameters", "first"), score=(metric, "mean"),
                score_std=(metric, lambda a: float(np.std(a))), fit_s=("fit_s", "mean"),
                fit_s_max=("fit_s", "max"), runs=(metric, "size")).reset_index()
    out.insert(0, "task", task)
    out.insert(2, "metric", metric)
    ref = out.iloc[0]
    out["score_minus_matnet"] = out["score"] - ref["score"]
    out["params_vs_matnet"] = out["parameters"] / ref["parameters"]
    out["fit_time_vs_matnet"] = out["fit_s"] / ref["fit_s"]
    return out


def bench_digits(seeds=range(5)):
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).reshape(-1, 8, 8)
    rows = []
    for s in seeds:
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=s, stratify=y)
        F, G = Xtr.reshape(len(Xtr), -1), Xte.reshape(len(Xte), -1)
        for name, est, flat in [
            ("MatNetClassifier()", MatNetClassifier(random_state=s), False),
            ("LogisticRegression()", LogisticRegression(max_iter=1000), True),
            ("MLPClassifier()", MLPClassifier(random_state=s), True),
            ("small CNN (torch, Adam 100 epochs)", _Torch(small_cnn(8), 100, s), False),
        ]:
            acc, fit_s = _timed(est, F if flat else Xtr, ytr, G if flat else Xte, yte)
            rows.append({"model": name, "seed": s, "accuracy": acc, "fit_s": fit_s, "parameters": _n_par(est)})
        print(f"digits seed {s} done", flush=True)
    return _summarise(rows, "digits 8x8 (5 splits)", "accuracy")


# issue 27: the classifier defaults (relu, 20x20 hidden, patience 7) were chosen on splits 10-24
DIGITS_MLP_TUNING_SEEDS = tuple(range(10, 25))
# splits 200-209 scored an earlier candidate (16x16, patience 5: 0.9769 vs the MLP's 0.9776) before
# two more tuning rounds on 10-24, so they are shown apart; 300-319 were never used before this run
DIGITS_MLP_EARLIER_SEEDS = tuple(range(200, 210))
DIGITS_MLP_REPORT_SEEDS = tuple(range(300, 320))


def bench_digits_vs_mlp(seeds_by_role=None, threads_=1):
    """Issue 27's target: ``MatNetClassifier()`` within 3x of ``MLPClassifier()``'s fit time on
    digits with accuracy at least as good. Both fitted on the same split in one process, their
    order alternating from split to split; the load average is recorded before each pair.
    Returns one row per (split, model) with the fit-time ratio to the MLP of the same split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    if seeds_by_role is None:
        seeds_by_role = {"tuning": DIGITS_MLP_TUNING_SEEDS, "report": DIGITS_MLP_REPORT_SEEDS,
                         "seen by an earlier candidate": DIGITS_MLP_EARLIER_SEEDS}
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).reshape(-1, 8, 8)
    rows = []
    k = 0
    for role, seeds in seeds_by_role.items():
        for s in seeds:
            Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=s, stratify=y)
            F, G = Xtr.reshape(len(Xtr), -1), Xte.reshape(len(Xte), -1)
            pair = [("MatNetClassifier()", MatNetClassifier(random_state=s), Xtr, Xte),
                    ("MLPClassifier()", MLPClassifier(random_state=s), F, G)]
            load = os.getloadavg()[0]
            order = pair if k % 2 == 0 else pair[::-1]
            out = {}
            for name, est, A, B in order:
                acc, fit_s = _timed(est, A, ytr, B, yte)
                out[name] = (acc, fit_s, est)
            k += 1
            for name, (acc, fit_s, est) in out.items():
                rows.append({"split_role": role, "seed": s, "model": name, "accuracy": acc,
                             "fit_s": fit_s, "fit_vs_mlp": fit_s / out["MLPClassifier()"][1],
                             "first": name == order[0][0],
                             "load_avg_1min": load, "parameters": _n_par(est),
                             "lam": getattr(est, "lam_", np.nan), "n_iter": getattr(est, "n_iter_", np.nan)})
            m, p = out["MatNetClassifier()"], out["MLPClassifier()"]
            print(f"digits vs MLP {role} seed {s}: MatNet {m[0]:.4f} {m[1]:.2f}s, MLP {p[0]:.4f} "
                  f"{p[1]:.2f}s, ratio {m[1] / p[1]:.2f}, load {load:.1f}", flush=True)
    return pd.DataFrame(rows)


def summarise_digits_vs_mlp(df):
    """Per split role and model: mean accuracy, mean fit time, the ratio of mean fit times to the
    MLP's and the median of the per-split ratios; ``target_met`` checks both halves of the target."""
    out = []
    for role, g in df.groupby("split_role", sort=False):
        mlp = g[g.model == "MLPClassifier()"]
        for name, h in g.groupby("model", sort=False):
            out.append({"split_role": role, "model": name, "splits": len(h),
                        "accuracy": h.accuracy.mean(), "accuracy_std": float(np.std(h.accuracy)),
                        "fit_s": h.fit_s.mean(), "fit_s_max": h.fit_s.max(),
                        "mean_fit_vs_mlp": h.fit_s.mean() / mlp.fit_s.mean(),
                        "median_ratio_vs_mlp": float(np.median(h.fit_vs_mlp)),
                        "accuracy_minus_mlp": h.accuracy.mean() - mlp.accuracy.mean(),
                        "load_avg_1min": h.load_avg_1min.mean()})
    res = pd.DataFrame(out)
    res["target_met"] = ((res.mean_fit_vs_mlp <= 3.0) & (res.accuracy_minus_mlp >= 0.0)
                         & (res.model == "MatNetClassifier()"))
    return res


def bench_regression(seeds=range(5), n_samples=1000):
    from sklearn.datasets import make_regression
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPRegressor

    old = {"hidden_shapes": [(20, 20)], "head": "bilinear", "activation": "sigmoid",
           "unit_norm": True, "lam": 0.0}
    rows = []
    for s in seeds:
        X, y = make_regression(n_samples=n_samples, n_features=64, random_state=s)
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=s)
        M, N = Xtr.reshape(-1, 8, 8), Xte.reshape(-1, 8, 8)
        for name, est, mat in [
            ("MatNetRegressor()", MatNetRegressor(random_state=s), True),
            ("MatNetRegressor, previous defaults (bilinear 1x1 head, sigmoid, unit-norm, 20x20, no decay)",
             MatNetRegressor(random_state=s, **old), True),
            ("MatNetRegressor, previous defaults but dense head", MatNetRegressor(
                random_state=s, **{**old, "head": "dense"}), True),
            ("MatNetRegressor, previous defaults but unit_norm=False", MatNetRegressor(
                random_state=s, **{**old, "unit_norm": False}), True),
            ("Ridge()", Ridge(), False),
            ("MLPRegressor()", MLPRegressor(random_state=s), False),
        ]:
            r2, fit_s = _timed(est, M if mat else Xtr, ytr, N if mat else Xte, yte)
            rows.append({"model": name, "seed": s, "r2": r2, "fit_s": fit_s, "parameters": _n_par(est)})
        print(f"regression seed {s} done", flush=True)
    return _summarise(rows, f"make_regression(n_samples={n_samples}, n_features=64) as 8x8", "r2")


def bench_mnist(data, seed=0):
    from sklearn.neural_network import MLPClassifier

    from glassnet.datasets import load_mnist
    from glassnet.datasets.images import shift_augment
    from glassnet.experiments.matnet import mnist_candidates

    Xtr, ytr = load_mnist("train5k", data)
    Xte, yte = load_mnist("test", data)
    Xtr, Xte = Xtr / 255.0, Xte / 255.0
    F, G = Xtr.reshape(len(Xtr), -1), Xte.reshape(len(Xte), -1)
    rows = []
    cands = mnist_candidates()
    for name in (CHOSEN_MNIST, "MatNetClassifier() defaults"):
        c = cands[name]
        Xf, yf = shift_augment(Xtr, ytr) if c["augment"] else (Xtr, ytr)
        est = MatNetClassifier(random_state=seed, **c["kw"])
        acc, fit_s = _timed(est, Xf, yf, Xte, yte)
        rows.append({"model": f"MatNet: {name}", "seed": seed, "accuracy": acc, "fit_s": fit_s,
                     "parameters": _n_par(est)})
    Xs, ys = shift_augment(Xtr, ytr)
    for name, est, X_, y_, flat in [
        ("MLP 784-6-10 (MLPClassifier)", MLPClassifier((6,), max_iter=300, random_state=seed), F, ytr, True),
        ("MLP 784-32-10 (MLPClassifier)", MLPClassifier((32,), max_iter=300, random_state=seed), F, ytr, True),
        ("small CNN, same shifted images (Adam 10 epochs)", _Torch(small_cnn(28), 10, seed), Xs, ys, False),
    ]:
        acc, fit_s = _timed(est, X_, y_, G if flat else Xte, yte)
        rows.append({"model": name, "seed": seed, "accuracy": acc, "fit_s": fit_s, "parameters": _n_par(est)})
        print(f"mnist {name} done", flush=True)
    return _summarise(rows, "MNIST 5k train / 10k test", "accuracy")


CHOSEN_MNIST = "tanh, shifts, lam 1e-4, 40 epochs, lr 0.003"  # matnet-mnist's validation winner (seed 0)


def bench_sr(data, seed=0):
    from glassnet import MatNetSR
    from glassnet.datasets.images import load_image_folder

    train = list(load_image_folder("T91", data).values())
    t0 = time.perf_counter()
    sr = MatNetSR(random_state=seed).fit(train)
    fit_s = time.perf_counter() - t0
    rows = []
    for name in ("Set5", "Set14"):
        for img_name, img in load_image_folder(name, data).items():
            r = sr.evaluate(img)
            rows.append({"set": name, "image": img_name, "psnr_bicubic": r["psnr_bicubic"],
                         "psnr_matnet": r["psnr_matnet"]})
    df = pd.DataFrame(rows)
    out = []
    for name, g in df.groupby("set", sort=False):
        out.append({"task": f"SR x2 {name} (PSNR Y, dB)", "model": "MatNetSR()", "metric": "psnr",
                    "parameters": sr.n_parameters_, "score": g["psnr_matnet"].mean(), "fit_s": fit_s,
                    "runs": len(g)})
        out.append({"task": f"SR x2 {name} (PSNR Y, dB)", "model": "bicubic", "metric": "psnr",
                    "parameters": 0, "score": g["psnr_bicubic"].mean(), "fit_s": 0.0, "runs": len(g)})
    res = pd.DataFrame(out)
    res["score_minus_matnet"] = res["score"] - res.groupby("task")["score"].transform("first")
    return res


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=os.environ.get("GLASSNET_DATA"))
    p.add_argument("--out", default=None, help="CSV file for the table")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--sr", action="store_true", help="also train MatNetSR() on T91 (minutes)")
    p.add_argument("--skip", default="",
                   help="comma-separated parts to skip: digits,digits-mlp,regression,regression100,mnist")
    p.add_argument("--mlp-out", default=None,
                   help="CSV for the per-split digits-vs-MLP runs (issue 27; the summary goes to --out)")
    args = p.parse_args(argv)
    from glassnet.utils import threads

    skip = set(filter(None, args.skip.split(",")))
    data = args.data_dir  # None: the loaders look in $GLASSNET_DATA, else ../shared/data
    tables = []
    with threads(args.threads):
        if "digits" not in skip:
            tables.append(bench_digits())
        if "digits-mlp" not in skip:
            runs = bench_digits_vs_mlp()
            summary = summarise_digits_vs_mlp(runs)
            with pd.option_context("display.width", 250, "display.max_columns", 20):
                print(summary.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
            if args.mlp_out:
                runs.to_csv(args.mlp_out, index=False)
                summary.to_csv(Path(args.mlp_out).with_suffix(".summary.csv"), index=False)
                print(f"wrote {args.mlp_out}")
        if "regression" not in skip:
            tables.append(bench_regression())
        if "regression100" not in skip:  # make_regression's own default size (issue 11's setting)
            tables.append(bench_regression(n_samples=100))
        if "mnist" not in skip:
            try:
                tables.append(bench_mnist(data))
            except FileNotFoundError as err:
                print(f"MNIST skipped: {err}")
        if args.sr:
            tables.append(bench_sr(data))
    if not tables:
        return
    df = pd.concat(tables, ignore_index=True)
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.max_colwidth", 60):
        print(df.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if args.out:
        df.to_csv(args.out, index=False)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
