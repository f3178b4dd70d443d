"""Fit time of DSRLClustering from views, late fusion "auto" (the default since round 19), equal
(``True``) and off, against scikit-learn's SpectralClustering on the precomputed averaged graph
(issue 26's fit-time target, round 10).

``bench_dsrl.py`` times one precomputed graph, where the view gate and late fusion do not run;
this times the whole fit from the views: a 3-view mixture (``make_multiview_mixture(n, 5, 3,
20, 3.0)``), one process, one thread, alternating, ``--repeats`` seeds, medians. Rows:
``dsrl_late_timing.csv``.

    PYTHONPATH=src python benchmarks/dsrl_late_timing.py [--n 2000] [--repeats 3]
"""

import argparse
import os
import time
from pathlib import Path

import pandas as pd
import torch
from sklearn.cluster import SpectralClustering
from threadpoolctl import threadpool_limits

from glassnet.datasets.multiview import make_multiview_mixture
from glassnet.estimators.dsrl import DSRLClustering
from glassnet.metrics import clustering_scores
from glassnet.nn.dsrl import multiview_graph


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    d = make_multiview_mixture(args.n, 5, 3, 20, 3.0, random_state=0)
    load = os.getloadavg()[0]
    rows = []
    with threadpool_limits(limits=1):
        for r in range(args.repeats):
            for late in ("auto", True, False):
                t = time.perf_counter()
                m = DSRLClustering(5, random_state=r, late_fusion=late).fit(d.views)
                rows.append({"method": f"DSRL late_fusion={late}", "seed": r,
                             "fit_s": time.perf_counter() - t, "source": m.graph_source_,
                             "acc": clustering_scores(d.y, m.labels_)["acc"]})
            W = multiview_graph(d.views)
            t = time.perf_counter()
            lab = SpectralClustering(5, affinity="precomputed", random_state=r).fit(W).labels_
            rows.append({"method": "SpectralClustering (averaged graph given)", "seed": r,
                         "fit_s": time.perf_counter() - t, "acc": clustering_scores(d.y, lab)["acc"]})
    df = pd.DataFrame(rows).assign(n=args.n, load=load)
    df.to_csv(Path(__file__).with_name("dsrl_late_timing.csv"), index=False)
    med = df.groupby("method", sort=False)[["fit_s", "acc"]].median()
    med["vs_sklearn"] = med.fit_s / med.fit_s.iloc[-1]
    print(med.round(3).to_string())


if __name__ == "__main__":
    main()
