"""Round 10 of DSRL clustering (issue 26): late fusion of the kept views, tuning data only.

Two parts, both on MSRC-v1, 3Sources and the 23 stand-ins of rounds 8-9 (``dsrl_standins.py``:
5 image sets, 18 word-subsampled 3Sources draws), seeds 100-102; nothing here reads a report
set.

* ``--fusion``: spectral clustering (no DSRL) on ways of fusing the views' kNN heat graphs:
  ``avg`` (the uniform average, the report's "SC averaged"), ``normsum`` (average of
  ``D^-1/2 W D^-1/2``), ``snf_dense`` / ``snf_knn10`` (similarity network fusion, Wang et al.
  2014, 20 iterations, dense or cut back to 10 neighbours), ``concat`` (k-means on the
  row-normalised spectral embeddings of every view side by side) and each view alone. Rows:
  ``dsrl_tune_round10_fusion.csv``.
* default: one default ``DSRLClustering`` fit per set, seed and case (with and without a
  30-column N(0, 1) view), the last step's inputs captured and late fusion applied on top
  (variants ``late[G]_<A>``: the mean pairwise NMI of the kept views' own partitions at
  least A; ``G``: the clustered graph's embedding included). Rows: ``dsrl_tune_round10.csv``.
  ``lateG_0.2`` is the adopted default (``nn.dsrl_select.late_fusion``).

    PYTHONPATH=src python benchmarks/dsrl_tuning/dsrl_tune_round10.py [--fusion]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dsrl_standins import standins, weakened
from dsrl_tune_round8 import _capture_fit

HERE = Path(__file__).resolve().parent
SEEDS = (100, 101, 102)


def sets(data_dir=None):
    from glassnet.datasets.multiview import load_multiview
    from glassnet.experiments.dsrl_tables import TUNING_SETS

    for name in TUNING_SETS:
        yield load_multiview(name, data_dir)
    yield from standins(data_dir)
    three = load_multiview("3Sources", data_dir)
    for frac in (0.2, 0.1, 0.05):
        for draw in (3, 4, 5):
            yield weakened(three, frac, draw)


def cases(d):
    """(seed, noisy, views) of one tuning set: each seed, without and with a 30-column N(0, 1)
    view (drawn with seed 0)."""
    for seed in SEEDS:
        for noisy in (False, True):
            views = list(d.views)
            if noisy:
                views.append(np.random.default_rng(0).normal(size=(d.n_samples, 30)))
            yield seed, noisy, views


def captured_cases(d):
    """:func:`cases` with one default ``DSRLClustering`` fit each and its last step's inputs
    captured (``dsrl_tune_round8._capture_fit``): ``(seed, noisy, views, model, args, kw,
    fit seconds)``; ``last_step(*args, **kw)`` reruns the last step."""
    for seed, noisy, views in cases(d):
        yield (seed, noisy, views, *_capture_fit(views, d.n_classes, seed))


def _rownorm(M):
    M = sp.csr_matrix(M)
    d = np.asarray(M.sum(1)).ravel()
    return sp.diags(1 / np.where(d > 0, d, 1)) @ M


def _normsym(W):
    d = np.asarray(W.sum(1)).ravel()
    s = np.where(d > 0, 1 / np.sqrt(np.maximum(d, 1e-300)), 0)
    return sp.diags(s) @ W @ sp.diags(s)


def snf(graphs, T=20):
    """Similarity network fusion on kNN graphs (status matrices P_v, local kernels S_v)."""
    P = []
    for W in graphs:
        Pv = _rownorm(W).toarray() * 0.5
        np.fill_diagonal(Pv, 0.5)
        P.append(Pv)
    S = [_rownorm(W) for W in graphs]
    V = len(graphs)
    for _ in range(T):
        tot = sum(P)
        new = []
        for v in range(V):
            Q = S[v] @ (S[v] @ ((tot - P[v]) / max(V - 1, 1)).T).T
            Q = (Q + Q.T) / 2
            Q = Q / Q.sum(1, keepdims=True) * 0.5
            np.fill_diagonal(Q, 0.5)
            new.append(Q)
        P = new
    F = sum(P) / V
    F = (F + F.T) / 2
    np.fill_diagonal(F, 0)
    return F


def _knn(F, k=10):
    n = F.shape[0]
    idx = np.argpartition(-F, k, axis=1)[:, :k]
    rows = np.repeat(np.arange(n), k)
    M = sp.csr_matrix((F[rows, idx.ravel()], (rows, idx.ravel())), shape=F.shape)
    return M.maximum(M.T)


def concat_labels(graphs, k, seed, n_init=10):
    from sklearn.cluster import KMeans

    from glassnet.nn.dsrl import spectral_embedding

    E = np.hstack([spectral_embedding(W, k, seed) for W in graphs])
    return KMeans(k, n_init=n_init, random_state=seed).fit_predict(E)


def fusion_rows(d):
    from sklearn.metrics import normalized_mutual_info_score as nmi

    from glassnet.metrics import clustering_scores
    from glassnet.nn.dsrl import knn_heat_graph, spectral_labels

    k = d.n_classes
    G = [knn_heat_graph(V) for V in d.views]
    F = snf(G)
    fused = {"avg": sum(G) / len(G), "normsum": sum(_normsym(g) for g in G) / len(G),
             "snf_dense": sp.csr_matrix(F), "snf_knn10": _knn(F, 10),
             **{f"view{i}": g for i, g in enumerate(G)}}
    rows = []
    for s in SEEDS:
        labs = {m: spectral_labels(W, k, random_state=s) for m, W in fused.items()}
        labs["concat"] = concat_labels(G, k, s)
        own = [labs[f"view{i}"] for i in range(len(G))]
        pair = np.mean([nmi(a, b) for a, b in itertools.combinations(own, 2)])
        rows += [{"data": d.name, "seed": s, "method": m, "views_pair_nmi": pair,
                  **clustering_scores(d.y, lab)} for m, lab in labs.items()]
    return rows


def late_rows(d):
    from glassnet.metrics import clustering_scores
    from glassnet.nn.dsrl_select import last_step, late_fusion

    k = d.n_classes
    rows = []
    for seed, noisy, _, _, args, kw, _ in captured_cases(d):
        kept, n_init = args[3], args[6]
        kw = {**kw, "late_agreement": None}  # the round-9 last step, whatever the default
        lab, G, src, _ = last_step(*args, **kw)
        out = {"default": lab}
        # agreement 0: the fused labels whatever the views' NMI (None for one kept view)
        fused, pair, _ = late_fusion(kept, G, k, n_init, seed, 0.0)
        alone = concat_labels(kept, k, seed, n_init) if fused is not None else None
        for A in (0.0, 0.2, 0.3):
            fired = fused is not None and pair >= A
            out[f"lateG_{A}"] = fused if fired else lab
            out[f"late_{A}"] = alone if fired else lab
        rows += [{"data": d.name, "seed": seed, "noise_view": noisy, "variant": c,
                  "source": src, "pair_nmi": pair, "n_kept": len(kept),
                  **clustering_scores(d.y, lb)} for c, lb in out.items()]
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fusion", action="store_true")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    out = HERE / ("dsrl_tune_round10_fusion.csv" if args.fusion else "dsrl_tune_round10.csv")
    rows = []
    with threadpool_limits(limits=1):
        for d in sets(args.data_dir):
            t0 = time.perf_counter()
            rows += fusion_rows(d) if args.fusion else late_rows(d)
            pd.DataFrame(rows).to_csv(out, index=False)
            print(d.name, f"{time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
