"""Round 19 of DSRL (issue 26): choose between equal and spectral late fusion by the cut.

Rounds 16-18 found that ``late_fusion="spectral"`` (round 17's ``blk-4``) buys the ORL-shaped
draws 0.06-0.13 ACC and costs the level sets 0.004-0.009, and that the spread of the views'
spectra cannot tell the two apart (Spearman 0.12). This probe asks whether DSRL's own
label-free yardstick can: the kept views' weighted mean degree-regularised normalised cut
(``last_step``'s fallback criterion, ``nn.dsrl_gate.mean_degree_ncut``) of the two late-fusion
partitions. ``cut-<m>`` takes ``blk-4``'s partition when its cut is lower than ``equal``'s by
more than the fraction ``m``.

``--screen``: the 105 sets rounds 16-18 fitted (seen; seeds 100-102, no noise view), every
fit's cuts per kept view and on the clustered graph, to read whether the cut ranks the two
partitions as ACC does (rows ``dsrl_tune_round19_screen.csv``). Without it: the rule's run on
fresh sets (``fresh_sets(19)``; rule written before it, ``docs/history/dsrl.md``, round 19; rows
``dsrl_tune_round19.csv``).

    PYTHONPATH=src python benchmarks/dsrl_tuning/dsrl_tune_round19.py --screen [--part 0|1] [--summary]
    PYTHONPATH=src python benchmarks/dsrl_tuning/dsrl_tune_round19.py [--summary]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dsrl_tune_round10 import cases
from dsrl_tune_round13 import capture
from dsrl_tune_round14 import run_jobs
from dsrl_tune_round16 import all_sets, fresh_sets, fused, rows_for, summary

HERE = Path(__file__).resolve().parent
SCREEN, OUT = HERE / "dsrl_tune_round19_screen.csv", HERE / "dsrl_tune_round19.csv"
TAU = 0.1  # last_step's default


def cuts(args, labels):
    """Per kept view: its mean-degree regularised normalised cut of ``labels``; and the
    weights last_step's fallback averages them with."""
    from glassnet.nn.dsrl_gate import mean_degree_ncut

    views, weights = args[3], args[4]
    return [float(mean_degree_ncut(g, labels, TAU)) for g in views], [float(w) for w in weights]


def _wmean(per_view, w):
    return float(np.dot(per_view, w) / np.sum(w))


def weighted_cut(args, labels):
    """The kept views' weighted mean cut of ``labels`` (the fallback's yardstick)."""
    return _wmean(*cuts(args, labels))


def screen_rows(kind, d, noise=False):
    from glassnet.metrics import clustering_scores
    from glassnet.nn.dsrl_gate import mean_degree_ncut

    rows = []
    for seed, noisy, views in cases(d):
        if noisy and not noise:
            continue
        m, args, fit_s = capture(views, d.n_classes, seed)
        base = {"kind": kind, "data": d.name, "seed": seed, "noise_view": noisy,
                "source": m.graph_source_, "fit_s": fit_s}
        if m.graph_source_ != "late":
            rows.append({**base, "variant": "equal", **clustering_scores(d.y, m.labels_)})
            continue
        labs = fused(args, m.graph_, block=True)
        for v in ("equal", "blk-4"):
            per_view, w = cuts(args, labs[v])
            rows.append({**base, "variant": v, **clustering_scores(d.y, labs[v]),
                         "cut_views": json.dumps(per_view), "weights": json.dumps(w),
                         "cut_G": float(mean_degree_ncut(m.graph_, labs[v], TAU))})
    return rows


def screen_sets(part=None):
    sets = [*all_sets(), *fresh_sets(round_=17), *fresh_sets(round_=18)]
    return sets if part is None else sets[part::2]


def _paired(df):
    """One row per late-fusion fit: ACC / NMI of both partitions and their cuts."""
    late = df[df.source == "late"].copy()
    late["cut"] = [_wmean(json.loads(c), json.loads(w))
                   for c, w in zip(late.cut_views, late.weights)]
    late["cut_max"] = [min(json.loads(c)) for c in late.cut_views]  # the best-cut view's
    key = ["kind", "data", "seed", "noise_view"]
    a = late[late.variant == "equal"].set_index(key)
    b = late[late.variant == "blk-4"].set_index(key)
    out = pd.DataFrame({"acc_eq": a.acc, "acc_blk": b.acc, "nmi_eq": a.nmi, "nmi_blk": b.nmi,
                        "cut_eq": a.cut, "cut_blk": b.cut, "cutG_eq": a.cut_G,
                        "cutG_blk": b.cut_G, "best_eq": a.cut_max, "best_blk": b.cut_max})
    return out.reset_index()


def screen_summary(path=SCREEN):
    from scipy.stats import spearmanr

    p = _paired(pd.read_csv(path))
    gain = p.acc_blk - p.acc_eq
    for name, (ce, cb) in {"views' weighted mean cut": ("cut_eq", "cut_blk"),
                           "clustered graph's cut": ("cutG_eq", "cutG_blk"),
                           "best-cut view's cut": ("best_eq", "best_blk")}.items():
        rel = (p[ce] - p[cb]) / p[ce]  # > 0: blk-4 cuts less
        rho = spearmanr(rel, gain)
        print(f"{name}: Spearman(relative cut drop, ACC gain) {rho.statistic:.2f} "
              f"(p {rho.pvalue:.2g}, {len(p)} fits)")
        for m in (0.0, 0.01, 0.02, 0.05):
            on = rel > m
            print(f"  margin {m}: blk-4 taken on {on.sum()} fits; gains > 0.02 kept "
                  f"{((gain > 0.02) & on).sum()} of {(gain > 0.02).sum()}, losses < -0.02 taken "
                  f"{((gain < -0.02) & on).sum()} of {(gain < -0.02).sum()}; mean ACC change "
                  f"{np.where(on, gain, 0).mean():+.4f} (blk-4 always {gain.mean():+.4f})")
    print((p.assign(gain=gain).groupby("kind")[["acc_eq", "acc_blk", "gain"]].mean()).round(3))
    set_level(path)


def set_level(path=SCREEN):
    """Round 16's per-set conditions (:func:`dsrl_tune_round16.summary`) on the screen's sets
    for ``equal``, ``blk-4`` and ``cut-0`` (lower weighted cut wins; fits that did not end in
    late fusion count as ``equal``), the references (SC averaged, each view) taken from rounds
    16-18's rows of the same fits."""
    df = pd.read_csv(path)
    df = df[~df.noise_view.astype(bool)]
    key = ["kind", "data", "seed"]
    late = _paired(df).set_index(key)
    rows = []
    for k, r in df[df.variant == "equal"].set_index(key).iterrows():
        b = c = (r.acc, r.nmi)
        if k in late.index:
            q = late.loc[k]
            b = (q.acc_blk, q.nmi_blk)
            c = b if q.cut_blk < q.cut_eq else c
        for var, (acc, nmi) in (("equal", (r.acc, r.nmi)), ("blk-4", b), ("cut-0", c)):
            rows.append({**dict(zip(key, k)), "noise_view": False, "variant": var,
                         "acc": acc, "nmi": nmi})
    refs = pd.concat([pd.read_csv(HERE / f"dsrl_tune_round{r}.csv") for r in (16, 17, 18)])
    refs = refs[(~refs.noise_view.astype(bool)) & (refs.source == "sc")]
    refs = refs[[*key, "noise_view", "variant", "acc", "nmi"]].drop_duplicates([*key, "variant"])
    summary(df=pd.concat([pd.DataFrame(rows), refs]), variants=["equal", "blk-4", "cut-0"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--screen", action="store_true")
    ap.add_argument("--part", type=int, default=None, help="screen: every other set (0 or 1)")
    ap.add_argument("--summary", action="store_true")
    args = ap.parse_args(argv)
    if args.screen:
        out = SCREEN if args.part is None else SCREEN.with_suffix(f".part{args.part}.csv")
        if args.summary:
            screen_summary(out)
            return
        run_jobs(((f"{kind} {d.name}", lambda kind=kind, d=d: screen_rows(kind, d))
                  for kind, d in screen_sets(args.part)), out)
        return
    if args.summary:
        summary(OUT)
        return
    sets = list(fresh_sets(round_=19))
    if args.part is not None:
        sets, out = sets[args.part::2], OUT.with_suffix(f".part{args.part}.csv")
    run_jobs(((f"{kind} {d.name}", lambda kind=kind, d=d: rows_for(kind, d, block=True, cut=0.0))
              for kind, d in sets), out if args.part is not None else OUT)


if __name__ == "__main__":
    main()
