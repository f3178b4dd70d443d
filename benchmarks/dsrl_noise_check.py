"""The report's noise-view check alone (issue 26, round 5), run once with the final code.

For each report set fitted on its views: DSRL (learned, defaults) on the views and on the views
plus one pure-noise view (``experiments.dsrl.noise_rows``: 30 N(0, 1) columns drawn with seed 0),
seeds 0-9, exactly as ``benchmarks/bench_dsrl.py --report clustering`` fits them; the NMI change
is the difference of the seed means (as in the report's ``noise.csv``). Rows per set are saved
as they finish (a rerun skips finished sets); the summary goes to ``summary.csv``.

    PYTHONPATH=src python benchmarks/dsrl_noise_check.py [--out docs/dsrl_results/noise_check_round5]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

SETS = "ORL,ALOI,BBCSport,20NewsGroups,Reuters-1200,Handwritten,MNIST"


def main(argv=None):
    import torch
    from threadpoolctl import threadpool_limits

    from glassnet.estimators.dsrl import DSRLClustering
    from glassnet.experiments import dsrl as X
    from glassnet.metrics import clustering_scores

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/dsrl_results/noise_check_round5")
    ap.add_argument("--sets", default=SETS)
    ap.add_argument("--seeds", default="0,1,2,3,4,5,6,7,8,9")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    for name in args.sets.split(","):
        f = out / f"{name}.csv"
        if f.exists():
            continue
        t0 = time.perf_counter()
        with threadpool_limits(limits=1):
            d, _, _ = X.load_set(name, args.data_dir)
            rows = []
            for s in seeds:
                m = DSRLClustering(d.n_classes, random_state=s).fit(d.views)
                rows.append({"data": name, "method": X.LEARNED, "seed": s, "noise_weight": None,
                             "weights": list(map(float, m.view_weights_)),
                             **clustering_scores(d.y, m.labels_)})
            rows += X.noise_rows(name, d, seeds)
        pd.DataFrame(rows).to_csv(f, index=False)
        print(f"{name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    long = pd.concat([pd.read_csv(f) for f in sorted(out.glob("*.csv"))
                      if f.name != "summary.csv"], ignore_index=True)
    summ = []
    for data, g in long.groupby("data"):
        clean = g[g.method == X.LEARNED]
        noisy = g[g.method == X.LEARNED + " + noise view"]
        per_seed = (noisy.set_index("seed").nmi - clean.set_index("seed").nmi).abs()
        summ.append({"data": data, "nmi_clean": clean.nmi.mean(),
                     "nmi_with_noise": noisy.nmi.mean(),
                     "abs_delta_nmi": abs(noisy.nmi.mean() - clean.nmi.mean()),
                     "max_seed_abs_delta_nmi": per_seed.max(),
                     "noise_weight": noisy.noise_weight.mean(),
                     "seeds_noise_weight_0": int((noisy.noise_weight == 0).sum()),
                     "acc_clean": clean.acc.mean(), "acc_with_noise": noisy.acc.mean()})
    summ = pd.DataFrame(summ)
    summ.to_csv(out / "summary.csv", index=False)
    print(summ.round(3).to_string(index=False))


if __name__ == "__main__":
    main()
