"""DSRL clustering with default arguments on multi-view splits of scikit-learn's bundled data
(a public check of the defaults, nothing chosen on it): late fusion "auto" (the default since
round 19), equal (``True``, round 10's) and off (round 9), and spectral clustering on the
averaged graph; seed 0. Rows:
``dsrl_public_multiview.csv``.

    PYTHONPATH=src python benchmarks/dsrl_public_multiview.py
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from threadpoolctl import threadpool_limits

from glassnet.estimators.dsrl import DSRLClustering
from glassnet.metrics import clustering_scores
from glassnet.nn.dsrl import knn_heat_graph, spectral_labels


def public_sets():
    X, y = load_breast_cancer(return_X_y=True)
    yield "breast cancer (mean / se / worst)", [X[:, :10], X[:, 10:20], X[:, 20:]], y
    X, y = load_wine(return_X_y=True)
    yield "wine (two halves)", [X[:, :7], X[:, 7:]], y
    X, y = load_iris(return_X_y=True)
    yield "iris (sepal / petal)", [X[:, :2], X[:, 2:]], y
    X, y = load_digits(return_X_y=True)
    img = X.reshape(-1, 8, 8)
    n = len(y)
    yield ("digits (pixels / profiles / pooled / Fourier)",
           [X, np.hstack([img.sum(1), img.sum(2)]),
            img.reshape(-1, 4, 2, 4, 2).mean((2, 4)).reshape(n, -1),
            np.abs(np.fft.fft2(img))[:, :5, :5].reshape(n, -1)], y)
    yield "digits (left / right half)", [img[:, :, :4].reshape(n, -1), img[:, :, 4:].reshape(n, -1)], y


def main(argv=None):
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    with threadpool_limits(limits=1):
        for name, views, y in public_sets():
            k = len(np.unique(y))
            for lf in ("auto", True, False):
                m = DSRLClustering(k, random_state=0, late_fusion=lf).fit(views)
                rows.append({"data": name, "method": f"DSRL late_fusion={lf}",
                             "source": m.graph_source_, **clustering_scores(y, m.labels_)})
            G = [knn_heat_graph(v) for v in views]
            lab = spectral_labels(sum(G) / len(G), k, 10, 0)
            rows.append({"data": name, "method": "SC averaged", **clustering_scores(y, lab)})
            print(pd.DataFrame(rows[-4:])[["data", "method", "acc", "nmi"]], flush=True)
    pd.DataFrame(rows).to_csv(Path(__file__).with_name("dsrl_public_multiview.csv"), index=False)


if __name__ == "__main__":
    main()
