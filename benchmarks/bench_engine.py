"""The selection engine against the code before it, side by side in one run (issue 23).

Runs ``SPINNRegressorCV()`` on ``make_friedman1(500, 50, noise=1)`` and ``SPINNClassifierCV()``
on standardised breast cancer, with defaults, once with this checkout and once with the commit
before the engine (a ``git worktree`` of ``--old``, imported from its ``src`` in a subprocess),
alternating old and new so that machine load hits both alike. Each problem is split 75/25
(seeds below); the fit is timed on the training part and scored on the held-out part. Writes
``benchmarks/engine.csv`` and prints the ratios.

    python benchmarks/bench_engine.py [--old c526167] [--seeds 0 1 2] [--problems friedman1 breast_cancer]

``--variant JSON`` adds rows ``variant``: this checkout with those constructor arguments (e.g.
``'{"hidden": [50], "activation": "relu"}'``), to price a different default; ``--no-old``
skips the old commit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time, warnings
import numpy as np
from sklearn.datasets import load_breast_cancer, make_friedman1
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from glassnet import SPINNClassifierCV, SPINNRegressorCV
problem, seed = sys.argv[1], int(sys.argv[2])
kw = {k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(sys.argv[3]).items()}
if problem == "friedman1":
    X, y = make_friedman1(500, 50, noise=1.0, random_state=seed)
    est, strat = SPINNRegressorCV(random_state=seed, **kw), None
else:
    X, y = load_breast_cancer(return_X_y=True)
    est, strat = SPINNClassifierCV(random_state=seed, **kw), y
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=seed, stratify=strat)
sc = StandardScaler().fit(Xtr)
Xtr, Xte = sc.transform(Xtr), sc.transform(Xte)
# warm the imports (torch's optimisers import lazily) so that neither side pays them in the fit
type(est)(random_state=0, n_lambdas=3, cv=2, max_epochs=3).fit(Xtr[:60], ytr[:60])
t, c = time.perf_counter(), time.process_time()
est.fit(Xtr, ytr)
fit_s, cpu_s = time.perf_counter() - t, time.process_time() - c
print(json.dumps({"fit_s": fit_s, "cpu_s": cpu_s, "score": float(est.score(Xte, yte)),
                  "support": [int(j) for j in est.selected_features_]}))
"""


def run(src: Path, problem: str, seed: int, kw: str = "{}") -> dict:
    env = dict(os.environ, PYTHONPATH=str(src))
    out = subprocess.run([sys.executable, "-c", CHILD, problem, str(seed), kw], env=env, check=True,
                         capture_output=True, text=True, cwd=tempfile.gettempdir())
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", default="c526167", help="commit before the engine")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--problems", nargs="+", default=["friedman1", "breast_cancer"],
                    choices=["friedman1", "breast_cancer"])
    ap.add_argument("--variant", default=None, help="JSON constructor arguments for 'variant' rows")
    ap.add_argument("--no-old", action="store_true", help="skip the old commit")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "engine.csv"))
    args = ap.parse_args(argv)
    sides = [("new", ROOT / "src", "{}")]
    if not args.no_old:
        old = Path(tempfile.gettempdir()) / f"glassnet-{args.old}"
        if not old.exists():
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-f", str(old), args.old],
                           check=True)
        sides.insert(0, ("old", old / "src", "{}"))
    if args.variant:
        sides.append(("variant", ROOT / "src", args.variant))
    rows = []
    for problem in args.problems:
        for seed in args.seeds:
            for code, src, kw in sides:
                r = run(src, problem, seed, kw)
                rows.append({"problem": problem, "seed": seed, "code": code, "fit_s": round(r["fit_s"], 2), "cpu_s": round(r["cpu_s"], 2),
                             "test_score": round(r["score"], 4), "n_selected": len(r["support"]),
                             "support": " ".join(map(str, r["support"]))})
                print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    df.to_csv(args.out, index=False)
    wide = df.pivot_table(index=["problem", "seed"], columns="code", values=["fit_s", "cpu_s", "test_score", "n_selected"])
    base = "old" if "old" in set(df.code) else "variant"  # the side "new" is compared with
    if base in set(df.code):
        wide[("speedup", "")] = wide[("fit_s", base)] / wide[("fit_s", "new")]
        wide[("cpu_speedup", "")] = wide[("cpu_s", base)] / wide[("cpu_s", "new")]
    print(wide.round(3).to_string())
    print(df.groupby(["problem", "code"])[["fit_s", "cpu_s", "test_score", "n_selected"]].mean().round(3).to_string())


if __name__ == "__main__":
    main()
