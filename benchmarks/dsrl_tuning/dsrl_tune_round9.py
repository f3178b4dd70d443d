"""Round 9 of DSRL clustering: why DSRL falls below SC on the averaged graph on weak text views.

Round 8's text stand-ins (``dsrl_standins.py``: 3Sources with each view cut to a random 20%, 10%
or 5% of its words) reproduce the report's text shortfall against spectral clustering on the
uniformly averaged graph. This script separates the causes on the tuning data only (MSRC-v1,
3Sources, the round-8 stand-ins, and three more word-subsample draws per fraction, draws 3-5):

* the **gate** (which views are kept): ``gate`` configurations change the per-view structure
  test that decides, when no pair of views agrees (and for the rescue), which views are kept:
  ``g8`` round 8 (z > 10 against 10 column-permuted copies), ``n<c>z<z>`` (c copies, z > z),
  ``default`` the estimator's constants as they are; each configuration is a full default fit
  (the gate runs inside ``fit``), whose own labels are the variant ``fit`` (the estimator's
  default end to end; round 9's default has no co-reg, so ``fit`` = ``nocoreg`` from then on);
* the **last step** on each fit's captured inputs (:func:`glassnet.nn.dsrl_select.last_step`):
  ``r8`` (round 8's default: fallback, co-reg after the fallback or when no pair agrees, eigengap
  pick), ``r6`` (fallback only), ``coreg_agree`` (co-reg only after the fallback *and* when some
  pair agreed), ``learned`` (the learned graph's partition, no last step at all);
* with ``--synthetic`` instead rounds 4-7's synthetic draws (``syn-strong``, ``syn-agree``,
  ``syn-hub``, ``syn-hubonly``, ``syn-weak``; seed 100 only), where round 7 chose co-reg;
* references: ``sc_avg`` (SC on the averaged per-view graphs, as the report), ``view<i>``,
  ``mvsc`` (mvlearn's Co-reg MVSC, every seed), and ``sc_kept`` (SC on the average of the views
  the gate kept: the gate's cost without the net and the last step).

Rows carry the gate's weights, whether some pair agreed and the last step's source. With
``--noise`` every fit is repeated with a 30-column N(0, 1) view appended (the report's noise
check). Nothing here touches a report set.

    PYTHONPATH=src python benchmarks/dsrl_tuning/dsrl_tune_round9.py --noise --out benchmarks/dsrl_tuning/dsrl_tune_round9.csv
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
from dsrl_standins import standins, weakened
from dsrl_tune_round8 import _capture_fit

from glassnet.experiments.dsrl_tables import TUNING_SEEDS, TUNING_SETS

GATES = {"default": None, "g8": (10.0, 10), "n30z5": (5.0, 30), "n30z6": (6.0, 30), "n30z8": (8.0, 30), "n30z4": (4.0, 30),
         "n50z5": (5.0, 50)}


def variants(args, kw):
    """{variant: (labels, source)} of the last-step variants on one fit's captured inputs."""
    from glassnet.estimators._dsrl_params import COREG_LAMBDA
    from glassnet.nn.dsrl_select import last_step

    labels, G, G0, views, weights, k, n_init, seed = args
    kw = {**kw, "coreg_lam": COREG_LAMBDA}  # round 8's last step, whatever the default

    def ls(**over):
        return last_step(labels, G, G0, views, weights, k, n_init, seed, **{**kw, **over})

    r6 = ls(coreg_lam=None, pick_ratio=None)
    out = {"r8": ls(), "r6": r6, "nocoreg": ls(coreg_lam=None)}
    fell, agree = r6[2] == "input", bool(kw["pairs_agree"])
    out["coreg_agree"] = out["r8"] if fell and agree else ls(coreg_lam=None)
    out["learned"] = (labels, G, "learned", None)
    return {c: (v[0], v[2]) for c, v in out.items()}


def _gate_fit(views, k, seed, gate):
    import glassnet.estimators.dsrl as E

    old = E.STRUCTURE_Z, E.STRUCTURE_NULL
    E.STRUCTURE_Z, E.STRUCTURE_NULL = GATES[gate] or old
    try:
        return _capture_fit(views, k, seed)
    finally:
        E.STRUCTURE_Z, E.STRUCTURE_NULL = old


def rows_for(d, seed, noise, mvsc, gates):
    from glassnet.experiments.dsrl import _mvsc
    from glassnet.metrics import clustering_scores
    from glassnet.nn.dsrl import knn_heat_graph, spectral_labels

    k = d.n_classes
    base = {"data": d.name, "seed": seed}
    graphs = [knn_heat_graph(V) for V in d.views]
    rows = []
    cases = [(False, list(d.views))]
    if noise:
        cases.append((True, [*d.views, np.random.default_rng(0).normal(size=(d.n_samples, 30))]))
    for gate in gates:
        for noisy, views in cases:
            m, args, kw, fit_s = _gate_fit(views, k, seed, gate)
            info = {"gate": gate, "noise_view": noisy, "pairs_agree": kw["pairs_agree"],
                    "weights": np.round(m.view_weights_, 3).tolist(),
                    "noise_weight": float(m.view_weights_[-1]) if noisy else np.nan}
            out = variants(args, kw) | {"fit": (m.labels_, m.graph_source_)}
            for code, (lab, src) in out.items():
                rows.append({**base, "variant": code, **info, "source": src,
                             **clustering_scores(d.y, lab),
                             "fit_s": fit_s if code == "r8" else np.nan})
            if not noisy:  # SC on the plain average of the kept views (the gate alone)
                kept = args[3]
                Wk = (sum(kept[1:], kept[0]) / len(kept)).tocsr()
                rows.append({**base, "variant": "sc_kept", **info,
                             **clustering_scores(d.y, spectral_labels(Wk, k, 10, seed))})
    ref = {"gate": "", "noise_view": False}
    W = (sum(graphs[1:], graphs[0]) / len(graphs)).tocsr()
    rows.append({**base, "variant": "sc_avg", **ref,
                 **clustering_scores(d.y, spectral_labels(W, k, 10, seed))})
    for v, g in enumerate(graphs):
        rows.append({**base, "variant": f"view{v}", **ref,
                     **clustering_scores(d.y, spectral_labels(g, k, 10, seed))})
    if mvsc:
        t0 = time.perf_counter()
        lab = _mvsc(d.views, k, seed)
        rows.append({**base, "variant": "mvsc", **ref, "fit_s": time.perf_counter() - t0,
                     **clustering_scores(d.y, lab)})
    return rows


def summarise(df):
    """Mean ACC / NMI per (data, gate, variant) on the clean fits (best view after the fact) and
    each one's largest |NMI change| over the seeds with the noise view."""
    df = df.assign(gate=df.gate.fillna(""))
    clean = df[~df.noise_view.astype(bool)]
    keys = ["data", "gate", "variant"]
    tab = clean.groupby(keys, sort=False)[["acc", "nmi"]].mean().reset_index()
    views = tab[tab.variant.str.startswith("view")]
    best = views.loc[views.groupby("data").acc.idxmax()].assign(variant="best_view")
    tab = pd.concat([tab, best], ignore_index=True)
    noisy = df[df.noise_view.astype(bool)]
    if len(noisy):
        a = clean.set_index([*keys, "seed"]).nmi
        b = noisy.set_index([*keys, "seed"]).nmi
        dn = (b - a.reindex(b.index)).abs().groupby(level=keys).max()
        tab = tab.merge(dn.rename("max_abs_dnmi").reset_index(), on=keys, how="left")
    return tab


def main(argv=None):
    from glassnet.datasets.multiview import load_multiview
    from glassnet.experiments.dsrl import _mvsc_available

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="benchmarks/dsrl_tuning/dsrl_tune_round9.csv")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--seeds", default=",".join(map(str, TUNING_SEEDS)))
    ap.add_argument("--gates", default=",".join(GATES))
    ap.add_argument("--noise", action="store_true")
    ap.add_argument("--only", default=None, help="comma-separated set names")
    ap.add_argument("--text-only", action="store_true", help="only the word-subsample draws")
    ap.add_argument("--synthetic", action="store_true",
                    help="instead: rounds 4-7's synthetic draws (seed 100; dsrl_tune_pick.py)")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    mvsc = _mvsc_available()
    seeds = [int(s) for s in args.seeds.split(",")]
    gates = args.gates.split(",")
    out = Path(args.out)
    done = pd.read_csv(out) if out.exists() else pd.DataFrame(columns=["data", "seed"])
    have = set(zip(done.data, done.seed))

    def sets():
        if args.synthetic:
            from dsrl_tune_guard import datasets as guard_sets
            from dsrl_tune_noise import weak_text_set
            from dsrl_tune_pick import agree_set
            from dsrl_tune_strong import strong_weak_set

            for draw in range(4):
                yield strong_weak_set(draw)
                yield agree_set(draw)
            for name, d in guard_sets(args.data_dir):
                if name.startswith("syn"):
                    yield d
            for draw in range(6):
                yield weak_text_set(draw)
            return
        if not args.text_only:
            for name in TUNING_SETS:
                yield load_multiview(name, args.data_dir)
        for d in standins(args.data_dir):
            if not args.text_only or "-sub" in d.name:
                yield d
        three = load_multiview("3Sources", args.data_dir)
        for frac in (0.2, 0.1, 0.05):  # more word-subsample draws (round 9)
            for draw in (3, 4, 5):
                yield weakened(three, frac, draw)

    with threadpool_limits(limits=1):
        for d in sets():
            if args.only and d.name not in args.only.split(","):
                continue
            for s in seeds[:1] if args.synthetic else seeds:
                if (d.name, s) in have:
                    continue
                t0 = time.perf_counter()
                new = pd.DataFrame(rows_for(d, s, args.noise, mvsc, gates))
                done = pd.concat([done, new], ignore_index=True)
                done.to_csv(out, index=False)  # saved as it goes; a rerun skips finished pairs
                r = new[~new.noise_view.astype(bool)]
                print(f"{d.name} {s} {time.perf_counter() - t0:.0f}s",
                      {f"{g}:{c}": round(r[(r.gate == g) & (r.variant == c)].acc.iloc[0], 3)
                       for g in gates for c in ("r8", "coreg_agree")},
                      "sc_avg", round(r[r.variant == "sc_avg"].acc.iloc[0], 3), flush=True)
    summarise(done).to_csv(out.with_name(out.stem + "_summary.csv"), index=False)


if __name__ == "__main__":
    main()
