"""Selection suite of issue 8: SPINN (defaults) vs LassoNet CV, L1 CV, random forest +
permutation importances and an oracle MLP, on problems whose inputs act linearly, evenly
(x^2, |x|, cos x) or only through interactions (glassnet.experiments.spinn.SELECTION_PROBLEMS).

Every row is written to ``runs.csv`` as soon as it is measured, so a run cut short keeps what it
measured; ``summary.md`` has mean/std over seeds and the targets table.

    PYTHONPATH=src python benchmarks/selection_suite.py [--problems a,b] [--ns 300,1000]
        [--seeds 100,101,102,103,104] [--methods ...] [--spinn-kw JSON] [--out DIR]

Seeds 0-4 are the tuning seeds (SPINN's defaults were chosen on them); 100-104 the report seeds.
Timings: one torch thread; on a shared machine state the load beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

from glassnet.experiments.spinn import (
    REPORT_SEEDS,
    SELECTION_PROBLEMS,
    SUITE_METHODS,
    run_suite,
    suite_targets,
    summarise_suite,
)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", default=",".join(SELECTION_PROBLEMS))
    ap.add_argument("--ns", default="300,1000")
    ap.add_argument("--seeds", default=",".join(str(s) for s in REPORT_SEEDS))
    ap.add_argument("--methods", default=",".join(SUITE_METHODS), help="comma-separated method names")
    ap.add_argument("--spinn-kw", default="{}",
                    help='JSON keyword arguments for SPINN (e.g. \'{"loss": "squared_error"}\'; '
                         'default {}: the defaults)')
    ap.add_argument("--out", default="results/selection_suite")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # a benchmark script, not library code: one thread for every method
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    problems = args.problems.split(",")
    ns = [int(n) for n in args.ns.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    t0 = time.time()

    def save(df):
        df.to_csv(out / "runs.csv", index=False)
        summary = summarise_suite(df)
        targets = suite_targets(summary)
        load = os.getloadavg()
        md = ["# SPINN selection suite", "",
              (f"problems {problems}, n {ns}, seeds {seeds}, SPINN keywords {spinn_kw}; "
               f"{time.time() - t0:.0f} s so far; "
               f"load average {load[0]:.1f} on {os.cpu_count()} cores (shared machine)."), "",
              summary.to_markdown(index=False, floatfmt=".3g"), "", "## targets", "",
              targets.to_markdown(index=False, floatfmt=".3g"), ""]
        (out / "summary.md").write_text("\n".join(md))

    spinn_kw = json.loads(args.spinn_kw)
    df = run_suite(problems, ns, seeds, args.methods.split(","), spinn_kw=spinn_kw, on_row=save)
    save(df)
    print((out / "summary.md").read_text())


if __name__ == "__main__":
    main()
