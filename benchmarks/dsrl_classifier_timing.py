"""DSRLClassifier() fit time against the number of labelled samples.

The classifier's supervision links every two labelled samples of a class at weight 1 (the
released code's step). Stored as graph entries, a class of m labels adds m (m - 1) of them, so a
fully labelled fit grew quadratically (5,000 rows: some 12 million entries); since stop 49 the
links stay implicit in the propagation solve (``groups`` of ``glassnet.nn.dsrl.propagate``),
with the same results to rounding (tests/test_dsrl_learned.py).

Data: ``make_classification(n + 2000, 200, n_informative=10, shuffle=False, random_state=0)``,
rows permuted, the first 64 columns (the informative ones among them); all labels or 10% kept
(seed 0); held-out accuracy on the last 2,000 rows. scikit-learn's
``LabelSpreading(kernel="knn")`` alongside. Nothing is chosen here.

    PYTHONPATH=src python benchmarks/dsrl_classifier_timing.py [--sizes 1000 2000 5000]
        [--label new] [--out benchmarks/dsrl_classifier_timing.csv]

``--label`` names the code version in the rows (to compare two checkouts, run the script with
each one's ``src`` on ``PYTHONPATH`` into the same ``--out``).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import pandas as pd


def data(n: int):
    from sklearn.datasets import make_classification

    X, y = make_classification(n + 2000, 200, n_informative=10, shuffle=False, random_state=0)
    rows = np.random.default_rng(0).permutation(len(y))
    return X[rows][:, :64], y[rows]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="+", type=int, default=[1000, 2000, 5000])
    p.add_argument("--label", default="new")
    p.add_argument("--out", default="benchmarks/dsrl_classifier_timing.csv")
    a = p.parse_args(argv)
    from sklearn.semi_supervised import LabelSpreading

    import glassnet

    warnings.simplefilter("ignore")
    rows = pd.read_csv(a.out).to_dict("records") if os.path.exists(a.out) else []
    glassnet.DSRLClassifier(random_state=0).fit(*(v[:200] for v in data(200)))  # imports, warm-up
    for n in a.sizes:
        X, y = data(n)
        for share in (1.0, 0.1):
            ys = y[:n].copy()
            ys[np.random.default_rng(0).random(n) > share] = -1
            for name, make in (("DSRLClassifier", lambda: glassnet.DSRLClassifier(random_state=0)),
                               ("LabelSpreading(knn)", lambda: LabelSpreading(kernel="knn"))):
                t0 = time.perf_counter()
                est = make().fit(X[:n], ys)
                row = {"code": a.label if name == "DSRLClassifier" else "sklearn",
                       "estimator": name, "n": n, "labelled": int((ys >= 0).sum()),
                       "fit_s": round(time.perf_counter() - t0, 2),
                       "accuracy": round(float(est.score(X[n:], y[n:])), 4)}
                rows.append(row)
                print(row, flush=True)
                pd.DataFrame(rows).to_csv(a.out, index=False)


if __name__ == "__main__":
    main()
