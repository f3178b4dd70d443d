"""Thread settings on the README's examples (issue 11): glassnet's default vs the best fixed
thread count, and scikit-learn's peer on the same data, each in a fresh process.

    .venv/bin/python benchmarks/bench_threads.py [--repeats 3] [--out benchmarks/threads.csv]

Modes: ``default`` (what a user gets: glassnet picks one thread for small inputs and restores
the caller's setting), ``threads=1`` / ``threads=N`` (the caller fixes the count with
``glassnet.threads(n)``, which glassnet then keeps). Target: default within 2x of the best.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import pandas as pd

EXAMPLES = {
    "readme-irls-admm": """
from sklearn.datasets import load_breast_cancer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from glassnet import IRLSADMMNetClassifier
d = load_breast_cancer()
run = lambda: make_pipeline(StandardScaler(), IRLSADMMNetClassifier(random_state=0)).fit(d.data, d.target)
""",
    "matnet-digits-10-epochs": """
from sklearn.datasets import load_digits
from glassnet import MatNetClassifier
d = load_digits()
run = lambda: MatNetClassifier(max_epochs=10, random_state=0).fit(d.data.reshape(-1, 8, 8) / 16, d.target)
""",
    "spinn-regressor": """
from sklearn.datasets import make_friedman1
from sklearn.preprocessing import StandardScaler
from glassnet import SPINNRegressor
X, y = make_friedman1(n_samples=400, n_features=20, random_state=0)
X = StandardScaler().fit_transform(X)
run = lambda: SPINNRegressor(random_state=0).fit(X, y)
""",
    "demo": """
from glassnet.cli import main
import tempfile, contextlib, io
def run():
    with contextlib.redirect_stdout(io.StringIO()):
        main(["demo", "--out", tempfile.mkdtemp()])
""",
    "sklearn-l1-logistic-cv (peer)": """
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegressionCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
d = load_breast_cancer()
run = lambda: make_pipeline(StandardScaler(), LogisticRegressionCV(l1_ratios=(1.0,), solver="saga", max_iter=5000)).fit(d.data, d.target)
""",
}

TIMER = """
import json, time, warnings
warnings.simplefilter("ignore")
import glassnet, torch
{setup}
mode = {mode!r}
def timed():
    t = time.perf_counter(); run(); return time.perf_counter() - t
if mode == "default":
    seconds = timed()
else:
    with glassnet.threads(int(mode.split("=")[1])):
        seconds = timed()
print(json.dumps({{"seconds": seconds, "threads_after": torch.get_num_threads()}}))
"""


def measure(name, mode):
    code = TIMER.format(setup=EXAMPLES[name], mode=mode)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "threads.csv"))
    args = ap.parse_args(argv)
    cores = os.cpu_count() or 1
    modes = ["default", "threads=1"] + ([f"threads={cores}"] if cores > 1 else [])
    rows = []
    for name in EXAMPLES:
        for mode in modes:
            times = [measure(name, mode)["seconds"] for _ in range(args.repeats)]
            rows.append({"example": name, "mode": mode, "median_s": sorted(times)[len(times) // 2]})
            print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    best = df.groupby("example")["median_s"].transform("min")
    df["ratio_to_best"] = df["median_s"] / best
    df.to_csv(args.out, index=False)
    print(df.to_markdown(index=False, floatfmt=".3g"))
    print(f"{cores} cores, {args.repeats} repeats each (median); target: default within 2x of the best")


if __name__ == "__main__":
    main()
