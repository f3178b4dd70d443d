"""Round 16 of DSRL (issue 26): spectrum-weighted late fusion, tuning data only.

Late fusion (``nn.dsrl_select.late_fusion``) runs k-means on the kept views' row-normalised
spectral embeddings side by side (and the clustered graph's), every block with the same weight,
so on ORL three weak views outvote the strong one. Rounds 11b and 13 weighted whole blocks by
eigengap or agreement and lost. This probe weights each *column* by its graph's own spectrum, as
diffusion maps do: column i of a block is multiplied by ``mu_i^t``, ``mu_i`` the i-th leading
eigenvalue of the graph's normalised adjacency (clipped at 0). A view with k clean clusters keeps
``mu ~ 1`` on its k columns; a weak view's later columns shrink. Variants ``eig-1``, ``eig-4``,
``eig-16`` against ``equal`` (today); the rule was written before the first fit
(``docs/history/dsrl.md``, round 16).

Data: round 12c's 12 image tuning sets and their one-dominant-view copies, round 13's three
``orl_shaped`` draws and round 14's six crop sets; ``DSRLClustering()`` defaults, seeds 100-102,
with and without the noise view; only the last step is rerun (inputs captured from one fit).
Rows ``dsrl_tune_round16.csv``.

Round 17 (``--fresh``): one weight per block instead, so each embedding keeps its shape:
``blk-t`` multiplies block v by ``sqrt(mean(mu_v)^t)`` (t = 4, 16), on sets no round had
fitted (:func:`fresh_sets`); rows ``dsrl_tune_round17.csv``. ``blk-4`` is what
``DSRLClustering(late_fusion="spectral")`` does (an option since round 17, not the default).

    PYTHONPATH=src python benchmarks/dsrl_tune_round16.py [--fresh] [--summary]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dsrl_tune_round10 import cases
from dsrl_tune_round12 import dominant
from dsrl_tune_round13 import _view_graphs, capture, image_sets, orl_shaped
from dsrl_tune_round14 import crop_sets, probe_main

HERE = Path(__file__).resolve().parent
OUT, OUT_17 = HERE / "dsrl_tune_round16.csv", HERE / "dsrl_tune_round17.csv"
POWERS = {"equal": 0, "eig-1": 1, "eig-4": 4, "eig-16": 16}
BLOCK = {"blk-4": 4, "blk-16": 16}  # round 17: one weight per block, (mean mu)^t


def fused(args, G, block=False):
    """{variant: labels} of the spectrum-weighted late fusions on one fit's captured inputs
    (with ``block``, round 17's block weights too)."""
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    from glassnet.nn.dsrl import spectral_embedding

    views, k, n_init, seed = args[3], args[5], args[6], args[7]
    with threadpool_limits(limits=1):
        blocks = [(E, np.clip(mu, 0.0, None)) for E, mu in
                  (spectral_embedding(g, k, seed, eigenvalues=True) for g in [*views, G])]

        def km(blocks_):
            return KMeans(k, n_init=n_init, random_state=seed).fit_predict(np.hstack(blocks_))

        out = {name: km([E * mu**t for E, mu in blocks]) for name, t in POWERS.items()}
        if block:
            out.update({name: km([E * np.sqrt(mu.mean() ** t) for E, mu in blocks])
                        for name, t in BLOCK.items()})
        return out


def fresh_sets(data_dir=None):
    """Round 17's sets, none fitted before: small-class draws 3-5 and their dominant copies,
    ``orl_shaped`` draws 3-8, ``skpatch-c40`` draws 9-11 and ``sktexture-c10`` draws 25-27."""
    from dsrl_tune_round12 import small_class_sets

    for d in small_class_sets(data_dir, draws=(3, 4, 5)):
        yield "regular", d
        yield "dominant", dominant(d)[0]
    for draw in range(3, 9):
        yield "orl-shaped", orl_shaped(draw)
    yield from crop_sets("crops", range(9, 12), range(25, 28))


def all_sets(data_dir=None):
    for d in image_sets(data_dir):
        yield "regular", d
        yield "dominant", dominant(d)[0]
    for draw in range(3):
        yield "orl-shaped", orl_shaped(draw)
    yield from crop_sets("crops", range(3), range(3))


def rows_for(kind, d, block=False):
    from glassnet.metrics import clustering_scores
    from glassnet.nn.dsrl import spectral_labels

    k = d.n_classes
    graphs = _view_graphs(d.views, k)
    refs = {"sc_avg": sum(graphs) / len(graphs), **{f"view {i}": g for i, g in enumerate(graphs)}}
    rows = []
    for seed, noisy, views in cases(d):
        m, args, fit_s = capture(views, k, seed)
        base = {"kind": kind, "data": d.name, "seed": seed, "noise_view": noisy,
                "source": m.graph_source_, "fit_s": fit_s}
        if m.graph_source_ == "late":
            labs = fused(args, m.graph_, block)
            assert np.array_equal(labs["equal"], m.labels_), "equal != the fit's late fusion"
        else:
            labs = {v: m.labels_ for v in [*POWERS, *(BLOCK if block else ())]}
        rows += [{**base, "variant": v, **clustering_scores(d.y, lab)} for v, lab in labs.items()]
        if not noisy:
            rows += [{"kind": kind, "data": d.name, "seed": seed, "noise_view": False,
                      "variant": r, "source": "sc",
                      **clustering_scores(d.y, spectral_labels(g, k, 10, seed))}
                     for r, g in refs.items()]
    return rows


def summary(path=OUT):
    variants = list(POWERS) + [v for v in BLOCK if v in set(pd.read_csv(path).variant)]
    df = pd.read_csv(path)
    clean = df[~df.noise_view.astype(bool)]
    per = clean.groupby(["kind", "data", "variant"])[["acc", "nmi"]].mean()
    sets = clean[["kind", "data"]].drop_duplicates().itertuples(index=False)
    sets = [tuple(s) for s in sets]

    def best_view(s):
        p = per.loc[s]
        return p.loc[[v for v in p.index if v.startswith("view")]].max()

    out = []
    for var in variants:
        def ge(s, ref, var=var):
            return bool((per.loc[(*s, var)] >= ref - 1e-12).all())

        sub = [s for s in sets if s[0] in ("regular", "crops")]
        dn = df[df.variant == var].groupby(["data", "noise_view"]).nmi.mean().unstack()
        out.append({"variant": var,
                    f"acc ({len(sets)})": np.mean([per.loc[(*s, var)].acc for s in sets]),
                    f"nmi ({len(sets)})": np.mean([per.loc[(*s, var)].nmi for s in sets]),
                    f">= best view ({len(sets)})": sum(ge(s, best_view(s)) for s in sets),
                    f"acc ({len(sub)})": np.mean([per.loc[(*s, var)].acc for s in sub]),
                    f">= sc_avg ({len(sub)})": sum(ge(s, per.loc[(*s, "sc_avg")]) for s in sub),
                    "noise max dNMI": (dn[True] - dn[False]).abs().max()})
    print(pd.DataFrame(out).round(3).to_string(index=False))
    t = per.acc.unstack("variant")[variants]
    print(t.groupby("kind").mean().round(3).to_string())


def main(argv=None):
    probe_main(argv, __doc__, "fresh", (OUT, OUT_17), lambda alt, dd: (fresh_sets if alt else all_sets)(dd),
               lambda kind, d, alt: rows_for(kind, d, block=alt), summary)


if __name__ == "__main__":
    main()
