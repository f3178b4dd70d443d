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

    PYTHONPATH=src python benchmarks/dsrl_tuning/dsrl_tune_round16.py [--fresh] [--summary]
    PYTHONPATH=src python -c "import dsrl_tune_round16 as m; m.ratio_screen()"  # from benchmarks/
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


def fused(args, G, block=False, gate=None, cut=None):
    """{variant: labels} of the spectrum-weighted late fusions on one fit's captured inputs
    (with ``block``, round 17's block weights too; with ``gate``, round 18's ``gate-<gate>``:
    ``blk-4`` if the kept views' largest mean eigenvalue is >= ``gate`` times the smallest,
    else ``equal``; with ``cut``, round 19's ``cut-<cut>``: ``blk-4`` if its kept views' weighted
    mean cut is below ``1 - cut`` times ``equal``'s)."""
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
        if gate is not None:
            means = [mu.mean() for _, mu in blocks[:-1]]  # the kept views, not the clustered G
            on = max(means) >= gate * max(min(means), 1e-12)
            out[f"gate-{gate}"] = out["blk-4"] if on else out["equal"]
        if cut is not None:
            from dsrl_tune_round19 import weighted_cut

            lower = weighted_cut(args, out["blk-4"]) < (1 - cut) * weighted_cut(args, out["equal"])
            out[f"cut-{cut}"] = out["blk-4"] if lower else out["equal"]
        return out


def fresh_sets(data_dir=None, round_=17):
    """Round 17's sets, none fitted before: small-class draws 3-5 and their dominant copies,
    ``orl_shaped`` draws 3-8, ``skpatch-c40`` draws 9-11 and ``sktexture-c10`` draws 25-27;
    round 18's: draws 6-8, 9-14, 12-14 and 28-30; round 19's: 9-11, 15-20, 15-17, 31-33."""
    from dsrl_tune_round12 import small_class_sets

    small, orl, patch, texture = ({17: ((3, 4, 5), range(3, 9), range(9, 12), range(25, 28)),
                                   18: ((6, 7, 8), range(9, 15), range(12, 15), range(28, 31)),
                                   19: ((9, 10, 11), range(15, 21), range(15, 18), range(31, 34))}
                                  [round_])
    for d in small_class_sets(data_dir, draws=small):
        yield "regular", d
        yield "dominant", dominant(d)[0]
    for draw in orl:
        yield "orl-shaped", orl_shaped(draw)
    yield from crop_sets("crops", patch, texture)


def all_sets(data_dir=None):
    for d in image_sets(data_dir):
        yield "regular", d
        yield "dominant", dominant(d)[0]
    for draw in range(3):
        yield "orl-shaped", orl_shaped(draw)
    yield from crop_sets("crops", range(3), range(3))


def rows_for(kind, d, block=False, gate=None, cut=None):
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
            labs = fused(args, m.graph_, block, gate, cut)
            assert np.array_equal(labs["equal"], m.labels_), "equal != the fit's late fusion"
        else:
            labs = {v: m.labels_ for v in [*POWERS, *(BLOCK if block else ()),
                                            *((f"gate-{gate}",) if gate is not None else ()),
                                            *((f"cut-{cut}",) if cut is not None else ())]}
        rows += [{**base, "variant": v, **clustering_scores(d.y, lab)} for v, lab in labs.items()]
        if not noisy:
            rows += [{"kind": kind, "data": d.name, "seed": seed, "noise_view": False,
                      "variant": r, "source": "sc",
                      **clustering_scores(d.y, spectral_labels(g, k, 10, seed))}
                     for r, g in refs.items()]
    return rows


def summary(path=OUT, df=None, variants=None):
    """Round 16's conditions per variant, from the CSV ``path`` (or the rows ``df``): mean ACC /
    NMI, sets at or above the best view, the level and crop sets' ACC and count at or above SC
    averaged, and the noise view's largest NMI change (where noise rows exist)."""
    df = pd.read_csv(path) if df is None else df
    if variants is None:
        variants = list(POWERS) + [v for v in sorted(set(df.variant))
                                   if v in BLOCK or v.startswith(("gate", "cut"))]
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
                    "noise max dNMI": ((dn[True] - dn[False]).abs().max() if True in dn
                                       else np.nan)})
    print(pd.DataFrame(out).round(4).to_string(index=False))
    t = per.acc.unstack("variant")[variants]
    print(t.groupby("kind").mean().round(3).to_string())


def ratio_screen(out=HERE / "dsrl_tune_round17_ratio.csv"):
    """After round 17 (a screen, nothing chosen): could a label-free gate, the ratio of the
    views' largest to smallest mean leading eigenvalue (each view's own graph, no fit), tell the
    sets where ``blk-4`` (round 16: ``eig-1``) gains from those where it loses?"""
    from glassnet.nn.dsrl import spectral_embedding

    rows = []
    for run, sets, csv, var in (("16", all_sets(), OUT, "eig-1"),
                                ("17", fresh_sets(), OUT_17, "blk-4")):
        df = pd.read_csv(csv)
        acc = df[~df.noise_view.astype(bool)].groupby(["data", "variant"]).acc.mean()
        for kind, d in sets:
            mus = [np.clip(spectral_embedding(g, d.n_classes, 0, eigenvalues=True)[1], 0, None)
                   .mean() for g in _view_graphs(d.views, d.n_classes)]
            rows.append({"round": run, "kind": kind, "data": d.name,
                         "ratio": max(mus) / min(mus),
                         "gain": acc[(d.name, var)] - acc[(d.name, "equal")]})
    t = pd.DataFrame(rows).sort_values("ratio")
    t.to_csv(out, index=False)
    print(t.round(3).to_string(index=False))


def main(argv=None):
    probe_main(argv, __doc__, "fresh", (OUT, OUT_17), lambda alt, dd: (fresh_sets if alt else all_sets)(dd),
               lambda kind, d, alt: rows_for(kind, d, block=alt), summary)


if __name__ == "__main__":
    main()
