"""The ``glassnet`` command: ``list``, ``reproduce NAME``, ``demo``, ``train MODEL``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _cmd_list(args) -> int:
    from glassnet.registry import experiments, models

    print("experiments (glassnet reproduce NAME [--quick]):")
    for name, exp in experiments().items():
        data = f"  [data: {', '.join(exp.needs_data)}]" if exp.needs_data else ""
        print(f"  {name:28s} {exp.description}{data}")
    print("models (glassnet.registry.create_model):")
    for name, cls in models().items():
        print(f"  {name:28s} {cls.__module__}.{cls.__name__}")
    return 0


def _cmd_reproduce(args) -> int:
    import torch

    from glassnet.experiments import Config, write_result
    from glassnet.registry import experiments

    exps = experiments()
    if args.name not in exps:
        print(f"unknown experiment {args.name!r}; `glassnet list` shows: {', '.join(exps)}", file=sys.stderr)
        return 2
    exp = exps[args.name]
    torch.set_num_threads(max(1, args.threads))
    cfg = Config(quick=args.quick, seed=args.seed, n_jobs=args.n_jobs, data_dir=args.data_dir)
    out = Path(args.out or f"results/{args.name}{'-quick' if args.quick else ''}")
    t0 = time.perf_counter()
    try:
        result = exp.run(cfg)
    except FileNotFoundError as err:
        print(f"glassnet reproduce {args.name}: {err}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - t0
    result.report = (
        f"{result.report}\n\nPaper: {exp.paper}. Run: quick={cfg.quick}, seed={cfg.seed}, "
        f"n_jobs={cfg.n_jobs}, {elapsed:.1f} s wall time."
    )
    write_result(result, out, f"glassnet reproduce {args.name}{' --quick' if args.quick else ''}")
    print(next(iter(result.tables.values())).to_string(index=False))
    print(f"\nwrote {out}/results.csv, report.md and {len(result.figures)} figure(s) in {elapsed:.1f} s")
    return 0


def _cmd_demo(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from glassnet import IRLSADMMNetClassifier

    data = load_breast_cancer()
    X_tr, X_te, y_tr, y_te = train_test_split(
        data.data, data.target, test_size=0.3, random_state=args.seed, stratify=data.target
    )
    model = make_pipeline(StandardScaler(), IRLSADMMNetClassifier(random_state=args.seed))
    t0 = time.perf_counter()
    model.fit(X_tr, y_tr)
    elapsed = time.perf_counter() - t0
    net = model[-1]
    names = np.asarray(data.feature_names)
    print(f"IRLS-ADMM net on scikit-learn's breast cancer data (fit in {elapsed:.2f} s)")
    print(f"  test accuracy: {model.score(X_te, y_te):.3f}  ({len(y_te)} held-out patients)")
    print(f"  selected {net.selected_features_.size} of {names.size} features (top-q by |beta|, q by the 1-SE rule on a validation split):")
    for j in net.selected_features_[np.argsort(-np.abs(net.coef_[net.selected_features_]))]:
        print(f"    {names[j]:28s} beta = {net.coef_[j]:+.3f}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(8, 4))
    net.plot_weights(ax=ax, feature_names=names)
    fig.savefig(out / "weights.png", dpi=120, bbox_inches="tight")
    print(f"  weight plot: {out / 'weights.png'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="glassnet", description="Model-based, white-box neural networks.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list registered experiments and models").set_defaults(func=_cmd_list)
    r = sub.add_parser("reproduce", help="run a paper reproduction; writes results.csv, figures, report.md")
    r.add_argument("name")
    r.add_argument("--quick", action="store_true", help="small, honest version of the same code path")
    r.add_argument("--out", default=None, help="output folder (default results/NAME)")
    r.add_argument("--n-jobs", type=int, default=1, help="parallel independent fits (joblib)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--threads", type=int, default=1, help="torch intra-op threads per process")
    r.add_argument("--data-dir", default=None, help="data folder (default $GLASSNET_DATA)")
    r.set_defaults(func=_cmd_reproduce)
    d = sub.add_parser("demo", help="IRLS-ADMM net on scikit-learn's breast cancer data")
    d.add_argument("--out", default="demo-output")
    d.add_argument("--seed", type=int, default=0)
    d.set_defaults(func=_cmd_demo)
    from glassnet.train_cli import add_parser as _add_train

    _add_train(sub)  # `glassnet train MODEL --dataset cifar10|cifar100 ...`
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
