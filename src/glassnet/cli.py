"""The ``glassnet`` command: ``list``, ``reproduce NAME``, ``demo``, ``train MODEL``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _cmd_list(args) -> int:
    # names and descriptions only: no experiment module, torch or matplotlib is imported
    from glassnet.registry import experiments, model_descriptions

    print("experiments (glassnet reproduce NAME [--quick]):")
    for name, exp in experiments().items():
        data = f"  [data: {', '.join(exp.needs_data)}]" if exp.needs_data else ""
        print(f"  {name:28s} {exp.description}{data}")
    print("models (glassnet.create_model(NAME, ...)):")
    for name, desc in model_descriptions().items():
        print(f"  {name:28s} {desc}")
    return 0


def _check_out(out: Path) -> str | None:
    """Why ``out`` cannot be written (checked before hours of work), or None: a real write
    in the nearest existing folder (:func:`glassnet.cli_checks.check_out`)."""
    from glassnet.cli_checks import check_out

    return check_out(out)


def _default_out(name: str, quick: bool) -> Path:
    return Path(f"results/{name}{'-quick' if quick else ''}")


def _check_seed_and_out(args, parser, default: Path, max_seed: int | None = None) -> Path:
    """``--seed`` in range and ``--out`` writable (else the parser's usage error, before any
    work); returns the output folder."""
    from glassnet.cli_checks import MAX_SEED

    max_seed = MAX_SEED if max_seed is None else max_seed
    if not 0 <= args.seed <= max_seed:
        parser.error(f"--seed must be in [0, {max_seed}], got {args.seed}")
    if args.out is not None and not args.out.strip():
        parser.error(f"argument --out: must name a folder, got {args.out!r}")
    out = Path(args.out) if args.out is not None else default
    problem = _check_out(out)
    if problem:
        parser.error(problem)
    return out


def _cmd_reproduce(args, parser) -> int:
    import matplotlib

    matplotlib.use("Agg")  # the command writes PNG files; the experiments draw on Figure objects
    from glassnet.experiments import Config, write_result
    from glassnet.progress import log
    from glassnet.registry import experiments
    from glassnet.utils import threads

    exps = experiments()
    if args.name not in exps:
        parser.error(f"unknown experiment {args.name!r}; choose from: {', '.join(exps)}")
    if args.n_jobs == 0 or args.n_jobs < -1:
        parser.error(f"--n-jobs must be a positive number of processes or -1 (all cores), got {args.n_jobs}")
    if args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    from glassnet.cli_checks import MAX_REPRODUCE_SEED

    out = _check_seed_and_out(args, parser, _default_out(args.name, args.quick), MAX_REPRODUCE_SEED)
    if args.data_dir is not None and not Path(args.data_dir).is_dir():
        parser.error(f"--data-dir {args.data_dir} is not a folder")
    exp = exps[args.name]
    cfg = Config(quick=args.quick, seed=args.seed, n_jobs=args.n_jobs, data_dir=args.data_dir)
    log(f"glassnet reproduce {args.name}{' --quick' if args.quick else ''}: {exp.description} "
        f"(output: {out})")
    t0 = time.perf_counter()
    try:
        with threads(args.threads):
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


def _cmd_demo(args, parser) -> int:
    out = _check_seed_and_out(args, parser, Path("demo-output"))
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
    print(f"  selected {net.selected_features_.size} of {names.size} features (near-duplicate groups of the "
          "nets' consensus ranking, their number by the one-standard-error rule on 5-fold CV):")
    print("    coef = the classifier coef_ (plotted; ranks the features), beta = the net's output beta_")
    for j in net.ranking_[: net.selected_features_.size]:  # by |coef_| (issue 24)
        print(f"    {names[j]:28s} coef = {net.coef_[0, j]:+.3f}   beta = {net.beta_[j]:+.3f}")
    S = net.selected_features_
    r = np.corrcoef(X_tr[:, S].T)
    flips = [(a, b) for a in range(S.size) for b in range(a + 1, S.size)
             if r[a, b] >= 0.9 and net.coef_[0, S[a]] * net.coef_[0, S[b]] < 0]
    if flips:  # collinear twins share one effect: their signs are not separately meaningful
        a, b = flips[0]
        print(f"  note: {len(flips)} pair(s) of selected features correlate at r >= 0.9 with coefficients of "
              f"opposite sign (e.g. {names[S[a]]} / {names[S[b]]}, r = {r[a, b]:.2f}): near-duplicates share one "
              "effect, so read such a group's coefficients together, not one by one")
    out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(8, 4))
    net.plot_weights(ax=ax, feature_names=names)  # coef_, the classifier
    ax.set_title("IRLS-ADMM net coef_ on breast cancer (selected features in blue)")
    fig.savefig(out / "weights.png", dpi=120, bbox_inches="tight")
    print(f"  weight plot: {out / 'weights.png'}")
    return 0


def _experiment_names() -> list[str]:
    from glassnet.registry import EXPERIMENT_INDEX  # names only: nothing heavy is imported

    return sorted(EXPERIMENT_INDEX)


def build_parser() -> argparse.ArgumentParser:
    from glassnet import __version__

    p = argparse.ArgumentParser(prog="glassnet", description="Model-based, white-box neural networks.")
    p.add_argument("--version", action="version", version=f"glassnet {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list registered experiments and models").set_defaults(func=_cmd_list)
    names = _experiment_names()
    r = sub.add_parser(
        "reproduce", help="run a paper reproduction; writes results.csv, figures, report.md",
        description="Run a paper reproduction. Experiments: " + ", ".join(names),
    )
    r.add_argument("name", metavar="NAME", help="experiment to run, one of: " + ", ".join(names))
    r.add_argument("--quick", action="store_true", help="small, honest version of the same code path")
    r.add_argument("--out", default=None,
                   help="output folder (default results/NAME, or results/NAME-quick with --quick)")
    r.add_argument("--n-jobs", type=int, default=1,
                   help="parallel independent fits through joblib: a positive count or -1 for all cores")
    r.add_argument("--seed", type=int, default=0,
                   help="seed of the data draws and model initialisations (default 0, at most 100000)")
    r.add_argument("--threads", type=int, default=1,
                   help="torch intra-op threads per process (default 1: small models run fastest so)")
    r.add_argument("--data-dir", default=None,
                   help="data folder (default $GLASSNET_DATA, else ../shared/data beside the checkout)")
    r.set_defaults(func=_cmd_reproduce)
    d = sub.add_parser("demo", help="IRLS-ADMM net on scikit-learn's breast cancer data")
    d.add_argument("--out", default="demo-output")
    d.add_argument("--seed", type=int, default=0)
    d.set_defaults(func=_cmd_demo)
    from glassnet.train_cli import add_parser as _add_train

    _add_train(sub)  # `glassnet train MODEL --dataset cifar10|cifar100 ...`
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.func in (_cmd_reproduce, _cmd_demo):
        return args.func(args, parser)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
