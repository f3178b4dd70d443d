"""DSRL's estimators with default arguments on scikit-learn's bundled and generated single-view
data (a public check of the defaults: nothing is chosen on it): ``DSRLClassifier`` at 10% labels
against ``LabelSpreading`` (rows: ``dsrl_single_view_classifier.csv``) and ``DSRLClustering``
against ``SpectralClustering`` (``dsrl_single_view_clustering.csv``).

The generated sets are drawn once (``random_state=7``). Classifier: per set and seed (7, 8, 9:
the draws the public checks report), 10% of the rows keep their labels (at least one per class:
``glassnet.experiments.dsrl.label_split``, the semi-supervised report's split); accuracy on the unlabelled rows. Methods: ``DSRLClassifier()`` (its
views z-scored, ``metric="auto"``), ``DSRLClassifier(metric="unscaled")`` (the features as
given), and scikit-learn's ``LabelSpreading`` with ``kernel="knn"`` on z-scored and on raw
features and with its default RBF kernel on z-scored features. Clustering: per set and seed,
``DSRLClustering(k)`` and ``DSRLClustering(k, metric="unscaled")`` against
``SpectralClustering(k, affinity="nearest_neighbors")`` on z-scored and raw features (k the
number of classes; ACC and NMI). The digits were one of DSRL's
clustering tuning stand-ins (docs/history/dsrl.md); the other sets were never used for a choice.

    PYTHONPATH=src python benchmarks/dsrl_single_view_public.py [--part classifier|clustering]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd


def public_sets():
    from sklearn import datasets as ds

    yield "iris", *ds.load_iris(return_X_y=True)
    yield "wine", *ds.load_wine(return_X_y=True)
    yield "breast cancer", *ds.load_breast_cancer(return_X_y=True)
    yield "digits", *ds.load_digits(return_X_y=True)
    yield "moons(600, noise 0.15)", *ds.make_moons(600, noise=0.15, random_state=7)
    yield "circles(600, noise 0.08)", *ds.make_circles(600, noise=0.08, factor=0.5, random_state=7)
    yield "blobs(600, 10, 4 centres)", *ds.make_blobs(600, 10, centers=4, cluster_std=3.0,
                                                      random_state=7)
    yield "classification(600, 20, 5 informative)", *ds.make_classification(
        600, 20, n_informative=5, random_state=7)


def classifier_rows(seeds):
    from sklearn.semi_supervised import LabelSpreading

    from glassnet import DSRLClassifier
    from glassnet.experiments.dsrl import label_split

    for name, X, y, Z in _sets():
        for seed in seeds:
            kept = np.zeros(y.size, bool)
            kept[label_split(y, 0.1, seed)] = True  # the semi-supervised report's split
            ys = np.where(kept, y, -1)
            for method, model, data in (
                    ("DSRLClassifier()", DSRLClassifier(random_state=seed), X),
                    ("DSRLClassifier(metric='unscaled')",
                     DSRLClassifier(metric="unscaled", random_state=seed), X),
                    ("LabelSpreading(knn), z-scored", LabelSpreading(kernel="knn"), Z),
                    ("LabelSpreading(knn), raw", LabelSpreading(kernel="knn"), X),
                    ("LabelSpreading(rbf), z-scored", LabelSpreading(), Z)):
                t0 = time.perf_counter()
                pred = model.fit(data, ys).transduction_
                yield {"data": name, "seed": seed, "method": method,
                       "accuracy": float(np.mean(pred[~kept] == y[~kept])),
                       "fit_s": time.perf_counter() - t0}


def clustering_rows(seeds):
    from sklearn.cluster import SpectralClustering

    from glassnet import DSRLClustering
    from glassnet.metrics import clustering_scores

    for name, X, y, Z in _sets():
        k = np.unique(y).size
        for seed in seeds:
            for method, model, data in (
                    ("DSRLClustering(k)", DSRLClustering(k, random_state=seed), X),
                    ("DSRLClustering(k, metric='unscaled')",
                     DSRLClustering(k, metric="unscaled", random_state=seed), X),
                    ("SpectralClustering(knn), z-scored", SpectralClustering(
                        k, affinity="nearest_neighbors", random_state=seed), Z),
                    ("SpectralClustering(knn), raw", SpectralClustering(
                        k, affinity="nearest_neighbors", random_state=seed), X)):
                t0 = time.perf_counter()
                s = clustering_scores(y, model.fit_predict(data))
                yield {"data": name, "seed": seed, "method": method, "acc": s["acc"],
                       "nmi": s["nmi"], "fit_s": time.perf_counter() - t0}


def _sets():
    from sklearn.preprocessing import StandardScaler

    for name, X, y in public_sets():
        yield name, X, y, StandardScaler().fit_transform(X)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=["classifier", "clustering"], nargs="+",
                   default=["classifier", "clustering"])
    p.add_argument("--seeds", nargs="+", type=int, default=[7, 8, 9])
    a = p.parse_args(argv)
    warnings.simplefilter("ignore")
    for part in a.part:
        rows = []
        for r in (classifier_rows if part == "classifier" else clustering_rows)(a.seeds):
            rows.append(r)
            print(part, r["data"], r["seed"], r["method"], round(r.get("accuracy", r.get("acc")), 3),
                  flush=True)
        df = pd.DataFrame(rows)
        df.to_csv(f"benchmarks/dsrl_single_view_{part}.csv", index=False)
        scores = ["accuracy"] if part == "classifier" else ["acc", "nmi"]
        print(df.pivot_table(index="data", columns="method", values=scores).round(3).to_string())


if __name__ == "__main__":
    main()
