"""How the clustering defaults of DSRL's learned objective were chosen in round 3 (issue 26):
view weighting x Theta initialisation x epochs, on the tuning sets only (MSRC-v1, 3Sources,
tuning seeds 100-102). Nothing here touches a report set.

Grid: the cluster-agreement weights (``nn.dsrl.cluster_agreement_weights``) with power
0 (the average of the kept views), 1 or 2 (graded by mean AMI); ``init_quantile`` 1e-6 (Theta
starts at almost the identity: the learned graph starts as the weighted graph) or 0.1;
``max_epochs`` 1, 10 or 30 (lr 0.02, weight decay 0). DSRL is fitted on the weighted graph
(``affinity="precomputed"``), which is what ``DSRLClustering(view_weights="clusters")`` does
with the weights fixed. Also: spectral clustering on the averaged and on the weighted graph, and
the weights with one pure-noise view (30 N(0, 1) columns) appended.

    PYTHONPATH=src python benchmarks/dsrl_tuning/dsrl_tune_weights.py [--out benchmarks/dsrl_tuning/dsrl_tune_weights.csv]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd

from glassnet.experiments.dsrl_tables import TUNING_SEEDS, TUNING_SETS

SETS, SEEDS = TUNING_SETS, TUNING_SEEDS  # the tuning data the DSRL report counts leave out


def main(argv=None):
    from glassnet.datasets.multiview import load_multiview
    from glassnet.estimators.dsrl import DSRLClustering
    from glassnet.metrics import clustering_scores
    from glassnet.nn.dsrl import cluster_agreement_weights, knn_heat_graph, spectral_labels

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="benchmarks/dsrl_tuning/dsrl_tune_weights.csv")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    rows = []

    def score(d, labels):
        r = clustering_scores(d.y, labels)
        return r["acc"], r["nmi"]

    for name in SETS:
        d = load_multiview(name, args.data_dir)
        graphs = [knn_heat_graph(V) for V in d.views]
        noise = knn_heat_graph(np.random.default_rng(0).normal(size=(d.n_samples, 30)))
        avg = (sum(graphs[1:], graphs[0]) / len(graphs)).tocsr()
        sc = np.mean([score(d, spectral_labels(avg, d.n_classes, 10, s)) for s in SEEDS], 0)
        rows.append({"data": name, "method": "SC averaged graph", "acc": sc[0], "nmi": sc[1]})
        for p in (0, 1, 2):
            a = cluster_agreement_weights(graphs, d.n_classes, power=p, random_state=SEEDS[0])
            an = cluster_agreement_weights([*graphs, noise], d.n_classes, power=p,
                                           random_state=SEEDS[0])
            G = sum(w * g for w, g in zip(a, graphs) if w > 0).tocsr()
            base = {"data": name, "power": p, "weights": np.round(a, 3).tolist(),
                    "noise_weight": float(an[-1])}
            sc = np.mean([score(d, spectral_labels(G, d.n_classes, 10, s)) for s in SEEDS], 0)
            rows.append({**base, "method": "SC weighted graph", "acc": sc[0], "nmi": sc[1]})
            for q in (1e-6, 0.1):
                for e in (1, 10, 30):
                    r = np.mean([score(d, DSRLClustering(
                        d.n_classes, affinity="precomputed", init_quantile=q, max_epochs=e,
                        random_state=s).fit(G).labels_) for s in SEEDS], 0)
                    rows.append({**base, "method": "DSRL learned", "init_quantile": q,
                                 "max_epochs": e, "acc": r[0], "nmi": r[1]})
                    print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    df["mean_acc_nmi"] = (df.acc + df.nmi) / 2
    df.round(4).to_csv(args.out, index=False)
    g = df[df.method == "DSRL learned"].groupby(["power", "init_quantile", "max_epochs"])
    print(g.mean_acc_nmi.mean().sort_values(ascending=False).round(4).to_string())


if __name__ == "__main__":
    main()
