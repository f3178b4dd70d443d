"""Round 7 of DSRL clustering (issue 26): which partition of the kept views to return.

Round 6 left two targets unmet (best single view on ALOI / ORL; >= mvlearn's co-regularised
MVSC on 6 of 10 pairs). With one default ``DSRLClustering`` fit per (set, seed), this script
scores post hoc the last steps tried in round 7 (all on the views the gate keeps, with their
weights):

* ``pick_all``: among the DSRL partition and each kept view's own spectral partition, the one
  with the lowest weighted mean regularised normalised cut of the kept views' graphs (the
  fallback's criterion);
* ``loo``: a kept view's own partition replaces DSRL's if it cuts the *other* kept views'
  graphs better than DSRL's partition does, by more than a margin
  (:func:`glassnet.nn.dsrl_select.held_out_pick`; gains saved, margins applied in the summary);
* ``coreg``: co-regularised spectral clustering (Kumar et al. 2011, pairwise, as mvlearn's)
  on the kept views' input graphs (lambda 0.5, 2) and on those plus DSRL's learned graph;
* ``coreg|cut``: the co-reg partition replaces DSRL's if it cuts the kept views (``pick_all``'s
  criterion) better by more than a margin;
* ``gap&dom``: the ``gap`` pick only if the top view's gap is also at least ``dom`` times the
  second view's (one view stands out among the views);
* ``dsrl_r7`` (the round-7 default, ``coreg=True, pick_view=True``: co-reg, lambda 0.5, on
  the kept views when the fallback fires or no pair of views agrees; then the ``gap&dom`` pick
  with r = 2, dom = 3 when some pair agrees), ``dsrl_r7_pick`` (the pick alone, ``coreg=False``)
  and ``dsrl_r7_any`` (the pick alone, also when no pair of views agrees), fitted end to end;
  ``dsrl`` is round 6 (both off);
* ``gap``: a kept view's own partition replaces DSRL's if the view's graph has an eigengap at k
  (DSRL's training criterion) at least r times the clustered graph's (r = 1, 1.2, 1.5, 2);
* references: SC on each view, on the averaged graph, mvlearn's MVSC (if installed).

Data: the tuning sets MSRC-v1 and 3Sources (seeds 100-102; with ``--noise`` also with a
30-column N(0, 1) view appended) and synthetic draws (seed 100): ``syn-strong`` (round 6: one
strong view, three weak independent ones) and ``syn-agree`` (new: one strong view and three
weak ones that share one latent sample, so their errors agree with each other and with the
consensus; the averaged graph is below the strong view alone). Nothing here touches a report
set.

    PYTHONPATH=src python benchmarks/dsrl_tuning/dsrl_tune_pick.py --noise [--out benchmarks/dsrl_tuning/dsrl_tune_pick.csv]
    PYTHONPATH=src python benchmarks/dsrl_tuning/dsrl_tune_pick.py --extra --out benchmarks/dsrl_tuning/dsrl_tune_pick_extra.csv
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
from dsrl_tune_strong import strong_weak_set

from glassnet.experiments.dsrl_tables import TUNING_SEEDS, TUNING_SETS

MARGINS = (0.0, 0.02, 0.05, 0.1)
GAP_RATIOS = (1.0, 1.2, 1.5, 2.0)


def agree_set(draw, n=300, k=6, d=20, strong=5.0, coarse=5.0, fine=2.0, own=0.5, n_weak=3):
    """One strong view (k Gaussian clusters, separation ``strong``) and ``n_weak`` views that
    are random rotations of one shared latent sample (cluster pairs close: ``fine`` within a
    pair, ``coarse`` between pairs) plus a little own noise: the weak views agree with each
    other, errors included, and outvote the strong view in the averaged graph."""
    from glassnet.datasets.multiview import MultiviewData

    rng = np.random.default_rng(1000 + draw)
    y = np.arange(n) % k
    rng.shuffle(y)
    means = rng.normal(0.0, strong / np.sqrt(2.0 * d), (k, d))
    views = [means[y] + rng.normal(size=(n, d))]
    cm = rng.normal(0.0, coarse / np.sqrt(2.0 * d), (k // 2, d))
    fm = cm[np.arange(k) // 2] + rng.normal(0.0, fine / np.sqrt(2.0 * d), (k, d))
    Z = fm[y] + rng.normal(size=(n, d))
    for _ in range(n_weak):
        R = np.linalg.qr(rng.normal(size=(d, d)))[0]
        views.append(Z @ R + own * rng.normal(size=(n, d)))
    return MultiviewData(f"syn-agree-{draw}", views, y)


def datasets(data_dir, n_draws, extra=False):
    """The tuning sets and syn-strong / syn-agree; with ``extra`` instead rounds 4-5's
    hub-heavy and weak text draws (syn-hub, syn-hubonly, syn-weak)."""
    from glassnet.datasets.multiview import load_multiview

    if extra:
        from dsrl_tune_guard import datasets as guard_sets
        from dsrl_tune_noise import weak_text_set

        for name, d in guard_sets(data_dir):
            if name.startswith("syn"):
                yield name, d, TUNING_SEEDS[:1]
        for draw in range(6):
            yield f"syn-weak-{draw}", weak_text_set(draw), TUNING_SEEDS[:1]
        return
    for name in TUNING_SETS:
        yield name, load_multiview(name, data_dir), TUNING_SEEDS
    for draw in range(n_draws):
        yield f"syn-strong-{draw}", strong_weak_set(draw), TUNING_SEEDS[:1]
    for draw in range(n_draws):
        yield f"syn-agree-{draw}", agree_set(draw), TUNING_SEEDS[:1]


def candidates(d, seed, with_noise, mvsc):
    """Rows (one per scored partition) of one default DSRL fit."""
    from glassnet.estimators.dsrl import DSRLClustering
    from glassnet.metrics import clustering_scores
    from glassnet.nn.dsrl import multiview_graph, spectral_labels
    from glassnet.nn.dsrl_gate import mean_degree_ncut
    from glassnet.nn.dsrl_select import coreg_labels, eigengap, held_out_pick

    k = d.n_classes
    views = list(d.views)
    if with_noise:
        views.append(np.random.default_rng(0).normal(size=(d.n_samples, 30)))
    t0 = time.perf_counter()
    m = DSRLClustering(k, random_state=seed, pick_view=False, coreg=False).fit(views)  # round 6
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    m7 = DSRLClustering(k, random_state=seed).fit(views)  # the default (round 7)
    fit7_s = time.perf_counter() - t0
    import glassnet.estimators.dsrl as E

    E.VIEW_PICK_NEEDS_AGREEMENT = False  # the pick also when no pair of views agrees
    try:
        m7any = DSRLClustering(k, random_state=seed, coreg=False).fit(views)
    finally:
        E.VIEW_PICK_NEEDS_AGREEMENT = True
    m7pick = DSRLClustering(k, random_state=seed, coreg=False).fit(views)  # the pick alone
    _, graphs, _ = multiview_graph(m.fit_views_, m.n_neighbors, standardize=False,
                                   return_views=True)
    kept = np.flatnonzero(m.view_weights_ > 0)
    G = [graphs[v] for v in kept]
    a = m.view_weights_[kept] / m.view_weights_[kept].sum()
    own = [spectral_labels(g, k, 10, seed) for g in G]

    def cut_all(lab):
        return sum(w * mean_degree_ncut(g, lab, 0.1) for w, g in zip(a, G))

    base = {"data": d.name, "seed": seed, "noise_view": with_noise,
            "noise_weight": m.view_weights_[-1] if with_noise else np.nan,
            "weights": np.round(m.view_weights_, 3).tolist(), "source": m.graph_source_}
    rows = []

    def add(code, lab, **kw):
        rows.append({**base, "code": code, **clustering_scores(d.y, lab), **kw})

    add("dsrl", m.labels_, cut=cut_all(m.labels_), fit_s=fit_s, gap=eigengap(m.graph_, k))
    add("dsrl_r7", m7.labels_, fit_s=fit7_s, source7=m7.graph_source_,
        weights7=np.round(m7.view_weights_, 3).tolist(),
        noise_weight7=m7.view_weights_[-1] if with_noise else np.nan)
    add("dsrl_r7_any", m7any.labels_, source7=m7any.graph_source_)
    add("dsrl_r7_pick", m7pick.labels_, source7=m7pick.graph_source_)
    _, gains = held_out_pick(G, a, m.labels_, own)
    for i, v in enumerate(kept):
        add(f"own{v}", own[i], cut=cut_all(own[i]), gain=gains[i], gap=eigengap(G[i], k))
    for lam in (0.5, 2.0):
        t0 = time.perf_counter()
        lab = coreg_labels(G, k, lam, random_state=seed)
        add(f"coreg{lam:g}", lab, extra_s=time.perf_counter() - t0, cut=cut_all(lab))
    add("coreg2+learned", coreg_labels([*G, m.graph_], k, 2.0, random_state=seed))
    if not with_noise:
        for v, g in enumerate(graphs):
            add(f"view{v}", spectral_labels(g, k, 10, seed))
        add("sc_avg", spectral_labels(sum(graphs[1:], graphs[0]) / len(graphs), k, 10, seed))
        if mvsc:
            from glassnet.experiments.dsrl import _mvsc

            add("mvsc", _mvsc(d.views, k, seed))
    return rows


def summarise(df):
    """Per (data, seed, noise_view): the DSRL, pick and co-reg variants' ACC / NMI."""
    out = []
    for (data, seed, nv), g in df.groupby(["data", "seed", "noise_view"], sort=False):
        g = g.set_index("code")
        ds = g.loc["dsrl"]
        owns = g[g.index.str.startswith("own")]
        res = {"dsrl": ds, "dsrl_r7 (default)": g.loc["dsrl_r7"],
               "dsrl_r7_pick": g.loc["dsrl_r7_pick"], "dsrl_r7_any": g.loc["dsrl_r7_any"]}
        best = owns["cut"].idxmin() if len(owns) else None
        res["pick_all"] = g.loc[best] if best is not None and owns.loc[best, "cut"] < ds["cut"] \
            else ds
        for mg in MARGINS:
            top = owns["gain"].idxmax() if len(owns) else None
            res[f"loo>{mg:g}"] = g.loc[top] if top is not None and owns.loc[top, "gain"] > mg \
                else ds
        for r_ in GAP_RATIOS:
            top = owns["gap"].idxmax() if len(owns) else None
            res[f"gap>={r_:g}x"] = g.loc[top] if top is not None and \
                owns.loc[top, "gap"] >= r_ * ds["gap"] else ds
        gaps = owns["gap"].sort_values(ascending=False)
        for r_, dom in ((2.0, 2.0), (2.0, 3.0), (1.5, 3.0)):
            ok = len(gaps) > 1 and gaps.iloc[0] >= r_ * ds["gap"] and \
                gaps.iloc[0] >= dom * gaps.iloc[1]
            res[f"gap>={r_:g}x&dom{dom:g}"] = g.loc[gaps.index[0]] if ok else ds
        for lam in ("0.5", "2"):
            for mg in (0.0, 0.01, 0.05):
                cg = g.loc[f"coreg{lam}"]
                res[f"coreg{lam}|cut>{mg:g}"] = cg if cg["cut"] < (1 - mg) * ds["cut"] else ds
        for c in ("coreg0.5", "coreg2", "coreg2+learned", "sc_avg", "mvsc"):
            if c in g.index:
                res[c] = g.loc[c]
        views = g[g.index.str.startswith("view")]
        if len(views):
            res["best_view"] = views.loc[views["acc"].idxmax()]
        for code, r in res.items():
            out.append({"data": data, "set": data.rsplit("-", 1)[0] if data.startswith("syn")
                        else data, "seed": seed, "noise_view": nv, "variant": code,
                        "acc": r["acc"], "nmi": r["nmi"]})
    return pd.DataFrame(out)


def main(argv=None):
    from glassnet.experiments.dsrl import _mvsc_available

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="benchmarks/dsrl_tuning/dsrl_tune_pick.csv")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--draws", type=int, default=4)
    ap.add_argument("--noise", action="store_true", help="also with an appended noise view")
    ap.add_argument("--extra", action="store_true",
                    help="rounds 4-5's hub-heavy and weak text draws instead")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    mvsc = _mvsc_available()
    rows = []
    for _, d, seeds in datasets(args.data_dir, args.draws, args.extra):
        for s in seeds:
            for nv in (False, True) if args.noise else (False,):
                new = candidates(d, s, nv, mvsc)
                rows += new
                print(d.name, s, nv, [(r["code"], round(r["acc"], 3)) for r in new], flush=True)
    df = pd.DataFrame(rows)
    df.to_csv(args.out, index=False)
    summ = summarise(df)
    summ.to_csv(Path(args.out).with_name(Path(args.out).stem + "_summary.csv"), index=False)
    tab = summ.groupby(["set", "noise_view", "variant"], sort=False)[["acc", "nmi"]].mean()
    print(tab.round(3).unstack(0).to_string())


if __name__ == "__main__":
    main()
