"""Round 8 of DSRL clustering: the round-7 last step and variants on real tuning stand-ins.

For each tuning set (MSRC-v1, 3Sources) and each real stand-in of ``dsrl_standins.py``
(Yale-4v, USPS-6v, digits-6v; built from data that is no report set) and each seed: one
default ``DSRLClustering`` fit (round 7) whose last step's inputs (learned graph and its
partition, weighted input graph, kept views and weights, whether some pair of views agreed)
are captured; the variants below rerun only the last step on them
(:func:`glassnet.nn.dsrl_select.last_step` or co-reg directly), so every variant shares the
fit's gate and learned graph:

* ``r7`` (the default: fallback margin 1%, co-reg lambda 0.5 after a fallback or when no pair
  agrees, the eigengap pick (2, 3) when some pair agrees), ``r6`` (neither step),
  ``nocoreg`` (the pick only), ``r7_lam1`` / ``r7_lam2`` (co-reg lambda 1 / 2 where it fires);
* ``coreg0.5`` / ``coreg1`` / ``coreg2``: co-reg on the kept views always;
  ``coreg1+learned``: co-reg on the kept views plus the learned graph, always;
* ``coreg_fb`` / ``coreg_na``: co-reg only after the fallback / only when no pair agrees;
* ``margin0`` / ``margin0.05``: the fallback margin (co-reg and pick as in r7);
* ``pick1.5x3`` / ``pick2x2`` / ``pick_any``: the pick's thresholds, and the pick also when no
  pair agrees;
* references: ``sc_avg`` (SC on the averaged per-view graph, as the report), ``view<i>`` (SC on
  each view; the best after the fact is ``best_view``), ``mvsc`` (mvlearn 0.5.0's
  ``MultiviewCoRegSpectralClustering`` as ``bench_dsrl.py`` runs it, every seed).

Every variant is scored without and with the gate's *rescue* (``R:`` prefix;
``glassnet.estimators.dsrl.GATE_RESCUE``, adopted in round 8: the plain names are round 7's
gate, so ``r7`` is the round-7 default and ``R:r7`` the round-8 one): when some pair of views agrees, a view that agrees with
none is still kept if its features share variation beyond column-permuted copies of
themselves (the per-view test the gate already runs when no pair agrees). With ``--noise``
every (set, seed) is also fitted with a 30-column N(0, 1) view appended (as
the report's noise check) and every variant's NMI change is recorded. Nothing here touches a
report set.

    PYTHONPATH=src python benchmarks/dsrl_tuning/dsrl_tune_round8.py --noise --out benchmarks/dsrl_tuning/dsrl_tune_round8.csv
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dsrl_standins import standins

from glassnet.experiments.dsrl_tables import TUNING_SEEDS, TUNING_SETS

# the Euclidean 10-NN graphs every tuning round up to 11e ran on (metric="auto" came in 11f,
# n_neighbors="auto" in 12b)
PINNED = {"metric": "euclidean", "n_neighbors": 10}


def _capture_fit(views, k, seed, settings=PINNED):
    """A DSRLClustering fit with ``settings`` (default :data:`PINNED`; ``{}``: today's
    defaults); returns (model, captured last_step args, kwargs, fit seconds)."""
    import glassnet.estimators.dsrl as E

    got = {}
    orig = E.last_step

    def spy(*args, **kw):
        got["args"], got["kw"] = args, kw
        return orig(*args, **kw)

    E.last_step = spy
    try:
        t0 = time.perf_counter()
        m = E.DSRLClustering(k, random_state=seed, **settings).fit(views)
        fit_s = time.perf_counter() - t0
    finally:
        E.last_step = orig
    return m, got["args"], got["kw"], fit_s


def variants(args, kw):
    """{variant: labels} of the last-step variants on one fit's captured inputs."""
    from glassnet.nn.dsrl_select import coreg_labels, last_step

    labels, G, G0, views, weights, k, n_init, seed = args

    def ls(**over):
        return last_step(labels, G, G0, views, weights, k, n_init, seed, **{**kw, **over})

    out = {"r7": ls(), "r6": ls(coreg_lam=None, pick_ratio=None), "nocoreg": ls(coreg_lam=None),
           "r7_lam1": ls(coreg_lam=1.0), "r7_lam2": ls(coreg_lam=2.0),
           "margin0": ls(margin=0.0), "margin0.05": ls(margin=0.05),
           "pick1.5x3": ls(pick_ratio=(1.5, 3.0)), "pick2x2": ls(pick_ratio=(2.0, 2.0)),
           "pick_any": ls(pick_needs_agreement=False)}
    # co-reg for one trigger only: after the fallback (``fb``) / when no pair agrees (``na``)
    fell = ls(coreg_lam=None, pick_ratio=None)[2] == "input"
    agree = kw["pairs_agree"]
    if not fell:
        out["coreg_fb"] = ls(coreg_lam=None)
    else:  # with no pair agreeing r7 runs no pick; pairs_agree=True only makes co-reg fire
        out["coreg_fb"] = out["r7"] if agree is not False else ls(pairs_agree=True,
                                                                   pick_ratio=None)
    out["coreg_na"] = ls(coreg_lam=kw["coreg_lam"] if agree is False else None)
    out = {c: v[0] for c, v in out.items()} | {"sources": {c: v[2] for c, v in out.items()}}
    for lam in (0.5, 1.0, 2.0):
        out[f"coreg{lam:g}"] = coreg_labels(views, k, lam, n_init=n_init, random_state=seed) \
            if len(views) > 1 else labels
    out["coreg1+learned"] = coreg_labels([*views, G], k, 1.0, n_init=n_init, random_state=seed)
    return out


def rows_for(d, seed, noise, mvsc, rescues=(False, True)):
    import glassnet.estimators.dsrl as E
    from glassnet.experiments.dsrl import _mvsc
    from glassnet.metrics import clustering_scores
    from glassnet.nn.dsrl import knn_heat_graph, spectral_labels

    k = d.n_classes
    base = {"data": d.name, "seed": seed}
    rows = []
    for rescue in rescues:
        pre = "R:" if rescue else ""
        E.GATE_RESCUE = rescue
        try:
            m, args, kw, fit_s = _capture_fit(list(d.views), k, seed)
            var = variants(args, kw)
            src = var.pop("sources")
            info = {"pairs_agree": kw["pairs_agree"],
                    "weights": np.round(m.view_weights_, 3).tolist()}
            for code, lab in var.items():
                rows.append({**base, "variant": pre + code, "noise_view": False,
                             "source": src.get(code, ""), **info, **clustering_scores(d.y, lab),
                             "fit_s": fit_s if code == "r7" else np.nan})
            if noise:
                views = [*d.views, np.random.default_rng(0).normal(size=(d.n_samples, 30))]
                mn, args, kw, fit_s = _capture_fit(views, k, seed)
                var = variants(args, kw)
                src = var.pop("sources")
                for code, lab in var.items():
                    rows.append({**base, "variant": pre + code, "noise_view": True,
                                 "source": src.get(code, ""),
                                 "weights": np.round(mn.view_weights_, 3).tolist(),
                                 "noise_weight": float(mn.view_weights_[-1]),
                                 **clustering_scores(d.y, lab), "fit_s": fit_s if code == "r7"
                                 else np.nan})
        finally:
            E.GATE_RESCUE = True  # the default
    graphs = [knn_heat_graph(V) for V in d.views]  # the references
    W = (sum(graphs[1:], graphs[0]) / len(graphs)).tocsr()
    rows.append({**base, "variant": "sc_avg", "noise_view": False,
                 **clustering_scores(d.y, spectral_labels(W, k, 10, seed))})
    for v, g in enumerate(graphs):
        rows.append({**base, "variant": f"view{v}", "noise_view": False,
                     **clustering_scores(d.y, spectral_labels(g, k, 10, seed))})
    if mvsc:
        t0 = time.perf_counter()
        lab = _mvsc(d.views, k, seed)
        rows.append({**base, "variant": "mvsc", "noise_view": False,
                     "fit_s": time.perf_counter() - t0, **clustering_scores(d.y, lab)})
    return rows


def summarise(df):
    """Mean ACC / NMI per (data, variant) on the clean fits, best view after the fact, and each
    variant's largest |NMI change| with the noise view."""
    clean = df[~df.noise_view.astype(bool)]
    tab = clean.groupby(["data", "variant"], sort=False)[["acc", "nmi"]].mean().reset_index()
    views = tab[tab.variant.str.startswith("view")]
    best = views.loc[views.groupby("data").acc.idxmax()].assign(variant="best_view")
    tab = pd.concat([tab, best], ignore_index=True)
    noisy = df[df.noise_view.astype(bool)]
    if len(noisy):
        a = clean.set_index(["data", "seed", "variant"]).nmi
        b = noisy.set_index(["data", "seed", "variant"]).nmi
        dn = (b - a.reindex(b.index)).abs().groupby(level=["data", "variant"]).max()
        tab = tab.merge(dn.rename("max_abs_dnmi").reset_index(), on=["data", "variant"],
                        how="left")
    return tab


def main(argv=None):
    from glassnet.datasets.multiview import load_multiview
    from glassnet.experiments.dsrl import _mvsc_available

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="benchmarks/dsrl_tuning/dsrl_tune_round8.csv")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--seeds", default=",".join(map(str, TUNING_SEEDS)))
    ap.add_argument("--noise", action="store_true")
    ap.add_argument("--only", default=None, help="comma-separated set names")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    mvsc = _mvsc_available()
    seeds = [int(s) for s in args.seeds.split(",")]
    out = Path(args.out)
    done = pd.read_csv(out) if out.exists() else pd.DataFrame(columns=["data", "seed"])
    have = set(zip(done.data, done.seed))

    def sets():
        for name in TUNING_SETS:
            yield load_multiview(name, args.data_dir)
        yield from standins(args.data_dir)

    with threadpool_limits(limits=1):
        for d in sets():
            if args.only and d.name not in args.only.split(","):
                continue
            for s in seeds:
                if (d.name, s) in have:
                    continue
                t0 = time.perf_counter()
                new = pd.DataFrame(rows_for(d, s, args.noise, mvsc))
                done = pd.concat([done, new], ignore_index=True)
                done.to_csv(out, index=False)  # saved as it goes; a rerun skips finished pairs
                r = new[~new.noise_view.astype(bool)].set_index("variant")
                print(f"{d.name} {s} {time.perf_counter() - t0:.0f}s", {c: round(r.loc[c, "acc"], 3)
                      for c in ("r7", "r6", "coreg1", "sc_avg", "mvsc") if c in r.index},
                      flush=True)
    summ = summarise(done)
    summ.to_csv(out.with_name(out.stem + "_summary.csv"), index=False)
    wide = summ.pivot(index="variant", columns="data", values="acc").round(3)
    print(wide.to_string())


if __name__ == "__main__":
    main()
